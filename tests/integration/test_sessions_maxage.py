# SPDX-License-Identifier: Apache-2.0
"""WorkOSTokenMaxAge through a real httpd: an access token older than the
setting is refreshed before it is used, so a session revoked in the WorkOS
dashboard ends, and a role taken away is refused by Require workos-role,
within the setting (2 s here; the issue's bound is 3 s), although the
emulator's tokens live 5 minutes. A burst of requests with one aged cookie
makes one refresh; the verified-session cache does not outlive the age."""
import time

import pytest

import flowlib as fl
from flowlib import clean_emulator  # noqa: F401  (autouse fixture)
from harness import client
from harness.cookies import jwt_claims

MAX_AGE = 2
BOUND = 3.0            # the promise: refused within 3 s
ACME = fl.ORGS["Acme"]


@pytest.fixture(scope="module")
def site(httpd_factory, emulator, creds):
    h = fl.new_httpd(httpd_factory, "maxage")
    return h.start(fl.site(h, fl.server_conf(emulator, creds, f"WorkOSTokenMaxAge {MAX_AGE}")))


@pytest.fixture(scope="module")
def plain(httpd_factory, emulator, creds):
    """The same site without the setting: tokens are used until they expire."""
    h = fl.new_httpd(httpd_factory, "maxage-off")
    return h.start(fl.site(h, fl.server_conf(emulator, creds)))


def browser_with(site, session, secrets, creds):
    """A browser holding @p session's cookie, keeping whatever the module sets."""
    b = fl.Browser(site, secrets, creds.password)
    b.jar.items[fl.SESSION] = (session.cookie, "/")
    return b


def wait_until(t):
    time.sleep(max(0.0, t - time.time()))


def after_change(changed_at):
    """A moment past the max age after a change upstream, and still within the
    bound: what the promise is about. Fails the test if the machine was so
    slow that the moment passed."""
    wait_until(changed_at + MAX_AGE + 0.5)
    assert time.time() - changed_at < BOUND, "the machine was too slow to test the bound"


def test_revoked_session_gets_401_within_the_bound(site, make_session, emulator, secrets,
                                                   creds):
    s = make_session("ada@example.com")
    b = browser_with(site, s, secrets, creds)
    assert b.api("/private/env.cgi").status_code == 200
    revoked_at = time.time()
    assert emulator.revoke(session_id=s.claims["sid"]) == [s.claims["sid"]]
    after_change(revoked_at)
    r = b.api("/private/env.cgi")
    assert r.status_code == 401, r.text[:300]
    assert fl.session_deletions(r) == [fl.SESSION]
    assert fl.authenticate_calls(emulator, "refresh_token")[-1]["status"] == 400


def test_revoked_session_browser_is_sent_to_sign_in(site, make_session, emulator, secrets,
                                                    creds):
    s = make_session("ada@example.com")
    b = browser_with(site, s, secrets, creds)
    assert b.nav("/private/env.cgi").status_code == 200
    revoked_at = time.time()
    emulator.revoke(email="ada@example.com")
    after_change(revoked_at)
    signin = fl.SignIn(b, emulator, "/private/env.cgi?page=2")
    assert signin.state(creds.password)["returnPathname"] == "/private/env.cgi?page=2"
    assert fl.session_deletions(signin.start) == [fl.SESSION]


@pytest.mark.expect_log(r"AH01631")
def test_role_removed_is_refused_within_the_bound(site, make_session, emulator, secrets,
                                                  creds):
    s = make_session("ada@example.com", org=ACME)
    b = browser_with(site, s, secrets, creds)
    assert b.api("/admin/env.cgi").status_code == 200
    changed_at = time.time()
    emulator.set_role("ada@example.com", "member", organization_id=ACME,
                      permissions=["posts:read"])
    after_change(changed_at)
    r = b.api("/admin/env.cgi")
    assert r.status_code == 403, r.text[:300]
    # the variables changed with it (the refreshed cookie came with the 403)
    env = client.cgi_env(b.api("/private/env.cgi"))
    assert env["WORKOS_ROLE"] == "member"
    assert env["WORKOS_PERMISSIONS"] == "posts:read"


