# SPDX-License-Identifier: Apache-2.0
"""The identity as CGI environment variables (WorkOSPassClaimsAs environment,
the default, and both): every WORKOS_* variable through a real CGI, compared
with what the emulator minted; WORKOS_ACCESS_TOKEN only with
WorkOSPassAccessToken On; REMOTE_USER email or id; nothing with none or
headers (where the CGI sees the headers instead)."""
import re

import pytest

from harness.client import api, cgi_env
from harness.emulator import org_id

ACME, GLOBEX = org_id("Acme"), org_id("Globex")
WORKOS_ENV = re.compile(r"^WORKOS_")
HEADER_ENV = re.compile(r"^HTTP_X_WORKOS_")


@pytest.fixture(scope="module")
def site(httpd_factory, wos_server_conf):
    h = httpd_factory()
    loc = h.cgi_location
    base = ("AuthType WorkOS", "Require valid-user")
    conf = (wos_server_conf
            + loc("/env/", *base)
            + loc("/env-explicit/", *base, "WorkOSPassClaimsAs environment")
            + loc("/env-token/", *base, "WorkOSPassAccessToken On")
            + loc("/env-token-off/", *base, "WorkOSPassAccessToken Off")
            + loc("/env-id/", *base, "WorkOSRemoteUser id")
            + loc("/env-email/", *base, "WorkOSRemoteUser email")
            + loc("/env-none/", *base, "WorkOSPassClaimsAs none", "WorkOSPassAccessToken On")
            + loc("/env-headers/", *base, "WorkOSPassClaimsAs headers")
            + loc("/env-both/", *base, "WorkOSPassClaimsAs both", "WorkOSPassAccessToken On")
            # Variables named like the identity, set before authentication.
            + loc("/env-preset/", *base, "SetEnvIf Request_URI . WORKOS_ROLE=preset-role "
                  "WORKOS_USER_EMAIL=preset@example.net workos_extra=1"))
    return h.start(conf)


def expected_vars(s):
    """WORKOS_* as the spec defines them, from the emulator's answer and token."""
    u, c = s.user, s.claims
    want = {
        "WORKOS_USER_ID": u["id"],
        "WORKOS_USER_EMAIL": u["email"],
        "WORKOS_USER_FIRST_NAME": u["first_name"],
        "WORKOS_USER_LAST_NAME": u["last_name"],
        "WORKOS_USER_EMAIL_VERIFIED": "true" if u["email_verified"] else "false",
        "WORKOS_SESSION_ID": c["sid"],
        "WORKOS_AUTHENTICATION_METHOD": s.auth["authentication_method"],
        "WORKOS_ACCESS_TOKEN_EXPIRES": str(c["exp"]),
    }
    optional = {"WORKOS_ORGANIZATION_ID": c.get("org_id"), "WORKOS_ROLE": c.get("role")}
    for var, claim in (("WORKOS_ROLES", "roles"), ("WORKOS_PERMISSIONS", "permissions"),
                       ("WORKOS_ENTITLEMENTS", "entitlements"),
                       ("WORKOS_FEATURE_FLAGS", "feature_flags")):
        if c.get(claim):
            optional[var] = ",".join(c[claim])
    imp = s.auth.get("impersonator")
    if imp:
        optional["WORKOS_IMPERSONATOR_EMAIL"] = imp["email"]
        optional["WORKOS_IMPERSONATOR_REASON"] = imp.get("reason")
    want.update({k: v for k, v in optional.items() if v is not None})
    return want


def workos_vars(env):
    return {k: v for k, v in env.items() if WORKOS_ENV.match(k)}


def test_every_variable_for_an_admin(site, make_session):
    s = make_session("ada@example.com", org=ACME)
    env = cgi_env(api(site, "/env/env.cgi", session=s))
    assert env["REMOTE_USER"] == s.user["id"]
    assert env["AUTH_TYPE"] == "WorkOS"
    want = expected_vars(s)
    # Stated independently of the token, from the emulator's users file:
    assert want["WORKOS_ROLE"] == "admin"
    assert want["WORKOS_PERMISSIONS"] == "posts:read,posts:write,users:manage"
    assert want["WORKOS_ENTITLEMENTS"] == "audit-logs"
    assert want["WORKOS_FEATURE_FLAGS"] == "new-dashboard"
    assert workos_vars(env) == want


@pytest.mark.parametrize("email,org", [("grace@example.com", GLOBEX),
                                       ("grace@example.com", ACME),
                                       ("ada@example.com", GLOBEX)])
def test_variables_follow_the_sessions_organization(site, make_session, email, org):
    s = make_session(email, org=org)
    env = cgi_env(api(site, "/env-explicit/env.cgi", session=s))
    got = workos_vars(env)
    want = expected_vars(s)
    assert got["WORKOS_ORGANIZATION_ID"] == org
    assert got == want


