# SPDX-License-Identifier: Apache-2.0
"""The module's own error pages, through a real httpd: each page's fixed word
(WORKOS_ERROR) and escaped description reach an operator's ErrorDocument;
JSON clients get {"error", "error_description"}; the 403 page says who is
refused and why and offers a way on (a POST switch form, back, sign out);
the refusal is logged at info once, only when the request is really refused;
a reloaded callback goes on when the browser is signed in; sign-in started
on another loopback name than the callback's is sent there first; the
organization switch takes a POSTed form."""
import json
import re
import urllib.parse

import pytest

import flowlib as fl
from flowlib import clean_emulator  # noqa: F401  (autouse fixture)
from harness import client

# httpd's own line for every authorization refusal.
pytestmark = pytest.mark.expect_log(r"AH01631")

GRACE, LINUS, ADA = "grace@example.com", "linus@example.com", "ada@example.com"


def extra_locations(h):
    auth = "AuthType WorkOS"
    return (h.cgi_location("/org/", auth, "AuthzSendForbiddenOnFailure On",
                           f"Require workos-org {fl.GLOBEX}")
            + h.cgi_location("/need403/", auth, "WorkOSUnauthAction 403", "Require valid-user")
            + h.cgi_location("/either/", auth, "<RequireAny>", "Require workos-role admin",
                             "Require workos-role member", "</RequireAny>"))


@pytest.fixture(scope="module")
def site(httpd_factory, emulator, creds):
    h = fl.new_httpd(httpd_factory, "pages")
    return h.start(fl.site(h, fl.server_conf(emulator, creds)) + extra_locations(h))


@pytest.fixture(scope="module")
def errdoc(httpd_factory, emulator, creds):
    """The same site, with an ErrorDocument (a CGI printing its environment) for each status."""
    h = fl.new_httpd(httpd_factory, "pages-errdoc")
    docs = "".join(f"ErrorDocument {s} /errdoc/env.cgi\n" for s in (400, 401, 403, 503))
    return h.start(fl.site(h, fl.server_conf(emulator, creds) + docs) + extra_locations(h)
                   + h.cgi_location("/errdoc/", "Require all granted"))


def session_cookie(make_session, email, org=None):
    return f"{fl.SESSION}={make_session(email, org=org).cookie}"


def form_post(h, path, fields, cookie=None, content_type="application/x-www-form-urlencoded"):
    """A browser's POST of a form on the site itself (same origin)."""
    headers = dict(client.BROWSER, Origin=h.url, **{"Sec-Fetch-Site": "same-origin",
                                                    "Content-Type": content_type})
    return client.request(h, "POST", path, headers=headers, cookie=cookie,
                          data=urllib.parse.urlencode(fields))


# ---- how each page is brought about -----------------------------------------------

def state_unknown(h, b, emulator, make_session):
    return b.nav(fl.CALLBACK + "?code=x&state=" + "A" * 43)


def state_replayed(h, b, emulator, make_session):
    s = fl.sign_in(b, emulator, "/private/env.cgi", ADA)
    assert s.done.status_code == 302
    return s.callback(cookie="")


def sign_in_cancelled(h, b, emulator, make_session):
    s = fl.SignIn(b, emulator, "/private/env.cgi")
    s.choose(None, cancel=True)
    return s.callback()


def sign_in_error(h, b, emulator, make_session):
    s = fl.SignIn(b, emulator, "/private/env.cgi")
    q = urllib.parse.urlencode({"state": s.params["state"], "error": "login_required",
                                "error_description": "<b>Come back</b> later"})
    return b.nav(fl.CALLBACK + "?" + q)


def invalid_callback(h, b, emulator, make_session):
    s = fl.SignIn(b, emulator, "/private/env.cgi")
    return b.nav(fl.CALLBACK + "?state=" + s.params["state"])


def sign_in_failed(h, b, emulator, make_session):
    s = fl.SignIn(b, emulator, "/private/env.cgi")
    s.choose(ADA)
    emulator.fault(endpoint="code", count=1, error="invalid_grant")
    return s.callback()


def temporarily_unavailable(h, b, emulator, make_session):
    s = fl.SignIn(b, emulator, "/private/env.cgi")
    s.choose(ADA)
    emulator.fault(endpoint="code", count=1, status=503)
    return s.callback()


