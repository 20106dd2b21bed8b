# SPDX-License-Identifier: Apache-2.0
"""Backends behind the module as they run in production: proxied apps that
record what they received (mod_proxy_http, mod_proxy_wstunnel), a load
balancer that terminates TLS in front of httpd, and what browsers send on
their own (CORS preflights, frames, htmx and fetch calls).

- WorkOSStripCookies: the session cookie, its chunks and the sign-in state
  cookies never reach the app; other cookies do.
- WorkOSHeaderEncoding utf8 | latin1 | base64url for non-ASCII names.
- WorkOSPreflight pass | authenticate; frames and htmx/fetch get 401, never 302.
- TLS offload: ServerName https://host (UseCanonicalName On or Off), or an
  absolute WorkOSRedirectURI; the callback's own redirect is relative;
  mod_remoteip gives WorkOS the client's address.
- WebSockets: an expired token on the Upgrade request is refreshed and the
  Set-Cookie is on the 101."""
import base64
import json
import urllib.parse

import pytest

import flowlib
from flowlib import clean_emulator  # noqa: F401  (autouse: emulator reset per test)
from harness import httpd as hd
from harness.backend import headers_of
from harness.client import API, BROWSER, api, browser, cgi_env, location_query, request
from harness.cookies import Session
from harness.emulator import org_id
from harness.wsbackend import WsBackend, frame, read_frame, ws_connect

ACME = org_id("Acme")
AUTH = ("AuthType WorkOS", "Require valid-user")
HEADERS = "WorkOSPassClaimsAs headers"
PUBLIC = "app.example.test"


@pytest.fixture(scope="module")
def wsbackend():
    b = WsBackend()
    yield b
    b.stop()


@pytest.fixture(scope="module")
def site(httpd_factory, wos_server_conf, backend, wsbackend):
    h = httpd_factory()
    px = lambda path, *d: h.proxy_location(path, backend.url, *d)  # noqa: E731
    conf = (f'LoadModule proxy_wstunnel_module "{hd.MODDIR}/mod_proxy_wstunnel.so"\n'
            + wos_server_conf
            + px("/keep/", *AUTH, HEADERS)
            + px("/strip/", *AUTH, HEADERS, "WorkOSStripCookies On")
            + px("/strip-named/", *AUTH, HEADERS, "WorkOSStripCookies On",
                 "WorkOSCookieName app_session")
            + h.cgi_location("/strip-cgi/", *AUTH, "WorkOSStripCookies On")
            + px("/utf8/", *AUTH, HEADERS)
            + px("/latin1/", *AUTH, HEADERS, "WorkOSHeaderEncoding latin1")
            + px("/b64/", *AUTH, HEADERS, "WorkOSHeaderEncoding base64url")
            + px("/api/", *AUTH, HEADERS)
            + px("/api-auth/", *AUTH, HEADERS, "WorkOSPreflight authenticate")
            + px("/api-ip/", "AuthType WorkOS", "<RequireAll>", "Require valid-user",
                 "Require ip 192.0.2.1", "</RequireAll>")
            + px("/api-pass/", "AuthType WorkOS", "WorkOSUnauthAction pass",
                 "Require valid-user")
            + f'ProxyPass "/ws/" "{wsbackend.url}/ws/"\n'
            + hd.location("/ws/", *AUTH, HEADERS))
    return h.start(conf)


@pytest.fixture(scope="module")
def session_named(emulator, sealer, secrets):
    """A session of ada (Acme) with the given first and last names."""

    def make(first, last, expired=False):
        auth = emulator.session("ada@example.com", organization_id=ACME, expired=expired)
        secrets.add("access token", auth["access_token"])
        secrets.add("refresh token", auth["refresh_token"])
        auth["user"].update(first_name=first, last_name=last)
        return Session(auth, sealer.seal_auth(auth))

    return make


@pytest.fixture(scope="module")
def ada(make_session):
    return make_session("ada@example.com", org=ACME)


