# SPDX-License-Identifier: Apache-2.0
"""Sign-in through the module's callback (issue 4), as far as the directives
need it: after signing in at the emulator, the callback sets the session
cookie with the configured attributes (WorkOSCookieMaxAge, -SameSite,
-Secure, -Name, -Path, -ChunkSize), the cookie holds the session in the
Node SDK's shape, and the API key (from a file) is what the code exchange
uses: a wrong key yields no session."""
import json
import re
import secrets as pysecrets
import urllib.parse

import pytest
import requests

from harness.client import BROWSER, api, browser, cgi_env, location_query, set_cookies
from harness.cookies import iron_unseal
from harness.emulator import org_id

AUTH = ("AuthType WorkOS", "Require valid-user")
ACME = org_id("Acme")


def sign_in(site, emulator, email, path="/app/env.cgi", cookie_name="wos-session"):
    """Browser steps to the callback; returns (callback response, {cookie: value})."""
    jar = {}

    def keep(resp):
        for name, value, attrs in set_cookies(resp):
            if attrs.get("max-age") == "0" or not value:
                jar.pop(name, None)
            else:
                jar[name] = value

    def cookie_header():
        return "; ".join(f"{k}={v}" for k, v in jar.items())

    r = browser(site, path)
    assert r.status_code == 302, r.text[:200]
    keep(r)
    page = requests.get(r.headers["Location"], headers=BROWSER, timeout=10)
    assert page.status_code == 200
    pending = re.search(r'name="authorization" value="([^"]+)"', page.text).group(1)
    assert f'data-user="{email}"' in page.text
    done = requests.post(f"{emulator.url}/authkit/sign-in",
                         data={"authorization": pending, "email": email},
                         allow_redirects=False, timeout=10)
    assert done.status_code == 302
    callback = done.headers["Location"]
    assert callback.startswith(f"{site.url}/auth/callback?")
    cb = browser(site, callback[len(site.url):], headers={"Cookie": cookie_header()})
    keep(cb)
    return cb, jar


def session_cookies(resp, name):
    """{cookie name: (value, attrs)} for the session cookie and its chunks set."""
    return {n: (v, a) for n, v, a in set_cookies(resp)
            if (n == name or n.startswith(name + ".")) and v and a.get("max-age") != "0"}


@pytest.fixture(scope="module")
def site(httpd_factory, wos_server_conf):
    h = httpd_factory("defaults")
    return h.start(wos_server_conf + h.cgi_location("/app/", *AUTH))


@pytest.fixture(scope="module")
def custom(httpd_factory, wos_server_conf, module_dir, secrets, creds):
    keyfile = module_dir / "apikey"
    keyfile.write_text(creds.api_key + "\n")
    keyfile.chmod(0o644)
    h = httpd_factory("custom")
    server = (wos_server_conf
              + f"WorkOSAPIKey file:{keyfile}\n"
              + "WorkOSCookieName app_session\nWorkOSCookieMaxAge 3600\n"
              + "WorkOSCookieSameSite Strict\nWorkOSCookieSecure Off\n"
              + "WorkOSCookiePath /app/\nWorkOSCookieChunkSize 2000\n")
    return h.start(server + h.cgi_location("/app/", *AUTH))


def test_sign_in_sets_the_session_cookie_with_default_attributes(site, emulator, sealer,
                                                                 secrets):
    cb, jar = sign_in(site, emulator, "ada@example.com")
    assert cb.status_code == 302, cb.text[:300]
    url, _ = location_query(cb)
    assert urllib.parse.urlsplit(url).path == "/app/env.cgi"
    cookies = session_cookies(cb, "wos-session")
    assert list(cookies) == ["wos-session"]
    value, attrs = cookies["wos-session"]
    secrets.add("cookie", value)
    assert attrs.get("max-age") == "34560000"
    assert attrs.get("path") == "/"
    assert attrs.get("httponly") is True
    assert attrs.get("secure") is True
    assert attrs.get("samesite", "").lower() == "lax"
    assert "domain" not in attrs
    r = api(site, "/app/env.cgi", cookie=f"wos-session={value}")
    assert cgi_env(r)["WORKOS_USER_EMAIL"] == "ada@example.com"


