#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The demo's home page: public; shows "Sign in" or "Sign out" by state (the
module passes the identity here too: WorkOSUnauthAction pass)."""
import html
import os

user = os.environ.get("WORKOS_USER_EMAIL") or os.environ.get("REMOTE_USER")
if user:
    state = (f'<p id="state">You are signed in as <strong>{html.escape(user)}</strong>.</p>'
             '<ul class="actions"><li><a id="app" href="/app/">Your identity (/app/)</a></li>'
             '<li><a id="admin" href="/admin/">Admin area (/admin/, role admin)</a></li>'
             '<li><a id="logout" class="button" href="/auth/logout">Sign out</a></li></ul>')
else:
    state = ('<p id="state">You are not signed in.</p>'
             '<ul class="actions"><li><a id="login" class="button" '
             'href="/auth/login?return_to=/app/">Sign in</a> '
             '<a id="signup" href="/auth/signup?return_to=/app/">or create an account</a></li>'
             '<li><a id="app" href="/app/">/app/</a>: any signed-in user</li>'
             '<li><a id="admin" href="/admin/">/admin/</a>: users with the admin role</li></ul>')
print("Content-Type: text/html; charset=utf-8")
print("Cache-Control: private, no-store")
print()
print(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>mod_auth_workos demo</title>
<link rel="stylesheet" href="/style.css"></head><body>
<h1>mod_auth_workos demo</h1>
<p class="note">This page is public. Everything here is served by Apache httpd, with
WorkOS AuthKit sign-in done by the module.</p>
{state}
</body></html>""")