# ---- WorkOSStripCookies ----------------------------------------------------

def chunked(value, name="wos-session"):
    """The session as two chunks <name>.0 and <name>.1, as large sessions are stored."""
    half = len(value) // 2
    return f"{name}.0={value[:half]}; {name}.1={value[half:]}"


OTHER = "theme=dark; wos-mod-state-0123abcd=pending-sign-in; lang=en"


def test_strip_cookies_off_keeps_them(site, backend, ada):
    r = api(site, "/keep/x", cookie=f"{chunked(ada.cookie)}; {OTHER}")
    assert r.status_code == 200
    sent = headers_of(r)["cookie"][0]
    assert "wos-session.0=" in sent and "wos-mod-state-0123abcd" in sent


def test_strip_cookies_on_removes_the_modules_cookies(site, backend, ada):
    r = api(site, "/strip/x", cookie=f"{chunked(ada.cookie)}; {OTHER}")
    assert r.status_code == 200
    seen = headers_of(r)
    assert seen["x-workos-user-id"] == [ada.user["id"]]     # read before it was removed
    assert seen["cookie"] == ["theme=dark; lang=en"]
    assert ada.cookie[:40] not in r.text
    # authkit-nextjs' own sign-in state (another app's) is not the module's to remove.
    r = api(site, "/strip/x", cookie=f"{chunked(ada.cookie)}; wos-auth-verifier-0123abcd=theirs")
    assert headers_of(r)["cookie"] == ["wos-auth-verifier-0123abcd=theirs"]
    # Only the module's cookies: no Cookie header at all when nothing else is left.
    r = api(site, "/strip/x", session=ada)
    assert r.status_code == 200 and "cookie" not in headers_of(r)


def test_strip_cookies_uses_the_configured_name(site, ada):
    r = api(site, "/strip-named/x", cookie=f"app_session={ada.cookie}; wos-session=other")
    assert r.status_code == 200
    assert headers_of(r)["cookie"] == ["wos-session=other"]


def test_strip_cookies_for_cgi(site, ada):
    env = cgi_env(api(site, "/strip-cgi/env.cgi", cookie=f"{chunked(ada.cookie)}; {OTHER}"))
    assert env["HTTP_COOKIE"] == "theme=dark; lang=en"
    assert env["WORKOS_USER_ID"] == ada.user["id"]


# ---- WorkOSHeaderEncoding --------------------------------------------------

NAMES = ("Łukasz", "Müller")   # Ł is outside Latin-1, ü inside


def sent(r, name):
    """A header's value as the backend's bytes (http.server decodes them as Latin-1)."""
    return headers_of(r)[name][0].encode("latin-1")


def test_utf8_by_default(site, session_named):
    s = session_named(*NAMES)
    r = api(site, "/utf8/x", session=s)
    assert sent(r, "x-workos-user-last-name") == "Müller".encode("utf-8")
    assert sent(r, "x-workos-user-first-name") == "Łukasz".encode("utf-8")


def test_latin1(site, session_named):
    s = session_named(*NAMES)
    r = api(site, "/latin1/x", session=s)
    assert sent(r, "x-workos-user-last-name") == "Müller".encode("latin-1")
    assert sent(r, "x-workos-user-first-name") == b"?ukasz"
    assert sent(r, "x-workos-user-id") == s.user["id"].encode()


def test_base64url_for_free_text(site, session_named):
    s = session_named(*NAMES)
    r = api(site, "/b64/x", session=s)
    b64 = lambda name: base64.urlsafe_b64decode(  # noqa: E731
        sent(r, name) + b"=" * (-len(sent(r, name)) % 4)).decode("utf-8")
    assert b64("x-workos-user-last-name") == "Müller"
    assert b64("x-workos-user-first-name") == "Łukasz"
    assert b64("x-workos-user-email") == "ada@example.com"
    # Values ASCII by construction stay readable.
    assert sent(r, "x-workos-user-id") == s.user["id"].encode()
    assert sent(r, "x-workos-role") == b"admin"
    assert sent(r, "x-workos-organization-id") == ACME.encode()


