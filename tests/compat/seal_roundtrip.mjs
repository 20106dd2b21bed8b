// SPDX-License-Identifier: Apache-2.0
// seal_roundtrip.mjs: the module's seal (through sealtool, $WOS_SEALTOOL) against
// the real SDKs, both ways: iron-session 8 (sealData/unsealData) and
// @workos-inc/node 12, and 11 with WOS_NODE_SDK=workos-node-11 (its sealing path, getSessionFromCookie, and
// loadSealedSession().authenticate() against a JWKS served on 127.0.0.1).
// Cases: (a) SDK seals, sealtool unseals; (b) sealtool seals, the SDKs unseal;
// (c) wrong passwords, tampering and expiry fail on both sides; (d) rotation.
// Prints "ok <case>" or "FAIL <case>: why" per case and, last,
// "compat: N passed, N failed"; exits non-zero if any case failed.
// WOS_COMPAT_SEED fixes the random payloads (the seed is printed).
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { createSign, generateKeyPairSync } from 'node:crypto';
import { PASSWORD, OLD_PASSWORD, iron, sdk, workosClient, authResponse,
         expectedSdkSession, sdkUser, b64url } from './seal_common.mjs';

const SEALTOOL = process.env.WOS_SEALTOOL;
const WRONG_PASSWORD = 'a-wrong-password-that-is-long-enough-0000';
const CLIENT_ID = 'client_01COMPATTEST';
const KID = 'sso_oidc_key_pair_01COMPATTEST';
const TOOL_ENV = { ...process.env, WOS_PW: PASSWORD, WOS_PW_OLD: OLD_PASSWORD,
                   WOS_PW_WRONG: WRONG_PASSWORD };

let passed = 0;
let failed = 0;

function report(name, ok, why = '') {
  if (ok) {
    passed++;
    console.log(`ok ${name}`);
  } else {
    failed++;
    console.log(`FAIL ${name}${why ? `: ${why}` : ''}`);
  }
}

// A case returns true, or a string saying what went wrong.
async function test(name, fn) {
  try {
    const r = await fn();
    report(name, r === true, r === true ? '' : String(r));
  } catch (e) {
    report(name, false, `threw ${e && e.message}`);
  }
}

// ---------------------------------------------------------------- sealtool

// input null: stdin is /dev/null. A usage error exits before reading stdin,
// so writing to a pipe there could race the exit (EPIPE).
function tool(args, input) {
  const io = input === null ? { stdio: ['ignore', 'pipe', 'pipe'] } : { input };
  const r = spawnSync(SEALTOOL, args, { ...io, env: TOOL_ENV, maxBuffer: 1 << 24 });
  // A tool that exits before reading its input (a usage error) closes the pipe
  // first now and then: EPIPE with an exit status is its answer, not a failure.
  if (r.error && !(r.error.code === 'EPIPE' && r.status !== null))
    throw r.error;
  return { code: r.status, out: r.stdout.toString('utf8'), err: r.stderr.toString('utf8') };
}

const pwArgs = (envs) => envs.flatMap((e) => ['--password-env', e]);
const cSeal = (text, extra = [], pw = 'WOS_PW') => tool(['seal', ...pwArgs([pw]), ...extra], text);
const cUnseal = (sealed, envs = ['WOS_PW'], extra = []) =>
  tool(['unseal', ...pwArgs(envs), ...extra], sealed);

// Seal with sealtool; the seal without its newline, or an exception.
function cSealOk(text, extra = [], pw = 'WOS_PW') {
  const r = cSeal(text, extra, pw);
  if (r.code !== 0)
    throw new Error(`sealtool seal exited ${r.code}: ${r.err.trim()}`);
  return r.out.replace(/\n$/, '');
}