def test_without_the_setting_the_role_stays_until_expiry(plain, make_session, emulator,
                                                         secrets, creds):
    """What the setting changes: the same steps keep the old role."""
    s = make_session("ada@example.com", org=ACME)
    b = browser_with(plain, s, secrets, creds)
    assert b.api("/admin/env.cgi").status_code == 200
    changed_at = time.time()
    emulator.set_role("ada@example.com", "member", organization_id=ACME)
    wait_until(changed_at + MAX_AGE + 0.5)
    assert b.api("/admin/env.cgi").status_code == 200
    assert emulator.counters()["authenticate_refresh"] == 0


def test_a_burst_with_an_aged_token_refreshes_once(site, make_session, emulator, creds):
    s = make_session("ada@example.com")
    wait_until(s.claims["iat"] + MAX_AGE + 1)
    answers = fl.burst([site], s.cookie, 12)
    bad = [a for a in answers if isinstance(a, Exception) or a.status_code != 200]
    assert not bad, bad[:3]
    assert emulator.counters()["authenticate_refresh"] == 1
    cookies = [fl.assembled(a) for a in answers]
    tokens = {fl.unseal_session(c, creds.password)["accessToken"] for c in cookies if c}
    assert len(tokens) == 1, "every answer carries the one refreshed session"
    assert None not in cookies
    assert jwt_claims(tokens.pop())["iat"] >= s.claims["iat"] + MAX_AGE
    cookie = cookies[0]
    # the refreshed token is young: the next burst refreshes nothing (unless the
    # machine took longer than the max age over it, then at most once more)
    refreshed_at = jwt_claims(fl.unseal_session(cookie, creds.password)["accessToken"])["iat"]
    answers = fl.burst([site], cookie, 12)
    assert all(not isinstance(a, Exception) and a.status_code == 200 for a in answers)
    late = time.time() - refreshed_at >= MAX_AGE
    n = emulator.counters()["authenticate_refresh"]
    assert n == 1 or (late and n == 2), (n, late)


def test_one_refresh_per_interval_for_a_steady_client(site, make_session, emulator, secrets,
                                                      creds):
    """A client polling every 0.25 s for 5 s: a refresh every 2 s or so,
    never one per request."""
    s = make_session("ada@example.com")
    b = browser_with(site, s, secrets, creds)
    start, n = time.time(), 0
    while time.time() - start < 5.0:
        assert b.api("/private/env.cgi").status_code == 200
        n += 1
        time.sleep(0.25)
    refreshes = emulator.counters()["authenticate_refresh"]
    elapsed = time.time() - s.claims["iat"]
    assert n >= 8
    assert 1 <= refreshes <= elapsed / MAX_AGE + 1, (refreshes, n, elapsed)


def test_the_session_cache_does_not_outlive_the_age(site, make_session, emulator, creds):
    """A verified cookie served from the session cache (same cookie, same
    keep-alive connection) is still refreshed once it is too old."""
    import requests
    s = make_session("ada@example.com")
    with requests.Session() as http:
        h = dict(client.API, Cookie=f"{fl.SESSION}={s.cookie}")
        for _ in range(3):
            assert http.get(site.url + "/private/env.cgi", headers=h,
                            timeout=30).status_code == 200
        assert emulator.counters()["authenticate_refresh"] == 0
        wait_until(s.claims["iat"] + MAX_AGE + 0.5)
        r = http.get(site.url + "/private/env.cgi", headers=h, timeout=30)
    assert r.status_code == 200
    assert emulator.counters()["authenticate_refresh"] == 1
    assert fl.assembled(r) is not None


@pytest.mark.parametrize("value", ["-1", "abc", "2s", str(86400 * 30 + 1)])
def test_bad_values_fail_configtest(httpd_factory, emulator, creds, value):
    h = fl.new_httpd(httpd_factory, f"maxage-bad-{value}")
    rc, out = h.configtest(fl.server_conf(emulator, creds, f"WorkOSTokenMaxAge {value}"))
    assert rc != 0
    assert "WorkOSTokenMaxAge" in out


def test_off_is_accepted(httpd_factory, emulator, creds):
    h = fl.new_httpd(httpd_factory, "maxage-offword")
    rc, out = h.configtest(fl.server_conf(emulator, creds, "WorkOSTokenMaxAge Off",
                                          "WorkOSInactivityTimeout off"))
    assert rc == 0, out
