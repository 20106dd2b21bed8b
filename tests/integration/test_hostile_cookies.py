# SPDX-License-Identifier: Apache-2.0
"""Hostile session cookies: empty, separators only, duplicated, over 64 KiB,
wrong part counts, bad base64url and salts, truncated or bit-flipped
ciphertext, wrong prefix and version suffix, expired and overflowing expiry,
seals that are valid but hold no usable session (not JSON, wrong types, deep
nesting, duplicate keys), and chunk sets that are too large or malformed.

Most malformed seals here carry a MAC computed over the malformed body with
the right password, so the module must refuse them on their form, not only
because the MAC fails. Each case is sent by an API client (401, the module's
challenge) and by a browser (302 to the sign-in page), and the exact set of
cookies the answer deletes is checked. A few well-formed variants (no
version suffix, expiry within the skew, quoted value, chunks) are accepted:
they show the refusals are about the case, not the harness."""
import json
import time

import pytest

import hostile as H
from harness.cookies import now_ms, sdk_session
from harness.emulator import org_id
from hostile import log_watch  # noqa: F401  (autouse fixture)

ACME = org_id("Acme")
NONE, INVALID, OK = "no session", "refused", "accepted"


@pytest.fixture(scope="module")
def site(httpd_factory, wos_server_conf):
    h = httpd_factory("cookies")
    conf = (wos_server_conf + H.LOGLEVEL
            # Above the module's own 64 KiB cap, so that the module (not httpd's
            # header limit) is what refuses the largest cookies here.
            + "LimitRequestFieldSize 131072\n"
            + h.cgi_location("/c/", "AuthType WorkOS", "Require valid-user"))
    return h.start(conf)


@pytest.fixture(scope="module")
def ada(make_session):
    return make_session("ada@example.com", org=ACME)


def chunked(value, size=3800):
    parts = [value[i:i + size] for i in range(0, len(value), size)]
    return "; ".join(f"{H.SESSION}.{i}={p}" for i, p in enumerate(parts)), len(parts)


def deep(n):
    return "[" * n + "]" * n


