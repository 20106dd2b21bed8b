/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_seal_ruby.h
 * @brief The sealed session of the WorkOS Ruby SDK (workos-ruby 7.1.1 and later).
 *
 * Cookie = standard base64, padded, of `0x01 | IV (12) | GCM tag (16) |
 * ciphertext`: AES-256-GCM without AAD, key = SHA-256 of the password. The
 * SDK still reads the cookies of its versions 5 and 6, and so does
 * wos_ruby_unseal: MIME base64 of `IV (12) | ciphertext | tag (16)` with the
 * raw 32-byte password as the key. Rack percent-encodes `+`, `/` and `=` (and
 * the legacy newlines) when it sets a cookie and decodes them when it reads
 * one, so the module writes cookies that way and reads both forms.
 */
#ifndef WOS_SEAL_RUBY_H
#define WOS_SEAL_RUBY_H

#include "wos_common.h"

/** The SDK's version byte of the current format. */
#define WOS_RUBY_VERSION 0x01
/** Shortest password the SDK accepts (bytes; since 8.0.1). */
#define WOS_RUBY_MIN_PASSWORD 32
/** The legacy (v5/v6) format used the password itself as the AES-256 key. */
#define WOS_RUBY_LEGACY_KEY 32

/**
 * Seal @p len bytes of @p data as the SDK's AesGcm#seal does; *out is the
 * SDK's own string (standard base64 with `+ / =`). WOS_EINVAL for a password
 * shorter than WOS_RUBY_MIN_PASSWORD.
 */
wos_rv wos_ruby_seal(apr_pool_t *p, const char *password, const char *data, apr_size_t len,
                     const char **out);

/**
 * Open a cookie with any of @p passwords (const char *): the current format
 * (version byte 0x01) with each password, else (as the SDK falls back) the
 * legacy format with each password of exactly WOS_RUBY_LEGACY_KEY bytes.
 * Input: padded standard base64, with `%2B %2F %3D %0A` (either case) read as
 * the characters Rack escaped, and newlines only where legacy MIME base64
 * puts them; anything else is WOS_EINVAL. WOS_EMAC when no password opens
 * it. The payload must be UTF-8 without NUL bytes. *pw_index says which
 * password opened it; @p err gets a reason for the log (never input).
 */
wos_rv wos_ruby_unseal(apr_pool_t *p, const char *cookie, apr_size_t len,
                       const apr_array_header_t *passwords, char **out, apr_size_t *outlen,
                       int *pw_index, const char **err);

/** @p s with `+ / =` percent-encoded, as Rack's set_cookie writes a value. */
char *wos_rack_escape(apr_pool_t *p, const char *s);

#endif
