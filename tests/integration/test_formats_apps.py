# SPDX-License-Identifier: Apache-2.0
"""WorkOSSessionFormat ruby|python with real apps behind the same httpd: a
Flask app (apps/flask_app.py) and a Sinatra app (apps/sinatra_app.rb), each
keeping its session in `wos_session` as its WorkOS SDK does (the SDK's seal,
unseal, authenticate and refresh steps on the SDK's own crypto library),
proxied from the httpd that protects /static/ and /private/ with the module.

One sign-in: a user signed in by the app is recognised by the module and vice
versa; whichever side meets an expired access token refreshes it and the other
reads the new cookie without refreshing again; logout from either side ends
both. Expected identities come from tests/emulator/users.json."""
import base64
import json
import os
import re
import subprocess
import threading
import urllib.parse

import pytest
import requests
from cryptography.fernet import Fernet

import flowlib as fl
from harness import client
from harness.cookies import jwt_claims
from harness.httpd import free_port, wait_port

APPS = fl.HERE / "apps"
COOKIE = "wos_session"
RUBY_PASSWORD = "ruby-" + base64.urlsafe_b64encode(os.urandom(30)).decode()


class App:
    """One app process on 127.0.0.1, stopped (by its own pid) at the end."""

    def __init__(self, fmt, emulator, creds, public_url, password):
        self.fmt, self.port = fmt, free_port()
        self.prefix = "/py" if fmt == "python" else "/rb"
        env = dict(os.environ, WOS_APP_API_KEY=creds.api_key, WOS_APP_COOKIE_PASSWORD=password)
        if fmt == "python":
            cmd = ["/usr/bin/python3", str(APPS / "flask_app.py"), "--port", str(self.port),
                   "--prefix", self.prefix, "--api", emulator.url, "--client-id",
                   creds.client_id, "--public-url", public_url]
        else:
            cmd = ["/usr/bin/ruby", str(APPS / "sinatra_app.rb"), str(self.port), self.prefix,
                   emulator.url, creds.client_id, public_url]
        self.log = open(fl.HERE / f".app-{fmt}-{self.port}.log", "w")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        if not wait_port(self.port, lambda: self.proc.poll() is None, timeout=60):
            self.stop()
            raise RuntimeError(f"{fmt} app did not start")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        os.unlink(self.log.name)


@pytest.fixture(autouse=True)
def clean_emulator(emulator):
    emulator.reset()
    yield
    emulator.reset()


def conf(h, emulator, creds, fmt, app_port, prefix):
    return (f"WorkOSClientID {creds.client_id}\nWorkOSAPIKey env:WOS_IT_API_KEY\n"
            f"WorkOSCookiePassword env:WOS_IT_FMT_PASSWORD\nWorkOSAPIBaseURL {emulator.url}\n"
            f"WorkOSRedirectURI {fl.CALLBACK}\nWorkOSLoginURI {fl.LOGIN}\n"
            f"WorkOSLogoutURI {fl.LOGOUT}\nWorkOSLogoutReturnTo {fl.BYE}\n"
            f"WorkOSSwitchOrganizationURI {fl.SWITCH}\n"
            f"WorkOSCookieName {COOKIE}\nWorkOSSessionFormat {fmt}\n"
            f'ProxyPass "{prefix}/" "http://127.0.0.1:{app_port}{prefix}/"\n'
            + h.static_location("/static/", "AuthType WorkOS", "Require valid-user")
            + h.cgi_location("/private/", "AuthType WorkOS", "Require valid-user"))


@pytest.fixture(scope="module", params=["python", "ruby"])
def site(request, httpd_factory, emulator, creds, secrets):
    fmt = request.param
    password = Fernet.generate_key().decode() if fmt == "python" else RUBY_PASSWORD
    secrets.add(f"{fmt} cookie password", password)
    h = fl.new_httpd(httpd_factory, f"fmt-{fmt}")
    h.env["WOS_IT_FMT_PASSWORD"] = password
    app = App(fmt, emulator, creds, h.url, password)
    h.start(conf(h, emulator, creds, fmt, app.port, app.prefix))
    h.fmt, h.app, h.password = fmt, app, password
    yield h
    h.stop()
    app.stop()


