# SPDX-License-Identifier: Apache-2.0
"""WorkOSSessionsURI through a real httpd with the emulator's session
management: GET lists the signed-in user's active sessions (id, created,
IP address, user agent, the current one marked) and only theirs; POST
revoke=<id> revokes one of them, revoke=others all but the current one,
revoke=<current id> signs out; another user's session id, a cross-site POST
and a GET that asks to revoke are refused, and nothing is revoked; the
session's call limit, WorkOS outages and refusals answer JSON errors.
Expected values come from what the test minted in the emulator."""
import pytest

import flowlib as fl
from flowlib import clean_emulator  # noqa: F401  (autouse fixture)
from harness import client

URI = "/auth/sessions"


@pytest.fixture(scope="module")
def site(httpd_factory, emulator, creds):
    h = fl.new_httpd(httpd_factory, "sessions")
    conf = fl.server_conf(emulator, creds, f"WorkOSSessionsURI {URI}",
                          "WorkOSSessionCallLimit 20 60")
    return h.start(fl.site(h, conf) + '<Location "/workos-status">\n    SetHandler '
                   'workos-status\n    Require ip 127.0.0.1\n</Location>\n')


def revoked_count(site):
    return client.request(site, "GET", "/workos-status").json()["sessions_revoked"]


@pytest.fixture(autouse=True)
def no_sessions_yet(emulator):
    """Each test's user starts with no sessions at all (lists are compared whole)."""
    emulator.ctl("reset", {"sessions": True})


@pytest.fixture
def mint(emulator, sealer, secrets):
    """mint(email, ip, ua) -> (session id, cookie header) of a new session."""
    def make(email="ada@example.com", ip=None, ua=None):
        body = {"email": email}
        if ip:
            body["ip_address"] = ip
        if ua:
            body["user_agent"] = ua
        auth = emulator.ctl("session", body)
        secrets.add("access token", auth["access_token"])
        secrets.add("refresh token", auth["refresh_token"])
        sid = fl.jwt_claims(auth["access_token"])["sid"]
        return sid, f"{fl.SESSION}={sealer.seal_auth(auth)}"
    return make


def same_origin(site):
    return {"Origin": site.url, "Sec-Fetch-Site": "same-origin"}


def get(site, cookie, query=""):
    return client.request(site, "GET", URI + query, headers=client.API, cookie=cookie)


def post(site, cookie, data, headers=None):
    h = dict(client.API, **(same_origin(site) if headers is None else headers))
    return client.request(site, "POST", URI, headers=h, cookie=cookie, data=data)


def ids(resp):
    assert resp.status_code == 200, resp.text[:300]
    assert resp.headers["Content-Type"].startswith("application/json")
    assert resp.headers["Cache-Control"] == "no-store"
    return [s["id"] for s in resp.json()["sessions"]]


def active(emulator, email="ada@example.com"):
    """The user's sessions the emulator holds active, asked with the API key."""
    user = fl.user(email)["id"]
    r = emulator.http.get(f"{emulator.url}/user_management/users/{user}/sessions?limit=100",
                          headers={"Authorization": f"Bearer {emulator.api_key}"}, timeout=10)
    assert r.status_code == 200
    return {s["id"] for s in r.json()["data"] if s["status"] == "active"}


def test_lists_the_users_own_sessions(site, mint, emulator):
    me, cookie = mint("ada@example.com", "192.0.2.10", "Firefox on the laptop")
    other, _ = mint("ada@example.com", "198.51.100.7", 'Phone "quoted" <ua>')
    stranger, _ = mint("grace@example.com", "203.0.113.1", "not ada")
    r = get(site, cookie)
    got = {s["id"]: s for s in r.json()["sessions"]}
    assert set(ids(r)) == {me, other}
    assert stranger not in got
    assert got[me]["current"] is True and got[other]["current"] is False
    assert got[me]["ipAddress"] == "192.0.2.10"
    assert got[me]["userAgent"] == "Firefox on the laptop"
    assert got[other]["userAgent"] == 'Phone "quoted" <ua>'
    assert got[other]["createdAt"].endswith("Z")
    assert emulator.counters()["sessions_list"] == 1
    assert emulator.revocations() == []


def test_revoked_sessions_are_not_listed(site, mint, emulator):
    me, cookie = mint()
    gone, _ = mint()
    emulator.revoke(session_id=gone)
    assert ids(get(site, cookie)) == [me]


