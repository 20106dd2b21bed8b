#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The demo's /app/ page: shows the identity mod_auth_workos passed in the environment."""
import html
import os
import time


def env(name):
    return os.environ.get(name, "")


def esc(name):
    return html.escape(env(name))


def pairs(text, sep, inner):
    return [p.split(inner, 1) for p in text.split(sep) if inner in p]


def own_organizations():
    """The signed-in user's organizations (the demo knows them from the emulator's users)."""
    members = dict(pairs(env("WORKOS_DEMO_MEMBERSHIPS"), ";", "="))
    return members.get(env("WORKOS_USER_ID"), "").split()


def expiry():
    """The access token's expiry as a time of day, and how far away it is."""
    try:
        exp = int(env("WORKOS_ACCESS_TOKEN_EXPIRES"))
    except ValueError:
        return "unknown"
    left = exp - int(time.time())
    when = time.strftime("%H:%M:%S UTC", time.gmtime(exp))
    if left <= 0:
        return f"{when} (renews on the next request)"
    ahead = f"{left // 60} min {left % 60} s" if left >= 60 else f"{left} s"
    return f"{when}, in {ahead} (renews automatically)"


def switch_forms(names, current):
    forms = []
    for oid in own_organizations():
        if oid == current:
            continue
        forms.append(
            '<li><form class="switch" method="post" action="/auth/switch-organization">'
            f'<input type="hidden" name="organization_id" value="{html.escape(oid, quote=True)}">'
            '<input type="hidden" name="return_to" value="/app/">'
            f'<button type="submit" class="switch" data-org="{html.escape(oid, quote=True)}">'
            f'Switch to {html.escape(names.get(oid, oid))}</button></form></li>')
    return "".join(forms)


def main():
    names = dict(pairs(env("WORKOS_DEMO_ORGANIZATIONS"), ",", "="))
    current = env("WORKOS_ORGANIZATION_ID")
    if current:
        org = (f'{html.escape(names.get(current, current))} '
               f'<span class="note">(<span id="organization-id">{html.escape(current)}</span>)'
               '</span>')
    else:
        org = '<span id="organization-id"></span>no organization'
    banner = ""
    if env("WORKOS_IMPERSONATOR_EMAIL"):
        reason = env("WORKOS_IMPERSONATOR_REASON")
        banner = ('<p class="banner" id="impersonation">'
                  f'{esc("WORKOS_IMPERSONATOR_EMAIL")} is signed in as this user'
                  + (f' (reason: {html.escape(reason)})' if reason else "") + ".</p>")
    switch = switch_forms(names, current)
    php = (' · <a id="php" href="/app/index.php">The same from PHP</a>'
           if env("WORKOS_DEMO_PHP") else "")
    print("Content-Type: text/html; charset=utf-8")
    print("Cache-Control: private, no-store")
    print()
    print(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Signed in</title>
<link rel="stylesheet" href="/style.css"></head><body>
{banner}
<h1 id="greeting">Hello, {esc("WORKOS_USER_FIRST_NAME")} {esc("WORKOS_USER_LAST_NAME")}</h1>
<table>
<tr><th>REMOTE_USER</th><td id="remote-user">{esc("REMOTE_USER")}</td></tr>
<tr><th>Email</th><td id="email">{esc("WORKOS_USER_EMAIL")}</td></tr>
<tr><th>Organization</th><td id="organization">{org}</td></tr>
<tr><th>Role</th><td id="role">{esc("WORKOS_ROLE")}</td></tr>
<tr><th>Permissions</th><td id="permissions">{esc("WORKOS_PERMISSIONS")}</td></tr>
<tr><th>Session</th><td id="session">{esc("WORKOS_SESSION_ID")}</td></tr>
<tr><th>Access token expires</th><td id="expires">{html.escape(expiry())}</td></tr>
</table>
{"<h2>Your other organizations</h2><ul class='actions'>" + switch + "</ul>" if switch else ""}
<section id="sessions"><h2>Your sessions</h2>
<button type="button" id="sessions-show">Show where you are signed in</button></section>
<script src="/sessions.js"></script>
<p><a id="admin" href="/admin/">Admin area</a> · <a id="logout" href="/auth/logout">Sign out</a>
 · <a id="home" href="/">Home</a>{php}</p>
</body></html>""")


main()