# ---- what browsers send on their own ----------------------------------------

PREFLIGHT = {"Origin": "https://spa.example.test", "Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "content-type"}


def test_preflight_reaches_the_app(site):
    r = request(site, "OPTIONS", "/api/things", headers=PREFLIGHT)
    assert r.status_code == 200, r.text[:200]
    assert r.json()["method"] == "OPTIONS"
    assert "x-workos-user-id" not in headers_of(r)


def test_preflight_authenticate(site):
    r = request(site, "OPTIONS", "/api-auth/things", headers=PREFLIGHT)
    assert r.status_code == 401 and "WWW-Authenticate" in r.headers


def test_options_that_is_no_preflight_is_authenticated(site):
    r = request(site, "OPTIONS", "/api/things", headers={"Origin": PREFLIGHT["Origin"]})
    assert r.status_code == 401
    r = request(site, "OPTIONS", "/api/things")
    assert r.status_code == 401


def test_preflight_still_meets_require_that_needs_no_user(site, expect_log):
    """Require ip is not waived: a preflight passes only what needs a user."""
    expect_log(r"AH01630")
    r = request(site, "OPTIONS", "/api-ip/things", headers=PREFLIGHT)
    assert r.status_code == 403


@pytest.mark.parametrize("extra", [
    {"Sec-Fetch-Dest": "iframe"},
    {"Sec-Fetch-Dest": "frame"},
    {"HX-Request": "true"},
    {"Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"},
    {"X-Requested-With": "XMLHttpRequest"},
], ids=["iframe", "frame", "htmx", "fetch", "xhr"])
def test_no_sign_in_redirect_where_it_cannot_be_followed(site, extra):
    r = browser(site, "/api/page", headers=extra)
    assert r.status_code == 401, r.headers
    assert "Location" not in r.headers
    assert r.headers["WWW-Authenticate"].startswith("WorkOS ")


def test_top_level_navigation_still_signs_in(site, emulator):
    r = browser(site, "/api/page", headers={"Sec-Fetch-Dest": "document"})
    assert r.status_code == 302
    assert r.headers["Location"].startswith(emulator.url + "/user_management/authorize?")


# ---- WebSockets through mod_proxy_wstunnel ------------------------------------

def test_websocket_upgrade_refreshes_an_expired_token(site, emulator, session_named, sealer,
                                                      creds):
    s = session_named("Ada", "Lovelace", expired=True)
    status, headers, sock, rest, _ = ws_connect(site.port, "/ws/chat",
                                                {"Cookie": f"wos-session={s.cookie}",
                                                 "Origin": site.url})
    with sock:
        assert status.startswith("HTTP/1.1 101"), (status, headers)
        cookies = [v for k, v in headers if k.lower() == "set-cookie"]
        stored = [c for c in cookies if c.startswith("wos-session=")]
        assert len(stored) == 1, cookies
        fresh = stored[0].split(";")[0].split("=", 1)[1]
        token = flowlib.unseal_session(fresh, creds.password)["accessToken"]
        assert token != s.token
        # The backend saw the upgrade as the refreshed user.
        payload, rest = read_frame(sock, rest)
        seen = {k.lower(): v for k, v in json.loads(payload)["headers"]}
        assert seen["x-workos-user-id"] == s.user["id"]
        assert seen["upgrade"].lower() == "websocket"
        sock.sendall(frame(b"hello", mask=True))
        payload, _ = read_frame(sock, rest)
        assert payload == b"echo:hello"
    assert len(flowlib.authenticate_calls(emulator, "refresh_token")) == 1


def test_websocket_without_session_is_refused(site):
    status, headers, sock, _, _ = ws_connect(site.port, "/ws/chat", {"Origin": site.url})
    sock.close()
    assert status.startswith("HTTP/1.1 401")
    assert not [v for k, v in headers if k.lower() == "location"]


# ---- behind a TLS-terminating load balancer ------------------------------------

def tls_site(httpd_factory, request, emulator, creds, *server_lines, callback="/auth/callback"):
    def conf(h):
        return ("\n".join(server_lines) + "\n"
                + f'LoadModule remoteip_module "{hd.MODDIR}/mod_remoteip.so"\n'
                + "RemoteIPHeader X-Forwarded-For\nRemoteIPInternalProxy 127.0.0.1\n"
                + flowlib.server_conf(emulator, creds).replace(
                    "WorkOSRedirectURI /auth/callback", f"WorkOSRedirectURI {callback}")
                + flowlib.site(h, ""))
    return flowlib.fresh_httpd(httpd_factory, request, conf)


def forwarded(extra=None):
    """What the load balancer adds: the public Host, the client, the scheme."""
    return dict(BROWSER, Host=PUBLIC, **{"X-Forwarded-For": "198.51.100.7",
                                         "X-Forwarded-Proto": "https"}, **(extra or {}))


def sign_in_behind(h, emulator, headers):
    """Start, hosted page, callback (sent to httpd as the balancer would): the answers."""
    start = request(h, "GET", "/private/env.cgi?x=1", headers=headers)
    _, params = location_query(start)
    state = [c for c in start.raw.headers.getlist("Set-Cookie")
             if c.startswith(flowlib.STATE_PREFIX)][0].split(";")[0]
    callback = flowlib.sign_in_at(emulator, start.headers["Location"], "ada@example.com")
    parts = urllib.parse.urlsplit(callback)
    done = request(h, "GET", f"{parts.path}?{parts.query}", headers=headers, cookie=state)
    return params, callback, done


@pytest.mark.parametrize("canonical", ["On", "Off"])
def test_tls_offload_with_an_https_server_name(httpd_factory, request, emulator, creds,
                                               canonical):
    h = tls_site(httpd_factory, request, emulator, creds, f"ServerName https://{PUBLIC}",
                 f"UseCanonicalName {canonical}")
    params, callback, done = sign_in_behind(h, emulator, forwarded())
    assert params["redirect_uri"] == f"https://{PUBLIC}/auth/callback"
    assert callback.startswith(f"https://{PUBLIC}/auth/callback?")
    assert done.status_code == 302, done.text[:300]
    # Relative to the site, so the browser stays on https://PUBLIC.
    assert done.headers["Location"] == "/private/env.cgi?x=1"
    session = [c for c in done.raw.headers.getlist("Set-Cookie")
               if c.startswith("wos-session=")][0]
    assert "Secure" in session
    # mod_remoteip: WorkOS is told the client's address, not the balancer's.
    codes = flowlib.authenticate_calls(emulator, "authorization_code")
    assert codes[-1]["params"]["ip_address"] == "198.51.100.7"


def test_tls_offload_with_an_absolute_redirect_uri(httpd_factory, request, emulator, creds):
    h = tls_site(httpd_factory, request, emulator, creds,
                 callback=f"https://{PUBLIC}/auth/callback")
    params, _, done = sign_in_behind(h, emulator, forwarded())
    assert params["redirect_uri"] == f"https://{PUBLIC}/auth/callback"
    assert done.status_code == 302 and done.headers["Location"] == "/private/env.cgi?x=1"


def test_refresh_behind_the_balancer_sends_the_client_address(httpd_factory, request,
                                                              emulator, creds, make_session):
    h = tls_site(httpd_factory, request, emulator, creds, f"ServerName https://{PUBLIC}")
    s = make_session("ada@example.com", expired=True)
    r = request_with(h, s, forwarded({"Accept": API["Accept"], "Sec-Fetch-Mode": "cors"}))
    assert r.status_code == 200
    calls = flowlib.authenticate_calls(emulator, "refresh_token")
    assert [c["params"].get("ip_address") for c in calls] == ["198.51.100.7"]


def request_with(h, s, headers):
    return request(h, "GET", "/private/env.cgi", session=s, headers=headers)
