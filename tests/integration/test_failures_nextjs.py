# SPDX-License-Identifier: Apache-2.0
"""Issue 14: a Next.js app next door. @workos-inc/authkit-nextjs 4.x's own
session code (tests/compat/authkit_nextjs.mjs: its `authkit()` middleware
function, which reads, verifies, refreshes and writes the cookie) against
cookies this module wrote at sign-in and at a refresh, a session of 60
permissions and one with an impersonator; its refresh path on the module's
cookie, and the module reading the cookie it wrote; the two apps refreshing
the same session at once; and what it makes of a session chunked past 4096
bytes (nothing: it reads only the unchunked name)."""
import json
import subprocess
from pathlib import Path

import pytest

import flowlib as fl
from flowlib import clean_emulator  # noqa: F401  (autouse fixture)
from harness import client
from harness.cookies import jwt_claims

COMPAT = Path(__file__).resolve().parents[1] / "compat"


@pytest.fixture(scope="module")
def site(httpd_factory, emulator, creds):
    h = fl.new_httpd(httpd_factory, "nextjs")
    return h.start(fl.site(h, fl.server_conf(emulator, creds)))


def nextjs(site, emulator, creds, cookie_header, buffer=None):
    """authkit-nextjs' view of a request to the same site with this Cookie header."""
    req = {"baseUrl": emulator.url, "clientId": emulator.client_id, "apiKey": creds.api_key,
           "password": creds.password, "url": site.url + "/dashboard", "cookie": cookie_header}
    if buffer is not None:
        req["refreshBufferSeconds"] = buffer
    out = subprocess.run([fl.NODE, "--import", "./next_register.mjs", "authkit_nextjs.mjs"],
                         input=json.dumps(req), capture_output=True, text=True, timeout=120,
                         cwd=str(COMPAT))
    assert out.returncode == 0, f"authkit_nextjs.mjs failed: {out.stderr.strip()[-1500:]}"
    return json.loads(out.stdout)


def written_session(resp, secrets):
    """The one unchunked session cookie the module wrote on this answer."""
    (name, value, attrs), = fl.session_cookies(resp)
    assert name == fl.SESSION
    secrets.add("cookie set by the module", value)
    return value


def sees(got, email, token_claims):
    assert got["user"] == email, got
    assert got["sessionId"] == token_claims["sid"]
    assert got["organizationId"] == token_claims.get("org_id")
    assert got["permissions"] == token_claims.get("permissions")


def test_reads_the_cookie_the_module_wrote_at_sign_in(site, emulator, creds, secrets):
    b = fl.Browser(site, secrets, creds.password)
    s = fl.sign_in(b, emulator, "/private/env.cgi", "ada@example.com")
    value = written_session(s.done, secrets)
    got = nextjs(site, emulator, creds, f"{fl.SESSION}={value}")
    sees(got, "ada@example.com", fl.claims_of(value, creds.password))
    assert got["refreshed"] is False and got["setCookies"] == []


@pytest.mark.parametrize("email", ["ada@example.com", "sixty@example.com",
                                   "impersonated@example.com"])
def test_reads_the_cookie_the_module_wrote_at_a_refresh(site, emulator, make_session, creds,
                                                        secrets, email):
    old = make_session(email, expired=True)
    r = client.request(site, "GET", "/private/env.cgi", headers=client.API,
                       cookie=f"{fl.SESSION}={old.cookie}")
    fl.check_identity(r, email)
    value = written_session(r, secrets)
    claims = fl.claims_of(value, creds.password)
    got = nextjs(site, emulator, creds, f"{fl.SESSION}={value}")
    sees(got, email, claims)
    assert got["refreshed"] is False
    if email == "sixty@example.com":
        assert len(got["permissions"]) == 60 and len(fl.SESSION) + len(value) <= 4096
    if email == "impersonated@example.com":
        assert got["impersonator"] == {"email": "support@example.com", "reason": "ticket 42"}
        assert claims["act"] == {"sub": "support@example.com"}
    else:
        assert got["impersonator"] is None


