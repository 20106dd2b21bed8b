"""Open-redirect payloads (tests/vectors/redirect/bad.txt, the list
test_flows_redirects.py follows through whole sign-ins) against the module's
two endpoints that take a return target, one test per payload:

- the sign-in start (?return_to=, percent-encoded as encodeURIComponent
  would, and again with its slashes raw): the browser goes to the emulator's
  authorize page, and the target sealed into the sign-in state cookie (where
  the callback will send the browser) is exactly "/";
- the organization switch (a real session switching to Globex): the answer is
  a 302 to exactly this site's "/".

The good payloads are the control: each is kept byte for byte. The origins
of allow.txt are allow-listed (WorkOSRedirectAllow), so lookalikes of them
are part of the attack."""
import json
import urllib.parse

import pytest

import flowlib as fl
import hostile as H
from harness import client
from harness.cookies import iron_unseal, sdk_session
from hostile import log_watch  # noqa: F401  (autouse fixture)

BAD = fl.read_vectors("bad.txt")
GOOD = fl.read_vectors("good.txt")
ALLOW = [p.decode("ascii") for p in fl.read_vectors("allow.txt")]


@pytest.fixture(scope="module")
def site(httpd_factory, emulator, creds):
    h = fl.new_httpd(httpd_factory, "hostile-redirects")
    allow = "WorkOSRedirectAllow " + " ".join(f'"{o}"' for o in ALLOW)
    return h.start(fl.site(h, fl.server_conf(emulator, creds, allow) + H.LOGLEVEL))


def test_vectors_are_read():
    assert len(BAD) >= 150 and len(GOOD) >= 40 and len(ALLOW) == 4


def sealed_target(site, emulator, password, query):
    """The sign-in start for ?return_to=<query>: the return target it sealed."""
    r = H.cookie_request(site, fl.LOGIN + "?return_to=" + query, None, "browser")
    assert r.status_code == 302, f"{r.status_code}: {r.text[:200]}"
    assert r.headers["Location"].startswith(f"{emulator.url}/user_management/authorize?")
    state = [v for n, v, a in client.set_cookies(r) if n.startswith(fl.STATE_PREFIX)]
    assert len(state) == 1
    return json.loads(iron_unseal(password, state[0]))["returnPathname"]


def switch_location(site, emulator, sealer, query):
    auth = emulator.session("ada@example.com")
    sealer.secrets.add("access token", auth["access_token"])
    sealer.secrets.add("refresh token", auth["refresh_token"])
    cookie = sealer.iron(sdk_session(auth))
    # The switch form, POSTed by this site's page, with the payload as its return_to.
    headers = dict(client.BROWSER, **H.FORGED, Origin=site.url,
                   Cookie=f"{fl.SESSION}={cookie}")
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    r = client.request(site, "POST", fl.SWITCH, headers=headers,
                       data=f"organization_id={fl.GLOBEX}&return_to={query}")
    assert r.status_code == 302, f"{r.status_code}: {r.text[:200]}"
    for name, value, attrs in client.set_cookies(r):
        if name == fl.SESSION:
            sealer.secrets.add("cookie set by the module", value)
    return r.headers["Location"]


def raw_slash(payload):
    return urllib.parse.quote(payload, safe="/")


@pytest.mark.parametrize("index", range(len(BAD)), ids=lambda i: f"bad{i:03d}")
def test_bad_return_target_lands_on_this_site(site, emulator, sealer, creds, index):
    payload = BAD[index]
    wrong = []
    for how, encode in (("component", fl.component), ("raw-slash", raw_slash)):
        target = sealed_target(site, emulator, creds.password, encode(payload))
        if target != "/":
            wrong.append(f"sign-in start ({how}) sealed {target!r}")
    loc = switch_location(site, emulator, sealer, fl.component(payload))
    if loc != f"{site.url}/":
        wrong.append(f"organization switch answered Location {loc!r}")
    assert not wrong, f"{payload!r}: " + "; ".join(wrong)


@pytest.mark.parametrize("index", range(len(GOOD)), ids=lambda i: f"good{i:03d}")
def test_good_return_target_is_kept(site, emulator, sealer, creds, index):
    text = GOOD[index].decode("ascii")
    assert sealed_target(site, emulator, creds.password, fl.component(GOOD[index])) == text
    want = site.url + text if text.startswith("/") else text
    assert switch_location(site, emulator, sealer, fl.component(GOOD[index])) == want
