# SPDX-License-Identifier: Apache-2.0
"""Hostile access tokens inside validly sealed cookies (sealed with the
right password, so only the token is wrong): alg none, HS256 keyed with the
RSA public key, ES256, RS512/PS256 headers on an RS256 signature, key-carrying
and critical headers (jwk, jku, x5u, x5c, crit) even on tokens the real key
signed, unknown, missing and odd kids, tampered claims and signatures, broken
segments, oversized tokens, times (expired beyond the skew with a refresh
token WorkOS refuses, nbf/iat in the future, exp 1e300, negative, string,
past the year 9999) and claims of the wrong type.

A seal that opens with the cookie password is the module's own (or a Node
app's sharing it), so a token inside it that does not verify is never an
attack and never a sign-out on its own: the module refreshes, exactly once,
with the session's refresh token, and serves what WorkOS answers, never the
hostile token (its claims are not believed: the refreshed session is what
the request sees and what the new cookie holds). Only WorkOS ends the
session: an expired token whose refresh token WorkOS refuses is refused (API
401 with the challenge, browser 302 to sign-in, the session cookie deleted).
When refreshing fails for a retryable reason the answer is 503 with
Retry-After, the cookie is kept, and the session works again once WorkOS is
back."""
import json
import secrets as pysecrets
import time

import pytest

import hostile as H
from harness.client import set_cookies
from harness.cookies import b64url, iron_unseal, jwt_claims, sdk_session
from harness.emulator import org_id
from hostile import log_watch  # noqa: F401  (autouse fixture)

ACME = org_id("Acme")
REFUSED, ENDED, OK = "refreshed instead", "refresh refused", "accepted"
KINDS = ("api", "browser")


@pytest.fixture(scope="module")
def site(httpd_factory, wos_server_conf, emulator):
    h = httpd_factory("tokens")
    iss = f"{emulator.url}/user_management/{emulator.client_id}"
    conf = (wos_server_conf + H.LOGLEVEL + "WorkOSHTTPTimeout 2\n"
            + h.cgi_location("/c/", "AuthType WorkOS", "Require valid-user")
            + h.cgi_location("/iss/", "AuthType WorkOS", "Require valid-user",
                             f"WorkOSIssuer {iss}"))
    return h.start(conf)


@pytest.fixture
def no_faults(emulator):
    emulator.clear_fault()
    _refreshes.clear()
    yield
    emulator.clear_fault()


# The emulator's refresh counter as last read: each control call costs ~40 ms,
# so consecutive cases share one read (tests that refresh on purpose reset it).
_refreshes = {}


def refresh_count(emulator, cached=False):
    """The counter (the last read when cached); a read is kept for the next case."""
    n = _refreshes.pop("n", None) if cached else None
    if n is None:
        n = emulator.counters()["authenticate_refresh"]
    if not cached:
        _refreshes["n"] = n
    return n


@pytest.fixture(scope="module")
def ada(make_session):
    return make_session("ada@example.com", org=ACME)


