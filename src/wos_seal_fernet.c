/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_seal_fernet.c: Fernet tokens as python3-cryptography's Fernet writes
 * and reads them (the WorkOS Python SDK's seal_data / unseal_data), on
 * OpenSSL: AES-128-CBC and HMAC-SHA256 with the key split in two halves.
 */
#include <limits.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <apr_strings.h>

#include "wos_algs.h"
#include "wos_b64.h"
#include "wos_rand.h"
#include "wos_seal.h"
#include "wos_seal_fernet.h"

#define HALF     16                     /* signing key, then encryption key */
#define TS_LEN   8
#define IV_LEN   16
#define MAC_LEN  32
#define HEAD_LEN (1 + TS_LEN + IV_LEN)
#define MIN_TOKEN (HEAD_LEN + 16 + MAC_LEN) /* an empty payload still pads to a block */

static wos_rv fail(const char **err, const char *why, wos_rv rv)
{
    *err = why;
    return rv;
}

/* The 32 key bytes; Python's url-safe decoder also takes '+' and '/'. */
static wos_rv fernet_key(const char *password, unsigned char key[2 * HALF])
{
    char std[WOS_FERNET_KEY_TEXT + 1];
    unsigned char raw[WOS_FERNET_KEY_TEXT];
    apr_size_t i;
    int n;

    if (!password || strlen(password) != WOS_FERNET_KEY_TEXT
        || password[WOS_FERNET_KEY_TEXT - 1] != '=')
        return WOS_EINVAL;
    for (i = 0; i < WOS_FERNET_KEY_TEXT - 1; i++) {
        char c = password[i];
        std[i] = c == '-' ? '+' : c == '_' ? '/' : c;
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", c)
            && c != '-' && c != '_')
            return WOS_EINVAL;
    }
    std[i] = '=';
    n = EVP_DecodeBlock(raw, (const unsigned char *)std, WOS_FERNET_KEY_TEXT);
    if (n != 2 * HALF + 1)              /* 33 with the padding byte counted */
        return WOS_EINVAL;
    memcpy(key, raw, 2 * HALF);
    OPENSSL_cleanse(raw, sizeof(raw));
    return WOS_OK;
}

wos_rv wos_fernet_key_check(const char *password)
{
    unsigned char key[2 * HALF];
    wos_rv rv = fernet_key(password, key);

    OPENSSL_cleanse(key, sizeof(key));
    return rv;
}

static apr_status_t ctx_cleanup(void *data)
{
    EVP_CIPHER_CTX_free(data);
    return APR_SUCCESS;
}

/* AES-128-CBC with PKCS#7, either direction; @p out holds in_len + 16 bytes. */
static wos_rv cbc(apr_pool_t *p, int encrypt, const unsigned char *key, const unsigned char *iv,
                  const unsigned char *in, apr_size_t in_len, unsigned char *out,
                  apr_size_t *out_len)
{
    const wos_algs *a = wos_algs_get();
    EVP_CIPHER_CTX *ctx = a ? EVP_CIPHER_CTX_new() : NULL;
    int n = 0, fin = 0;

    if (!ctx || in_len > INT_MAX - 16)
        return WOS_ECRYPTO;
    apr_pool_cleanup_register(p, ctx, ctx_cleanup, apr_pool_cleanup_null);
    if (EVP_CipherInit_ex2(ctx, a->aes_128_cbc, key, iv, encrypt, NULL) != 1
        || EVP_CipherUpdate(ctx, out, &n, in, (int)in_len) != 1)
        return WOS_ECRYPTO;
    if (EVP_CipherFinal_ex(ctx, out + n, &fin) != 1)
        return encrypt ? WOS_ECRYPTO : WOS_EINVAL;
    *out_len = (apr_size_t)n + (apr_size_t)fin;
    return WOS_OK;
}

static wos_rv mac(apr_pool_t *p, const unsigned char *key, const unsigned char *data,
                  apr_size_t len, unsigned char out[MAC_LEN])
{
    return wos_hmac(wos_hmac_ctx(p, WOS_SHA256), key, HALF, data, len, out);
}

