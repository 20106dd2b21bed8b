/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_claims.h
 * @brief The identity the module hands on: environment variables for CGI/PHP
 *        and headers for proxied backends, and the names it must scrub.
 */
#ifndef WOS_CLAIMS_H
#define WOS_CLAIMS_H

#include "wos_common.h"
#include "wos_jwt.h"
#include "wos_session.h"

/** One piece of identity: its variable name, its header name and value. */
typedef struct wos_identity_var {
    const char *env;       /**< e.g. "WORKOS_USER_ID" */
    const char *header;    /**< e.g. "X-WorkOS-User-Id" */
    const char *value;     /**< sanitised: no control characters; never NULL; may be
                                the session's own string (no copy when already clean) */
} wos_identity_var;

/**
 * The identity of an authenticated session, in a fixed order: WORKOS_USER_ID,
 * _USER_EMAIL, _USER_FIRST_NAME, _USER_LAST_NAME, _USER_EMAIL_VERIFIED
 * ("true"/"false"), _ORGANIZATION_ID, _ROLE, _ROLES, _PERMISSIONS,
 * _ENTITLEMENTS, _FEATURE_FLAGS (lists comma-separated), _SESSION_ID,
 * _AUTHENTICATION_METHOD, _IMPERSONATOR_EMAIL, _IMPERSONATOR_REASON,
 * _ACCESS_TOKEN_EXPIRES (seconds since the epoch), and WORKOS_ACCESS_TOKEN
 * when @p with_token. Values that are absent or empty (an empty list too) are
 * left out. User fields, authentication method and impersonator come from
 * the session; the organization from the token's org_id, else the session's;
 * the impersonator's email falls back to the token's act.sub. Header names
 * are the variable names without WORKOS_, words capitalised, joined with '-',
 * after "X-WorkOS-". Either @p s or @p c may be NULL.
 */
apr_array_header_t *wos_identity_vars(apr_pool_t *p, const wos_session *s,
                                      const wos_claims *c, int with_token);

/** Append WORKOS_ACCESS_TOKEN (when @p s has a token): what @p with_token adds. */
void wos_identity_add_token(apr_pool_t *p, apr_array_header_t *vars, const wos_session *s);

/**
 * 1 if an incoming request header named @p name must be removed before the
 * module sets identity: it equals, case-insensitively and with '-' and '_'
 * treated alike, any header the module sets: anything starting with
 * X-WorkOS- (or exactly X-WorkOS), anything starting with WORKOS_, or
 * REMOTE_USER / AUTH_TYPE. Authorization is not reserved here.
 */
int wos_header_is_reserved(const char *name);

/** Replace CR, LF and other C0 control characters and DEL with a space (NULL: ""). */
char *wos_sanitize_value(apr_pool_t *p, const char *v);

#endif
