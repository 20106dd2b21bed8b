/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_redirect.h
 * @brief Validation of redirect targets (return_to), against open redirects.
 */
#ifndef WOS_REDIRECT_H
#define WOS_REDIRECT_H

#include "wos_common.h"

/** Longest target accepted. */
#define WOS_REDIRECT_MAX_LEN 2048

/**
 * Accept @p target when it is a same-origin relative path ("/..."), or an
 * absolute http(s) URL whose origin ("scheme://host[:port]", compared
 * case-insensitively on scheme and host, default ports normalised) is in
 * @p allowed_origins (const char *, may be NULL). Rejects "//", "/\\",
 * backslashes anywhere, encoded slashes/backslashes/controls that decode to a
 * scheme-relative or off-site target (%2F, %5C, %09, ...), control
 * characters, CR/LF/NUL, userinfo, any other scheme (javascript:, data:, ...),
 * and anything over WOS_REDIRECT_MAX_LEN. Also refused, by policy: empty
 * and dot path segments ("/a//b", "/./", "/..;/"), which a normaliser could
 * fold into "//"; raw non-ASCII (send it percent-encoded); after one
 * decoding, double encoding in the path and Unicode look-alikes of '/', '\',
 * '.' or spaces; a target that is only "?..." or "#...". The policy is
 * spelled out in wos_redirect.c, the cases in tests/vectors/redirect.
 * On success *out is @p target itself, unchanged (no normalisation), to put
 * in Location; on rejection *out is NULL and WOS_EDENIED is returned.
 */
wos_rv wos_redirect_validate(apr_pool_t *p, const char *target,
                             const apr_array_header_t *allowed_origins,
                             const char **out);

#endif
