# SPDX-License-Identifier: Apache-2.0
"""Issue 14: never sign a user out for the wrong reason. Through a real httpd
and the AuthKit emulator, each case of the issue: whether the session
survives or ends, whether the cookie is kept, replaced or deleted, the status
(200, 302, 401, 503 with Retry-After) and the log line.

A seal that opens with the cookie password is the module's own (or a Node
app's sharing the password): whatever is wrong with the token inside, WorkOS
decides through a refresh. Only WorkOS's verdict on the session ends it."""
import json
import re
import time

import pytest
import requests

import flowlib as fl
from flowlib import clean_emulator  # noqa: F401  (autouse fixture)
from harness import client
from harness.cookies import jwt_claims, jwt_header, sdk_session

STATUS = "/workos-status"
CACHE_CONTROL = "private, no-cache, no-store, must-revalidate, max-age=0"


def conf(h, emulator, creds, *extra):
    return (fl.site(h, fl.server_conf(emulator, creds, *extra))
            + f'<Location "{STATUS}">\n    SetHandler workos-status\n</Location>\n')


@pytest.fixture(scope="module")
def site(httpd_factory, emulator, creds):
    h = fl.new_httpd(httpd_factory, "failures", mpm="prefork")
    return h.start(conf(h, emulator, creds))


@pytest.fixture
def fresh(httpd_factory, emulator, creds, request):
    """fresh(*server_lines) -> an httpd of this test's own (caches start empty)."""

    def start(*extra):
        return fl.fresh_httpd(httpd_factory, request, lambda h: conf(h, emulator, creds, *extra))

    return start


def get(h, cookie, api=True, path="/private/env.cgi"):
    return client.request(h, "GET", path, headers=client.API if api else client.BROWSER,
                          cookie=f"{fl.SESSION}={cookie}" if cookie else None)


def refreshes(emulator):
    return emulator.counters()["authenticate_refresh"]


def counters(h):
    return requests.get(h.url + STATUS + "?format=json", timeout=30).json()


def log_lines(h, pattern):
    text = h.error_log.read_text(errors="replace") if h.error_log.exists() else ""
    return [line for line in text.splitlines() if re.search(pattern, line)]


def kept(r):
    """The session cookie neither deleted nor replaced."""
    assert fl.session_deletions(r) == [], client.set_cookies(r)
    assert fl.session_cookies(r) == [], client.set_cookies(r)


def unavailable(r, retry_after=None):
    assert r.status_code == 503, f"{r.status_code}: {r.text[:300]}"
    assert int(r.headers["Retry-After"]) > 0
    if retry_after is not None:
        assert r.headers["Retry-After"] == retry_after
    assert "REMOTE_USER" not in r.text


def replaced(r, secrets, password):
    """The one new session cookie a response stores (nothing deleted); its session."""
    (name, value, attrs), = fl.session_cookies(r)
    assert name == fl.SESSION and fl.session_deletions(r) == []
    secrets.add("cookie set by the module", value)
    return value, fl.unseal_session(value, password)


def forged(s, sealer, token, **fields):
    """Session s with its token replaced, sealed with the right password."""
    sealer.secrets.add("test token", token)
    return sealer.iron(dict(sdk_session(s.auth), accessToken=token, **fields))


