"""WorkOSPassClaim and Require workos-claim through a real httpd: custom
claims of the emulator's tokens (a JWT template's, via its extra_claims
setting or /__emulator/sign) into the environment and headers, forged
copies scrubbed, values of every JSON type, and authorization on them."""
import pytest

import flowlib as fl
from flowlib import clean_emulator  # noqa: F401  (autouse fixture)
from harness import client
from harness.backend import headers_of
from harness.cookies import jwt_claims

CLAIMS = {"urn:myapp:plan": "pro", "tier": 3, "beta": True, "ratio": 1.5,
          "groups": ["eng", "ops"], "nested": {"a": 1}, "mixed": ["x", {"b": 2}],
          "nothing": None, "urn:myapp:seats": [1, 2]}
PASSED = "urn:myapp:plan tier beta ratio groups nested mixed nothing urn:myapp:seats absent"


@pytest.fixture(scope="module")
def site(httpd_factory, emulator, creds, backend):
    iss = jwt_claims(emulator.session("ada@example.com")["access_token"])["iss"]
    h = fl.new_httpd(httpd_factory, "claims")
    auth = ("AuthType WorkOS", f"WorkOSPassClaim {PASSED}")
    conf = (fl.server_conf(emulator, creds, f"WorkOSIssuer {iss}")
            + h.cgi_location("/env/", *auth, "WorkOSAcceptBearer On", "Require valid-user")
            + h.proxy_location("/proxied", backend.url, *auth, "WorkOSPassClaimsAs headers",
                               "Require valid-user")
            + h.cgi_location("/pro/", "AuthType WorkOS", "WorkOSAcceptBearer On",
                             "AuthzSendForbiddenOnFailure On",
                             "Require workos-claim urn:myapp:plan pro enterprise")
            + h.cgi_location("/ops/", "AuthType WorkOS", "AuthzSendForbiddenOnFailure On",
                             "Require workos-claim groups ops")
            + h.cgi_location("/tier3/", "AuthType WorkOS", "AuthzSendForbiddenOnFailure On",
                             "Require workos-claim tier 3"))
    return h.start(conf)


def with_claims(emulator, make_session, claims, email="ada@example.com"):
    emulator.config(extra_claims=claims)
    return make_session(email)


def test_claims_into_the_environment(site, emulator, make_session):
    s = with_claims(emulator, make_session, CLAIMS)
    assert s.claims["urn:myapp:plan"] == "pro"
    env = client.cgi_env(client.api(site, "/env/env.cgi", s))
    got = {k: v for k, v in env.items() if k.startswith("WORKOS_CLAIM_")}
    assert got == {"WORKOS_CLAIM_URN_MYAPP_PLAN": "pro", "WORKOS_CLAIM_TIER": "3",
                   "WORKOS_CLAIM_BETA": "true", "WORKOS_CLAIM_RATIO": "1.5",
                   "WORKOS_CLAIM_GROUPS": "eng,ops", "WORKOS_CLAIM_URN_MYAPP_SEATS": "1,2"}
    # The standard identity is unchanged alongside.
    assert env["WORKOS_USER_EMAIL"] == "ada@example.com"


def test_claims_survive_a_refresh(site, emulator, make_session, creds):
    emulator.config(extra_claims={"urn:myapp:plan": "pro"})
    s = make_session("ada@example.com", expired=True)
    emulator.config(extra_claims={"urn:myapp:plan": "enterprise"})
    r = client.api(site, "/env/env.cgi", s)
    assert client.cgi_env(r)["WORKOS_CLAIM_URN_MYAPP_PLAN"] == "enterprise"
    assert emulator.counters()["authenticate_refresh"] == 1


def test_claims_from_a_bearer_token(site, emulator, secrets):
    tok = emulator.ctl("sign", {"user": "grace@example.com",
                                "claims": {"urn:myapp:plan": "free", "groups": []}})["token"]
    secrets.add("forged token", tok)
    env = client.cgi_env(client.api(site, "/env/env.cgi",
                                    headers={"Authorization": f"Bearer {tok}"}))
    assert env["WORKOS_CLAIM_URN_MYAPP_PLAN"] == "free"
    assert "WORKOS_CLAIM_GROUPS" not in env         # an empty list is not passed


