# SPDX-License-Identifier: Apache-2.0
"""Fixtures for the integration tests (see README.md in this directory).

Per test module: credentials (fresh random API key and cookie password), the
AuthKit emulator, a loopback echo backend, and a factory for httpd instances.
After every test the error log of each httpd must hold no unexpected
[error]/[crit]/[alert]/[emerg] line (declare expected ones with
@pytest.mark.expect_log(regex, ...) or the expect_log fixture) and never a
crash or sanitizer report; when a module ends, no log may contain any secret
the module used."""
import os
import re
import secrets as pysecrets
import shutil
import tempfile
from pathlib import Path

import pytest

import flowlib
from harness import httpd as hd
from harness.backend import Backend
from harness.cookies import Sealer, Secrets, Session, sdk_session
from harness.emulator import Emulator

def pytest_configure(config):
    config.addinivalue_line(
        "markers", "expect_log(*patterns): httpd error-log lines matching these regexes "
        "are expected by the test (crashes and sanitizer reports never are)")


class Creds:
    """What the module is configured with; secret values are random per module."""

    def __init__(self, secrets):
        self.client_id = "client_01INTEGRATION" + pysecrets.token_hex(3).upper()
        self.api_key = secrets.add("API key", "sk_test_" + pysecrets.token_urlsafe(24))
        self.password = secrets.add("cookie password", "pw-" + pysecrets.token_urlsafe(36))
        self.old_password = secrets.add("old cookie password",
                                        "old-" + pysecrets.token_urlsafe(36))

    def env(self):
        return {"WOS_IT_API_KEY": self.api_key, "WOS_IT_COOKIE_PASSWORD": self.password,
                "WOS_IT_OLD_PASSWORD": self.old_password}


@pytest.fixture(scope="session")
def builddir():
    return hd.build_dir()


@pytest.fixture(scope="module")
def secrets():
    return Secrets()


@pytest.fixture(scope="module")
def creds(secrets):
    return Creds(secrets)


@pytest.fixture(scope="module")
def module_dir(request):
    """A world-readable scratch directory (httpd's children run as www-data)."""
    base = os.environ.get("WOS_IT_GEN")
    if base:
        Path(base).mkdir(parents=True, exist_ok=True)
    name = request.module.__name__.rsplit(".", 1)[-1]
    d = Path(tempfile.mkdtemp(prefix=f"wos-{name}-", dir=base))
    d.chmod(0o755)
    yield d
    if not os.environ.get("WOS_IT_KEEP"):
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def emulator(module_dir, creds):
    emu = Emulator(str(module_dir), creds.client_id, creds.api_key, ["--quiet"])
    yield emu
    emu.stop()


@pytest.fixture(scope="module")
def backend():
    b = Backend()
    yield b
    b.stop()


@pytest.fixture(scope="module")
def sealer(creds, secrets):
    return Sealer(creds.password, secrets)


@pytest.fixture(scope="module")
def wos_server_conf(emulator, creds):
    """Server-wide WorkOS settings pointing at this module's emulator."""
    return (f"WorkOSClientID {creds.client_id}\n"
            f"WorkOSAPIKey env:WOS_IT_API_KEY\n"
            f"WorkOSCookiePassword env:WOS_IT_COOKIE_PASSWORD\n"
            f"WorkOSAPIBaseURL {emulator.url}\n"
            f"WorkOSRedirectURI /auth/callback\n")


@pytest.fixture(scope="module")
def httpd_factory(module_dir, creds, secrets):
    """make(name, mpm=None, env=None, with_module=True) -> an unstarted Httpd."""
    created = []

    def make(name="httpd", mpm=None, env=None, with_module=True):
        # A parameter's value may be part of the name ("maxage-bad-2s", "/a?b"):
        # the directory takes it with anything but letters, digits, . - _ as _.
        h = hd.Httpd(module_dir / re.sub(r"[^A-Za-z0-9._-]", "_", name), mpm=mpm,
                     env=dict(creds.env(), **(env or {})), with_module=with_module)
        created.append(h)
        return h

    yield make
    problems = []
    for h in created:
        h.begin_stop()          # all at once: sanitized servers take a while to exit
    for h in created:
        h.stop()
        problems += [f"{h.dir.name}: {line}" for line in hd.bad_lines(h.new_log_lines())]
        problems += [f"{h.dir.name}/{f}:{n}: contains the {label}"
                     for label, f, n in secrets.scan(h.log_files())]
        hd.INSTANCES.remove(h)
    if problems:
        pytest.fail("httpd logs at the end of the module:\n" + "\n".join(problems[:50]),
                    pytrace=False)


