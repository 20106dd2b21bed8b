// SPDX-License-Identifier: Apache-2.0
// Drives the real @workos-inc/node SDK against the local AuthKit emulator
// (tests/emulator/emulator.py) to show the emulator answers the way WorkOS
// does: sign-in, sealed sessions, JWKS verification, refresh rotation,
// organization switching, logout, PKCE, impersonation, key rotation, forged
// tokens and faults.
//
// Usage: /usr/bin/node tests/compat/emulator_sdk.mjs http://127.0.0.1:PORT
//   (or EMULATOR_URL; EMULATOR_CLIENT_ID and EMULATOR_API_KEY override the
//   defaults client_test / sk_test_emulator).
// Prints "ok - <check>" or "not ok - <check>: <why>" per check, then one line
// "RESULT {json}" with the results and the requests this script saw itself
// send (counted client-side, to compare with the emulator's counters).
// Exits 0 only when every check passed.

import assert from 'node:assert/strict';

const BASE = (process.argv[2] || process.env.EMULATOR_URL || '').replace(/\/+$/, '');
if (!BASE) {
  console.error('usage: emulator_sdk.mjs http://127.0.0.1:PORT');
  process.exit(2);
}
const CLIENT_ID = process.env.EMULATOR_CLIENT_ID || 'client_test';
const API_KEY = process.env.EMULATOR_API_KEY || 'sk_test_emulator';
const BASE_URL = new URL(BASE);
const REDIRECT = 'http://127.0.0.1:9/callback';
const PASSWORD = 'a-cookie-password-of-at-least-32-characters!';
const ACME = 'org_01ACME00000000000000000000';
const GLOBEX = 'org_01GLOBEX000000000000000000';
const ISSUER = `${BASE}/user_management/${CLIENT_ID}`;

// ---- count what we send, independently of the emulator's own counters ----
const observed = {
  jwks: 0, authorize: 0, authenticate_code: 0, authenticate_refresh: 0,
  authenticate_errors: 0, logout: 0,
};
const realFetch = globalThis.fetch;

function classify(url, init) {
  if (url.origin !== BASE_URL.origin) return null;
  if (url.pathname.startsWith('/sso/jwks/')) return 'jwks';
  if (url.pathname === '/user_management/authorize') return 'authorize';
  if (url.pathname === '/user_management/sessions/logout') return 'logout';
  if (url.pathname !== '/user_management/authenticate') return null;
  const grant = JSON.parse(String(init?.body ?? '{}')).grant_type;
  return { authorization_code: 'authenticate_code', refresh_token: 'authenticate_refresh' }[grant]
    ?? 'authenticate_other';
}

globalThis.fetch = async (input, init) => {
  const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
  const kind = classify(url, init);
  if (kind && kind in observed) observed[kind] += 1;
  const isAuth = kind?.startsWith('authenticate');
  try {
    const res = await realFetch(input, init);
    if (isAuth && res.status !== 200) observed.authenticate_errors += 1;
    return res;
  } catch (e) {
    if (isAuth) observed.authenticate_errors += 1;
    throw e;
  }
};

// Imported after the wrapper so every SDK request goes through it.
const { WorkOS } = await import('@workos-inc/node');

// ---- helpers ----
function sdk(options = {}, key = API_KEY) {
  return new WorkOS(key, {
    clientId: CLIENT_ID, apiHostname: BASE_URL.hostname, port: Number(BASE_URL.port),
    https: false, ...options,
  });
}

async function ctl(method, path, body) {
  const res = await realFetch(`${BASE}/__emulator/${path}`, {
    method, headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json();
  assert.equal(res.status, 200, `control ${path}: ${JSON.stringify(data)}`);
  return data;
}

function jwtPart(token, index) {
  return JSON.parse(Buffer.from(token.split('.')[index], 'base64url').toString('utf8'));
}

/** Opens the hosted sign-in page at url and picks the user: the callback URL. */
async function signIn(url, email, { cancel = false } = {}) {
  const page = await fetch(url);
  assert.equal(page.status, 200, 'sign-in page status');
  const html = await page.text();
  assert.ok(html.includes(`data-user="${email}"`), `no button for ${email}`);
  const action = html.match(/<form[^>]*action="([^"]+)"/)[1];
  const authorization = html.match(/name="authorization" value="([^"]+)"/)[1];
  const form = cancel ? { authorization, cancel: '1' } : { authorization, email };
  const res = await fetch(new URL(action, BASE), {
    method: 'POST', body: new URLSearchParams(form), redirect: 'manual',
  });
  assert.equal(res.status, 302, 'sign-in answer is a redirect');
  return new URL(res.headers.get('location'));
}

