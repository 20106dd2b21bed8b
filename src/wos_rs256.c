/* SPDX-License-Identifier: Apache-2.0 */
/* wos_rs256.c: RS256 verification on contexts set up once and kept per key. */
#include <apr_thread_mutex.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "wos_algs.h"
#include "wos_rs256.h"

struct wos_rs256 {
    EVP_PKEY *pkey;
    apr_size_t size;                /* the key's signature length in bytes */
    apr_thread_mutex_t *mu;         /* guards spare[] and n */
    int n;
    EVP_PKEY_CTX *spare[WOS_RS256_SPARES];
};

static apr_status_t rs256_cleanup(void *data)
{
    wos_rs256 *v = data;

    while (v->n > 0)
        EVP_PKEY_CTX_free(v->spare[--v->n]);
    return APR_SUCCESS;
}

wos_rs256 *wos_rs256_make(apr_pool_t *p, EVP_PKEY *pkey)
{
    wos_rs256 *v;

    if (!pkey || !EVP_PKEY_is_a(pkey, "RSA") || EVP_PKEY_get_size(pkey) <= 0)
        return NULL;
    v = apr_pcalloc(p, sizeof(*v));
    if (apr_thread_mutex_create(&v->mu, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS)
        return NULL;
    v->pkey = pkey;
    v->size = (apr_size_t)EVP_PKEY_get_size(pkey);
    apr_pool_cleanup_register(p, v, rs256_cleanup, apr_pool_cleanup_null);
    return v;
}

/* A spare context, or a new one set up for PKCS#1 v1.5 over a SHA-256 digest. */
static EVP_PKEY_CTX *take(wos_rs256 *v, const wos_algs *algs)
{
    EVP_PKEY_CTX *ctx = NULL;

    apr_thread_mutex_lock(v->mu);
    if (v->n > 0)
        ctx = v->spare[--v->n];
    apr_thread_mutex_unlock(v->mu);
    if (ctx)
        return ctx;
    if (!(ctx = EVP_PKEY_CTX_new_from_pkey(NULL, v->pkey, NULL))) {
        ERR_clear_error();
        return NULL;
    }
    if (EVP_PKEY_verify_init(ctx) != 1
        || EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1
        || EVP_PKEY_CTX_set_signature_md(ctx, algs->sha256) != 1) {
        EVP_PKEY_CTX_free(ctx);
        ERR_clear_error();
        return NULL;
    }
    return ctx;
}

static void give_back(wos_rs256 *v, EVP_PKEY_CTX *ctx)
{
    apr_thread_mutex_lock(v->mu);
    if (v->n < WOS_RS256_SPARES) {
        v->spare[v->n++] = ctx;
        ctx = NULL;
    }
    apr_thread_mutex_unlock(v->mu);
    EVP_PKEY_CTX_free(ctx);
}

wos_rv wos_rs256_verify(wos_rs256 *v, const void *data, apr_size_t len,
                        const unsigned char *sig, apr_size_t siglen)
{
    const wos_algs *algs = wos_algs_get();
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    EVP_PKEY_CTX *ctx;
    wos_rv rv = WOS_ECRYPTO;

    if (!v || !algs)
        return WOS_ECRYPTO;
    if (siglen != v->size)
        return WOS_EMAC;
    if (!(ctx = take(v, algs)))
        return WOS_ECRYPTO;
    if (EVP_Digest(data, len, digest, &dlen, algs->sha256, NULL) == 1)
        /* Anything but 1 is a bad signature: attacker input must not look like a fault. */
        rv = EVP_PKEY_verify(ctx, sig, siglen, digest, dlen) == 1 ? WOS_OK : WOS_EMAC;
    if (rv == WOS_OK)
        give_back(v, ctx);
    else {
        EVP_PKEY_CTX_free(ctx);
        ERR_clear_error();
    }
    return rv;
}

int wos_rs256_spares(wos_rs256 *v)
{
    int n;

    apr_thread_mutex_lock(v->mu);
    n = v->n;
    apr_thread_mutex_unlock(v->mu);
    return n;
}
