# SPDX-License-Identifier: Apache-2.0
"""Forged identity headers: X-WorkOS-* (and the bare WorkOS-*/WORKOS_*
namespace), REMOTE_USER and AUTH_TYPE, in any case and with '_' or '-', sent
to every kind of path the module is configured on (protected, pass-through
with WorkOSUnauthAction pass, open with Require all granted), anonymous and
signed in, GET and POST, in headers and environment mode, to a mod_proxy
backend and to a CGI. The backend never sees a forged value: where the
module sets the same header, it holds the module's value, exactly once.

Locations without AuthType WorkOS are not the module's: it does not touch
their headers (README, "Forged headers are removed"; test_module_headers.py
shows forged headers arrive there). What httpd itself guarantees there is
checked too: a header never becomes REMOTE_USER, AUTH_TYPE or WORKOS_* in a
CGI's environment."""
import json
import secrets as pysecrets

import pytest

import hostile as H
from harness.backend import headers_of
from harness.client import API, cgi_env, request
from harness.emulator import org_id
from hostile import log_watch  # noqa: F401  (autouse fixture)

ACME = org_id("Acme")

FORGED_NAMES = [
    "X-WorkOS-User-Id", "x-workos-user-id", "X_WorkOS_User_Id", "x_workos_user_id",
    "X-WORKOS-USER-EMAIL", "X-WorkOS-Organization-Id", "X-WorkOS-Role", "X-WorkOS-Roles",
    "X-WorkOS-Permissions", "X-WorkOS-Access-Token", "X-WorkOS-Impersonator-Email",
    "X_WORKOS_SESSION_ID", "X-WorkOS-Made-Up-Future-Claim", "X-WorkOS", "X_WorkOS",
    "WorkOS-User-Id", "WORKOS_USER_ID", "workos_role", "Workos-Permissions",
    "REMOTE_USER", "Remote-User", "remote_user", "REMOTE-USER", "Auth-Type", "AUTH_TYPE",
    "auth_type",
]

# For the CGI, a subset: httpd itself drops header names with '_' from a CGI's
# environment, and a CGI costs a process per request.
CGI_FORGED_NAMES = ["X-WorkOS-User-Id", "X_WorkOS_User_Id", "X-WorkOS-Made-Up-Future-Claim",
                    "WorkOS-User-Id", "WORKOS_USER_ID", "Remote-User", "REMOTE_USER",
                    "Auth-Type"]

# name: (path, signed in, method, backend)
SCENARIOS = {
    "proxy-protected-headers": ("/p-prot/echo", True, "GET", "proxy"),
    "proxy-protected-headers-post": ("/p-prot/echo", True, "POST", "proxy"),
    "proxy-protected-environment": ("/p-env/echo", True, "GET", "proxy"),
    "proxy-pass-anonymous": ("/p-pass/echo", False, "GET", "proxy"),
    "proxy-pass-signed-in": ("/p-pass/echo", True, "GET", "proxy"),
    "proxy-open-anonymous": ("/p-open/echo", False, "GET", "proxy"),
    "proxy-open-signed-in": ("/p-open/echo", True, "GET", "proxy"),
    "cgi-protected": ("/c-prot/env.cgi", True, "GET", "cgi"),
    "cgi-pass-anonymous": ("/c-pass/env.cgi", False, "GET", "cgi"),
    "cgi-pass-signed-in": ("/c-pass/env.cgi", True, "GET", "cgi"),
    "cgi-open-anonymous": ("/c-open/env.cgi", False, "POST", "cgi"),
    "cgi-without-the-module": ("/c-plain/env.cgi", False, "GET", "cgi"),
}
HEADERS_MODE = {"/p-prot/echo", "/p-pass/echo", "/p-open/echo"}
SSI_SEPARATOR = "-- next include --\n"