def organization_switch_refused(h, b, emulator, make_session):
    return form_post(h, fl.SWITCH, {"organization_id": fl.ACME, "return_to": "/private/"},
                     cookie=session_cookie(make_session, LINUS))


def invalid_request(h, b, emulator, make_session):
    return form_post(h, fl.SWITCH, {"return_to": "/private/"},
                     cookie=session_cookie(make_session, LINUS))


def login_required(h, b, emulator, make_session):
    return b.api("/private/env.cgi")


def login_required_403(h, b, emulator, make_session):
    return b.nav("/need403/env.cgi")


def forbidden(h, b, emulator, make_session):
    return client.browser(h, "/admin/env.cgi", session=make_session(GRACE, org=fl.ACME))


PAGES = [  # (word, status, how)
    ("state_unknown", 400, state_unknown),
    ("state_replayed", 400, state_replayed),
    ("sign_in_cancelled", 401, sign_in_cancelled),
    ("sign_in_error", 401, sign_in_error),
    ("invalid_callback", 400, invalid_callback),
    ("sign_in_failed", 401, sign_in_failed),
    ("temporarily_unavailable", 503, temporarily_unavailable),
    ("organization_switch_refused", 403, organization_switch_refused),
    ("invalid_request", 400, invalid_request),
    ("login_required", 401, login_required),
    ("login_required", 403, login_required_403),
    ("forbidden", 403, forbidden),
]
IDS = [f"{w}-{s}" for w, s, _ in PAGES]


@pytest.mark.parametrize("word,status,how", PAGES, ids=IDS)
def test_module_page(site, emulator, make_session, secrets, creds, word, status, how):
    """Without an ErrorDocument: the module's page, HTML, with a way forward."""
    b = fl.Browser(site, secrets, creds.password)
    r = how(site, b, emulator, make_session)
    assert r.status_code == status, f"{r.status_code}: {r.text[:300]}"
    if word == "login_required" and status == 401:
        assert r.headers["Content-Type"] == "application/json"   # an API client
        return
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert r.headers["Cache-Control"] in ("no-store", "private, no-cache, no-store, must-revalidate, max-age=0")
    assert "<h1 id=\"wos-title\">" in r.text and "you" in r.text.lower()
    assert "Location" not in r.headers
    ways = re.findall(r'<a id="(wos-[a-z-]+)"[^>]* href="([^"]*)"', r.text)
    assert ways, r.text
    if word in ("state_unknown", "state_replayed", "sign_in_cancelled", "sign_in_error",
                "invalid_callback", "sign_in_failed", "login_required"):
        href = dict(ways)["wos-sign-in"]
        assert href.startswith(fl.LOGIN)
        if word != "state_unknown":       # the target of that sign-in is unknown
            assert urllib.parse.parse_qs(urllib.parse.urlsplit(
                href.replace("&amp;", "&")).query)["return_to"][0].startswith(
                    "/private/" if word != "login_required" else "/need403/")


@pytest.mark.parametrize("word,status,how", PAGES, ids=IDS)
def test_error_document_sees_the_error(errdoc, emulator, make_session, secrets, creds, word,
                                       status, how):
    b = fl.Browser(errdoc, secrets, creds.password)
    r = how(errdoc, b, emulator, make_session)
    assert r.status_code == status, f"{r.status_code}: {r.text[:300]}"
    env = r.json()["env"]
    assert env["REDIRECT_STATUS"] == str(status)
    assert env["WORKOS_ERROR"] == word
    desc = env["WORKOS_ERROR_DESCRIPTION"]
    assert len(desc) > 10 and "<" not in desc and ">" not in desc, desc
    if word == "sign_in_error":
        assert "&lt;b&gt;Come back&lt;/b&gt; later" in desc
    if word == "forbidden":
        assert "the role admin" in desc


def test_no_error_variables_on_a_granted_page(site, make_session):
    """A Require line that failed inside a RequireAny that granted is no refusal."""
    size = site.log_size()
    r = client.browser(site, "/either/env.cgi", session=make_session(GRACE, org=fl.ACME))
    assert r.status_code == 200
    assert not [k for k in r.json()["env"] if k.startswith(("WORKOS_ERROR", "REDIRECT_"))]
    # The refusal line is written after the answer: a refused request after the
    # granted one, and its line, mark when the granted one's would have come.
    refused = client.browser(site, "/admin/env.cgi", session=make_session(GRACE, org=fl.ACME))
    assert refused.status_code == 403
    log = site.wait_log(size, r"WOS01501: \S+ refused /admin/")
    assert re.findall(r"WOS01501: \S+ refused (\S+)", log) == ["/admin/env.cgi:"], log


