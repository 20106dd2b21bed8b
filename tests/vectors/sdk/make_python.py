#!/usr/bin/python3
"""Fernet vectors of the WorkOS Python SDK's sealed session, made with Debian's
python3-cryptography following workos-python's seal_data / unseal_data:
Fernet(cookie_password).encrypt(json.dumps(session).encode()).

Run from anywhere: writes python.json next to this file. Each vector:
{"name", "passwords": [...], "cookie", "payload": str | null, "refused": null or
"mac" (no key verifies it), "invalid" (malformed) or "any"}.
The C tests (tests/unit/test_format.c) read them; keys and tokens are random,
so a new run gives new vectors that must pass the same tests.
"""
import base64
import hashlib
import hmac
import json
import os
import struct
import time

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

HERE = os.path.dirname(os.path.abspath(__file__))
USER = json.load(open(os.path.join(HERE, "user.json")))


def seal_data(data, key):
    """workos-python session.seal_data."""
    return Fernet(key).encrypt(json.dumps(data).encode()).decode("utf-8")


def session(**extra):
    s = {"access_token": "eyJhbGciOiJSUzI1NiJ9.e30.sig", "refresh_token": "rt_01HREFRESH",
         "user": USER}
    s.update(extra)
    return s


def raw_token(payload, key, version=0x80):
    """A Fernet token made step by step (to vary one field with a valid HMAC)."""
    k = base64.urlsafe_b64decode(key)
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    pt = padder.update(payload) + padder.finalize()
    enc = Cipher(algorithms.AES(k[16:]), modes.CBC(iv)).encryptor()
    body = bytes([version]) + struct.pack(">Q", int(time.time())) + iv + enc.update(pt) + enc.finalize()
    return base64.urlsafe_b64encode(body + hmac.new(k[:16], body, hashlib.sha256).digest()).decode()


def flip(token, at):
    raw = bytearray(base64.urlsafe_b64decode(token))
    raw[at] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).decode()


def main():
    key = Fernet.generate_key().decode()
    old = base64.b64encode(os.urandom(32)).decode()      # `openssl rand -base64 32`
    other = Fernet.generate_key().decode()
    s = session()
    good = seal_data(s, key)
    vectors = []

    def ok(name, passwords, cookie, payload):
        vectors.append({"name": name, "passwords": passwords, "cookie": cookie,
                        "payload": payload, "refused": None})

    def refused(name, passwords, cookie, why):
        vectors.append({"name": name, "passwords": passwords, "cookie": cookie,
                        "payload": None, "refused": why})

    ok("session", [key], good, json.dumps(s))
    imp = session(impersonator={"email": "admin@example.com", "reason": "support"})
    ok("impersonator", [key], seal_data(imp, key), json.dumps(imp))
    uni = session(user=dict(USER, first_name="Zoë", last_name="Ångström 李"))
    ok("unicode", [key], seal_data(uni, key), json.dumps(uni))
    ok("rotated_standard_alphabet_key", [other, old], seal_data(s, old), json.dumps(s))
    ok("user_empty_object", [key], seal_data(session(user={}), key), json.dumps(session(user={})))
    refused("wrong_key", [other], good, "mac")
    refused("tampered_ciphertext", [key], flip(good, 30), "mac")
    refused("tampered_mac", [key], flip(good, len(base64.urlsafe_b64decode(good)) - 1), "mac")
    refused("tampered_timestamp", [key], flip(good, 3), "mac")
    refused("truncated", [key], good[:-8], "any")
    refused("truncated_block", [key], base64.urlsafe_b64encode(
        base64.urlsafe_b64decode(good)[:-16]).decode(), "mac")
    refused("wrong_version_byte", [key], raw_token(json.dumps(s).encode(), key, 0x81), "invalid")
    refused("unpadded", [key], good.rstrip("="), "invalid")
    refused("not_json_utf8", [key], raw_token(b"\xff\xfe", key), "invalid")
    # Each vector checked against the SDK's own reader (unseal_data's Fernet).
    for v in vectors:
        got = None
        for pw in v["passwords"]:
            try:
                got = Fernet(pw).decrypt(v["cookie"].encode()).decode()
                break
            except Exception:
                pass
        assert got == v["payload"] or v["name"] == "not_json_utf8", v["name"]
    with open(os.path.join(HERE, "python.json"), "w") as f:
        json.dump(vectors, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
