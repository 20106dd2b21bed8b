# SPDX-License-Identifier: Apache-2.0
"""The callback under attack and under failure: forged, replayed, missing,
expired and mismatched state; AuthKit errors (with markup in them); repeated
and oversized parameters; a failed code exchange; WorkOS unreachable. Never
a 500, and never a session cookie on any of these answers."""
import secrets as pysecrets
import socket
import time
import urllib.parse

import pytest

import flowlib as fl
from harness import client
from harness.cookies import b64url, iron_seal, now_ms


pytestmark = pytest.mark.usefixtures("no_faults")


def refused(resp, status):
    """An error page with this status and no session cookie set."""
    assert resp.status_code == status, f"{resp.status_code}: {resp.text[:300]}"
    assert fl.session_cookies(resp) == [], "a session cookie was set"
    assert "Location" not in resp.headers
    assert resp.headers["Content-Type"].startswith("text/html")
    return resp


def query(url):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def callback_path(**params):
    return fl.CALLBACK + "?" + urllib.parse.urlencode(params)


def started(browser, emulator, email="ada@example.com"):
    """A sign-in that reached AuthKit and came back with a code (not yet delivered)."""
    s = fl.SignIn(browser, emulator, "/private/env.cgi")
    s.choose(email)
    return s


def codes_exchanged(emulator):
    return emulator.counters()["authenticate_code"]


# ---- state ----------------------------------------------------------------

def test_forged_state_parameter(browser, emulator):
    s = started(browser, emulator)
    q = query(s.callback_url)
    before = codes_exchanged(emulator)
    forged = b64url(pysecrets.token_bytes(32))
    refused(browser.nav(callback_path(code=q["code"], state=forged)), 400)
    assert codes_exchanged(emulator) == before
    # The real sign-in still works afterwards (its cookie was not touched).
    assert s.state_name in browser.jar.state_names()
    assert s.callback().status_code == 302


def test_missing_state_cookie(browser, emulator):
    s = started(browser, emulator)
    before = codes_exchanged(emulator)
    refused(s.callback(cookie=""), 400)
    assert codes_exchanged(emulator) == before


def test_missing_state_parameter(browser, emulator):
    s = started(browser, emulator)
    refused(browser.nav(callback_path(code=query(s.callback_url)["code"])), 400)
    refused(browser.nav(callback_path(code=query(s.callback_url)["code"], state="")), 400)


def test_state_cookie_of_another_sign_in(browser, emulator, creds):
    a = started(browser, emulator)
    b = started(browser, emulator)
    before = codes_exchanged(emulator)
    # A's callback with only B's cookie (under its own name)...
    refused(a.callback(cookie=f"{b.state_name}={b.state_cookie}"), 400)
    # ...and with B's sealed state presented under A's cookie name.
    refused(a.callback(cookie=f"{a.state_name}={b.state_cookie}"), 400)
    assert codes_exchanged(emulator) == before


def test_state_cookie_sealed_with_another_password(browser, emulator, creds):
    s = started(browser, emulator)
    state = s.state(creds.password)
    forged = iron_seal("x" * 40, state, exp_ms=now_ms() + 600_000)
    refused(s.callback(cookie=f"{s.state_name}={forged}"), 400)


def test_expired_state_cookie(browser, emulator, creds):
    s = started(browser, emulator)
    state = s.state(creds.password)
    # Sealed with the right password, expired two minutes ago (beyond the 60 s skew).
    old = iron_seal(creds.password, state, exp_ms=now_ms() - 120_000)
    before = codes_exchanged(emulator)
    refused(s.callback(cookie=f"{s.state_name}={old}"), 400)
    assert codes_exchanged(emulator) == before
    # The same content, unexpired, is accepted: only the expiry differed.
    fresh = iron_seal(creds.password, state, exp_ms=now_ms() + 600_000)
    assert s.callback(cookie=f"{s.state_name}={fresh}").status_code == 302


def test_replayed_callback(browser, emulator):
    s = started(browser, emulator)
    first = s.callback()
    assert first.status_code == 302 and fl.session_cookies(first)
    before = codes_exchanged(emulator)
    # The same response again, state cookie included (as an attacker who saw both).
    again = s.callback(cookie=f"{s.state_name}={s.state_cookie}")
    refused(again, 400)
    assert codes_exchanged(emulator) == before
    # And without the cookie.
    refused(s.callback(cookie=""), 400)


# ---- what AuthKit sent back --------------------------------------------------

def test_cancelled_sign_in_is_401_page(browser, emulator):
    s = fl.SignIn(browser, emulator, "/private/env.cgi")
    s.choose(None, cancel=True)
    assert query(s.callback_url)["error"] == "access_denied"
    before = codes_exchanged(emulator)
    r = refused(s.callback(), 401)
    assert "The user cancelled the sign-in." in r.text
    assert codes_exchanged(emulator) == before


