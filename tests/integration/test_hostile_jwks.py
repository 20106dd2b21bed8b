# SPDX-License-Identifier: Apache-2.0
"""Hostile or broken JWKS answers, each met by a freshly started httpd that
has no keys yet (WorkOSHTTPTimeout 2): slower than the timeout, 5xx, a
redirect, 20 MB, a body that never ends, not JSON, malformed entries, RSA
keys of 1024 bits, a duplicated kid, more keys than are read, WorkOS
unreachable.

Without a usable key the module cannot decide, so every client (browser
included: no sign-in loop) gets 503 with Retry-After, the session cookie is
kept, and the same session is served once the JWKS is healthy again. Keys
the module refuses never verify anything: tokens signed with them are
refused (401, cookie deleted) while the published key keeps working."""
import json
import socket
import time

import pytest

import flowlib as fl
import hostile as H
from flowlib import clean_emulator  # noqa: F401  (autouse fixture)
from harness.client import set_cookies
from harness.cookies import iron_unseal, jwt_header, sdk_session
from hostile import log_watch  # noqa: F401  (autouse fixture)

NO_KEYS = r"WOS00108"      # logged at error level: the operator must know
TIMEOUT = 2


@pytest.fixture
def fresh(httpd_factory, wos_server_conf, request):
    """fresh(server_lines="") -> an httpd started for this test only."""

    def start(server_lines=""):
        return fl.fresh_httpd(httpd_factory, request, lambda h: (
            wos_server_conf + H.LOGLEVEL + f"WorkOSHTTPTimeout {TIMEOUT}\n" + server_lines
            + "KeepAlive Off\n"
            + h.cgi_location("/c/", "AuthType WorkOS", "Require valid-user")))

    return start


def outage_faults(emulator):
    kid = emulator.keys()["current_kid"]
    real = next(k for k in emulator.jwks()["keys"] if k["kid"] == kid)
    weak = H.RsaKey(1024, kid)

    def body(*keys):
        return {"status": 200, "body": {"keys": list(keys)}}

    return {
        "slower-than-timeout": {"delay_ms": (TIMEOUT + 2) * 1000},
        "status-500": {"status": 500},
        "status-503-retry-after-120": {"status": 503, "retry_after": 120},
        "status-429": {"status": 429, "retry_after": 1},
        "redirect-302": {"status": 302, "body": {"keys": [real]}},
        "dropped": {"drop": True},
        "20-megabytes": {"size": 20 * 1024 * 1024},
        "never-ending": {"endless": True},
        "html-200": {"status": 200, "body": "<html><body>maintenance</body></html>"},
        "json-array-200": {"status": 200, "body": "[]"},
        "keys-empty": body(),
        "keys-not-an-array": {"status": 200, "body": {"keys": {"0": real}}},
        "key-n-not-base64url": body(dict(real, n="!!!not-base64url!!!")),
        "key-kty-ec": body(dict(real, kty="EC", crv="P-256", x="AAAA", y="AAAA")),
        "key-e-even": body(dict(real, e="AAI")),
        "key-without-n": body({k: v for k, v in real.items() if k != "n"}),
        "key-use-enc": body(dict(real, use="enc")),
        "key-alg-hs256": body(dict(real, alg="HS256", kty="oct", k="c2VjcmV0")),
        "key-1024-bit-only": body(weak.jwk()),
        "key-duplicated-kid": body(real, dict(real)),
        "key-a-string": body("not a key"),
    }


OUTAGE_NAMES = ["slower-than-timeout", "status-500", "status-503-retry-after-120",
                "status-429", "redirect-302", "dropped", "20-megabytes", "never-ending",
                "html-200", "json-array-200", "keys-empty", "keys-not-an-array",
                "key-n-not-base64url", "key-kty-ec", "key-e-even", "key-without-n",
                "key-use-enc", "key-alg-hs256", "key-1024-bit-only", "key-duplicated-kid",
                "key-a-string"]


def test_outage_list_is_complete(emulator):
    assert sorted(outage_faults(emulator)) == sorted(OUTAGE_NAMES)


@pytest.mark.expect_log(NO_KEYS)
@pytest.mark.parametrize("name", OUTAGE_NAMES)
def test_no_usable_key_is_503_then_recovers(fresh, emulator, make_session, name):
    site = fresh()
    s = make_session("ada@example.com")
    emulator.fault(endpoint="jwks", count=-1, **outage_faults(emulator)[name])
    cookie = f"{H.SESSION}={s.cookie}"
    for kind in ("api", "browser"):
        started = time.time()
        r = H.cookie_request(site, "/c/env.cgi", cookie, kind)
        H.unavailable(r, "5", sent=[s.cookie])
        # Bounded by WorkOSHTTPTimeout (plus the wait of a second process).
        assert time.time() - started < TIMEOUT + 4
    assert NO_KEYS in site.log_text()
    emulator.clear_fault()
    H.served_as(H.cookie_request(site, "/c/env.cgi", cookie, "api"), "ada@example.com")