def build_cases(s, emulator, sealer):
    """name -> ({kind: sealed cookie value}, expected outcome, path)."""
    data = sdk_session(s.auth)
    kid = emulator.keys()["current_kid"]
    pem = emulator.keys()["public_pem"]
    real_jwk = next(k for k in emulator.jwks()["keys"] if k["kid"] == kid)
    claims = dict(s.claims)
    now = int(time.time())
    mine = H.RsaKey(2048, kid)

    def sign(header=None, cl=None, key="current", raw_header=None, raw_claims=None):
        body = {"header": header or {}, "claims": claims if cl is None else cl, "key": key}
        if raw_header is not None:
            body["raw_header"] = raw_header
        if raw_claims is not None:
            body["raw_claims"] = raw_claims
        return emulator.ctl("sign", body)["token"]

    def without(*names, **extra):
        return dict({k: v for k, v in claims.items() if k not in names}, **extra)

    def raw_claims(text_extra, *drop):
        """Claims JSON with `drop` removed and text_extra spliced in verbatim."""
        base = json.dumps(without(*drop), separators=(",", ":"))
        return base[:-1] + "," + text_extra + "}"

    def seal(token, **fields):
        sealer.secrets.add("hostile token", token)
        return sealer.iron(dict(data, accessToken=token, **fields))

    real = s.token
    h, p, sig = real.split(".")
    other = sign(cl=dict(claims, jti="other-" + pysecrets.token_hex(4)))
    tampered_role = b64url(json.dumps(dict(claims, role="owner")).encode())
    tampered_exp = b64url(json.dumps(dict(claims, exp=claims["exp"] + 86400)).encode())
    none_header = b64url(json.dumps({"alg": "none", "kid": kid, "typ": "JWT"}).encode())

    def bogus_refresh():
        return sealer.secrets.add("refresh token", "rt_bogus_" + pysecrets.token_hex(16))

    def live_refresh():
        """A refresh token of a live session of Ada's, its own per request: each
        case must reach WorkOS itself, not share another case's refresh."""
        auth = emulator.session("ada@example.com", organization_id=ACME)
        sealer.secrets.add("access token", auth["access_token"])
        return sealer.secrets.add("refresh token", auth["refresh_token"])

    expired = sign(cl=dict(claims, exp=now - 300, iat=now - 900))
    just_expired = sign(cl=dict(claims, exp=now - 75, iat=now - 675))
    cases = {
        # -- algorithms
        "alg-none": (sign(key="none"), REFUSED),
        "alg-none-header-on-real-signature": (f"{none_header}.{p}.{sig}", REFUSED),
        "alg-none-signed-by-real-key": (sign({"alg": "none"}), REFUSED),
        "hs256-keyed-with-public-pem": (sign(key="hs256:" + pem), REFUSED),
        "hs256-keyed-with-jwk-n": (sign(key="hs256:" + real_jwk["n"]), REFUSED),
        "hs256-empty-secret": (sign(key="hs256:"), REFUSED),
        "es256": (H.es256_token({"kid": kid, "typ": "JWT"}, claims), REFUSED),
        "rs512-header": (sign({"alg": "RS512"}), REFUSED),
        "ps256-header": (sign({"alg": "PS256"}), REFUSED),
        "alg-missing": (sign({"alg": None}), REFUSED),
        # -- headers that would pick the key or add semantics
        "jwk-header-own-key": (H.jwt_encode({"alg": "RS256", "kid": kid, "jwk": mine.jwk()},
                                            claims, lambda d: mine.key.sign(
                                                d, H.rsa_padding.PKCS1v15(),
                                                H.hashes.SHA256())), REFUSED),
        "own-key-with-real-kid": (mine.token(claims), REFUSED),
        "jwk-header-real-key": (sign({"jwk": real_jwk}), REFUSED),
        "jku-header-real-key": (sign({"jku": "http://127.0.0.1:9/keys"}), REFUSED),
        "x5u-header-real-key": (sign({"x5u": "http://127.0.0.1:9/cert.pem"}), REFUSED),
        "x5c-header-real-key": (sign({"x5c": real_jwk.get("x5c", ["MIIB"])}), REFUSED),
        "crit-header-real-key": (sign({"crit": ["exp"]}), REFUSED),
        "crit-empty-real-key": (sign({"crit": []}), REFUSED),
        "duplicate-alg-in-header": (sign(raw_header='{"alg":"none","alg":"RS256","kid":"%s",'
                                                    '"typ":"JWT"}' % kid), REFUSED),
        "header-not-json": (b64url(b"not json") + f".{p}.{sig}", REFUSED),
        # -- kids
        "kid-unknown": (sign({"kid": "sso_oidc_key_pair_01UNKNOWN"}, key="rogue"), REFUSED),
        "kid-missing": (sign({"kid": None}), REFUSED),
        "kid-number": (sign(raw_header='{"alg":"RS256","kid":12,"typ":"JWT"}'), REFUSED),
        "kid-empty": (sign({"kid": ""}), REFUSED),
        "kid-path-traversal": (sign({"kid": "../../../../etc/passwd"}, key="rogue"), REFUSED),
        "kid-5000-chars": (sign({"kid": "k" * 5000}, key="rogue"), REFUSED),
        # -- signature and segments
        "claims-tampered-role": (f"{h}.{tampered_role}.{sig}", REFUSED),
        "claims-tampered-exp": (f"{h}.{tampered_exp}.{sig}", REFUSED),
        "signature-of-another-token": (f"{h}.{p}.{other.split('.')[2]}", REFUSED),
        "signature-truncated": (real[:-4], REFUSED),
        "signature-bit-flipped": (f"{h}.{p}.{H.flip(sig, len(sig) // 2)}", REFUSED),
        "signature-empty": (f"{h}.{p}.", REFUSED),
        "four-segments": (real + ".AAAA", REFUSED),
        "two-segments": (f"{h}.{p}", REFUSED),
        "base64-padding": (f"{h}.{p}==.{sig}", REFUSED),
        "over-16k-real-key": (sign(cl=dict(claims, pad="x" * 17000)), REFUSED),
        "sub-of-another-user": (sign(cl=dict(claims, sub="user_01GRACE0000000000000000000")),
                                REFUSED),
        # -- times
        "expired-beyond-skew-refresh-refused": (expired, ENDED),
        "expired-just-beyond-skew-refresh-refused": (just_expired, ENDED),
        "nbf-in-an-hour": (sign(cl=dict(claims, nbf=now + 3600)), REFUSED),
        "nbf-beyond-skew": (sign(cl=dict(claims, nbf=now + 180)), REFUSED),
        "iat-in-an-hour": (sign(cl=dict(claims, iat=now + 3600)), REFUSED),
        "exp-1e300": (sign(raw_claims=raw_claims('"exp":1e300', "exp")), REFUSED),
        "exp-negative": (sign(cl=dict(claims, exp=-1)), REFUSED),
        "exp-string": (sign(cl=dict(claims, exp=str(now + 600))), REFUSED),
        "exp-missing": (sign(cl=without("exp")), REFUSED),
        "exp-null": (sign(cl=dict(claims, exp=None)), REFUSED),
        "exp-true": (sign(cl=dict(claims, exp=True)), REFUSED),
        "exp-after-year-9999": (sign(cl=dict(claims, exp=253402300800)), REFUSED),
        "exp-beyond-int64": (sign(raw_claims=raw_claims('"exp":99999999999999999999', "exp")),
                             REFUSED),
        # -- claim types
        "sub-missing": (sign(cl=without("sub")), REFUSED),
        "sub-number": (sign(cl=dict(claims, sub=1)), REFUSED),
        "roles-a-string": (sign(cl=dict(claims, roles="admin")), REFUSED),
        "permissions-with-a-number": (sign(cl=dict(claims, permissions=["posts:read", 1])),
                                      REFUSED),
        "org-id-an-object": (sign(cl=dict(claims, org_id={"id": ACME})), REFUSED),
        "act-a-string": (sign(cl=dict(claims, act="support@example.com")), REFUSED),
        "claims-an-array": (sign(raw_claims="[1,2,3]"), REFUSED),
        "duplicate-sub-claim": (sign(raw_claims=raw_claims(
            '"sub":"user_01GRACE0000000000000000000"')), REFUSED),
        # -- control: the real token
        "control-real-token": (real, OK),
    }
    out = {}
    for name, (token, outcome) in cases.items():
        if outcome == ENDED:
            # A refresh token per request: the module shares WorkOS's refusal of
            # one for a minute, and each request here must be refused by WorkOS.
            cookies = {k: seal(token, refreshToken=bogus_refresh()) for k in KINDS}
        elif outcome == REFUSED:
            cookies = {k: seal(token, refreshToken=live_refresh()) for k in KINDS}
        else:
            cookies = dict.fromkeys(KINDS, seal(token))
        out[name] = (cookies, outcome, "/c/env.cgi", token)
    iss_token = sign(cl=dict(claims, iss="https://evil.example"))
    for name, token, outcome in (("issuer-not-accepted", iss_token, REFUSED),
                                 ("issuer-missing", sign(cl=without("iss")), REFUSED),
                                 ("control-issuer-accepted", real, OK)):
        cookies = ({k: seal(token, refreshToken=live_refresh()) for k in KINDS}
                   if outcome == REFUSED else dict.fromkeys(KINDS, seal(token)))
        out[name] = (cookies, outcome, "/iss/env.cgi", token)
    return out