def test_the_cookie_holds_the_session_in_the_sdk_shape(site, emulator, sealer, secrets):
    cb, _ = sign_in(site, emulator, "impersonated@example.com")
    value = session_cookies(cb, "wos-session")["wos-session"][0]
    secrets.add("cookie", value)
    data = json.loads(iron_unseal(sealer.password, value))
    secrets.add("access token", data["accessToken"])
    secrets.add("refresh token", data["refreshToken"])
    assert data["user"]["email"] == "impersonated@example.com"
    assert data["user"]["firstName"] == "Imogen"
    assert data["user"]["lastName"] == "Persona"
    assert data["user"]["emailVerified"] is True
    assert data["organizationId"] == ACME
    assert data["authenticationMethod"] == "Password"
    assert data["impersonator"] == {"email": "support@example.com", "reason": "ticket 42"}
    assert set(data) >= {"user", "accessToken", "refreshToken", "organizationId"}


def test_custom_cookie_attributes_and_chunking(custom, emulator, secrets):
    cb, jar = sign_in(custom, emulator, "many@example.com", cookie_name="app_session")
    assert cb.status_code == 302, cb.text[:300]
    cookies = session_cookies(cb, "app_session")
    names = sorted(cookies, key=lambda n: int(n.rsplit(".", 1)[1]) if "." in n else -1)
    assert len(names) > 2 and all(re.fullmatch(r"app_session\.\d+", n) for n in names)
    assert [int(n.rsplit(".", 1)[1]) for n in names] == list(range(len(names)))
    for name in names:
        value, attrs = cookies[name]
        secrets.add("cookie chunk", value)
        assert len(value) <= 2000
        assert attrs.get("max-age") == "3600"
        assert attrs.get("path") == "/app/"
        assert attrs.get("samesite", "").lower() == "strict"
        assert "secure" not in attrs
        assert attrs.get("httponly") is True
    header = "; ".join(f"{n}={cookies[n][0]}" for n in names)
    r = api(custom, "/app/env.cgi", cookie=header)
    env = cgi_env(r)
    assert env["WORKOS_USER_EMAIL"] == "many@example.com"
    assert len(env["WORKOS_PERMISSIONS"].split(",")) == 400


@pytest.mark.expect_log(r"\[auth_workos:error\]")
def test_wrong_api_key_gives_no_session(httpd_factory, wos_server_conf, emulator, secrets):
    h = httpd_factory("wrong-key")
    wrong = secrets.add("wrong API key", "sk_test_wrong_" + pysecrets.token_urlsafe(16))
    h.start(wos_server_conf + f"WorkOSAPIKey {wrong}\n" + h.cgi_location("/app/", *AUTH))
    emulator.reset()
    cb, jar = sign_in(h, emulator, "ada@example.com")
    assert emulator.counters()["authenticate_code"] == 1
    assert emulator.counters()["authenticate_errors"] == 1
    assert session_cookies(cb, "wos-session") == {}
    assert "wos-session" not in jar
    cookie = "; ".join(f"{k}={v}" for k, v in jar.items()) or None
    assert api(h, "/app/env.cgi", cookie=cookie).status_code == 401


def test_default_chunk_size(site, emulator, secrets):
    """A session over 3800 bytes is written as wos-session.0.. of at most 3800 each."""
    cb, _ = sign_in(site, emulator, "many@example.com")
    cookies = session_cookies(cb, "wos-session")
    assert "wos-session" not in cookies
    values = [cookies[f"wos-session.{i}"][0] for i in range(len(cookies))]
    for v in values:
        secrets.add("cookie chunk", v)
    assert all(len(v) <= 3800 for v in values)
    assert len(values[0]) > 2000            # the default, not something smaller
    assert len(values) == -(-len("".join(values)) // len(values[0]))
    r = api(site, "/app/env.cgi", cookie="; ".join(f"wos-session.{i}={v}"
                                                   for i, v in enumerate(values)))
    assert cgi_env(r)["WORKOS_USER_EMAIL"] == "many@example.com"
