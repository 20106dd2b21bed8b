/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_rand.h
 * @brief Randomness from OpenSSL's CSPRNG only, and PKCE helpers.
 */
#ifndef WOS_RAND_H
#define WOS_RAND_H

#include "wos_common.h"

/** Fill @p buf with @p len random bytes (RAND_bytes). WOS_ECRYPTO on failure. */
wos_rv wos_rand_bytes(unsigned char *buf, apr_size_t len);

/** @p nbytes random bytes as base64url text (state values, nonces, PKCE verifiers). */
wos_rv wos_rand_token(apr_pool_t *p, apr_size_t nbytes, const char **out);

/** PKCE S256 challenge of a verifier: base64url(SHA-256(verifier)). */
char *wos_pkce_challenge(apr_pool_t *p, const char *verifier);

#endif
