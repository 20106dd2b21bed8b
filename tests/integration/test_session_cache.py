# SPDX-License-Identifier: Apache-2.0
"""The per-process verified-session cache (WorkOSSessionCache) through a real
httpd: the second request with the same cookie on the same connection (so the
same child) skips the unseal and the signature check; another cookie, or a
cache turned off, does not; an entry never outlives its access token; and
what a location passes (token or not, environment or headers) is decided per
request, not taken from the cached entry."""
import http.client
import json
import time

import pytest
import requests

from harness.client import API, cgi_env
from test_module_env import expected_vars

AUTH = ("AuthType WorkOS", "Require valid-user")


@pytest.fixture(scope="module")
def site(httpd_factory, wos_server_conf):
    h = httpd_factory()
    # No skew and no early refresh: the token's exp is exactly when it stops working.
    return h.start(wos_server_conf + "WorkOSClockSkew 0\nWorkOSRefreshBeforeExpiry 0\n"
                   + h.cgi_location("/c/", *AUTH)
                   + h.cgi_location("/on/", *AUTH, "WorkOSPassAccessToken On")
                   + h.cgi_location("/off/", *AUTH, "WorkOSPassAccessToken Off")
                   # CGIPassAuth: an Authorization header would reach the CGI.
                   + h.cgi_location("/hoff/", *AUTH, "WorkOSPassClaimsAs headers",
                                    "WorkOSPassAccessToken Off", "CGIPassAuth On")
                   # Settings a cached verification must not carry over to.
                   + h.cgi_location("/skew/", *AUTH, "WorkOSClockSkew 30")
                   + h.cgi_location("/pw/", *AUTH, "WorkOSCookiePassword " + "p" * 40)
                   + h.cgi_location("/client/", *AUTH, "WorkOSClientID client_01OTHER"))


@pytest.fixture(scope="module")
def site_off(httpd_factory, wos_server_conf):
    h = httpd_factory("off")
    # Neither the per-process nor the shared cache (test_shared_session_cache.py).
    return h.start(wos_server_conf + "WorkOSSessionCache 0\nWorkOSSessionCacheSize 0\n"
                   + h.cgi_location("/c/", *AUTH))


def on_one_connection(site, cookies):
    """GET /c/env.cgi with each cookie in turn over one keep-alive connection."""
    out = []
    with requests.Session() as conn:
        for cookie in cookies:
            out.append(conn.get(site.url + "/c/env.cgi", timeout=30,
                                headers=dict(API, Cookie=f"wos-session={cookie}")))
    return out


def decisions(site, offset):
    """How each authenticated request was decided, from the debug log."""
    return ["cached" if "(cached)" in line or "(shared cache)" in line else "verified"
            for line in site.log_since(offset).splitlines() if "WOS00103" in line]


def test_second_request_is_a_cache_hit(site, make_session):
    s = make_session("ada@example.com")
    mark = site.log_size()
    first, second = on_one_connection(site, [s.cookie, s.cookie])
    assert first.status_code == second.status_code == 200
    assert cgi_env(first) == cgi_env(second)
    assert cgi_env(second)["WORKOS_PERMISSIONS"] == ",".join(s.claims["permissions"])
    assert decisions(site, mark) == ["verified", "cached"]


def test_another_cookie_is_verified(site, make_session):
    a, b = make_session("ada@example.com"), make_session("grace@example.com")
    mark = site.log_size()
    ra, rb, ra2 = on_one_connection(site, [a.cookie, b.cookie, a.cookie])
    assert cgi_env(ra)["WORKOS_USER_EMAIL"] == "ada@example.com"
    assert cgi_env(rb)["WORKOS_USER_EMAIL"] == "grace@example.com"
    assert cgi_env(ra2)["WORKOS_USER_EMAIL"] == "ada@example.com"
    assert decisions(site, mark) == ["verified", "verified", "cached"]


def test_tampered_cookie_is_not_served_from_the_cache(site, make_session):
    s = make_session("ada@example.com")
    bad = s.cookie[:-8] + ("A" if s.cookie[-8] != "A" else "B") + s.cookie[-7:]
    good, tampered = on_one_connection(site, [s.cookie, bad])
    assert good.status_code == 200
    assert tampered.status_code == 401


