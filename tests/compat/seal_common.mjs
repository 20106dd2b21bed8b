// SPDX-License-Identifier: Apache-2.0
// seal_common.mjs: what the seal vector maker and the seal round trips share:
// the fixed test passwords, the two SDKs' seal/unseal entry points, and
// payloads in the shape the WorkOS Node SDK seals.
import { sealData as ironSeal, unsealData as ironUnseal } from 'iron-session';
// The Node SDK under test: @workos-inc/node (12.x), or the package WOS_NODE_SDK
// names (workos-node-11: 11.x, an npm alias in package.json).
const { WorkOS } = await import(process.env.WOS_NODE_SDK || '@workos-inc/node');

// Test-only passwords (not secrets). Both are at least 32 characters, as iron requires.
export const PASSWORD = 'mod_auth_workos-test-password-0123456789';
export const OLD_PASSWORD = 'mod_auth_workos-old-password-9876543210abc';

// A WorkOS client that never reaches the network: sealing and unsealing are local.
export function workosClient(options = {}) {
  return new WorkOS('sk_test_compat_not_a_key', { clientId: 'client_01COMPATTEST', ...options });
}

// iron-session: ttl in seconds; 0 writes no expiry, undefined means iron-session's
// default (14 days). Unseal returns {} on any failure.
export const iron = {
  seal: (data, password, ttl) => ironSeal(data, { password, ttl }),
  unseal: (seal, password, ttl) => ironUnseal(seal, { password, ttl }),
};

// The WorkOS SDK's own path: sealSessionDataFromAuthenticationResponse seals
// {organizationId (from the token), user, accessToken, refreshToken,
// authenticationMethod, impersonator}; getSessionFromCookie unseals.
export const sdk = {
  sealAuth: (workos, authenticationResponse, cookiePassword) =>
    workos.userManagement.sealSessionDataFromAuthenticationResponse(
      { authenticationResponse, cookiePassword }),
  unseal: (workos, sessionData, cookiePassword) =>
    workos.userManagement.getSessionFromCookie({ sessionData, cookiePassword }),
};

export const b64url = (buf) => Buffer.from(buf).toString('base64url');

// An RS256-shaped JWT with a fake signature: enough for the SDK's decodeJwt.
export function fakeJwt(claims) {
  const header = { alg: 'RS256', kid: 'sso_oidc_key_pair_01COMPATTEST', typ: 'JWT' };
  return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}.c2lnbmF0dXJl`;
}

// The camelCase user the SDK keeps after deserialising an authenticate answer.
export function sdkUser(id, extra = {}) {
  return {
    object: 'user', id, email: 'ada@example.com', emailVerified: true, name: null,
    firstName: 'Ada', lastName: 'Lovelace', profilePictureUrl: null,
    lastSignInAt: '2025-01-02T03:04:05.678Z', createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2025-01-02T03:04:05.678Z', externalId: null, metadata: {}, ...extra,
  };
}

// What authenticate() resolves to in the SDK (camelCase), for sealAuth.
export function authResponse({ userId = 'user_01ADA', orgId, impersonator, user = {},
                               method = 'Password', claims = {} } = {}) {
  const tokenClaims = { iss: 'https://api.workos.com', sub: userId, sid: 'session_01COMPAT',
                        jti: '01JTI', role: 'member', permissions: [], iat: 1700000000,
                        exp: 1700000300, ...claims };
  if (orgId) tokenClaims.org_id = orgId;
  const r = { user: sdkUser(userId, user), accessToken: fakeJwt(tokenClaims),
              refreshToken: 'refresh_01COMPATTESTTOKEN', authenticationMethod: method };
  if (orgId) r.organizationId = orgId;
  if (impersonator) r.impersonator = impersonator;
  return r;
}

// The object the SDK seals for an authenticate answer, built independently of
// the SDK (key order as in sealSessionDataFromAuthenticationResponse).
export function expectedSdkSession(r) {
  return JSON.parse(JSON.stringify({
    organizationId: r.organizationId, user: r.user, accessToken: r.accessToken,
    refreshToken: r.refreshToken, authenticationMethod: r.authenticationMethod,
    impersonator: r.impersonator,
  }));
}
