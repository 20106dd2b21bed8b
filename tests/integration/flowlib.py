"""Helpers for the AuthKit flow tests (test_flows_*.py): the httpd
configuration they share, a cookie jar that behaves like a browser's over
plain HTTP, the emulator's hosted sign-in page driven without a browser, the
sign-in state cookie opened with the harness's independent iron code, a
browser-like resolution of Location headers, and the real Node SDK's opinion
of a cookie (sdk_check.mjs).

Expected values are never taken from the module: identities come from
tests/emulator/users.json, claims from decoding the JWTs here, PKCE from
hashlib."""
import base64
import hashlib
import json
import re
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
import requests

from harness import client
from harness.cookies import iron_unseal, jwt_claims
from harness.httpd import build_dir

HERE = Path(__file__).resolve().parent
TOP = HERE.parents[1]
NODE = "/usr/bin/node"
SDK_CHECK = HERE / "sdk_check.mjs"
VECTORS = TOP / "tests" / "vectors" / "redirect"

USERS = json.loads((TOP / "tests" / "emulator" / "users.json").read_text())
ORGS = {o["name"]: o["id"] for o in USERS["organizations"]}
ACME, GLOBEX = ORGS["Acme"], ORGS["Globex"]

CALLBACK, LOGIN, SIGNUP = "/auth/callback", "/auth/login", "/auth/signup"
LOGOUT, SWITCH, BYE = "/auth/logout", "/auth/switch", "/bye"
STATE_PREFIX = "wos-auth-verifier-"
SESSION = "wos-session"


def user(email):
    """users.json's record for an email."""
    return next(u for u in USERS["users"] if u["email"] == email)


def membership(email, org=None):
    """The membership the emulator uses: the first one, or the one for org."""
    ms = user(email)["memberships"]
    if org is None:
        return ms[0] if ms else None
    return next((m for m in ms if m["organization_id"] == org), None)


def admin_org(email):
    return next(m["organization_id"] for m in user(email)["memberships"]
                if m["role"] == "admin")


# ---- configuration ------------------------------------------------------

