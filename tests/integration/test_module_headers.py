# SPDX-License-Identifier: Apache-2.0
"""The identity as request headers to a proxied backend (WorkOSPassClaimsAs
headers, both, none), the access token as X-WorkOS-Access-Token and
Authorization: Bearer, CR/LF neutralised in values, and the scrubbing of
forged identity headers wherever the module is configured: authenticated,
`pass` anonymous and OPTIONS requests, in environment and headers mode, for
backends and CGI alike. Locations without the module are the control: the
same forged headers reach the backend there."""
import json
import secrets as pysecrets

import pytest

from harness.backend import headers_of
from harness.client import api, cgi_env, request
from harness.cookies import sdk_session
from harness.emulator import org_id

ACME = org_id("Acme")

SPEC_HEADERS = {
    "WORKOS_USER_ID": "X-WorkOS-User-Id",
    "WORKOS_USER_EMAIL": "X-WorkOS-User-Email",
    "WORKOS_USER_FIRST_NAME": "X-WorkOS-User-First-Name",
    "WORKOS_USER_LAST_NAME": "X-WorkOS-User-Last-Name",
    "WORKOS_USER_EMAIL_VERIFIED": "X-WorkOS-User-Email-Verified",
    "WORKOS_ORGANIZATION_ID": "X-WorkOS-Organization-Id",
    "WORKOS_ROLE": "X-WorkOS-Role",
    "WORKOS_ROLES": "X-WorkOS-Roles",
    "WORKOS_PERMISSIONS": "X-WorkOS-Permissions",
    "WORKOS_ENTITLEMENTS": "X-WorkOS-Entitlements",
    "WORKOS_FEATURE_FLAGS": "X-WorkOS-Feature-Flags",
    "WORKOS_SESSION_ID": "X-WorkOS-Session-Id",
    "WORKOS_AUTHENTICATION_METHOD": "X-WorkOS-Authentication-Method",
    "WORKOS_IMPERSONATOR_EMAIL": "X-WorkOS-Impersonator-Email",
    "WORKOS_IMPERSONATOR_REASON": "X-WorkOS-Impersonator-Reason",
    "WORKOS_ACCESS_TOKEN_EXPIRES": "X-WorkOS-Access-Token-Expires",
    "WORKOS_ACCESS_TOKEN": "X-WorkOS-Access-Token",
}

# Client headers the module must remove: X-WorkOS-* (any case, '-' or '_'),
# anything equal to a WORKOS_* variable, REMOTE_USER or AUTH_TYPE.
RESERVED = ["X-WorkOS-User-Id", "x-workos-user-id", "X_WorkOS_User_Id", "X-WORKOS-ROLE",
            "X-WorkOS-Role", "X-WorkOS-Custom-Thing", "x_workos_anything", "WorkOS-User-Id",
            "WORKOS-USER-ID", "WORKOS_ROLE", "Workos-Permissions", "Remote-User",
            "REMOTE_USER", "Auth-Type", "auth_type", "X-WorkOS-Access-Token",
            # The whole WORKOS_ namespace is reserved, not only today's variables.
            "WorkOS-Team", "WorkOS-User"]
# Similar names that are not reserved and must pass untouched.
NOT_RESERVED = ["X-WorkOSish", "X-Remote-User", "X-Auth-Type-Hint", "WorkOSTeam"]


@pytest.fixture(scope="module")
def site(httpd_factory, wos_server_conf, backend):
    h = httpd_factory()
    b = backend.url
    auth = ("AuthType WorkOS", "Require valid-user")
    conf = (wos_server_conf
            + h.proxy_location("/h/", b, *auth, "WorkOSPassClaimsAs headers")
            + h.proxy_location("/h-token/", b, *auth, "WorkOSPassClaimsAs headers",
                               "WorkOSPassAccessToken On")
            + h.proxy_location("/h-both/", b, *auth, "WorkOSPassClaimsAs both",
                               "WorkOSPassAccessToken On")
            + h.proxy_location("/h-env/", b, *auth)
            + h.proxy_location("/h-none/", b, *auth, "WorkOSPassClaimsAs none",
                               "WorkOSPassAccessToken On")
            + h.proxy_location("/h-pass/", b, "AuthType WorkOS", "WorkOSUnauthAction pass",
                               "WorkOSPassClaimsAs headers", "Require all granted")
            + h.proxy_location("/h-plain/", b, "Require all granted")
            + h.cgi_location("/c-env/", *auth)
            + h.cgi_location("/c-headers/", *auth, "WorkOSPassClaimsAs headers")
            + h.cgi_location("/c-pass/", "AuthType WorkOS", "WorkOSUnauthAction pass",
                             "Require all granted")
            + h.cgi_location("/c-plain/", "Require all granted"))
    return h.start(conf)