def build_cases(s, grace, password, sealer):
    """name -> (Cookie header value, or a list of them for repeated headers;
    outcome; for INVALID the deleted names, for OK the user)."""
    data = sdk_session(s.auth)
    good = s.cookie
    user = data["user"]
    text = json.dumps(data, separators=(",", ":"))
    tok = json.dumps(data["accessToken"])

    def seal(payload=None, **over):
        return sealer.secrets.add("cookie", H.forge_seal(password, data if payload is None
                                                         else payload, **over))

    def with_user(**fields):
        return seal(dict(data, user=dict(user, **fields)))

    W = H.SESSION
    one = {W}
    many_chunks = "; ".join(f"{W}.{i}=x{i}" for i in range(1000))
    big_chunks = "; ".join(f"{W}.{i}=" + "A" * 4100 for i in range(16))
    split, n_split = chunked(good, 600)
    cases = {
        # -- nothing usable in the header: no session, nothing to delete
        "empty-value": (f"{W}=", NONE, set()),
        "empty-quoted": (f'{W}=""', NONE, set()),
        "blank-value": (f"{W}=   ", NONE, set()),
        "separators-only": (";;; ; ;", NONE, set()),
        "equals-and-separators": ("=;=; = ;==", NONE, set()),
        "name-without-equals": (f"{W}; {W}", NONE, set()),
        "negative-chunk-index": (f"{W}.-1={good}", NONE, set()),
        "empty-only-chunk": (f"{W}.0=", NONE, set()),
        # -- duplicated names: which one is real? neither
        "duplicate-two-valid": (f"{W}={good}; {W}={grace.cookie}", INVALID, one),
        "duplicate-valid-then-garbage": (f"{W}={good}; {W}=garbage-garbage", INVALID, one),
        "duplicate-garbage-then-valid": (f"{W}=garbage-garbage; {W}={good}", INVALID, one),
        "duplicate-in-two-headers": ([f"{W}={good}", f"{W}={grace.cookie}"], INVALID, one),
        "duplicate-chunk-index": (f"{W}.0={good[:2000]}; {W}.0={good[:2000]}", INVALID,
                                  {f"{W}.0"}),
        "garbage-beside-valid-chunks": (f"{W}=garbage-garbage; {split}", INVALID,
                                        {W} | {f"{W}.{i}" for i in range(n_split)}),
        # -- size
        "over-64k": (f"{W}=" + "A" * (64 * 1024 + 1), INVALID, one),
        "over-64k-valid-seal-padded": (f"{W}={good}" + "A" * (64 * 1024), INVALID, one),
        "over-64k-in-16-chunks": (big_chunks, INVALID, {f"{W}.{i}" for i in range(16)}),
        # -- structure
        "one-part": (f"{W}=Fe26.2", INVALID, one),
        "seven-parts": (f"{W}=" + "*".join(good[:-2].split("*")[:7]) + "~2", INVALID, one),
        "nine-parts": (f"{W}=" + good[:-2] + "*extra~2", INVALID, one),
        "stars-only": (f"{W}=" + "*" * 2000, INVALID, one),
        "truncated-half": (f"{W}={good[:len(good) // 2]}", INVALID, one),
        "truncated-mac": (f"{W}={good[:-6]}~2", INVALID, one),
        "iv-standard-base64": (f"{W}=" + seal(iv="AAAAAAAAAAAAAAAAAAAA+/"), INVALID, one),
        "iv-with-padding": (f"{W}=" + seal(iv="AAAAAAAAAAAAAAAAAAAAAA=="), INVALID, one),
        "iv-15-bytes": (f"{W}=" + seal(iv="AAAAAAAAAAAAAAAAAAAA"), INVALID, one),
        "ciphertext-bad-char": (f"{W}=" + seal(ct="AAAA!AAAAAAAAAAAAAAAAA"), INVALID, one),
        "ciphertext-empty": (f"{W}=" + seal(ct=""), INVALID, one),
        "mac-bad-char": (f"{W}=" + seal(mac="$" * 43), INVALID, one),
        "salt-uppercase": (f"{W}=" + seal(hsalt="AB" * 32), INVALID, one),
        "salt-63-chars": (f"{W}=" + seal(esalt="a" * 63), INVALID, one),
        "salt-not-hex": (f"{W}=" + seal(hsalt="g" * 64), INVALID, one),
        "salt-empty": (f"{W}=" + seal(esalt=""), INVALID, one),
        "ciphertext-truncated-byte": (f"{W}=" + seal(ct_bytes=lambda c: c[:-1]), INVALID, one),
        "ciphertext-truncated-block": (f"{W}=" + seal(ct_bytes=lambda c: c[:-16]), INVALID,
                                       one),
        "ciphertext-bit-flipped": (f"{W}=" + seal(ct_bytes=lambda c: c[:40] + bytes(
            [c[40] ^ 0x01]) + c[41:]), INVALID, one),
        "ciphertext-flipped-mac-stale": (f"{W}=" + H.seal_part(
            good, 4, lambda p: H.flip(p, len(p) // 2)), INVALID, one),
        "mac-bit-flipped": (f"{W}=" + H.seal_part(good, 7, lambda p: H.flip(p, 7)), INVALID,
                            one),
        "prefix-Fe26.1": (f"{W}=" + seal(prefix="Fe26.1"), INVALID, one),
        "prefix-lowercase": (f"{W}=" + seal(prefix="fe26.2"), INVALID, one),
        "prefix-empty": (f"{W}=" + seal(prefix=""), INVALID, one),
        "password-id-2": (f"{W}=" + seal(pwid="2"), INVALID, one),
        "password-id-empty": (f"{W}=" + seal(pwid=""), INVALID, one),
        "suffix-~3": (f"{W}=" + seal(suffix="~3"), INVALID, one),
        "suffix-tilde-only": (f"{W}=" + seal(suffix="~"), INVALID, one),
        "suffix-twice": (f"{W}=" + seal(suffix="~2~2"), INVALID, one),
        # -- expiry (ms)
        "expired-seal": (f"{W}=" + seal(exp=str(now_ms() - 120_000)), INVALID, one),
        "expiry-20-digits": (f"{W}=" + seal(exp="9" * 20), INVALID, one),
        "expiry-int64-overflow": (f"{W}=" + seal(exp="9223372036854775808"), INVALID, one),
        "expiry-negative": (f"{W}=" + seal(exp="-1"), INVALID, one),
        "expiry-leading-zero": (f"{W}=" + seal(exp="0" + str(now_ms() + 600_000)), INVALID,
                                one),
        "expiry-exponent": (f"{W}=" + seal(exp="1e20"), INVALID, one),
        # -- valid seal, no usable session inside
        "payload-not-json": (f"{W}=" + seal("this is not json"), INVALID, one),
        "payload-empty": (f"{W}=" + seal(b""), INVALID, one),
        "payload-invalid-utf8": (f"{W}=" + seal(b"\xff\xfe" + text.encode()), INVALID, one),
        "payload-nul-byte": (f"{W}=" + seal(text.encode() + b"\x00"), INVALID, one),
        "payload-json-array": (f"{W}=" + seal([data]), INVALID, one),
        "payload-json-null": (f"{W}=" + seal("null"), INVALID, one),
        "payload-trailing-garbage": (f"{W}=" + seal(text + "}"), INVALID, one),
        "type-user-string": (f"{W}=" + seal(dict(data, user="ada")), INVALID, one),
        "type-user-id-number": (f"{W}=" + with_user(id=12345), INVALID, one),
        "type-user-id-empty": (f"{W}=" + with_user(id=""), INVALID, one),
        "type-email-number": (f"{W}=" + with_user(email=7), INVALID, one),
        "type-email-verified-string": (f"{W}=" + with_user(emailVerified="true"), INVALID,
                                       one),
        "type-access-token-number": (f"{W}=" + seal(dict(data, accessToken=1)), INVALID, one),
        "type-access-token-null": (f"{W}=" + seal(dict(data, accessToken=None)), INVALID, one),
        "type-refresh-token-array": (f"{W}=" + seal(dict(data, refreshToken=["x"])), INVALID,
                                     one),
        "type-organization-id-object": (f"{W}=" + seal(dict(data, organizationId={})),
                                        INVALID, one),
        "type-impersonator-string": (f"{W}=" + seal(dict(data, impersonator="x")), INVALID,
                                     one),
        "nesting-17-deep": (f"{W}=" + seal(text[:-1] + ',"x":' + deep(16) + "}"), INVALID,
                            one),
        "nesting-20000-deep": (f"{W}=" + seal(text[:-1] + ',"x":' + deep(20000) + "}"),
                               INVALID, one),
        "duplicate-key-access-token": (f"{W}=" + seal(text[:-1] + ',"accessToken":' + tok
                                                      + "}"), INVALID, one),
        "duplicate-key-user": (f"{W}=" + seal(text[:-1] + ',"user":' + json.dumps(
            dict(user, id="user_01SOMEONEELSE00000000000")) + "}"), INVALID, one),
        # -- chunk sets
        "chunks-1000": (many_chunks, INVALID, {f"{W}.{i}" for i in range(16)}),
        # The module never writes (so never deletes) a chunk beyond the 16th.
        "chunk-index-16": (f"{W}.16={good}", INVALID, set()),
        "chunk-index-overflow": (f"{W}.99999999999999999999999={good}", INVALID, set()),
        "chunk-index-leading-zero": (f"{W}.00={good}", INVALID, set()),
        "chunk-gap": (f"{W}.0={good[:600]}; {W}.2={good[600:]}", INVALID,
                      {f"{W}.0", f"{W}.1", f"{W}.2"}),
        # -- well-formed variants that must work (controls)
        "control-no-version-suffix": (f"{W}=" + seal(suffix=""), OK, "ada@example.com"),
        "control-expired-within-skew": (f"{W}=" + seal(exp=str(now_ms() - 20_000)), OK,
                                        "ada@example.com"),
        "control-expiry-18-digits": (f"{W}=" + seal(exp="9" * 18), OK, "ada@example.com"),
        "control-quoted-value": (f'{W}="{good}"', OK, "ada@example.com"),
        "control-chunks": (split, OK, "ada@example.com"),
        "control-among-other-cookies": ("a=1; b=; ;c; " + f"{W}={good}; z=2", OK,
                                        "ada@example.com"),
    }
    return cases


CASE_NAMES = [
    "empty-value", "empty-quoted", "blank-value", "separators-only", "equals-and-separators",
    "name-without-equals", "negative-chunk-index", "empty-only-chunk",
    "duplicate-two-valid", "duplicate-valid-then-garbage", "duplicate-garbage-then-valid",
    "duplicate-in-two-headers", "duplicate-chunk-index", "garbage-beside-valid-chunks",
    "over-64k", "over-64k-valid-seal-padded", "over-64k-in-16-chunks",
    "one-part", "seven-parts", "nine-parts", "stars-only", "truncated-half", "truncated-mac",
    "iv-standard-base64", "iv-with-padding", "iv-15-bytes", "ciphertext-bad-char",
    "ciphertext-empty", "mac-bad-char", "salt-uppercase", "salt-63-chars", "salt-not-hex",
    "salt-empty", "ciphertext-truncated-byte", "ciphertext-truncated-block",
    "ciphertext-bit-flipped", "ciphertext-flipped-mac-stale", "mac-bit-flipped",
    "prefix-Fe26.1", "prefix-lowercase", "prefix-empty", "password-id-2", "password-id-empty",
    "suffix-~3", "suffix-tilde-only", "suffix-twice",
    "expired-seal", "expiry-20-digits", "expiry-int64-overflow", "expiry-negative",
    "expiry-leading-zero", "expiry-exponent",
    "payload-not-json", "payload-empty", "payload-invalid-utf8", "payload-nul-byte",
    "payload-json-array", "payload-json-null", "payload-trailing-garbage",
    "type-user-string", "type-user-id-number", "type-user-id-empty", "type-email-number",
    "type-email-verified-string", "type-access-token-number", "type-access-token-null",
    "type-refresh-token-array", "type-organization-id-object", "type-impersonator-string",
    "nesting-17-deep", "nesting-20000-deep", "duplicate-key-access-token", "duplicate-key-user",
    "chunks-1000", "chunk-index-16", "chunk-index-overflow", "chunk-index-leading-zero",
    "chunk-gap",
    "control-no-version-suffix", "control-expired-within-skew", "control-expiry-18-digits",
    "control-quoted-value", "control-chunks", "control-among-other-cookies",
]


@pytest.fixture(scope="module")
def cases(ada, make_session, creds, sealer):
    grace = make_session("grace@example.com")
    return build_cases(ada, grace, creds.password, sealer)


def test_case_list_is_complete(cases):
    assert sorted(cases) == sorted(CASE_NAMES)
    assert len(CASE_NAMES) == len(set(CASE_NAMES))


def send(site, cookie, kind):
    if isinstance(cookie, list):
        base = H.client.API if kind == "api" else H.client.BROWSER
        pairs = list(base.items()) + list(H.FORGED.items())
        pairs += [("Cookie", c) for c in cookie]
        return H.raw_request(site, "/c/env.cgi", pairs)
    return H.cookie_request(site, "/c/env.cgi", cookie, kind)


@pytest.mark.parametrize("kind", ["api", "browser"])
@pytest.mark.parametrize("name", CASE_NAMES)
def test_hostile_cookie(site, emulator, cases, name, kind):
    cookie, outcome, detail = cases[name]
    started = time.time()
    r = send(site, cookie, kind)
    sent = [cookie] if isinstance(cookie, str) else cookie
    if outcome == OK:
        H.served_as(r, detail)
        assert H.deleted(r) == set()
    elif kind == "api":
        H.refused_api(r, clears=detail if outcome == INVALID else (), sent=sent)
    else:
        H.to_sign_in(r, site, emulator, clears=detail if outcome == INVALID else (), sent=sent)
    assert time.time() - started < 10


def test_valid_session_still_served_after_the_onslaught(site, ada):
    """The worker processes that refused all of the above still serve."""
    for _ in range(8):
        H.served_as(H.cookie_request(site, "/c/env.cgi", f"{H.SESSION}={ada.cookie}", "api"),
                    "ada@example.com")
