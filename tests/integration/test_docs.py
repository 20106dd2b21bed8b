# SPDX-License-Identifier: Apache-2.0
"""The documentation names what the code does: every WOS log tag written by
the code is listed in docs/operations.md, and every tag listed there exists."""
import re
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
TAG = re.compile(r"\bWOS\d{5}\b")


def code_tags():
    files = [TOP / "mod_auth_workos.c", *sorted((TOP / "src").rglob("*.c"))]
    tags = set()
    for f in files:
        tags |= set(TAG.findall(f.read_text()))
    return tags


def documented_tags():
    text = (TOP / "docs" / "operations.md").read_text()
    table = text[text.index("## Every log tag"):]
    return set(re.findall(r"^\| `(WOS\d{5})` \|", table, re.M))


def test_code_writes_tags():
    assert len(code_tags()) > 40


def test_every_tag_in_the_code_is_documented():
    missing = sorted(code_tags() - documented_tags())
    assert not missing, f"tags not listed in docs/operations.md: {missing}"


def test_every_documented_tag_is_in_the_code():
    stale = sorted(documented_tags() - code_tags())
    assert not stale, f"docs/operations.md lists tags the code no longer writes: {stale}"


DIRECTIVE = re.compile(r'AP_INIT_[A-Z0-9_]+\(\s*"(WorkOS[A-Za-z]+)"')


def code_directives():
    names = set()
    for f in sorted((TOP / "src" / "httpd").glob("*.[ch]")):
        names |= set(DIRECTIVE.findall(f.read_text()))
    return names


def test_every_directive_is_in_the_reference():
    names = code_directives()
    assert len(names) > 40
    text = (TOP / "docs" / "directives.md").read_text()
    documented = set(re.findall(r"^### (WorkOS[A-Za-z]+)$", text, re.M))
    assert not sorted(names - documented), sorted(names - documented)
    assert not sorted(documented - names), sorted(documented - names)


def test_readme_stays_short():
    assert (TOP / "README.md").stat().st_size < 15 * 1024
