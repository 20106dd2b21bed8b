/**
 * @file wos_bearer.h
 * @brief Authorization: Bearer <WorkOS access token>, for APIs, SPAs, CLIs.
 *
 * The token alone authenticates: RS256 against the same JWKS as sessions,
 * exp/nbf/iat with the clock skew, and the issuer, which must be configured
 * (WorkOS access tokens carry no aud: the issuer is what ties a token to one
 * environment). Nothing is refreshed and no cookie is involved. Verified
 * tokens are remembered per process (wos_vcache) until they expire.
 */
#ifndef WOS_BEARER_H
#define WOS_BEARER_H

#include "wos_authn.h"

/**
 * The token of an Authorization header value: "Bearer" (any case), one or
 * more spaces, then the rest. WOS_OK with *token; WOS_ENOKEY when the
 * scheme is not Bearer (Basic, ...); WOS_EINVAL for a Bearer header with no
 * token. Its characters are wos_bearer_check's to judge (on a cache miss
 * only: the hot path does not scan the token).
 */
wos_rv wos_bearer_parse(const char *authorization, const char **token);

/**
 * Verify @p token with @p in's keystore, keys, jwt options (their issuers
 * required: none configured is WOS_AUTHN_INVALID, never an open door) and
 * verified-token cache. Outcomes: WOS_AUTHN_OK (out->session is made from
 * the claims: user_id = sub, access_token = the token, organization_id,
 * user_email when an "email" string claim carries one; out->claims),
 * WOS_AUTHN_INVALID (bad, expired or foreign token: out->reason says which;
 * out->error "invalid_request" for characters outside RFC 6750's b64token),
 * WOS_AUTHN_NOKEYS (no usable signing key: our problem, not the token's).
 * @p in->cookie is ignored.
 */
void wos_bearer_check(apr_pool_t *p, const wos_authn_in *in, const char *token,
                      wos_authn_out *out);

#endif