def json_unavailable(h, b, emulator, make_session):
    s = fl.SignIn(b, emulator, "/private/env.cgi")
    s.choose(ADA)
    emulator.fault(endpoint="code", count=1, status=503)
    return b.request(fl.local_path(h, s.callback_url), client.API)


@pytest.mark.parametrize("word,status,how", [
    ("login_required", 401, login_required),
    ("state_unknown", 400,
     lambda h, b, e, m: b.request(fl.CALLBACK + "?code=x&state=" + "A" * 43, client.API)),
    ("forbidden", 403,
     lambda h, b, e, m: client.api(h, "/admin/env.cgi", session=m(GRACE, org=fl.ACME))),
    ("temporarily_unavailable", 503, json_unavailable),
], ids=["401", "callback-400", "403", "callback-503"])
def test_json_body(site, emulator, make_session, secrets, creds, word, status, how):
    r = how(site, fl.Browser(site, secrets, creds.password), emulator, make_session)
    assert r.status_code == status, f"{r.status_code}: {r.text[:300]}"
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == word
    assert body["error_description"].startswith("You") or " you" in body["error_description"]
    assert "bad password" not in r.text and "<html" not in r.text.lower()


def test_forbidden_page_says_who_and_why(site, make_session):
    size = site.log_size()
    r = client.browser(site, "/admin/env.cgi", session=make_session(GRACE, org=fl.ACME),
                       headers={"Referer": site.url + "/private/env.cgi?x=1"})
    assert r.status_code == 403
    t = r.text
    assert '<td id="wos-user">grace@example.com</td>' in t
    assert f'<td id="wos-org">{fl.ACME}</td>' in t
    assert '<td id="wos-role">member</td>' in t
    assert '<ul id="wos-requirements"><li>the role admin</li></ul>' in t
    assert f'id="wos-sign-out" href="{fl.LOGOUT}"' in t
    assert 'id="wos-back" href="/private/env.cgi?x=1"' in t
    assert "wos-switch" not in t          # the module does not know her other roles
    want = (r"\[auth_workos:info\].*WOS01501: user_01GRACE0+ refused "
            r"/admin/env\.cgi: Require workos-role admin not met")
    log = site.wait_log(size, want)
    assert re.search(want, log), log


def test_forbidden_page_offers_the_required_organization(site, make_session):
    cookie = session_cookie(make_session, GRACE, org=fl.ACME)
    r = client.browser(site, "/org/env.cgi", cookie=cookie,
                       headers={"Referer": "http://elsewhere.example/x"})
    assert r.status_code == 403
    assert f"membership of the organization {fl.GLOBEX}" in r.text
    assert 'id="wos-back" href="/"' in r.text      # another site's page is not "back"
    form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', r.text).groups()
    assert form[0] == fl.SWITCH
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form[1]))
    assert fields == {"organization_id": fl.GLOBEX, "return_to": "/org/env.cgi"}
    # Submitting it switches and lands on the page, now allowed.
    done = form_post(site, form[0], fields, cookie=cookie)
    assert done.status_code == 302, done.text[:300]
    assert done.headers["Location"] == site.url + "/org/env.cgi"
    new = fl.session_cookies(done)
    cookie = "; ".join(f"{n}={v}" for n, v, _ in new)
    again = client.browser(site, "/org/env.cgi", cookie=cookie)
    assert again.status_code == 200
    assert again.json()["env"]["WORKOS_ORGANIZATION_ID"] == fl.GLOBEX


def test_error_document_text_still_wins(httpd_factory, emulator, creds, make_session):
    h = fl.new_httpd(httpd_factory, "pages-text")
    h.start(fl.server_conf(emulator, creds) + h.cgi_location(
        "/admin/", "AuthType WorkOS", "AuthzSendForbiddenOnFailure On",
        "Require workos-role admin", 'ErrorDocument 403 "Ask your administrator."'))
    r = client.browser(h, "/admin/env.cgi", session=make_session(GRACE, org=fl.ACME))
    assert r.status_code == 403
    assert r.text.strip() == "Ask your administrator."
    h.stop()