def test_revoke_one(site, mint, emulator):
    me, cookie = mint()
    other, _ = mint()
    kept, _ = mint()
    before = revoked_count(site)
    r = post(site, cookie, {"revoke": other})
    assert r.status_code == 200, r.text[:300]
    assert r.json() == {"revoked": [other], "signedOut": False}
    assert revoked_count(site) == before + 1
    assert [x["session_id"] for x in emulator.revocations()] == [other]
    assert active(emulator) == {me, kept}
    assert fl.session_deletions(r) == []
    assert get(site, cookie).status_code == 200        # still signed in


def test_revoke_others(site, mint, emulator):
    me, cookie = mint()
    a, _ = mint()
    b, _ = mint()
    theirs, _ = mint("grace@example.com")
    r = post(site, cookie, {"revoke": "others"})
    assert r.status_code == 200, r.text[:300]
    assert sorted(r.json()["revoked"]) == sorted([a, b])
    assert r.json()["signedOut"] is False
    assert active(emulator) == {me}
    assert active(emulator, "grace@example.com") == {theirs}
    assert ids(get(site, cookie)) == [me]


def test_revoke_the_current_one_signs_out(site, mint, emulator):
    me, cookie = mint()
    r = post(site, cookie, {"revoke": me})
    assert r.status_code == 200
    assert r.json() == {"revoked": [me], "signedOut": True}
    assert fl.session_deletions(r) == [fl.SESSION]
    assert active(emulator) == set()


@pytest.mark.expect_log(r"WOS02113")
def test_another_users_session_is_refused(site, mint, emulator):
    me, cookie = mint("ada@example.com")
    theirs, _ = mint("grace@example.com")
    for target in (theirs, "session_01NOTEXISTING0000000000000", "others2", me + "x"):
        r = post(site, cookie, {"revoke": target})
        assert r.status_code == 404, r.text[:300]
        assert r.json() == {"error": "session_not_found"}
    assert emulator.counters()["sessions_revoke"] == 0
    assert active(emulator, "grace@example.com") == {theirs}


@pytest.mark.parametrize("headers", [{}, {"Sec-Fetch-Site": "cross-site"},
                                     {"Sec-Fetch-Site": "same-site"}, {"Origin": "null"},
                                     {"Origin": "http://evil.example.test"},
                                     {"Origin": "http://evil.example.test",
                                      "Sec-Fetch-Site": "same-origin"}])
def test_cross_site_posts_are_refused(site, mint, emulator, headers):
    me, cookie = mint()
    other, _ = mint()
    r = post(site, cookie, {"revoke": other}, headers=headers)
    assert r.status_code == 403
    assert r.json() == {"error": "cross_site_request"}
    assert emulator.counters()["sessions_list"] == 0
    assert emulator.counters()["sessions_revoke"] == 0
    assert active(emulator) == {me, other}


@pytest.mark.parametrize("query", ["?revoke=others", "?revoke", "?x=1&revoke=session_1"])
def test_get_does_not_revoke(site, mint, emulator, query):
    me, cookie = mint()
    other, _ = mint()
    r = get(site, cookie, query)
    assert r.status_code == 405
    assert r.json() == {"error": "revoke_needs_post"}
    assert "POST" in r.headers["Allow"]
    assert emulator.counters()["sessions_list"] == 0
    assert active(emulator) == {me, other}


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods(site, mint, method):
    _, cookie = mint()
    r = client.request(site, method, URI, headers=client.API, cookie=cookie)
    assert r.status_code == 405
    assert r.json() == {"error": "method_not_allowed"}


@pytest.mark.parametrize("data", [{}, {"revoke": ""}, {"revoke": "x" * 200}, "revoke=a&revoke=b"])
def test_bad_posts(site, mint, emulator, data):
    _, cookie = mint()
    h = dict(client.API, **same_origin(site), **{"Content-Type":
                                                 "application/x-www-form-urlencoded"})
    r = client.request(site, "POST", URI, headers=h, cookie=cookie, data=data)
    assert r.status_code == 400
    assert r.json()["error"] in ("revoke_required", "bad_request")
    assert emulator.counters()["sessions_revoke"] == 0


@pytest.mark.parametrize("cookie", [None, f"{fl.SESSION}=garbage"])
def test_signed_out(site, emulator, cookie):
    for r in (get(site, cookie), post(site, cookie, {"revoke": "others"})):
        assert r.status_code == 401
        assert r.json() == {"error": "unauthenticated"}
    assert emulator.counters()["sessions_list"] == 0


