<?php
// A front controller as PHP apps have one (Laravel, WordPress, Symfony): every
// route ends here. It shows what the app sees of the identity: getenv() for
// each name the module documents, $_SERVER and apache_request_headers().
$names = ['REMOTE_USER', 'AUTH_TYPE', 'WORKOS_USER_ID', 'WORKOS_USER_EMAIL',
          'WORKOS_USER_FIRST_NAME', 'WORKOS_USER_LAST_NAME', 'WORKOS_USER_EMAIL_VERIFIED',
          'WORKOS_ORGANIZATION_ID', 'WORKOS_ROLE', 'WORKOS_ROLES', 'WORKOS_PERMISSIONS',
          'WORKOS_ENTITLEMENTS', 'WORKOS_FEATURE_FLAGS', 'WORKOS_SESSION_ID',
          'WORKOS_AUTHENTICATION_METHOD', 'WORKOS_IMPERSONATOR_EMAIL',
          'WORKOS_IMPERSONATOR_REASON', 'WORKOS_ACCESS_TOKEN_EXPIRES', 'WORKOS_ACCESS_TOKEN'];
foreach (array_keys($_SERVER) as $k) {
    $names[] = $k;
}
$env = [];
foreach (array_unique($names) as $n) {
    $v = getenv($n);
    if ($v !== false) {
        $env[$n] = $v;
    }
}
header('Content-Type: application/json');
echo json_encode([
    'sapi' => PHP_SAPI,
    'script' => basename(__FILE__),
    'dir' => basename(__DIR__),
    'getenv' => $env,
    'server' => $_SERVER,
    'headers' => function_exists('apache_request_headers') ? apache_request_headers() : null,
], JSON_UNESCAPED_SLASHES | JSON_PARTIAL_OUTPUT_ON_ERROR);