// Order-independent JSON text, for objects built by different code.
// Node SDK 12 revives the user's dates as Date: compared as the ISO text they were.
function canonical(v) {
  if (v instanceof Date)
    return JSON.stringify(v.toISOString());
  if (Array.isArray(v))
    return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

const same = (a, b) => (a === b ? true : `got ${a.slice(0, 120)} want ${b.slice(0, 120)}`);

// ---------------------------------------------------------------- payloads

// mulberry32: a small seeded PRNG, so that a failing run can be repeated.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomString(rnd, n) {
  const pools = [
    () => String.fromCharCode(0x20 + Math.floor(rnd() * 95)),           // printable ASCII
    () => String.fromCharCode(Math.floor(rnd() * 0x20)),                // controls (escaped)
    () => String.fromCharCode(0xa0 + Math.floor(rnd() * 0x160)),        // Latin-1 and beyond
    () => String.fromCharCode(0x4e00 + Math.floor(rnd() * 0x5000)),     // CJK
    () => String.fromCodePoint(0x1f300 + Math.floor(rnd() * 0x300)),    // emoji (astral)
    () => String.fromCharCode(0xd800 + Math.floor(rnd() * 0x800)),      // lone surrogate
    () => '*~"\\/',                                                     // seal separators
  ];
  let s = '';
  while (s.length < n)
    s += pools[Math.floor(rnd() * (rnd() < 0.6 ? 1 : pools.length))]();
  return s;
}

function randomValue(rnd, budget, depth) {
  const r = rnd();
  if (depth > 3 || budget < 8 || r < 0.35)
    return [() => randomString(rnd, Math.floor(rnd() * budget)),
            () => Math.floor(rnd() * 2 ** 53) * (rnd() < 0.5 ? -1 : 1),
            () => rnd() * 1e6, () => rnd() < 0.5, () => null][Math.floor(rnd() * 5)]();
  if (r < 0.5)
    return Array.from({ length: 1 + Math.floor(rnd() * 4) },
                      () => randomValue(rnd, budget / 4, depth + 1));
  return randomObject(rnd, budget, depth + 1);
}

function randomObject(rnd, budget, depth = 0) {
  const o = {};
  let size = 2;
  while (size < budget) {
    const v = randomValue(rnd, Math.max(8, (budget - size) / 2), depth);
    o[`${randomString(rnd, 1 + Math.floor(rnd() * 8))}${size}`] = v;
    size = JSON.stringify(o).length;
  }
  return o;
}

function fixedPayloads() {
  return [
    ['empty-object', {}],
    ['small', { a: 1 }],
    ['types', { n: 0.1, big: 2 ** 53 - 1, neg: -42, exp: 1e21, t: true, f: false, z: null,
                arr: [1, 'two', [3], { four: 4 }], nested: { deeper: { deepest: {} } } }],
    ['unicode', { name: 'Zoë Ångström 李小龍 🙂', greek: 'καλημέρα', rtl: 'שלום',
                  astral: '𝄞𐍈', bom: '\ufeff', nul: 'a\u0000b', lone: '\ud800x' }],
    ['separators', { s: 'Fe26.2*1*x*y~2~1', t: '~', u: '*****' }],
    ['sdk-session', expectedSdkSession(authResponse({ orgId: 'org_01ACME' }))],
    ['ascii-12k', { blob: 'x'.repeat(12 * 1024) }],
    ['unicode-12k', { blob: '李🙂é'.repeat(1400) }],
  ];
}

function randomPayloads(seed, count) {
  const rnd = prng(seed);
  const out = [];
  for (let i = 0; i < count; i++) {
    const target = i < count / 2 ? 10 + Math.floor(rnd() * 1000) : Math.floor(rnd() * 12 * 1024);
    out.push([`random-${i}-${target}b`, randomObject(rnd, target)]);
  }
  return out;
}

// ---------------------------------------------------------------- JWKS + authenticate

// A local stand-in for api.workos.com: the JWKS, and one authenticate answer.
async function startApi(authBody) {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: KID, alg: 'RS256', use: 'sig' };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const send = (code, obj) => {
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(JSON.stringify(obj));
      };
      if (req.method === 'GET' && req.url === `/sso/jwks/${CLIENT_ID}`)
        return send(200, { keys: [jwk] });
      if (req.method === 'POST' && req.url === '/user_management/authenticate')
        return send(200, authBody());
      return send(404, { message: 'not found' });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const sign = (claims) => {
    const head = b64url(JSON.stringify({ alg: 'RS256', kid: KID, typ: 'JWT' }));
    const data = `${head}.${b64url(JSON.stringify(claims))}`;
    return `${data}.${b64url(createSign('RSA-SHA256').update(data).sign(privateKey))}`;
  };
  const stop = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  });
  return { port: server.address().port, sign, stop };
}

function tokenClaims(userId, orgId) {
  const now = Math.floor(Date.now() / 1000);
  const c = { iss: 'https://api.workos.com', sub: userId, sid: 'session_01ROUNDTRIP',
              jti: 'jti_01ROUNDTRIP', role: 'admin', roles: ['admin'],
              permissions: ['posts:read'], entitlements: [], feature_flags: ['beta'],
              iat: now, auth_time: now, exp: now + 300 };
  if (orgId)
    c.org_id = orgId;
  return c;
}

