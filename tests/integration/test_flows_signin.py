# SPDX-License-Identifier: Apache-2.0
"""Sign-in through the module over plain HTTP (requests, no browser): the
redirect to AuthKit and every parameter of it, the state cookie, the hosted
page, the callback and the session it sets; the login and sign-up endpoints,
WorkOSConnection / WorkOSOrganization; several tabs at once; and the Node SDK
accepting the cookie the module wrote."""
import re
import urllib.parse

import pytest

import flowlib as fl
from harness import client


def test_full_sign_in_over_plain_http(site, browser, emulator, creds):
    emulator.reset()
    s = fl.SignIn(browser, emulator, "/private/env.cgi?tab=1")

    # The redirect to AuthKit, parameter by parameter.
    p = s.params
    assert set(p) == {"client_id", "redirect_uri", "response_type", "provider", "state",
                      "code_challenge", "code_challenge_method"}
    assert p["client_id"] == creds.client_id
    assert p["redirect_uri"] == f"http://127.0.0.1:{site.port}{fl.CALLBACK}"
    assert p["response_type"] == "code"
    assert p["provider"] == "authkit"
    assert p["code_challenge_method"] == "S256"
    raw = fl.b64url_bytes(p["state"])
    assert len(raw) * 8 >= 128, f"state carries {len(raw) * 8} bits"
    assert s.start.headers.get("Cache-Control") == "no-store"

    # The state cookie: its name, attributes and sealed content.
    (name, value, attrs), = [c for c in client.set_cookies(s.start)
                             if c[0].startswith(fl.STATE_PREFIX)]
    assert name == s.state_name
    assert re.fullmatch(re.escape(fl.STATE_PREFIX) + "[0-9a-f]{16}", name), name
    assert attrs["path"] == "/"  # every sign-in start must see (and bound) them
    assert attrs["max-age"] == "600"
    assert attrs.get("httponly") is True
    assert attrs["samesite"].lower() == "lax"
    state = s.state(creds.password)
    assert set(state) == {"state", "codeVerifier", "returnPathname"}
    assert state["state"] == p["state"]
    assert state["returnPathname"] == "/private/env.cgi?tab=1"
    assert 43 <= len(state["codeVerifier"]) <= 128
    assert p["code_challenge"] == fl.s256(state["codeVerifier"])
    # No session is set before the sign-in finished.
    assert fl.session_cookies(s.start) == []

    # The hosted page, then the callback.
    url = s.choose("ada@example.com")
    assert url.startswith(p["redirect_uri"] + "?")
    done = s.callback()
    assert done.status_code == 302, done.text[:300]
    assert done.headers["Location"] == "/private/env.cgi?tab=1"
    cleared = client.cleared(done, s.state_name)
    assert cleared and cleared["path"] == "/"
    (n, value, attrs), = fl.session_cookies(done)
    assert n == fl.SESSION
    assert attrs["path"] == "/" and attrs.get("httponly") is True
    assert attrs["samesite"].lower() == "lax"
    assert browser.jar.state_names() == []

    # The module exchanged the code with the verifier from the state cookie.
    (call,) = fl.authenticate_calls(emulator, "authorization_code")
    assert call["status"] == 200
    assert call["params"]["code_verifier"] == state["codeVerifier"]
    assert call["params"]["client_secret_ok"] is True
    assert call["params"]["code"] == urllib.parse.parse_qs(
        urllib.parse.urlsplit(url).query)["code"][0]

    # The cookie holds the SDK's shape; its token is the user's.
    sess = fl.unseal_session(value, creds.password)
    ada = fl.user("ada@example.com")
    assert sess["user"]["id"] == ada["id"]
    assert sess["user"]["email"] == ada["email"]
    assert sess["user"]["firstName"] == ada["first_name"]
    assert sess["organizationId"] == fl.ACME
    claims = fl.jwt_claims(sess["accessToken"])
    assert claims["sub"] == ada["id"] and claims["org_id"] == fl.ACME

    # The original page, now signed in.
    r = browser.nav("/private/env.cgi?tab=1")
    env = fl.check_identity(r, "ada@example.com")
    assert env["WORKOS_SESSION_ID"] == claims["sid"]
    assert env["QUERY_STRING"] == "tab=1"
    assert r.headers.get("Cache-Control") == "private, no-cache, no-store, must-revalidate, max-age=0"
    assert "cookie" in r.headers.get("Vary", "").lower()
    assert fl.session_cookies(r) == []
    c = emulator.counters()
    assert (c["authenticate_code"], c["authenticate_refresh"]) == (1, 0)


