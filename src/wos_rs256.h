/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_rs256.h
 * @brief RS256 verification with contexts kept per key.
 *
 * OpenSSL 3 sets up a verify context by looking the key's algorithm up in
 * the provider store (locks, name maps) every time: a sixth of the cost of
 * verifying a token. A key keeps the contexts it has set up, so that a
 * verification after the first only hashes and runs RSA.
 */
#ifndef WOS_RS256_H
#define WOS_RS256_H

#include <openssl/evp.h>
#include "wos_common.h"

/** Most spare contexts one key keeps (about one per worker thread). */
#define WOS_RS256_SPARES 64

typedef struct wos_rs256 wos_rs256;

/**
 * A verifier for the RSA public key @p pkey, which must outlive it; the
 * spare contexts are freed with @p p. NULL if @p pkey is not an RSA key (checked
 * here once, not per token) or no lock can be made. Safe to share between threads.
 */
wos_rs256 *wos_rs256_make(apr_pool_t *p, EVP_PKEY *pkey);

/**
 * RSASSA-PKCS1-v1_5 with SHA-256 of @p sig over @p data: WOS_OK when it
 * verifies, WOS_EMAC when it does not (a signature whose length is not the
 * key's and any OpenSSL refusal included), WOS_ECRYPTO when no context could
 * be set up. A context that saw a failure is not kept.
 */
wos_rv wos_rs256_verify(wos_rs256 *v, const void *data, apr_size_t len,
                        const unsigned char *sig, apr_size_t siglen);

/** How many spare contexts @p v holds now (for tests). */
int wos_rs256_spares(wos_rs256 *v);

#endif