@pytest.fixture
def browser(site, secrets):
    return fl.Browser(site, secrets)


def refreshes(emulator):
    return emulator.counters()["authenticate_refresh"]


def app_sign_in(browser, emulator, email):
    """The app's own sign-in (its login, the hosted page, its callback)."""
    h = browser.h
    start = browser.nav(h.app.prefix + "/login")
    url = fl.sign_in_at(emulator, start.headers["Location"], email)
    done = browser.nav(fl.local_path(h, url))
    assert done.status_code in (302, 303), f"{done.status_code}: {done.text[:300]}"
    assert browser.jar.value(COOKIE), "the app set no session cookie"


def app_adopt(browser, auth):
    """The app seals an authenticate answer (a sign-in whose token is already expired)."""
    r = requests.post(browser.h.url + browser.h.app.prefix + "/adopt", json=auth, timeout=30)
    assert r.status_code == 200, r.text
    browser.jar.update(r)


def app_me(browser):
    r = browser.api(browser.h.app.prefix + "/me")
    return r.status_code, r.json()


def module_identity(browser, email):
    """/static/ served and /private/ seeing the user: the module recognised the session."""
    static = browser.nav("/static/")
    assert static.status_code == 200 and "hello" in static.text, static.status_code
    env = client.cgi_env(browser.nav("/private/env.cgi"))
    assert env["WORKOS_USER_EMAIL"] == email
    assert env["WORKOS_USER_ID"] == fl.user(email)["id"]
    return env


def sdk_read(site, value):
    """The module's cookie opened by the SDK's own library, as the app's reader does."""
    if site.fmt == "python":
        return json.loads(Fernet(site.password).decrypt(value.encode()))
    script = ('require "base64"; require "digest"; require "json"; require "openssl"; '
              'raw = Base64.decode64(STDIN.read); c = OpenSSL::Cipher.new("aes-256-gcm").decrypt; '
              'c.key = Digest::SHA256.digest(ENV["PW"]); c.iv = raw.byteslice(1, 12); '
              'c.auth_tag = raw.byteslice(13, 16); abort "version" unless raw.bytes[0] == 1; '
              'print c.update(raw.byteslice(29, raw.bytesize - 29)) + c.final')
    out = subprocess.run(["/usr/bin/ruby", "-e", script], input=urllib.parse.unquote(value),
                         capture_output=True, text=True, timeout=30,
                         env=dict(os.environ, PW=site.password))
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def check_cookie_form(site, value):
    if site.fmt == "python":
        assert re.fullmatch(r"[A-Za-z0-9_-]+={0,2}", value) and len(value) % 4 == 0, value
    else:
        # As Rack writes it: `+ / =` escaped, so that Rack's reader gets them back.
        assert re.fullmatch(r"(?:[A-Za-z0-9]|%2B|%2F|%3D)+", value), value


# ---- one sign-in --------------------------------------------------------------

def test_app_sign_in_is_recognised_by_the_module(site, browser, emulator):
    app_sign_in(browser, emulator, "ada@example.com")
    status, me = app_me(browser)
    assert status == 200 and me["user"]["email"] == "ada@example.com"
    before = refreshes(emulator)
    env = module_identity(browser, "ada@example.com")
    assert env["WORKOS_SESSION_ID"] == me["session_id"]
    assert refreshes(emulator) == before


def test_module_sign_in_is_recognised_by_the_app(site, browser, emulator):
    s = fl.sign_in(browser, emulator, "/private/env.cgi", "grace@example.com")
    assert s.done.status_code == 302
    value = browser.jar.value(COOKIE)
    check_cookie_form(site, value)
    inner = sdk_read(site, value)
    assert sorted(inner) == ["access_token", "refresh_token", "user"]
    assert inner["user"]["id"] == fl.user("grace@example.com")["id"]
    assert inner["user"]["first_name"] == "Grace"      # the API's snake_case user
    status, me = app_me(browser)
    assert status == 200, me
    assert me["refreshed"] is False and me["user"]["email"] == "grace@example.com"
    module_identity(browser, "grace@example.com")


