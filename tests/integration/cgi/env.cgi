#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Test CGI: the environment httpd gave this script, as JSON (plus the PIDs,
so tests can tell which httpd child ran it)."""
import json
import os
import sys

body = json.dumps({"env": dict(os.environ), "pid": os.getpid(), "ppid": os.getppid()})
sys.stdout.write("Content-Type: application/json\r\n\r\n" + body)
