# SPDX-License-Identifier: Apache-2.0
"""The AuthKit emulator (tests/emulator/emulator.py) as a child process, and a
small client for its WorkOS endpoints and its /__emulator/* test controls."""
import contextlib
import os
import selectors
import signal
import subprocess
import time

import requests

from .httpd import TOP

PYTHON = "/usr/bin/python3"
EMULATOR = TOP / "tests" / "emulator" / "emulator.py"


class Emulator:
    """A running emulator: .url, .client_id, .api_key and the controls."""

    def __init__(self, logdir, client_id, api_key, extra_args=()):
        self.client_id, self.api_key = client_id, api_key
        self.log = open(os.path.join(logdir, "emulator.log"), "ab")
        self.proc = subprocess.Popen(
            [PYTHON, str(EMULATOR), "--port", "0", "--host", "127.0.0.1",
             "--client-id", client_id, "--api-key", api_key, *extra_args],
            stdout=subprocess.PIPE, stderr=self.log, stdin=subprocess.DEVNULL,
            start_new_session=True)
        try:
            self.port = self._read_ready()
        except Exception:
            self.stop()
            raise
        self.url = f"http://127.0.0.1:{self.port}"
        self.http = requests.Session()

    def _read_ready(self, timeout=30.0):
        """The port from the emulator's one stdout line, "READY <port>"."""
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline, buf = time.time() + timeout, b""
        while time.time() < deadline and b"\n" not in buf:
            if not sel.select(timeout=0.2):
                if self.proc.poll() is not None:
                    break
                continue
            chunk = os.read(self.proc.stdout.fileno(), 256)
            if not chunk:
                break
            buf += chunk
        sel.close()
        line = buf.split(b"\n")[0].decode(errors="replace").split()
        if len(line) != 2 or line[0] != "READY":
            raise RuntimeError(f"emulator did not say READY (got {buf[:200]!r})")
        return int(line[1])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.proc.stdout.close()
        self.log.close()

    # ---- controls ------------------------------------------------------

    def ctl(self, path, body=None, method="POST"):
        if method == "POST":
            body = body if body is not None else {}
        r = self.http.request(method, f"{self.url}/__emulator/{path}", json=body, timeout=10)
        assert r.status_code == 200, f"emulator {path}: {r.status_code} {r.text[:300]}"
        return r.json()

    def reset(self, keys=False):
        return self.ctl("reset", {"keys": True} if keys else {})

    def counters(self):
        return self.ctl("counters", method="GET")

    def fault(self, **spec):
        return self.ctl("fault", spec)

    def clear_fault(self):
        return self.ctl("fault", method="DELETE")

    @contextlib.contextmanager
    def faulted(self, **spec):
        """`with emulator.faulted(endpoint=..., ...):` the fault holds inside the
        block and is cleared however the block ends."""
        self.fault(**spec)
        try:
            yield self
        finally:
            self.clear_fault()

    def config(self, **values):
        return self.ctl("config", values)

    def rotate(self, drop_previous=False, publish=True):
        body = {"drop_previous": True} if drop_previous else {}
        if not publish:
            body["publish"] = False
        return self.ctl("rotate", body)

    def publish(self):
        """The JWKS catches up with a rotate(publish=False)."""
        return self.ctl("publish", {})

    def keys(self):
        return self.ctl("keys", method="GET")

    def session(self, email, organization_id=None, token_ttl=None, expired=False):
        body = {"email": email}
        if organization_id:
            body["organization_id"] = organization_id
        if token_ttl is not None:
            body["token_ttl"] = token_ttl
        if expired:
            body["expired"] = True
        return self.ctl("session", body)

    def sign(self, header, claims, key="current", raw_header=None):
        body = {"header": header, "claims": claims, "key": key}
        if raw_header is not None:
            body["raw_header"] = raw_header
        return self.ctl("sign", body)["token"]

    def revoke(self, session_id=None, email=None):
        """Revoke as from the dashboard (one session, or every session of email)."""
        body = {"session_id": session_id} if session_id else {"email": email}
        return self.ctl("revoke", body)["revoked"]

    def revocations(self):
        """Every revocation since the last reset: {session_id, via: api|dashboard, time}."""
        return self.ctl("revocations", method="GET")["revocations"]

    def set_role(self, email, role, organization_id=None, permissions=None):
        """Change a user's role (and permissions) in an organization, as the dashboard does."""
        body = {"email": email, "role": role, "organization_id": organization_id}
        if permissions is not None:
            body["permissions"] = permissions
        return self.ctl("role", body)

    def jwks(self):
        r = self.http.get(f"{self.url}/sso/jwks/{self.client_id}", timeout=10)
        r.raise_for_status()
        return r.json()


def users_file():
    """The emulator's default users.json (organizations and users with memberships)."""
    import json
    return json.loads((TOP / "tests" / "emulator" / "users.json").read_text())


def org_id(name):
    """An organization's id by its name in users.json ("Acme", "Globex")."""
    for org in users_file()["organizations"]:
        if org["name"] == name:
            return org["id"]
    raise KeyError(name)


def membership(email, org):
    """A user's membership (role, roles, permissions, ...) in an organization id."""
    for user in users_file()["users"]:
        if user["email"] == email:
            for m in user["memberships"]:
                if m["organization_id"] == org:
                    return m
    raise KeyError((email, org))