# ---- refresh on either side ----------------------------------------------------

def test_module_refreshes_and_the_app_reads_the_new_cookie(site, browser, emulator, secrets):
    auth = emulator.session("ada@example.com", expired=True)
    secrets.add("refresh token", auth["refresh_token"])
    app_adopt(browser, auth)
    old = browser.jar.value(COOKIE)
    before = refreshes(emulator)
    module_identity(browser, "ada@example.com")
    assert refreshes(emulator) == before + 1
    new = browser.jar.value(COOKIE)
    assert new != old
    check_cookie_form(site, new)
    assert sdk_read(site, new)["refresh_token"] != auth["refresh_token"]
    status, me = app_me(browser)
    assert status == 200, me
    assert me["refreshed"] is False                   # the app reads the module's session
    assert me["user"]["id"] == fl.user("ada@example.com")["id"]
    assert refreshes(emulator) == before + 1


def test_app_refreshes_and_the_module_reads_the_new_cookie(site, browser, emulator, secrets):
    auth = emulator.session("grace@example.com", expired=True)
    secrets.add("refresh token", auth["refresh_token"])
    app_adopt(browser, auth)
    # The module would have to refresh this one itself (it is expired).
    assert client.api(site, "/private/env.cgi").status_code == 401
    before = refreshes(emulator)
    status, me = app_me(browser)
    assert status == 200 and me["refreshed"] is True, me
    assert refreshes(emulator) == before + 1
    r = browser.nav("/private/env.cgi")
    assert client.cgi_env(r)["WORKOS_USER_EMAIL"] == "grace@example.com"
    assert fl.session_cookies(r, COOKIE) == []       # no refresh by the module
    assert refreshes(emulator) == before + 1


# ---- logout from either side -----------------------------------------------------

def logged_out_at(emulator, resp, sid):
    base, params = client.location_query(resp)
    assert base == emulator.url + "/user_management/sessions/logout"
    assert params["session_id"] == sid
    requests.get(resp.headers["Location"], allow_redirects=False, timeout=30)
    assert emulator.counters()["logout"] >= 1


def test_logout_from_the_app_ends_both(site, browser, emulator):
    fl.sign_in(browser, emulator, "/private/env.cgi", "ada@example.com")
    env = module_identity(browser, "ada@example.com")
    r = browser.nav(site.app.prefix + "/logout")
    assert client.cleared(r, COOKIE) is not None
    logged_out_at(emulator, r, env["WORKOS_SESSION_ID"])
    assert browser.jar.value(COOKIE) is None
    fl.authorize_params(browser.nav("/static/"), emulator)     # sent to sign in again
    assert browser.api("/private/env.cgi").status_code == 401


def test_logout_from_the_module_ends_both(site, browser, emulator):
    app_sign_in(browser, emulator, "grace@example.com")
    status, me = app_me(browser)
    assert status == 200
    r = browser.nav(fl.LOGOUT)
    assert client.cleared(r, COOKIE) is not None
    logged_out_at(emulator, r, me["session_id"])
    status, me = app_me(browser)
    assert status == 401 and me["reason"] == "no_session_cookie_provided", me



def test_a_revoked_session_is_refreshed_by_neither(site, browser, emulator, secrets):
    """An expired session whose WorkOS session was ended elsewhere: WorkOS refuses
    its refresh token, and each side ends it rather than serving it."""
    auth = emulator.session("ada@example.com", expired=True)
    secrets.add("refresh token", auth["refresh_token"])
    app_adopt(browser, auth)
    kept = browser.jar.value(COOKIE)
    requests.get(emulator.url + "/user_management/sessions/logout", timeout=30,
                 params={"session_id": jwt_claims(auth["access_token"])["sid"]})
    r = client.api(site, "/private/env.cgi", cookie=f"{COOKIE}={kept}")
    assert r.status_code == 401 and client.cleared(r, COOKIE) is not None
    status, me = app_me(browser)
    assert status == 401, me


