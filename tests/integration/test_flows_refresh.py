# SPDX-License-Identifier: Apache-2.0
"""Refresh on the request path: an expired (or nearly expired) access token
is traded for a new session on the same response; concurrent requests with
the same cookie across several httpd children make one upstream call
(single flight); terminal failures end the session, retryable ones answer
503 and keep it."""
import time

import pytest

import flowlib as fl
from harness import client
from harness.cookies import jwt_claims


pytestmark = pytest.mark.usefixtures("no_faults")


SITE_MPM = "prefork"


def refreshes(emulator):
    return emulator.counters()["authenticate_refresh"]


def get(h, session_cookie, api=False, path="/private/env.cgi"):
    headers = client.API if api else client.BROWSER
    return client.request(h, "GET", path, headers=headers,
                          cookie=f"{fl.SESSION}={session_cookie}")


def assert_refreshed(resp, old, creds, email):
    """200 served with the new session's claims; returns the new cookie's claims."""
    env = fl.check_identity(resp, email)
    value = fl.assembled(resp)
    assert value, "no new session cookie on the refreshing response"
    (name, _, attrs), = fl.session_cookies(resp)
    assert name == fl.SESSION and attrs["path"] == "/"
    new = fl.unseal_session(value, creds.password)
    claims = jwt_claims(new["accessToken"])
    assert new["refreshToken"] != old.auth["refresh_token"]
    assert claims["sid"] == old.claims["sid"] and claims["sub"] == old.claims["sub"]
    assert claims["exp"] > old.claims["exp"] and claims["exp"] > time.time() + 60
    assert env["WORKOS_SESSION_ID"] == claims["sid"]
    assert env["WORKOS_ACCESS_TOKEN_EXPIRES"] == str(claims["exp"])
    return value, claims


def test_expired_session_is_refreshed_on_the_same_response(site, emulator, make_session,
                                                           creds, secrets):
    old = make_session("ada@example.com", expired=True)
    assert old.claims["exp"] < time.time() - 60
    before = refreshes(emulator)
    r = get(site, old.cookie)
    value, claims = assert_refreshed(r, old, creds, "ada@example.com")
    secrets.add("cookie", value)
    assert refreshes(emulator) == before + 1
    (call,) = fl.authenticate_calls(emulator, "refresh_token")[-1:]
    assert call["status"] == 200 and call["params"]["refresh_token"] == old.auth["refresh_token"]
    # The new cookie works without another refresh.
    again = get(site, value)
    fl.check_identity(again, "ada@example.com")
    assert fl.session_cookies(again) == []
    assert refreshes(emulator) == before + 1


def test_sdk_accepts_the_cookie_written_at_refresh(site, emulator, make_session, creds):
    old = make_session("grace@example.com", expired=True)
    # The SDK itself refuses the expired original (so its acceptance below means something).
    assert fl.sdk_authenticate(emulator, creds.password, old.cookie)["authenticated"] is False
    value, claims = assert_refreshed(get(site, old.cookie), old, creds, "grace@example.com")
    a = fl.sdk_authenticate(emulator, creds.password, value)
    assert a["authenticated"] is True, a
    m = fl.membership("grace@example.com")
    assert (a["sessionId"], a["organizationId"], a["role"]) == \
        (claims["sid"], m["organization_id"], m["role"])
    assert a["permissions"] == m["permissions"]
    assert a["user"]["id"] == fl.user("grace@example.com")["id"]
    assert a["user"]["firstName"] == fl.user("grace@example.com")["first_name"]


@pytest.mark.parametrize("before_expiry,ttl,expect_refresh", [
    (120, 100, True),       # 100 s left, refresh 120 s before: refreshed
    (120, 300, False),      # 300 s left: not yet
    (None, 100, False),     # default (60 s): 100 s left is fine
])
def test_refresh_before_expiry(httpd_factory, emulator, make_session, creds, before_expiry,
                               ttl, expect_refresh):
    extra = [f"WorkOSRefreshBeforeExpiry {before_expiry}"] if before_expiry else []
    h = fl.new_httpd(httpd_factory, f"refresh-before-{before_expiry}-{ttl}")
    h.start(fl.site(h, fl.server_conf(emulator, creds, *extra)))
    s = make_session("ada@example.com", ttl=ttl)
    assert s.claims["exp"] - s.claims["iat"] == ttl
    before = refreshes(emulator)
    r = get(h, s.cookie)
    if expect_refresh:
        assert_refreshed(r, s, creds, "ada@example.com")
        assert refreshes(emulator) == before + 1
    else:
        env = fl.check_identity(r, "ada@example.com")
        assert env["WORKOS_ACCESS_TOKEN_EXPIRES"] == str(s.claims["exp"])
        assert fl.session_cookies(r) == []
        assert refreshes(emulator) == before
    h.stop()


# ---- single flight -----------------------------------------------------------------