def test_a_revoked_current_session_is_unauthenticated_after_refresh(site, make_session,
                                                                    emulator):
    """The list needs a live session: an expired token whose session was
    revoked in the dashboard fails its refresh, so 401 (cookie deleted)."""
    s = make_session("ada@example.com", expired=True)
    emulator.revoke(session_id=s.claims["sid"])
    r = get(site, f"{fl.SESSION}={s.cookie}")
    assert r.status_code == 401
    assert fl.session_deletions(r) == [fl.SESSION]


@pytest.mark.expect_log(r"WOS01630")
def test_capped_per_session(httpd_factory, emulator, creds, mint):
    """WorkOSSessionCallLimit: lists in a count of their own, revokes in the
    organization switch's count, per session."""
    h = fl.new_httpd(httpd_factory, "sessions-cap")
    capped = h.start(fl.site(h, fl.server_conf(emulator, creds, f"WorkOSSessionsURI {URI}",
                                               "WorkOSSessionCallLimit 3 60")))
    _, cookie = mint()
    _, other_cookie = mint()
    assert [get(capped, cookie).status_code for _ in range(3)] == [200] * 3
    r = get(capped, cookie)
    assert r.status_code == 429
    assert r.json() == {"error": "rate_limited"}
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert emulator.counters()["sessions_list"] == 3
    # listing did not use up revoking: three POSTs, then the switch is refused too
    assert [post(capped, cookie, {"revoke": "others"}).status_code
            for _ in range(3)] == [200] * 3
    assert post(capped, cookie, {"revoke": "others"}).status_code == 429
    switch = client.request(capped, "POST", fl.SWITCH, cookie=cookie,
                            headers=dict(client.BROWSER, **same_origin(capped)),
                            data={"organization_id": fl.ORGS["Globex"]})
    assert switch.status_code == 429
    assert emulator.counters()["authenticate_refresh"] == 0
    # another session of the same user has its own counts
    assert get(capped, other_cookie).status_code == 200


@pytest.mark.expect_log(r"WOS02111")
def test_workos_unavailable(site, mint, emulator):
    _, cookie = mint()
    with emulator.faulted(endpoint="sessions", status=503, retry_after=7):
        r = get(site, cookie)
    assert r.status_code == 503
    assert r.json() == {"error": "unavailable"}
    assert r.headers["Retry-After"] == "7"
    assert fl.session_deletions(r) == []


@pytest.mark.expect_log(r"WOS02114")
def test_revoke_others_stops_at_an_outage_and_says_what_was_done(site, mint, emulator):
    me, cookie = mint()
    mint()
    mint()
    with emulator.faulted(endpoint="sessions_revoke", status=500, count=1):
        # the list works; the first revoke fails, so the second is not tried
        r = post(site, cookie, {"revoke": "others"})
    assert r.status_code == 503
    assert r.json() == {"error": "unavailable", "revoked": [], "signedOut": False}
    assert emulator.counters()["sessions_revoke"] == 1
    assert len(active(emulator)) == 3


@pytest.mark.expect_log(r"WOS02111")
def test_wrong_api_key_is_ours(httpd_factory, emulator, creds, mint):
    """401 from WorkOS is our configuration: 502 JSON, logged as an error, the
    session kept."""
    h = fl.new_httpd(httpd_factory, "sessions-key")
    conf = fl.server_conf(emulator, creds, f"WorkOSSessionsURI {URI}")
    bad = h.start(fl.site(h, conf.replace("WorkOSAPIKey env:WOS_IT_API_KEY",
                                          "WorkOSAPIKey sk_test_wrong_key_for_this_test")))
    _, cookie = mint()
    r = get(bad, cookie)
    assert r.status_code == 502
    assert r.json() == {"error": "upstream_refused"}
    assert fl.session_deletions(r) == []
    assert "WorkOSAPIKey" in h.log_text()


@pytest.mark.parametrize("value", ["sessions", "//x", "/a?b"])
def test_bad_uri_fails_configtest(httpd_factory, emulator, creds, value):
    h = fl.new_httpd(httpd_factory, f"sessions-bad-{value}")
    rc, out = h.configtest(fl.server_conf(emulator, creds, f"WorkOSSessionsURI {value}"))
    assert rc != 0
    assert "WorkOSSessionsURI" in out


def test_not_in_a_location(httpd_factory, emulator, creds):
    """Served before any <Location>, like the sign-in endpoints: refused there."""
    h = fl.new_httpd(httpd_factory, "sessions-in-location")
    rc, out = h.configtest(fl.server_conf(emulator, creds)
                           + '<Location "/x/">\n    WorkOSSessionsURI /x/sessions\n</Location>\n')
    assert rc != 0
    assert "WorkOSSessionsURI" in out