async function codeFor(workos, email, extra = {}) {
  const state = `st-${Math.random().toString(36).slice(2)}`;
  const url = workos.userManagement.getAuthorizationUrl({
    provider: 'authkit', redirectUri: REDIRECT, state, ...extra,
  });
  const back = await signIn(url, email);
  assert.equal(back.searchParams.get('state'), state, 'state echoed');
  return back.searchParams.get('code');
}

async function sealedFor(workos, email) {
  const code = await codeFor(workos, email);
  return workos.userManagement.authenticateWithCode({
    code, session: { sealSession: true, cookiePassword: PASSWORD },
  });
}

function unseal(workos, sealed) {
  return workos.userManagement.getSessionFromCookie({
    sessionData: sealed, cookiePassword: PASSWORD,
  });
}

/** Seal an emulator answer (snake_case, as /__emulator/session returns) with the SDK. */
function sealBody(workos, body) {
  const u = body.user;
  const user = {
    object: u.object, id: u.id, email: u.email, emailVerified: u.email_verified,
    firstName: u.first_name, lastName: u.last_name, profilePictureUrl: u.profile_picture_url,
    lastSignInAt: u.last_sign_in_at, createdAt: u.created_at, updatedAt: u.updated_at,
    externalId: u.external_id, metadata: u.metadata,
  };
  return workos.userManagement.sealSessionDataFromAuthenticationResponse({
    authenticationResponse: {
      user, accessToken: body.access_token, refreshToken: body.refresh_token,
      authenticationMethod: body.authentication_method, impersonator: body.impersonator,
    },
    cookiePassword: PASSWORD,
  });
}

async function sealToken(workos, token) {
  const body = await ctl('POST', 'session', { email: 'ada@example.com' });
  return sealBody(workos, { ...body, access_token: token });
}

function load(workos, sealed) {
  return workos.userManagement.loadSealedSession({ sessionData: sealed, cookiePassword: PASSWORD });
}

async function rejects(promise, check) {
  try {
    await promise;
  } catch (e) {
    check(e);
    return e;
  }
  throw new Error('expected the call to fail');
}

/**
 * The SDK refuses a token either with {authenticated:false, reason:'invalid_jwt'}
 * or by throwing one of jose's key-selection errors: ERR_JWKS_NO_MATCHING_KEY
 * (no published key has the kid) or ERR_JOSE_NOT_SUPPORTED (alg "none").
 * Both are a refusal; anything else is not.
 */
const REFUSAL_CODES = ['ERR_JWKS_NO_MATCHING_KEY', 'ERR_JOSE_NOT_SUPPORTED'];
async function refused(session, what) {
  let r;
  try {
    r = await session.authenticate();
  } catch (e) {
    assert.ok(REFUSAL_CODES.includes(e.code), `${what}: ${e}`);
    return e.code;
  }
  assert.deepEqual(r, { authenticated: false, reason: 'invalid_jwt' }, what);
  return r.reason;
}

// ---- the checks ----
const results = [];
async function check(name, fn) {
  try {
    const detail = await fn();
    results.push({ name, ok: true });
    console.log(`ok - ${name}${detail ? `: ${detail}` : ''}`);
  } catch (e) {
    results.push({ name, ok: false, error: String(e?.stack || e) });
    console.log(`not ok - ${name}: ${String(e?.message || e).split('\n')[0]}`);
  }
}

const workos = sdk();
const st = {};  // state shared between checks

await ctl('POST', 'reset', {});

await check('authorization URL points at the emulator', async () => {
  const url = new URL(workos.userManagement.getAuthorizationUrl({
    provider: 'authkit', redirectUri: REDIRECT, state: 's1',
  }));
  assert.equal(url.origin + url.pathname, `${BASE}/user_management/authorize`);
  assert.equal(url.searchParams.get('client_id'), CLIENT_ID);
  assert.equal(url.searchParams.get('response_type'), 'code');
});

await check('sign-in form redirects with a code and the state', async () => {
  st.code = await codeFor(workos, 'ada@example.com');
  assert.match(st.code, /^[A-Za-z0-9_-]{20,}$/);
});

