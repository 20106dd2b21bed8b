# SPDX-License-Identifier: Apache-2.0
"""Plain HTTP on loopback with http.client: single checks, a fixed number of
keep-alive requests (instruction counts) and the concurrent refresh storm."""
import http.client
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from .tools import BenchError


def get(port, path, headers=None, conn=None):
    """(status, body, headers) of one GET."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read(), resp.headers
    finally:
        if own:
            conn.close()


def sequential(port, path, headers, count):
    """count GETs on one keep-alive connection, each of which must answer 200."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        for _ in range(count):
            status, _, _ = get(port, path, headers, conn)
            if status != 200:
                raise BenchError(f"{path} answered {status} during the instruction count")
    finally:
        conn.close()


def cycle(port, path, header_list, count):
    """count GETs on one keep-alive connection, with each header set in turn."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        for i in range(count):
            status, _, _ = get(port, path, header_list[i % len(header_list)], conn)
            if status != 200:
                raise BenchError(f"{path} answered {status} during the instruction count")
    finally:
        conn.close()


def storm(port, path, header_list, concurrency):
    """One GET per header set, `concurrency` at a time, all released at once.
    Returns (wall seconds, [(status, latency ms, sets a cookie)])."""
    start = threading.Event()

    def one(headers):
        start.wait()
        t0 = time.perf_counter()
        try:
            status, _, hdrs = get(port, path, headers)
        except OSError:
            return 0, (time.perf_counter() - t0) * 1e3, False
        return status, (time.perf_counter() - t0) * 1e3, bool(hdrs.get_all("Set-Cookie"))

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = [pool.submit(one, h) for h in header_list]
        t0 = time.perf_counter()
        start.set()
        results = [f.result() for f in futures]
        wall = time.perf_counter() - t0
    return wall, results
