/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_key.h: a fixed RSA key for the JWT harness and the seed generator.
 *
 * No key material is checked in: the key is derived at run time from a fixed
 * label (primes searched from SHA-256 output), so every run, the harness and
 * the seeds in fuzz/corpus/jwt agree on it. Anyone can derive it: it is a
 * test key and must never sign anything real. JWK export and signing come
 * from tests/unit/testkeys.h (wos_tk_jwks, wos_tk_sign_input_rs256).
 */
#ifndef FUZZ_KEY_H
#define FUZZ_KEY_H

#include <openssl/evp.h>

/* The kid the harness and the seeds give fuzz_key() in their JWKS. */
#define FUZZ_KID "fuzz-rsa-1"

/*
 * The RSA key of @p bits (a multiple of 16, >= 512) derived from @p label;
 * NULL on failure. The caller frees it.
 */
EVP_PKEY *fuzz_key_derive(const char *label, int bits);

/* The 2048-bit key of FUZZ_KID, made once per process (freed at exit). */
EVP_PKEY *fuzz_key(void);

#endif