def test_cache_off_verifies_every_time(site_off, make_session):
    s = make_session("ada@example.com")
    mark = site_off.log_size()
    responses = on_one_connection(site_off, [s.cookie] * 3)
    assert [r.status_code for r in responses] == [200] * 3
    assert decisions(site_off, mark) == ["verified"] * 3


def test_entry_never_outlives_the_token(site, make_session, emulator):
    s = make_session("grace@example.com", ttl=3)
    mark = site.log_size()
    first, hit = on_one_connection(site, [s.cookie, s.cookie])
    assert first.status_code == hit.status_code == 200
    time.sleep(max(0, s.claims["exp"] - time.time()) + 1.5)
    before = emulator.counters()["authenticate_refresh"]
    (late,) = on_one_connection(site, [s.cookie])
    # Past exp the cached entry is gone: the token is found expired and refreshed.
    assert late.status_code == 200
    assert emulator.counters()["authenticate_refresh"] == before + 1
    assert any(c.startswith("wos-session=") for c in late.raw.headers.getlist("Set-Cookie"))
    assert decisions(site, mark)[:2] == ["verified", "cached"]
    assert "cached" not in decisions(site, mark)[2:]


def on_one_http_connection(site, cookie, paths, then=None):
    """GET each path with one cookie over one http.client keep-alive connection,
    and last `then`, after which the server may close it: [(status, CGI environment)]."""
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=30)
    out = []
    try:
        for path in [*paths, *([then] if then else [])]:
            conn.request("GET", path, headers=dict(API, Cookie=f"wos-session={cookie}"))
            resp = conn.getresponse()
            body = resp.read()
            assert path == then or not resp.will_close, f"{path}: the server closed it"
            out.append((resp.status, json.loads(body)["env"] if resp.status == 200 else body))
    finally:
        conn.close()
    return out


def identity(env):
    """What the module (or httpd, from the user it set) put in a CGI environment."""
    return {k: v for k, v in env.items()
            if k.startswith(("WORKOS_", "HTTP_X_WORKOS_", "HTTP_AUTHORIZATION"))
            or k in ("REMOTE_USER", "AUTH_TYPE")}


def test_what_is_passed_is_decided_per_location_on_cache_hits(site, make_session):
    s = make_session("ada@example.com")
    base = {"REMOTE_USER": s.user["id"], "AUTH_TYPE": "WorkOS"}
    env_vars = dict(base, **expected_vars(s))
    # Headers mode: the same values as X-WorkOS-* headers, seen as HTTP_X_WORKOS_*.
    header_vars = dict(base, **{"HTTP_X_" + k: v for k, v in expected_vars(s).items()})
    want = {"/on/env.cgi": dict(env_vars, WORKOS_ACCESS_TOKEN=s.token),
            "/off/env.cgi": env_vars,
            "/hoff/env.cgi": header_vars}
    order = ["/on/env.cgi", "/off/env.cgi", "/hoff/env.cgi", "/on/env.cgi", "/off/env.cgi"]
    mark = site.log_size()
    answers = on_one_http_connection(site, s.cookie, order)
    assert [status for status, _ in answers] == [200] * 5, answers
    for path, (_, env) in zip(order, answers):
        assert identity(env) == want[path], path
    assert len({env["REMOTE_PORT"] for _, env in answers}) == 1    # one connection
    assert decisions(site, mark) == ["verified", "cached", "cached", "cached", "cached"]


@pytest.mark.expect_log(r"WOS00108: .*JWKS fetch answered HTTP 404")
def test_settings_change_between_requests_of_one_connection(site, make_session):
    """A connection remembers its last settings and cookie: every change of
    clock skew, cookie password or client between its requests is seen, and
    coming back finds the first entry again. (The emulator knows no other
    client: its JWKS is a 404, so that location answers 503, not a cache hit,
    and httpd closes the connection after it: it comes last.)"""
    s = make_session("ada@example.com")
    order = ["/c/env.cgi", "/c/env.cgi", "/pw/env.cgi", "/c/env.cgi", "/skew/env.cgi",
             "/skew/env.cgi", "/c/env.cgi"]
    mark = site.log_size()
    answers = on_one_http_connection(site, s.cookie, order, then="/client/env.cgi")
    assert [status for status, _ in answers] == [200, 200, 401, 200, 200, 200, 200, 503], answers
    assert len({env["REMOTE_PORT"] for status, env in answers if status == 200}) == 1
    assert decisions(site, mark) == ["verified", "cached", "cached", "verified", "cached",
                                     "cached"]
