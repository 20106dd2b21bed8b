# SPDX-License-Identifier: Apache-2.0
"""Access-token verification against the emulator's JWKS: fetched once and
shared by all httpd children; unknown kids refetch at most once a minute;
outages with keys cached keep sessions working, without keys give 503; key
rotation; expired tokens and clock skew; WorkOSIssuer, WorkOSJWKSCacheTTL,
WorkOSHTTPTimeout, WorkOSCache. Each test that depends on what httpd has
cached gets its own freshly started httpd."""
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import flowlib as fl
from flowlib import clean_emulator  # noqa: F401  (autouse fixture)
from harness.client import api, browser, cgi_env, cleared, set_cookies
from harness.cookies import jwt_header, sdk_session

UNKNOWN_KID = "sso_oidc_key_pair_01UNKNOWNKID00000000000000"
AUTH = ("AuthType WorkOS", "Require valid-user")
NO_KEYS_LOG = r"\[auth_workos:error\]"   # the module says loudly that it has no keys


@pytest.fixture
def fresh(httpd_factory, wos_server_conf, request):
    """fresh(server_lines="", mpm=None, extra="") -> a newly started httpd for this
    test; "{run}" in server_lines is the instance's run directory."""

    def start(server_lines="", mpm=None, extra=""):
        return fl.fresh_httpd(httpd_factory, request, lambda h: (
            wos_server_conf + server_lines.replace("{run}", str(h.dir / "run"))
            + "KeepAlive Off\n" + h.cgi_location("/c/", *AUTH) + extra), mpm=mpm)

    return start


def forged_cookie(s, sealer, emulator, kid=UNKNOWN_KID, key="rogue", claims=None):
    """The session s with its token replaced by one signed as told."""
    token = emulator.sign({"alg": "RS256", "kid": kid, "typ": "JWT"}, claims or s.claims, key=key)
    sealer.secrets.add("forged token", token)
    return sealer.iron(dict(sdk_session(s.auth), accessToken=token))


def many(n, fn, workers=8):
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, range(n)))


def served_pids(site, offset, path):
    pids = set()
    for line in site.access_since(offset).splitlines():
        if f" {path}" in line:
            pids.add(re.search(r"pid=(\d+)", line).group(1))
    return pids


def not_served_as_is(r, email):
    """An expired token must not be honoured unless the module refreshed it."""
    if r.status_code == 200:
        fresh_cookie = [v for n, v, a in set_cookies(r)
                        if n.startswith("wos-session") and v and not cleared(r, n)]
        assert fresh_cookie, "served with an expired token and no new session cookie"
        assert cgi_env(r)["WORKOS_USER_EMAIL"] == email
        return "refreshed"
    assert r.status_code in (302, 401), r.text[:200]
    return "refused"


# ---- caching across processes ----------------------------------------------

@pytest.mark.parametrize("mpm,cache", [("prefork", ""),
                                       ("prefork", "WorkOSCache shmcb:{run}/wos(512000)\n"),
                                       ("event", "")],
                         ids=["prefork", "prefork-shmcb-file", "event"])
def test_jwks_fetched_once_for_many_requests_across_children(fresh, emulator, make_session,
                                                            mpm, cache):
    site = fresh(server_lines=cache, mpm=mpm)
    sessions = [make_session(e) for e in ("ada@example.com", "grace@example.com",
                                          "linus@example.com")]
    offset = site.access_size()
    results = many(60, lambda i: api(site, "/c/env.cgi", session=sessions[i % 3]))
    assert [r.status_code for r in results] == [200] * 60
    assert [cgi_env(r)["WORKOS_USER_EMAIL"] for r in results[:3]] == [
        "ada@example.com", "grace@example.com", "linus@example.com"]
    assert emulator.counters()["jwks"] == 1
    if mpm == "prefork":
        assert len(served_pids(site, offset, "/c/env.cgi")) >= 2


def refreshed_cookie(r):
    """The new session cookie a response sets (asserting there is exactly one)."""
    new = [v for n, v, a in set_cookies(r) if n == "wos-session" and v]
    assert len(new) == 1 and cleared(r) is None, set_cookies(r)
    return new[0]


