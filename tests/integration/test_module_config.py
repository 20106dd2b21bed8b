# SPDX-License-Identifier: Apache-2.0
"""Directives: every bad value is refused by `apache2 -t` with a message that
names the directive (and never echoes a secret); every good value, including
literal, env: and file: secrets, is accepted; secrets from each source work
on a running server; directory settings inherit and override."""
import re
import secrets as pysecrets

import pytest

import requests

from harness.client import API, api, browser, cgi_env
from harness.httpd import location

AUTH = ("AuthType WorkOS", "Require valid-user")
SHORT = "s" * 31                       # one character too short
EXACT = "e" * 32                       # just long enough


@pytest.fixture(scope="module")
def files(module_dir, secrets):
    """Secret files (as an operator would write them: trailing newline)."""
    d = module_dir / "secrets"
    d.mkdir()
    d.chmod(0o755)
    pw = secrets.add("file cookie password", "file-pw-" + pysecrets.token_urlsafe(30))
    key = secrets.add("file API key", "sk_test_file_" + pysecrets.token_urlsafe(20))
    (d / "password").write_text(pw + "\n")
    (d / "short").write_text(SHORT + "\n")
    (d / "apikey").write_text(key + "\n")
    (d / "empty").write_text("")
    return {"dir": d, "password": pw, "api_key": key}


@pytest.fixture(scope="module")
def checker(httpd_factory):
    return httpd_factory("configtest", env={"WOS_IT_SHORT": SHORT, "WOS_IT_EXACT": EXACT})


def base(emulator_url="https://api.workos.com"):
    return ("WorkOSClientID client_01CONFIGTEST\n"
            "WorkOSAPIKey env:WOS_IT_API_KEY\n"
            "WorkOSCookiePassword env:WOS_IT_COOKIE_PASSWORD\n"
            f"WorkOSAPIBaseURL {emulator_url}\n")


def in_location(*lines):
    return '<Location "/x/">\n' + "".join(f"    {l}\n" for l in lines) + "</Location>\n"


