"""Organization switch (refresh into another organization, then back to the
page) and logout (cookie cleared, browser sent to WorkOS's logout with the
session id, which works after the access token expired)."""
import pytest
import requests

import flowlib as fl
from harness import client


@pytest.fixture(scope="module")
def site(httpd_factory, emulator, creds):
    h = fl.new_httpd(httpd_factory, "org-logout")
    h.start(fl.site(h, fl.server_conf(emulator, creds)))
    return h


def with_session(browser, session):
    browser.jar.items[fl.SESSION] = (session.cookie, "/")
    return browser


# ---- organization switch ----------------------------------------------------------

@pytest.mark.expect_log(r"AH01631: user grace@example\.com: authorization failure")
def test_switch_to_the_organization_where_the_user_is_admin(site, browser, emulator, creds,
                                                            make_session):
    grace = "grace@example.com"
    target = fl.admin_org(grace)
    s = make_session(grace)
    assert s.claims["org_id"] != target and s.claims["role"] == "member"
    with_session(browser, s)
    assert browser.nav("/admin/env.cgi").status_code == 403
    before = emulator.counters()["authenticate_refresh"]

    r = browser.switch(target, "/admin/env.cgi")
    assert r.status_code == 302, r.text[:300]
    assert r.headers["Location"] == site.url + "/admin/env.cgi"
    assert emulator.counters()["authenticate_refresh"] == before + 1
    (call,) = fl.authenticate_calls(emulator, "refresh_token")[-1:]
    assert call["params"]["organization_id"] == target
    value = fl.assembled(r)
    new = fl.unseal_session(value, creds.password)
    claims = fl.jwt_claims(new["accessToken"])
    assert (new["organizationId"], claims["org_id"], claims["role"]) == (target, target, "admin")
    assert claims["sid"] == s.claims["sid"]

    env = fl.check_identity(browser.nav("/admin/env.cgi"), grace, target)
    assert env["WORKOS_ROLE"] == "admin"
    a = fl.sdk_authenticate(emulator, creds.password, value)
    assert (a["authenticated"], a["organizationId"], a["role"]) == (True, target, "admin")


def test_switch_without_return_to_goes_home(site, browser, make_session):
    with_session(browser, make_session("ada@example.com"))
    r = browser.switch(fl.GLOBEX)
    assert (r.status_code, r.headers["Location"]) == (302, site.url + "/")
    fl.check_identity(browser.nav("/private/env.cgi"), "ada@example.com", fl.GLOBEX)


def test_switch_to_an_organization_of_which_the_user_is_not_a_member(site, browser, emulator,
                                                                     make_session):
    linus = make_session("linus@example.com")
    assert fl.membership("linus@example.com", fl.ACME) is None
    with_session(browser, linus)
    r = browser.switch(fl.ACME, "/admin/env.cgi")
    assert r.status_code == 403
    assert "Location" not in r.headers
    assert r.headers["Content-Type"].startswith("text/html")
    assert "Organization switch refused" in r.text
    assert fl.session_cookies(r) == []
    # The refused switch spent nothing: the session goes on in its organization.
    fl.check_identity(browser.nav("/private/env.cgi"), "linus@example.com")


def test_switch_without_a_session(site, browser, emulator, creds):
    form = {"organization_id": fl.GLOBEX, "return_to": "/private/env.cgi"}
    r = browser.submit(fl.SWITCH, form, headers={"Accept": "application/json"})
    assert r.status_code == 401 and fl.session_cookies(r) == []
    # A browser's form is sent to sign in, and comes back to the form's page.
    r = browser.switch(fl.GLOBEX, "/private/env.cgi")
    fl.authorize_params(r, emulator)
    (state,) = browser.jar.state_names()
    assert fl.unseal_session(browser.jar.value(state), creds.password)["returnPathname"] \
        == "/private/env.cgi"
    back = fl.sign_in_at(emulator, r.headers["Location"], "ada@example.com")
    done = browser.nav(fl.local_path(site, back))
    assert done.headers["Location"] == site.url + "/private/env.cgi"
    r = browser.switch(fl.GLOBEX, "/private/env.cgi")
    assert (r.status_code, r.headers["Location"]) == (302, site.url + "/private/env.cgi")
    fl.check_identity(browser.nav("/private/env.cgi"), "ada@example.com", fl.GLOBEX)


