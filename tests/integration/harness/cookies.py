# SPDX-License-Identifier: Apache-2.0
"""Session cookies for the tests, three ways: tests/tools/sealtool (the
module's own core), an independent iron implementation in Python (for
payloads no SDK would write), and the real Node packages (node_seal.mjs).
Every secret a test creates is recorded in a Secrets list, which the harness
checks against every log line at the end of each test module."""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import time
from pathlib import Path

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .httpd import build_dir

NODE = "/usr/bin/node"
NODE_SEAL = Path(__file__).resolve().parents[1] / "node_seal.mjs"


class Secrets:
    """Values that must never appear in a log: (label, value) pairs."""

    MIN_LEN = 12

    def __init__(self):
        self.items = {}

    def add(self, label, value):
        if not value or len(value) < self.MIN_LEN:
            return value
        self.items[value] = label
        # The parts that carry the secret, in case only one of them is logged.
        parts = {}
        if value.startswith("Fe26."):
            for i, part in enumerate(value.removesuffix("~2").split("*")[1:], 1):
                parts[part] = f"{label} (seal part {i})"
        elif value.count(".") == 2 and value.startswith("eyJ"):
            _, payload, sig = value.split(".")
            parts[payload] = f"{label} (token claims)"
            parts[sig] = f"{label} (token signature)"
        for part, what in parts.items():
            if len(part) >= 20:
                self.items.setdefault(part, what)
        return value

    def scan(self, paths):
        """[(label, file name, line number)] for every secret found in the files."""
        found = []
        for path in paths:
            try:
                lines = Path(path).read_text(errors="replace").splitlines()
            except FileNotFoundError:
                continue
            for n, line in enumerate(lines, 1):
                for value, label in self.items.items():
                    if value in line:
                        found.append((label, Path(path).name, n))
        return found


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_claims(token):
    """The payload of a JWT, decoded without verification (to know what to expect)."""
    return json.loads(b64url_decode(token.split(".")[1]))


def jwt_header(token):
    return json.loads(b64url_decode(token.split(".")[0]))


# ---- iron (Fe26.2), independently of the module's code ------------------

def _key(password, salt):
    return hashlib.pbkdf2_hmac("sha1", password.encode(), salt.encode(), 1, 32)


def iron_seal(password, payload, exp_ms=None, suffix="~2", pwid="1"):
    """An iron-session style seal of payload (str or JSON-able object)."""
    text = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    esalt, hsalt = os.urandom(32).hex(), os.urandom(32).hex()
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    data = padder.update(text.encode()) + padder.finalize()
    enc = Cipher(algorithms.AES(_key(password, esalt)), modes.CBC(iv)).encryptor()
    ct = enc.update(data) + enc.finalize()
    exp = "" if exp_ms is None else str(exp_ms)
    base = "*".join(["Fe26.2", pwid, esalt, b64url(iv), b64url(ct), exp])
    mac = hmac.new(_key(password, hsalt), base.encode(), hashlib.sha256).digest()
    return f"{base}*{hsalt}*{b64url(mac)}{suffix}"


def iron_unseal(password, seal):
    """The payload text of a seal (MAC checked first), or ValueError."""
    body = seal[:-2] if seal.endswith("~2") else seal
    parts = body.split("*")
    if len(parts) != 8 or parts[0] != "Fe26.2":
        raise ValueError("not an Fe26.2 seal")
    base = "*".join(parts[:6])
    mac = hmac.new(_key(password, parts[6]), base.encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(b64url(mac), parts[7]):
        raise ValueError("bad MAC")
    dec = Cipher(algorithms.AES(_key(password, parts[2])),
                 modes.CBC(b64url_decode(parts[3]))).decryptor()
    data = dec.update(b64url_decode(parts[4])) + dec.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return (unpadder.update(data) + unpadder.finalize()).decode()


def sdk_session(auth):
    """The object the Node SDK seals for an authenticate 200 body (camelCase user)."""
    u = auth["user"]
    user = {"object": u.get("object", "user"), "id": u["id"], "email": u["email"],
            "emailVerified": u.get("email_verified"), "name": u.get("name"),
            "firstName": u.get("first_name"), "lastName": u.get("last_name"),
            "profilePictureUrl": u.get("profile_picture_url"),
            "lastSignInAt": u.get("last_sign_in_at"), "createdAt": u.get("created_at"),
            "updatedAt": u.get("updated_at"), "externalId": u.get("external_id"),
            "metadata": u.get("metadata") or {}}
    s = {"organizationId": jwt_claims(auth["access_token"]).get("org_id"), "user": user,
         "accessToken": auth["access_token"], "refreshToken": auth["refresh_token"],
         "authenticationMethod": auth.get("authentication_method"),
         "impersonator": auth.get("impersonator")}
    return {k: v for k, v in s.items() if v is not None}


class Sealer:
    """Seals with one cookie password through sealtool, Python iron or Node."""

    def __init__(self, password, secrets):
        self.password, self.secrets = password, secrets
        self.tool = build_dir() / "tests" / "tools" / "sealtool"

    def _sealtool(self, args, stdin, password):
        env = dict(os.environ, WOS_IT_SEAL_PW=password or self.password)
        out = subprocess.run([str(self.tool), *args, "--password-env", "WOS_IT_SEAL_PW"],
                             input=stdin, capture_output=True, text=True, env=env, timeout=30)
        assert out.returncode == 0, f"sealtool {args[0]} failed: {out.stderr.strip()}"
        return out.stdout.strip()

    def seal_auth(self, auth, password=None):
        """The cookie value the module and the SDK write for an authenticate body."""
        return self.secrets.add("cookie", self._sealtool(["seal-auth"], json.dumps(auth),
                                                         password))

    def seal_json(self, obj, password=None, ttl=None):
        args = ["seal"] + (["--ttl", str(ttl)] if ttl is not None else [])
        text = obj if isinstance(obj, str) else json.dumps(obj)
        return self.secrets.add("cookie", self._sealtool(args, text, password))

    def unseal(self, value, passwords=None):
        env = dict(os.environ)
        args = ["unseal"]
        for i, pw in enumerate(passwords or [self.password]):
            env[f"WOS_IT_UNSEAL_{i}"] = pw
            args += ["--password-env", f"WOS_IT_UNSEAL_{i}"]
        out = subprocess.run([str(self.tool), *args], input=value, capture_output=True,
                             text=True, env=env, timeout=30)
        assert out.returncode == 0, f"sealtool unseal failed: {out.stderr.strip()}"
        return json.loads(out.stdout)

    def iron(self, payload, password=None, exp_ms=None, **kw):
        return self.secrets.add("cookie", iron_seal(password or self.password, payload,
                                                    exp_ms, **kw))

    def node(self, mode, password=None, **fields):
        req = dict(fields, mode=mode, password=password or self.password)
        out = subprocess.run([NODE, str(NODE_SEAL)], input=json.dumps(req), capture_output=True,
                             text=True, timeout=60, cwd=str(NODE_SEAL.parent))
        assert out.returncode == 0, f"node_seal.mjs failed: {out.stderr.strip()[-500:]}"
        return self.secrets.add("cookie", out.stdout.strip())


class Session:
    """A minted session: the emulator's authenticate body and its cookie."""

    def __init__(self, auth, cookie):
        self.auth, self.cookie = auth, cookie
        self.token = auth["access_token"]
        self.claims = jwt_claims(self.token)
        self.user = auth["user"]

    def header(self, name="wos-session"):
        return {"Cookie": f"{name}={self.cookie}"}


def now_ms():
    return int(time.time() * 1000)