def expected_headers(s, token=False):
    """{header name (lower case): value} for a session, per the spec's list."""
    u, c = s.user, s.claims
    values = {
        "WORKOS_USER_ID": u["id"], "WORKOS_USER_EMAIL": u["email"],
        "WORKOS_USER_FIRST_NAME": u["first_name"], "WORKOS_USER_LAST_NAME": u["last_name"],
        "WORKOS_USER_EMAIL_VERIFIED": "true" if u["email_verified"] else "false",
        "WORKOS_ORGANIZATION_ID": c.get("org_id"), "WORKOS_ROLE": c.get("role"),
        "WORKOS_SESSION_ID": c["sid"],
        "WORKOS_AUTHENTICATION_METHOD": s.auth["authentication_method"],
        "WORKOS_ACCESS_TOKEN_EXPIRES": str(c["exp"]),
    }
    for var, claim in (("WORKOS_ROLES", "roles"), ("WORKOS_PERMISSIONS", "permissions"),
                       ("WORKOS_ENTITLEMENTS", "entitlements"),
                       ("WORKOS_FEATURE_FLAGS", "feature_flags")):
        if c.get(claim):
            values[var] = ",".join(c[claim])
    if s.auth.get("impersonator"):
        values["WORKOS_IMPERSONATOR_EMAIL"] = s.auth["impersonator"]["email"]
        values["WORKOS_IMPERSONATOR_REASON"] = s.auth["impersonator"]["reason"]
    if token:
        values["WORKOS_ACCESS_TOKEN"] = s.token
    return {SPEC_HEADERS[k].lower(): v for k, v in values.items() if v is not None}


def workos_headers(resp):
    return {k: v for k, v in headers_of(resp).items() if k.startswith("x-workos-")}


def single(seen):
    """{name: value} where every header came exactly once."""
    assert all(len(v) == 1 for v in seen.values()), seen
    return {k: v[0] for k, v in seen.items()}


def forged():
    return "forged-" + pysecrets.token_hex(8)


# ---- headers to the backend -------------------------------------------

def test_headers_mode_sends_exactly_the_identity(site, make_session):
    s = make_session("ada@example.com", org=ACME)
    r = api(site, "/h/echo", session=s)
    assert r.status_code == 200
    assert single(workos_headers(r)) == expected_headers(s)
    assert "authorization" not in headers_of(r)


def test_headers_mode_for_an_impersonated_session(site, make_session):
    s = make_session("impersonated@example.com")
    got = single(workos_headers(api(site, "/h/echo", session=s)))
    assert got["x-workos-impersonator-email"] == "support@example.com"
    assert got["x-workos-impersonator-reason"] == "ticket 42"
    assert got == expected_headers(s)


def test_access_token_header_and_bearer(site, make_session):
    s = make_session("grace@example.com")
    r = api(site, "/h-token/echo", session=s,
            headers={"Authorization": "Bearer forged-client-token"})
    seen = headers_of(r)
    assert single(workos_headers(r)) == expected_headers(s, token=True)
    assert seen["authorization"] == [f"Bearer {s.token}"]


def test_both_sends_headers_and_token(site, make_session):
    s = make_session("ada@example.com")
    r = api(site, "/h-both/echo", session=s)
    assert single(workos_headers(r)) == expected_headers(s, token=True)
    assert headers_of(r)["authorization"] == [f"Bearer {s.token}"]


@pytest.mark.parametrize("path", ["/h-env/echo", "/h-none/echo"])
def test_no_identity_headers_in_environment_or_none_mode(site, make_session, path):
    s = make_session("ada@example.com")
    r = api(site, path, session=s)
    assert r.status_code == 200
    assert workos_headers(r) == {}
    assert "authorization" not in headers_of(r)
    assert s.token not in r.text


def test_header_values_have_cr_lf_replaced(site, make_session, emulator, sealer):
    """A role with CR LF (signed by the real key) cannot inject a header."""
    s = make_session("ada@example.com", org=ACME)
    claims = dict(s.claims, role="ops\r\nX-Injected: yes")
    kid = emulator.keys()["current_kid"]
    token = emulator.sign({"alg": "RS256", "kid": kid, "typ": "JWT"}, claims)
    sealer.secrets.add("access token", token)
    data = sdk_session(s.auth)
    data["accessToken"] = token
    data["user"]["firstName"] = "Ada\nLine"
    cookie = sealer.iron(data)
    r = api(site, "/h/echo", cookie=f"wos-session={cookie}")
    assert r.status_code == 200, r.text[:300]
    seen = headers_of(r)
    assert "x-injected" not in seen
    assert seen["x-workos-role"] == ["ops  X-Injected: yes"]
    assert seen["x-workos-user-first-name"] == ["Ada Line"]


