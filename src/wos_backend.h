/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_backend.h
 * @brief What the module hands a backend besides the identity: header values
 *        in an encoding the backend can read, and a Cookie header without the
 *        module's own cookies.
 */
#ifndef WOS_BACKEND_H
#define WOS_BACKEND_H

#include "wos_common.h"

/** How X-WorkOS-* header values are written (WorkOSHeaderEncoding). */
typedef enum {
    WOS_HDRENC_UTF8,        /**< as they are (UTF-8) */
    WOS_HDRENC_LATIN1,      /**< ISO-8859-1; a character outside it becomes '?' */
    WOS_HDRENC_BASE64URL    /**< free-text values base64url (no padding) of their UTF-8 */
} wos_hdrenc;

/**
 * 1 if the variable @p env ("WORKOS_USER_FIRST_NAME") is free text that
 * base64url encodes; 0 for values ASCII by construction (ids, slugs, lists of
 * slugs, "true"/"false", numbers, the token), which stay as they are.
 */
int wos_hdrenc_is_text(const char *env);

/**
 * @p value of variable @p env as a header value in @p enc. Returns @p value
 * itself when nothing changes (UTF-8, or an ASCII value in Latin-1).
 * Malformed UTF-8 becomes '?' in Latin-1 (one per byte that starts no
 * character).
 */
const char *wos_hdrenc_value(apr_pool_t *p, wos_hdrenc enc, const char *env,
                             const char *value);

/**
 * @p header (a Cookie header) without the session cookie @p name, its
 * chunks <name>.N, and every cookie whose name starts with @p prefix (the
 * sign-in state). Other cookies keep their order and bytes. Returns NULL
 * when nothing is left, @p header itself when nothing was removed.
 */
const char *wos_cookie_strip(apr_pool_t *p, const char *header, const char *name,
                             const char *prefix);

#endif