# ---- callbacks used again ------------------------------------------------------------

def test_reloaded_callback_with_a_session_goes_on(site, browser, emulator):
    s = fl.sign_in(browser, emulator, "/private/env.cgi?a=1", ADA)
    assert s.done.status_code == 302
    again = s.callback()                       # the jar now holds the session
    assert again.status_code == 302, again.text[:300]
    assert again.headers["Location"] == site.url + "/private/env.cgi?a=1"
    assert fl.session_cookies(again) == []     # nothing new was signed in


def test_reloaded_callback_without_a_session_is_a_page(site, browser, emulator):
    s = fl.sign_in(browser, emulator, "/private/env.cgi", ADA)
    r = s.callback(cookie="")
    assert r.status_code == 400
    assert "You opened a sign-in link that was used once already" in r.text


# ---- host names -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def named(httpd_factory, emulator, creds):
    """WorkOSRedirectURI on localhost; the harness reaches it as 127.0.0.1."""
    h = fl.new_httpd(httpd_factory, "pages-host")
    conf = fl.server_conf(emulator, creds).replace(
        f"WorkOSRedirectURI {fl.CALLBACK}",
        f"WorkOSRedirectURI http://localhost:{h.port}{fl.CALLBACK}")
    return h.start(fl.site(h, conf))


def test_sign_in_moves_to_the_callback_host_first(named, emulator):
    r = client.browser(named, "/private/env.cgi?x=1")
    assert r.status_code == 302
    assert r.headers["Location"] == f"http://localhost:{named.port}/private/env.cgi?x=1"
    assert not [c for c in client.set_cookies(r) if c[0].startswith(fl.STATE_PREFIX)]
    # There, sign-in starts (and its state cookie is the callback's).
    there = client.browser(named, "/private/env.cgi?x=1",
                           headers={"Host": f"localhost:{named.port}"})
    params = fl.authorize_params(there, emulator)
    assert params["redirect_uri"] == f"http://localhost:{named.port}{fl.CALLBACK}"
    login = client.browser(named, fl.LOGIN + "?return_to=/private/")
    assert login.headers["Location"] == (f"http://localhost:{named.port}{fl.LOGIN}"
                                         "?return_to=/private/")


def test_callback_without_sign_in_cookie_names_the_host(named):
    size = named.log_size()
    r = client.browser(named, fl.CALLBACK + "?code=x&state=" + "B" * 43,
                       headers={"Host": f"localhost:{named.port}"})
    assert r.status_code == 400
    assert f"Sign-in finishes at http://localhost:{named.port}/" in r.text
    assert "127.0.0.1" in r.text
    assert "sign-in started on another host name" in named.log_since(size)


def test_switch_takes_a_posted_form(site, make_session):
    cookie = session_cookie(make_session, GRACE, org=fl.ACME)
    r = form_post(site, fl.SWITCH, {"organization_id": fl.GLOBEX, "return_to": "/private/x"},
                  cookie=cookie)
    assert r.status_code == 302, r.text[:300]
    assert r.headers["Location"] == site.url + "/private/x"
    assert fl.session_cookies(r)
    wrong = form_post(site, fl.SWITCH, {"organization_id": fl.GLOBEX}, cookie=cookie,
                      content_type="text/plain")
    assert wrong.status_code == 400


def test_other_port_is_named_not_redirected(httpd_factory, emulator, creds):
    """localhost on another port (a proxy in front, say): a redirect could loop; logged."""
    h = fl.new_httpd(httpd_factory, "pages-port")
    conf = fl.server_conf(emulator, creds).replace(
        f"WorkOSRedirectURI {fl.CALLBACK}", f"WorkOSRedirectURI http://localhost:8443{fl.CALLBACK}")
    h.start(fl.site(h, conf))
    size = h.log_size()
    r = client.browser(h, "/private/env.cgi")
    params = fl.authorize_params(r, emulator)
    assert params["redirect_uri"] == f"http://localhost:8443{fl.CALLBACK}"
    assert re.search(rf"WOS01502: sign-in starts at 127\.0\.0\.1:{h.port} but finishes at "
                     r"localhost:8443", h.log_since(size))
    h.stop()