@pytest.mark.parametrize("markup,escaped", [
    ('<img src=x onerror=alert(1)>', "&lt;img src=x onerror=alert(1)&gt;"),
    ('<script>alert("x")</script>', "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"),
], ids=["img", "script"])
def test_error_description_markup_is_escaped(browser, emulator, markup, escaped):
    s = fl.SignIn(browser, emulator, "/private/env.cgi")
    r = refused(browser.nav(callback_path(error="access_denied", error_description=markup,
                                          state=s.params["state"])), 401)
    assert "<script" not in r.text.lower() and "<img" not in r.text.lower()
    assert escaped in r.text


def test_error_without_description(browser, emulator):
    s = fl.SignIn(browser, emulator, "/private/env.cgi")
    r = refused(browser.nav(callback_path(error="<i>login_required",
                                          state=s.params["state"])), 401)
    assert "<i>" not in r.text and "&lt;i&gt;login_required" in r.text


@pytest.mark.parametrize("repeated", ["code", "state"])
def test_repeated_parameter(browser, emulator, repeated):
    s = started(browser, emulator)
    q = query(s.callback_url)
    pairs = [("code", q["code"]), ("state", q["state"]), (repeated, q[repeated])]
    before = codes_exchanged(emulator)
    refused(browser.nav(fl.CALLBACK + "?" + urllib.parse.urlencode(pairs)), 400)
    assert codes_exchanged(emulator) == before
    # The sign-in can still finish: nothing was consumed.
    assert s.callback().status_code == 302


def test_huge_code(browser, emulator):
    s = started(browser, emulator)
    before = codes_exchanged(emulator)
    refused(browser.nav(callback_path(code="A" * 5000, state=s.params["state"])), 400)
    assert codes_exchanged(emulator) == before


def test_missing_code(browser, emulator):
    s = started(browser, emulator)
    refused(browser.nav(callback_path(state=s.params["state"])), 400)


def test_post_to_callback_is_refused(site, browser, emulator):
    s = started(browser, emulator)
    r = browser.request(fl.local_path(site, s.callback_url), client.BROWSER, method="POST")
    assert r.status_code == 405 and fl.session_cookies(r) == []
    assert set(r.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD"}


# ---- the code exchange --------------------------------------------------------

@pytest.mark.parametrize("fault", [
    {"error": "invalid_grant"},
    {"error": "mfa_enrollment"},
    {"status": 400, "body": "not json {"},
])
def test_code_exchange_refused_is_401(browser, emulator, fault):
    s = started(browser, emulator)
    emulator.fault(endpoint="code", count=1, **fault)
    r = refused(s.callback(), 401)
    assert "Sign-in failed" in r.text


@pytest.mark.expect_log(r"WOS00508")
def test_code_exchange_with_a_bad_api_key_is_401_and_logged(site, browser, emulator):
    s = started(browser, emulator)
    emulator.fault(endpoint="code", count=1, status=401, body={"message": "Unauthorized"})
    refused(s.callback(), 401)
    assert "WOS00508" in site.log_text()


@pytest.mark.parametrize("fault", [
    {"status": 503, "retry_after": 3},
    {"status": 429, "retry_after": 1},
    {"status": 500},
    {"drop": True},
])
def test_code_exchange_unavailable_is_503(browser, emulator, fault):
    s = started(browser, emulator)
    emulator.fault(endpoint="code", count=1, **fault)
    r = refused(s.callback(), 503)
    assert "unavailable" in r.text


def test_workos_down_is_503(httpd_factory, emulator, creds, secrets):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]          # nothing listens here once closed
    h = fl.new_httpd(httpd_factory, "callback-down")
    conf = fl.server_conf(emulator, creds).replace(
        f"WorkOSAPIBaseURL {emulator.url}", f"WorkOSAPIBaseURL http://127.0.0.1:{dead}")
    h.start(fl.site(h, conf))
    b = fl.Browser(h, secrets, creds.password)
    start = b.nav("/private/env.cgi")
    assert start.status_code == 302
    base, params = client.location_query(start)
    assert base == f"http://127.0.0.1:{dead}/user_management/authorize"
    # The hosted page is the emulator's; only the module's API calls go nowhere.
    authorize = emulator.url + "/user_management/authorize?" + urllib.parse.urlencode(params)
    back = fl.sign_in_at(emulator, authorize, "ada@example.com")
    t0 = time.time()
    r = refused(b.nav(fl.local_path(h, back)), 503)
    assert time.time() - t0 < 10
    assert "unavailable" in r.text
    h.stop()