await check('cancel redirects with access_denied', async () => {
  const url = workos.userManagement.getAuthorizationUrl({
    provider: 'authkit', redirectUri: REDIRECT, state: 'cancel-me',
  });
  const back = await signIn(url, 'ada@example.com', { cancel: true });
  assert.equal(back.searchParams.get('error'), 'access_denied');
  assert.equal(back.searchParams.get('state'), 'cancel-me');
  assert.equal(back.searchParams.get('code'), null);
});

await check('authenticateWithCode returns a sealed session', async () => {
  const r = await workos.userManagement.authenticateWithCode({
    code: st.code, session: { sealSession: true, cookiePassword: PASSWORD },
  });
  assert.match(r.sealedSession, /^Fe26\.2\*1\*[0-9a-f]{64}\*/);
  assert.equal(r.user.firstName, 'Ada');
  assert.equal(r.user.lastName, 'Lovelace');
  assert.equal(r.user.email, 'ada@example.com');
  assert.equal(r.organizationId, ACME);
  assert.equal(r.authenticationMethod, 'Password');
  const header = jwtPart(r.accessToken, 0);
  assert.deepEqual(Object.keys(header).sort(), ['alg', 'kid', 'typ']);
  assert.equal(header.alg, 'RS256');
  assert.match(header.kid, /^sso_oidc_key_pair_[0-9A-Z]{26}$/);
  const claims = jwtPart(r.accessToken, 1);
  assert.equal(claims.aud, undefined);
  assert.equal(claims.sub, r.user.id);
  assert.equal(claims.exp - claims.iat, 300);
  st.ada = r.sealedSession;
});

await check('authorization codes are single use', async () => {
  await rejects(workos.userManagement.authenticateWithCode({ code: st.code }), (e) => {
    assert.equal(e.name, 'OauthException');
    assert.equal(e.status, 400);
    assert.equal(e.error, 'invalid_grant');
  });
});

await check('loadSealedSession().authenticate() verifies against the JWKS', async () => {
  const a = await load(workos, st.ada).authenticate();
  assert.equal(a.authenticated, true, a.reason);
  assert.equal(a.organizationId, ACME);
  assert.equal(a.role, 'admin');
  assert.deepEqual(a.roles, ['admin']);
  assert.deepEqual(a.permissions, ['posts:read', 'posts:write', 'users:manage']);
  assert.deepEqual(a.entitlements, ['audit-logs']);
  assert.deepEqual(a.featureFlags, ['new-dashboard']);
  assert.match(a.sessionId, /^session_[0-9A-Z]{26}$/);
  assert.equal(a.user.email, 'ada@example.com');
  assert.equal(a.user.id, jwtPart(a.accessToken, 1).sub);
  assert.equal(a.impersonator, undefined);
  st.adaSid = a.sessionId;
});

await check('issuer claim matches the configured issuer', async () => {
  const good = await load(sdk({ issuer: ISSUER }), st.ada).authenticate();
  assert.equal(good.authenticated, true, good.reason);
  const bad = await load(sdk({ issuer: 'https://api.workos.com' }), st.ada).authenticate();
  assert.deepEqual(bad, { authenticated: false, reason: 'invalid_jwt' });
});

await check('refresh() rotates the tokens and re-seals', async () => {
  const r = await load(workos, st.ada).refresh();
  assert.equal(r.authenticated, true, r.reason);
  assert.notEqual(r.sealedSession, st.ada);
  const before = await unseal(workos, st.ada);
  const after = await unseal(workos, r.sealedSession);
  assert.notEqual(after.refreshToken, before.refreshToken);
  assert.notEqual(after.accessToken, before.accessToken);
  assert.equal(r.sessionId, st.adaSid);
  assert.equal(r.organizationId, ACME);
  st.adaOld = st.ada;
  st.ada = r.sealedSession;
});

await check('the old refresh token is rejected with invalid_grant', async () => {
  const r = await load(workos, st.adaOld).refresh();
  assert.deepEqual(r, { authenticated: false, reason: 'invalid_grant', retryable: false });
});

await check('refresh({organizationId}) switches the organization', async () => {
  const r = await load(workos, st.ada).refresh({ organizationId: GLOBEX });
  assert.equal(r.authenticated, true, r.reason);
  assert.equal(r.organizationId, GLOBEX);
  assert.equal(r.role, 'member');
  assert.deepEqual(r.permissions, ['posts:read']);
  const a = await load(workos, r.sealedSession).authenticate();
  assert.equal(a.organizationId, GLOBEX);
  assert.equal((await unseal(workos, r.sealedSession)).organizationId, GLOBEX);
  st.ada = r.sealedSession;
});

