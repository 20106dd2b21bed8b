/* SPDX-License-Identifier: Apache-2.0 */
/*
 * testkeys.h: keys and signed tokens for the unit tests, made at test time
 * with OpenSSL (no key material is checked in).
 *
 * Key generation is slow under the sanitizers, so the shared keys are made
 * once per test binary: call wos_tk_init() in the suite function, i.e. in
 * the parent process before Check forks, and every test sees the same keys.
 * The keys are freed at exit. Everything else allocates from the pool given.
 *
 * The base64url encoder here is a separate implementation from src/wos_b64.c
 * on purpose, so that a bug there cannot hide in both the tokens and the
 * verifier.
 */
#ifndef WOS_TESTKEYS_H
#define WOS_TESTKEYS_H

#include <openssl/evp.h>
#include <apr_pools.h>

/* Make the shared keys (idempotent; the getters call it too, lazily). */
void wos_tk_init(void);

EVP_PKEY *wos_tk_rsa2048(void);    /* the main RS256 signing key */
EVP_PKEY *wos_tk_rsa2048b(void);   /* a second, unrelated 2048-bit key */
EVP_PKEY *wos_tk_rsa1024(void);    /* too small: a JWKS must skip it */
EVP_PKEY *wos_tk_ec256(void);      /* P-256, for ES256 tokens and EC JWKs */

/* A fresh RSA key of @p bits (caller frees with EVP_PKEY_free); NULL on failure. */
EVP_PKEY *wos_tk_rsa_new(int bits);

/* base64url without padding (independent of wos_b64). */
char *wos_tk_b64url(apr_pool_t *p, const unsigned char *buf, size_t len);

/* The members "n":"...","e":"..." of an RSA key's JWK (no braces), for composing. */
char *wos_tk_jwk_ne(apr_pool_t *p, EVP_PKEY *rsa);

/* A complete JWK: {"kty":"RSA","use":"sig","alg":"RS256","kid":kid,"n":..,"e":..}. */
char *wos_tk_jwk(apr_pool_t *p, EVP_PKEY *rsa, const char *kid);

/* {"keys":[<jwk>]} for one RSA key. */
char *wos_tk_jwks(apr_pool_t *p, EVP_PKEY *rsa, const char *kid);

/* The public key as SubjectPublicKeyInfo PEM (NUL-terminated) or DER (*len set). */
char *wos_tk_pub_pem(apr_pool_t *p, EVP_PKEY *k, size_t *len);
unsigned char *wos_tk_pub_der(apr_pool_t *p, EVP_PKEY *k, size_t *len);

/*
 * Compact JWTs from header and payload JSON text (used as given, byte for
 * byte, so tests can put duplicates or odd numbers in them). NULL on failure.
 */
char *wos_tk_sign_rs256(apr_pool_t *p, EVP_PKEY *rsa, const char *hdr, const char *pay);
char *wos_tk_sign_ps256(apr_pool_t *p, EVP_PKEY *rsa, const char *hdr, const char *pay);
/* ES256 with the JOSE signature form (r || s, 32 bytes each). */
char *wos_tk_sign_es256(apr_pool_t *p, EVP_PKEY *ec, const char *hdr, const char *pay);
char *wos_tk_sign_hs256(apr_pool_t *p, const unsigned char *secret, size_t slen,
                        const char *hdr, const char *pay);

/* RS256 over an already encoded signing input "<b64 header>.<b64 payload>". */
char *wos_tk_sign_input_rs256(apr_pool_t *p, EVP_PKEY *rsa, const char *input);

/* The common case: {"alg":"RS256","kid":kid,"typ":"JWT"} over @p pay. */
char *wos_tk_token(apr_pool_t *p, EVP_PKEY *rsa, const char *kid, const char *pay);

/*
 * A WorkOS-shaped access token payload: iss, sub, sid, jti, org_id, role,
 * roles, permissions, entitlements, feature_flags, iat = exp - 300, exp.
 * @p org_id NULL leaves org_id (and role) out.
 */
char *wos_tk_claims(apr_pool_t *p, const char *sub, const char *sid,
                    const char *org_id, apr_int64_t exp);

#endif