// ---------------------------------------------------------------- cases

function tamper(sealed, field) {
  const [body, suffix] = sealed.split('~');
  const parts = body.split('*');
  const c = parts[field][0];
  const hex = field === 2 || field === 6;
  parts[field] = (hex ? (c === 'a' ? 'b' : 'a') : field === 5 ? (c === '1' ? '2' : '1')
                  : (c === 'A' ? 'B' : 'A')) + parts[field].slice(1);
  return parts.join('*') + (suffix === undefined ? '' : `~${suffix}`);
}

const FIELDS = { esalt: 2, iv: 3, ciphertext: 4, expiry: 5, hsalt: 6, mac: 7 };

async function sdkToC(payloads, workos) {
  for (const [name, data] of payloads) {
    const text = JSON.stringify(data);
    await test(`sdk->c iron-session ${name}`, async () => {
      const r = cUnseal(await iron.seal(data, PASSWORD, 0));
      return r.code === 0 ? same(r.out, text) : `exit ${r.code}: ${r.err.trim()}`;
    });
    await test(`sdk->c iron-session default-ttl ${name}`, async () => {
      const r = cUnseal(await iron.seal(data, PASSWORD));
      return r.code === 0 ? same(r.out, text) : `exit ${r.code}: ${r.err.trim()}`;
    });
  }
  const variants = [
    ['plain', {}],
    ['org', { orgId: 'org_01ACME' }],
    ['impersonated', { orgId: 'org_01ACME', impersonator: { email: 'admin@example.com', reason: 'support' } }],
    ['unicode-user', { user: { firstName: 'Zoë', lastName: '李', metadata: { team: 'Ω 🙂' } } }],
    ['big-metadata', { user: { metadata: { notes: 'n'.repeat(8000) } } }],
  ];
  for (const [name, opts] of variants) {
    await test(`sdk->c workos-sdk ${name}`, async () => {
      const r0 = authResponse(opts);
      const r = cUnseal(await sdk.sealAuth(workos, r0, PASSWORD));
      return r.code === 0 ? same(r.out, JSON.stringify(expectedSdkSession(r0)))
                          : `exit ${r.code}: ${r.err.trim()}`;
    });
  }
}

async function cToSdk(payloads, workos) {
  let i = 0;
  for (const [name, data] of payloads) {
    const text = JSON.stringify(data);
    const ttl = i++ % 2 ? ['--ttl', '3600'] : [];
    const ttlName = ttl.length ? ' ttl' : '';
    await test(`c->sdk iron-session${ttlName} ${name}`, async () =>
      same(JSON.stringify(await iron.unseal(cSealOk(text, ttl), PASSWORD)), text));
    await test(`c->sdk workos-sdk${ttlName} ${name}`, async () =>
      same(JSON.stringify(await sdk.unseal(workos, cSealOk(text, ttl), PASSWORD)), text));
  }
}

// Would the SDK unseal @p sealed? Both SDKs answer {} (or throw) when not.
async function sdkRejects(sealed, password = PASSWORD) {
  const workos = workosClient();
  const tries = [() => iron.unseal(sealed, password), () => sdk.unseal(workos, sealed, password)];
  for (const t of tries) {
    let v;
    try {
      v = await t();
    } catch {
      continue;
    }
    if (v && Object.keys(v).length)
      return `accepted: ${JSON.stringify(v).slice(0, 80)}`;
  }
  return true;
}

function cRejects(r, reason) {
  if (r.code !== 1)
    return `exit ${r.code}, wanted 1`;
  if (r.out !== '')
    return 'printed a payload';
  return r.err.includes(reason) ? true : `reason "${r.err.trim()}" lacks "${reason}"`;
}

