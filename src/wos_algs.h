/**
 * @file wos_algs.h
 * @brief OpenSSL algorithms fetched once per process, and HMAC over them.
 *
 * OpenSSL 3 looks an algorithm up in its provider store on every init that
 * names a legacy EVP_sha256()-style object, and PKCS5_PBKDF2_HMAC/HMAC() set
 * up a KDF and a MAC context each time: together most of the cost of
 * unsealing a cookie. The fetched objects are immutable and shared by all
 * threads; they are fetched on first use and released with the process's pool.
 */
#ifndef WOS_ALGS_H
#define WOS_ALGS_H

#include <openssl/evp.h>
#include "wos_common.h"

typedef struct {
    EVP_MD *sha1;
    EVP_MD *sha256;
    EVP_CIPHER *aes_256_cbc;
    EVP_CIPHER *aes_256_gcm;    /**< the Ruby SDK's seal */
    EVP_CIPHER *aes_128_cbc;    /**< Fernet (the Python SDK's seal) */
} wos_algs;

/** The fetched algorithms, or NULL if OpenSSL could not provide one. */
const wos_algs *wos_algs_get(void);

/**
 * Free them, when no thread uses them any more (a process's pool cleanup):
 * the module is unloaded before the process exits, and nothing would.
 */
void wos_algs_release(void);

/**
 * HMAC (RFC 2104) of @p data under @p key with @p md, into @p out (the
 * digest's size). @p ctx is a caller's digest context, reused across calls.
 */
wos_rv wos_hmac(EVP_MD_CTX *ctx, const EVP_MD *md, const void *key, apr_size_t key_len,
                const void *data, apr_size_t data_len, unsigned char *out);

/**
 * PBKDF2 (RFC 8018) with one iteration, as iron derives its keys: @p out_len
 * bytes from HMAC-@p md(@p password, salt || INT(i)) blocks.
 */
wos_rv wos_pbkdf2_1(EVP_MD_CTX *ctx, const EVP_MD *md, const char *password,
                    const void *salt, apr_size_t salt_len, unsigned char *out,
                    apr_size_t out_len);

#endif