def test_unknown_kid_refetches_at_most_once_then_refreshes(fresh, emulator, make_session,
                                                           sealer):
    """A token in a seal of ours whose kid the JWKS lacks is no attack: one
    throttled refetch, then one refresh (shared by every request), and the
    refreshed session is served; never the unverified token."""
    site = fresh()
    s = make_session("ada@example.com")
    assert api(site, "/c/env.cgi", session=s).status_code == 200
    assert emulator.counters()["jwks"] == 1
    cookie = forged_cookie(s, sealer, emulator)
    other = forged_cookie(s, sealer, emulator, kid=UNKNOWN_KID.replace("UNKNOWN", "ANOTHER"))
    started = time.time()
    results = many(40, lambda i: api(site, "/c/env.cgi",
                                     cookie=f"wos-session={cookie if i % 2 else other}"))
    assert [r.status_code for r in results] == [200] * 40
    assert {cgi_env(r)["WORKOS_USER_EMAIL"] for r in results} == {"ada@example.com"}
    assert all(refreshed_cookie(r) for r in results)
    r = browser(site, "/c/env.cgi", cookie=f"wos-session={cookie}")
    assert r.status_code == 200 and refreshed_cookie(r)
    assert time.time() - started < 60
    assert emulator.counters()["jwks"] <= 2
    assert emulator.counters()["authenticate_refresh"] == 1
    # Valid sessions are unaffected.
    assert api(site, "/c/env.cgi", session=s).status_code == 200


def test_unknown_kid_on_a_cold_cache_is_refreshed(fresh, emulator, make_session, sealer):
    site = fresh()
    s = make_session("grace@example.com")
    cookie = forged_cookie(s, sealer, emulator)
    results = many(20, lambda i: api(site, "/c/env.cgi", cookie=f"wos-session={cookie}"))
    assert [r.status_code for r in results] == [200] * 20
    assert all(refreshed_cookie(r) for r in results)
    assert emulator.counters()["jwks"] <= 2
    assert emulator.counters()["authenticate_refresh"] == 1


# ---- outages -----------------------------------------------------------------

def test_outage_with_keys_cached_keeps_sessions_working(fresh, emulator, make_session):
    site = fresh()
    a = make_session("ada@example.com")
    assert api(site, "/c/env.cgi", session=a).status_code == 200
    emulator.fault(endpoint="jwks", status=503, count=-1)
    b = make_session("linus@example.com")      # same signing key, never seen by httpd
    results = many(20, lambda i: api(site, "/c/env.cgi", session=(a, b)[i % 2]))
    assert [r.status_code for r in results] == [200] * 20
    assert cgi_env(results[1])["WORKOS_USER_EMAIL"] == "linus@example.com"


OUTAGES = {
    "status-503": {"status": 503},
    "status-500": {"status": 500},
    "status-404": {"status": 404},
    "drop": {"drop": True},
    "slow": {"delay_ms": 8000},
    "endless": {"endless": True},
    "oversized": {"size": 3 * 1024 * 1024},
    "not-a-key-set": {"status": 200, "body": {"keys": "none"}},
}


@pytest.mark.expect_log(NO_KEYS_LOG)
@pytest.mark.parametrize("kind", sorted(OUTAGES))
def test_outage_with_nothing_cached_is_503(fresh, emulator, make_session, kind):
    site = fresh(server_lines="WorkOSHTTPTimeout 2\n")
    s = make_session("ada@example.com")
    emulator.fault(endpoint="jwks", count=-1, **OUTAGES[kind])
    started = time.time()
    r = api(site, "/c/env.cgi", session=s)
    assert r.status_code == 503, r.text[:200]
    assert time.time() - started < 2 + 6
    r = browser(site, "/c/env.cgi", session=s)
    assert r.status_code == 503
    assert "Location" not in r.headers
    # A transient failure is not the session's fault: its cookie stays.
    assert cleared(r) is None
    assert s.token not in r.text