def test_sdk_accepts_the_cookie_written_at_sign_in(site, browser, emulator, creds):
    s = fl.sign_in(browser, emulator, "/private/env.cgi", "grace@example.com")
    assert s.done.status_code == 302
    cookie = fl.assembled(s.done)
    claims = fl.claims_of(cookie, creds.password)
    grace, m = fl.user("grace@example.com"), fl.membership("grace@example.com")
    a = fl.sdk_authenticate(emulator, creds.password, cookie)
    assert a["authenticated"] is True, a
    assert a["sessionId"] == claims["sid"]
    assert a["organizationId"] == m["organization_id"]
    assert a["role"] == m["role"]
    assert a["permissions"] == m["permissions"]
    assert a["user"]["id"] == grace["id"]
    assert (a["user"]["email"], a["user"]["firstName"], a["user"]["lastName"]) == \
        (grace["email"], grace["first_name"], grace["last_name"])
    assert a["authenticationMethod"] == "Password"
    # The SDK refuses the same cookie under another password (the check can fail).
    other = fl.sdk_authenticate(emulator, creds.old_password, cookie)
    assert other["authenticated"] is False


def test_login_endpoint_remembers_return_to(site, browser, emulator, creds):
    target = "/private/env.cgi?next=1"
    s = fl.SignIn(browser, emulator, fl.LOGIN + "?return_to=" + fl.component(target.encode()))
    assert s.params["provider"] == "authkit"
    assert "screen_hint" not in s.params
    assert s.state(creds.password)["returnPathname"] == target
    s.choose("linus@example.com")
    done = s.callback()
    assert (done.status_code, done.headers["Location"]) == (302, target)
    fl.check_identity(browser.nav(target), "linus@example.com")


def test_login_endpoint_without_return_to_goes_home(site, browser, emulator, creds):
    s = fl.SignIn(browser, emulator, fl.LOGIN)
    assert s.state(creds.password)["returnPathname"] == "/"
    s.choose("solo@example.com")
    done = s.callback()
    assert (done.status_code, done.headers["Location"]) == (302, "/")
    fl.check_identity(browser.nav("/private/env.cgi"), "solo@example.com")


def test_login_return_to_with_slashes_left_raw(site, browser, emulator, creds):
    """Some pages write ?return_to=/path without encoding the slashes."""
    s = fl.SignIn(browser, emulator, fl.LOGIN + "?return_to=/private/env.cgi")
    assert s.state(creds.password)["returnPathname"] == "/private/env.cgi"


def test_signup_endpoint_sends_screen_hint(site, browser, emulator, creds):
    s = fl.SignIn(browser, emulator, fl.SIGNUP + "?return_to=" + fl.component(b"/private/x"))
    assert s.params["screen_hint"] == "sign-up"
    assert s.params["provider"] == "authkit"
    assert s.state(creds.password)["returnPathname"] == "/private/x"
    page = fl.requests.get(s.authorize_url, timeout=30)
    assert "<h1>Sign up</h1>" in page.text
    s.choose("ada@example.com")
    assert s.callback().headers["Location"] == "/private/x"


