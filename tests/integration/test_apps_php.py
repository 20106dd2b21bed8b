# SPDX-License-Identifier: Apache-2.0
"""Real PHP behind the module: libapache2-mod-php under prefork, and PHP-FPM
(started here on a loopback port) behind mod_proxy_fcgi. Each serves the same
front-controller app (tests/integration/php: an .htaccess that rewrites every
route to index.php, AllowOverride All), which prints getenv(), $_SERVER and
apache_request_headers() as JSON, mapped to PHP each way: <FilesMatch> +
SetHandler, AddHandler in the <Directory> (where httpd skips authentication
for the redirected request, whose per-directory configuration is the same),
and for FPM SetHandler/AddHandler "proxy:fcgi://...".

For /, /index.php and /deep/route?x=1 the app must see every documented
variable under its own name (not only REDIRECT_*), never a forged X-WorkOS-*
header, WORKOS_ACCESS_TOKEN only where configured; and an internal redirect
from one app into another answers as the target's settings and Require say."""
import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

import test_module_env as envspec
from harness import httpd as hd
from harness.client import api, browser
from harness.emulator import org_id

ACME = org_id("Acme")
PHP_SRC = Path(__file__).resolve().parent / "php"
LIBPHP = next(iter(sorted(hd.MODDIR.glob("libphp*.so"))), None)
PHP_FPM = next(iter(sorted(Path("/usr/sbin").glob("php-fpm*"))), None)
FORGED = {"X-WorkOS-User-Id": "forged-id", "X-WorkOS-User-Email": "forged@evil.example",
          "X-WorkOS-Role": "forged-role", "X-WorkOS-Access-Token": "forged-token",
          "X_WorkOS_Organization_Id": "forged-org"}
ROUTES = ["/", "/index.php", "/deep/route?x=1"]

pytestmark = pytest.mark.skipif(LIBPHP is None or PHP_FPM is None,
                                reason="libapache2-mod-php and php-fpm are required "
                                       "(scripts/install-deps installs them)")


class PhpFpm:
    """php-fpm on 127.0.0.1:<free port>, its files in its own directory."""

    def __init__(self, workdir):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = hd.free_port()
        conf = self.dir / "php-fpm.conf"
        conf.write_text(f"""[global]
pid = {self.dir}/php-fpm.pid
error_log = {self.dir}/php-fpm.log
daemonize = no
[app]
user = www-data
group = www-data
listen = 127.0.0.1:{self.port}
listen.allowed_clients = 127.0.0.1
pm = static
pm.max_children = 2
""")
        self.proc = subprocess.Popen([str(PHP_FPM), "-F", "-y", str(conf)],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(self.dir / "stderr.log", "ab"),
                                     start_new_session=True)
        if not hd.wait_port(self.port, lambda: self.proc.poll() is None):
            self.stop()
            raise RuntimeError("php-fpm did not start:\n" + hd.Httpd.tail(self.dir / "php-fpm.log"))

    @property
    def url(self):
        return f"fcgi://127.0.0.1:{self.port}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)       # graceful
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)