# ---- organization switch, rotation --------------------------------------------------

def test_organization_switch_by_the_module_is_seen_by_the_app(site, browser, emulator):
    fl.sign_in(browser, emulator, "/private/env.cgi", "grace@example.com")
    status, me = app_me(browser)
    assert status == 200 and me["organization_id"] == fl.ACME
    before = refreshes(emulator)
    r = browser.switch(fl.GLOBEX, "/private/env.cgi")
    assert r.status_code == 302, r.text[:300]
    assert refreshes(emulator) == before + 1
    check_cookie_form(site, browser.jar.value(COOKIE))
    status, me = app_me(browser)
    assert status == 200 and me["refreshed"] is False, me
    assert me["organization_id"] == fl.GLOBEX
    env = client.cgi_env(browser.nav("/private/env.cgi"))
    assert env["WORKOS_ORGANIZATION_ID"] == fl.GLOBEX


def test_rotation_reads_the_old_password_and_writes_the_new(site, httpd_factory, emulator, creds,
                                                            secrets, request):
    """WorkOSCookiePassword NEW OLD: the app's cookie (sealed with OLD) is read; a
    refresh re-seals it with NEW, which the SDK's library opens with NEW only."""
    new = Fernet.generate_key().decode() if site.fmt == "python" else RUBY_PASSWORD + "-new"
    secrets.add("new cookie password", new)
    h = fl.new_httpd(httpd_factory, f"rot-{site.fmt}")
    h.env.update(WOS_IT_FMT_NEW=new, WOS_IT_FMT_PASSWORD=site.password)
    h.start(conf(h, emulator, creds, site.fmt, site.app.port, site.app.prefix).replace(
        "WorkOSCookiePassword env:WOS_IT_FMT_PASSWORD",
        "WorkOSCookiePassword env:WOS_IT_FMT_NEW env:WOS_IT_FMT_PASSWORD"))
    h.app, h.fmt = site.app, site.fmt
    try:
        b = fl.Browser(h, secrets)
        auth = emulator.session("ada@example.com")
        secrets.add("refresh token", auth["refresh_token"])
        app_adopt(b, auth)                                            # sealed with OLD
        module_identity(b, "ada@example.com")
        assert fl.session_cookies(b.nav("/static/"), COOKIE) == []     # read, not rewritten
        auth = emulator.session("ada@example.com", expired=True)
        secrets.add("refresh token", auth["refresh_token"])
        app_adopt(b, auth)
        module_identity(b, "ada@example.com")                         # refreshed by the module
        h.password = new
        assert sdk_read(h, b.jar.value(COOKIE))["user"]["email"] == "ada@example.com"
        h.password = site.password
        with pytest.raises(Exception):
            sdk_read(h, b.jar.value(COOKIE))
    finally:
        h.stop()


def test_single_flight_refresh_in_the_format(site, browser, emulator, secrets):
    """Requests arriving together with one expired cookie: one refresh, one new
    session for all of them, each written in the format."""
    n = 12
    auth = emulator.session("grace@example.com", expired=True)
    secrets.add("refresh token", auth["refresh_token"])
    app_adopt(browser, auth)
    cookie = browser.jar.value(COOKIE)
    gate, results = threading.Barrier(n), [None] * n

    def one(i):
        gate.wait()
        try:
            results[i] = client.api(site, "/private/env.cgi", cookie=f"{COOKIE}={cookie}")
        except Exception as e:          # recorded, asserted below
            results[i] = e

    before = refreshes(emulator)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert [getattr(r, "status_code", r) for r in results] == [200] * n
    assert refreshes(emulator) == before + 1
    tokens = set()
    for r in results:
        (value,) = [v for name, v, a in fl.session_cookies(r, COOKIE)]
        secrets.add("cookie", value)
        check_cookie_form(site, value)
        tokens.add(sdk_read(site, value)["refresh_token"])
    assert len(tokens) == 1 and auth["refresh_token"] not in tokens
