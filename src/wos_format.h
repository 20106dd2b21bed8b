/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_format.h
 * @brief The session cookie's format: the WorkOS SDK whose cookie the module
 *        reads and writes in a scope (WorkOSSessionFormat).
 *
 * One table maps each format to its seal, its payload shape and its password
 * rule; callers say which format, never how. The module's own sign-in state
 * is always sealed with iron (wos_seal.h), whatever the format.
 */
#ifndef WOS_FORMAT_H
#define WOS_FORMAT_H

#include "wos_session.h"

typedef enum {
    WOS_FORMAT_NODE = 0,   /**< iron Fe26.2, camelCase (Node SDK, authkit-nextjs) */
    WOS_FORMAT_RUBY,       /**< AES-256-GCM, snake_case (workos-ruby 7.1.1+) */
    WOS_FORMAT_PYTHON,     /**< Fernet, snake_case (workos-python 5.33+) */
    WOS_FORMAT_COUNT
} wos_format;

/** The format called @p name ("node", "ruby", "python"; any case), else WOS_EINVAL. */
wos_rv wos_format_by_name(const char *name, wos_format *out);

/** The format's name as the directive spells it. */
const char *wos_format_name(wos_format f);

/**
 * NULL when the format's SDK accepts @p password; otherwise a sentence for
 * the operator saying what it accepts.
 */
const char *wos_format_password_rule(wos_format f, const char *password);

/**
 * The cookie value of @p s in format @p f, sealed with @p password. @p ttl_sec
 * is the seal's own expiry, which only the node format carries (0: none).
 */
wos_rv wos_format_seal(apr_pool_t *p, wos_format f, const char *password,
                       const wos_session *s, apr_int64_t ttl_sec, const char **out);

/**
 * Open a cookie of format @p f with any of @p passwords and parse its
 * payload. WOS_ECRYPTO means the configuration (a password the format cannot
 * use), never the cookie; other errors are the cookie's. @p err: for the log.
 */
wos_rv wos_format_open(apr_pool_t *p, wos_format f, const char *cookie,
                       const apr_array_header_t *passwords, wos_session **s,
                       const char **err);

#endif