def test_claims_as_headers(site, emulator, make_session):
    s = with_claims(emulator, make_session, CLAIMS)
    r = client.api(site, "/proxied", s,
                   headers={"X-WorkOS-Claim-Tier": "99", "X-WORKOS-CLAIM-ADMIN": "yes",
                            "X-WorkOS-Claim-Urn-Myapp-Plan": "forged"})
    assert r.status_code == 200, r.text[:300]
    got = {k: v for k, v in headers_of(r).items() if k.startswith("x-workos-claim-")}
    assert got == {"x-workos-claim-urn-myapp-plan": ["pro"], "x-workos-claim-tier": ["3"],
                   "x-workos-claim-beta": ["true"], "x-workos-claim-ratio": ["1.5"],
                   "x-workos-claim-groups": ["eng,ops"],
                   "x-workos-claim-urn-myapp-seats": ["1,2"]}


def test_forged_claim_variables_are_scrubbed_without_the_claim(site, emulator, make_session):
    s = with_claims(emulator, make_session, {})
    env = client.cgi_env(client.api(site, "/env/env.cgi", s,
                                    headers={"X-WorkOS-Claim-Tier": "99"}))
    assert not [k for k in env if "CLAIM" in k]


@pytest.mark.expect_log(r"AH01631: user .*: authorization failure")
@pytest.mark.parametrize("path,claims,status", [
    ("/pro/env.cgi", {"urn:myapp:plan": "pro"}, 200),
    ("/pro/env.cgi", {"urn:myapp:plan": "enterprise"}, 200),
    ("/pro/env.cgi", {"urn:myapp:plan": "free"}, 403),
    ("/pro/env.cgi", {"urn:myapp:plan": ["pro"]}, 200),
    ("/pro/env.cgi", {"urn:myapp:plan": "pro2"}, 403),
    ("/pro/env.cgi", {}, 403),
    ("/ops/env.cgi", {"groups": ["eng", "ops"]}, 200),
    ("/ops/env.cgi", {"groups": ["eng"]}, 403),
    ("/ops/env.cgi", {"groups": "eng,ops"}, 403),    # a string is not a list
    ("/tier3/env.cgi", {"tier": 3}, 200),
    ("/tier3/env.cgi", {"tier": "3"}, 200),
    ("/tier3/env.cgi", {"tier": 4}, 403),
    ("/tier3/env.cgi", {"tier": {"n": 3}}, 403),
])
def test_require_workos_claim(site, emulator, make_session, path, claims, status):
    s = with_claims(emulator, make_session, claims)
    assert client.api(site, path, s).status_code == status


@pytest.mark.expect_log(r"AH01631: user .*: authorization failure")
def test_require_workos_claim_for_a_bearer_token(site, emulator, secrets):
    def call(plan):
        tok = emulator.ctl("sign", {"user": "ada@example.com",
                                    "claims": {"urn:myapp:plan": plan}})["token"]
        secrets.add("forged token", tok)
        return client.api(site, "/pro/env.cgi", headers={"Authorization": f"Bearer {tok}"})
    assert call("enterprise").status_code == 200
    assert call("free").status_code == 403


@pytest.mark.parametrize("directive,message", [
    ("WorkOSPassClaim a:b a_b", "would both be WORKOS_CLAIM_A_B"),
    ("WorkOSPassClaim " + "x" * 129, "1 to 128"),
    ("Require workos-claim plan", "at least one value"),
])
def test_configtest_refusals(httpd_factory, emulator, creds, directive, message):
    h = fl.new_httpd(httpd_factory, f"claims-configtest-{len(directive)}")
    rc, out = h.configtest(fl.server_conf(emulator, creds) + h.cgi_location(
        "/x/", "AuthType WorkOS", directive,
        *([] if directive.startswith("Require") else ["Require valid-user"])))
    assert rc != 0 and message in out, out