wos_rv wos_fernet_seal(apr_pool_t *p, const char *password, const char *data, apr_size_t len,
                       apr_int64_t now_sec, const char **out)
{
    unsigned char key[2 * HALF], *raw;
    apr_size_t ct_len = 0;
    int i;
    wos_rv rv;

    *out = NULL;
    if (!data || now_sec < 0)
        return WOS_EINVAL;
    if (len > WOS_SEAL_MAX_INPUT)
        return WOS_ETOOBIG;
    if (fernet_key(password, key) != WOS_OK)
        return WOS_EINVAL;
    raw = apr_palloc(p, HEAD_LEN + len + 16 + MAC_LEN);
    raw[0] = WOS_FERNET_VERSION;
    for (i = 0; i < TS_LEN; i++)
        raw[1 + i] = (unsigned char)((apr_uint64_t)now_sec >> (8 * (TS_LEN - 1 - i)));
    if ((rv = wos_rand_bytes(raw + 1 + TS_LEN, IV_LEN)) == WOS_OK
        && (rv = cbc(p, 1, key + HALF, raw + 1 + TS_LEN, (const unsigned char *)data, len,
                     raw + HEAD_LEN, &ct_len)) == WOS_OK)
        rv = mac(p, key, raw, HEAD_LEN + ct_len, raw + HEAD_LEN + ct_len);
    OPENSSL_cleanse(key, sizeof(key));
    if (rv == WOS_OK && !(*out = wos_b64pad_encode(p, raw, HEAD_LEN + ct_len + MAC_LEN, 1)))
        rv = WOS_ECRYPTO;
    return rv;
}

/* The key whose HMAC verifies @p raw: its index, or -1; WOS_ECRYPTO for a bad key. */
static wos_rv find_key(apr_pool_t *p, const unsigned char *raw, apr_size_t len,
                       const apr_array_header_t *pws, unsigned char key[2 * HALF], int *idx)
{
    unsigned char m[MAC_LEN];
    int i;

    *idx = -1;
    for (i = 0; i < pws->nelts; i++) {
        if (fernet_key(APR_ARRAY_IDX(pws, i, const char *), key) != WOS_OK
            || mac(p, key, raw, len - MAC_LEN, m) != WOS_OK)
            return WOS_ECRYPTO;
        if (wos_ct_equal(m, MAC_LEN, raw + len - MAC_LEN, MAC_LEN)) {
            *idx = i;
            return WOS_OK;
        }
    }
    return WOS_OK;
}

wos_rv wos_fernet_unseal(apr_pool_t *p, const char *token, apr_size_t len,
                         const apr_array_header_t *passwords, char **out, apr_size_t *outlen,
                         int *pw_index, const char **err)
{
    unsigned char key[2 * HALF], *raw, *pt;
    apr_size_t raw_len, pt_len = 0;
    int idx;
    wos_rv rv;

    *out = NULL;
    *outlen = 0;
    *pw_index = -1;
    if (!passwords || passwords->nelts == 0)
        return fail(err, "no cookie password configured", WOS_ECRYPTO);
    if (!token || len > WOS_SEAL_MAX_INPUT)
        return fail(err, "token missing or too large", token ? WOS_ETOOBIG : WOS_EINVAL);
    if (wos_b64pad_decode(p, token, len, 1, &raw, &raw_len) != WOS_OK)
        return fail(err, "not padded url-safe base64", WOS_EINVAL);
    if (raw_len < MIN_TOKEN || (raw_len - HEAD_LEN - MAC_LEN) % 16 != 0)
        return fail(err, "token too short or not whole blocks", WOS_EINVAL);
    if (raw[0] != WOS_FERNET_VERSION)
        return fail(err, "not a Fernet token (version byte)", WOS_EINVAL);
    if (find_key(p, raw, raw_len, passwords, key, &idx) != WOS_OK) {
        OPENSSL_cleanse(key, sizeof(key));
        return fail(err, "a cookie password is not a Fernet key", WOS_ECRYPTO);
    }
    if (idx < 0)
        return fail(err, "no cookie password verifies the token", WOS_EMAC);
    pt = apr_palloc(p, raw_len);
    rv = cbc(p, 0, key + HALF, raw + 1 + TS_LEN, raw + HEAD_LEN, raw_len - HEAD_LEN - MAC_LEN,
             pt, &pt_len);
    OPENSSL_cleanse(key, sizeof(key));
    if (rv != WOS_OK)
        return fail(err, "decryption failed", rv);
    pt[pt_len] = '\0';
    if (memchr(pt, '\0', pt_len) || !wos_utf8_valid(pt, pt_len))
        return fail(err, "payload is not UTF-8 text", WOS_EINVAL);
    *out = (char *)pt;
    *outlen = pt_len;
    *pw_index = idx;
    return WOS_OK;
}