def sanitizer_env():
    """For a module built with --enable-sanitizers, apache2 (not instrumented)
    must load the ASan runtime first; its reports go to the stderr log, which
    the harness fails on. Leak checks are off: httpd frees its pools at exit
    in ways LeakSanitizer misreads."""
    so = build_dir() / "mod_auth_workos.so"
    try:
        out = subprocess.run(["ldd", str(so)], capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return {}
    m = re.search(r"(libasan\.so\S*) => (\S+)", out)
    if not m:
        return {}
    return {"LD_PRELOAD": m.group(2),
            "ASAN_OPTIONS": "detect_leaks=0",
            "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"}


def new_httpd(httpd_factory, name, mpm=None):
    """An httpd from the harness factory (with the sanitizer runtime when needed)."""
    return httpd_factory(name, mpm=mpm, env=sanitizer_env())


def server_conf(emulator, creds, *extra, rotation=False):
    """Server-level WorkOS settings with every flow endpoint the tests use."""
    pw = "env:WOS_IT_COOKIE_PASSWORD" + (" env:WOS_IT_OLD_PASSWORD" if rotation else "")
    lines = [f"WorkOSClientID {creds.client_id}", "WorkOSAPIKey env:WOS_IT_API_KEY",
             f"WorkOSCookiePassword {pw}", f"WorkOSAPIBaseURL {emulator.url}",
             f"WorkOSRedirectURI {CALLBACK}", f"WorkOSLoginURI {LOGIN}",
             f"WorkOSSignUpURI {SIGNUP}", f"WorkOSLogoutURI {LOGOUT}",
             f"WorkOSLogoutReturnTo {BYE}", f"WorkOSSwitchOrganizationURI {SWITCH}",
             *extra]
    return "\n".join(lines) + "\n"


@pytest.fixture(autouse=True)
def clean_emulator(emulator):
    """Each test starts and ends with the emulator reset (no fault, counters at
    zero); autouse in the test modules that import it."""
    emulator.reset()
    yield
    emulator.reset()


def fresh_httpd(httpd_factory, request, conf, mpm=None):
    """An httpd started for the requesting test only, named after it;
    conf(h) -> its configuration."""
    # Short: the cgid socket path under its run directory must fit in a sockaddr_un.
    name = re.sub(r"[^\w-]", "_", request.node.name.removeprefix("test_"))[:24]
    h = httpd_factory(f"{name}-{time.monotonic_ns() % 10**6}", mpm=mpm)
    return h.start(conf(h))


def site(h, server, *location_extra):
    """server settings + /private/ (any user) and /admin/ (role admin, 403 for
    signed-in users without it, as the README recommends), both CGI."""
    auth = ("AuthType WorkOS", *location_extra)
    return (server + h.cgi_location("/private/", *auth, "Require valid-user")
            + h.cgi_location("/admin/", *auth, "AuthzSendForbiddenOnFailure On",
                             "Require workos-role admin"))


# ---- cookies --------------------------------------------------------------

def path_matches(request_path, cookie_path):
    """RFC 6265 section 5.1.4."""
    if request_path == cookie_path:
        return True
    return request_path.startswith(cookie_path) and (
        cookie_path.endswith("/") or request_path[len(cookie_path)] == "/")


class Jar:
    """Cookies by name in creation order (the order browsers send them in),
    with their Path; Secure is ignored (the tests run over plain HTTP)."""

    def __init__(self, secrets=None, password=None):
        self.items = {}
        self.secrets, self.password = secrets, password

    def update(self, resp):
        for name, value, attrs in client.set_cookies(resp):
            if client.is_deletion(attrs):
                self.items.pop(name, None)
                continue
            # dict order is creation order; a replaced cookie keeps its place
            self.items[name] = (value, attrs.get("path", "/"))
            self.remember(value)
        self.remember(self.session_value())

    def remember(self, value):
        """Register what the module wrote (and the tokens inside) for the log scan."""
        if self.secrets is None or not value:
            return
        self.secrets.add("cookie set by the module", value)
        if self.password is None:
            return
        try:
            inner = json.loads(iron_unseal(self.password, value))
        except ValueError:
            return
        for key in ("accessToken", "refreshToken", "codeVerifier"):
            if isinstance(inner.get(key), str):
                self.secrets.add(f"{key} in a module cookie", inner[key])

    def header(self, path):
        pairs = [f"{n}={v}" for n, (v, p) in self.items.items() if path_matches(path, p)]
        return "; ".join(pairs) or None

    def value(self, name):
        return self.items[name][0] if name in self.items else None

    def names(self, prefix=""):
        return [n for n in self.items if n.startswith(prefix)]

    def session_value(self, name=SESSION):
        """The session as the module would read it: unchunked, or chunks joined."""
        if name in self.items:
            return self.items[name][0]
        chunks, i = [], 0
        while f"{name}.{i}" in self.items:
            chunks.append(self.items[f"{name}.{i}"][0])
            i += 1
        return "".join(chunks) or None

    def state_names(self):
        return self.names(STATE_PREFIX)


class Browser:
    """A browser's view of one site: navigations (HTML Accept, Sec-Fetch-Mode)
    or API calls, each on a new connection, cookies from the jar."""

    def __init__(self, h, secrets=None, password=None):
        self.h = h
        self.jar = Jar(secrets, password)

    def request(self, path, headers, cookie=None, method="GET", data=None):
        h = dict(headers)
        jar_cookie = self.jar.header(urllib.parse.urlsplit(path).path)
        sent = cookie if cookie is not None else jar_cookie
        if sent:
            h["Cookie"] = sent
        h["Connection"] = "close"
        r = requests.request(method, self.h.url + path, headers=h, allow_redirects=False,
                             timeout=60, data=data)
        self.jar.update(r)
        return r

    def nav(self, path, cookie=None):
        return self.request(path, client.BROWSER, cookie)

    def submit(self, path, form, cookie=None, headers=None):
        """A form of this site's own pages submitted (POST; Origin and
        Sec-Fetch-Site as a browser sends them)."""
        h = dict(client.BROWSER, Origin=self.h.url, **{"Sec-Fetch-Site": "same-origin"})
        return self.request(path, dict(h, **(headers or {})), cookie, "POST", form)

    def switch(self, org, return_to=None, cookie=None):
        """The organization switch form (WorkOSSwitchOrganizationURI)."""
        form = {"organization_id": org}
        if return_to is not None:
            form["return_to"] = return_to
        return self.submit(SWITCH, form, cookie)

    def api(self, path, cookie=None):
        return self.request(path, client.API, cookie)


# ---- the hosted sign-in page --------------------------------------------

def authorize_params(resp, emulator):
    """The query of a 302 to the emulator's authorize endpoint."""
    assert resp.status_code == 302, f"{resp.status_code}: {resp.text[:300]}"
    base, params = client.location_query(resp)
    assert base == emulator.url + "/user_management/authorize", base
    return params


def sign_in_at(emulator, authorize_url, email=None, cancel=False):
    """Submit the emulator's sign-in page: the callback URL it redirects to."""
    page = requests.get(authorize_url, timeout=30)
    assert page.status_code == 200, f"authorize page {page.status_code}: {page.text[:300]}"
    pending = re.search(r'name="authorization" value="([^"]+)"', page.text).group(1)
    form = {"authorization": pending}
    if cancel:
        form["cancel"] = "1"
    else:
        assert f'data-user="{email}"' in page.text
        form["email"] = email
    r = requests.post(emulator.url + "/authkit/sign-in", data=form, allow_redirects=False,
                      timeout=30)
    assert r.status_code == 302, f"sign-in {r.status_code}: {r.text[:300]}"
    return r.headers["Location"]


def local_path(h, url):
    """Path and query of a URL on the site under test (asserting it is that site)."""
    parts = urllib.parse.urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("http", f"127.0.0.1:{h.port}"), url
    return parts.path + ("?" + parts.query if parts.query else "")


class SignIn:
    """One sign-in through the module: start, hosted page, callback."""

    def __init__(self, browser, emulator, start_path, api=False):
        self.browser, self.emulator = browser, emulator
        before = set(browser.jar.state_names())
        self.start = browser.api(start_path) if api else browser.nav(start_path)
        self.params = authorize_params(self.start, emulator)
        new = [n for n in browser.jar.state_names() if n not in before]
        assert len(new) == 1, f"expected one new state cookie, got {new}"
        self.state_name = new[0]
        self.state_cookie = browser.jar.value(self.state_name)
        self.authorize_url = self.start.headers["Location"]

    def state(self, password):
        """The state cookie's payload, opened with the cookie password."""
        return json.loads(iron_unseal(password, self.state_cookie))

    def choose(self, email, cancel=False):
        self.callback_url = sign_in_at(self.emulator, self.authorize_url, email, cancel)
        return self.callback_url

    def callback(self, cookie=None):
        path = local_path(self.browser.h, self.callback_url)
        self.done = self.browser.nav(path, cookie=cookie)
        return self.done


def sign_in(browser, emulator, start_path, email):
    """A complete sign-in; returns the SignIn (its .done is the callback answer)."""
    s = SignIn(browser, emulator, start_path)
    s.choose(email)
    s.callback()
    return s


def authenticate_calls(emulator, grant=None):
    """The emulator's log of authenticate calls (optionally of one grant type)."""
    calls = emulator.ctl("requests", method="GET")["requests"]
    return [c for c in calls if grant is None or c["grant_type"] == grant]


def b64url_bytes(text):
    """base64url without padding, strictly (no other characters)."""
    assert re.fullmatch(r"[A-Za-z0-9_-]+", text), text
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def s256(verifier):
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()) \
        .rstrip(b"=").decode()


