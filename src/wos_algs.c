/* SPDX-License-Identifier: Apache-2.0 */
/* wos_algs.c: algorithms fetched once per process; HMAC and PBKDF2 through them. */
#include <pthread.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "wos_algs.h"

/* Fetched on first use under the lock; read without it once set (a pointer
 * store after the objects are complete). Released by wos_algs_release. */
static wos_algs algs;
static const wos_algs *volatile algs_ok;
static pthread_mutex_t algs_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *const digest_names[WOS_DIGESTS] = {
    [WOS_SHA1] = "SHA1", [WOS_SHA256] = "SHA256",
};

/*
 * PBKDF2 contexts given back by the pools that used them, for the next user
 * (under algs_mu): OpenSSL 3.0 cannot duplicate a KDF context, and setting
 * one up looks its digest up by name, a fetch per request otherwise.
 */
#define SPARE_KDFS 32
static EVP_KDF_CTX *spare_kdf[WOS_DIGESTS][SPARE_KDFS];
static int spare_kdfs[WOS_DIGESTS];

static void algs_free(void)
{
    int d;

    for (d = 0; d < WOS_DIGESTS; d++) {
        EVP_MAC_CTX_free(algs.hmac_tmpl[d]);
        EVP_KDF_CTX_free(algs.pbkdf2_tmpl[d]);
        while (spare_kdfs[d] > 0)
            EVP_KDF_CTX_free(spare_kdf[d][--spare_kdfs[d]]);
    }
    EVP_MAC_free(algs.hmac);
    EVP_KDF_free(algs.pbkdf2);
    EVP_MD_free(algs.sha1);
    EVP_MD_free(algs.sha256);
    EVP_CIPHER_free(algs.aes_256_cbc);
    EVP_CIPHER_free(algs.aes_256_gcm);
    EVP_CIPHER_free(algs.aes_128_cbc);
    memset(&algs, 0, sizeof(algs));
}