def test_slow_jwks_within_the_timeout_is_waited_for(fresh, emulator, make_session):
    site = fresh(server_lines="WorkOSHTTPTimeout 10\n")
    s = make_session("ada@example.com")
    emulator.fault(endpoint="jwks", delay_ms=2500, count=1)
    r = api(site, "/c/env.cgi", session=s)
    assert r.status_code == 200
    assert emulator.counters()["jwks"] == 1


# ---- rotation and TTL --------------------------------------------------------

def test_rotated_key_is_fetched_and_old_key_still_works(fresh, emulator, make_session):
    site = fresh()
    old = make_session("ada@example.com")
    assert api(site, "/c/env.cgi", session=old).status_code == 200
    assert emulator.counters()["jwks"] == 1
    new_kid = emulator.rotate()["kid"]
    new = make_session("grace@example.com")
    assert jwt_header(new.token)["kid"] == new_kid
    r = api(site, "/c/env.cgi", session=new)
    assert r.status_code == 200
    assert cgi_env(r)["WORKOS_USER_EMAIL"] == "grace@example.com"
    assert emulator.counters()["jwks"] == 2
    assert api(site, "/c/env.cgi", session=old).status_code == 200
    assert api(site, "/c/env.cgi", session=new).status_code == 200
    assert emulator.counters()["jwks"] == 2


def test_jwks_cache_ttl(fresh, emulator, make_session):
    # No session cache: every request needs the keys (else a cached session
    # would be served without them, and the third request fetch nothing).
    site = fresh(server_lines="WorkOSJWKSCacheTTL 2\nWorkOSSessionCache 0\n"
                              "WorkOSSessionCacheSize 0\n")
    s = make_session("ada@example.com")
    assert api(site, "/c/env.cgi", session=s).status_code == 200
    assert api(site, "/c/env.cgi", session=s).status_code == 200
    assert emulator.counters()["jwks"] == 1
    time.sleep(3.5)
    assert api(site, "/c/env.cgi", session=s).status_code == 200
    assert emulator.counters()["jwks"] == 2


# ---- expiry, skew, issuer ----------------------------------------------------

@pytest.fixture(scope="module")
def shared(httpd_factory, wos_server_conf, emulator):
    h = httpd_factory("shared")
    iss = f"{emulator.url}/user_management/{emulator.client_id}"
    conf = (wos_server_conf
            + h.cgi_location("/c/", *AUTH)
            + h.cgi_location("/skew0/", *AUTH, "WorkOSClockSkew 0")
            + h.cgi_location("/skew600/", *AUTH, "WorkOSClockSkew 600")
            + h.cgi_location("/iss-ok/", *AUTH, f"WorkOSIssuer https://api.workos.com {iss}")
            + h.cgi_location("/iss-bad/", *AUTH, "WorkOSIssuer https://api.workos.com "
                             f"{iss}/other"))
    return h.start(conf)


def test_expired_token_is_not_accepted_as_is(shared, make_session):
    s = make_session("ada@example.com", expired=True)
    assert s.claims["exp"] < time.time() - 60
    not_served_as_is(api(shared, "/c/env.cgi", session=s), "ada@example.com")
    r = browser(shared, "/c/env.cgi", session=make_session("ada@example.com", expired=True))
    not_served_as_is(r, "ada@example.com")


def signed_with_exp(s, sealer, emulator, age):
    """The session s with its token re-signed (real key) to have expired `age` s ago."""
    now = int(time.time())
    claims = dict(s.claims, exp=now - age, iat=now - age - 300)
    kid = emulator.keys()["current_kid"]
    return forged_cookie(s, sealer, emulator, kid=kid, key="current", claims=claims)


