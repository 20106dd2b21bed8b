// SPDX-License-Identifier: Apache-2.0
// seal_make_vectors.mjs: make the fixed known-answer vectors under
// tests/vectors/seal/ with the real SDKs (iron-session 8, @workos-inc/node 11,
// iron-webcrypto). Each vector is <name>.sealed (the seal) and <name>.json
// (the exact JSON text the SDK encrypted); expiring ones add <name>.now (ms
// since the epoch just before sealing). test_seal.c reads them.
// Usage: node seal_make_vectors.mjs [outdir]
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seal as ironWebcryptoSeal, defaults as ironDefaults } from 'iron-webcrypto';
import * as uncrypto from 'uncrypto';
import { PASSWORD, OLD_PASSWORD, iron, sdk, workosClient, authResponse,
         expectedSdkSession, sdkUser } from './seal_common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = process.argv[2] || join(here, '..', 'vectors', 'seal');
const HUNDRED_YEARS = 100 * 365 * 24 * 3600;
const workos = workosClient();

const unicode = {
  name: 'Zoë Ångström 李小龍 🙂', greek: 'καλημέρα', rtl: 'שלום', escapes: 'tab\tquote"slash\\nl\n',
  astral: '𝄞𐍈', bom: '\ufeff', control: '\u0001\u001f',
};
const ironSession = {
  organizationId: 'org_01ACME',
  user: sdkUser('user_01ADA'),
  accessToken: authResponse({ orgId: 'org_01ACME' }).accessToken,
  refreshToken: 'refresh_01IRONSESSION',
  authenticationMethod: 'GoogleOAuth',
};

function write(name, sealed, payload, now) {
  writeFileSync(join(outdir, `${name}.sealed`), sealed);
  writeFileSync(join(outdir, `${name}.json`), payload);
  if (now !== undefined)
    writeFileSync(join(outdir, `${name}.now`), String(now));
  console.log(`${name}: ${sealed.length} chars`);
}

async function ironVector(name, data, password, ttl) {
  const now = Date.now();
  const sealed = await iron.seal(data, password, ttl);  // undefined: iron-session's default
  write(name, sealed, JSON.stringify(data), ttl === 0 ? undefined : now);
}

async function sdkVector(name, opts) {
  const r = authResponse(opts);
  const sealed = await sdk.sealAuth(workos, r, PASSWORD);
  const text = JSON.stringify(expectedSdkSession(r));
  // The SDK must read back exactly the object we expect it to have sealed.
  const back = await sdk.unseal(workos, sealed, PASSWORD);
  if (JSON.stringify(back) !== text)
    throw new Error(`${name}: the SDK sealed something else than expected`);
  write(name, sealed, text);
}

mkdirSync(outdir, { recursive: true });
await ironVector('small', { hello: 'world' }, PASSWORD, 0);
await ironVector('unicode', unicode, PASSWORD, 0);
await ironVector('session_iron', ironSession, PASSWORD, 0);
await ironVector('default_ttl', { counter: 1, who: 'default ttl' }, PASSWORD, undefined);
await ironVector('long_ttl', { ttl: '100 years' }, PASSWORD, HUNDRED_YEARS);
await ironVector('rotated_old', { sealedWith: 'the old password' }, OLD_PASSWORD, 0);
await sdkVector('session_sdk', { orgId: 'org_01ACME',
                                 impersonator: { email: 'admin@example.com', reason: 'support' } });
await sdkVector('session_sdk_noorg', { method: 'MagicAuth', user: { firstName: 'Grace' } });
// iron-webcrypto alone, as iron-session uses it but without the "~2" suffix.
{
  const data = { suffix: 'none' };
  const sealed = await ironWebcryptoSeal(uncrypto, data, { id: '1', secret: PASSWORD },
                                         { ...ironDefaults, ttl: 0 });
  write('no_suffix', sealed, JSON.stringify(data));
}