@pytest.fixture(scope="module")
def site(httpd_factory, wos_server_conf, backend):
    h = httpd_factory("identity")
    b = backend.url
    wos = "AuthType WorkOS"
    conf = (wos_server_conf + H.LOGLEVEL
            + h.proxy_location("/p-prot/", b, wos, "Require valid-user",
                               "WorkOSPassClaimsAs headers")
            + h.proxy_location("/p-env/", b, wos, "Require valid-user")
            + h.proxy_location("/p-pass/", b, wos, "WorkOSUnauthAction pass",
                               "WorkOSPassClaimsAs headers", "Require all granted")
            + h.proxy_location("/p-open/", b, wos, "WorkOSPassClaimsAs headers",
                               "Require all granted")
            + h.proxy_location("/p-token-pass/", b, wos, "WorkOSUnauthAction pass",
                               "WorkOSPassClaimsAs headers", "WorkOSPassAccessToken On",
                               "Require all granted")
            + h.cgi_location("/c-prot/", wos, "Require valid-user")
            + h.cgi_location("/c-pass/", wos, "WorkOSUnauthAction pass", "Require all granted")
            + h.cgi_location("/c-open/", wos, "Require all granted")
            + h.cgi_location("/c-plain/", "Require all granted")
            # An open page (not the module's) that includes the module's locations.
            + h.static_location("/ssi/", "Options +Includes", "AddOutputFilter INCLUDES .shtml",
                                "Require all granted"))
    (h.dir / "htdocs" / "include.shtml").write_text(
        "<!--#include virtual=\"/c-pass/env.cgi\" -->\n" + SSI_SEPARATOR
        + "<!--#include virtual=\"/p-pass/echo\" -->\n")
    return h.start(conf)


@pytest.fixture(scope="module")
def ada(make_session):
    return make_session("ada@example.com", org=ACME)


def identity_headers(s):
    """What the module sends in headers mode for ada (lower-case names)."""
    u, c = s.user, s.claims
    return {"x-workos-user-id": u["id"], "x-workos-user-email": u["email"],
            "x-workos-organization-id": c["org_id"], "x-workos-role": c["role"],
            "x-workos-roles": ",".join(c["roles"]),
            "x-workos-permissions": ",".join(c["permissions"]),
            "x-workos-session-id": c["sid"]}


PROXIED = [n for n, v in SCENARIOS.items() if v[3] == "proxy"]
CGI = [n for n, v in SCENARIOS.items() if v[3] == "cgi"]


def forged_request(site, ada, scenario, name):
    path, signed_in, method, kind = SCENARIOS[scenario]
    value = "forged-" + pysecrets.token_hex(8)
    r = request(site, method, path, session=ada if signed_in else None,
                headers=dict(API, **{name: value}))
    return r, value


@pytest.mark.parametrize("scenario", PROXIED)
@pytest.mark.parametrize("name", FORGED_NAMES)
def test_forged_header_never_reaches_a_proxied_backend(site, ada, scenario, name):
    path, signed_in, method, kind = SCENARIOS[scenario]
    r, value = forged_request(site, ada, scenario, name)
    assert r.status_code == 200, f"{r.status_code}: {r.text[:200]}"
    assert r.json()["method"] == method
    assert value not in r.text
    seen = headers_of(r)
    workos = {k: v for k, v in seen.items() if k.startswith("x-workos")}
    if signed_in and path in HEADERS_MODE:
        want = identity_headers(ada)
        assert {k: workos[k] for k in want} == {k: [v] for k, v in want.items()}
    else:
        assert workos == {}
    for reserved in ("remote-user", "remote_user", "auth-type", "auth_type"):
        assert reserved not in seen