@pytest.mark.expect_log(NO_KEYS)
def test_unreachable_workos_is_503(fresh, make_session):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    site = fresh(f"WorkOSAPIBaseURL http://127.0.0.1:{dead}\n")
    s = make_session("ada@example.com")
    for kind in ("api", "browser"):
        H.unavailable(H.cookie_request(site, "/c/env.cgi", f"{H.SESSION}={s.cookie}", kind),
                      "5", sent=[s.cookie])


def forged(s, sealer, token):
    sealer.secrets.add("hostile token", token)
    return sealer.iron(dict(sdk_session(s.auth), accessToken=token))


@pytest.mark.expect_log(NO_KEYS)
def test_a_duplicated_kid_verifies_nothing(fresh, emulator, make_session, sealer):
    """An attacker's key published under the real kid: neither copy is used."""
    kid = emulator.keys()["current_kid"]
    mine = H.RsaKey(2048, kid)
    emulator.config(jwks_extra_keys=[mine.jwk()])
    site = fresh()
    s = make_session("ada@example.com")
    cookie = forged(s, sealer, mine.token(H.future_claims(s.claims)))
    for value in (cookie, s.cookie):
        for kind in ("api", "browser"):
            H.unavailable(H.cookie_request(site, "/c/env.cgi", f"{H.SESSION}={value}", kind),
                          "5", sent=[value])


@pytest.mark.expect_log(NO_KEYS)
def test_a_duplicated_kid_beside_another_key_is_503_not_a_sign_out(fresh, emulator,
                                                                  make_session, sealer):
    """The document is at fault, not the session: it is kept and retried later."""
    kid = emulator.keys()["current_kid"]
    mine = H.RsaKey(2048, kid)
    other = H.RsaKey(2048, "sso_oidc_key_pair_01OTHERGOODKEY")
    emulator.config(jwks_extra_keys=[mine.jwk(), other.jwk()])
    site = fresh()
    s = make_session("ada@example.com")
    for kind in ("api", "browser"):
        H.unavailable(H.cookie_request(site, "/c/env.cgi", f"{H.SESSION}={s.cookie}", kind),
                      "5", sent=[s.cookie])


def test_a_1024_bit_key_beside_the_real_one_verifies_nothing(fresh, emulator, make_session,
                                                            sealer):
    weak = H.RsaKey(1024, "sso_oidc_key_pair_01WEAK1024")
    emulator.config(jwks_extra_keys=[weak.jwk()])
    site = fresh()
    s = make_session("ada@example.com")
    cookie = forged(s, sealer, weak.token(H.future_claims(s.claims)))
    # Inside a seal of ours the weak token is not believed: WorkOS is asked (a
    # refresh, shared by both requests) and its session is what is served.
    kid = emulator.keys()["current_kid"]
    for kind in ("api", "browser"):
        r = H.cookie_request(site, "/c/env.cgi", f"{H.SESSION}={cookie}", kind)
        H.served_as(r, "ada@example.com")
        assert H.stored_sessions(r) == [H.SESSION] and H.deleted(r) == set()
        new = next(v for n, v, a in set_cookies(r) if n == H.SESSION)
        sealer.secrets.add("cookie set by the module", new)
        assert jwt_header(json.loads(iron_unseal(sealer.password, new))["accessToken"])[
            "kid"] == kid
    assert emulator.counters()["authenticate_refresh"] == 1
    # The unknown kid may cause one throttled refetch, never one per request.
    assert emulator.counters()["jwks"] <= 2


def test_keys_beyond_the_32nd_are_not_read(fresh, emulator, make_session, sealer):
    """32 keys of our own first: the real key, 33rd, is never read. The module
    treats the session's kid as unknown, never as valid: it refreshes, and the
    refreshed token's kid is unknown too, so 503 with the new cookie kept."""
    mine = H.RsaKey(2048, "x")
    emulator.config(jwks_extra_keys=[mine.jwk(f"sso_oidc_key_pair_01FILLER{i:02d}")
                                     for i in range(32)])
    kid = emulator.keys()["current_kid"]
    real = next(k for k in emulator.jwks()["keys"] if k["kid"] == kid)
    doc = emulator.jwks()["keys"][1:] + [real]
    assert len(doc) == 33 and doc[-1]["kid"] == kid
    emulator.fault(endpoint="jwks", count=-1, status=200, body={"keys": doc})
    site = fresh()
    s = make_session("ada@example.com")
    r = H.cookie_request(site, "/c/env.cgi", f"{H.SESSION}={s.cookie}", "api")
    assert r.status_code == 503 and r.headers.get("Retry-After") == "5", r.status_code
    assert H.stored_sessions(r) == [H.SESSION] and H.deleted(r) == set()
    sealer.secrets.add("cookie set by the module",
                       next(v for n, v, a in set_cookies(r) if n == H.SESSION))
    H.no_leak(r, [s.cookie])
    # A filler key does verify what it signed: the 32 read keys are in use.
    cookie = forged(s, sealer, mine.token(H.future_claims(s.claims),
                                          kid="sso_oidc_key_pair_01FILLER05"))
    H.served_as(H.cookie_request(site, "/c/env.cgi", f"{H.SESSION}={cookie}", "api"),
                "ada@example.com")