async function negatives(workos) {
  const data = { secret: 'payload', n: 1 };
  const text = JSON.stringify(data);
  const sdkSealed = await iron.seal(data, PASSWORD, 3600);
  const cSealed = cSealOk(text, ['--ttl', '3600']);

  await test('sdk->c wrong password', async () =>
    cRejects(cUnseal(sdkSealed, ['WOS_PW_WRONG', 'WOS_PW_OLD']), 'integrity'));
  await test('c->sdk wrong password', async () => sdkRejects(cSealed, WRONG_PASSWORD));
  for (const [field, idx] of Object.entries(FIELDS)) {
    await test(`sdk->c tampered ${field}`, async () =>
      cRejects(cUnseal(tamper(sdkSealed, idx)), 'integrity'));
    await test(`c->sdk tampered ${field}`, async () => sdkRejects(tamper(cSealed, idx)));
  }
  await test('sdk->c expired', async () => {
    const sealed = await iron.seal(data, PASSWORD, 60);
    const now = Date.now();
    const fresh = cUnseal(sealed, ['WOS_PW'], ['--now-ms', String(now + 60_000 + 59_000)]);
    if (fresh.code !== 0)
      return `not yet expired, but exit ${fresh.code}`;
    return cRejects(cUnseal(sealed, ['WOS_PW'], ['--now-ms', String(now + 60_000 + 61_000)]),
                    'expired');
  });
  await test('c->sdk expired', async () =>
    sdkRejects(cSealOk(text, ['--ttl', '60', '--now-ms', String(Date.now() - 600_000)])));
  // exp = sealing time + ttl, and the SDKs allow the same 60 s of skew.
  await test('c->sdk ttl and skew agree', async () => {
    const now = Date.now();
    const within = cSealOk(text, ['--ttl', '120', '--now-ms', String(now - 150_000)]);
    const iv = await iron.unseal(within, PASSWORD);
    const wv = await sdk.unseal(workos, within, PASSWORD);
    if (JSON.stringify(iv) !== text || JSON.stringify(wv) !== text)
      return 'refused a seal 30 s past its expiry (inside the skew)';
    return sdkRejects(cSealOk(text, ['--ttl', '120', '--now-ms', String(now - 200_000)]));
  });
  await test('c->sdk sealed with old password, sdk has new', async () =>
    sdkRejects(cSealOk(text, [], 'WOS_PW_OLD')));
  await test('sealtool rejects a short password', async () =>
    cRejects(tool(['seal', '--password', 'too-short'], text), 'invalid'));
  await test('sealtool rejects garbage', async () =>
    cRejects(cUnseal('not a seal at all'), 'invalid'));
  await test('sealtool usage errors exit 2', async () => {
    const codes = [tool([], null), tool(['frobnicate', '--password-env', 'WOS_PW'], null),
                   tool(['seal'], null), tool(['seal', '--password-env', 'WOS_UNSET_VAR'], null),
                   tool(['seal', '--password-env', 'WOS_PW', '--ttl', 'soon'], null)]
      .map((r) => r.code);
    return codes.every((c) => c === 2) ? true : `exit codes ${codes}`;
  });
}

async function rotation(workos) {
  const data = { rotated: true };
  const text = JSON.stringify(data);
  const check = (r, idx) => {
    if (r.code !== 0)
      return `exit ${r.code}: ${r.err.trim()}`;
    if (!r.err.includes(`index ${idx}`))
      return `stderr "${r.err.trim()}" lacks index ${idx}`;
    return same(r.out, text);
  };
  await test('rotation: iron-session sealed with old, sealtool new+old', async () =>
    check(cUnseal(await iron.seal(data, OLD_PASSWORD, 0), ['WOS_PW', 'WOS_PW_OLD'],
                  ['--print-index']), 1));
  await test('rotation: iron-session sealed with new, sealtool new+old', async () =>
    check(cUnseal(await iron.seal(data, PASSWORD, 0), ['WOS_PW', 'WOS_PW_OLD'],
                  ['--print-index']), 0));
  await test('rotation: workos-sdk sealed with old, sealtool new+old', async () => {
    const r0 = authResponse({ orgId: 'org_01ROT' });
    const r = cUnseal(await sdk.sealAuth(workos, r0, OLD_PASSWORD), ['WOS_PW', 'WOS_PW_OLD'],
                      ['--print-index']);
    if (r.code !== 0 || !r.err.includes('index 1'))
      return `exit ${r.code}: ${r.err.trim()}`;
    return same(r.out, JSON.stringify(expectedSdkSession(r0)));
  });
  await test('rotation: sealed with old, sealtool new only', async () =>
    cRejects(cUnseal(await iron.seal(data, OLD_PASSWORD, 0)), 'integrity'));
}

