"""WorkOSSessionInfoURI through a real httpd: the session as JSON for pages
without server code, 401 JSON without one, the access token only with
WorkOSSessionInfoAccessToken On, POST refresh=1 (single flight: one call to
WorkOS for a burst), and CORS: listed origins with credentials and
preflight, everything else refused. Expected values come from users.json
and from decoding the emulator's tokens here."""
import concurrent.futures

import pytest
import requests

import flowlib as fl
from flowlib import clean_emulator  # noqa: F401  (autouse fixture)
from harness import client
from harness.cookies import jwt_claims

INFO = "/auth/session"
APP = "http://app.example.test"


def conf(h, emulator, creds, *extra):
    return fl.server_conf(emulator, creds, f"WorkOSSessionInfoURI {INFO}",
                          f"WorkOSSessionInfoOrigins {APP} https://other.example.test",
                          *extra) + h.cgi_location("/private/", "AuthType WorkOS",
                                                   "Require valid-user")


@pytest.fixture(scope="module")
def site(httpd_factory, emulator, creds):
    h = fl.new_httpd(httpd_factory, "info")
    return h.start(conf(h, emulator, creds))


@pytest.fixture(scope="module")
def token_site(httpd_factory, emulator, creds):
    h = fl.new_httpd(httpd_factory, "info-token")
    return h.start(conf(h, emulator, creds, "WorkOSSessionInfoAccessToken On"))


def info(site, session=None, method="GET", headers=None, cookie=None, **kw):
    h = dict(client.API, **(headers or {}))
    if session is not None:
        cookie = f"{fl.SESSION}={session.cookie}"
    return client.request(site, method, INFO, headers=h, cookie=cookie, **kw)


def same_origin(site):
    return {"Origin": site.url}


def expected(s):
    u, c = fl.user(s.user["email"]), s.claims
    imp = u.get("impersonator")
    return {"user": {"id": u["id"], "email": u["email"], "firstName": u["first_name"],
                     "lastName": u["last_name"], "emailVerified": u["email_verified"],
                     "profilePictureUrl": u["profile_picture_url"]},
            "organizationId": c.get("org_id"), "role": c.get("role"),
            "roles": c.get("roles", []), "permissions": c.get("permissions", []),
            "entitlements": c.get("entitlements", []),
            "featureFlags": c.get("feature_flags", []), "sessionId": c["sid"],
            "impersonator": {"email": imp["email"], "reason": imp["reason"]} if imp else None,
            "accessTokenExpiresAt": c["exp"]}


def check_headers(r):
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Content-Type"].startswith("application/json")
    assert "Origin" in r.headers.get("Vary", "")


@pytest.mark.parametrize("email", ["ada@example.com", "impersonated@example.com",
                                   "solo@example.com"])
def test_signed_in(site, make_session, email):
    s = make_session(email)
    r = info(site, s)
    assert r.status_code == 200, r.text[:300]
    check_headers(r)
    assert r.json() == expected(s)
    assert "accessToken" not in r.json()
    assert "Access-Control-Allow-Origin" not in r.headers


@pytest.mark.parametrize("cookie", [None, f"{fl.SESSION}=garbage"])
def test_signed_out(site, cookie):
    r = info(site, cookie=cookie)
    assert r.status_code == 401
    check_headers(r)
    assert r.json() == {"error": "unauthenticated"}
    assert fl.session_cookies(r) == []


def test_with_the_access_token(token_site, make_session):
    s = make_session("grace@example.com")
    r = info(token_site, s)
    assert r.status_code == 200
    body = r.json()
    assert body.pop("accessToken") == s.token
    assert body == expected(s)


def test_expired_token_is_refreshed_on_get(site, make_session, emulator, creds):
    s = make_session("ada@example.com", expired=True)
    r = info(site, s)
    assert r.status_code == 200
    new = fl.unseal_session(fl.assembled(r), creds.password)
    assert r.json()["accessTokenExpiresAt"] == jwt_claims(new["accessToken"])["exp"]
    assert emulator.counters()["authenticate_refresh"] == 1


def test_forced_refresh_picks_up_a_new_role(site, make_session, emulator, creds):
    s = make_session("grace@example.com")
    assert info(site, s).json()["role"] == "member"
    emulator.config(extra_claims={"role": "admin"})      # granted a moment ago
    assert info(site, s).json()["role"] == "member"     # a GET keeps the valid token
    r = info(site, s, "POST", headers=same_origin(site), data={"refresh": "1"})
    assert r.status_code == 200, r.text[:300]
    assert r.json()["role"] == "admin"
    assert emulator.counters()["authenticate_refresh"] == 1
    new = fl.unseal_session(fl.assembled(r), creds.password)
    assert jwt_claims(new["accessToken"])["role"] == "admin"


