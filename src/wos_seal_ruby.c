/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_seal_ruby.c: the Ruby SDK's AES-256-GCM seal (Encryptors::AesGcm),
 * and the legacy form its reader still accepts. The steps follow the SDK:
 * decode (leniently there, strictly here), try the current format, then
 * the legacy one; the GCM tag authenticates before any byte is used.
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
#include "wos_seal_ruby.h"

#define IV_LEN  12
#define TAG_LEN 16
#define KEY_LEN 32
#define HEAD_LEN (1 + IV_LEN + TAG_LEN)     /* version, IV, tag */

static wos_rv fail(const char **err, const char *why, wos_rv rv)
{
    *err = why;
    return rv;
}

/* key = SHA-256(password), as derive_key does. */
static wos_rv derive_key(const char *password, unsigned char key[KEY_LEN])
{
    const wos_algs *a = wos_algs_get();
    unsigned int n = 0;

    if (!a || EVP_Digest(password, strlen(password), key, &n, a->sha256, NULL) != 1
        || n != KEY_LEN)
        return WOS_ECRYPTO;
    return WOS_OK;
}

static apr_status_t ctx_cleanup(void *data)
{
    EVP_CIPHER_CTX_free(data);
    return APR_SUCCESS;
}

static EVP_CIPHER_CTX *gcm_ctx(apr_pool_t *p, int encrypt, const unsigned char *key,
                               const unsigned char *iv)
{
    const wos_algs *a = wos_algs_get();
    EVP_CIPHER_CTX *ctx = a ? EVP_CIPHER_CTX_new() : NULL;

    if (!ctx)
        return NULL;
    apr_pool_cleanup_register(p, ctx, ctx_cleanup, apr_pool_cleanup_null);
    if (EVP_CipherInit_ex2(ctx, a->aes_256_gcm, key, iv, encrypt, NULL) != 1)
        return NULL;
    return ctx;
}

/* AES-256-GCM open: 1 when the tag verifies (then @p pt holds ct_len bytes). */
static int gcm_open(apr_pool_t *p, const unsigned char *key, const unsigned char *iv,
                    const unsigned char *tag, const unsigned char *ct, apr_size_t ct_len,
                    unsigned char *pt)
{
    EVP_CIPHER_CTX *ctx = gcm_ctx(p, 0, key, iv);
    int n = 0, fin = 0;

    return ctx && ct_len <= INT_MAX
           && EVP_CipherUpdate(ctx, pt, &n, ct, (int)ct_len) == 1
           && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, (void *)tag) == 1
           && EVP_CipherFinal_ex(ctx, pt + n, &fin) == 1;
}

wos_rv wos_ruby_seal(apr_pool_t *p, const char *password, const char *data, apr_size_t len,
                     const char **out)
{
    unsigned char key[KEY_LEN], *raw;
    EVP_CIPHER_CTX *ctx;
    int n = 0, fin = 0;
    wos_rv rv;

    *out = NULL;
    if (!password || strlen(password) < WOS_RUBY_MIN_PASSWORD || !data)
        return WOS_EINVAL;
    if (len > WOS_SEAL_MAX_INPUT)
        return WOS_ETOOBIG;
    raw = apr_palloc(p, HEAD_LEN + len + 1);
    raw[0] = WOS_RUBY_VERSION;
    if ((rv = wos_rand_bytes(raw + 1, IV_LEN)) != WOS_OK
        || (rv = derive_key(password, key)) != WOS_OK)
        return rv;
    ctx = gcm_ctx(p, 1, key, raw + 1);
    OPENSSL_cleanse(key, sizeof(key));
    if (!ctx || EVP_CipherUpdate(ctx, raw + HEAD_LEN, &n, (const unsigned char *)data,
                                 (int)len) != 1
        || EVP_CipherFinal_ex(ctx, raw + HEAD_LEN + n, &fin) != 1
        || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, raw + 1 + IV_LEN) != 1)
        return WOS_ECRYPTO;
    *out = wos_b64pad_encode(p, raw, HEAD_LEN + (apr_size_t)n + (apr_size_t)fin, 0);
    return *out ? WOS_OK : WOS_ECRYPTO;
}

char *wos_rack_escape(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, strlen(s) * 3 + 1), *d = out;

    for (; *s; s++) {
        const char *esc = *s == '+' ? "%2B" : *s == '/' ? "%2F" : *s == '=' ? "%3D" : NULL;
        if (esc) {
            memcpy(d, esc, 3);
            d += 3;
        }
        else
            *d++ = *s;
    }
    *d = '\0';
    return out;
}

/* The character a Rack escape at @p s stands for, or 0 if it is none we read. */
static char rack_char(const char *s, apr_size_t left)
{
    static const struct { const char *code; char c; } ESC[] = {
        {"2B", '+'}, {"2F", '/'}, {"3D", '='}, {"0A", '\n'}};
    apr_size_t i;

    if (left < 3)
        return 0;
    for (i = 0; i < sizeof(ESC) / sizeof(ESC[0]); i++)
        if (!strncasecmp(s + 1, ESC[i].code, 2))
            return ESC[i].c;
    return 0;
}

