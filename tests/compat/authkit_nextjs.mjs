// SPDX-License-Identifier: Apache-2.0
// authkit_nextjs.mjs: what @workos-inc/authkit-nextjs 4.x makes of a request
// carrying a session cookie: its own session code, `authkit(request, options)`
// (the updateSession its middleware runs: cookie read, JWT check, refresh,
// cookie write), on a NextRequest in plain Node. Run as
//   node --import ./next_register.mjs authkit_nextjs.mjs   (cwd tests/compat)
//
// Reads one JSON object on stdin (secrets travel there, never on the command
// line): {"baseUrl": the emulator, "clientId", "apiKey", "password",
// "url": the page requested, "cookie": the Cookie header or null,
// "refreshBufferSeconds"?}. Prints one JSON object: {"user": email or null,
// "sessionId", "organizationId", "role", "permissions", "impersonator",
// "setCookies": [Set-Cookie values authkit-nextjs answered with],
// "refreshed": true when it wrote a new session cookie, "signIn": true when
// it answered with a sign-in URL (nobody signed in)}.
let input = '';
process.stdin.setEncoding('utf8');
for await (const chunk of process.stdin) input += chunk;
const req = JSON.parse(input);
const api = new URL(req.baseUrl);

// authkit-nextjs reads its configuration from the environment when loaded.
Object.assign(process.env, {
  WORKOS_CLIENT_ID: req.clientId, WORKOS_API_KEY: req.apiKey,
  WORKOS_COOKIE_PASSWORD: req.password,
  NEXT_PUBLIC_WORKOS_REDIRECT_URI: new URL('/callback', req.url).href,
  WORKOS_API_HOSTNAME: api.hostname, WORKOS_API_PORT: api.port,
  WORKOS_API_HTTPS: api.protocol === 'https:' ? 'true' : 'false',
});
const { authkit } = await import('@workos-inc/authkit-nextjs');
const { NextRequest } = await import('next/server');

const headers = req.cookie ? { cookie: req.cookie } : {};
const request = new NextRequest(req.url, { headers });
const options = req.refreshBufferSeconds === undefined ? {}
  : { refreshBufferSeconds: req.refreshBufferSeconds };
const { session, headers: out, authorizationUrl } = await authkit(request, options);
const setCookies = out.getSetCookie();
const name = 'wos-session';
process.stdout.write(JSON.stringify({
  user: session.user ? session.user.email : null,
  sessionId: session.sessionId ?? null,
  organizationId: session.organizationId ?? null,
  role: session.role ?? null,
  permissions: session.permissions ?? null,
  impersonator: session.impersonator ?? null,
  setCookies,
  refreshed: setCookies.some((c) => c.startsWith(`${name}=`) && !c.startsWith(`${name}=;`)),
  signIn: Boolean(authorizationUrl),
}) + '\n');
