#!/usr/bin/python3
"""The demo's /app/ page: shows the identity mod_auth_workos passed in the environment."""
import html
import os


def esc(name):
    return html.escape(os.environ.get(name, ""))


def main():
    orgs = [o.split("=", 1) for o in os.environ.get("WORKOS_DEMO_ORGANIZATIONS", "").split(",") if "=" in o]
    current = os.environ.get("WORKOS_ORGANIZATION_ID", "")
    # The switch changes the session: a POST form (the module refuses GET and other sites).
    switch = "".join(
        f'<li><form class="switch" data-org="{html.escape(oid)}" method="post" '
        f'action="/auth/switch-organization">'
        f'<input type="hidden" name="organization_id" value="{html.escape(oid)}">'
        f'<input type="hidden" name="return_to" value="/app/">'
        f'<button type="submit">Switch to {html.escape(name)}</button></form></li>'
        for oid, name in orgs if oid != current)
    names = dict(orgs)
    print("Content-Type: text/html; charset=utf-8")
    print("Cache-Control: private, no-store")
    print()
    print(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Signed in</title></head><body>
<h1 id="greeting">Hello, {esc("WORKOS_USER_FIRST_NAME")} {esc("WORKOS_USER_LAST_NAME")}</h1>
<table>
<tr><th>REMOTE_USER</th><td id="remote-user">{esc("REMOTE_USER")}</td></tr>
<tr><th>Email</th><td id="email">{esc("WORKOS_USER_EMAIL")}</td></tr>
<tr><th>Organization</th><td id="organization">{html.escape(names.get(current, current))}
    (<span id="organization-id">{html.escape(current)}</span>)</td></tr>
<tr><th>Role</th><td id="role">{esc("WORKOS_ROLE")}</td></tr>
<tr><th>Permissions</th><td id="permissions">{esc("WORKOS_PERMISSIONS")}</td></tr>
<tr><th>Session</th><td id="session">{esc("WORKOS_SESSION_ID")}</td></tr>
<tr><th>Token expires</th><td id="expires">{esc("WORKOS_ACCESS_TOKEN_EXPIRES")}</td></tr>
</table>
<ul>{switch}</ul>
<section id="sessions"><h2>Your sessions</h2>
<button type="button" id="sessions-show">Show where you are signed in</button></section>
<script src="/sessions.js"></script>
<p><a id="admin" href="/admin/">Admin area</a> · <a id="logout" href="/auth/logout">Sign out</a>
 · <a href="/">Home</a></p>
</body></html>""")


main()
