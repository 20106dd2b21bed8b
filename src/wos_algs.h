/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_algs.h
 * @brief OpenSSL algorithms fetched once per process, and HMAC and PBKDF2 on them.
 *
 * OpenSSL 3 looks an algorithm up in its provider store on every init that
 * names a legacy EVP_sha256()-style object or a digest by name, and
 * PKCS5_PBKDF2_HMAC/HMAC() set up a KDF and a MAC context each time: together
 * most of the cost of unsealing a cookie. So the digests, the cipher, the HMAC
 * MAC and the PBKDF2 KDF are fetched once, and a MAC and a KDF context per
 * digest is set up once as a template that callers duplicate (a duplicate
 * keeps the fetched digest: no lookup per use). HMAC and PBKDF2 are OpenSSL's
 * own (EVP_MAC "HMAC", EVP_KDF "PBKDF2"). The objects are immutable and shared
 * by all threads; they are fetched on first use and released with the
 * process's pool.
 */
#ifndef WOS_ALGS_H
#define WOS_ALGS_H

#include <openssl/evp.h>
#include "wos_common.h"

/** The digests HMAC and PBKDF2 are used with (iron: PBKDF2-SHA1 keys, HMAC-SHA256 MACs). */
typedef enum { WOS_SHA1, WOS_SHA256, WOS_DIGESTS } wos_digest;

typedef struct {
    EVP_MD *sha1;
    EVP_MD *sha256;
    EVP_CIPHER *aes_256_cbc;
    EVP_CIPHER *aes_256_gcm;    /**< the Ruby SDK's seal */
    EVP_CIPHER *aes_128_cbc;    /**< Fernet (the Python SDK's seal) */
    EVP_MAC *hmac;
    EVP_KDF *pbkdf2;
    EVP_MAC_CTX *hmac_tmpl[WOS_DIGESTS];    /**< digest set; duplicated, never used */
    EVP_KDF_CTX *pbkdf2_tmpl[WOS_DIGESTS];  /**< digest and one iteration set; ditto (3.1+) */
} wos_algs;

/** The fetched algorithms, or NULL if OpenSSL could not provide one. */
const wos_algs *wos_algs_get(void);

/**
 * Free them, when no thread uses them any more (a process's pool cleanup):
 * the module is unloaded before the process exits, and nothing would.
 */
void wos_algs_release(void);

/** A HMAC context with digest @p d that lives as long as @p p; NULL on failure. */
EVP_MAC_CTX *wos_hmac_ctx(apr_pool_t *p, wos_digest d);

/**
 * HMAC (RFC 2104) of @p data under @p key into @p out (the digest's size),
 * with a context of wos_hmac_ctx, which each call keys anew.
 */
wos_rv wos_hmac(EVP_MAC_CTX *ctx, const void *key, apr_size_t key_len,
                const void *data, apr_size_t data_len, unsigned char *out);

/** A PBKDF2 context with digest @p d and one iteration, living as long as @p p. */
EVP_KDF_CTX *wos_pbkdf2_ctx(apr_pool_t *p, wos_digest d);

/**
 * PBKDF2 (RFC 8018) with the context's digest and one iteration, as iron
 * derives its keys: @p out_len bytes from @p password and @p salt.
 */
wos_rv wos_pbkdf2_1(EVP_KDF_CTX *ctx, const char *password, const void *salt,
                    apr_size_t salt_len, unsigned char *out, apr_size_t out_len);

#endif
