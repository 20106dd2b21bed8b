"""The per-process verified-session cache (WorkOSSessionCache) through a real
httpd: the second request with the same cookie on the same connection (so the
same child) skips the unseal and the signature check; another cookie, or a
cache turned off, does not; and an entry never outlives its access token."""
import time

import pytest
import requests

from harness.client import API, cgi_env

AUTH = ("AuthType WorkOS", "Require valid-user")


@pytest.fixture(scope="module")
def site(httpd_factory, wos_server_conf):
    h = httpd_factory()
    # No skew and no early refresh: the token's exp is exactly when it stops working.
    return h.start(wos_server_conf + "WorkOSClockSkew 0\nWorkOSRefreshBeforeExpiry 0\n"
                   + h.cgi_location("/c/", *AUTH))


@pytest.fixture(scope="module")
def site_off(httpd_factory, wos_server_conf):
    h = httpd_factory("off")
    return h.start(wos_server_conf + "WorkOSSessionCache 0\n" + h.cgi_location("/c/", *AUTH))


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
    return ["cached" if "(cached)" in line else "verified"
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
    assert cgi_env(ra)["REMOTE_USER"] == "ada@example.com"
    assert cgi_env(rb)["REMOTE_USER"] == "grace@example.com"
    assert cgi_env(ra2)["REMOTE_USER"] == "ada@example.com"
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