def test_its_refresh_of_the_modules_cookie_and_the_module_reading_its_cookie(
        site, emulator, make_session, creds, secrets):
    old = make_session("grace@example.com", org=fl.admin_org("grace@example.com"),
                       expired=True)
    # The module writes the cookie (a refresh of an expired session) ...
    r = client.request(site, "GET", "/private/env.cgi", headers=client.API,
                       cookie=f"{fl.SESSION}={old.cookie}")
    value = written_session(r, secrets)
    # ... authkit-nextjs refreshes it (its buffer made larger than the token's life) ...
    before = emulator.counters()["authenticate_refresh"]
    got = nextjs(site, emulator, creds, f"{fl.SESSION}={value}", buffer=3600)
    assert got["refreshed"] is True and got["user"] == "grace@example.com", got
    assert emulator.counters()["authenticate_refresh"] == before + 1
    (call,) = fl.authenticate_calls(emulator, "refresh_token")[-1:]
    assert call["params"]["organization_id"] == old.claims["org_id"]
    theirs = next(c for c in got["setCookies"] if c.startswith(fl.SESSION + "="))
    sealed = theirs.split(";", 1)[0].split("=", 1)[1]
    secrets.add("cookie set by authkit-nextjs", sealed)
    attrs = theirs.lower()
    assert "path=/" in attrs and "httponly" in attrs and "samesite=lax" in attrs
    # ... and the module serves the session from the cookie it wrote, unchanged.
    r = client.request(site, "GET", "/private/env.cgi", headers=client.API,
                       cookie=f"{fl.SESSION}={sealed}")
    env = fl.check_identity(r, "grace@example.com", old.claims["org_id"])
    assert env["WORKOS_ROLE"] == "admin"
    assert fl.session_cookies(r) == [] and fl.session_deletions(r) == []
    assert jwt_claims(fl.unseal_session(sealed, creds.password)["accessToken"])["sid"] == \
        env["WORKOS_SESSION_ID"]


def test_both_apps_refreshing_the_same_session(site, emulator, make_session, creds, secrets):
    """The Next app refreshes first and spends the refresh token; a request to
    the module still carrying the old cookie (inside its refresh window) is
    served with the still-valid token, and the cookie is left alone: the
    browser holds the Next app's new one."""
    s = make_session("ada@example.com", ttl=45)
    got = nextjs(site, emulator, creds, f"{fl.SESSION}={s.cookie}", buffer=3600)
    assert got["refreshed"] is True
    r = client.request(site, "GET", "/private/env.cgi", headers=client.API,
                       cookie=f"{fl.SESSION}={s.cookie}")
    env = fl.check_identity(r, "ada@example.com")
    assert env["WORKOS_ACCESS_TOKEN_EXPIRES"] == str(s.claims["exp"])
    assert fl.session_cookies(r) == [] and fl.session_deletions(r) == []
    calls = fl.authenticate_calls(emulator, "refresh_token")
    assert [c["status"] for c in calls[-2:]] == [200, 400]     # theirs, then ours refused


def test_a_session_chunked_past_4096_bytes_is_not_seen(site, emulator, make_session, creds,
                                                        secrets):
    """What the README says of sessions past 4096 bytes: the SDKs read only
    the unchunked cookie, so a Next app sees nobody (and sends to sign-in)."""
    old = make_session("many@example.com", expired=True)
    r = client.request(site, "GET", "/private/env.cgi", headers=client.API,
                       cookie=f"{fl.SESSION}={old.cookie}")
    fl.check_identity(r, "many@example.com")
    chunks = fl.session_cookies(r)
    assert len(chunks) >= 2
    for _, v, _ in chunks:
        secrets.add("cookie set by the module", v)
    header = "; ".join(f"{n}={v}" for n, v, _ in chunks)
    got = nextjs(site, emulator, creds, header)
    assert got["user"] is None and got["refreshed"] is False and got["signIn"] is True