/* The HMAC template for one digest: the digest is fetched here, once. */
static EVP_MAC_CTX *hmac_template(const char *digest)
{
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(algs.hmac);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0),
        OSSL_PARAM_construct_end()
    };

    if (ctx && EVP_MAC_CTX_set_params(ctx, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

/* The PBKDF2 template: digest, one iteration, and no SP 800-132 minimums
 * (iron's choice of one iteration is the format's, not ours). */
static EVP_KDF_CTX *pbkdf2_template(const char *digest)
{
    EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(algs.pbkdf2);
    unsigned int iter = 1;
    int no_checks = 1;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0),
        OSSL_PARAM_construct_uint(OSSL_KDF_PARAM_ITER, &iter),
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_PKCS5, &no_checks),
        OSSL_PARAM_construct_end()
    };

    if (ctx && EVP_KDF_CTX_set_params(ctx, params) != 1) {
        EVP_KDF_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

static int algs_fetch(void)
{
    int d, ok;

    algs.sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
    algs.sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    algs.aes_256_cbc = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
    algs.aes_256_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    algs.aes_128_cbc = EVP_CIPHER_fetch(NULL, "AES-128-CBC", NULL);
    algs.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    algs.pbkdf2 = EVP_KDF_fetch(NULL, "PBKDF2", NULL);
    ok = algs.sha1 && algs.sha256 && algs.aes_256_cbc && algs.aes_256_gcm && algs.aes_128_cbc
         && algs.hmac && algs.pbkdf2;
    for (d = 0; ok && d < WOS_DIGESTS; d++) {
        algs.hmac_tmpl[d] = hmac_template(digest_names[d]);
        algs.pbkdf2_tmpl[d] = pbkdf2_template(digest_names[d]);
        ok = algs.hmac_tmpl[d] && algs.pbkdf2_tmpl[d];
    }
    return ok;
}

const wos_algs *wos_algs_get(void)
{
    const wos_algs *a = __atomic_load_n(&algs_ok, __ATOMIC_ACQUIRE);

    if (a)
        return a;
    pthread_mutex_lock(&algs_mu);
    if (!algs_ok) {
        if (algs_fetch())
            __atomic_store_n(&algs_ok, &algs, __ATOMIC_RELEASE);
        else
            algs_free();
    }
    a = algs_ok;
    pthread_mutex_unlock(&algs_mu);
    return a;
}

void wos_algs_release(void)
{
    pthread_mutex_lock(&algs_mu);
    if (algs_ok) {
        __atomic_store_n(&algs_ok, NULL, __ATOMIC_RELEASE);
        algs_free();
    }
    pthread_mutex_unlock(&algs_mu);
}

static apr_status_t mac_ctx_cleanup(void *data)
{
    EVP_MAC_CTX_free(data);
    return APR_SUCCESS;
}

typedef struct kdf_lease {
    EVP_KDF_CTX *ctx;
    wos_digest d;
} kdf_lease;

/* Keep the context for the next user while the algorithms live, else free it. */
static apr_status_t kdf_ctx_cleanup(void *data)
{
    kdf_lease *l = data;

    pthread_mutex_lock(&algs_mu);
    if (algs_ok && spare_kdfs[l->d] < SPARE_KDFS)
        spare_kdf[l->d][spare_kdfs[l->d]++] = l->ctx;
    else
        EVP_KDF_CTX_free(l->ctx);
    pthread_mutex_unlock(&algs_mu);
    return APR_SUCCESS;
}

/* A spare context of digest @p d, or NULL. */
static EVP_KDF_CTX *spare_take(wos_digest d)
{
    EVP_KDF_CTX *ctx = NULL;

    pthread_mutex_lock(&algs_mu);
    if (algs_ok && spare_kdfs[d] > 0)
        ctx = spare_kdf[d][--spare_kdfs[d]];
    pthread_mutex_unlock(&algs_mu);
    return ctx;
}

EVP_MAC_CTX *wos_hmac_ctx(apr_pool_t *p, wos_digest d)
{
    const wos_algs *a = wos_algs_get();
    EVP_MAC_CTX *ctx = a && d < WOS_DIGESTS ? EVP_MAC_CTX_dup(a->hmac_tmpl[d]) : NULL;

    if (ctx)
        apr_pool_cleanup_register(p, ctx, mac_ctx_cleanup, apr_pool_cleanup_null);
    return ctx;
}

/* A spare context, else a duplicate of the template, else (OpenSSL 3.0,
 * whose KDFs cannot be duplicated) a new one: given back when @p p goes. */
EVP_KDF_CTX *wos_pbkdf2_ctx(apr_pool_t *p, wos_digest d)
{
    const wos_algs *a = wos_algs_get();
    kdf_lease *l;
    EVP_KDF_CTX *ctx;

    if (!a || d >= WOS_DIGESTS)
        return NULL;
    if (!(ctx = spare_take(d)) && !(ctx = EVP_KDF_CTX_dup(a->pbkdf2_tmpl[d]))) {
        ERR_clear_error();
        ctx = pbkdf2_template(digest_names[d]);
    }
    if (!ctx)
        return NULL;
    l = apr_palloc(p, sizeof(*l));
    l->ctx = ctx;
    l->d = d;
    apr_pool_cleanup_register(p, l, kdf_ctx_cleanup, apr_pool_cleanup_null);
    return ctx;
}

wos_rv wos_hmac(EVP_MAC_CTX *ctx, const void *key, apr_size_t key_len,
                const void *data, apr_size_t data_len, unsigned char *out)
{
    size_t n = 0, size = 0;

    /* The size is known once the key is set (OpenSSL 3.0 sizes the MAC at init). */
    if (!ctx || EVP_MAC_init(ctx, key, key_len, NULL) != 1
        || !(size = EVP_MAC_CTX_get_mac_size(ctx))
        || EVP_MAC_update(ctx, data, data_len) != 1
        || EVP_MAC_final(ctx, out, &n, size) != 1 || n != size) {
        ERR_clear_error();
        return WOS_ECRYPTO;
    }
    return WOS_OK;
}

wos_rv wos_pbkdf2_1(EVP_KDF_CTX *ctx, const char *password, const void *salt,
                    apr_size_t salt_len, unsigned char *out, apr_size_t out_len)
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)password,
                                          password ? strlen(password) : 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len),
        OSSL_PARAM_construct_end()
    };

    if (!ctx || !password || EVP_KDF_derive(ctx, out, out_len, params) != 1) {
        ERR_clear_error();
        return WOS_ECRYPTO;
    }
    return WOS_OK;
}