@pytest.mark.parametrize("upstream_delay_ms", [0, 400])
def test_single_flight_across_children(site, emulator, make_session, creds, secrets,
                                       upstream_delay_ms, capsys):
    n = 16
    assert site.mpm == "prefork" and len(site.child_pids()) >= 4
    old = make_session("ada@example.com", expired=True)
    if upstream_delay_ms:
        emulator.fault(endpoint="refresh", delay_ms=upstream_delay_ms, count=1)
    before = emulator.counters()
    results = fl.burst([site], old.cookie, n)
    after = emulator.counters()

    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    statuses = [r.status_code for r in results]
    upstream = after["authenticate_refresh"] - before["authenticate_refresh"]
    children = {r.json()["ppid"] for r in results if r.status_code == 200}
    tokens = set()
    for r in results:
        if r.status_code == 200:
            value = fl.assembled(r)
            secrets.add("cookie", value)
            tokens.add(fl.unseal_session(value, creds.password)["refreshToken"])
    with capsys.disabled():
        print(f"\n  single flight (upstream delay {upstream_delay_ms} ms): {n} requests, "
              f"statuses {sorted(set(statuses))} x{statuses.count(200)} 200, "
              f"{upstream} upstream refresh(es), {len(children)} httpd children served, "
              f"{len(tokens)} distinct new refresh token(s)")
    assert statuses == [200] * n
    assert upstream == 1
    assert after["authenticate_errors"] == before["authenticate_errors"]
    assert len(tokens) == 1, "requests did not share one refresh result"
    assert len(children) >= 2, "the burst was not spread over several children"
    for r in results:
        env = r.json()["env"]
        assert env["WORKOS_USER_ID"] == old.claims["sub"]
        assert int(env["WORKOS_ACCESS_TOKEN_EXPIRES"]) > time.time()


# ---- terminal failures -------------------------------------------------------------

TERMINAL = {
    "invalid_grant": {"error": "invalid_grant"},
    "mfa_enrollment": {"error": "mfa_enrollment"},
    "sso_required": {"error": "sso_required"},
}
# A 4xx that is not WorkOS's verdict on the session (404, 401, invalid_client)
# keeps it: test_failures_refresh.py.


@pytest.mark.parametrize("kind", list(TERMINAL))
@pytest.mark.parametrize("client_kind", ["browser", "api"])
def test_terminal_refresh_failure_ends_the_session(site, emulator, make_session, kind,
                                                   client_kind):
    old = make_session("ada@example.com", expired=True)
    emulator.fault(endpoint="refresh", **TERMINAL[kind])
    before = refreshes(emulator)
    r = get(site, old.cookie, api=client_kind == "api")
    assert refreshes(emulator) == before + 1
    deleted = client.cleared(r, fl.SESSION)
    assert deleted is not None, "the session cookie was not cleared"
    assert deleted["path"] == "/"
    assert fl.session_cookies(r) == []
    if client_kind == "browser":
        assert r.status_code == 302
        base, params = client.location_query(r)
        assert base == emulator.url + "/user_management/authorize"
        assert params["provider"] == "authkit"
        assert any(n.startswith(fl.STATE_PREFIX) for n, _, _ in client.set_cookies(r))
    else:
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"].startswith("WorkOS")
        assert "Location" not in r.headers


# ---- retryable failures ------------------------------------------------------------

RETRYABLE = {
    "503_retry_after": ({"status": 503, "retry_after": 7}, 7),
    "429_retry_after": ({"status": 429, "retry_after": 2}, 2),
    "408": ({"status": 408}, None),
    "500": ({"status": 500}, None),
    "drop": ({"drop": True}, None),
}


def check_kept(r, retry_after):
    assert r.status_code == 503, f"{r.status_code}: {r.text[:200]}"
    value = r.headers.get("Retry-After")
    assert value and value.isdigit() and int(value) >= 1, value
    if retry_after is not None:
        assert int(value) == retry_after
    assert [n for n, _, _ in client.set_cookies(r) if n.startswith(fl.SESSION)] == [], \
        "the session cookie was touched"
    assert "Location" not in r.headers


@pytest.mark.parametrize("kind", list(RETRYABLE))
@pytest.mark.parametrize("client_kind", ["browser", "api"])
def test_retryable_refresh_failure_keeps_the_session(site, emulator, make_session, creds,
                                                     kind, client_kind):
    fault, retry_after = RETRYABLE[kind]
    old = make_session("ada@example.com", expired=True)
    emulator.fault(endpoint="refresh", **fault)
    before = refreshes(emulator)
    check_kept(get(site, old.cookie, api=client_kind == "api"), retry_after)
    assert refreshes(emulator) == before + 1
    emulator.clear_fault()
    assert_refreshed(get(site, old.cookie, api=client_kind == "api"), old, creds,
                     "ada@example.com")


@pytest.mark.expect_log(r"WOS00107")
def test_refresh_slower_than_the_http_timeout_is_503(httpd_factory, emulator, make_session,
                                                     creds):
    h = fl.new_httpd(httpd_factory, "refresh-timeout")
    h.start(fl.site(h, fl.server_conf(emulator, creds, "WorkOSHTTPTimeout 1")))
    old = make_session("ada@example.com", expired=True)
    # The emulator waits 4 s, then hangs up without spending the token.
    emulator.fault(endpoint="refresh", delay_ms=4000, drop=True)
    t0 = time.time()
    r = get(h, old.cookie)
    elapsed = time.time() - t0
    check_kept(r, None)
    assert 0.9 <= elapsed < 3.9, f"answered after {elapsed:.1f} s"
    emulator.clear_fault()
    assert_refreshed(get(h, old.cookie), old, creds, "ada@example.com")
    h.stop()
