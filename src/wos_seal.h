/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_seal.h
 * @brief The iron "Fe26.2" seal that the WorkOS Node SDK and iron-session write.
 *
 * Format: Fe26.2*pwid*esalt*iv*ct*exp*hsalt*mac[~2]; see
 * docs/workos-protocol.md. AES-256-CBC + HMAC-SHA256, keys from
 * PBKDF2-HMAC-SHA1(password, salt as ASCII hex, 1 iteration, 32 bytes).
 */
#ifndef WOS_SEAL_H
#define WOS_SEAL_H

#include "wos_common.h"

/** Shortest accepted password, in characters (bytes). */
#define WOS_SEAL_MIN_PASSWORD 32
/**
 * Largest sealed string accepted by wos_unseal, checked before any crypto.
 * It must hold the largest chunked cookie the module assembles
 * (WOS_COOKIE_MAX_CHUNKS x WOS_COOKIE_MAX_CHUNK_SIZE, see wos_cookie.h).
 */
#define WOS_SEAL_MAX_INPUT (64 * 1024)
/** Clock skew applied to the seal's own expiry, in seconds. */
#define WOS_SEAL_SKEW_SEC 60

/**
 * Seal @p len bytes of @p data with @p password (password id "1", the `~2`
 * suffix). @p ttl_sec 0 writes an empty expiry, as the Node SDK does;
 * otherwise the expiry is @p now_ms + ttl in ms.
 * WOS_EINVAL for a password shorter than WOS_SEAL_MIN_PASSWORD, a negative or
 * overflowing ttl, or a payload that is not UTF-8 or holds a NUL byte (the
 * same payloads wos_unseal refuses); WOS_ETOOBIG when the seal would be
 * longer than WOS_SEAL_MAX_INPUT.
 */
wos_rv wos_seal(apr_pool_t *p, const char *password, const char *data, apr_size_t len,
                apr_int64_t ttl_sec, apr_int64_t now_ms, const char **out);

/**
 * Unseal @p sealed with any of @p passwords (an array of const char *),
 * checking the MAC of each in constant time before decrypting.
 *
 * Strict form: exactly 8 `*`-separated parts, suffix `~2` or none, password
 * id "1" (the only id the Node SDK writes or reads), salts of 64 lowercase
 * hex chars, strict base64url, a 16-byte IV, a 32-byte MAC, an expiry that is
 * empty or up to 18 digits without a leading zero. Order: size (WOS_ETOOBIG),
 * passwords and form (WOS_EINVAL), MAC (WOS_EMAC), expiry with
 * WOS_SEAL_SKEW_SEC of skew (WOS_EEXPIRED), decryption; a payload with a NUL
 * byte or invalid UTF-8 is WOS_EINVAL. Every password must be at least
 * WOS_SEAL_MIN_PASSWORD long (WOS_EINVAL otherwise).
 * On success *out is the NUL-terminated payload, *outlen its length, and
 * *pw_index which password matched (0 = the current one; others mean the
 * cookie should be re-sealed). @p err gets a reason fit for a log line
 * (never any part of the input).
 */
wos_rv wos_unseal(apr_pool_t *p, const char *sealed, apr_size_t sealed_len,
                  const apr_array_header_t *passwords, apr_int64_t now_ms,
                  char **out, apr_size_t *outlen, int *pw_index, const char **err);

/** 1 when @p len bytes of @p s are strict UTF-8 (no overlongs or surrogates). */
int wos_utf8_valid(const unsigned char *s, apr_size_t len);

#endif
