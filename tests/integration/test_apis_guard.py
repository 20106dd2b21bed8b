"""Endpoints that change a session through a real httpd: the organization
switch is POST-only and same-origin (a cross-site GET or POST switches
nothing and calls nothing), and one session's calls to WorkOS through the
switch and the forced refresh are capped (WorkOSSessionCallLimit): beyond
the cap a 429 with Retry-After and no call. The cap is kept in the shared
cache: here every connection gets a fresh child (MaxConnectionsPerChild 1),
so the calls it counts were made by different processes."""
import re
import time

import pytest

import flowlib as fl
from flowlib import clean_emulator  # noqa: F401  (autouse fixture)
from harness import client

INFO = "/auth/session"
WINDOW = 3600
MADE_UP = [f"org_01MADEUP{i:018d}" for i in range(8)]


@pytest.fixture(scope="module")
def site(httpd_factory, emulator, creds):
    h = fl.new_httpd(httpd_factory, "guard")
    conf = fl.site(h, fl.server_conf(emulator, creds, f"WorkOSSessionInfoURI {INFO}",
                                     f"WorkOSSessionCallLimit 5 {WINDOW}"))
    return h.start(conf + "MaxConnectionsPerChild 1\n")


@pytest.fixture
def window():
    """Not too close to the end of a counting window (windows are aligned)."""
    left = WINDOW - time.time() % WINDOW
    if left < 60:
        time.sleep(left + 1)


def signed_in(browser, make_session, email="ada@example.com"):
    s = make_session(email)
    browser.jar.items[fl.SESSION] = (s.cookie, "/")
    return s


def org_of(browser, creds):
    return fl.unseal_session(browser.jar.session_value(), creds.password).get("organizationId")


def test_switch_by_get_is_refused(site, browser, emulator, make_session, creds):
    signed_in(browser, make_session)
    r = browser.nav(f"{fl.SWITCH}?organization_id={fl.GLOBEX}&return_to=/")
    assert r.status_code == 405
    assert set(r.headers["Allow"].split(",")) - {"TRACE"} == {"POST"}
    assert fl.session_cookies(r) == [] and org_of(browser, creds) == fl.ACME
    assert emulator.counters()["authenticate_refresh"] == 0


@pytest.mark.expect_log(r"WOS01642")
@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
    {"Origin": None, "Sec-Fetch-Site": "cross-site"},
    {"Origin": None, "Sec-Fetch-Site": "same-site"},
    {"Origin": None, "Sec-Fetch-Site": None},           # not a browser: refused too
    {"Origin": "null", "Sec-Fetch-Site": None},
    {"Origin": "http://127.0.0.1:1"},
], ids=["origin", "origin+fetch-site", "cross-site", "same-site", "neither", "null", "port"])
def test_cross_site_switch_is_refused(site, browser, emulator, make_session, creds, headers):
    signed_in(browser, make_session)
    h = dict(client.BROWSER, Origin=site.url, **{"Sec-Fetch-Site": "same-origin"})
    h.update(headers)
    h = {k: v for k, v in h.items() if v is not None}
    r = browser.request(fl.SWITCH, h, method="POST",
                        data={"organization_id": fl.GLOBEX, "return_to": "/"})
    assert r.status_code == 403 and "Location" not in r.headers
    assert fl.session_cookies(r) == [] and org_of(browser, creds) == fl.ACME
    assert emulator.counters()["authenticate_refresh"] == 0


def test_same_origin_switch_works(site, browser, emulator, make_session, creds):
    signed_in(browser, make_session)
    r = browser.switch(fl.GLOBEX, "/private/env.cgi")
    assert (r.status_code, r.headers["Location"]) == (302, site.url + "/private/env.cgi")
    assert org_of(browser, creds) == fl.GLOBEX
    # Without Origin, Sec-Fetch-Site: same-origin is enough.
    r = browser.submit(fl.SWITCH, {"organization_id": fl.ACME}, headers={"Origin": None})
    assert r.status_code == 302 and org_of(browser, creds) == fl.ACME


@pytest.mark.expect_log(r"WOS01630", r"WOS00512")
def test_call_limit_for_made_up_organizations(site, browser, emulator, make_session, creds,
                                              window):
    signed_in(browser, make_session)
    before = site.access_size()
    for org in MADE_UP[:5]:
        r = browser.switch(org, "/")
        assert r.status_code == 403, r.text[:200]        # not a member: WorkOS refuses
    assert emulator.counters()["authenticate_refresh"] == 5
    r = browser.switch(MADE_UP[5], "/")
    assert r.status_code == 429
    assert 0 < int(r.headers["Retry-After"]) <= WINDOW
    assert emulator.counters()["authenticate_refresh"] == 5      # no call made
    # A real switch of the same session waits too; the session itself is untouched.
    assert browser.switch(fl.GLOBEX, "/").status_code == 429
    assert org_of(browser, creds) == fl.ACME
    fl.check_identity(browser.nav("/private/env.cgi"), "ada@example.com", fl.ACME)
    # The switches were served by different processes (one connection each).
    pids = set(re.findall(r'"POST /auth/switch [^"]*" \d+ pid=(\d+)', site.access_since(before)))
    assert len(pids) >= 2, pids
    # Another session of the same user is not affected.
    other = fl.Browser(site)
    signed_in(other, make_session)
    assert other.switch(fl.GLOBEX, "/").status_code == 302


@pytest.mark.expect_log(r"WOS01630")
def test_forced_refreshes_count_too(site, browser, emulator, make_session, creds, window):
    signed_in(browser, make_session, "grace@example.com")
    for i in range(5):
        r = browser.submit(INFO, {"refresh": "1"}, headers={"Accept": "application/json"})
        assert r.status_code == 200, r.text[:200]
    assert emulator.counters()["authenticate_refresh"] == 5
    r = browser.submit(INFO, {"refresh": "1"}, headers={"Accept": "application/json"})
    assert r.status_code == 429 and r.json() == {"error": "rate_limited"}
    assert int(r.headers["Retry-After"]) > 0
    assert emulator.counters()["authenticate_refresh"] == 5
    assert browser.switch(fl.GLOBEX, "/").status_code == 429
    # Reading the session goes on (no call needed).
    r = browser.request(INFO, client.API)
    assert r.status_code == 200 and r.json()["user"]["email"] == "grace@example.com"