# ---- sessions -------------------------------------------------------------

def unseal_session(value, password):
    """The session a cookie holds (MAC checked with this password), as a dict."""
    return json.loads(iron_unseal(password, value))


def session_cookies(resp, name=SESSION):
    """Set-Cookie lines that store (not delete) the session or its chunks."""
    return [(n, v, a) for n, v, a in client.set_cookies(resp)
            if (n == name or n.startswith(name + ".")) and not client.is_deletion(a)]


def session_deletions(resp, name=SESSION):
    return sorted(n for n, v, a in client.set_cookies(resp)
                  if (n == name or n.startswith(name + ".")) and client.is_deletion(a))


def assembled(resp, name=SESSION):
    """The session value a response sets (chunks joined in index order), or None."""
    got = {n: v for n, v, a in session_cookies(resp, name)}
    if name in got:
        return got[name]
    parts = sorted(((int(n.rsplit(".", 1)[1]), v) for n, v in got.items()))
    assert [i for i, _ in parts] == list(range(len(parts))), f"chunk gap: {sorted(got)}"
    return "".join(v for _, v in parts) or None


def claims_of(value, password):
    return jwt_claims(unseal_session(value, password)["accessToken"])


def expected_identity(email, org=None):
    """REMOTE_USER and WORKOS_* a CGI should see, from users.json alone."""
    u, m = user(email), membership(email, org)
    env = {"REMOTE_USER": u["email"], "WORKOS_USER_ID": u["id"],
           "WORKOS_USER_EMAIL": u["email"]}
    if m:
        env.update(WORKOS_ORGANIZATION_ID=m["organization_id"], WORKOS_ROLE=m["role"],
                   WORKOS_PERMISSIONS=",".join(m["permissions"]))
    return env