@pytest.mark.parametrize("directive,param,value", [
    ("WorkOSConnection", "connection_id", "conn_01INTEGRATIONTEST000000000"),
    ("WorkOSOrganization", "organization_id", fl.GLOBEX),
])
def test_connection_or_organization_scopes_sign_in(httpd_factory, emulator, creds, secrets,
                                                      directive, param, value):
    h = fl.new_httpd(httpd_factory, f"signin-{param}")
    h.start(fl.site(h, fl.server_conf(emulator, creds, f"{directive} {value}")))
    b = fl.Browser(h, secrets, creds.password)
    s = fl.SignIn(b, emulator, "/private/env.cgi")
    # A connection is SSO only; an organization keeps AuthKit, scoped to it
    # (authkit-nextjs sends both).
    assert s.params.get("provider") == (None if directive == "WorkOSConnection" else "authkit")
    assert s.params[param] == value
    assert s.params["code_challenge"] == fl.s256(s.state(creds.password)["codeVerifier"])
    s.choose("grace@example.com")
    done = s.callback()
    assert (done.status_code, done.headers["Location"]) == (302, "/private/env.cgi")
    org = fl.GLOBEX if param == "organization_id" else None
    fl.check_identity(b.nav("/private/env.cgi"), "grace@example.com", org)
    h.stop()


def test_three_tabs_completed_out_of_order(site, browser, emulator, creds):
    tabs = [fl.SignIn(browser, emulator, f"/private/env.cgi?tab={i}") for i in range(3)]
    assert len({t.params["state"] for t in tabs}) == 3
    assert browser.jar.state_names() == [t.state_name for t in tabs]
    who = ["ada@example.com", "grace@example.com", "linus@example.com"]
    for i in (2, 0, 1):
        tabs[i].choose(who[i])
    for i in (1, 2, 0):
        done = tabs[i].callback()
        assert done.status_code == 302, (i, done.status_code, done.text[:200])
        assert done.headers["Location"] == f"/private/env.cgi?tab={i}"
        value = fl.assembled(done)
        assert fl.claims_of(value, creds.password)["sub"] == fl.user(who[i])["id"]
        assert tabs[i].state_name not in browser.jar.state_names()
        fl.check_identity(browser.nav("/private/env.cgi"), who[i])
    assert browser.jar.state_names() == []


def test_sixth_sign_in_deletes_the_oldest_state_cookie(site, browser, emulator, creds):
    tabs = []
    for i in range(5):
        tabs.append(fl.SignIn(browser, emulator, f"/private/env.cgi?tab={i}"))
        assert fl.session_deletions(tabs[-1].start) == []
        assert not any(client.is_deletion(a) for _, _, a in client.set_cookies(tabs[-1].start))
    assert len(browser.jar.state_names()) == 5
    sixth = fl.SignIn(browser, emulator, "/private/env.cgi?tab=5")
    deleted = [n for n, _, a in client.set_cookies(sixth.start) if client.is_deletion(a)]
    assert deleted == [tabs[0].state_name]
    (attrs,) = [a for n, _, a in client.set_cookies(sixth.start) if n == tabs[0].state_name]
    assert attrs["path"] == "/"  # every sign-in start must see (and bound) them
    assert browser.jar.state_names() == [t.state_name for t in tabs[1:]] + [sixth.state_name]
    # A seventh start keeps the bound too.
    seventh = fl.SignIn(browser, emulator, "/private/env.cgi?tab=6")
    assert [n for n, _, a in client.set_cookies(seventh.start) if client.is_deletion(a)] == \
        [tabs[1].state_name]
    assert len(browser.jar.state_names()) == 5
    # The evicted sign-in can no longer finish; the newest one can.
    tabs[0].choose("ada@example.com")
    old = tabs[0].callback()
    assert old.status_code == 400 and fl.session_cookies(old) == []
    seventh.choose("ada@example.com")
    done = seventh.callback()
    assert (done.status_code, done.headers["Location"]) == \
        (302, "/private/env.cgi?tab=6")
