# SPDX-License-Identifier: Apache-2.0
"""A newcomer's first hour, in real Chromium (Debian's, driven by playwright-core
from npm) against `demo/run`: sign-in at 127.0.0.1 and at localhost, the 403
page and its links, cancelling sign-in, a callback opened again with and
without a session, the demo page's expiry, banner and organization forms,
the home page by state, and the PHP page when php is installed. Each step
is one test; tests/compat/browser_first_hour.mjs checks each page's text."""
import shutil

import pytest

import demolib
from harness.httpd import build_dir

STEPS = ["home-signed-out", "127-sent-to-sign-in", "127-signed-in", "demo-page-times-and-orgs",
         "home-signed-in", "forbidden-page", "forbidden-back-link", "switched-then-admin",
         "replayed-callback-signed-in", "signed-out", "replayed-callback-signed-out",
         "replayed-sign-in-again-link", "cancelled-page", "cancelled-sign-in-again-link",
         "impersonation-banner", "no-organization", "php-page"]
HAS_PHP = shutil.which("php") is not None


@pytest.fixture(scope="module")
def walk():
    demo = demolib.Demo(build_dir())
    try:
        flow = demolib.run_flow("browser_first_hour.mjs", demo.port, demo.run,
                                "1" if HAS_PHP else "0", timeout=300)
        yield dict(flow, error_log=demo.error_log())
    finally:
        demo.stop()
        demo.remove()


@pytest.mark.parametrize("step", STEPS)
def test_first_hour_step(walk, step):
    if step == "php-page" and not HAS_PHP:
        pytest.skip("php is not installed (scripts/install-deps installs php-cli)")
    rec = walk["steps"].get(step)
    assert rec is not None, "step not reached\n" + walk["stdout"] + walk["stderr"]
    assert rec["ok"], rec


def test_first_hour_logs(walk):
    """The refusal is logged at info with the requirement; nothing worse than
    httpd's own authorization line."""
    log = walk["error_log"].splitlines()
    assert any("WOS01501: user_01GRACE" in line and "refused /admin/: Require workos-role admin not met"
               in line and "[auth_workos:info]" in line for line in log), log[-20:]
    assert any("WOS01504: sign-in started at 127.0.0.1:" in line for line in log), log[-20:]
    bad = [line for line in log
           if any(f":{lvl}]" in line for lvl in ("error", "crit", "alert", "emerg"))
           and "AH01631" not in line]
    assert bad == [] and not [line for line in log if "exit signal" in line]
