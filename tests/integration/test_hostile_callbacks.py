# SPDX-License-Identifier: Apache-2.0
"""The callback and the sign-in start under attack: missing, empty, forged,
garbage, expired and replayed state; repeated parameters; markup and CR/LF
in error and error_description (escaped in the page, never a header);
oversized and malformed parameters; other methods; a flood of sign-in state
cookies.

Every refusal is a small HTML page (400, 401 or 405) with no Location and no
session cookie, and no refused callback reaches WorkOS: the emulator's count
of code exchanges does not move. A real sign-in interrupted by a forged or
malformed callback still completes afterwards."""
import base64
import hashlib
import secrets as pysecrets
import urllib.parse

import pytest

import flowlib as fl
import hostile as H
from harness import client
from harness.cookies import iron_seal, now_ms
from hostile import log_watch  # noqa: F401  (autouse fixture)

UNKNOWN = "You followed a sign-in link this server does not know"
USED = "You opened a sign-in link that was used once already"
MALFORMED = "The sign-in page sent you back with an answer this server cannot read."
NOT_COMPLETED = "Your sign-in could not be completed."


@pytest.fixture(scope="module")
def site(httpd_factory, emulator, creds):
    h = fl.new_httpd(httpd_factory, "hostile-callback")
    return h.start(fl.site(h, fl.server_conf(emulator, creds) + H.LOGLEVEL))


@pytest.fixture(autouse=True)
def no_faults(emulator):
    emulator.clear_fault()
    yield


def page(resp, status, text=None):
    """An error page: this status, HTML, no Location, no session cookie."""
    assert resp.status_code == status, f"{resp.status_code}: {resp.text[:300]}"
    assert resp.headers["Content-Type"].startswith("text/html")
    assert "Location" not in resp.headers
    assert fl.session_cookies(resp) == []
    if text is not None:
        assert text in resp.text, resp.text[:400]
    H.no_leak(resp)
    return resp


def exchanges(emulator):
    return emulator.counters()["authenticate_code"]


def started(browser, emulator, secrets):
    """A sign-in that came back from AuthKit with a code, not yet delivered."""
    s = fl.SignIn(browser, emulator, "/private/env.cgi")
    s.choose("ada@example.com")
    s.q = H.query(s.callback_url)
    H.secret_for_error_log("authorization code", s.q["code"])
    return s


def cb(pairs):
    """The callback path with these query pairs, in order (repeats allowed)."""
    return fl.CALLBACK + "?" + urllib.parse.urlencode(pairs)


def completes(s):
    r = s.callback()
    assert r.status_code == 302 and r.headers["Location"].endswith("/private/env.cgi")
    assert fl.session_cookies(r)


# ---- state --------------------------------------------------------------------

def forged_state():
    return base64.urlsafe_b64encode(pysecrets.token_bytes(32)).rstrip(b"=").decode()


STATE_CASES = ["no-parameters", "code-only", "empty-state", "state-cookie-missing",
               "forged-state", "forged-state-with-its-own-cookie", "garbage-state-cookie",
               "expired-state-cookie", "state-cookie-under-another-name"]