def install_app(h, name, htaccess="front.htaccess", extra=""):
    """htdocs/<name>/: index.php and the front controller's .htaccess."""
    d = h.dir / "htdocs" / name
    d.mkdir(exist_ok=True)
    shutil.copy(PHP_SRC / "index.php", d / "index.php")
    (d / ".htaccess").write_text((PHP_SRC / htaccess).read_text() + extra)
    for p in (d, d / "index.php", d / ".htaccess"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    return d


def app_dir(h, name, mapping, *directives):
    """<Directory> of one app: AllowOverride All, AuthType WorkOS, PHP mapped by `mapping`."""
    body = "".join(f"    {line}\n" for line in
                   ("AllowOverride All", "AuthType WorkOS", *directives, *mapping))
    return f'<Directory "{h.dir}/htdocs/{name}">\n{body}</Directory>\n'


# Apps of the cross-configuration checks: /appa rewrites into the others.
STEAL = """RewriteRule ^steal-b$ /{p}b/index.php [L]
RewriteRule ^steal-c$ /{p}c/index.php [L]
RewriteRule ^steal-d$ /{p}d/index.php [L]
"""


def install_apps(h, prefix, filesmatch, addhandler):
    """Every app of one server; returns its configuration. `prefix` keeps the
    names of the two servers apart; the mappings are lists of directives."""
    valid = "Require valid-user"
    conf = ""
    for name, mapping, extra in (("fm", filesmatch, ()), ("ah", addhandler, ()),
                                 ("tok", addhandler, ("WorkOSPassAccessToken On",
                                                      "WorkOSPassClaimsAs both")),
                                 ("tokpass", addhandler, ("WorkOSPassAccessToken On",
                                                          "WorkOSPassClaimsAs both",
                                                          "CGIPassAuth On"))):
        install_app(h, prefix + name)
        conf += app_dir(h, prefix + name, mapping, valid, *extra)
    # Rules before the front controller's, as an app adds its own.
    d = install_app(h, prefix + "a", htaccess="front.htaccess")
    (d / ".htaccess").write_text("RewriteEngine On\n" + STEAL.format(p=prefix)
                                 + (PHP_SRC / "front.htaccess").read_text())
    conf += app_dir(h, prefix + "a", addhandler, valid)
    for name, extra in (("b", ("WorkOSCookieName b-session", valid)),
                        ("c", ("Require workos-role admin", "AuthzSendForbiddenOnFailure On")),
                        ("d", ("WorkOSCookiePassword env:WOS_IT_OLD_PASSWORD", valid))):
        install_app(h, prefix + name)
        conf += app_dir(h, prefix + name, addhandler, *extra)
    return conf


@pytest.fixture(scope="module")
def mod_php(httpd_factory, wos_server_conf):
    # Debian's conf.d extensions stay out: the tests need none, and PHP loads
    # them with RTLD_DEEPBIND, which the sanitizer runtime refuses.
    h = httpd_factory("modphp", mpm="prefork", env={"PHP_INI_SCAN_DIR": ""})
    if h.sanitized:
        # libphp leaks ~70 KB at exit and is unloaded before LeakSanitizer
        # runs, so its stacks read "<unknown module>" and no suppression can
        # name them (the same report with mod_php alone, without the module).
        # Memory errors are still checked here; leaks everywhere else.
        h.env["ASAN_OPTIONS"] = h.env["ASAN_OPTIONS"].replace("detect_leaks=1",
                                                              "detect_leaks=0")
    php = "application/x-httpd-php"
    conf = (f'LoadModule php_module "{LIBPHP}"\n'
            f'LoadModule rewrite_module "{hd.MODDIR}/mod_rewrite.so"\n'
            + wos_server_conf
            # Server-context rules run before authentication: the identity is
            # there only through a look-ahead (%{LA-U:...}).
            + "RewriteEngine On\n"
            + "RewriteCond %{LA-U:ENV:WORKOS_ROLE} !=admin\n"
            + "RewriteRule ^/php-ah/admin/ - [F,NS]\n"
            + install_apps(h, "php-", ['<FilesMatch "\\.php$">', f"    SetHandler {php}",
                                       "</FilesMatch>"],
                           [f"AddHandler {php} .php"]))
    return h.start(conf)


@pytest.fixture(scope="module")
def fpm(module_dir):
    f = PhpFpm(module_dir / "php-fpm")
    yield f
    f.stop()


@pytest.fixture(scope="module")
def php_fpm(httpd_factory, wos_server_conf, fpm):
    h = httpd_factory("fpm")
    handler = f'"proxy:{fpm.url}"'
    conf = (f'LoadModule proxy_fcgi_module "{hd.MODDIR}/mod_proxy_fcgi.so"\n'
            f'LoadModule rewrite_module "{hd.MODDIR}/mod_rewrite.so"\n'
            + wos_server_conf
            + install_apps(h, "fpm-", ['<FilesMatch "\\.php$">', f"    SetHandler {handler}",
                                       "</FilesMatch>"],
                           [f"AddHandler {handler} .php"]))
    return h.start(conf)


@pytest.fixture(params=["mod_php", "php-fpm"])
def server(request):
    """(httpd, prefix of its apps, the PHP SAPI expected)."""
    if request.param == "mod_php":
        return request.getfixturevalue("mod_php"), "/php-", "apache2handler"
    return request.getfixturevalue("php_fpm"), "/fpm-", "fpm-fcgi"


@pytest.fixture(scope="module")
def ada(make_session):
    return make_session("ada@example.com", org=ACME)


@pytest.fixture(scope="module")
def grace(make_session):
    return make_session("grace@example.com", org=ACME)


def php(resp, sapi):
    assert resp.status_code == 200, f"{resp.status_code}: {resp.text[:300]}"
    out = resp.json()
    assert out["sapi"] == sapi and out["script"] == "index.php"
    return out


def check_identity(out, s, token=None):
    """Every documented variable, under its own name, in getenv() and $_SERVER."""
    want = dict(envspec.expected_vars(s), REMOTE_USER=s.user["id"], AUTH_TYPE="WorkOS")
    if token:
        want["WORKOS_ACCESS_TOKEN"] = token
    for source in ("getenv", "server"):
        got = {k: out[source].get(k) for k in want}
        assert got == want, source
        assert "WORKOS_ACCESS_TOKEN" in out[source] if token else \
            "WORKOS_ACCESS_TOKEN" not in out[source], source
    # No forged value anywhere the app looks, under any name.
    text = json.dumps(out)
    for value in FORGED.values():
        assert value not in text
    if not token:
        assert s.token not in text


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("app", ["fm", "ah"])
def test_front_controller_sees_the_identity(server, ada, app, route):
    h, prefix, sapi = server
    out = php(api(h, prefix + app + route, session=ada, headers=FORGED), sapi)
    assert out["dir"] == prefix.strip("/") + app
    check_identity(out, ada)
    # Claims go as variables by default: the app sees no X-WorkOS-* header.
    assert not [k for k in out["headers"] if k.lower().startswith(("x-workos", "x_workos"))]
    assert not [k for k in out["server"] if k.startswith("HTTP_X_WORKOS")]
    if route.startswith("/deep"):
        assert out["server"]["REQUEST_URI"] == prefix + app + route


@pytest.mark.parametrize("route", ROUTES)
def test_token_and_headers_where_configured(server, ada, route):
    h, prefix, sapi = server
    out = php(api(h, prefix + "tok" + route, session=ada, headers=FORGED), sapi)
    check_identity(out, ada, token=ada.token)
    # WorkOSPassClaimsAs both: the module's own headers, never the forged ones.
    headers = {k.lower(): v for k, v in out["headers"].items()}
    assert headers["x-workos-user-id"] == ada.user["id"]
    assert headers["x-workos-access-token"] == ada.token
    assert out["server"]["HTTP_X_WORKOS_ROLE"] == "admin"
    # Authorization: Bearer reaches scripts' variables only with CGIPassAuth On;
    # mod_php shows it in apache_request_headers() regardless.
    assert "HTTP_AUTHORIZATION" not in out["server"]
    bearer = "Bearer " + ada.token
    assert headers.get("authorization") == (bearer if sapi == "apache2handler" else None)
    out = php(api(h, prefix + "tokpass" + route, session=ada), sapi)
    assert out["server"]["HTTP_AUTHORIZATION"] == bearer


def test_signed_out_gets_sign_in_not_the_app(server):
    h, prefix, _ = server
    r = browser(h, prefix + "ah/deep/route?x=1")
    assert r.status_code == 302 and "/user_management/authorize?" in r.headers["Location"]
    assert api(h, prefix + "ah/deep/route").status_code == 401


def cookies(**values):
    return "; ".join(f"{k.replace('_', '-')}={v}" for k, v in values.items())


def test_redirect_into_an_app_with_another_cookie(server, ada, grace):
    """/appa's account must not read /appb (WorkOSCookieName b-session)."""
    h, prefix, sapi = server
    r = api(h, prefix + "a/steal-b", session=ada)
    assert r.status_code == 401, r.text[:300]
    assert "forged" not in r.text and ada.user["id"] not in r.text
    # Signed in to both: b sees its own session, never a's.
    r = api(h, prefix + "a/steal-b", cookie=cookies(wos_session=ada.cookie,
                                                    b_session=grace.cookie))
    out = php(r, sapi)
    assert out["dir"] == prefix.strip("/") + "b"
    check_identity(out, grace)


def test_redirect_into_an_app_with_another_password(server, ada):
    h, prefix, _ = server
    r = api(h, prefix + "a/steal-d", session=ada)
    assert r.status_code == 401, r.text[:300]
    assert ada.user["id"] not in r.text


def test_redirect_into_an_app_with_its_own_require(server, ada, grace, expect_log):
    """Same settings, another Require: the target's rule decides."""
    expect_log(r"AH01630|AH01631")
    h, prefix, sapi = server
    assert api(h, prefix + "a/steal-c", session=grace).status_code == 403
    out = php(api(h, prefix + "a/steal-c", session=ada), sapi)
    assert out["dir"] == prefix.strip("/") + "c"
    check_identity(out, ada)


def test_same_app_still_reads_its_own_routes(server, ada):
    """The rewrite rules of /appa do not disturb its own front controller."""
    h, prefix, sapi = server
    out = php(api(h, prefix + "a/some/route", session=ada), sapi)
    assert out["dir"] == prefix.strip("/") + "a"
    check_identity(out, ada)


def test_rewritecond_on_the_identity_through_a_look_ahead(mod_php, ada, grace, expect_log):
    """RewriteCond %{LA-U:ENV:WORKOS_ROLE} in the server context, as the README shows."""
    out = php(api(mod_php, "/php-ah/admin/users", session=ada), "apache2handler")
    assert out["getenv"]["WORKOS_ROLE"] == "admin"
    assert api(mod_php, "/php-ah/admin/users", session=grace).status_code == 403
    assert api(mod_php, "/php-ah/admin/users").status_code == 403
    # Elsewhere the rule does not apply.
    assert php(api(mod_php, "/php-ah/users", session=grace), "apache2handler")
