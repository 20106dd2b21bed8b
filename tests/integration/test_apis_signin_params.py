# SPDX-License-Identifier: Apache-2.0
"""Per-request sign-in through a real httpd: WorkOSLoginURI's login_hint,
organization_id, screen_hint and prompt reach the emulator's authorize
endpoint (checked in what the emulator received), bad values are refused
with a 400, and WorkOSLogoutURI's return_to is kept only under the sign-in
redirect policy (the redirect vector set), else WorkOSLogoutReturnTo."""
import urllib.parse

import pytest
import requests

import flowlib as fl
from flowlib import clean_emulator  # noqa: F401  (autouse fixture)
from harness import client

BAD = fl.read_vectors("bad.txt")
GOOD = fl.read_vectors("good.txt")
ALLOW = [p.decode("ascii") for p in fl.read_vectors("allow.txt")]
ENCODINGS = {"component": fl.component,
             "raw-slash": lambda p: urllib.parse.quote(p, safe="/")}


@pytest.fixture(scope="module")
def site(httpd_factory, emulator, creds):
    h = fl.new_httpd(httpd_factory, "signin-params")
    allow = "WorkOSRedirectAllow " + " ".join(f'"{o}"' for o in ALLOW)
    return h.start(fl.site(h, fl.server_conf(emulator, creds, allow)))


def received(emulator, start):
    """Follow the module's redirect to the emulator; what its authorize endpoint got."""
    page = requests.get(start.headers["Location"], timeout=30)
    assert page.status_code == 200, page.text[:300]
    return emulator.ctl("authorize_requests", method="GET")["requests"][-1]


def start(browser, path, **params):
    return browser.nav(path + "?" + urllib.parse.urlencode(params))


def test_hints_reach_authkit(site, browser, emulator):
    r = start(browser, fl.LOGIN, login_hint="ada+test@example.com", screen_hint="sign-up",
              prompt="login", return_to="/private/env.cgi", utm_source="newsletter")
    q = received(emulator, r)
    assert q["login_hint"] == "ada+test@example.com"
    assert q["screen_hint"] == "sign-up" and q["prompt"] == "login"
    assert q["provider"] == "authkit" and "organization_id" not in q
    assert "utm_source" not in q and "return_to" not in q


def test_plain_login_passes_no_hints(site, browser, emulator):
    q = received(emulator, browser.nav(fl.LOGIN))
    assert not {"login_hint", "screen_hint", "prompt", "organization_id"} & set(q)


def test_signup_endpoint_keeps_sign_up(site, browser, emulator):
    q = received(emulator, start(browser, fl.SIGNUP, login_hint="new@example.com",
                                 screen_hint="sign-in"))
    assert q["screen_hint"] == "sign-up" and q["login_hint"] == "new@example.com"


def test_organization_id_signs_in_to_that_organization(site, browser, emulator, creds):
    s = fl.SignIn(browser, emulator, LOGIN_ORG)
    q = received(emulator, s.start)
    # Both, as authkit-nextjs sends them: AuthKit, scoped to that organization.
    assert q["organization_id"] == fl.GLOBEX and q["provider"] == "authkit"
    s.choose("grace@example.com")
    s.callback()
    fl.check_identity(browser.nav("/private/env.cgi"), "grace@example.com", fl.GLOBEX)


LOGIN_ORG = fl.LOGIN + "?organization_id=" + fl.GLOBEX + "&return_to=/private/env.cgi"


@pytest.mark.parametrize("params", [
    {"login_hint": "ada @example.com"}, {"login_hint": "ada\n@example.com"},
    {"login_hint": "a" * 321}, {"login_hint": ""},
    {"organization_id": "acme"}, {"organization_id": "org_"},
    {"organization_id": "org_01ACME-00"}, {"organization_id": "org_" + "A" * 61},
    {"screen_hint": "register"}, {"prompt": "none"}, {"prompt": "consent"},
])
def test_bad_hints_are_refused(site, browser, emulator, params):
    r = start(browser, fl.LOGIN, **params)
    assert r.status_code == 400, r.text[:300]
    assert "Location" not in r.headers and browser.jar.state_names() == []
    assert emulator.counters()["authorize"] == 0


def test_repeated_hint_is_refused(site, browser):
    r = browser.nav(fl.LOGIN + "?login_hint=a@example.com&login_hint=b@example.com")
    assert r.status_code == 400


def test_longest_hints_pass(site, browser, emulator):
    hint = "a" * 308 + "@example.com"
    org = "org_" + "A" * 60
    q = received(emulator, start(browser, fl.LOGIN, login_hint=hint))
    assert q["login_hint"] == hint
    r = start(browser, fl.LOGIN, organization_id=org)
    assert client.location_query(r)[1]["organization_id"] == org


# ---- logout return_to ---------------------------------------------------------

def logout(site, query, session=None):
    return client.browser(site, fl.LOGOUT + "?return_to=" + query, session=session)


@pytest.mark.parametrize("encoding", list(ENCODINGS))
@pytest.mark.parametrize("kind", ["bad", "good"])
def test_logout_return_to_payloads(site, kind, encoding):
    problems = []
    for payload in (BAD if kind == "bad" else GOOD):
        r = logout(site, ENCODINGS[encoding](payload))
        text = payload.decode("ascii", "replace")
        want = site.url + fl.BYE
        if kind == "good":
            want = site.url + text if text.startswith("/") else text
        if r.status_code != 302 or r.headers.get("Location") != want:
            problems.append(f"{payload!r}: {r.status_code} {r.headers.get('Location')!r}")
    assert not problems, "\n".join(problems[:40])


def test_logout_return_to_with_a_session(site, emulator, make_session):
    s = make_session("ada@example.com")
    r = logout(site, fl.component(b"/private/env.cgi?x=1"), session=s)
    base, params = client.location_query(r)
    assert base == emulator.url + "/user_management/sessions/logout"
    assert params == {"session_id": s.claims["sid"],
                      "return_to": site.url + "/private/env.cgi?x=1"}
    r = logout(site, fl.component(b"https://evil.example/"), session=make_session())
    assert client.location_query(r)[1]["return_to"] == site.url + fl.BYE


def test_logout_return_to_allowed_origin(site):
    target = ALLOW[0] + "/after"
    r = logout(site, fl.component(target.encode()))
    assert r.headers["Location"] == target
