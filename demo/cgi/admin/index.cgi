#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The demo's /admin/ page: only reached with Require workos-role admin."""
import html
import os

print("Content-Type: text/html; charset=utf-8")
print("Cache-Control: private, no-store")
print()
print(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Admin</title>
<link rel="stylesheet" href="/style.css"></head><body>
<h1 id="admin-title">Admin area</h1>
<p>Welcome, {html.escape(os.environ.get("WORKOS_USER_EMAIL", ""))}: your role is
<span id="role">{html.escape(os.environ.get("WORKOS_ROLE", ""))}</span>.</p>
<p><a href="/app/">Back to the app</a></p>
</body></html>""")