def test_empty_lists_and_missing_organization(site, make_session):
    """Linus has no permissions; Solo has no organization at all."""
    s = make_session("linus@example.com")
    got = workos_vars(cgi_env(api(site, "/env/env.cgi", session=s)))
    assert got.get("WORKOS_PERMISSIONS", "") == ""
    assert got["WORKOS_ROLE"] == "member"
    s = make_session("solo@example.com")
    got = workos_vars(cgi_env(api(site, "/env/env.cgi", session=s)))
    assert "WORKOS_ORGANIZATION_ID" not in got
    assert "WORKOS_ROLE" not in got
    assert got["WORKOS_USER_ID"] == s.user["id"]


def test_impersonation(site, make_session):
    s = make_session("impersonated@example.com")
    got = workos_vars(cgi_env(api(site, "/env/env.cgi", session=s)))
    assert got["WORKOS_IMPERSONATOR_EMAIL"] == "support@example.com"
    assert got["WORKOS_IMPERSONATOR_REASON"] == "ticket 42"
    assert got == expected_vars(s)


def test_no_impersonator_variables_without_impersonation(site, make_session):
    got = workos_vars(cgi_env(api(site, "/env/env.cgi", session=make_session("ada@example.com"))))
    assert "WORKOS_IMPERSONATOR_EMAIL" not in got
    assert "WORKOS_IMPERSONATOR_REASON" not in got


def test_access_token_only_when_enabled(site, make_session):
    s = make_session("ada@example.com")
    for path in ("/env/env.cgi", "/env-token-off/env.cgi"):
        assert "WORKOS_ACCESS_TOKEN" not in cgi_env(api(site, path, session=s))
    env = cgi_env(api(site, "/env-token/env.cgi", session=s))
    assert env["WORKOS_ACCESS_TOKEN"] == s.token
    assert workos_vars(env) == dict(expected_vars(s), WORKOS_ACCESS_TOKEN=s.token)


def test_remote_user_email_or_id(site, make_session):
    s = make_session("grace@example.com")
    assert cgi_env(api(site, "/env-email/env.cgi", session=s))["REMOTE_USER"] == "grace@example.com"
    assert cgi_env(api(site, "/env-id/env.cgi", session=s))["REMOTE_USER"] == s.user["id"]
    # The default is the id (an email may be unverified).
    assert cgi_env(api(site, "/env/env.cgi", session=s))["REMOTE_USER"] == s.user["id"]


def test_pass_claims_none_sets_no_variables(site, make_session):
    s = make_session("ada@example.com")
    env = cgi_env(api(site, "/env-none/env.cgi", session=s))
    assert workos_vars(env) == {}
    assert [k for k in env if HEADER_ENV.match(k)] == []
    # The user is still authenticated: httpd itself passes r->user on.
    assert env["REMOTE_USER"] == s.user["id"]


def test_pass_claims_headers_gives_headers_not_variables(site, make_session):
    s = make_session("ada@example.com")
    env = cgi_env(api(site, "/env-headers/env.cgi", session=s))
    assert workos_vars(env) == {}
    want = expected_vars(s)
    got = {k: v for k, v in env.items() if HEADER_ENV.match(k)}
    assert got == {"HTTP_X_" + k: v for k, v in want.items()}


def test_pass_claims_both(site, make_session):
    s = make_session("impersonated@example.com")
    env = cgi_env(api(site, "/env-both/env.cgi", session=s))
    want = dict(expected_vars(s), WORKOS_ACCESS_TOKEN=s.token)
    assert workos_vars(env) == want
    got = {k: v for k, v in env.items() if HEADER_ENV.match(k)}
    assert got == {"HTTP_X_" + k: v for k, v in want.items()}


def test_session_of_the_node_sdk_gives_the_same_variables(site, make_session):
    s = make_session("ada@example.com", org=ACME, how="node")
    env = cgi_env(api(site, "/env/env.cgi", session=s))
    assert workos_vars(env) == expected_vars(s)


@pytest.mark.parametrize("email", ["solo@example.com", "ada@example.com"])
def test_variables_set_before_authentication_are_replaced(site, make_session, email):
    """SetEnvIf runs before the module: its WORKOS_* never survive, whether the
    session has that claim (replaced) or not (removed), uncached or cached."""
    s = make_session(email)
    for _ in range(2):                     # the second answer comes from the session cache
        env = cgi_env(api(site, "/env-preset/env.cgi", session=s))
        assert env["WORKOS_USER_EMAIL"] == email
        assert {k.upper(): v for k, v in workos_vars(env).items()} == expected_vars(s)
        assert "workos_extra" not in env and "WORKOS_EXTRA" not in env
    assert ("WORKOS_ROLE" in env) == (email == "ada@example.com")
