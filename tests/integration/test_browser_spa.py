# SPDX-License-Identifier: Apache-2.0
"""The demo's single-page app in a real browser: `demo/run` brings up the
AuthKit emulator and httpd with conf/demo.conf, and headless Chromium
(driven by playwright-core from npm, tests/compat/spa_flow.mjs) opens the
static page /spa/, which learns who is signed in from the session endpoint
with fetch, signs in through AuthKit, calls /api/ with the bearer token alone,
and forces a refresh. Each step is one test."""
import json

import pytest

import demolib
from test_browser_demo import TOP, build_dir

USER = "grace@example.com"
STEPS = ["spa-signed-out", "spa-sign-in-page", "spa-shows-user", "spa-api-with-bearer",
         "spa-api-without-token", "spa-refreshed"]


def user_id(email):
    data = json.loads((TOP / "tests" / "emulator" / "users.json").read_text())
    return next(u["id"] for u in data["users"] if u["email"] == email)


@pytest.fixture(scope="module")
def spa_run():
    demo = demolib.Demo(build_dir())
    try:
        flow = demolib.run_flow("spa_flow.mjs", demo.url, demo.run, timeout=180,
                                env={"WOS_BROWSER_USER": USER,
                                     "WOS_BROWSER_USER_ID": user_id(USER)})
        yield dict(flow, run=demo.run)
    finally:
        demo.stop()
        demo.remove()


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
