# SPDX-License-Identifier: Apache-2.0
"""Requests without a session: browsers are sent to sign in (302 to the
emulator's authorize endpoint with PKCE), everything else gets 401 with
WWW-Authenticate; WorkOSUnauthAction 401, 403 and pass; AuthType in any case;
authenticated responses are private and vary on Cookie."""
import re

import pytest

from harness.client import (API, BROWSER, api, browser, cgi_env, cleared, get, location_query,
                            request)

WORKOS_VARS = re.compile(r"^(WORKOS_|HTTP_X_WORKOS_)")


@pytest.fixture(scope="module")
def site(httpd_factory, wos_server_conf):
    h = httpd_factory()
    loc = h.cgi_location
    conf = (wos_server_conf
            + loc("/login/", "AuthType WorkOS", "Require valid-user")
            + loc("/named/", "AuthType WorkOS", 'AuthName "Staff Area"', "Require valid-user")
            + loc("/u401/", "AuthType WorkOS", "WorkOSUnauthAction 401", "Require valid-user")
            + loc("/u403/", "AuthType WorkOS", "WorkOSUnauthAction 403", "Require valid-user")
            + loc("/ulogin/", "AuthType WorkOS", "WorkOSUnauthAction login",
                  "Require valid-user")
            + loc("/pass/", "AuthType WorkOS", "WorkOSUnauthAction pass", "Require all granted")
            + loc("/lower/", "AuthType workos", "Require valid-user")
            + loc("/upper/", "AuthType WORKOS", "Require valid-user")
            + loc("/public/", "Require all granted"))
    return h.start(conf)


def assert_sign_in_redirect(r, site, emulator, creds):
    assert r.status_code == 302, f"{r.status_code}: {r.text[:200]}"
    url, q = location_query(r)
    assert url == f"{emulator.url}/user_management/authorize"
    assert q["client_id"] == creds.client_id
    assert q["redirect_uri"] == f"{site.url}/auth/callback"
    assert q["response_type"] == "code"
    assert q["provider"] == "authkit"
    assert q["code_challenge_method"] == "S256"
    # S256 challenge: base64url of a SHA-256 digest, no padding.
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", q["code_challenge"]), q["code_challenge"]
    assert len(q["state"]) >= 16
    assert "WWW-Authenticate" not in r.headers
    return q


def test_browser_get_is_redirected_to_sign_in(site, emulator, creds):
    r = browser(site, "/login/env.cgi")
    assert_sign_in_redirect(r, site, emulator, creds)


def test_each_redirect_has_its_own_state_and_challenge(site, emulator, creds):
    a = assert_sign_in_redirect(browser(site, "/login/env.cgi"), site, emulator, creds)
    b = assert_sign_in_redirect(browser(site, "/login/env.cgi"), site, emulator, creds)
    assert a["state"] != b["state"]
    assert a["code_challenge"] != b["code_challenge"]


def test_browser_head_is_redirected(site, emulator, creds):
    r = request(site, "HEAD", "/login/env.cgi", headers=BROWSER)
    assert_sign_in_redirect(r, site, emulator, creds)


def test_browser_without_sec_fetch_headers_is_redirected(site, emulator, creds):
    """Older browsers send no Sec-Fetch-Mode: Accept text/html alone is a browser."""
    r = get(site, "/login/env.cgi", headers={"Accept": "text/html"})
    assert_sign_in_redirect(r, site, emulator, creds)


def test_explicit_login_action_behaves_as_default(site, emulator, creds):
    assert_sign_in_redirect(browser(site, "/ulogin/env.cgi"), site, emulator, creds)
    assert api(site, "/ulogin/env.cgi").status_code == 401