def test_switch_without_organization_id_is_400(site, browser, make_session):
    with_session(browser, make_session("ada@example.com"))
    r = browser.submit(fl.SWITCH, {"return_to": "/"})
    assert r.status_code == 400 and fl.session_cookies(r) == []


# ---- logout -------------------------------------------------------------------------

def logout_target(site, emulator, resp, sid):
    assert resp.status_code == 302
    base, params = client.location_query(resp)
    assert base == emulator.url + "/user_management/sessions/logout"
    assert params == {"session_id": sid, "return_to": site.url + fl.BYE}


@pytest.mark.parametrize("expired", [False, True])
def test_logout_with_a_session(site, browser, emulator, make_session, creds, expired):
    s = make_session("ada@example.com", expired=expired)
    with_session(browser, s)
    r = browser.nav(fl.LOGOUT)
    logout_target(site, emulator, r, s.claims["sid"])
    deleted = client.cleared(r, fl.SESSION)
    assert deleted is not None and deleted["path"] == "/"
    assert fl.session_cookies(r) == []
    assert browser.jar.names(fl.SESSION) == []
    # Following it ends the session at WorkOS: its refresh token is now refused.
    bye = requests.get(r.headers["Location"], allow_redirects=False, timeout=30)
    assert (bye.status_code, bye.headers["Location"]) == (302, site.url + fl.BYE)
    if expired:
        again = client.request(site, "GET", "/private/env.cgi", headers=client.API,
                               cookie=f"{fl.SESSION}={s.cookie}")
        assert again.status_code == 401


def test_logout_after_a_real_sign_in(site, browser, emulator, creds):
    signed = fl.sign_in(browser, emulator, "/private/env.cgi", "grace@example.com")
    sid = fl.claims_of(fl.assembled(signed.done), creds.password)["sid"]
    logout_target(site, emulator, browser.nav(fl.LOGOUT), sid)
    r = browser.api("/private/env.cgi")
    assert r.status_code == 401


def test_logout_without_a_session(site, browser):
    r = browser.nav(fl.LOGOUT)
    assert (r.status_code, r.headers["Location"]) == (302, site.url + fl.BYE)
    assert [n for n, _, _ in client.set_cookies(r) if n.startswith(fl.SESSION)] == []


@pytest.mark.parametrize("garbage", ["garbage", "Fe26.2*1*x*y*z**a*b~2", "%00%0d%0a"])
def test_logout_with_a_garbage_cookie(site, browser, garbage):
    r = browser.nav(fl.LOGOUT, cookie=f"{fl.SESSION}={garbage}")
    assert (r.status_code, r.headers["Location"]) == (302, site.url + fl.BYE)
    assert client.cleared(r, fl.SESSION) is not None
    assert fl.session_cookies(r) == []


def test_logout_with_an_absolute_return_to(httpd_factory, emulator, creds, make_session,
                                           secrets):
    h = fl.new_httpd(httpd_factory, "logout-absolute")
    conf = fl.server_conf(emulator, creds).replace(
        f"WorkOSLogoutReturnTo {fl.BYE}", "WorkOSLogoutReturnTo https://www.example.com/bye")
    h.start(fl.site(h, conf))
    s = make_session("ada@example.com")
    r = client.request(h, "GET", fl.LOGOUT, headers=client.BROWSER,
                       cookie=f"{fl.SESSION}={s.cookie}")
    _, params = client.location_query(r)
    assert params == {"session_id": s.claims["sid"], "return_to": "https://www.example.com/bye"}
    h.stop()
