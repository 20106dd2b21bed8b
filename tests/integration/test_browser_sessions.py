# SPDX-License-Identifier: Apache-2.0
"""The demo's "Your sessions" section, as a person uses it: `demo/run`
brings up the AuthKit emulator and httpd with conf/demo.conf
(WorkOSSessionsURI /auth/sessions), and headless Chromium signs one user in
on three browsers, sees them listed on /app/, signs one out, then signs out
everywhere else; the emulator confirms the revocations. Each step is one test."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest
import requests

from test_browser_demo import COMPAT, TOP, build_dir, free_port, wait_port

STEPS = ["lists-both-browsers", "signed-out-the-other-browser", "signed-out-everywhere-else",
         "this-browser-still-signed-in"]


@pytest.fixture(scope="module")
def flow():
    run = Path(tempfile.mkdtemp(prefix="wos-demo-sessions-"))
    run.chmod(0o755)
    port, emu = free_port(), free_port()
    env = dict(os.environ, WOS_SKIP_INSTALL="1", WOS_BUILDDIR=str(build_dir()),
               WOS_DEMO_RUNDIR=str(run), WOS_DEMO_PORT=str(port), WOS_EMULATOR_PORT=str(emu))
    for k in ("WORKOS_CLIENT_ID", "WORKOS_API_KEY", "WORKOS_COOKIE_PASSWORD",
              "WORKOS_API_BASE_URL"):
        env.pop(k, None)
    log = open(run / "demo.out", "w")
    demo = subprocess.Popen([str(TOP / "demo" / "run")], cwd=TOP, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        assert wait_port(port, demo), "demo did not come up:\n" + (run / "demo.out").read_text()
        out = subprocess.run(["/usr/bin/node", str(COMPAT / "sessions_flow.mjs"),
                              f"http://localhost:{port}"], cwd=COMPAT, capture_output=True,
                             text=True, timeout=240)
        steps = {}
        for line in out.stdout.splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            steps[rec["step"]] = rec
        revocations = requests.get(f"http://127.0.0.1:{emu}/__emulator/revocations",
                                   timeout=10).json()["revocations"]
        yield {"steps": steps, "stdout": out.stdout, "stderr": out.stderr, "run": run,
               "revocations": revocations}
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        try:
            demo.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(run, ignore_errors=True)


@pytest.mark.parametrize("step", STEPS)
def test_step(flow, step):
    rec = flow["steps"].get(step)
    assert rec is not None, "step not reached\n" + flow["stdout"] + flow["stderr"]
    assert rec["ok"], rec


def test_the_emulator_saw_the_revocations(flow):
    """One revoke for the other browser, one for the third: both through the
    API (the module), none of the signed-in browser's own."""
    steps = flow["steps"]
    assert [r["via"] for r in flow["revocations"]] == ["api", "api"], flow["revocations"]
    kept = steps["signed-out-everywhere-else"]["rows"][0]["id"]
    assert kept not in {r["session_id"] for r in flow["revocations"]}
    assert steps["signed-out-the-other-browser"]["revoked"] == flow["revocations"][0]["session_id"]


def test_demo_error_log_is_clean(flow):
    errors = [line for line in (flow["run"] / "error.log").read_text().splitlines()
              if any(f":{lvl}]" in line for lvl in ("error", "crit", "alert", "emerg"))
              or "exit signal" in line]
    assert errors == []