@pytest.mark.parametrize("case", STATE_CASES)
def test_state_refused(browser, emulator, secrets, creds, case):
    s = started(browser, emulator, secrets)
    code = s.q["code"]
    jar = f"{s.state_name}={s.state_cookie}"
    other = forged_state()
    other_name = fl.STATE_PREFIX + hashlib.sha256(other.encode()).hexdigest()[:16]
    before = exchanges(emulator)
    if case == "no-parameters":
        r = browser.nav(fl.CALLBACK)
    elif case == "code-only":
        r = browser.nav(cb([("code", code)]))
    elif case == "empty-state":
        r = browser.nav(cb([("code", code), ("state", "")]))
    elif case == "state-cookie-missing":
        r = s.callback(cookie="")
    elif case == "forged-state":
        r = browser.nav(cb([("code", code), ("state", other)]))
    elif case == "forged-state-with-its-own-cookie":
        # The attacker's own state, sealed with a password of their choosing.
        fake = secrets.add("forged state cookie", iron_seal(
            "attacker-password-attacker-password-0", {"state": other, "codeVerifier": "x" * 43,
                                                     "returnPathname": "/"},
            exp_ms=now_ms() + 600_000))
        r = browser.nav(cb([("code", code), ("state", other)]),
                        cookie=f"{jar}; {other_name}={fake}")
    elif case == "garbage-state-cookie":
        r = s.callback(cookie=f"{s.state_name}=garbage-garbage-garbage")
    elif case == "expired-state-cookie":
        old = secrets.add("expired state cookie", iron_seal(
            creds.password, s.state(creds.password), exp_ms=now_ms() - 120_000))
        r = s.callback(cookie=f"{s.state_name}={old}")
    else:
        # The right sealed state presented under the name of another state.
        r = browser.nav(cb([("code", code), ("state", other)]),
                        cookie=f"{other_name}={s.state_cookie}")
    page(r, 400, UNKNOWN)
    assert exchanges(emulator) == before
    if case not in ("state-cookie-missing", "garbage-state-cookie", "expired-state-cookie"):
        completes(s)


@pytest.mark.parametrize("with_cookie", [True, False], ids=["with-cookie", "without-cookie"])
def test_replayed_state(browser, emulator, secrets, with_cookie):
    s = started(browser, emulator, secrets)
    completes(s)
    before = exchanges(emulator)
    # Without the state cookie (the first use deleted it) the server still
    # knows the state as used, and says so.
    if with_cookie:
        page(s.callback(cookie=f"{s.state_name}={s.state_cookie}"), 400, USED)
    else:
        page(s.callback(cookie=""), 400, USED)
    assert exchanges(emulator) == before


# ---- parameters ----------------------------------------------------------------

PARAM_CASES = {
    "repeated-code": lambda q: [("code", q["code"]), ("state", q["state"]),
                                ("code", q["code"])],
    "repeated-state": lambda q: [("state", q["state"]), ("code", q["code"]),
                                 ("state", q["state"])],
    "repeated-error": lambda q: [("error", "a"), ("state", q["state"]), ("error", "b")],
    "code-5000-bytes": lambda q: [("code", "A" * 5000), ("state", q["state"])],
    "state-5000-bytes": lambda q: [("code", q["code"]), ("state", "S" * 5000)],
    "description-5000-bytes": lambda q: [("error", "access_denied"), ("state", q["state"]),
                                         ("error_description", "D" * 5000)],
}


@pytest.mark.parametrize("case", sorted(PARAM_CASES))
def test_malformed_parameters(browser, emulator, secrets, case):
    s = started(browser, emulator, secrets)
    before = exchanges(emulator)
    page(browser.nav(cb(PARAM_CASES[case](s.q))), 400, MALFORMED)
    assert exchanges(emulator) == before
    completes(s)


@pytest.mark.parametrize("raw", ["state=%00", "code=%zz&state=x", "state=%", "code=%0"],
                         ids=["nul", "bad-escape", "lone-percent", "short-escape"])
def test_undecodable_query(browser, emulator, secrets, raw):
    """Sent as is (requests would re-quote a bad escape as %25)."""
    s = started(browser, emulator, secrets)
    path = fl.CALLBACK + "?" + raw
    pairs = list(client.BROWSER.items()) + [("Cookie", browser.jar.header(fl.CALLBACK))]
    page(H.raw_request(browser.h, path, pairs), 400, MALFORMED)
    completes(s)


def test_code_at_the_length_limit_is_tried_once(browser, emulator, secrets):
    """4096 bytes is accepted as a parameter; WorkOS refuses it: 401, one call."""
    s = started(browser, emulator, secrets)
    before = exchanges(emulator)
    page(browser.nav(cb([("code", "C" * 4096), ("state", s.q["state"])])), 401, NOT_COMPLETED)
    assert exchanges(emulator) == before + 1


def test_code_with_markup_is_not_echoed(browser, emulator, secrets):
    s = started(browser, emulator, secrets)
    r = page(browser.nav(cb([("code", "<script>alert(1)</script>"), ("state", s.q["state"])])),
             401, NOT_COMPLETED)
    assert "<script>alert(1)" not in r.text and "&lt;script" not in r.text


