"""Who the app is told the user is: REMOTE_USER is the user id by default;
with WorkOSRemoteUser email it is the email only once WorkOS says it is
verified (else the id again), so that `Require user` and apps keyed on
REMOTE_USER cannot be claimed with an address nobody verified. And the
WorkOS* directives an .htaccess may hold under AllowOverride AuthConfig."""
import pytest

from harness.client import api, browser, cgi_env
from harness.emulator import org_id

ACME = org_id("Acme")


@pytest.fixture(scope="module")
def site(httpd_factory, wos_server_conf):
    h = httpd_factory()
    loc = h.cgi_location
    base = ("AuthType WorkOS", "Require valid-user")
    conf = (wos_server_conf
            + loc("/default/", *base)
            + loc("/email/", *base, "WorkOSRemoteUser email")
            + loc("/email-user/", "AuthType WorkOS", "WorkOSRemoteUser email",
                  "Require user ada@example.com", "AuthzSendForbiddenOnFailure On"))
    return h.start(conf)


@pytest.fixture(scope="module")
def session_with(emulator, sealer, secrets):
    """A session of ada whose user object says email_verified as given."""
    from harness.cookies import Session

    def make(verified):
        auth = emulator.session("ada@example.com", organization_id=ACME)
        secrets.add("access token", auth["access_token"])
        secrets.add("refresh token", auth["refresh_token"])
        if verified is None:
            del auth["user"]["email_verified"]
        else:
            auth["user"]["email_verified"] = verified
        return Session(auth, sealer.seal_auth(auth))

    return make


@pytest.mark.parametrize("verified", [True, False, None], ids=["verified", "unverified",
                                                               "absent"])
def test_remote_user_is_the_id_by_default(site, session_with, verified):
    s = session_with(verified)
    env = cgi_env(api(site, "/default/env.cgi", session=s))
    assert env["REMOTE_USER"] == s.user["id"]
    assert env["WORKOS_USER_EMAIL"] == "ada@example.com"


@pytest.mark.parametrize("verified,want", [(True, "email"), (False, "id"), (None, "id")],
                         ids=["verified", "unverified", "absent"])
def test_email_only_when_verified(site, session_with, verified, want):
    s = session_with(verified)
    env = cgi_env(api(site, "/email/env.cgi", session=s))
    assert env["REMOTE_USER"] == (s.user["email"] if want == "email" else s.user["id"])
    assert env.get("WORKOS_USER_EMAIL_VERIFIED") == {True: "true", False: "false"}.get(verified)


def test_require_user_by_email_needs_a_verified_email(site, session_with, expect_log):
    expect_log(r"AH01631")
    assert api(site, "/email-user/env.cgi", session=session_with(True)).status_code == 200
    assert api(site, "/email-user/env.cgi", session=session_with(False)).status_code == 403