def test_forced_refresh_burst_is_one_call(site, make_session, emulator, creds):
    s = make_session("ada@example.com")

    def one(_):
        return info(site, s, "POST", headers=same_origin(site), data={"refresh": "1"})

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(one, range(8)))
    assert [r.status_code for r in answers] == [200] * 8
    assert emulator.counters()["authenticate_refresh"] == 1
    tokens = {fl.unseal_session(fl.assembled(r), creds.password)["accessToken"]
              for r in answers}
    assert len(tokens) == 1 and s.token not in tokens


@pytest.mark.parametrize("query,data", [("", None), ("?xrefresh=1", None),
                                        ("?refresh=10", None), ("", {"refresh": "0"})])
def test_post_without_refresh_does_not_call(site, make_session, emulator, query, data):
    r = client.request(site, "POST", INFO + query, headers=dict(client.API, **same_origin(site)),
                       cookie=f"{fl.SESSION}={make_session('ada@example.com').cookie}",
                       data=data)
    assert r.status_code == 200
    assert emulator.counters()["authenticate_refresh"] == 0


def test_refresh_in_the_query(site, make_session, emulator):
    r = client.request(site, "POST", INFO + "?refresh=1",
                       headers=dict(client.API, **same_origin(site)),
                       cookie=f"{fl.SESSION}={make_session('ada@example.com').cookie}")
    assert r.status_code == 200
    assert emulator.counters()["authenticate_refresh"] == 1


@pytest.mark.parametrize("headers", [{}, {"Sec-Fetch-Site": "cross-site"},
                                     {"Sec-Fetch-Site": "same-site"},
                                     {"Origin": "null"}])
def test_refresh_from_elsewhere_is_refused(site, make_session, emulator, headers):
    r = info(site, make_session("ada@example.com"), "POST", headers=headers,
             data={"refresh": "1"})
    assert r.status_code == 403
    assert r.json()["error"] in ("cross_site_request", "origin_not_allowed")
    assert emulator.counters()["authenticate_refresh"] == 0
    assert "Access-Control-Allow-Origin" not in r.headers


def test_sec_fetch_site_same_origin_without_origin(site, make_session, emulator):
    r = info(site, make_session("ada@example.com"), "POST",
             headers={"Sec-Fetch-Site": "same-origin"}, data={"refresh": "1"})
    assert r.status_code == 200
    assert emulator.counters()["authenticate_refresh"] == 1


def test_cors_listed_origin(site, make_session, emulator):
    s = make_session("ada@example.com")
    r = info(site, s, headers={"Origin": APP})
    assert r.status_code == 200 and r.json() == expected(s)
    assert r.headers["Access-Control-Allow-Origin"] == APP
    assert r.headers["Access-Control-Allow-Credentials"] == "true"
    check_headers(r)
    # A listed origin may also ask for a refresh (CORS protects the answer).
    r = info(site, s, "POST", headers={"Origin": APP}, data={"refresh": "1"})
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == APP
    assert emulator.counters()["authenticate_refresh"] == 1


@pytest.mark.expect_log(r"WOS01621")
@pytest.mark.parametrize("origin", ["http://evil.example.test", "http://app.example.test:81",
                                    "https://app.example.test", "HTTP://APP.EXAMPLE.TEST"])
def test_cors_unlisted_origin(site, make_session, origin):
    r = info(site, make_session("ada@example.com"), headers={"Origin": origin})
    assert r.status_code == 403
    assert r.json() == {"error": "origin_not_allowed"}
    assert "Access-Control-Allow-Origin" not in r.headers
    assert "user" not in r.text


def test_preflight(site):
    r = info(site, method="OPTIONS", headers={"Origin": APP,
                                              "Access-Control-Request-Method": "POST",
                                              "Access-Control-Request-Headers": "content-type"})
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == APP
    assert r.headers["Access-Control-Allow-Credentials"] == "true"
    assert set(r.headers["Access-Control-Allow-Methods"].replace(" ", "").split(",")) \
        == {"GET", "POST"}
    assert "content-type" in r.headers["Access-Control-Allow-Headers"].lower()
    assert "Origin" in r.headers["Vary"]
    r = info(site, method="OPTIONS", headers={"Origin": "http://evil.example.test",
                                              "Access-Control-Request-Method": "GET"})
    assert r.status_code == 403 and "Access-Control-Allow-Origin" not in r.headers


def test_other_methods(site):
    r = info(site, method="DELETE")
    assert r.status_code == 405
    assert set(r.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_forged_identity_headers_do_not_matter(site, make_session):
    s = make_session("grace@example.com")
    r = info(site, s, headers={"X-WorkOS-User-Id": "user_forged"})
    assert r.json()["user"]["id"] == fl.user("grace@example.com")["id"]