CASE_NAMES = [
    "alg-none", "alg-none-header-on-real-signature", "alg-none-signed-by-real-key",
    "hs256-keyed-with-public-pem", "hs256-keyed-with-jwk-n", "hs256-empty-secret", "es256",
    "rs512-header", "ps256-header", "alg-missing",
    "jwk-header-own-key", "own-key-with-real-kid", "jwk-header-real-key", "jku-header-real-key",
    "x5u-header-real-key", "x5c-header-real-key", "crit-header-real-key", "crit-empty-real-key",
    "duplicate-alg-in-header", "header-not-json",
    "kid-unknown", "kid-missing", "kid-number", "kid-empty", "kid-path-traversal",
    "kid-5000-chars",
    "claims-tampered-role", "claims-tampered-exp", "signature-of-another-token",
    "signature-truncated", "signature-bit-flipped", "signature-empty", "four-segments",
    "two-segments", "base64-padding", "over-16k-real-key", "sub-of-another-user",
    "expired-beyond-skew-refresh-refused", "expired-just-beyond-skew-refresh-refused",
    "nbf-in-an-hour", "nbf-beyond-skew", "iat-in-an-hour", "exp-1e300", "exp-negative",
    "exp-string", "exp-missing", "exp-null", "exp-true", "exp-after-year-9999",
    "exp-beyond-int64",
    "sub-missing", "sub-number", "roles-a-string", "permissions-with-a-number",
    "org-id-an-object", "act-a-string", "claims-an-array", "duplicate-sub-claim",
    "control-real-token", "issuer-not-accepted", "issuer-missing", "control-issuer-accepted",
]