NOT_BROWSER = {
    "xhr": ("GET", dict(BROWSER, **{"X-Requested-With": "XMLHttpRequest"})),
    "xhr-lowercase": ("GET", dict(BROWSER, **{"X-Requested-With": "xmlhttprequest"})),
    "fetch-cors": ("GET", dict(BROWSER, **{"Sec-Fetch-Mode": "cors"})),
    "fetch-no-cors": ("GET", dict(BROWSER, **{"Sec-Fetch-Mode": "no-cors"})),
    "fetch-same-origin": ("GET", dict(BROWSER, **{"Sec-Fetch-Mode": "same-origin"})),
    "accept-json": ("GET", API),
    "accept-any": ("GET", {"Accept": "*/*"}),
    "no-accept": ("GET", {}),
    "post-from-browser": ("POST", BROWSER),
    "put-from-browser": ("PUT", BROWSER),
    "delete-from-browser": ("DELETE", BROWSER),
}


@pytest.mark.parametrize("kind", sorted(NOT_BROWSER))
def test_non_browser_requests_get_401(site, kind):
    method, headers = NOT_BROWSER[kind]
    r = request(site, method, "/login/env.cgi", headers=headers)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'WorkOS realm="WorkOS"'
    assert "Location" not in r.headers


def test_401_realm_is_the_auth_name(site):
    r = api(site, "/named/env.cgi")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'WorkOS realm="Staff Area"'


@pytest.mark.parametrize("client", ["browser", "api"])
def test_unauth_action_401(site, client):
    r = (browser if client == "browser" else api)(site, "/u401/env.cgi")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'WorkOS realm="WorkOS"'
    assert "Location" not in r.headers


@pytest.mark.parametrize("client", ["browser", "api"])
def test_unauth_action_403(site, client):
    r = (browser if client == "browser" else api)(site, "/u403/env.cgi")
    assert r.status_code == 403
    assert "Location" not in r.headers


@pytest.mark.parametrize("client", ["browser", "api"])
def test_unauth_action_pass_lets_anonymous_through_without_identity(site, client):
    r = (browser if client == "browser" else api)(site, "/pass/env.cgi")
    env = cgi_env(r)
    assert "REMOTE_USER" not in env
    assert "AUTH_TYPE" not in env
    assert sorted(k for k in env if WORKOS_VARS.match(k)) == []


def test_unauth_action_pass_still_sets_identity_from_a_valid_cookie(site, make_session):
    s = make_session("grace@example.com")
    env = cgi_env(api(site, "/pass/env.cgi", session=s))
    assert env["WORKOS_USER_EMAIL"] == "grace@example.com"
    assert env["AUTH_TYPE"] == "WorkOS"
    assert env["WORKOS_USER_ID"] == s.user["id"]


def test_unauth_action_pass_with_a_bad_cookie_is_anonymous_and_clears_it(site):
    r = api(site, "/pass/env.cgi", cookie="wos-session=Fe26.2*1*garbage")
    env = cgi_env(r)
    assert "REMOTE_USER" not in env
    assert sorted(k for k in env if WORKOS_VARS.match(k)) == []
    assert cleared(r) is not None


@pytest.mark.parametrize("path", ["/lower/env.cgi", "/upper/env.cgi"])
def test_auth_type_is_case_insensitive(site, make_session, path):
    assert api(site, path).status_code == 401
    s = make_session("ada@example.com")
    assert cgi_env(api(site, path, session=s))["WORKOS_USER_EMAIL"] == "ada@example.com"


def test_authenticated_responses_are_private_and_vary_on_cookie(site, make_session):
    s = make_session("ada@example.com")
    r = api(site, "/login/env.cgi", session=s)
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "private, no-cache, no-store, must-revalidate, max-age=0"
    vary = [v.strip().lower() for v in r.headers.get("Vary", "").split(",")]
    assert "cookie" in vary


def test_locations_without_the_module_are_untouched(site, make_session):
    r = browser(site, "/public/env.cgi")
    env = cgi_env(r)
    assert "REMOTE_USER" not in env
    assert "Cache-Control" not in r.headers
    s = make_session("ada@example.com")
    r = api(site, "/public/env.cgi", session=s)
    assert "REMOTE_USER" not in cgi_env(r)
    assert r.raw.headers.getlist("Set-Cookie") == []