/* Rack's escapes undone and the newlines of legacy MIME base64 dropped. */
static wos_rv unescape(apr_pool_t *p, const char *s, apr_size_t len, char **out,
                       apr_size_t *out_len)
{
    char *d = apr_palloc(p, len + 1);
    apr_size_t i, n = 0;

    for (i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (!(c = rack_char(s + i, len - i)))
                return WOS_EINVAL;
            i += 2;
        }
        if (c != '\n')
            d[n++] = c;
    }
    d[n] = '\0';
    *out = d;
    *out_len = n;
    return WOS_OK;
}

/* The current format with each password; the index that opened it, or -1. */
static int open_v7(apr_pool_t *p, const unsigned char *raw, apr_size_t len,
                   const apr_array_header_t *pws, unsigned char *pt)
{
    unsigned char key[KEY_LEN];
    int i, ok = 0;

    if (len < HEAD_LEN || raw[0] != WOS_RUBY_VERSION)
        return -1;
    for (i = 0; i < pws->nelts && !ok; i++)
        ok = derive_key(APR_ARRAY_IDX(pws, i, const char *), key) == WOS_OK
             && gcm_open(p, key, raw + 1, raw + 1 + IV_LEN, raw + HEAD_LEN,
                         len - HEAD_LEN, pt);
    OPENSSL_cleanse(key, sizeof(key));
    return ok ? i - 1 : -1;
}

/* The legacy format: the raw password as key, the tag at the end. */
static int open_legacy(apr_pool_t *p, const unsigned char *raw, apr_size_t len,
                       const apr_array_header_t *pws, unsigned char *pt)
{
    int i;

    if (len < IV_LEN + TAG_LEN)
        return -1;
    for (i = 0; i < pws->nelts; i++) {
        const char *pw = APR_ARRAY_IDX(pws, i, const char *);
        if (strlen(pw) == WOS_RUBY_LEGACY_KEY
            && gcm_open(p, (const unsigned char *)pw, raw, raw + len - TAG_LEN, raw + IV_LEN,
                        len - IV_LEN - TAG_LEN, pt))
            return i;
    }
    return -1;
}

static wos_rv check_passwords(const apr_array_header_t *pws, const char **err)
{
    int i;

    if (!pws || pws->nelts == 0)
        return fail(err, "no cookie password configured", WOS_ECRYPTO);
    for (i = 0; i < pws->nelts; i++)
        if (strlen(APR_ARRAY_IDX(pws, i, const char *)) < WOS_RUBY_MIN_PASSWORD)
            return fail(err, "a cookie password is shorter than the Ruby SDK accepts",
                        WOS_ECRYPTO);
    return WOS_OK;
}

wos_rv wos_ruby_unseal(apr_pool_t *p, const char *cookie, apr_size_t len,
                       const apr_array_header_t *passwords, char **out, apr_size_t *outlen,
                       int *pw_index, const char **err)
{
    unsigned char *raw, *pt;
    apr_size_t b64_len, raw_len, pt_len;
    char *b64;
    int idx;
    wos_rv rv;

    *out = NULL;
    *outlen = 0;
    *pw_index = -1;
    if ((rv = check_passwords(passwords, err)) != WOS_OK)
        return rv;
    if (!cookie || len > WOS_SEAL_MAX_INPUT)
        return fail(err, "seal missing or too large", cookie ? WOS_ETOOBIG : WOS_EINVAL);
    if (unescape(p, cookie, len, &b64, &b64_len) != WOS_OK
        || wos_b64pad_decode(p, b64, b64_len, 0, &raw, &raw_len) != WOS_OK)
        return fail(err, "not padded standard base64", WOS_EINVAL);
    pt = apr_palloc(p, raw_len + 1);
    /* As the SDK: the current format, and the legacy one when that fails. */
    if ((idx = open_v7(p, raw, raw_len, passwords, pt)) >= 0)
        pt_len = raw_len - HEAD_LEN;
    else if ((idx = open_legacy(p, raw, raw_len, passwords, pt)) >= 0)
        pt_len = raw_len - IV_LEN - TAG_LEN;
    else
        return fail(err, raw_len && raw[0] == WOS_RUBY_VERSION
                         ? "no cookie password opens the seal"
                         : "not a version 1 seal, and no legacy password opens it", WOS_EMAC);
    pt[pt_len] = '\0';
    if (memchr(pt, '\0', pt_len) || !wos_utf8_valid(pt, pt_len))
        return fail(err, "payload is not UTF-8 text", WOS_EINVAL);
    *out = (char *)pt;
    *outlen = pt_len;
    *pw_index = idx;
    return WOS_OK;
}
