/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_seal_fernet.h
 * @brief Fernet, the sealed session of the WorkOS Python SDK (workos-python
 *        5.33 and later), with the cookie password as the Fernet key.
 *
 * Key: url-safe base64 (padded) of 32 bytes; the first 16 sign
 * (HMAC-SHA256), the last 16 encrypt (AES-128-CBC, PKCS#7). Token: url-safe
 * base64, padded, of `0x80 | timestamp (u64 big-endian s) | IV (16) |
 * ciphertext | HMAC over everything before it`. The SDK decrypts without a
 * TTL, so the timestamp is written but never checked.
 */
#ifndef WOS_SEAL_FERNET_H
#define WOS_SEAL_FERNET_H

#include "wos_common.h"

/** Fernet's version byte. */
#define WOS_FERNET_VERSION 0x80
/** A Fernet key as text: 43 base64 characters and one '='. */
#define WOS_FERNET_KEY_TEXT 44

/**
 * WOS_OK when @p password is a Fernet key as the SDK's Fernet(key) accepts
 * one: 44 characters of base64 (url-safe or standard, as Python's decoder
 * reads both) decoding to 32 bytes; WOS_EINVAL otherwise.
 */
wos_rv wos_fernet_key_check(const char *password);

/** Seal @p len bytes of @p data under key @p password at @p now_sec. */
wos_rv wos_fernet_seal(apr_pool_t *p, const char *password, const char *data, apr_size_t len,
                       apr_int64_t now_sec, const char **out);

/**
 * Open a token with any of @p passwords: strict padded url-safe base64, the
 * version byte, a whole number of AES blocks; the HMAC of each key compared in
 * constant time before anything is decrypted. WOS_EINVAL for a malformed
 * token or bad padding, WOS_EMAC when no key verifies it, WOS_ECRYPTO when a
 * password is not a Fernet key (a configuration error, not the cookie's).
 * The payload must be UTF-8 without NUL bytes.
 */
wos_rv wos_fernet_unseal(apr_pool_t *p, const char *token, apr_size_t len,
                         const apr_array_header_t *passwords, char **out, apr_size_t *outlen,
                         int *pw_index, const char **err);

#endif