@pytest.mark.parametrize("scenario", CGI)
@pytest.mark.parametrize("name", CGI_FORGED_NAMES)
def test_forged_header_never_becomes_a_cgi_identity(site, ada, scenario, name):
    path, signed_in, method, kind = SCENARIOS[scenario]
    r, value = forged_request(site, ada, scenario, name)
    env = cgi_env(r)
    identity = {k: v for k, v in env.items()
                if k in ("REMOTE_USER", "AUTH_TYPE") or k.startswith("WORKOS_")}
    assert value not in json.dumps(identity)
    if scenario != "cgi-without-the-module":
        assert value not in json.dumps(env)
    if signed_in:
        assert env["REMOTE_USER"] == ada.user["id"]
        assert env["WORKOS_USER_ID"] == ada.user["id"]
        assert env["AUTH_TYPE"] == "WorkOS"
    else:
        assert not {"REMOTE_USER", "AUTH_TYPE"} & set(env)
        assert not [k for k in env if k.startswith("WORKOS_")]
    if scenario != "cgi-without-the-module":
        assert not [k for k in env if "WORKOS" in k.upper() and k.startswith("HTTP_")]


def test_all_forged_headers_at_once_in_one_request(site, ada):
    """Every spelling together (httpd merges same-named ones): nothing gets through."""
    values = {n: f"forged-{i}-{pysecrets.token_hex(6)}" for i, n in enumerate(FORGED_NAMES)}
    r = request(site, "GET", "/p-prot/echo", session=ada, headers=dict(API, **values))
    assert r.status_code == 200
    for v in values.values():
        assert v not in r.text
    want = identity_headers(ada)
    seen = headers_of(r)
    assert {k: seen[k] for k in want} == {k: [v] for k, v in want.items()}


def test_forged_bearer_token_does_not_reach_an_anonymous_token_backend(site):
    """With WorkOSPassAccessToken On in headers mode the module owns
    Authorization: the backend takes it for the user's verified WorkOS token.
    An anonymous request (WorkOSUnauthAction pass) must not be able to supply
    its own."""
    forged = "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9."
    r = request(site, "GET", "/p-token-pass/echo", headers=dict(API, Authorization=forged))
    assert r.status_code == 200
    seen = headers_of(r)
    assert "x-workos-access-token" not in seen
    assert "authorization" not in seen, seen.get("authorization")


def test_signed_in_token_backend_gets_the_real_token_only(site, ada):
    r = request(site, "GET", "/p-token-pass/echo", session=ada,
                headers=dict(API, Authorization="Bearer forged-token",
                             **{"X-WorkOS-Access-Token": "forged-token-header"}))
    seen = headers_of(r)
    assert seen["authorization"] == [f"Bearer {ada.token}"]
    assert seen["x-workos-access-token"] == [ada.token]
    assert "forged-token" not in r.text


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_forged_headers_do_not_reach_the_module_through_a_subrequest(site, ada, signed_in):
    """An open page includes (SSI subrequests) a CGI and a proxied backend in
    locations of the module. httpd skips header_parser for subrequests; the
    forged headers the page was requested with must still be gone there."""
    forged = {n: f"forged-{i}-{pysecrets.token_hex(6)}" for i, n in enumerate(
        ["X-WorkOS-Role", "X-WorkOS-User-Id", "WorkOS-User-Id", "Remote-User"])}
    r = request(site, "GET", "/ssi/include.shtml", session=ada if signed_in else None,
                headers=dict(API, **forged))
    assert r.status_code == 200, r.text[:300]
    cgi_part, proxy_part = r.text.split(SSI_SEPARATOR)
    env = json.loads(cgi_part)["env"]
    echo = json.loads(proxy_part)
    for v in forged.values():
        assert v not in r.text
    assert [k for k in env if k.startswith("HTTP_") and "WORKOS" in k.upper()] == []
    seen = {}
    for name, value in echo["headers"]:
        seen.setdefault(name.lower(), []).append(value)
    workos = {k: v for k, v in seen.items() if k.startswith("x-workos")}
    if signed_in:
        assert env["WORKOS_USER_ID"] == ada.user["id"]
        want = identity_headers(ada)
        assert {k: workos[k] for k in want} == {k: [v] for k, v in want.items()}
    else:
        assert not [k for k in env if k.startswith("WORKOS_")]
        assert workos == {}
