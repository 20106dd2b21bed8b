// make.mjs: known-answer vectors for src/wos_session.c, made by the WorkOS
// Node SDK itself. Each case is a snake_case POST /user_management/authenticate
// answer (<case>.response.json, fed to the SDK through a stub fetch) and the
// JSON the SDK then sealed (<case>.session.json, read back from its own seal).
// The SDK's deserializeAuthenticationResponse, deserializeUser and
// sealSessionDataFromAuthenticationResponse do all the work; nothing here
// builds the expected shape by hand. test_session.c reads the files.
// Usage: /usr/bin/node tests/vectors/session/make.mjs [outdir]
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const sdkUrl = new URL('../../compat/node_modules/@workos-inc/node/lib/index.mjs', import.meta.url);
const { WorkOS } = await import(sdkUrl.href);
const outdir = process.argv[2] || here;

// Test-only password (not a secret); iron wants at least 32 characters.
const PASSWORD = 'session-vector-password-0123456789abcdef';

const b64url = (s) => Buffer.from(s).toString('base64url');
// Only the payload matters: the SDK decodes it (org_id) without verifying.
function jwt(claims) {
  const header = { alg: 'RS256', kid: 'sso_oidc_key_pair_01VECTOR', typ: 'JWT' };
  return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}.c2lnbmF0dXJl`;
}
function claims(sub, extra = {}) {
  return { iss: 'https://api.workos.com', sub, sid: 'session_01VECTOR', jti: '01JTI',
           iat: 1700000000, exp: 1700000300, ...extra };
}

const fullUser = {
  object: 'user', id: 'user_01ADA', email: 'ada@example.com', email_verified: true,
  first_name: 'Ada', last_name: 'Lovelace', profile_picture_url: 'https://img.example/ada.png',
  last_sign_in_at: '2025-01-02T03:04:05.678Z', created_at: '2024-01-01T00:00:00.000Z',
  updated_at: '2025-01-02T03:04:05.678Z', external_id: 'ext-42', metadata: { plan: 'pro', team: 'eng' },
  name: 'Ada Lovelace', locale: 'en-GB',
  // Keys the SDK does not map are dropped from the sealed user.
  unknown_future_field: 'dropped',
};

const cases = {
  // Everything present, keys in the API's order, plus keys the SDK drops.
  full: {
    user: fullUser, organization_id: 'org_01ACME',
    access_token: jwt(claims('user_01ADA', { org_id: 'org_01ACME', role: 'admin' })),
    refresh_token: 'refresh_01FULL', authentication_method: 'GoogleOAuth',
    impersonator: { email: 'admin@example.com', reason: 'support ticket 7' },
    oauth_tokens: { access_token: 'ya29', refresh_token: 'r', expires_at: 1, scopes: ['a'] },
    some_future_key: 1,
  },
  // Keys absent: name/externalId become null, metadata {}, others vanish.
  minimal: {
    user: { object: 'user', id: 'user_01MIN', email: 'min@example.com', email_verified: false,
            first_name: null, last_name: null, created_at: '2024-01-01T00:00:00.000Z',
            updated_at: '2024-01-01T00:00:00.000Z' },
    access_token: jwt(claims('user_01MIN')), refresh_token: 'refresh_01MIN',
    authentication_method: 'Password',
  },
  // JSON nulls: metadata null becomes {}, the others stay null.
  nulls: {
    user: { object: 'user', id: 'user_01NUL', email: 'nul@example.com', email_verified: true,
            first_name: 'Nul', last_name: null, profile_picture_url: null, last_sign_in_at: null,
            created_at: '2024-01-01T00:00:00.000Z', updated_at: '2024-01-01T00:00:00.000Z',
            external_id: null, metadata: null, name: null, locale: null },
    organization_id: null, access_token: jwt(claims('user_01NUL')),
    refresh_token: 'refresh_01NUL', authentication_method: 'MagicAuth',
    impersonator: { email: 'root@example.com', reason: null },
  },
  // The SDK takes organizationId from the token's org_id, not from the answer.
  org_from_token: {
    user: { ...fullUser, id: 'user_01ORG' }, organization_id: 'org_01ANSWER',
    access_token: jwt(claims('user_01ORG', { org_id: 'org_01TOKEN' })),
    refresh_token: 'refresh_01ORG', authentication_method: 'SSO',
  },
  // A token without org_id: no organizationId, whatever the answer says.
  org_absent_in_token: {
    user: { ...fullUser, id: 'user_01NOORG' }, organization_id: 'org_01ANSWER',
    access_token: jwt(claims('user_01NOORG')), refresh_token: 'refresh_01NOORG',
    authentication_method: 'Password',
  },
  // Text that needs escaping or is outside ASCII.
  unicode: {
    user: { ...fullUser, id: 'user_01UNI', first_name: 'Zoë "Z" Ångström',
            last_name: 'back\\slash/slash\ttab\nnl\u0001\u001f\u007f', name: '李小龍 🙂 \u2028',
            metadata: { 'ключ': 'значение', nested: { deep: ['a', 1, true, null] } } },
    organization_id: 'org_01UNI',
    access_token: jwt(claims('user_01UNI', { org_id: 'org_01UNI' })),
    refresh_token: 'refresh_01UNI', authentication_method: 'Password',
  },
};

async function sdkSession(response) {
  const fetchFn = async () => new Response(JSON.stringify(response),
    { status: 200, headers: { 'Content-Type': 'application/json' } });
  const workos = new WorkOS('sk_test_vector_not_a_key', { clientId: 'client_01VECTOR', fetchFn });
  const r = await workos.userManagement.authenticateWithCode({
    code: 'code_01VECTOR', session: { sealSession: true, cookiePassword: PASSWORD } });
  return workos.userManagement.getSessionFromCookie({ sessionData: r.sealedSession,
                                                      cookiePassword: PASSWORD });
}

mkdirSync(outdir, { recursive: true });
for (const [name, response] of Object.entries(cases)) {
  const session = await sdkSession(response);
  writeFileSync(join(outdir, `${name}.response.json`), JSON.stringify(response));
  writeFileSync(join(outdir, `${name}.session.json`), JSON.stringify(session));
  console.log(`${name}: ${JSON.stringify(session).length} bytes`);
}
