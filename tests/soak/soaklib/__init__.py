# SPDX-License-Identifier: Apache-2.0
"""Helpers for tests/soak/run: wrk per cookie class, the forwarder that makes
WorkOS unreachable, the leak probes, the checks and the report."""
import sys
import time

T0 = time.time()


def log(msg):
    """Progress on stderr, with the seconds since the start."""
    print(f"[{time.time() - T0:6.1f}s] {msg}", file=sys.stderr, flush=True)
