#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""tests/layout/check.py: the layout rules of docs/hacking.md, checked.

  top-level  mod_auth_workos.c is the only C file at the top of the tree
             (`git ls-files '*.c'` in a git checkout, else the file system);
  core       no src/*.c or src/*.h includes an httpd header (a header of
             httpd's include directory, or one named like httpd's), nor the
             glue's own header;
  glue       no cycle of calls between the glue files (mod_auth_workos.c and
             src/httpd/*.c): who calls whom is read from the built objects'
             symbols (nm), so function pointers count as calls;
  exports    the built module exports its module record and nothing else
             (nm -D): its own functions stay out of the namespace it shares
             with every other module httpd loads.

Prints one line per rule that fails, then "layout: N passed, N failed".
Environment: WOS_SRCDIR, WOS_BUILDDIR (the unit runner sets both),
HTTPD_INCLUDEDIR (default /usr/include/apache2)."""
import os
import re
import subprocess
import sys
from pathlib import Path

SRC = Path(os.environ.get("WOS_SRCDIR", Path(__file__).resolve().parents[2]))
BUILD = Path(os.environ.get("WOS_BUILDDIR", SRC / "build"))
HTTPD_INC = Path(os.environ.get("HTTPD_INCLUDEDIR", "/usr/include/apache2"))
HTTPD_NAMES = re.compile(r"^(httpd|http_\w+|ap_\w+|util_\w+|mod_\w+|mpm\w*|scoreboard|"
                         r"unixd|os|apreq\w*)\.h$")
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)


def top_level_c():
    """Problems with C files at the top of the tree."""
    try:
        out = subprocess.run(["git", "-C", str(SRC), "ls-files", "*.c"], capture_output=True,
                             text=True, timeout=60, check=True).stdout.split()
        inside_git = True
    except (OSError, subprocess.CalledProcessError):
        inside_git = False
    if not inside_git or not out:       # not a checkout (or one that does not track this tree)
        out = [p.name for p in SRC.glob("*.c")]
    top = sorted(p for p in out if "/" not in p)
    return [] if top == ["mod_auth_workos.c"] else \
        [f"C files at the top level: {' '.join(top) or '(none)'} (only mod_auth_workos.c belongs there)"]


def httpd_headers():
    names = {p.name for p in HTTPD_INC.glob("*.h")} if HTTPD_INC.is_dir() else set()
    apr = {n for n in names if n.startswith(("apr", "apu"))}   # Debian keeps APR apart; others may not
    return names - apr


def core_includes():
    """Core files that include an httpd header or the glue's header."""
    banned, bad = httpd_headers(), []
    for path in sorted(SRC.glob("src/*.[ch]")):
        for inc in INCLUDE.findall(path.read_text(errors="replace")):
            name = Path(inc).name
            if name in banned or HTTPD_NAMES.match(name) or "httpd/" in inc:
                bad.append(f"{path.relative_to(SRC)} includes {inc}: the core never includes "
                           "httpd's headers (translate in src/httpd/)")
    return bad


def glue_objects():
    """{glue file name: object file} of the built module (PIC objects first)."""
    objs = {}
    for o in sorted(BUILD.glob("**/mod_auth_workos_la-*.o"), key=lambda p: ".libs" not in str(p)):
        name = o.name[len("mod_auth_workos_la-"):-2] + ".c"
        objs.setdefault(name, o)
    return objs


def symbols(obj):
    """(functions defined, symbols used) of an object: the module record and the
    directive table are data every file may share."""
    out = subprocess.run(["nm", str(obj)], capture_output=True, text=True, timeout=60,
                         check=True).stdout
    defined, used = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] == "T":      # functions: calls, not shared data
            defined.add(parts[2])
        elif len(parts) == 2 and parts[0] == "U":
            used.add(parts[1])
    return defined, used


def find_cycle(graph):
    """One cycle of graph {node: set(nodes)} as a list, or None."""
    state = {}

    def visit(n, path):
        state[n] = 1
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                return path[path.index(m):] + [m]
            if m not in state:
                found = visit(m, path + [m])
                if found:
                    return found
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n, [n])
            if found:
                return found
    return None


def glue_cycles():
    objs = glue_objects()
    expected = {"mod_auth_workos.c"} | {p.name for p in SRC.glob("src/httpd/*.c")}
    missing = expected - set(objs)
    if missing:
        return [f"glue objects not built in {BUILD}: {' '.join(sorted(missing))}"]
    syms = {name: symbols(objs[name]) for name in expected}
    owner = {s: name for name, (defined, _) in syms.items() for s in defined}
    graph = {name: {owner[u] for u in used if u in owner and owner[u] != name}
             for name, (_, used) in syms.items()}
    cycle = find_cycle(graph)
    return [f"glue files call each other in a cycle: {' -> '.join(cycle)} (move what both "
            "need into a file both use, such as mod_auth_workos_request.c)"] if cycle else []


def exports():
    so = BUILD / "mod_auth_workos.so"
    if not so.exists():
        return [f"module not built: {so}"]
    out = subprocess.run(["nm", "-D", "--defined-only", str(so)], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    extra = sorted({line.split()[-1] for line in out.splitlines() if line.strip()}
                   - {"auth_workos_module"})
    return [f"{so.name} exports more than its module record: {' '.join(extra[:8])}"
            + (" ..." if len(extra) > 8 else "")] if extra else []


def main():
    rules = [("top-level", top_level_c), ("core", core_includes), ("glue", glue_cycles),
             ("exports", exports)]
    passed = failed = 0
    for name, rule in rules:
        problems = rule()
        for p in problems:
            print(f"layout {name}: {p}")
        failed += bool(problems)
        passed += not problems
    print(f"layout: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
