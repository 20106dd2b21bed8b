# SPDX-License-Identifier: Apache-2.0
"""The system under test: the emulator, one httpd with the four locations
(plus a twin for location 3 when WorkOSSessionCache is global-only), the
static page, the certificate mod_auth_openidc verifies with, and sessions.
Locations 6 to 9 repeat 2 and 3 with the Ruby and Python SDKs' session
formats (WorkOSSessionFormat), each with the same session sealed that way."""
import base64
import json
import os
import secrets
import subprocess
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization

from .servers import Emulator, Httpd
from .tools import OPENIDC_SO, BenchError

COOKIE = "wos-session"
# Location 3's server: neither the per-process nor the shared session cache.
NOCACHE = "WorkOSSessionCache 0\nWorkOSSessionCacheSize 0\n"
PAGE = "page.html"
EMAIL = "ada@example.com"
# WorkOSSessionFormat -> (cache-hit location, WorkOSSessionCache 0 location); the
# Python SDK's cookie password is a Fernet key, the others take the bench's password.
FORMATS = {"ruby": (6, 7), "python": (8, 9)}
# Bearer tokens: no authentication with the same Authorization header, and AuthType WorkOS.
BEARER_NONE, BEARER = 10, 11
IDLE_TIMEOUT = 1800       # location 12: WorkOSInactivityTimeout on (30 minutes)
FORMAT_PASSWORD = {"ruby": "WOS_BENCH_COOKIE_PASSWORD", "python": "WOS_BENCH_FERNET_KEY"}


@dataclass
class Location:
    num: int
    label: str
    path: str
    headers: dict = field(default_factory=dict)
    unauth_status: int = 401
    httpd: Httpd = None
    script: Path = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.httpd.port}{self.path}"


def static_page():
    """About 1 KB of HTML: small, so the request path dominates, not the copy."""
    rows = "".join(f"<li>item {i}</li>\n" for i in range(40))
    return f"<!doctype html>\n<html><head><title>bench</title></head><body>\n<ul>\n{rows}" \
           "</ul>\n</body></html>\n"


def openidc_cert(emu, path):
    """The emulator's signing key as an X.509 certificate (the JWKS x5c), after
    checking that it holds the same public key the emulator reports."""
    keys = emu.keys()
    jwk = next(k for k in emu.jwks()["keys"] if k["kid"] == keys["current_kid"])
    der = base64.b64decode(jwk["x5c"][0])
    cert = x509.load_der_x509_certificate(der)
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    pem = serialization.Encoding.PEM
    if cert.public_key().public_bytes(pem, spki).decode() != keys["public_pem"]:
        raise BenchError("the JWKS certificate does not hold the emulator's signing key")
    b64 = "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64))
    path.write_text(f"-----BEGIN CERTIFICATE-----\n{b64}\n-----END CERTIFICATE-----\n")
    path.chmod(0o644)
    return keys["current_kid"]


