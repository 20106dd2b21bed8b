/*
 * fuzz_key.h: a fixed RSA key for the JWT harness and the seed generator.
 *
 * No key material is checked in: the key is derived at run time from a fixed
 * label (primes searched from SHA-256 output), so every run, the harness and
 * the seeds in fuzz/corpus/jwt agree on it. Anyone can derive it: it is a
 * test key and must never sign anything real.
 */
#ifndef FUZZ_KEY_H
#define FUZZ_KEY_H

#include <openssl/evp.h>
#include <apr_pools.h>

/* The kid of the key in fuzz_key_jwks(). */
#define FUZZ_KID "fuzz-rsa-1"

/*
 * The RSA key of @p bits (a multiple of 16, >= 512) derived from @p label;
 * NULL on failure. The caller frees it.
 */
EVP_PKEY *fuzz_key_derive(const char *label, int bits);

/* The 2048-bit key of FUZZ_KID, made once per process (freed at exit). */
EVP_PKEY *fuzz_key(void);

/* {"kty":"RSA","use":"sig","alg":"RS256","kid":@p kid,"n":..,"e":..} of @p k. */
char *fuzz_key_jwk(apr_pool_t *p, EVP_PKEY *k, const char *kid);

/* {"keys":[the JWK of fuzz_key() under FUZZ_KID]}. */
char *fuzz_key_jwks(apr_pool_t *p);

/* base64url (no padding) of the RS256 signature of @p len bytes at @p in by @p k. */
char *fuzz_key_sign(apr_pool_t *p, EVP_PKEY *k, const char *in, size_t len);

#endif
