/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_b64.h
 * @brief Strict base64url (RFC 4648 §5, no padding), as iron and JWS use it.
 */
#ifndef WOS_B64_H
#define WOS_B64_H

#include "wos_common.h"

/** Encode without padding; NUL-terminated result in @p p. */
char *wos_b64url_encode(apr_pool_t *p, const unsigned char *buf, apr_size_t len);

/**
 * Decode strictly: only [A-Za-z0-9_-], no padding, no whitespace, a length
 * that is not 1 mod 4, and zero unused trailing bits (one encoding per value).
 * The result is NUL-terminated for convenience (*outlen excludes the NUL).
 */
wos_rv wos_b64url_decode(apr_pool_t *p, const char *in, apr_size_t inlen,
                         unsigned char **out, apr_size_t *outlen);

#endif