await check('switching to an organization without membership is refused', async () => {
  await rejects(load(workos, st.ada).refresh({ organizationId: 'org_01NOTAMEMBER0000000000000' }),
    (e) => {
      assert.equal(e.status, 403);
      assert.equal(e.rawData.code, 'organization_membership_not_found');
    });
  const r = await load(workos, st.ada).refresh();  // the refused call did not spend the token
  assert.equal(r.authenticated, true, r.reason);
  assert.equal(r.organizationId, GLOBEX);
  st.ada = r.sealedSession;
});

await check('authenticateWithRefreshToken works once per token', async () => {
  const { refreshToken } = await unseal(workos, st.ada);
  const r = await workos.userManagement.authenticateWithRefreshToken({ refreshToken });
  assert.equal(jwtPart(r.accessToken, 1).sid, st.adaSid);
  assert.equal(r.organizationId, GLOBEX);
  assert.notEqual(r.refreshToken, refreshToken);
  await rejects(workos.userManagement.authenticateWithRefreshToken({ refreshToken }), (e) => {
    assert.equal(e.name, 'OauthException');
    assert.equal(e.error, 'invalid_grant');
  });
  st.adaRefresh = r.refreshToken;
});

await check('a wrong API key gets 401 and does not spend the code', async () => {
  const code = await codeFor(workos, 'linus@example.com');
  await rejects(sdk({}, 'sk_test_wrong').userManagement.authenticateWithCode({ code }), (e) => {
    assert.equal(e.name, 'UnauthorizedException');
    assert.equal(e.status, 401);
  });
  const r = await workos.userManagement.authenticateWithCode({ code });
  assert.equal(r.user.email, 'linus@example.com');
  assert.equal(r.organizationId, GLOBEX);
});

await check('PKCE with getAuthorizationUrlWithPKCE', async () => {
  const { url, state, codeVerifier } = await workos.userManagement.getAuthorizationUrlWithPKCE({
    provider: 'authkit', redirectUri: REDIRECT,
  });
  const u = new URL(url);
  assert.equal(u.searchParams.get('code_challenge_method'), 'S256');
  const back = await signIn(url, 'grace@example.com');
  assert.equal(back.searchParams.get('state'), state);
  const r = await workos.userManagement.authenticateWithCode({
    code: back.searchParams.get('code'), codeVerifier,
  });
  assert.equal(r.user.email, 'grace@example.com');
  assert.equal(r.organizationId, ACME);
  assert.equal(jwtPart(r.accessToken, 1).role, 'member');
});

await check('PKCE with a wrong verifier is invalid_grant', async () => {
  const pkce = await workos.pkce.generate();
  const code = await codeFor(workos, 'grace@example.com', {
    codeChallenge: pkce.codeChallenge, codeChallengeMethod: 'S256',
  });
  const other = await workos.pkce.generate();
  await rejects(workos.userManagement.authenticateWithCode({
    code, codeVerifier: other.codeVerifier,
  }), (e) => assert.equal(e.error, 'invalid_grant'));
});

await check('PKCE public client (no API key) signs in and refreshes', async () => {
  const pub = new WorkOS({
    clientId: CLIENT_ID, apiHostname: BASE_URL.hostname, port: Number(BASE_URL.port), https: false,
  });
  const { url, codeVerifier } = await pub.userManagement.getAuthorizationUrlWithPKCE({
    provider: 'authkit', redirectUri: REDIRECT,
  });
  const back = await signIn(url, 'ada@example.com');
  const r = await pub.userManagement.authenticateWithCodeAndVerifier({
    code: back.searchParams.get('code'), codeVerifier,
  });
  assert.equal(r.user.email, 'ada@example.com');
  const again = await pub.userManagement.authenticateWithRefreshToken({
    refreshToken: r.refreshToken,
  });
  assert.equal(jwtPart(again.accessToken, 1).sid, jwtPart(r.accessToken, 1).sid);
});

await check('organization_id in the authorize URL picks that membership', async () => {
  const code = await codeFor(workos, 'grace@example.com', {
    organizationId: GLOBEX, provider: undefined,
  });
  const r = await workos.userManagement.authenticateWithCode({ code });
  const claims = jwtPart(r.accessToken, 1);
  assert.equal(claims.org_id, GLOBEX);
  assert.equal(claims.role, 'admin');
  assert.deepEqual(claims.roles, ['admin', 'billing']);
});

