# SPDX-License-Identifier: Apache-2.0
"""WorkOSSessionFormat at start-up: `apache2 -t` refuses a cookie password the
scope's SDK would not accept (WOS01701), wherever the format and the password
are set, and says what the SDK accepts; a good configuration passes."""
import base64
import os

import pytest
from cryptography.fernet import Fernet

PASSPHRASE = "a-passphrase-long-enough-for-node-and-ruby-49-chars"
FERNET = Fernet.generate_key().decode()
OPENSSL_B64 = base64.b64encode(os.urandom(32)).decode()       # `openssl rand -base64 32`


@pytest.fixture(scope="module")
def checker(httpd_factory):
    return httpd_factory("fmt-configtest")


def base(password, fmt=None):
    return ("WorkOSClientID client_123\nWorkOSAPIKey sk_test_x\n"
            f"WorkOSCookiePassword {password}\n"
            + (f"WorkOSSessionFormat {fmt}\n" if fmt else "")
            + "<Location /app/>\n  AuthType WorkOS\n  Require valid-user\n</Location>\n")


@pytest.mark.parametrize("conf", [
    base(FERNET, "python"),
    base(f"{FERNET} {OPENSSL_B64}", "python"),
    base(PASSPHRASE, "ruby"),
    base(PASSPHRASE, "node"),
    base(PASSPHRASE),
    base(PASSPHRASE) + "<Location /py/>\n  WorkOSSessionFormat python\n"
                       f"  WorkOSCookiePassword {FERNET}\n</Location>\n",
], ids=["python", "python-rotation-openssl-key", "ruby", "node", "default", "python-location"])
def test_passwords_the_sdk_accepts_pass(checker, conf):
    rc, out = checker.configtest(conf)
    assert rc == 0, out


def test_python_refuses_a_passphrase(checker):
    rc, out = checker.configtest(base(PASSPHRASE, "python"))
    assert rc != 0
    assert "WOS01701" in out and "Fernet key" in out and "openssl rand -base64 32" in out, out
    assert PASSPHRASE not in out                   # the password itself is never echoed


def test_second_password_named(checker):
    rc, out = checker.configtest(base(f"{FERNET} {PASSPHRASE}", "python"))
    assert rc != 0 and "WOS01701: WorkOSCookiePassword 2 " in out, out


def test_format_in_a_location_checked_against_the_inherited_password(checker):
    conf = base(PASSPHRASE) + "<Location /py/>\n  WorkOSSessionFormat python\n</Location>\n"
    rc, out = checker.configtest(conf)
    assert rc != 0 and "WOS01701" in out and "/py/" in out, out


def test_format_in_a_virtual_host(checker):
    conf = (base(PASSPHRASE) + "<VirtualHost 127.0.0.1:*>\n  ServerName py.example\n"
            "  WorkOSSessionFormat python\n</VirtualHost>\n")
    rc, out = checker.configtest(conf)
    assert rc != 0 and "WOS01701" in out and "virtual host" in out, out


def test_unknown_format(checker):
    rc, out = checker.configtest(base(PASSPHRASE, "iron"))
    assert rc != 0 and "WorkOSSessionFormat: must be node, ruby or python" in out, out
