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
 * and anything over WOS_REDIRECT_MAX_LEN. On success *out is the target to
 * put in Location (the path, query and fragment unchanged for a relative
 * path). WOS_EDENIED on rejection.
 */
wos_rv wos_redirect_validate(apr_pool_t *p, const char *target,
                             const apr_array_header_t *allowed_origins,
                             const char **out);

#endif
