// SPDX-License-Identifier: Apache-2.0
// node_seal.mjs: seal a session cookie with the real Node packages, so the
// integration tests can show the module accepts what the WorkOS SDK writes.
//
// Reads one JSON object on stdin and prints the seal on stdout:
//   {"mode": "sdk",  "password": "...", "auth": <authenticate 200 body, snake_case>}
//       the way @workos-inc/node seals after authenticateWithCode (no expiry)
//   {"mode": "iron", "password": "...", "data": {...}, "ttl": seconds?}
//       iron-session's sealData (ttl 0 = no expiry; default 14 days)
// The password travels on stdin, never on the command line.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const compat = createRequire(path.join(here, '..', 'compat', 'package.json'));
const load = (name) => import(pathToFileURL(compat.resolve(name)).href);

// The SDK's own camelCase view of a user (as deserializeUser makes it).
function sdkUser(u) {
  return {
    object: u.object, id: u.id, email: u.email, emailVerified: u.email_verified,
    name: u.name ?? null, firstName: u.first_name, profilePictureUrl: u.profile_picture_url,
    lastName: u.last_name, lastSignInAt: u.last_sign_in_at, locale: u.locale,
    createdAt: u.created_at, updatedAt: u.updated_at, externalId: u.external_id ?? null,
    metadata: u.metadata ?? {},
  };
}

async function sealSdk(req) {
  const { WorkOS } = await load('@workos-inc/node');
  const workos = new WorkOS('sk_test_node_seal_not_used', { clientId: 'client_node_seal' });
  const a = req.auth;
  const authenticationResponse = {
    user: sdkUser(a.user), organizationId: a.organization_id, accessToken: a.access_token,
    refreshToken: a.refresh_token, impersonator: a.impersonator,
    authenticationMethod: a.authentication_method,
  };
  return workos.userManagement.sealSessionDataFromAuthenticationResponse(
    { authenticationResponse, cookiePassword: req.password });
}

async function sealIron(req) {
  const { sealData } = await load('iron-session');
  const opts = { password: req.password };
  if (req.ttl !== undefined) opts.ttl = req.ttl;
  return sealData(req.data, opts);
}

let input = '';
process.stdin.setEncoding('utf8');
for await (const chunk of process.stdin) input += chunk;
const req = JSON.parse(input);
const seal = req.mode === 'sdk' ? await sealSdk(req) : await sealIron(req);
process.stdout.write(seal + '\n');