await check('impersonated sessions carry the impersonator', async () => {
  const r = await sealedFor(workos, 'impersonated@example.com');
  const a = await load(workos, r.sealedSession).authenticate();
  assert.equal(a.authenticated, true, a.reason);
  assert.deepEqual(a.impersonator, { email: 'support@example.com', reason: 'ticket 42' });
  assert.deepEqual(jwtPart(a.accessToken, 1).act, { sub: 'support@example.com' });
});

await check('a user without an organization has no org claims', async () => {
  const r = await sealedFor(workos, 'solo@example.com');
  const a = await load(workos, r.sealedSession).authenticate();
  assert.equal(a.authenticated, true, a.reason);
  assert.equal(a.organizationId, undefined);
  assert.equal(a.role, undefined);
  const refreshed = await load(workos, r.sealedSession).refresh();
  assert.equal(refreshed.authenticated, true, refreshed.reason);
});

await check('a 400-permission session round-trips', async () => {
  const r = await sealedFor(workos, 'many@example.com');
  assert.ok(r.sealedSession.length > 8192, `sealed length ${r.sealedSession.length}`);
  const a = await load(workos, r.sealedSession).authenticate();
  assert.equal(a.authenticated, true, a.reason);
  assert.equal(a.permissions.length, 400);
  assert.equal(new Set(a.permissions).size, 400);
  return `sealed session is ${r.sealedSession.length} bytes`;
});

await check('a minted expired session is invalid_jwt until refreshed', async () => {
  const body = await ctl('POST', 'session', { email: 'ada@example.com', expired: true });
  const sealed = await sealBody(workos, body);
  const claims = jwtPart(body.access_token, 1);
  assert.ok(claims.exp < Date.now() / 1000 && claims.iat < claims.exp);
  assert.deepEqual(await load(workos, sealed).authenticate(),
    { authenticated: false, reason: 'invalid_jwt' });
  const r = await load(workos, sealed).refresh();
  assert.equal(r.authenticated, true, r.reason);
  const a = await load(workos, r.sealedSession).authenticate();
  assert.equal(a.authenticated, true, a.reason);
  assert.equal(a.sessionId, claims.sid);
});

await check('getLogoutUrl() and logout revoke the session', async () => {
  const returnTo = 'http://127.0.0.1:9/signed-out';
  const url = new URL(await load(workos, st.ada).getLogoutUrl({ returnTo }));
  assert.equal(url.origin + url.pathname, `${BASE}/user_management/sessions/logout`);
  assert.equal(url.searchParams.get('session_id'), st.adaSid);
  const res = await fetch(url, { redirect: 'manual' });
  assert.equal(res.status, 302);
  assert.equal(res.headers.get('location'), returnTo);
  assert.deepEqual(await load(workos, st.ada).refresh(),
    { authenticated: false, reason: 'invalid_grant', retryable: false });
  await rejects(workos.userManagement.authenticateWithRefreshToken({ refreshToken: st.adaRefresh }),
    (e) => assert.equal(e.error, 'invalid_grant'));
});

await check('key rotation: JWKS serves new and previous, then only new', async () => {
  const sealed = (await sealedFor(workos, 'grace@example.com')).sealedSession;
  const oldKid = jwtPart((await unseal(workos, sealed)).accessToken, 0).kid;
  const { kid } = await ctl('POST', 'rotate', {});
  assert.notEqual(kid, oldKid);
  const a = await load(sdk(), sealed).authenticate();
  assert.equal(a.authenticated, true, `old-key token after rotate: ${a.reason}`);
  const r = await load(sdk(), sealed).refresh();
  assert.equal(jwtPart(r.session.accessToken, 0).kid, kid);
  const { kid: third } = await ctl('POST', 'rotate', { drop_previous: true });
  // 11.x throws jose's error; 12.x answers invalid_jwt (it counts a missing key
  // as the token's fault, verifyAccessToken).
  assert.ok(['ERR_JWKS_NO_MATCHING_KEY', 'invalid_jwt'].includes(
    await refused(load(sdk(), r.sealedSession), 'dropped key')));
  const again = await load(sdk(), r.sealedSession).refresh();
  assert.equal(jwtPart(again.session.accessToken, 0).kid, third);
  const b = await load(sdk(), again.sealedSession).authenticate();
  assert.equal(b.authenticated, true, b.reason);
});

