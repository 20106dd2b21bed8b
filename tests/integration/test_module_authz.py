# SPDX-License-Identifier: Apache-2.0
"""Require workos-role / -permission / -org / -entitlement / -feature-flag,
valid-user, and <RequireAll>/<RequireAny>/not combinations: each grants and
denies as the emulator's users say. Anonymous requests are asked to sign in
(302 / 401), never 403; authenticated ones that do not match get 403."""
import pytest

from harness.client import api, browser, cgi_env
from harness.emulator import membership, org_id, users_file

ACME, GLOBEX = org_id("Acme"), org_id("Globex")
# mod_authz_core logs every refusal of an authenticated user at [error].
AUTHZ_FAILURE = r"AH01631: user [^ ]+: authorization failure"

# What the cases below rely on, stated from tests/emulator/users.json.
FACTS = [
    ("ada@example.com", ACME, "role", "admin"),
    ("ada@example.com", ACME, "permissions", ["posts:read", "posts:write", "users:manage"]),
    ("ada@example.com", ACME, "entitlements", ["audit-logs"]),
    ("ada@example.com", ACME, "feature_flags", ["new-dashboard"]),
    ("ada@example.com", GLOBEX, "role", "member"),
    ("ada@example.com", GLOBEX, "feature_flags", []),
    ("grace@example.com", ACME, "role", "member"),
    ("grace@example.com", ACME, "permissions", ["posts:read"]),
    ("grace@example.com", GLOBEX, "roles", ["admin", "billing"]),
    ("grace@example.com", GLOBEX, "entitlements", ["sso"]),
    ("linus@example.com", GLOBEX, "role", "member"),
    ("linus@example.com", GLOBEX, "permissions", []),
]


def user_id(email):
    return next(u["id"] for u in users_file()["users"] if u["email"] == email)


def rq(*lines):
    return [f"Require {line}" for line in lines]


LOCATIONS = {
    "/valid/": rq("valid-user"),
    "/role-admin/": rq("workos-role admin"),
    "/role-billing/": rq("workos-role billing"),
    "/role-multi/": rq("workos-role owner admin"),
    "/perm/": rq("workos-permission users:manage"),
    "/perm-any/": rq("workos-permission nope:nope posts:read"),
    "/org/": rq(f"workos-org {GLOBEX}"),
    "/org-multi/": rq(f"workos-org {ACME} {GLOBEX}"),
    "/ent/": rq("workos-entitlement audit-logs"),
    "/ff/": rq("workos-feature-flag new-dashboard"),
    "/all/": ["<RequireAll>", *rq("workos-role admin", f"workos-org {ACME}"), "</RequireAll>"],
    "/any/": ["<RequireAny>", *rq("workos-entitlement sso", "workos-feature-flag new-dashboard"),
              "</RequireAny>"],
    "/all-perms/": ["<RequireAll>", *rq("workos-permission posts:read",
                                        "workos-permission users:manage"), "</RequireAll>"],
    "/not-member/": ["<RequireAll>", *rq("valid-user", "not workos-role member"),
                     "</RequireAll>"],
    # REMOTE_USER is the user id by default; the email only where asked for.
    "/user/": rq(f"user {user_id('ada@example.com')}"),
    "/user-by-email/": ["WorkOSRemoteUser email", *rq("user ada@example.com")],
    "/user-email-default/": rq("user ada@example.com"),
}

