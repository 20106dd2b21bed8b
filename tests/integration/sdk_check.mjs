// SPDX-License-Identifier: Apache-2.0
// sdk_check.mjs: what the real @workos-inc/node SDK makes of a session cookie
// the module wrote. Used by tests/integration/test_flows_*.py (flowlib.py).
//
// Reads one JSON object on stdin (the password travels there, never on the
// command line): {"baseUrl": "http://127.0.0.1:PORT" (the emulator),
// "clientId", "password", "cookie", "sdk"?: the npm name of the Node SDK,
// "@workos-inc/node" (12.x, the default) or "workos-node-11"}. Prints one JSON object: the result of
// loadSealedSession({sessionData, cookiePassword}).authenticate(), without
// the access token, or {"authenticated": false, "thrown": "<code>"} when the
// SDK throws instead of answering.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const compat = createRequire(path.join(here, '..', 'compat', 'package.json'));

let input = '';
process.stdin.setEncoding('utf8');
for await (const chunk of process.stdin) input += chunk;
const req = JSON.parse(input);
const sdkName = req.sdk || '@workos-inc/node';
if (!['@workos-inc/node', 'workos-node-11'].includes(sdkName))
  throw new Error(`unknown SDK ${sdkName}`);
const { WorkOS } = await import(pathToFileURL(compat.resolve(sdkName)).href);
const base = new URL(req.baseUrl);

// The key is not used: authenticate() only fetches the (public) JWKS.
const workos = new WorkOS('sk_test_sdk_check_unused', {
  clientId: req.clientId, apiHostname: base.hostname, port: Number(base.port), https: false,
});
const session = workos.userManagement.loadSealedSession({
  sessionData: req.cookie, cookiePassword: req.password,
});

let result;
try {
  result = await session.authenticate();
} catch (e) {
  result = { authenticated: false, thrown: String(e.code || e.name || 'error') };
}
delete result.accessToken;
process.stdout.write(JSON.stringify(result) + '\n');
