"""The demo's single-page app in a real browser: `demo/run` brings up the
AuthKit emulator and httpd with conf/demo.conf, and headless Chromium
(driven by playwright-core from npm, tests/compat/spa_flow.mjs) opens the
static page /spa/, which learns who is signed in from the session endpoint
with fetch, signs in through AuthKit, calls /api/ with the bearer token alone,
and forces a refresh. Each step is one test."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from test_browser_demo import build_dir, free_port, wait_port

TOP = Path(__file__).resolve().parents[2]
COMPAT = TOP / "tests" / "compat"
USER = "grace@example.com"
STEPS = ["spa-signed-out", "spa-sign-in-page", "spa-shows-user", "spa-api-with-bearer",
         "spa-api-without-token", "spa-refreshed"]


def user_id(email):
    data = json.loads((TOP / "tests" / "emulator" / "users.json").read_text())
    return next(u["id"] for u in data["users"] if u["email"] == email)


@pytest.fixture(scope="module")
def spa_run():
    run = Path(tempfile.mkdtemp(prefix="wos-spa-"))
    run.chmod(0o755)
    port, emu = free_port(), free_port()
    env = dict(os.environ, WOS_SKIP_INSTALL="1", WOS_BUILDDIR=str(build_dir()),
               WOS_DEMO_RUNDIR=str(run), WOS_DEMO_PORT=str(port), WOS_EMULATOR_PORT=str(emu))
    for k in ("WORKOS_CLIENT_ID", "WORKOS_API_KEY", "WORKOS_COOKIE_PASSWORD",
              "WORKOS_API_BASE_URL", "WORKOS_ISSUER"):
        env.pop(k, None)
    log = open(run / "demo.out", "w")
    demo = subprocess.Popen([str(TOP / "demo" / "run")], cwd=TOP, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        assert wait_port(port, demo), "demo did not come up:\n" + (run / "demo.out").read_text()
        flow = subprocess.run(
            ["/usr/bin/node", str(COMPAT / "spa_flow.mjs"), f"http://localhost:{port}", str(run)],
            cwd=COMPAT, capture_output=True, text=True, timeout=180,
            env=dict(os.environ, WOS_BROWSER_USER=USER, WOS_BROWSER_USER_ID=user_id(USER)))
        steps = {}
        for line in flow.stdout.splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            steps[rec["step"]] = rec
        yield {"steps": steps, "stdout": flow.stdout, "stderr": flow.stderr, "run": run}
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        try:
            demo.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(run, ignore_errors=True)


@pytest.mark.parametrize("step", STEPS)
def test_spa_step(spa_run, step):
    rec = spa_run["steps"].get(step)
    assert rec is not None, ("step not reached\n" + spa_run["stdout"] + spa_run["stderr"])
    assert rec["ok"], rec


def test_spa_error_log_is_clean(spa_run):
    errors = [line for line in (spa_run["run"] / "error.log").read_text().splitlines()
              if any(f"[{lvl}]" in line or f":{lvl}]" in line
                     for lvl in ("error", "crit", "alert", "emerg")) or "exit signal" in line]
    assert errors == []