@pytest.fixture(scope="module")
def make_session(emulator, sealer, secrets):
    """make_session(email, org=None, ttl=None, expired=False, how="sealtool", password=None)
    -> Session minted by the emulator and sealed as the SDK would."""

    def make(email="ada@example.com", org=None, ttl=None, expired=False, how="sealtool",
             password=None):
        auth = emulator.session(email, organization_id=org, token_ttl=ttl, expired=expired)
        secrets.add("access token", auth["access_token"])
        secrets.add("refresh token", auth["refresh_token"])
        if how == "sealtool":
            cookie = sealer.seal_auth(auth, password=password)
        elif how == "node":
            cookie = sealer.node("sdk", password=password, auth=auth)
        else:
            cookie = sealer.iron(sdk_session(auth), password=password)
        return Session(auth, cookie)

    return make


@pytest.fixture(scope="module")
def seal_json(sealer):
    return sealer.seal_json


@pytest.fixture(scope="module")
def site(request, httpd_factory, emulator, creds):
    """The sign-in flows' httpd for a test_flows_* module: flowlib.site with
    every endpoint (flowlib.server_conf), named after the module
    (test_flows_org_logout: "org-logout"). A module tunes it with SITE_MPM
    (e.g. "prefork"), SITE_EXTRA (server directives) and SITE_ROTATION (an
    old cookie password too); a module's own `site` fixture replaces it."""
    mod = request.module
    name = mod.__name__.removeprefix("test_flows_").replace("_", "-")
    h = flowlib.new_httpd(httpd_factory, name, mpm=getattr(mod, "SITE_MPM", None))
    conf = flowlib.server_conf(emulator, creds, *getattr(mod, "SITE_EXTRA", ()),
                               rotation=getattr(mod, "SITE_ROTATION", False))
    h.start(flowlib.site(h, conf))
    return h


@pytest.fixture
def no_faults(emulator):
    """No emulator fault before or after the test (a module makes it autouse with
    `pytestmark = pytest.mark.usefixtures("no_faults")`)."""
    emulator.clear_fault()
    yield
    emulator.clear_fault()


@pytest.fixture
def browser(site, secrets, creds):
    """A fresh flowlib.Browser on the requesting module's `site` fixture."""
    return flowlib.Browser(site, secrets, creds.password)


@pytest.fixture
def expect_log(request):
    """expect_log(regex, ...): error-log lines this test expects."""
    return lambda *patterns: request.node.wos_allowed_log.extend(patterns)


@pytest.fixture(autouse=True)
def _httpd_log_guard(request):
    marker = request.node.get_closest_marker("expect_log")
    request.node.wos_allowed_log = list(marker.args) if marker else []
    yield
    bad = []
    for h in list(hd.INSTANCES):
        bad += [f"{h.dir.name}: {line}"
                for line in hd.bad_lines(h.new_log_lines(), request.node.wos_allowed_log)]
    if bad:
        cores = "\n".join(filter(None, (hd.crash_report(h) for h in hd.INSTANCES)))
        pytest.fail("unexpected httpd error-log lines:\n" + "\n".join(bad[:40])
                    + (f"\nbacktraces of the cores left:\n{cores}" if cores else ""),
                    pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, show what the httpd instances logged during the test."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        for h in hd.INSTANCES:
            lines = h.new_log_lines(advance=False)
            if lines:
                report.sections.append((f"httpd {h.dir.name} error log (this test)",
                                        "\n".join(lines[-60:])))


@pytest.fixture(scope="session", autouse=True)
def _no_httpd_left_behind():
    yield
    for h in list(hd.INSTANCES):
        h.stop()