// The full session shape: what authenticate() sees in a cookie the C side sealed.
async function fullShape() {
  const userId = 'user_01FULLSHAPE';
  const orgId = 'org_01FULLSHAPE';
  const snake = {
    user: { object: 'user', id: userId, email: 'zoe@example.com', email_verified: true,
            first_name: 'Zoë', last_name: 'Ångström', profile_picture_url: null,
            last_sign_in_at: '2025-03-04T05:06:07.890Z', created_at: '2024-01-01T00:00:00.000Z',
            updated_at: '2025-03-04T05:06:07.890Z', external_id: 'ext-42',
            metadata: { team: 'Ω' } },
    organization_id: orgId, access_token: '', refresh_token: 'refresh_01FULLSHAPE',
    authentication_method: 'SSO',
    impersonator: { email: 'admin@example.com', reason: 'débogage' },
  };
  const api = await startApi(() => snake);
  snake.access_token = api.sign(tokenClaims(userId, orgId));
  const workos = workosClient({ apiHostname: '127.0.0.1', port: api.port, https: false });
  const load = (sessionData) =>
    workos.userManagement.loadSealedSession({ sessionData, cookiePassword: PASSWORD }).authenticate();
  try {
    await test('c->sdk authenticate() accepts a C-sealed session', async () => {
      const session = {
        organizationId: orgId, user: sdkUser(userId, { firstName: 'Zoë' }),
        accessToken: snake.access_token, refreshToken: 'refresh_01FULLSHAPE',
        authenticationMethod: 'Password',
        impersonator: { email: 'admin@example.com', reason: 'support' },
      };
      const a = await load(cSealOk(JSON.stringify(session)));
      if (!a.authenticated)
        return `not authenticated: ${a.reason}`;
      const got = canonical([a.user, a.sessionId, a.organizationId, a.role, a.impersonator,
                             a.authenticationMethod, a.featureFlags, a.accessToken]);
      return same(got, canonical([session.user, 'session_01ROUNDTRIP', orgId, 'admin',
                                  session.impersonator, 'Password', ['beta'], snake.access_token]));
    });
    await test('c->sdk authenticate() refuses a tampered C seal', async () => {
      const sealed = tamper(cSealOk(JSON.stringify({ accessToken: snake.access_token })), 4);
      const a = await load(sealed);
      return !a.authenticated && a.reason === 'invalid_session_cookie' ? true : JSON.stringify(a);
    });
    await test('c->sdk seal-auth equals the SDK\'s own sealed session', async () => {
      const viaSdk = await workos.userManagement.authenticateWithCode({
        clientId: CLIENT_ID, code: 'code_01ROUNDTRIP',
        session: { sealSession: true, cookiePassword: PASSWORD } });
      const r = tool(['seal-auth', '--password-env', 'WOS_PW'], JSON.stringify(snake));
      if (r.code !== 0)
        return `seal-auth exit ${r.code}: ${r.err.trim()}`;
      const mine = await sdk.unseal(workos, r.out.trim(), PASSWORD);
      const theirs = await sdk.unseal(workos, viaSdk.sealedSession, PASSWORD);
      return same(canonical(mine), canonical(theirs));
    });
    await test('c->sdk authenticate() accepts a seal-auth session', async () => {
      const r = tool(['seal-auth', '--password-env', 'WOS_PW'], JSON.stringify(snake));
      if (r.code !== 0)
        return `seal-auth exit ${r.code}: ${r.err.trim()}`;
      const a = await load(r.out.trim());
      if (!a.authenticated)
        return `not authenticated: ${a.reason}`;
      return same(canonical([a.user.firstName, a.user.emailVerified, a.organizationId,
                             a.impersonator]),
                   canonical(['Zoë', true, orgId, snake.impersonator]));
    });
  } finally {
    await api.stop();
  }
}

async function main() {
  if (!SEALTOOL) {
    report('WOS_SEALTOOL is set', false, 'set it to the built tests/tools/sealtool');
    return;
  }
  const seed = Number(process.env.WOS_COMPAT_SEED || Date.now() % 2 ** 31);
  console.log(`# random payload seed ${seed} (WOS_COMPAT_SEED)`);
  const payloads = [...fixedPayloads(), ...randomPayloads(seed, 40)];
  const workos = workosClient();
  await sdkToC(payloads, workos);
  await cToSdk(payloads, workos);
  await negatives(workos);
  await rotation(workos);
  await fullShape();
}

try {
  await main();
} catch (e) {
  report('harness', false, `threw ${e && e.stack}`);
}
console.log(`compat: ${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