@pytest.fixture(scope="module")
def cases(ada, emulator, sealer):
    return build_cases(ada, emulator, sealer)


def test_case_list_is_complete(cases):
    assert sorted(cases) == sorted(CASE_NAMES)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", CASE_NAMES)
def test_hostile_token(site, emulator, sealer, cases, name, kind):
    cookies, outcome, path, token = cases[name]
    cookie = cookies[kind]
    refreshes = refresh_count(emulator, cached=True)
    r = H.cookie_request(site, path, f"{H.SESSION}={cookie}", kind)
    if outcome == OK:
        H.served_as(r, "ada@example.com")
        assert H.deleted(r) == set()
    elif outcome == REFUSED:
        # Served as WorkOS's refresh says, never as the hostile token says.
        env = H.served_as(r, "ada@example.com")
        assert env["WORKOS_ROLE"] == "admin" and env["WORKOS_ORGANIZATION_ID"] == ACME
        assert H.stored_sessions(r) == [H.SESSION] and H.deleted(r) == set()
        new = next(v for n, v, a in set_cookies(r) if n == H.SESSION)
        sealer.secrets.add("cookie set by the module", new)
        fresh = json.loads(iron_unseal(sealer.password, new))["accessToken"]
        assert fresh != token
        assert jwt_claims(fresh)["sub"] == "user_01ADA000000000000000000000"
    elif kind == "api":
        H.refused_api(r, clears={H.SESSION}, sent=[cookie])
    else:
        H.to_sign_in(r, site, emulator, clears={H.SESSION}, sent=[cookie])
    # Whatever is wrong with the token, WorkOS is asked exactly once.
    assert refresh_count(emulator) == refreshes + (0 if outcome == OK else 1)


def test_expired_token_with_a_valid_refresh_token_is_refreshed(site, make_session, sealer,
                                                               emulator, no_faults):
    """The control for the ENDED cases: the same expiry with a live refresh token."""
    s = make_session("ada@example.com", expired=True)
    r = H.cookie_request(site, "/c/env.cgi", f"{H.SESSION}={s.cookie}", "api")
    H.served_as(r, "ada@example.com")
    stored = H.stored_sessions(r)
    assert stored == [H.SESSION]
    sealer.secrets.add("cookie set by the module",
                       next(v for n, v, a in set_cookies(r) if n == H.SESSION))


# ---- retryable refresh failures: 503 with Retry-After, cookie kept ---------------

OUTAGES = {
    "503-retry-after-7": ({"status": 503, "retry_after": 7}, "7"),
    "429-retry-after-huge": ({"status": 429, "retry_after": 999999}, "3600"),
    "500": ({"status": 500}, "5"),
    "dropped": ({"drop": True}, "5"),
    "slower-than-timeout": ({"delay_ms": 3500, "status": 503}, "5"),
    "html-error-page": ({"status": 502, "body": "<html>bad gateway</html>"}, "5"),
}


@pytest.mark.expect_log(r"\[auth_workos:(warn|error)\]")
@pytest.mark.parametrize("outage", sorted(OUTAGES))
def test_refresh_outage_is_503_with_retry_after(site, emulator, make_session, sealer, outage,
                                               no_faults):
    fault, retry_after = OUTAGES[outage]
    s = make_session("grace@example.com", expired=True)
    emulator.fault(endpoint="refresh", count=-1, **fault)
    cookie = f"{H.SESSION}={s.cookie}"
    started = time.time()
    H.unavailable(H.cookie_request(site, "/c/env.cgi", cookie, "api"), retry_after,
                  sent=[s.cookie])
    H.unavailable(H.cookie_request(site, "/c/env.cgi", cookie, "browser"), retry_after,
                  sent=[s.cookie])
    assert time.time() - started < 2 * (2 + 3)
    emulator.clear_fault()
    r = H.cookie_request(site, "/c/env.cgi", cookie, "api")
    H.served_as(r, "grace@example.com")
    assert H.stored_sessions(r) == [H.SESSION]
    sealer.secrets.add("cookie set by the module",
                       next(v for n, v, a in set_cookies(r) if n == H.SESSION))