# ---- scrubbing ------------------------------------------------------------

def proxy_echo(site, path, header, value, session=None, method="GET"):
    r = request(site, method, path, session=session, headers={header: value,
                                                             "Accept": "application/json"})
    assert r.status_code == 200, f"{method} {path}: {r.status_code} {r.text[:200]}"
    return r


SCENARIOS = {
    # name: (path, authenticated, method)
    "headers-authenticated": ("/h/echo", True, "GET"),
    "headers-options": ("/h/echo", True, "OPTIONS"),
    "headers-post": ("/h/echo", True, "POST"),
    "environment-authenticated": ("/h-env/echo", True, "GET"),
    "none-authenticated": ("/h-none/echo", True, "GET"),
    "both-authenticated": ("/h-both/echo", True, "GET"),
    "pass-anonymous": ("/h-pass/echo", False, "GET"),
    "pass-anonymous-options": ("/h-pass/echo", False, "OPTIONS"),
}


@pytest.fixture(scope="module")
def ada(make_session):
    return make_session("ada@example.com", org=ACME)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("header", RESERVED)
def test_forged_headers_never_reach_the_backend(site, ada, scenario, header):
    path, authenticated, method = SCENARIOS[scenario]
    value = forged()
    r = proxy_echo(site, path, header, value, session=ada if authenticated else None,
                   method=method)
    assert r.json()["method"] == method
    assert value not in r.text
    seen = headers_of(r)
    sends = authenticated and path in ("/h/echo", "/h-both/echo")
    module_set = expected_headers(ada, token=path == "/h-both/echo") if sends else {}
    if header.lower() in module_set:
        assert seen[header.lower()] == [module_set[header.lower()]]
    else:
        assert header.lower() not in seen
    if sends:
        assert seen["x-workos-user-id"] == [ada.user["id"]]


@pytest.mark.parametrize("header", NOT_RESERVED)
def test_similar_but_unreserved_headers_pass(site, ada, header):
    value = forged()
    r = proxy_echo(site, "/h/echo", header, value, session=ada)
    assert headers_of(r)[header.lower()] == [value]


@pytest.mark.parametrize("header", ["X-WorkOS-User-Id", "Remote-User", "WORKOS-USER-ID",
                                    "X_WorkOS_User_Id"])
def test_control_without_the_module_forged_headers_arrive(site, header):
    """Shows the scrubbing tests can fail: without the module nothing is removed."""
    value = forged()
    r = proxy_echo(site, "/h-plain/echo", header, value)
    assert headers_of(r)[header.lower()] == [value]


def test_anonymous_options_on_a_protected_location_is_refused(site):
    r = request(site, "OPTIONS", "/h/echo", headers={"X-WorkOS-User-Id": forged(),
                                                     "Accept": "application/json"})
    assert r.status_code == 401


CGI_SCENARIOS = {
    "env-authenticated": ("/c-env/env.cgi", True, "GET"),
    "env-options": ("/c-env/env.cgi", True, "OPTIONS"),
    "headers-authenticated": ("/c-headers/env.cgi", True, "GET"),
    "pass-anonymous": ("/c-pass/env.cgi", False, "GET"),
    "pass-authenticated": ("/c-pass/env.cgi", True, "GET"),
}


@pytest.mark.parametrize("scenario", sorted(CGI_SCENARIOS))
@pytest.mark.parametrize("header", ["X-WorkOS-User-Id", "x-workos-role", "WorkOS-User-Id",
                                    "Remote-User", "Auth-Type", "WORKOS-ORGANIZATION-ID",
                                    "X-WorkOS-Made-Up"])
def test_forged_headers_never_reach_a_cgi(site, ada, scenario, header):
    path, authenticated, method = CGI_SCENARIOS[scenario]
    value = forged()
    r = request(site, method, path, session=ada if authenticated else None,
                headers={header: value, "Accept": "application/json"})
    env = cgi_env(r)
    assert value not in json.dumps(env)
    if authenticated:
        assert env["REMOTE_USER"] == ada.user["id"]
        if path != "/c-headers/env.cgi":
            assert env["WORKOS_USER_ID"] == ada.user["id"]
        else:
            assert env["HTTP_X_WORKOS_USER_ID"] == ada.user["id"]
    else:
        assert "REMOTE_USER" not in env and "WORKOS_USER_ID" not in env


def test_control_without_the_module_a_cgi_sees_forged_headers(site):
    value = forged()
    env = cgi_env(request(site, "GET", "/c-plain/env.cgi", headers={"X-WorkOS-User-Id": value}))
    assert env["HTTP_X_WORKOS_USER_ID"] == value
