/**
 * @file wos_jwt.h
 * @brief RS256 access tokens: verification and the claims the module uses.
 */
#ifndef WOS_JWT_H
#define WOS_JWT_H

#include "wos_common.h"
#include "wos_jwks.h"

/** Largest token accepted (bytes), checked before any decoding. */
#define WOS_JWT_MAX_SIZE (16 * 1024)

typedef struct wos_claims {
    const char *sub, *sid, *org_id, *role, *iss, *jti;
    const char *act_sub;                 /**< act.sub: impersonator, or NULL */
    apr_array_header_t *roles;           /**< const char *, never NULL */
    apr_array_header_t *permissions;     /**< const char *, never NULL */
    apr_array_header_t *entitlements;    /**< const char *, never NULL */
    apr_array_header_t *feature_flags;   /**< const char *, never NULL */
    apr_int64_t exp, iat, nbf;           /**< whole seconds (floored); 0 = absent (iat, nbf) */
    const char *payload;                 /**< the verified payload's JSON (custom claims) */
} wos_claims;

typedef struct wos_jwt_opts {
    int skew_sec;                        /**< clock skew for exp/nbf/iat (default 60) */
    const apr_array_header_t *issuers;   /**< const char *; NULL/empty = no iss check */
    int ignore_expiry;                   /**< verify the signature but accept an expired token */
} wos_jwt_opts;

/**
 * Verify @p token (RS256 only; kid chosen by exact string match in @p keys)
 * and its time claims against @p now. Rejects alg other than RS256 (none,
 * HS*, ES*, PS*, missing), any crit/jku/x5u/jwk/x5c header, segment counts
 * other than three, a missing or non-numeric exp, non-finite or out-of-range
 * NumericDates. Returns WOS_EEXPIRED with *out filled when only the expiry
 * failed (the signature verified), WOS_ENOKEY for an unknown kid (the caller
 * may refetch the JWKS), WOS_ENOTYET for nbf/iat in the future.
 *
 * Result codes in full: WOS_ETOOBIG over WOS_JWT_MAX_SIZE; WOS_EINVAL for
 * structure, encoding, JSON (duplicates, depth), a missing or non-string
 * kid, and any used claim of the wrong type; WOS_EDENIED for the alg and
 * header policy and an issuer not in opts->issuers; WOS_ENOKEY for a kid not
 * in @p keys (or @p keys NULL); WOS_EMAC when the signature does not verify
 * (including a length other than the modulus size); WOS_ECRYPTO only when
 * OpenSSL cannot set up the check. Issuer, nbf and iat are checked before
 * exp, so WOS_EEXPIRED means everything else passed. The payload is parsed
 * only after the signature verified. JSON null counts as absent for the
 * optional claims (sid, org_id, role, iss, jti, act, the arrays, nbf, iat).
 * `typ`, `aud` and unknown claims are not interpreted. @p opts NULL means a
 * skew of 60 s and no issuer check; a negative skew counts as 0. *out is
 * NULL unless the result is WOS_OK or WOS_EEXPIRED; *err never contains
 * bytes of the token.
 */
wos_rv wos_jwt_verify(apr_pool_t *p, const char *token, const wos_jwks *keys,
                      const wos_jwt_opts *opts, apr_int64_t now,
                      wos_claims **out, const char **err);

/**
 * The kid of @p token's header without verifying anything (NULL if the
 * token is oversized, malformed, or has no non-empty string kid).
 */
const char *wos_jwt_peek_kid(apr_pool_t *p, const char *token);

#endif
