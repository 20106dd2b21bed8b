#!/usr/bin/python3
"""The demo's API (/api/whoami.cgi): who the bearer token says the caller is."""
import json
import os

FIELDS = ("REMOTE_USER", "WORKOS_AUTH_SOURCE", "WORKOS_USER_ID", "WORKOS_ORGANIZATION_ID",
          "WORKOS_ROLE", "WORKOS_PERMISSIONS", "WORKOS_SESSION_ID")
print("Content-Type: application/json")
print("Cache-Control: no-store")
print()
print(json.dumps({k: os.environ.get(k) for k in FIELDS}))
