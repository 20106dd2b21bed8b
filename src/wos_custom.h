/**
 * @file wos_custom.h
 * @brief Custom token claims (WorkOS JWT templates: "urn:myapp:plan", tiers)
 *        handed on as WORKOS_CLAIM_<NAME> / X-WorkOS-Claim-<Name> and
 *        compared by `Require workos-claim`.
 *
 * Values: strings as they are, integers and reals as JSON writes them,
 * booleans as "true"/"false", arrays of those comma-joined. Objects, null,
 * and arrays holding anything else are not passed (the caller logs which).
 */
#ifndef WOS_CUSTOM_H
#define WOS_CUSTOM_H

#include "wos_claims.h"

/** Longest claim name accepted. */
#define WOS_CUSTOM_NAME_MAX 128

/** One claim to pass, with its names made once at start-up. */
typedef struct wos_custom_claim {
    const char *claim;     /**< as in the token, e.g. "urn:myapp:plan" */
    const char *env;       /**< "WORKOS_CLAIM_URN_MYAPP_PLAN" */
    const char *header;    /**< "X-WorkOS-Claim-Urn-Myapp-Plan" */
} wos_custom_claim;

/**
 * Names for @p claim: the variable is WORKOS_CLAIM_ and the claim
 * upper-cased with every character outside A-Z0-9 as '_'; the header is
 * X-WorkOS-Claim- and the same words capitalised, joined with '-'.
 * WOS_EINVAL (with *err) for an empty name, one over WOS_CUSTOM_NAME_MAX,
 * or one with control characters or spaces.
 */
wos_rv wos_custom_claim_make(apr_pool_t *p, const char *claim, wos_custom_claim *out,
                             const char **err);

/**
 * The value of @p claim in the verified payload @p payload (JSON text) as it
 * is passed on: WOS_OK with *value; WOS_ENOKEY when absent or null;
 * WOS_EINVAL when it has a type that is not passed (object, nested array).
 * For arrays *items (may be NULL) receives the elements, else the one value.
 */
wos_rv wos_custom_value(apr_pool_t *p, const char *payload, const char *claim,
                        const char **value, apr_array_header_t **items);

/**
 * wos_identity_var entries (variable, header, sanitised value) for each of
 * @p claims (wos_custom_claim) present in @p payload; names of claims that
 * are present with a type that is not passed go to @p skipped (const char *).
 */
apr_array_header_t *wos_custom_vars(apr_pool_t *p, const char *payload,
                                    const apr_array_header_t *claims,
                                    apr_array_header_t *skipped);

/**
 * 1 when @p claim equals one of @p values (const char *), or, for an array
 * claim, holds one of them; compared as wos_custom_value formats them.
 */
int wos_custom_match(apr_pool_t *p, const char *payload, const char *claim,
                     const apr_array_header_t *values);

#endif