# ---- what AuthKit (or an attacker) says went wrong ----------------------------------

MARKUP = {
    "script": ('<script>alert("x")</script>',
               "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"),
    "img-onerror": ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
    "attribute-break": ('"><svg/onload=alert(1)>', "&quot;&gt;&lt;svg/onload=alert(1)&gt;"),
    "entity-smuggling": ("&lt;script&gt;", "&amp;lt;script&amp;gt;"),
}


@pytest.mark.parametrize("field", ["error_description", "error"])
@pytest.mark.parametrize("kind", sorted(MARKUP))
def test_markup_in_errors_is_escaped(browser, emulator, secrets, field, kind):
    markup, escaped = MARKUP[kind]
    s = fl.SignIn(browser, emulator, "/private/env.cgi")
    pairs = [("error", markup if field == "error" else "access_denied"),
             ("state", s.params["state"])]
    if field == "error_description":
        pairs.append(("error_description", markup))
    r = page(browser.nav(cb(pairs)), 401, escaped)
    assert markup not in r.text
    for tag in ("<script", "<img", "<svg"):
        assert tag not in r.text.lower()


def test_markup_with_a_forged_state_is_not_echoed(browser, emulator):
    fl.SignIn(browser, emulator, "/private/env.cgi")
    r = page(browser.nav(cb([("error", "access_denied"), ("state", forged_state()),
                             ("error_description", "<script>alert(1)</script>")])),
             400, UNKNOWN)
    assert "alert(1)" not in r.text


@pytest.mark.expect_log(r"WOS00506")     # the escaped text holds "[error]"
def test_cr_lf_in_error_is_neither_a_header_nor_a_log_line(site, browser, emulator):
    s = fl.SignIn(browser, emulator, "/private/env.cgi")
    size = site.log_size()
    path = (fl.CALLBACK + "?state=" + urllib.parse.quote(s.params["state"])
            + "&error=x%0d%0aSet-Cookie:%20injected=1%0d%0a[error]%20fake")
    r = page(browser.nav(path), 401)
    assert all(n != "injected" for n, _, _ in client.set_cookies(r))
    assert "injected" not in " ".join(f"{k}: {v}" for k, v in r.headers.items())
    logged = site.log_since(size)
    assert "WOS00506" in logged
    assert not any(line.startswith("Set-Cookie") or line.startswith("[error] fake")
                   for line in logged.splitlines())


# ---- methods and the sign-in start ------------------------------------------------

@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS"])
def test_other_methods_are_405(site, browser, emulator, secrets, method):
    s = started(browser, emulator, secrets)
    before = exchanges(emulator)
    r = browser.request(fl.local_path(site, s.callback_url), client.BROWSER, method=method)
    assert r.status_code == 405
    assert fl.session_cookies(r) == []
    assert exchanges(emulator) == before
    completes(s)


def test_405_names_get_in_allow(site):
    """RFC 9110 15.5.6: a 405 lists the methods the resource supports."""
    r = client.request(site, "POST", fl.CALLBACK, headers=client.BROWSER)
    assert r.status_code == 405
    allowed = [m.strip() for m in r.headers["Allow"].split(",")]
    assert "GET" in allowed and "POST" not in allowed, r.headers["Allow"]


def test_a_flood_of_state_cookies_is_bounded(site, emulator):
    """30 sign-ins in flight: the start deletes 20 (at most four times the limit of
    5 per answer) and sets one; it never answers a flood with a flood."""
    names = [f"{fl.STATE_PREFIX}{i:016x}" for i in range(30)]
    cookie = "; ".join(f"{n}=v" for n in names)
    r = H.cookie_request(site, fl.LOGIN, cookie, "browser")
    assert r.status_code == 302
    assert r.headers["Location"].startswith(f"{emulator.url}/user_management/authorize?")
    assert H.deleted(r) == set(names[:20])
    new = [n for n, _, a in client.set_cookies(r)
           if n.startswith(fl.STATE_PREFIX) and not client.is_deletion(a)]
    assert len(new) == 1 and new[0] not in names