def check_identity(resp, email, org=None):
    env = client.cgi_env(resp)
    want = expected_identity(email, org)
    got = {k: env.get(k) for k in want}
    if want.get("WORKOS_PERMISSIONS") == "" and got["WORKOS_PERMISSIONS"] is None:
        got["WORKOS_PERMISSIONS"] = ""     # no permissions: an empty or absent variable
    assert got == want, f"CGI saw {got}, expected {want}"
    if membership(email, org) is None:
        assert "WORKOS_ORGANIZATION_ID" not in env
    return env


# ---- the Node SDK -------------------------------------------------------------

def sdk_authenticate(emulator, password, cookie):
    """loadSealedSession(cookie).authenticate() in @workos-inc/node (JSON result)."""
    req = {"baseUrl": emulator.url, "clientId": emulator.client_id, "password": password,
           "cookie": cookie}
    out = subprocess.run([NODE, str(SDK_CHECK)], input=json.dumps(req), capture_output=True,
                         text=True, timeout=60, cwd=str(HERE))
    assert out.returncode == 0, f"sdk_check.mjs failed: {out.stderr.strip()[-800:]}"
    return json.loads(out.stdout)


# ---- redirect payloads and Location ---------------------------------------------

def read_vectors(name):
    """Payloads (bytes) of tests/vectors/redirect/<name>.txt, per its header."""
    out = []
    for line in (VECTORS / name).read_text(encoding="ascii").split("\n"):
        line = line.rstrip("\r")
        if not line or line.startswith("#"):
            continue
        out.append(_unescape(line))
    return out


def _unescape(line):
    """The escapes the vector files define: \\t \\r \\n \\\\ and \\xHH, nothing else."""
    out, i = bytearray(), 0
    while i < len(line):
        c = line[i]
        if c != "\\":
            out += c.encode("ascii")
            i += 1
            continue
        nxt = line[i + 1]
        if nxt in "trn\\":
            out += {"t": b"\t", "r": b"\r", "n": b"\n", "\\": b"\\"}[nxt]
            i += 2
        elif nxt == "x":
            out.append(int(line[i + 2:i + 4], 16))
            i += 4
        else:
            raise ValueError(f"unknown escape in {line!r}")
    return bytes(out)


def component(payload):
    """encodeURIComponent of a payload (bytes), as a page would build ?return_to=."""
    return urllib.parse.quote(payload, safe="-_.!~*'()")


def browser_target(base, location):
    """Where a browser goes for a Location (WHATWG URL parsing of special
    schemes, in short: tab/CR/LF removed, backslash read as slash)."""
    cleaned = re.sub(r"[\t\r\n]", "", location).strip(" \x00-\x1f")
    scheme = urllib.parse.urlsplit(cleaned).scheme.lower()
    if scheme in ("", "http", "https"):
        cleaned = cleaned.replace("\\", "/")
    return urllib.parse.urlsplit(urllib.parse.urljoin(base, cleaned))


def burst(servers, session_cookie, n):
    """n API requests with one session cookie, released together, each from its
    own thread on a new connection, request i to servers[i % len(servers)].
    Returns the responses (or the exception a request raised)."""
    gate = threading.Barrier(n)
    results = [None] * n

    def one(i):
        gate.wait()
        try:
            results[i] = client.request(servers[i % len(servers)], "GET", "/private/env.cgi",
                                        headers=client.API, cookie=f"{SESSION}={session_cookie}")
        except Exception as e:        # recorded, asserted by the caller
            results[i] = e

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results
