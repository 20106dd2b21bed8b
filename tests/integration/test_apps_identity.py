# SPDX-License-Identifier: Apache-2.0
"""Who the app is told the user is: REMOTE_USER is the user id by default;
with WorkOSRemoteUser email it is the email only once WorkOS says it is
verified (else the id again), so that `Require user` and apps keyed on
REMOTE_USER cannot be claimed with an address nobody verified. And the
WorkOS* directives an .htaccess may hold under AllowOverride AuthConfig."""
import pytest

from harness.client import api, browser, cgi_env
from harness.cookies import Session
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


# ---- .htaccess ---------------------------------------------------------------

HTACCESS_OK = """AuthType WorkOS
Require valid-user
WorkOSRemoteUser email
WorkOSUnauthAction 401
WorkOSCookieName ht_session
WorkOSPassClaimsAs both
WorkOSHeaderEncoding base64url
WorkOSStripCookies On
WorkOSPreflight authenticate
"""

# Secrets, what they are sent with, endpoints the server serves, what costs the
# whole server, and lists the cache keys by address: never in an .htaccess.
REFUSED = ["WorkOSClientID client_01OTHER", "WorkOSAPIKey env:WOS_IT_API_KEY",
           "WorkOSCookiePassword env:WOS_IT_OLD_PASSWORD",
           "WorkOSAPIBaseURL http://127.0.0.1:9", "WorkOSCAFile /etc/hosts",
           "WorkOSHTTPTimeout 100", "WorkOSJWKSCacheTTL 1", "WorkOSRefreshBeforeExpiry 86400",
           "WorkOSIssuer https://issuer.example", "WorkOSRedirectURI /elsewhere",
           "WorkOSLoginURI /l", "WorkOSLogoutURI /o", "WorkOSCache shmcb",
           "WorkOSSessionCache 0"]


def htaccess_dir(h, name, htaccess, override="AuthConfig"):
    d = h.dir / "htdocs" / name
    d.mkdir()
    (d / "env.cgi").write_bytes((h.dir / "cgi" / "env.cgi").read_bytes())
    (d / "env.cgi").chmod(0o755)
    (d / ".htaccess").write_text(htaccess)
    (d / ".htaccess").chmod(0o644)
    d.chmod(0o755)
    return (f'<Directory "{d}">\n    AllowOverride {override}\n    Options +ExecCGI\n'
            f'    AddHandler cgi-script .cgi\n</Directory>\n')


@pytest.fixture(scope="module")
def ht(httpd_factory, wos_server_conf):
    h = httpd_factory("htaccess")
    conf = (wos_server_conf + htaccess_dir(h, "ok", HTACCESS_OK)
            + htaccess_dir(h, "defaults", "AuthType WorkOS\nRequire valid-user\n",
                           override="AuthConfig")
            + htaccess_dir(h, "no-authconfig", "WorkOSRemoteUser email\n", override="FileInfo")
            + "".join(htaccess_dir(h, f"refused-{i}",
                                   f"AuthType WorkOS\nRequire valid-user\n{line}\n")
                      for i, line in enumerate(REFUSED)))
    return h.start(conf)


def test_htaccess_directives_apply(ht, make_session):
    s = make_session("ada@example.com", org=ACME)
    r = api(ht, "/ok/env.cgi", cookie=f"ht_session={s.cookie}; theme=dark")
    env = cgi_env(r)
    assert env["REMOTE_USER"] == "ada@example.com"            # WorkOSRemoteUser email
    assert env["WORKOS_USER_ID"] == s.user["id"]                # both: variables ...
    assert env["HTTP_X_WORKOS_USER_LAST_NAME"] == "TG92ZWxhY2U"  # ... and base64url headers
    assert env["HTTP_COOKIE"] == "theme=dark"                   # WorkOSStripCookies On
    # WorkOSCookieName: the default cookie is not read there.
    assert api(ht, "/ok/env.cgi", session=s).status_code == 401
    # WorkOSUnauthAction 401: no sign-in redirect for a browser.
    r = browser(ht, "/ok/env.cgi")
    assert r.status_code == 401 and "Location" not in r.headers
    # WorkOSPreflight authenticate.
    r = api(ht, "/ok/env.cgi", method="OPTIONS",
            headers={"Origin": "https://x.example", "Access-Control-Request-Method": "GET"})
    assert r.status_code == 401


def test_htaccess_auth_with_server_defaults(ht, make_session):
    s = make_session("ada@example.com", org=ACME)
    env = cgi_env(api(ht, "/defaults/env.cgi", session=s))
    assert env["REMOTE_USER"] == s.user["id"]


@pytest.mark.parametrize("line", REFUSED, ids=[l.split()[0] for l in REFUSED])
def test_htaccess_refuses_secrets_and_server_settings(ht, make_session, expect_log, line):
    expect_log(r"not allowed here")
    name = line.split()[0]
    mark = ht.log_size()
    r = api(ht, f"/refused-{REFUSED.index(line)}/env.cgi",
            session=make_session("ada@example.com"))
    assert r.status_code == 500
    assert f"{name} not allowed here" in ht.log_since(mark)


def test_htaccess_needs_allowoverride_authconfig(ht, make_session, expect_log):
    expect_log(r"not allowed here")
    mark = ht.log_size()
    assert api(ht, "/no-authconfig/env.cgi").status_code == 500
    assert "WorkOSRemoteUser not allowed here" in ht.log_since(mark)