# (location, email, organization) -> expected status
CASES = [
    ("/valid/", "linus@example.com", GLOBEX, 200),
    ("/valid/", "solo@example.com", None, 200),
    ("/role-admin/", "ada@example.com", ACME, 200),
    ("/role-admin/", "ada@example.com", GLOBEX, 403),
    ("/role-admin/", "grace@example.com", GLOBEX, 200),
    ("/role-admin/", "linus@example.com", GLOBEX, 403),
    ("/role-admin/", "solo@example.com", None, 403),
    ("/role-billing/", "grace@example.com", GLOBEX, 200),   # only in `roles`
    ("/role-billing/", "ada@example.com", ACME, 403),
    ("/role-multi/", "ada@example.com", ACME, 200),
    ("/role-multi/", "linus@example.com", GLOBEX, 403),
    ("/perm/", "ada@example.com", ACME, 200),
    ("/perm/", "grace@example.com", ACME, 403),
    ("/perm/", "grace@example.com", GLOBEX, 200),
    ("/perm-any/", "grace@example.com", ACME, 200),
    ("/perm-any/", "linus@example.com", GLOBEX, 403),
    ("/org/", "linus@example.com", GLOBEX, 200),
    ("/org/", "ada@example.com", ACME, 403),
    ("/org/", "ada@example.com", GLOBEX, 200),
    ("/org-multi/", "ada@example.com", ACME, 200),
    ("/org-multi/", "linus@example.com", GLOBEX, 200),
    ("/org-multi/", "solo@example.com", None, 403),
    ("/ent/", "ada@example.com", ACME, 200),
    ("/ent/", "grace@example.com", GLOBEX, 403),
    ("/ff/", "ada@example.com", ACME, 200),
    ("/ff/", "ada@example.com", GLOBEX, 403),
    ("/all/", "ada@example.com", ACME, 200),
    ("/all/", "grace@example.com", GLOBEX, 403),   # admin, but not in Acme
    ("/all/", "grace@example.com", ACME, 403),     # Acme, but a member
    ("/any/", "grace@example.com", GLOBEX, 200),   # entitlement sso
    ("/any/", "ada@example.com", ACME, 200),       # feature flag
    ("/any/", "linus@example.com", GLOBEX, 403),
    ("/all-perms/", "ada@example.com", ACME, 200),
    ("/all-perms/", "grace@example.com", ACME, 403),
    ("/not-member/", "ada@example.com", ACME, 200),
    ("/not-member/", "linus@example.com", GLOBEX, 403),
    ("/user/", "ada@example.com", ACME, 200),
    ("/user/", "grace@example.com", ACME, 403),
    ("/user-by-email/", "ada@example.com", ACME, 200),
    ("/user-by-email/", "grace@example.com", ACME, 403),
    ("/user-email-default/", "ada@example.com", ACME, 403),
]


@pytest.fixture(scope="module")
def site(httpd_factory, wos_server_conf):
    h = httpd_factory()
    conf = wos_server_conf + "".join(
        h.cgi_location(path, "AuthType WorkOS", "AuthzSendForbiddenOnFailure On", *lines)
        for path, lines in LOCATIONS.items())
    # Without AuthzSendForbiddenOnFailure httpd answers a refused user 401; the
    # module then describes its scheme in WWW-Authenticate (note_auth_failure).
    conf += h.cgi_location("/role-admin-401/", "AuthType WorkOS", "AuthName Staff",
                           *rq("workos-role admin"))
    return h.start(conf)


@pytest.fixture(scope="module")
def sessions(make_session):
    cache = {}

    def get(email, org):
        if (email, org) not in cache:
            cache[(email, org)] = make_session(email, org=org)
        return cache[(email, org)]

    return get


@pytest.mark.parametrize("email,org,field,value", FACTS)
def test_users_file_is_as_the_cases_assume(email, org, field, value):
    assert membership(email, org)[field] == value


@pytest.mark.parametrize("path,email,org,status", CASES,
                         ids=[f"{p}-{e.split('@')[0]}-{'acme' if o == ACME else 'globex' if o else 'none'}"
                              for p, e, o, _ in CASES])
def test_require(site, sessions, expect_log, path, email, org, status):
    if status == 403:
        expect_log(AUTHZ_FAILURE)
    s = sessions(email, org)
    r = api(site, path + "env.cgi", session=s)
    assert r.status_code == status, r.text[:300]
    if status == 200:
        env = cgi_env(r)
        assert env["WORKOS_USER_EMAIL"] == email
        assert env["REMOTE_USER"] == (email if path == "/user-by-email/" else s.user["id"])
        if org:
            assert env["WORKOS_ORGANIZATION_ID"] == org
    else:
        assert "WWW-Authenticate" not in r.headers
        assert "Location" not in r.headers


@pytest.mark.parametrize("path", sorted(LOCATIONS))
def test_anonymous_is_asked_to_sign_in_not_forbidden(site, emulator, path):
    r = api(site, path + "env.cgi")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'WorkOS realm="WorkOS"'
    r = browser(site, path + "env.cgi")
    assert r.status_code == 302
    assert r.headers["Location"].startswith(f"{emulator.url}/user_management/authorize?")


def test_refusal_without_forbidden_on_failure_is_httpd_401(site, sessions, expect_log):
    expect_log(AUTHZ_FAILURE)
    r = api(site, "/role-admin-401/env.cgi", session=sessions("linus@example.com", GLOBEX))
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'WorkOS realm="Staff"'
    assert "Location" not in r.headers


@pytest.mark.expect_log(AUTHZ_FAILURE)
def test_denied_user_is_not_redirected_to_sign_in(site, sessions):
    r = browser(site, "/role-admin/env.cgi", session=sessions("linus@example.com", GLOBEX))
    assert r.status_code == 403
    assert "Location" not in r.headers
