/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_authn.h
 * @brief From a session cookie to an identity: unseal, verify, refresh.
 *
 * The request path's decision, without httpd: the glue reads the cookie,
 * calls wos_authn_check, and turns the outcome into an HTTP answer.
 */
#ifndef WOS_AUTHN_H
#define WOS_AUTHN_H

#include "wos_format.h"
#include "wos_jwt.h"
#include "wos_keys.h"
#include "wos_refresh.h"
#include "wos_scache.h"
#include "wos_session.h"
#include "wos_vcache.h"

typedef enum {
    WOS_AUTHN_OK,        /**< identity established (maybe after a refresh) */
    WOS_AUTHN_NONE,      /**< no session cookie */
    WOS_AUTHN_INVALID,   /**< a cookie that is not a usable session: clear it */
    WOS_AUTHN_ENDED,     /**< refresh failed for good: clear it, sign in again */
    WOS_AUTHN_RETRY,     /**< WorkOS unreachable for a needed refresh: 503, keep it */
    WOS_AUTHN_NOKEYS     /**< no usable signing key: 503 */
} wos_authn_outcome;

typedef struct wos_authn_in {
    const char *cookie;                    /**< the (assembled) cookie value, or NULL */
    apr_size_t cookie_len;                 /**< strlen(cookie), or 0: not known */
    const apr_array_header_t *passwords;   /**< const char *; the first seals */
    wos_format format;                     /**< the cookie's format (WorkOSSessionFormat) */
    wos_keystore *keystore;
    wos_keys_ctx keys;
    wos_refresh_ctx refresh;
    wos_jwt_opts jwt;
    int refresh_before;                    /**< seconds before exp to refresh */
    int token_max_age;                     /**< refresh tokens older than this (by iat); 0 = off */
    int cookie_ttl;                        /**< seal expiry for new cookies, 0 = none */
    const char *switch_org;                /**< refresh into this organization (org switch) */
    int force_refresh;                     /**< refresh now, however fresh the token */
    wos_vcache *vcache;                    /**< verified sessions of this process, or NULL */
    wos_vcache_settings settings;          /**< what a cached verification holds for */
    wos_scache *scache;                    /**< verified sessions shared by all processes,
                                                or NULL: behind @p vcache */
    int need_token;                        /**< the caller passes on the access token */
    wos_vcache_memo *memo;                 /**< the connection's last key, or NULL */
    apr_pool_t *memo_pool;                 /**< where @p memo keeps its copy */
} wos_authn_in;

/** Why a refresh failed (what the status page counts). */
typedef enum {
    WOS_REFRESH_NOT_FAILED = 0,     /**< no refresh, or one that worked */
    WOS_REFRESH_FAILED_GRANT,       /**< WorkOS: invalid_grant */
    WOS_REFRESH_FAILED_REJECTED,    /**< WorkOS: another refusal */
    WOS_REFRESH_FAILED_UNAVAILABLE, /**< WorkOS unreachable, slow or 5xx/429 */
    WOS_REFRESH_FAILED_REFUSED      /**< WorkOS refused the module itself (401,
                                         invalid_client, a proxy's 4xx): never the
                                         session's fault, so it is kept (503) */
} wos_refresh_failure;

typedef struct wos_authn_out {
    wos_authn_outcome outcome;
    wos_session *session;
    wos_claims *claims;
    const apr_array_header_t *identity;  /**< cached wos_identity_vars() (no token), or NULL */
    const char *new_cookie;     /**< sealed value to set (after a refresh), else NULL */
    int refreshed;              /**< 1 when a refresh happened (shared or own) */
    int cached;                 /**< 1 when the verified-session cache answered */
    int shared;                 /**< 1 when that was the shared one (no local entry) */
    int upstream_called;        /**< 1 when this request called WorkOS to refresh */
    wos_refresh_failure refresh_failed;
    int limited;                /**< 1 when the refresh gate refused the call (429) */
    int keys_fetched;           /**< 1 when this request fetched the JWKS */
    long retry_after;           /**< for WOS_AUTHN_RETRY */
    const char *error;          /**< WorkOS error code for WOS_AUTHN_ENDED, or of a
                                     refusal of the module (WOS_REFRESH_FAILED_REFUSED) */
    int report_due;             /**< with WOS_REFRESH_FAILED_REFUSED: this request is the
                                     one per WOS_REFRESH_REPORT_INTERVAL to log it loudly */
    int interaction;            /**< ENDED of an organization switch that needs the
                                     user at AuthKit first (sso_required, mfa_enrollment);
                                     the session itself stays */
    const char *redirect_url;   /**< with @c interaction: WorkOS's authkit_redirect_url,
                                     or NULL (sign in with the organization) */
    const char *reason;         /**< for the log: why (never secret) */
    apr_int64_t presented_iat;  /**< iat of the token the cookie held, before any refresh */
} wos_authn_out;

/**
 * Decide. Never fails open, and never ends a session for a reason that is
 * not the session's:
 * - a cookie that does not unseal (not ours) is INVALID;
 * - a token inside a valid seal that does not verify (unknown kid after a
 *   throttled JWKS refetch, bad signature, wrong claims, expired) is
 *   refreshed: WorkOS decides. ENDED only when WorkOS says the session is
 *   over (wos_api_refusal WOS_REFUSAL_SESSION/INTERACTION); RETRY (keep the
 *   cookie) when WorkOS is unavailable, refuses the module itself, or the
 *   refreshed token cannot be verified yet;
 * - a proactive refresh (inside refresh_before) that fails in any way serves
 *   the still-valid token and keeps the cookie;
 * - every refresh sends the token's org_id (or switch_org) as WorkOS's
 *   organization_id.
 */
void wos_authn_check(apr_pool_t *p, const wos_authn_in *in, wos_authn_out *out);

/**
 * wos_authn_check's first step alone: this process's cached verification of
 * exactly @p in->cookie under @p in->settings. It reads only cookie,
 * cookie_len, vcache, settings, need_token, switch_org and force_refresh, so
 * that a caller can ask before preparing the rest. 1: a hit, @p out is
 * WOS_AUTHN_OK (cached); 0: ask wos_authn_after_recall.
 */
int wos_authn_recall(apr_pool_t *p, const wos_authn_in *in, wos_authn_out *out);

/** wos_authn_check without that first step: for a caller whose wos_authn_recall missed. */
void wos_authn_after_recall(apr_pool_t *p, const wos_authn_in *in, wos_authn_out *out);

/**
 * Unseal and parse a cookie, and read the access token's claims WITHOUT
 * verifying the token (logout must work after expiry, after a key rotation
 * and while the JWKS is unreachable; the seal's MAC makes the cookie ours).
 * WOS_OK with *claims NULL when the token cannot be read at all.
 */
wos_rv wos_authn_peek(apr_pool_t *p, const wos_authn_in *in, wos_session **session,
                      wos_claims **claims, const char **err);

#endif