def test_token_expired_within_the_skew_is_accepted(shared, make_session, sealer, emulator,
                                                   expect_log):
    """With refreshing unavailable (503), only the skew decides."""
    expect_log(r"\[auth_workos:(error|warn)\]")
    s = make_session("grace@example.com")
    cookie = signed_with_exp(s, sealer, emulator, 20)
    emulator.fault(endpoint="refresh", status=503, count=-1)
    r = api(shared, "/c/env.cgi", cookie=f"wos-session={cookie}")
    assert r.status_code == 200
    assert cgi_env(r)["WORKOS_USER_EMAIL"] == "grace@example.com"
    assert cleared(r) is None
    r = api(shared, "/skew0/env.cgi", cookie=f"wos-session={cookie}")
    assert r.status_code in (401, 503), r.text[:200]


def test_a_large_skew_accepts_an_older_token(shared, make_session, sealer, emulator,
                                             expect_log):
    expect_log(r"\[auth_workos:(error|warn)\]")
    s = make_session("linus@example.com")
    cookie = signed_with_exp(s, sealer, emulator, 300)
    emulator.fault(endpoint="refresh", status=503, count=-1)
    r = api(shared, "/skew600/env.cgi", cookie=f"wos-session={cookie}")
    assert r.status_code == 200
    assert cgi_env(r)["WORKOS_USER_EMAIL"] == "linus@example.com"
    r = api(shared, "/c/env.cgi", cookie=f"wos-session={cookie}")
    assert r.status_code in (401, 503), r.text[:200]


def test_expired_tokens_are_refreshed_with_a_new_cookie(shared, make_session, sealer,
                                                       emulator):
    """Once refreshing works (issue 4), an expired token yields a new session cookie."""
    s = make_session("ada@example.com")
    cookie = signed_with_exp(s, sealer, emulator, 300)
    r = api(shared, "/c/env.cgi", cookie=f"wos-session={cookie}")
    assert not_served_as_is(r, "ada@example.com") == "refreshed"
    assert emulator.counters()["authenticate_refresh"] == 1


def test_issuer_check(shared, make_session):
    s = make_session("ada@example.com")
    assert cgi_env(api(shared, "/iss-ok/env.cgi", session=s))["WORKOS_USER_EMAIL"] == "ada@example.com"
    # An issuer the configuration does not accept is the operator's mistake, not
    # the session's end: WorkOS is asked (a refresh), the answer is no better,
    # so 503 with the new cookie kept (the old refresh token is spent).
    r = api(shared, "/iss-bad/env.cgi", session=s)
    assert r.status_code == 503 and r.headers.get("Retry-After")
    assert refreshed_cookie(r)


def test_without_issuer_directive_any_issuer_is_accepted(shared, make_session, sealer, emulator):
    s = make_session("ada@example.com")
    kid = emulator.keys()["current_kid"]
    cookie = forged_cookie(s, sealer, emulator, kid=kid, key="current",
                           claims=dict(s.claims, iss="https://auth.example.com"))
    r = api(shared, "/c/env.cgi", cookie=f"wos-session={cookie}")
    assert r.status_code == 200
    # Where the issuer is checked, that token is not believed: WorkOS's is.
    r = api(shared, "/iss-ok/env.cgi", cookie=f"wos-session={cookie}")
    assert r.status_code == 200 and refreshed_cookie(r)


@pytest.mark.parametrize("mpm", ["event", "prefork"])
@pytest.mark.expect_log(r"AH00493|AH00489|AH00094|AH00171|AH00163")
def test_keys_survive_a_graceful_restart_while_workos_is_down(fresh, emulator, make_session,
                                                              mpm):
    """New children after a restart verify with the keys fetched before it."""
    h = fresh(mpm=mpm)
    s = make_session("ada@example.com")
    assert api(h, "/c/env.cgi", session=s).status_code == 200
    assert emulator.counters()["jwks"] == 1
    emulator.fault(endpoint="jwks", count=-1, status=503)
    for _ in range(2):
        h.graceful()
        other = make_session("grace@example.com")     # never seen: no cached verification
        for sess, email in ((s, "ada@example.com"), (other, "grace@example.com")):
            r = api(h, "/c/env.cgi", session=sess)
            assert r.status_code == 200, r.text[:200]
            assert cgi_env(r)["WORKOS_USER_EMAIL"] == email
    assert emulator.counters()["jwks"] == 1