await check('tokens from /__emulator/sign: current verifies, forgeries do not', async () => {
  const { current_kid: kid } = await ctl('GET', 'keys');
  const signed = async (spec) => (
    await ctl('POST', 'sign', { user: 'ada@example.com', ...spec })).token;
  const good = await signed({ key: 'current', claims: { role: 'superuser' } });
  const a = await load(sdk(), await sealToken(workos, good)).authenticate();
  assert.equal(a.authenticated, true, a.reason);
  assert.equal(a.role, 'superuser');
  const forgeries = {
    rogue: { key: 'rogue' },
    'rogue with the real kid': { key: 'rogue', header: { kid } },
    none: { key: 'none' },
    'hs256 with the kid': { key: 'hs256:secret' },
    'expired': { key: 'current', claims: { exp: 1000, iat: 900 } },
  };
  const outcomes = [];
  for (const [what, spec] of Object.entries(forgeries)) {
    const sealed = await sealToken(workos, await signed(spec));
    outcomes.push(`${what}: ${await refused(load(sdk(), sealed), what)}`);
  }
  return outcomes.join(', ');
});

await check('JWKS faults make verification fail closed', async () => {
  const sealed = (await sealedFor(workos, 'grace@example.com')).sealedSession;
  await ctl('POST', 'fault', { endpoint: 'jwks', status: 503, count: 1 });
  await rejects(load(sdk(), sealed).authenticate(), (e) => assert.match(String(e), /200 OK/));
  const a = await load(sdk(), sealed).authenticate();  // the fault was used up
  assert.equal(a.authenticated, true, a.reason);
});

await check('refresh faults map to the SDK failure reasons', async () => {
  const noRetry = sdk({ maxRetries: 0 });
  const sealed = (await sealedFor(noRetry, 'grace@example.com')).sealedSession;
  const cases = [
    [{ status: 503 }, { reason: 'server_error', retryable: true }],
    [{ status: 429, retry_after: 7 },
      { reason: 'rate_limit_exceeded', retryable: true, retryAfter: 7 }],
    [{ status: 408 }, { reason: 'timeout', retryable: true }],
    [{ drop: true }, { reason: 'network_error', retryable: true }],
    [{ error: 'invalid_grant' }, { reason: 'invalid_grant', retryable: false }],
    [{ error: 'mfa_enrollment' }, { reason: 'mfa_enrollment', retryable: false }],
    [{ error: 'sso_required' }, { reason: 'sso_required', retryable: false }],
  ];
  for (const [fault, want] of cases) {
    await ctl('POST', 'fault', { endpoint: 'refresh', count: 1, ...fault });
    const r = await load(noRetry, sealed).refresh();
    for (const [k, v] of Object.entries(want)) {
      assert.equal(r[k], v, `${JSON.stringify(fault)}: ${k}`);
    }
    assert.equal(r.authenticated, false);
  }
  const r = await load(noRetry, sealed).refresh();  // faulted calls did not spend the token
  assert.equal(r.authenticated, true, r.reason);
});

await check('the SDK retries a 503 and then succeeds', async () => {
  const sealed = (await sealedFor(workos, 'grace@example.com')).sealedSession;
  await ctl('POST', 'fault', { endpoint: 'authenticate', status: 503, retry_after: 0, count: 1 });
  const r = await load(workos, sealed).refresh();
  assert.equal(r.authenticated, true, r.reason);
});

await check('grace window replays the same rotated pair', async () => {
  await ctl('POST', 'config', { grace: 30 });
  const sealed = (await sealedFor(workos, 'ada@example.com')).sealedSession;
  const first = await load(workos, sealed).refresh();
  const second = await load(workos, sealed).refresh();
  assert.equal(first.authenticated && second.authenticated, true);
  const a = await unseal(workos, first.sealedSession);
  const b = await unseal(workos, second.sealedSession);
  assert.equal(b.refreshToken, a.refreshToken);
  assert.equal(b.accessToken, a.accessToken);
  await ctl('POST', 'config', { grace: 0 });
  const third = await load(workos, sealed).refresh();
  assert.equal(third.reason, 'invalid_grant');
});

await realFetch(`${BASE}/__emulator/fault`, { method: 'DELETE' });

const failed = results.filter((r) => !r.ok).length;
console.log(`RESULT ${JSON.stringify({
  passed: results.length - failed, failed, checks: results, observed,
})}`);
process.exit(failed === 0 ? 0 : 1);
