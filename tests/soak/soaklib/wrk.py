# SPDX-License-Identifier: Apache-2.0
"""One wrk per class of cookies, with tests/soak/class.lua, and its summary."""
import os
import re
import subprocess
from pathlib import Path

LUA = Path(__file__).resolve().parents[1] / "class.lua"
PATH = "/app/page.html"


# Per class: answers allowed in normal phases and during faults, whether the
# class adopts Set-Cookie values, and the pause between requests (ms) per
# connection (classes that may cause WorkOS calls are paced).
CLASSES = {
    "valid":    {"normal": {200}, "fault": {200}, "adopt": False, "delay": 0},
    "garbage":  {"normal": {401}, "fault": {401}, "adopt": False, "delay": 0},
    "expiring": {"normal": {200}, "fault": {200, 503}, "adopt": True, "delay": 10},
    "expired":  {"normal": {200}, "fault": {503}, "adopt": True, "delay": 20},
}
FLAT = ("valid", "garbage")     # requests that never need WorkOS


def parse_wrk(text):
    res = {"statuses": {}}
    for key, value in re.findall(r"^SOAK (\S+) (-?\d+)$", text, re.M):
        if key.startswith("status_"):
            res["statuses"][int(key[7:])] = int(value)
        else:
            res[key] = int(value)
    return res


def start_wrk(site, cls, cookie_file, seconds, conns, state_out, close):
    spec = CLASSES[cls]
    env = dict(os.environ, SOAK_STATE=str(state_out))
    cmd = ["wrk", "-t1", f"-c{conns}", f"-d{max(1, round(seconds))}s", "--timeout", "15s",
           "-s", str(LUA), f"{site.httpd.url}{PATH}", "--", str(cookie_file), PATH,
           str(len(site.body)), "1" if spec["adopt"] else "0", str(spec["delay"]),
           "1" if close else "0"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, stdin=subprocess.DEVNULL)
