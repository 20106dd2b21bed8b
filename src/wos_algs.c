/* wos_algs.c: algorithms fetched once per process; HMAC and one-round PBKDF2 on them. */
#include <pthread.h>
#include <string.h>
#include <openssl/crypto.h>

#include "wos_algs.h"

/* Fetched on first use under the lock; read without it once set (a pointer
 * store after the objects are complete). Released by wos_algs_release. */
static wos_algs algs;
static const wos_algs *volatile algs_ok;
static pthread_mutex_t algs_mu = PTHREAD_MUTEX_INITIALIZER;

static void algs_free(void)
{
    EVP_MD_free(algs.sha1);
    EVP_MD_free(algs.sha256);
    EVP_CIPHER_free(algs.aes_256_cbc);
    EVP_CIPHER_free(algs.aes_256_gcm);
    EVP_CIPHER_free(algs.aes_128_cbc);
    memset(&algs, 0, sizeof(algs));
}

const wos_algs *wos_algs_get(void)
{
    const wos_algs *a = __atomic_load_n(&algs_ok, __ATOMIC_ACQUIRE);

    if (a)
        return a;
    pthread_mutex_lock(&algs_mu);
    if (!algs_ok) {
        algs.sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
        algs.sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
        algs.aes_256_cbc = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
        algs.aes_256_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
        algs.aes_128_cbc = EVP_CIPHER_fetch(NULL, "AES-128-CBC", NULL);
        if (algs.sha1 && algs.sha256 && algs.aes_256_cbc && algs.aes_256_gcm
            && algs.aes_128_cbc)
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

#define HMAC_MAX_BLOCK 128      /* SHA-512's block; SHA-1 and SHA-256 use 64 */

wos_rv wos_hmac(EVP_MD_CTX *ctx, const EVP_MD *md, const void *key, apr_size_t key_len,
                const void *data, apr_size_t data_len, unsigned char *out)
{
    unsigned char k[HMAC_MAX_BLOCK], pad[HMAC_MAX_BLOCK], inner[EVP_MAX_MD_SIZE];
    int bs = EVP_MD_get_block_size(md), ds = EVP_MD_get_size(md);
    unsigned int n;
    wos_rv rv = WOS_ECRYPTO;
    int i;

    if (bs <= 0 || bs > HMAC_MAX_BLOCK || ds <= 0 || ds > bs)
        return WOS_ECRYPTO;
    memset(k, 0, sizeof(k));
    if (key_len > (apr_size_t)bs) {     /* long keys are hashed first */
        if (EVP_DigestInit_ex2(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, key, key_len) != 1
            || EVP_DigestFinal_ex(ctx, k, &n) != 1)
            goto out;
    }
    else
        memcpy(k, key, key_len);
    for (i = 0; i < bs; i++)
        pad[i] = k[i] ^ 0x36;
    if (EVP_DigestInit_ex2(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, pad, (size_t)bs) != 1
        || EVP_DigestUpdate(ctx, data, data_len) != 1 || EVP_DigestFinal_ex(ctx, inner, &n) != 1)
        goto out;
    for (i = 0; i < bs; i++)
        pad[i] = k[i] ^ 0x5c;
    if (EVP_DigestInit_ex2(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, pad, (size_t)bs) != 1
        || EVP_DigestUpdate(ctx, inner, (size_t)ds) != 1 || EVP_DigestFinal_ex(ctx, out, &n) != 1)
        goto out;
    rv = WOS_OK;
out:
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(pad, sizeof(pad));
    OPENSSL_cleanse(inner, sizeof(inner));
    return rv;
}

wos_rv wos_pbkdf2_1(EVP_MD_CTX *ctx, const EVP_MD *md, const char *password,
                    const void *salt, apr_size_t salt_len, unsigned char *out,
                    apr_size_t out_len)
{
    unsigned char msg[256], block[EVP_MAX_MD_SIZE];
    int ds = EVP_MD_get_size(md);
    apr_uint32_t i;
    apr_size_t done = 0, take;
    wos_rv rv = WOS_OK;

    if (ds <= 0 || salt_len > sizeof(msg) - 4)
        return WOS_ECRYPTO;
    memcpy(msg, salt, salt_len);
    for (i = 1; done < out_len && rv == WOS_OK; i++) {
        msg[salt_len] = (unsigned char)(i >> 24);
        msg[salt_len + 1] = (unsigned char)(i >> 16);
        msg[salt_len + 2] = (unsigned char)(i >> 8);
        msg[salt_len + 3] = (unsigned char)i;
        rv = wos_hmac(ctx, md, password, strlen(password), msg, salt_len + 4, block);
        take = out_len - done < (apr_size_t)ds ? out_len - done : (apr_size_t)ds;
        if (rv == WOS_OK)
            memcpy(out + done, block, take);
        done += take;
    }
    OPENSSL_cleanse(block, sizeof(block));
    return rv;
}