def other_app_refreshes(emulator, creds, s, org=None):
    """A Node app sharing the cookie spends the session's refresh token first."""
    body = {"grant_type": "refresh_token", "client_id": creds.client_id,
            "client_secret": creds.api_key, "refresh_token": s.auth["refresh_token"]}
    if org:
        body["organization_id"] = org
    r = requests.post(emulator.url + "/user_management/authenticate", json=body, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


# ---- 1. one cookie up to 4096 bytes ------------------------------------------------

def test_session_up_to_4096_bytes_is_one_cookie(site, emulator, make_session, creds, secrets):
    """60 permissions: more than the 3800 bytes the module used to split at,
    within what a browser stores in one cookie. The SDKs read only the
    unchunked name, so it is one cookie, and the chunks it replaces go."""
    old = make_session("sixty@example.com", expired=True)
    assert len(jwt_claims(old.token)["permissions"]) == 60
    chunks = [old.cookie[:2000], old.cookie[2000:]]
    r = client.request(site, "GET", "/private/env.cgi", headers=client.API,
                       cookie=f"{fl.SESSION}.0={chunks[0]}; {fl.SESSION}.1={chunks[1]}")
    fl.check_identity(r, "sixty@example.com")
    (name, value, attrs), = fl.session_cookies(r)
    secrets.add("cookie set by the module", value)
    assert name == fl.SESSION
    assert 3800 < len(value) and len(name) + len(value) <= 4096, len(value)
    assert fl.session_deletions(r) == [f"{fl.SESSION}.0", f"{fl.SESSION}.1"]
    a = fl.sdk_authenticate(emulator, creds.password, value)
    assert a["authenticated"] is True and len(a["permissions"]) == 60, a


def test_session_beyond_4096_bytes_is_chunked(site, make_session, secrets):
    old = make_session("many@example.com", expired=True)
    r = get(site, old.cookie)
    fl.check_identity(r, "many@example.com")
    names = [n for n, v, a in fl.session_cookies(r)]
    assert len(names) >= 2 and names == [f"{fl.SESSION}.{i}" for i in range(len(names))]
    assert fl.session_deletions(r) == [fl.SESSION]
    for _, v, _ in fl.session_cookies(r):
        secrets.add("cookie set by the module", v)


# ---- 2. unknown kid: refetch (throttled), then refresh, else 503 ---------------------

def test_key_rotation_with_a_lagging_jwks_keeps_the_session(fresh, emulator, make_session,
                                                            creds, secrets):
    site = fresh("WorkOSJWKSCacheTTL 2")
    s = make_session("ada@example.com")
    assert get(site, s.cookie).status_code == 200
    new_kid = emulator.rotate(publish=False)["kid"]
    assert new_kid not in [k["kid"] for k in emulator.jwks()["keys"]]
    s2 = make_session("grace@example.com")          # signed with the unpublished key
    assert jwt_header(s2.token)["kid"] == new_kid
    before = refreshes(emulator)
    r = get(site, s2.cookie)
    unavailable(r, "5")
    # Refreshed (the old refresh token is spent): the new cookie is kept, not deleted.
    value, new = replaced(r, secrets, creds.password)
    assert jwt_header(new["accessToken"])["kid"] == new_kid
    assert refreshes(emulator) == before + 1
    assert log_lines(site, r"WOS00107: .*did not verify")
    # The JWKS catches up: the same session is served, with no sign-in.
    emulator.publish()
    time.sleep(2.5)                                  # past WorkOSJWKSCacheTTL
    r = get(site, value)
    fl.check_identity(r, "grace@example.com")
    kept(r)
    assert refreshes(emulator) == before + 1
    assert get(site, s.cookie).status_code == 200    # the old key still verifies


@pytest.mark.expect_log(r"\[auth_workos:error\]")
def test_unknown_kid_during_a_jwks_outage_is_503_with_the_cookie_kept(fresh, emulator,
                                                                     make_session, creds):
    site = fresh()
    s = make_session("ada@example.com")
    assert get(site, s.cookie).status_code == 200
    emulator.rotate()
    emulator.fault(endpoint="jwks", status=503, count=-1)
    emulator.fault(endpoint="refresh", status=503, count=-1, retry_after=9)
    s2 = make_session("linus@example.com")           # a key this httpd never saw
    for api in (True, False):
        r = get(site, s2.cookie, api=api)
        unavailable(r, "9")
        kept(r)
    assert get(site, s.cookie).status_code == 200


# ---- 3. a token that fails verification inside a valid seal ----------------------------

@pytest.mark.parametrize("how", ["bad-signature", "iat-in-the-future", "wrong-claim-type"])
def test_token_failing_verification_is_refreshed_not_ended(site, emulator, make_session,
                                                           sealer, creds, secrets, how):
    s = make_session("grace@example.com")
    now = int(time.time())
    claims = {"bad-signature": s.claims,
              "iat-in-the-future": dict(s.claims, iat=now + 3600),
              "wrong-claim-type": dict(s.claims, roles="admin")}[how]
    key = "rogue" if how == "bad-signature" else "current"
    kid = emulator.keys()["current_kid"]
    token = emulator.sign({"alg": "RS256", "kid": kid, "typ": "JWT"}, claims, key=key)
    cookie = forged(s, sealer, token)
    before = refreshes(emulator)
    r = get(site, cookie, api=False)
    fl.check_identity(r, "grace@example.com")
    value, new = replaced(r, secrets, creds.password)
    assert new["accessToken"] != token and new["refreshToken"] != s.auth["refresh_token"]
    assert refreshes(emulator) == before + 1
    assert log_lines(site, r"WOS00103: .*access token refused: .*; session refreshed")


def test_token_failing_verification_ends_when_workos_says_so(site, emulator, make_session,
                                                             sealer):
    s = make_session("grace@example.com")
    token = emulator.sign({"alg": "RS256", "kid": emulator.keys()["current_kid"],
                           "typ": "JWT"}, s.claims, key="rogue")
    emulator.fault(endpoint="refresh", error="invalid_grant", count=1)
    r = get(site, forged(s, sealer, token))
    assert r.status_code == 401
    assert fl.session_deletions(r) == [fl.SESSION]


# ---- 4. a proactive refresh that fails while the token is still valid ---------------------

@pytest.mark.parametrize("how", ["spent-by-another-app", "workos-down", "module-refused"])
@pytest.mark.expect_log(r"WOS01401")
def test_failed_proactive_refresh_serves_the_valid_token(site, emulator, make_session, creds,
                                                         how):
    s = make_session("ada@example.com", ttl=40)      # inside WorkOSRefreshBeforeExpiry (60)
    if how == "spent-by-another-app":
        other_app_refreshes(emulator, creds, s)
    elif how == "workos-down":
        emulator.fault(endpoint="refresh", status=503, count=-1)
    else:
        emulator.fault(endpoint="refresh", error="invalid_client", count=-1)
    before = refreshes(emulator)
    for api in (True, False):
        r = get(site, s.cookie, api=api)
        env = fl.check_identity(r, "ada@example.com")
        assert env["WORKOS_SESSION_ID"] == s.claims["sid"]
        assert env["WORKOS_ACCESS_TOKEN_EXPIRES"] == str(s.claims["exp"])
        kept(r)
    assert refreshes(emulator) > before


# ---- 5. WorkOS refuses the module itself ---------------------------------------------------

REFUSALS = {
    "api-key-revoked": None,            # the emulator's own check of a wrong API key
    "401-invalid-client": {"error": "invalid_client"},
    "401-bare": {"status": 401, "body": {"message": "Unauthorized"}},
    "403-waf-page": {"status": 403, "body": "<html><h1>Request blocked</h1></html>"},
    "404": {"status": 404, "body": {"message": "Not Found"}},
}


@pytest.mark.parametrize("how", sorted(REFUSALS))
@pytest.mark.expect_log(r"WOS01401")
def test_workos_refusing_the_module_keeps_every_session(httpd_factory, request, emulator, creds,
                                                       make_session, secrets, how):
    revoked = secrets.add("revoked API key", "sk_test_revoked_0123456789abcdef")
    key = revoked if how == "api-key-revoked" else creds.api_key

    def config(h):
        return conf(h, emulator, creds).replace("WorkOSAPIKey env:WOS_IT_API_KEY",
                                                 "WorkOSAPIKey env:WOS_IT_KEY_IN_USE")

    site = fl.fresh_httpd(lambda name, mpm=None: httpd_factory(
        name, mpm=mpm, env=dict(fl.sanitizer_env(), WOS_IT_KEY_IN_USE=key)), request, config)
    if REFUSALS[how]:
        emulator.fault(endpoint="refresh", count=-1, **REFUSALS[how])
    sessions = [make_session(e, expired=True) for e in ("ada@example.com", "grace@example.com")]
    for s in sessions:
        for api in (True, False):
            r = get(site, s.cookie, api=api)
            unavailable(r, "30")
            kept(r)
    # Said loudly, once a minute, naming the cause; counted.
    lines = log_lines(site, r"\[auth_workos:error\].*WOS01401")
    assert len(lines) == 1, lines
    assert "WorkOSAPIKey" in lines[0]
    assert counters(site)["refresh_failed_module_refused"] == 4
    assert counters(site)["ended"] == 0
    # Once the operator fixed it, the same cookies work.
    emulator.clear_fault()
    if how == "api-key-revoked":
        site.stop()
        site.env["WOS_IT_KEY_IN_USE"] = creds.api_key
        site.start(config(site))
    for s in sessions:
        assert get(site, s.cookie).status_code == 200


# ---- 6. logout without a verifiable token ------------------------------------------------

@pytest.mark.parametrize("how", ["jwks-unreachable", "key-rotated-away"])
def test_logout_reaches_workos_without_verifying_the_token(fresh, emulator, make_session,
                                                           sealer, creds, how):
    site = fresh()
    s = make_session("ada@example.com")
    if how == "jwks-unreachable":
        emulator.fault(endpoint="jwks", status=503, count=-1)
        cookie = s.cookie
    else:
        assert get(site, s.cookie).status_code == 200
        token = emulator.sign({"alg": "RS256", "kid": "sso_oidc_key_pair_01GONE",
                               "typ": "JWT"}, s.claims, key="rogue")
        cookie = forged(s, sealer, token)
    r = client.request(site, "GET", fl.LOGOUT, headers=client.BROWSER,
                       cookie=f"{fl.SESSION}={cookie}")
    assert r.status_code == 302
    base, params = client.location_query(r)
    assert base == emulator.url + "/user_management/sessions/logout"
    assert params["session_id"] == s.claims["sid"]
    assert params["return_to"] == site.url + fl.BYE
    assert fl.session_deletions(r) == [fl.SESSION]
    # The WorkOS session is over: its refresh token no longer works.
    requests.get(r.headers["Location"], allow_redirects=False, timeout=30)
    emulator.clear_fault()
    gone = requests.post(emulator.url + "/user_management/authenticate", timeout=30, json={
        "grant_type": "refresh_token", "client_id": creds.client_id,
        "client_secret": creds.api_key, "refresh_token": s.auth["refresh_token"]})
    assert gone.status_code == 400 and gone.json()["error"] == "invalid_grant"


# ---- 7. organization switch that needs SSO or MFA enrollment -------------------------------

def test_switch_needing_sso_goes_to_the_authkit_redirect_url(site, emulator, make_session):
    s = make_session("ada@example.com")
    target = fl.ORGS["Globex"]
    url = emulator.url + "/authkit/sso-for-globex?pending=p1"
    emulator.fault(endpoint="refresh", error="sso_required", authkit_redirect_url=url, count=1)
    r = fl.Browser(site).switch(target, cookie=f"{fl.SESSION}={s.cookie}")
    assert r.status_code == 302, r.text[:300]
    assert r.headers["Location"] == url
    kept(r)                                          # still signed in to Acme meanwhile
    (call,) = fl.authenticate_calls(emulator, "refresh_token")[-1:]
    assert call["params"]["organization_id"] == target
    assert log_lines(site, r"WOS01402: .*sso_required.*authkit_redirect_url")
    assert get(site, s.cookie).status_code == 200


def test_switch_needing_mfa_enrollment_signs_in_with_the_organization(site, emulator,
                                                                      make_session):
    s = make_session("ada@example.com")
    target = fl.ORGS["Globex"]
    emulator.fault(endpoint="refresh", error="mfa_enrollment", count=1)
    r = fl.Browser(site).switch(target, "/private/", cookie=f"{fl.SESSION}={s.cookie}")
    params = fl.authorize_params(r, emulator)
    assert params["organization_id"] == target and params["provider"] == "authkit"
    assert [n for n, v, a in client.set_cookies(r) if n.startswith(fl.STATE_PREFIX)]
    kept(r)


def test_switch_refused_for_a_non_member_is_still_403(site, make_session):
    s = make_session("linus@example.com")
    r = fl.Browser(site).switch(fl.ORGS["Acme"], cookie=f"{fl.SESSION}={s.cookie}")
    assert r.status_code == 403
    kept(r)


# ---- 8. WorkOSOrganization keeps AuthKit; WorkOSConnection is SSO only ---------------------

@pytest.mark.parametrize("directive,want", [
    ("WorkOSOrganization org_01GLOBEX000000000000000000",
     {"provider": "authkit", "organization_id": "org_01GLOBEX000000000000000000"}),
    ("WorkOSConnection conn_01SSO", {"connection_id": "conn_01SSO"}),
])
def test_sign_in_scope(fresh, emulator, directive, want):
    site = fresh(directive)
    r = client.request(site, "GET", fl.LOGIN, headers=client.BROWSER)
    params = fl.authorize_params(r, emulator)
    got = {k: params.get(k) for k in ("provider", "organization_id", "connection_id")}
    assert got == dict({"provider": None, "organization_id": None, "connection_id": None},
                       **want)


# ---- 9. plain refreshes stay in the token's organization ----------------------------------

def test_plain_refresh_sends_the_tokens_organization(site, emulator, make_session, creds,
                                                      secrets):
    target = fl.admin_org("grace@example.com")
    old = make_session("grace@example.com", org=target, expired=True)
    r = get(site, old.cookie)
    env = fl.check_identity(r, "grace@example.com", target)
    assert env["WORKOS_ROLE"] == "admin"
    (call,) = fl.authenticate_calls(emulator, "refresh_token")[-1:]
    assert call["params"]["organization_id"] == old.claims["org_id"] == target
    replaced(r, secrets, creds.password)


# ---- 10. what the Node SDK 12 requires of a user access token -----------------------------

@pytest.mark.parametrize("how", ["no-sid", "no-iat", "no-auth-time", "agent-profile",
                                 "widget-sub-type"])
def test_token_the_node_sdk_refuses_is_not_served_as_is(site, emulator, make_session, sealer,
                                                        creds, secrets, how):
    s = make_session("ada@example.com")
    drop = {"no-sid": "sid", "no-iat": "iat", "no-auth-time": "auth_time"}.get(how)
    claims = {k: v for k, v in s.claims.items() if k != drop}
    if how == "agent-profile":
        claims["sub_profile"] = "agent"
    if how == "widget-sub-type":
        claims["sub_type"] = "widget"
    token = emulator.sign({"alg": "RS256", "kid": emulator.keys()["current_kid"],
                           "typ": "JWT"}, claims)
    cookie = forged(s, sealer, token)
    assert fl.sdk_authenticate(emulator, creds.password, cookie)["authenticated"] is False
    r = get(site, cookie)
    fl.check_identity(r, "ada@example.com")
    value, new = replaced(r, secrets, creds.password)
    assert new["accessToken"] != token


# ---- 11. sign-in state cookies of our own ----------------------------------------------------

def test_sign_in_leaves_authkit_nextjs_state_cookies_alone(site, emulator):
    theirs = [f"wos-auth-verifier-{i:016x}" for i in range(5)]
    r = client.request(site, "GET", "/private/env.cgi", headers=client.BROWSER,
                       cookie="; ".join(f"{n}=theirs" for n in theirs))
    fl.authorize_params(r, emulator)
    set_names = [n for n, v, a in client.set_cookies(r)]
    assert not [n for n in set_names if n.startswith("wos-auth-verifier-")], set_names
    mine = [n for n in set_names if n.startswith(fl.STATE_PREFIX)]
    assert len(mine) == 1 and re.fullmatch(r"wos-mod-state-[0-9a-f]{16}", mine[0])


# ---- 12. cache headers, also through a subrequest ------------------------------------------

def test_authenticated_answers_are_private_and_vary_on_cookie(site, make_session):
    s = make_session("ada@example.com")
    r = get(site, s.cookie)
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == CACHE_CONTROL
    assert "cookie" in [v.strip().lower() for v in r.headers["Vary"].split(",")]


@pytest.fixture(scope="module")
def ssi_site(httpd_factory, emulator, creds):
    h = fl.new_httpd(httpd_factory, "ssi")
    wos = ("AuthType WorkOS", "WorkOSUnauthAction pass")
    body = (fl.server_conf(emulator, creds)
            + h.cgi_location("/c-prot/", *wos, "Require valid-user")
            + h.static_location("/ssi/", "Options +Includes", "AddOutputFilter INCLUDES .shtml",
                                "Require all granted"))
    (h.dir / "htdocs").mkdir(exist_ok=True)
    (h.dir / "htdocs" / "page.shtml").write_text(
        "open page\n<!--#include virtual=\"/c-prot/env.cgi\" -->\n")
    return h.start(body)


@pytest.mark.expect_log(r'unable to include "/c-prot/env\.cgi".*returned 401')
def test_authenticated_content_included_by_a_subrequest_is_private(ssi_site, make_session):
    s = make_session("ada@example.com")
    r = client.request(ssi_site, "GET", "/ssi/page.shtml", headers=client.API,
                       cookie=f"{fl.SESSION}={s.cookie}")
    assert r.status_code == 200 and "ada@example.com" in r.text
    assert r.headers.get("Cache-Control") == CACHE_CONTROL
    assert [v.strip() for v in r.headers["Vary"].split(",")].count("Cookie") == 1
    anon = client.request(ssi_site, "GET", "/ssi/page.shtml", headers=client.API)
    assert anon.status_code == 200 and "ada@example.com" not in anon.text
    assert "Cache-Control" not in anon.headers
