"""Open redirects through the module's own endpoints: every payload of
tests/vectors/redirect/bad.txt sent as ?return_to= to the login endpoint
(followed through a complete sign-in to the callback's Location) and to the
organization switch endpoint must end on this site; every payload of
good.txt must be kept exactly. The allow-listed origins are those of
allow.txt (WorkOSRedirectAllow).

Each payload is sent percent-encoded as encodeURIComponent would (how a page
builds the link), and again with its slashes left raw (how a hand-written
link often looks)."""
import urllib.parse

import pytest

import flowlib as fl
from harness.cookies import sdk_session

BAD = fl.read_vectors("bad.txt")
GOOD = fl.read_vectors("good.txt")
ALLOW = [p.decode("ascii") for p in fl.read_vectors("allow.txt")]
ENCODINGS = {"component": fl.component,
             "raw-slash": lambda p: urllib.parse.quote(p, safe="/")}


@pytest.fixture(scope="module")
def site(httpd_factory, emulator, creds):
    h = fl.new_httpd(httpd_factory, "redirects")
    allow = "WorkOSRedirectAllow " + " ".join(f'"{o}"' for o in ALLOW)
    h.start(fl.site(h, fl.server_conf(emulator, creds, allow)))
    return h


def test_vector_files_are_read(site):
    assert len(BAD) > 150 and len(GOOD) > 40 and len(ALLOW) == 4
    assert b"//evil.example" in BAD and b"/" in GOOD
    assert b"/\t/evil.example" in BAD and b"/\xef\xbc\x8fevil.example" in BAD


def verdict(site, kind, payload, resp):
    """None when the answer is right for this payload, else what was wrong."""
    if resp.status_code != 302:
        return f"status {resp.status_code}"
    loc = resp.headers["Location"]
    if kind == "good":
        text = payload.decode("ascii")
        want = site.url + text if text.startswith("/") else text
        return None if loc == want else f"Location {loc!r}, expected {want!r}"
    if any(ord(c) < 0x21 or ord(c) == 0x7f for c in loc):
        return f"Location with a control character or space: {loc!r}"
    target = fl.browser_target(site.url + fl.CALLBACK, loc)
    if (target.scheme, target.netloc) != ("http", f"127.0.0.1:{site.port}"):
        return f"off-site Location {loc!r}"
    if not target.path.startswith("/") or target.path.startswith("//"):
        return f"odd path in Location {loc!r}"
    return None


def via_login(site, emulator, secrets, password, query):
    b = fl.Browser(site, secrets, password)
    start = b.nav(fl.LOGIN + "?return_to=" + query)
    if start.status_code != 302:
        return start
    back = fl.sign_in_at(emulator, start.headers["Location"], "ada@example.com")
    return b.nav(fl.local_path(site, back))


def via_switch(site, emulator, sealer, query):
    auth = emulator.session("ada@example.com")
    cookie = sealer.iron(sdk_session(auth))
    sealer.secrets.add("refresh token", auth["refresh_token"])
    b = fl.Browser(site)
    # The form's return_to field, percent-encoded as a browser sends a form.
    return b.submit(fl.SWITCH, f"organization_id={fl.GLOBEX}&return_to={query}",
                    cookie=f"{fl.SESSION}={cookie}",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})


@pytest.mark.parametrize("encoding", list(ENCODINGS))
@pytest.mark.parametrize("kind", ["bad", "good"])
@pytest.mark.parametrize("endpoint", ["login", "switch"])
def test_return_to_payloads(site, emulator, secrets, sealer, creds, endpoint, kind,
                            encoding):
    payloads = BAD if kind == "bad" else GOOD
    problems = []
    for payload in payloads:
        q = ENCODINGS[encoding](payload)
        if endpoint == "login":
            r = via_login(site, emulator, secrets, creds.password, q)
        else:
            r = via_switch(site, emulator, sealer, q)
        why = verdict(site, kind, payload, r)
        if why:
            problems.append(f"{payload!r}: {why}")
    assert not problems, (f"{len(problems)} of {len(payloads)} {kind} payloads wrong:\n"
                          + "\n".join(problems))