class Site:
    """Everything bench/run measures; stop() ends every process it started."""

    def __init__(self, workdir, module, sealtool, processes, threads, token_ttl):
        self.workdir, self.module, self.sealtool = Path(workdir), module, sealtool
        self.processes, self.threads, self.token_ttl = processes, threads, token_ttl
        self.env = dict(os.environ,
                        WOS_BENCH_API_KEY="sk_test_" + secrets.token_urlsafe(24),
                        WOS_BENCH_COOKIE_PASSWORD=secrets.token_urlsafe(36),
                        WOS_BENCH_FERNET_KEY=Fernet.generate_key().decode())
        self.client_id = "client_01BENCH" + secrets.token_hex(4).upper()
        self.htdocs = self.workdir / "htdocs"
        self.htdocs.mkdir()
        (self.htdocs / PAGE).write_text(static_page())
        for p in (self.workdir, self.htdocs, self.htdocs / PAGE):
            p.chmod(0o755 if p.is_dir() else 0o644)
        self.emu = Emulator(self.workdir, self.client_id, self.env["WOS_BENCH_API_KEY"],
                            token_ttl)
        self.instances = []
        self.settings = self.plain_settings = self.main = self.twin = None
        self.nocache = None          # "location", "instance" or None
        self.nocache_reason = ""

    # ---- configuration ---------------------------------------------------

    def issuer(self):
        """The iss of the emulator's tokens (what WorkOSIssuer must name)."""
        tok = self.emu.session(EMAIL, token_ttl=self.token_ttl)["access_token"]
        payload = tok.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["iss"]

    def server_settings(self, openidc=True):
        """The server-wide settings; mod_auth_openidc's only with openidc."""
        return (f"WorkOSClientID {self.client_id}\n"
                f"WorkOSIssuer {self.issuer()}\n"
                "WorkOSAPIKey env:WOS_BENCH_API_KEY\n"
                "WorkOSCookiePassword env:WOS_BENCH_COOKIE_PASSWORD\n"
                f"WorkOSAPIBaseURL {self.emu.url}\n"
                "WorkOSRedirectURI /auth/callback\n"
                f"WorkOSCookieName {COOKIE}\n" + (self.openidc_settings() if openidc else ""))

    def openidc_settings(self):
        if not OPENIDC_SO.exists():
            return ""
        kid = openidc_cert(self.emu, self.workdir / "openidc-cert.pem")
        return (f"OIDCCryptoPassphrase {secrets.token_urlsafe(32)}\n"
                f"OIDCOAuthVerifyCertFiles {kid}#{self.workdir / 'openidc-cert.pem'}\n")

    def locations_conf(self, nocache_in_location):
        """The four locations serving the same page."""
        wos = ["AuthType WorkOS", "Require valid-user", "WorkOSUnauthAction 401"]
        blocks = {"/none/": [], "/wos/": wos,
                  "/wos-nocache/": wos + (["WorkOSSessionCache 0"] if nocache_in_location
                                          else []),
                  "/oidc/": ["AuthType oauth20", "Require valid-user"],
                  "/wos-bearer/": wos + ["WorkOSAcceptBearer On"],
                  "/wos-idle/": wos + [f"WorkOSInactivityTimeout {IDLE_TIMEOUT}"]}
        if not OPENIDC_SO.exists():
            del blocks["/oidc/"]
        for fmt in FORMATS:
            own = [f"WorkOSSessionFormat {fmt}",
                   f"WorkOSCookiePassword env:{FORMAT_PASSWORD[fmt]}"]
            blocks[f"/wos-{fmt}/"] = wos + own
            blocks[f"/wos-{fmt}-nocache/"] = blocks["/wos-nocache/"] + own
        out = ""
        for path, lines in blocks.items():
            body = "".join(f"    {ln}\n" for ln in lines)
            out += f'Alias "{path}" "{self.htdocs}/"\n<Location "{path}">\n{body}</Location>\n'
        return out

    def config(self, h, nocache_global=False, nocache_location=False):
        """What follows h's base configuration (Httpd.base_config)."""
        return (self.settings
                + (NOCACHE if nocache_global else "")
                + self.locations_conf(nocache_location))

    def detect_nocache(self, h):
        """How location 3 can turn the verified-session cache off in this build."""
        rc, out = h.configtest(self.config(h))
        if rc != 0:
            raise BenchError(f"apache2 -t fails on the benchmark configuration:\n{out[-1500:]}")
        if h.configtest(self.config(h, nocache_location=True))[0] == 0:
            return "location", ""
        rc, out = h.configtest(self.config(h, nocache_global=True))
        if rc == 0:
            return "instance", ("WorkOSSessionCache is server-wide only: location 3 is served "
                                "by a second httpd with the same configuration and "
                                "WorkOSSessionCache 0, WorkOSSessionCacheSize 0")
        first = next((ln for ln in out.splitlines() if "WorkOSSessionCache" in ln), "")
        return None, f"WorkOSSessionCache is not accepted by this build ({first.strip()})"

    # ---- processes -------------------------------------------------------

    def plain_config(self, wos_extra=""):
        """A server with mod_auth_workos alone and two locations, /none/ and /wos/:
        what a site that uses the module runs. Another authentication module
        loaded beside it adds its own hooks to every request (mod_auth_openidc
        asks ap_auth_type() on each request of a location with an AuthType).
        /wos/ holds AuthType and Require only, unless wos_extra adds lines: a
        module directive in a section makes httpd merge the module's
        per-directory settings on each request there (bench/README.md)."""
        if self.plain_settings is None:
            self.plain_settings = self.server_settings(openidc=False)
        wos = "    AuthType WorkOS\n    Require valid-user\n" + "".join(
            f"    {line}\n" for line in wos_extra.splitlines())
        return self.plain_settings + "".join(
            f'Alias "{path}" "{self.htdocs}/"\n<Location "{path}">\n{body}</Location>\n'
            for path, body in (("/none/", ""), ("/wos/", wos)))

    def new_httpd(self, name, processes=None, threads=None, openidc=True):
        h = Httpd(self.workdir, name, self.env, processes or self.processes,
                  threads or self.threads, self.module, openidc)
        self.instances.append(h)
        return h

    def start(self):
        self.settings = self.server_settings()
        self.main = self.new_httpd("httpd")
        self.nocache, self.nocache_reason = self.detect_nocache(self.main)
        self.main.start(self.config(self.main, nocache_location=self.nocache == "location"))
        self.twin = None
        if self.nocache == "instance":
            self.twin = self.new_httpd("httpd-nocache")
            self.twin.start(self.config(self.twin, nocache_global=True))

    def stop(self):
        for h in self.instances:
            h.stop()
        self.emu.stop()

    # ---- sessions ----------------------------------------------------------

    def seal(self, auth, fmt="node"):
        """The session cookie value for an authenticate answer (the module's own sealer)."""
        out = subprocess.run([str(self.sealtool), "seal-auth", "--format", fmt, "--password-env",
                              FORMAT_PASSWORD.get(fmt, "WOS_BENCH_COOKIE_PASSWORD")],
                             input=json.dumps(auth),
                             capture_output=True, text=True, env=self.env, timeout=30)
        if out.returncode != 0:
            raise BenchError(f"sealtool seal-auth failed: {out.stderr.strip()[:200]}")
        return out.stdout.strip()

    def session(self, expired=False, formats=()):
        """(cookie value, access token) of a fresh session of EMAIL, and
        {format: cookie value} of the same session in each of @formats."""
        auth = self.emu.session(EMAIL, token_ttl=self.token_ttl, expired=expired)
        return self.seal(auth), auth["access_token"], {f: self.seal(auth, f) for f in formats}

    def locations(self):
        """Locations 1-12 (3, 7 and 9 only when available), all sharing one session."""
        cookie, token, by_format = self.session(formats=FORMATS)
        # Location 1 gets the same Cookie header as 2 and 3, as a browser sends it
        # to every path of the site: (2) vs (1) is then the module's work alone,
        # not also the 3 KB more that the client writes and the kernel copies.
        # Location 5 shows what that header costs on its own.
        locs = [Location(1, "no authentication, same Cookie", "/none/" + PAGE,
                         {"Cookie": f"{COOKIE}={cookie}"}, 200, self.main),
                Location(2, "WorkOS, session cache (hits)", "/wos/" + PAGE,
                         {"Cookie": f"{COOKIE}={cookie}"}, 401, self.main)]
        if self.nocache:
            locs.append(Location(3, "WorkOS, no session caches", "/wos-nocache/" + PAGE,
                                 {"Cookie": f"{COOKIE}={cookie}"}, 401,
                                 self.twin or self.main))
        locs.append(Location(4, "mod_auth_openidc, oauth20 bearer", "/oidc/" + PAGE,
                             {"Authorization": f"Bearer {token}"}, 401, self.main))
        locs.append(Location(5, "no authentication, no Cookie", "/none/" + PAGE, {}, 200,
                             self.main))
        for fmt, (hit, nocache) in FORMATS.items():
            header = {"Cookie": f"{COOKIE}={by_format[fmt]}"}
            locs.append(Location(hit, f"WorkOS {fmt}, session cache (hits)",
                                 f"/wos-{fmt}/" + PAGE, header, 401, self.main))
            if self.nocache:
                locs.append(Location(nocache, f"WorkOS {fmt}, WorkOSSessionCache 0",
                                     f"/wos-{fmt}-nocache/" + PAGE, header, 401,
                                     self.twin or self.main))
        # Bearer tokens: the same token (same key, same file) as location 4, and
        # the no-authentication baseline carrying the same Authorization header.
        bearer = {"Authorization": f"Bearer {token}"}
        locs.append(Location(10, "no authentication, same Bearer", "/none/" + PAGE, bearer,
                             200, self.main))
        locs.append(Location(11, "WorkOS, bearer token", "/wos-bearer/" + PAGE, bearer, 401,
                             self.main))
        # Location 2 with WorkOSInactivityTimeout on: the same cookie, its activity recorded.
        locs.append(Location(12, "WorkOS, inactivity timeout on", "/wos-idle/" + PAGE,
                             {"Cookie": f"{COOKIE}={cookie}"}, 401, self.main))
        return locs
