/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_signin.h
 * @brief A sign-in in flight: the state that crosses the round trip to WorkOS.
 *
 * Starting a sign-in makes a random state and PKCE verifier and remembers
 * them, with the page to return to, in a short-lived sealed cookie named
 * after the state (so several tabs can sign in at once). The callback opens
 * the cookie its state names; a state is good once. A browser holds at most
 * WOS_SIGNIN_MAX_COOKIES of them: a new sign-in drops the oldest.
 */
#ifndef WOS_SIGNIN_H
#define WOS_SIGNIN_H

#include "wos_common.h"
#include "wos_cookie.h"

/**
 * State cookies are named this prefix and 16 hex digits of the state's hash;
 * not authkit-nextjs' wos-auth-verifier-, since each app bounds only its own.
 */
#define WOS_SIGNIN_COOKIE_PREFIX "wos-mod-state-"
/** Seconds a sign-in may take (the cookie's Max-Age and the seal's expiry). */
#define WOS_SIGNIN_TTL 600
/** Sign-ins in flight (tabs) per browser. */
#define WOS_SIGNIN_MAX_COOKIES 5
/** Largest state cookie value read back. */
#define WOS_SIGNIN_MAX_COOKIE 8192

/** What the state cookie carries (the JSON members of the Node SDK's state). */
typedef struct wos_signin {
    const char *state;          /**< "state": random, sent to WorkOS and back */
    const char *code_verifier;  /**< "codeVerifier": the PKCE secret */
    const char *return_path;    /**< "returnPathname": where to go once signed in */
} wos_signin;

/** A new sign-in returning to @p return_path: fresh random state and verifier. */
wos_rv wos_signin_make(apr_pool_t *p, const char *return_path, wos_signin *out);

/** The state cookie's name for @p state (not secret: a hash). */
const char *wos_signin_cookie_name(apr_pool_t *p, const char *state);

/**
 * The state cookie's attributes, from the session cookie's @p base: Path=/
 * (every sign-in start must see the ones in flight to bound them),
 * SameSite=Lax (it must survive the top-level redirect back from WorkOS),
 * Max-Age WOS_SIGNIN_TTL.
 */
void wos_signin_cookie_attrs(const wos_cookie_attrs *base, wos_cookie_attrs *out);

/** @p s sealed with @p password, expiring WOS_SIGNIN_TTL after @p now_ms. */
wos_rv wos_signin_seal(apr_pool_t *p, const wos_signin *s, const char *password,
                       apr_int64_t now_ms, const char **sealed);

/**
 * Open the state cookie @p sealed for @p state: unsealed with any of
 * @p passwords, not expired, every member present, and its state equal to
 * @p state (compared in constant time). WOS_EDENIED when the states differ.
 */
wos_rv wos_signin_open(apr_pool_t *p, const char *sealed, const char *state,
                       const apr_array_header_t *passwords, apr_int64_t now_ms,
                       wos_signin *out, const char **err);

/**
 * Names (const char *) of the state cookies in @p cookie_header to delete
 * before one more is set, oldest (first sent) first: all but the newest
 * WOS_SIGNIN_MAX_COOKIES - 1, and never more than 4 * WOS_SIGNIN_MAX_COOKIES
 * (a flood of cookies is not answered with a flood of deletions).
 */
apr_array_header_t *wos_signin_excess(apr_pool_t *p, const char *cookie_header);

/** The shared-cache key that marks @p state used (a hash: states are secrets). */
const char *wos_signin_used_key(apr_pool_t *p, const char *state);

#endif
