#!/usr/bin/env php
<?php
// The demo's PHP page: what a PHP application reads (run as a CGI by php).
function v($name) { return htmlspecialchars((string)getenv($name), ENT_QUOTES, 'UTF-8'); }
echo "Content-Type: text/html; charset=utf-8\r\n";
echo "Cache-Control: private, no-store\r\n\r\n";
$org = getenv('WORKOS_ORGANIZATION_ID');
?>
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Signed in (PHP)</title>
<link rel="stylesheet" href="/style.css"></head><body>
<h1 id="greeting">Hello from PHP <?= PHP_VERSION ?>, <?= v('WORKOS_USER_FIRST_NAME') ?></h1>
<p class="note">getenv('REMOTE_USER') and getenv('WORKOS_...'), as in any PHP application.</p>
<table>
<tr><th>REMOTE_USER</th><td id="remote-user"><?= v('REMOTE_USER') ?></td></tr>
<tr><th>WORKOS_USER_ID</th><td id="user-id"><?= v('WORKOS_USER_ID') ?></td></tr>
<tr><th>WORKOS_ORGANIZATION_ID</th><td id="organization-id"><?= $org ? v('WORKOS_ORGANIZATION_ID') : 'no organization' ?></td></tr>
<tr><th>WORKOS_ROLE</th><td id="role"><?= v('WORKOS_ROLE') ?></td></tr>
<tr><th>WORKOS_PERMISSIONS</th><td id="permissions"><?= v('WORKOS_PERMISSIONS') ?></td></tr>
</table>
<p><a href="/app/">Back to the app</a> · <a href="/auth/logout">Sign out</a></p>
</body></html>