BAD = {
    # name: (configuration, word the message must contain)
    "password-short-literal": (f"WorkOSCookiePassword {SHORT}\n", "WorkOSCookiePassword"),
    "password-short-env": ("WorkOSCookiePassword env:WOS_IT_SHORT\n", "WorkOSCookiePassword"),
    "password-short-file": ("WorkOSCookiePassword file:{dir}/short\n", "WorkOSCookiePassword"),
    "password-empty-file": ("WorkOSCookiePassword file:{dir}/empty\n", "WorkOSCookiePassword"),
    "password-second-short": (f"WorkOSCookiePassword env:WOS_IT_COOKIE_PASSWORD {SHORT}\n",
                              "WorkOSCookiePassword"),
    "password-env-unset": ("WorkOSCookiePassword env:WOS_IT_NOT_SET_ANYWHERE\n",
                           "WorkOSCookiePassword"),
    "password-file-missing": ("WorkOSCookiePassword file:/nonexistent/wos/pw\n",
                              "WorkOSCookiePassword"),
    "password-none": ("WorkOSCookiePassword\n", "WorkOSCookiePassword"),
    "password-short-in-location": (in_location(*AUTH, f"WorkOSCookiePassword {SHORT}"),
                                   "WorkOSCookiePassword"),
    "api-key-env-unset": ("WorkOSAPIKey env:WOS_IT_NOT_SET_ANYWHERE\n", "WorkOSAPIKey"),
    "api-key-file-missing": ("WorkOSAPIKey file:/nonexistent/wos/key\n", "WorkOSAPIKey"),
    "client-id-empty": ('WorkOSClientID ""\n', "WorkOSClientID"),
    "base-url-no-scheme": ("WorkOSAPIBaseURL api.workos.com\n", "WorkOSAPIBaseURL"),
    "base-url-ftp": ("WorkOSAPIBaseURL ftp://api.workos.com\n", "WorkOSAPIBaseURL"),
    "samesite": ("WorkOSCookieSameSite Sometimes\n", "WorkOSCookieSameSite"),
    "secure": ("WorkOSCookieSecure maybe\n", "WorkOSCookieSecure"),
    "max-age-negative": ("WorkOSCookieMaxAge -1\n", "WorkOSCookieMaxAge"),
    "max-age-text": ("WorkOSCookieMaxAge forever\n", "WorkOSCookieMaxAge"),
    "chunk-size-text": ("WorkOSCookieChunkSize big\n", "WorkOSCookieChunkSize"),
    "chunk-size-zero": ("WorkOSCookieChunkSize 0\n", "WorkOSCookieChunkSize"),
    "unauth-action": ("WorkOSUnauthAction redirect\n", "WorkOSUnauthAction"),
    "unauth-action-in-location": (in_location(*AUTH, "WorkOSUnauthAction 500"),
                                  "WorkOSUnauthAction"),
    "remote-user": ("WorkOSRemoteUser name\n", "WorkOSRemoteUser"),
    "pass-claims": ("WorkOSPassClaimsAs cookies\n", "WorkOSPassClaimsAs"),
    "pass-token": ("WorkOSPassAccessToken yes\n", "WorkOSPassAccessToken"),
    "clock-skew-text": ("WorkOSClockSkew soon\n", "WorkOSClockSkew"),
    "clock-skew-negative": ("WorkOSClockSkew -5\n", "WorkOSClockSkew"),
    "jwks-ttl-text": ("WorkOSJWKSCacheTTL later\n", "WorkOSJWKSCacheTTL"),
    "http-timeout-text": ("WorkOSHTTPTimeout slow\n", "WorkOSHTTPTimeout"),
    "issuer-none": ("WorkOSIssuer\n", "WorkOSIssuer"),
    "ca-file-missing": ("WorkOSCAFile /nonexistent/wos/ca.pem\n", "WorkOSCAFile"),
    "cache-in-location": (in_location(*AUTH, "WorkOSCache shmcb"), "WorkOSCache"),
    "require-role-empty": (in_location("AuthType WorkOS", "Require workos-role"), "workos-role"),
    "require-permission-empty": (in_location("AuthType WorkOS", "Require workos-permission"),
                                 "workos-permission"),
    "require-org-empty": (in_location("AuthType WorkOS", "Require workos-org"), "workos-org"),
    "require-entitlement-empty": (in_location("AuthType WorkOS", "Require workos-entitlement"),
                                  "workos-entitlement"),
    "require-feature-flag-empty": (in_location("AuthType WorkOS",
                                               "Require workos-feature-flag"),
                                   "workos-feature-flag"),
    "require-org-not-an-id": (in_location("AuthType WorkOS", "Require workos-org acme"),
                              "workos-org"),
    "require-org-bad-char": (in_location("AuthType WorkOS", "Require workos-org org_01-X"),
                             "workos-org"),
    "require-role-commas": (in_location("AuthType WorkOS", "Require workos-role admin,owner"),
                            "workos-role"),
    "require-permission-expression": (in_location("AuthType WorkOS",
                                                  "Require workos-permission %{HTTP_X}"),
                                      "workos-permission"),
    "require-flag-quote-inside": (in_location("AuthType WorkOS",
                                              "Require workos-feature-flag beta'"),
                                  "workos-feature-flag"),
    "cache-unknown-provider": ("WorkOSCache nosuchprovider\n" + in_location(*AUTH),
                               "WOS00702: WorkOSCache nosuchprovider: "),
    "cache-bad-shmcb-size": ("WorkOSCache shmcb:{dir}/cache(lots)\n" + in_location(*AUTH),
                             "WOS00703: WorkOSCache shmcb:"),
    "cache-redis-no-host": ("WorkOSCache redis:\n", "WorkOSCache redis"),
    "cache-redis-bare": ("WorkOSCache redis\n", "WorkOSCache redis"),
    "cache-redis-bad-port": ("WorkOSCache redis:127.0.0.1:99999\n", "WorkOSCache redis"),
    "cache-redis-empty-item": ("WorkOSCache redis:127.0.0.1:6379,\n", "WorkOSCache redis"),
    "cache-socache-unknown": ("WorkOSCache socache:nosuchprovider\n" + in_location(*AUTH),
                              "WOS00702: WorkOSCache socache:nosuchprovider: "),
    "cache-timeout-text": ("WorkOSCacheTimeout soon\n", "WorkOSCacheTimeout"),
    "cache-timeout-too-long": ("WorkOSCacheTimeout 61s\n", "WorkOSCacheTimeout"),
    "cache-timeout-too-short": ("WorkOSCacheTimeout 5ms\n", "WorkOSCacheTimeout"),
    "cache-timeout-in-location": (in_location(*AUTH, "WorkOSCacheTimeout 1s"),
                                  "WorkOSCacheTimeout"),
    "cache-password-env-unset": ("WorkOSCachePassword env:WOS_IT_NOT_SET_ANYWHERE\n",
                                 "WorkOSCachePassword"),
    "cache-password-file-missing": ("WorkOSCachePassword file:/nonexistent/wos/pw\n",
                                    "WorkOSCachePassword"),
    "cache-ca-file-missing": ("WorkOSCacheCAFile /nonexistent/wos/ca.pem\n",
                              "WorkOSCacheCAFile"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_value_is_refused_naming_the_directive(checker, files, creds, name):
    conf, word = BAD[name]
    rc, out = checker.configtest(base() + conf.replace("{dir}", str(files["dir"])))
    assert rc != 0, out
    assert word in out, out
    for secret in (SHORT, creds.password, creds.api_key, files["password"]):
        assert secret not in out


GOOD = {
    "password-exactly-32": f"WorkOSCookiePassword {EXACT}\n",
    "password-env-32": "WorkOSCookiePassword env:WOS_IT_EXACT\n",
    "password-file": "WorkOSCookiePassword file:{dir}/password\n",
    "password-rotation": "WorkOSCookiePassword env:WOS_IT_COOKIE_PASSWORD file:{dir}/password "
                         f"{EXACT}\n",
    "api-key-literal": "WorkOSAPIKey sk_test_literal_value_123\n",
    "api-key-file": "WorkOSAPIKey file:{dir}/apikey\n",
    "cache-redis": "WorkOSCache redis:127.0.0.1:6379,[::1]:6380,redis.invalid\n"
                   "WorkOSCacheTimeout 2s\nWorkOSCachePassword file:{dir}/password\n"
                   "WorkOSCacheUsername wos\n",
    "cache-redis-timeout-ms": "WorkOSCache redis:127.0.0.1\nWorkOSCacheTimeout 150\n",
    "cache-socache-shmcb": "WorkOSCache socache:shmcb\nWorkOSCacheTimeout 300ms\n",
    "every-directive": """WorkOSAPIBaseURL https://api.workos.com/
WorkOSCookieName app_session
WorkOSCookieDomain example.com
WorkOSCookiePath /app/
WorkOSCookieSameSite Strict
WorkOSCookieSecure Off
WorkOSCookieMaxAge 3600
WorkOSCookieChunkSize 3000
WorkOSUnauthAction pass
WorkOSRemoteUser id
WorkOSPassClaimsAs both
WorkOSPassAccessToken On
WorkOSClockSkew 30
WorkOSIssuer https://api.workos.com https://auth.example.com
WorkOSJWKSCacheTTL 600
WorkOSHTTPTimeout 10
WorkOSCAFile /etc/ssl/certs/ca-certificates.crt
WorkOSCache shmcb:{dir}/cache(512000)
WorkOSRedirectURI https://app.example.com/auth/callback
WorkOSLoginURI /auth/login
WorkOSSignUpURI /auth/signup
WorkOSLogoutURI /auth/logout
WorkOSLogoutReturnTo https://app.example.com/
WorkOSSwitchOrganizationURI /auth/switch
WorkOSRefreshBeforeExpiry 30
WorkOSConnection conn_01EXAMPLE
WorkOSOrganization org_01EXAMPLE
""",
    "every-value-in-locations": "".join(
        in_location(*AUTH, line) for line in (
            "WorkOSUnauthAction login", "WorkOSUnauthAction 401", "WorkOSUnauthAction 403",
            "WorkOSUnauthAction pass", "WorkOSRemoteUser email", "WorkOSRemoteUser id",
            "WorkOSPassClaimsAs environment", "WorkOSPassClaimsAs headers",
            "WorkOSPassClaimsAs both", "WorkOSPassClaimsAs none", "WorkOSPassAccessToken On",
            "WorkOSPassAccessToken Off", "WorkOSCookieSameSite Lax",
            "WorkOSCookieSameSite Strict", "WorkOSCookieSameSite None",
            "WorkOSCookieSecure On", "WorkOSCookieSecure Off", "WorkOSClockSkew 0",
            "WorkOSClientID client_01OTHER", "WorkOSCookiePassword env:WOS_IT_EXACT")),
    "require-providers-with-values": in_location(
        "AuthType WorkOS", "<RequireAll>", "Require workos-role admin owner",
        "Require workos-permission a:b c:d", "Require workos-org org_1 org_2",
        "Require workos-entitlement e1", "Require workos-feature-flag f1 f2", "</RequireAll>"),
}


@pytest.mark.parametrize("name", sorted(GOOD))
def test_good_values_are_accepted(checker, files, name):
    rc, out = checker.configtest(base() + GOOD[name].replace("{dir}", str(files["dir"])))
    assert rc == 0, out


# Whole configurations (no base()): what is missing where AuthType WorkOS is used.
PASSWORD = "WorkOSCookiePassword env:WOS_IT_COOKIE_PASSWORD\n"
CLIENT = "WorkOSClientID client_01CONFIGTEST\n"
KEY = "WorkOSAPIKey env:WOS_IT_API_KEY\n"


def vhost(*lines):
    return ("<VirtualHost 127.0.0.1:*>\n    ServerName vh.example\n"
            + "".join(f"    {l}" for l in lines) + "</VirtualHost>\n")


MISSING = {
    # name: (configuration, directives the message must name)
    "client-id": (KEY + PASSWORD + in_location(*AUTH), ["WorkOSClientID"]),
    "password": (CLIENT + KEY + in_location(*AUTH), ["WorkOSCookiePassword"]),
    "api-key": (CLIENT + PASSWORD + in_location(*AUTH), ["WorkOSAPIKey"]),
    "all-three": (in_location(*AUTH), ["WorkOSClientID", "WorkOSCookiePassword",
                                       "WorkOSAPIKey"]),
    # Set in one virtual host only: another one using the module still lacks it.
    "client-id-in-another-vhost": (KEY + PASSWORD + vhost(CLIENT)
                                   + vhost(in_location(*AUTH)), ["WorkOSClientID"]),
    "lowercase-authtype": (KEY + PASSWORD + in_location("AuthType workos",
                                                        "Require valid-user"),
                           ["WorkOSClientID"]),
    # Active conditional sections count as if written out (httpd splices them in).
    "vhost-in-active-ifmodule": (KEY + PASSWORD + "<IfModule alias_module>\n"
                                 + vhost(in_location(*AUTH)) + "</IfModule>\n",
                                 ["WorkOSClientID"]),
    "in-active-ifdefine": (KEY + PASSWORD + "<IfDefine !WOS_NEVER_DEFINED>\n"
                           + in_location(*AUTH) + "</IfDefine>\n", ["WorkOSClientID"]),
}


@pytest.mark.parametrize("name", sorted(MISSING))
def test_missing_setting_where_the_module_is_used_fails_configtest(checker, name):
    conf, words = MISSING[name]
    rc, out = checker.configtest(conf)
    assert rc != 0, out
    for word in words:
        assert re.search(r"WOS00701: AuthType WorkOS at \S+:\d+ needs " + word, out), out
    assert "Syntax OK" not in out


COMPLETE = {
    "server-level": CLIENT + KEY + PASSWORD + in_location(*AUTH),
    "in-the-location": in_location(*AUTH, CLIENT.strip(), KEY.strip(), PASSWORD.strip()),
    "vhost-inherits-main": CLIENT + KEY + PASSWORD + vhost(in_location(*AUTH)),
    "vhost-own": vhost(CLIENT, KEY, PASSWORD, in_location(*AUTH)),
    # The request-time check (WOS00102) covers what merging decides per request.
    "in-a-parent-location": '<Location "/">\n    ' + CLIENT + "    " + KEY + "    " + PASSWORD
                            + "</Location>\n" + in_location(*AUTH),
    "inactive-ifmodule": "<IfModule nosuch_module>\n" + in_location(*AUTH) + "</IfModule>\n",
    "inactive-ifdefine": "<IfDefine WOS_NEVER_DEFINED>\n" + in_location(*AUTH)
                         + "</IfDefine>\n",
    "module-loaded-not-used": "",
    "settings-in-active-ifmodule": "<IfModule alias_module>\n" + CLIENT + KEY + PASSWORD
                                   + "</IfModule>\n" + vhost(in_location(*AUTH)),
}


@pytest.mark.parametrize("name", sorted(COMPLETE))
def test_complete_configurations_pass_configtest(checker, name):
    rc, out = checker.configtest(COMPLETE[name])
    assert rc == 0, out
    assert "WOS007" not in out


@pytest.mark.expect_log(r"WOS00702: WorkOSCache nosuchprovider: ")
def test_unknown_cache_provider_stops_start_up(httpd_factory, wos_server_conf):
    h = httpd_factory("bad-cache")
    with pytest.raises(RuntimeError, match="WOS00702: WorkOSCache nosuchprovider: "):
        h.start(wos_server_conf + "WorkOSCache nosuchprovider\n"
                + h.cgi_location("/c/", *AUTH))


# ---- on a running server ---------------------------------------------------

@pytest.fixture(scope="module")
def site(httpd_factory, wos_server_conf, files, emulator, secrets):
    h = httpd_factory("site")
    literal = secrets.add("literal cookie password", "lit-" + pysecrets.token_urlsafe(30))
    h.literal_password = literal
    loc = h.cgi_location
    conf = ("WorkOSUnauthAction 401\nWorkOSRemoteUser id\n" + wos_server_conf
            + loc("/lit/", *AUTH, f"WorkOSCookiePassword {literal}")
            + loc("/file/", *AUTH, f"WorkOSCookiePassword file:{files['dir']}/password")
            + loc("/env/", *AUTH, "WorkOSCookiePassword env:WOS_IT_COOKIE_PASSWORD")
            # The alias for the nested path first (aliases match in order), its
            # <Location> after the outer one (sections merge in order).
            + f'ScriptAlias "/inherit/override/" "{h.dir}/cgi/"\n'
            + loc("/inherit/", *AUTH)
            + location("/inherit/override/", "WorkOSUnauthAction login",
                       "WorkOSRemoteUser email")
            + loc("/slash/", *AUTH, f"WorkOSAPIBaseURL {emulator.url}/")
            + loc("/other-client/", *AUTH, "WorkOSClientID client_01NOTKNOWNTOTHEEMULATOR"))
    return h.start(conf)


def test_password_from_each_source(site, make_session, files, creds):
    by_literal = make_session("ada@example.com", password=site.literal_password)
    by_file = make_session("grace@example.com", password=files["password"])
    by_env = make_session("linus@example.com", password=creds.password)
    expect = {"/lit/": by_literal, "/file/": by_file, "/env/": by_env}
    for path, good in expect.items():
        for s in (by_literal, by_file, by_env):
            r = api(site, path + "env.cgi", session=s)
            if s is good:
                assert cgi_env(r)["WORKOS_USER_EMAIL"] == s.user["email"], path
            else:
                assert r.status_code == 401, (path, s.user["email"])


def test_server_settings_are_inherited_and_overridden(site, emulator, make_session):
    # Server level: 401 instead of sign-in, REMOTE_USER is the id.
    assert browser(site, "/inherit/env.cgi").status_code == 401
    s = make_session("ada@example.com")
    assert cgi_env(api(site, "/inherit/env.cgi", session=s))["REMOTE_USER"] == s.user["id"]
    # A nested <Location> overrides both and inherits AuthType and Require.
    r = browser(site, "/inherit/override/env.cgi")
    assert r.status_code == 302
    assert r.headers["Location"].startswith(f"{emulator.url}/user_management/authorize?")
    r = api(site, "/inherit/override/env.cgi", session=s)
    assert cgi_env(r)["REMOTE_USER"] == "ada@example.com"


def test_base_url_with_trailing_slash(site, make_session):
    s = make_session("grace@example.com")
    assert cgi_env(api(site, "/slash/env.cgi", session=s))["REMOTE_USER"] == s.user["id"]


@pytest.mark.expect_log(r"\[auth_workos:error\]")
def test_client_without_keys_is_503(site, make_session, creds):
    """The emulator has no JWKS for this client id: no usable key for it, even
    when the same httpd child already holds the keys of the other client."""
    s = make_session("grace@example.com")
    with requests.Session() as conn:         # one connection: one httpd child
        h = dict(API, Cookie=f"wos-session={s.cookie}")
        warm = conn.get(site.url + "/env/env.cgi", headers=h, timeout=30)
        assert warm.status_code == 200
        r = conn.get(site.url + "/other-client/env.cgi", headers=h, timeout=30)
    assert r.status_code == 503, r.text[:200]
    assert "REMOTE_USER" not in r.text


@pytest.mark.expect_log(r"WOS00701: AuthType WorkOS at \S+:\d+ needs WorkOSClientID")
def test_missing_client_id_fails_closed(httpd_factory):
    """httpd refuses to start (the harness's error carries the logs)."""
    h = httpd_factory("no-client-id")
    conf = ("WorkOSAPIKey env:WOS_IT_API_KEY\n"
            "WorkOSCookiePassword env:WOS_IT_COOKIE_PASSWORD\n"
            + h.cgi_location("/c/", *AUTH))
    with pytest.raises(RuntimeError,
                       match=r"WOS00701: AuthType WorkOS at \S+:\d+ needs WorkOSClientID"):
        h.start(conf)
    assert not h.running()
