/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_b64.h
 * @brief Strict base64url (RFC 4648 §5, no padding), as iron and JWS use it;
 *        and padded base64 of either alphabet, as the Ruby and Python SDKs write it.
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

/**
 * Encode with '=' padding: the standard alphabet (RFC 4648 §4), or with
 * @p urlsafe the URL alphabet (§5). NUL-terminated result in @p p.
 */
char *wos_b64pad_encode(apr_pool_t *p, const unsigned char *buf, apr_size_t len, int urlsafe);

/**
 * Decode padded base64 of one alphabet (@p urlsafe picks which): a length
 * that is a multiple of 4, '=' only as the last one or two characters, no
 * whitespace. Unused trailing bits are not checked (the SDKs' decoders do not
 * check them). The result is NUL-terminated (*outlen excludes the NUL).
 */
wos_rv wos_b64pad_decode(apr_pool_t *p, const char *in, apr_size_t inlen, int urlsafe,
                         unsigned char **out, apr_size_t *outlen);

#endif
