/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_seal.c: the iron "Fe26.2" seal as the WorkOS Node SDK and iron-session
 * write it (AES-256-CBC, HMAC-SHA256, PBKDF2-HMAC-SHA1 keys, iteration 1).
 *
 * Unsealing checks the whole structure first, then the MAC of each password
 * (constant time), then the expiry, and only then decrypts.
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

#define SEAL_PREFIX     "Fe26.2"
#define SEAL_PWID       "1"     /* the only id the Node SDK writes or reads */
#define SEAL_SUFFIX     "~2"    /* iron-session token version 2 */
#define SEAL_PARTS      8
#define SEAL_SALT_BYTES 32      /* written as 64 lowercase hex chars */
#define SEAL_SALT_HEX   (SEAL_SALT_BYTES * 2)
#define SEAL_IV_BYTES   16
#define SEAL_KEY_BYTES  32
#define SEAL_MAC_BYTES  32
#define SEAL_MAX_EXP_DIGITS 18  /* any 18-digit number fits an int64 */

/* The eight fields of a seal, decoded and checked for form only. */
typedef struct seal_parts {
    const char *body;           /* prefix..exp: the text the MAC covers */
    apr_size_t body_len;
    const char *esalt, *hsalt;  /* SEAL_SALT_HEX bytes of ASCII, never decoded, not terminated */
    unsigned char *iv, *ct, *mac;
    apr_size_t iv_len, ct_len, mac_len;
    int has_exp;
    apr_int64_t exp_ms;
} seal_parts;

/* ------------------------------------------------------------------ */
/* Checks shared by seal and unseal                                    */

/* Record why (a fixed text, never input) and pass the result through. */
static wos_rv fail(const char **err, const char *why, wos_rv rv)
{
    *err = why;
    return rv;
}

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
int wos_utf8_valid(const unsigned char *s, apr_size_t len)
{
    apr_size_t i = 0, n, k;
    unsigned int cp, min;

    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            /* ASCII runs, eight bytes at a time: JSON payloads are mostly ASCII. */
            apr_uint64_t w;
            while (len - i >= 8 && (memcpy(&w, s + i, 8), !(w & 0x8080808080808080ULL)))
                i += 8;
            if (i < len && s[i] < 0x80)
                i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0)      { n = 1; cp = c & 0x1f; min = 0x80; }
        else if ((c & 0xf0) == 0xe0) { n = 2; cp = c & 0x0f; min = 0x800; }
        else if ((c & 0xf8) == 0xf0) { n = 3; cp = c & 0x07; min = 0x10000; }
        else return 0;
        if (len - i <= n)
            return 0;
        for (k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += n + 1;
    }
    return 1;
}

/* Callers treat the payload as a C string holding UTF-8 JSON. */
static wos_rv payload_check(const char *data, apr_size_t len, const char **err)
{
    if (memchr(data, '\0', len))
        return fail(err, "payload contains a NUL byte", WOS_EINVAL);
    if (!wos_utf8_valid((const unsigned char *)data, len))
        return fail(err, "payload is not valid UTF-8", WOS_EINVAL);
    return WOS_OK;
}

static int password_ok(const char *pw)
{
    apr_size_t n;

    if (!pw)
        return 0;
    n = strlen(pw);
    return n >= WOS_SEAL_MIN_PASSWORD && n <= INT_MAX;
}

static int salt_valid(const char *s, apr_size_t len)
{
    apr_size_t i;

    if (len != SEAL_SALT_HEX)
        return 0;
    for (i = 0; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    }
    return 1;
}

/*
 * Expiry in ms: digits only, no leading zero (the Node SDK's own rule), at
 * most SEAL_MAX_EXP_DIGITS so that the value cannot overflow.
 */
static int parse_exp(const char *s, apr_size_t len, apr_int64_t *out)
{
    apr_int64_t v = 0;
    apr_size_t i;

    if (len == 0 || len > SEAL_MAX_EXP_DIGITS || s[0] == '0')
        return 0;
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

/* ------------------------------------------------------------------ */
/* Crypto primitives                                                   */

/* The contexts of one seal or unseal, made once for all its keys and MACs. */
typedef struct seal_ctx {
    EVP_KDF_CTX *kdf;           /* PBKDF2-HMAC-SHA1, one iteration */
    EVP_MAC_CTX *mac;           /* HMAC-SHA256 */
} seal_ctx;

static wos_rv seal_ctx_make(apr_pool_t *p, seal_ctx *ctx)
{
    ctx->kdf = wos_pbkdf2_ctx(p, WOS_SHA1);
    ctx->mac = wos_hmac_ctx(p, WOS_SHA256);
    return ctx->kdf && ctx->mac ? WOS_OK : WOS_ECRYPTO;
}

/* PBKDF2-HMAC-SHA1 with the salt's ASCII text as the salt, 1 iteration. */
static wos_rv derive_key(const seal_ctx *ctx, const char *password, const char *salt,
                         unsigned char key[SEAL_KEY_BYTES])
{
    return wos_pbkdf2_1(ctx->kdf, password, salt, SEAL_SALT_HEX, key, SEAL_KEY_BYTES);
}

static wos_rv compute_mac(const seal_ctx *ctx, const char *password, const char *hsalt,
                          const char *body, apr_size_t body_len,
                          unsigned char mac[SEAL_MAC_BYTES])
{
    unsigned char key[SEAL_KEY_BYTES];
    wos_rv rv = derive_key(ctx, password, hsalt, key);

    if (rv == WOS_OK)
        rv = wos_hmac(ctx->mac, key, SEAL_KEY_BYTES, body, body_len, mac);
    OPENSSL_cleanse(key, sizeof(key));
    return rv;
}

static apr_status_t cipher_ctx_cleanup(void *data)
{
    EVP_CIPHER_CTX_free(data);
    return APR_SUCCESS;
}

/* A cipher context that lives as long as @p p. */
static EVP_CIPHER_CTX *cipher_ctx(apr_pool_t *p)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

    if (ctx)
        apr_pool_cleanup_register(p, ctx, cipher_ctx_cleanup, apr_pool_cleanup_null);
    return ctx;
}

/*
 * AES-256-CBC with PKCS#7 padding, either direction. @p out must hold
 * in_len + 16 bytes. WOS_EINVAL when decryption finds bad padding.
 */
static wos_rv aes_cbc(apr_pool_t *p, const seal_ctx *md, int encrypt, const char *password,
                      const char *esalt,
                      const unsigned char *iv, const unsigned char *in, apr_size_t in_len,
                      unsigned char *out, apr_size_t *out_len)
{
    unsigned char key[SEAL_KEY_BYTES];
    EVP_CIPHER_CTX *ctx = cipher_ctx(p);
    int n1 = 0, n2 = 0;
    wos_rv rv;

    if (!ctx || in_len > INT_MAX - 16)
        return WOS_ECRYPTO;
    rv = derive_key(md, password, esalt, key);
    if (rv == WOS_OK
        && (EVP_CipherInit_ex2(ctx, wos_algs_get()->aes_256_cbc, key, iv, encrypt, NULL) != 1
            || EVP_CipherUpdate(ctx, out, &n1, in, (int)in_len) != 1))
        rv = WOS_ECRYPTO;
    if (rv == WOS_OK && EVP_CipherFinal_ex(ctx, out + n1, &n2) != 1)
        rv = encrypt ? WOS_ECRYPTO : WOS_EINVAL;
    OPENSSL_cleanse(key, sizeof(key));
    *out_len = (apr_size_t)n1 + (apr_size_t)n2;
    return rv;
}

/* ------------------------------------------------------------------ */
/* Sealing                                                             */

static wos_rv random_salt(apr_pool_t *p, const char **out)
{
    unsigned char buf[SEAL_SALT_BYTES];
    wos_rv rv = wos_rand_bytes(buf, sizeof(buf));

    *out = rv == WOS_OK ? wos_hex(p, buf, sizeof(buf)) : NULL;
    return rv;
}

/* Expiry text: "" for no ttl, else now + ttl in ms (overflow-checked). */
static wos_rv seal_exp(apr_pool_t *p, apr_int64_t ttl_sec, apr_int64_t now_ms,
                       const char **out)
{
    apr_int64_t exp;

    if (ttl_sec < 0)
        return WOS_EINVAL;
    if (ttl_sec == 0) {
        *out = "";
        return WOS_OK;
    }
    if (ttl_sec > APR_INT64_MAX / 1000 || now_ms > APR_INT64_MAX - ttl_sec * 1000)
        return WOS_EINVAL;
    exp = now_ms + ttl_sec * 1000;
    if (exp <= 0)
        return WOS_EINVAL;
    *out = apr_psprintf(p, "%" APR_INT64_T_FMT, exp);
    return WOS_OK;
}

/* Length of the finished seal, so that we never write what we cannot read. */
static apr_size_t seal_length(apr_size_t len, apr_size_t exp_len)
{
    apr_size_t ct = (len / 16 + 1) * 16;

    return sizeof(SEAL_PREFIX) + sizeof(SEAL_PWID) + 2 * (SEAL_SALT_HEX + 1)
           + 23 /* iv */ + (ct * 4 + 2) / 3 + 1 + exp_len + 1
           + 43 /* mac */ + sizeof(SEAL_SUFFIX);
}

static wos_rv seal_args_check(const char *password, const char *data, apr_size_t len)
{
    const char *why;

    if (!password_ok(password) || (!data && len))
        return WOS_EINVAL;
    if (len > WOS_SEAL_MAX_INPUT)
        return WOS_ETOOBIG;
    return len ? payload_check(data, len, &why) : WOS_OK;
}

/* Everything the MAC covers: prefix, id, fresh salt and IV, ciphertext, expiry. */
static wos_rv seal_body(apr_pool_t *p, const seal_ctx *md, const char *password,
                        const char *data, apr_size_t len, const char *exp, const char **body)
{
    unsigned char iv[SEAL_IV_BYTES], *ct = apr_palloc(p, len + SEAL_IV_BYTES);
    const char *esalt;
    apr_size_t ct_len = 0;
    wos_rv rv;

    if ((rv = random_salt(p, &esalt)) != WOS_OK
        || (rv = wos_rand_bytes(iv, sizeof(iv))) != WOS_OK
        || (rv = aes_cbc(p, md, 1, password, esalt, iv,
                         (const unsigned char *)(data ? data : ""), len, ct, &ct_len)) != WOS_OK)
        return rv;
    *body = apr_pstrcat(p, SEAL_PREFIX "*" SEAL_PWID "*", esalt, "*",
                        wos_b64url_encode(p, iv, sizeof(iv)), "*",
                        wos_b64url_encode(p, ct, ct_len), "*", exp, NULL);
    return WOS_OK;
}

wos_rv wos_seal(apr_pool_t *p, const char *password, const char *data, apr_size_t len,
                apr_int64_t ttl_sec, apr_int64_t now_ms, const char **out)
{
    unsigned char mac[SEAL_MAC_BYTES];
    const char *hsalt, *exp, *body;
    seal_ctx md;
    wos_rv rv;

    *out = NULL;
    if ((rv = seal_args_check(password, data, len)) != WOS_OK
        || (rv = seal_exp(p, ttl_sec, now_ms, &exp)) != WOS_OK)
        return rv;
    if (seal_length(len, strlen(exp)) > WOS_SEAL_MAX_INPUT)
        return WOS_ETOOBIG;
    if ((rv = seal_ctx_make(p, &md)) != WOS_OK    /* for both keys and the MAC */
        || (rv = seal_body(p, &md, password, data, len, exp, &body)) != WOS_OK
        || (rv = random_salt(p, &hsalt)) != WOS_OK
        || (rv = compute_mac(&md, password, hsalt, body, strlen(body), mac)) != WOS_OK)
        return rv;
    *out = apr_pstrcat(p, body, "*", hsalt, "*", wos_b64url_encode(p, mac, sizeof(mac)),
                       SEAL_SUFFIX, NULL);
    return WOS_OK;
}

/* ------------------------------------------------------------------ */
/* Unsealing                                                           */

/* Split at '*' into exactly SEAL_PARTS fields, pointing into @p s (not copied). */
static wos_rv split_parts(const char *s, apr_size_t len, const char **f, apr_size_t *flen)
{
    const char *end = s + len;
    int n = 0;

    for (;;) {
        const char *star = memchr(s, '*', (apr_size_t)(end - s));
        const char *stop = star ? star : end;

        if (n == SEAL_PARTS)
            return WOS_EINVAL;
        f[n] = s;
        flen[n++] = (apr_size_t)(stop - s);
        if (!star)
            break;
        s = star + 1;
    }
    return n == SEAL_PARTS ? WOS_OK : WOS_EINVAL;
}

/* A field equal to the literal @p want. */
static int field_is(const char *f, apr_size_t len, const char *want)
{
    return len == strlen(want) && memcmp(f, want, len) == 0;
}

/* A field in strict base64url (its decoded length is checked by the caller). */
static int b64_field(apr_pool_t *p, const char *s, apr_size_t len,
                     unsigned char **out, apr_size_t *out_len)
{
    return wos_b64url_decode(p, s, len, out, out_len) == WOS_OK;
}

/* Form of every field; no crypto yet. */
static wos_rv check_fields(apr_pool_t *p, const char **f, const apr_size_t *fl,
                           seal_parts *sp, const char **err)
{
    if (!field_is(f[0], fl[0], SEAL_PREFIX))
        return fail(err, "not an Fe26.2 seal", WOS_EINVAL);
    if (!field_is(f[1], fl[1], SEAL_PWID))
        return fail(err, "unsupported password id", WOS_EINVAL);
    if (!salt_valid(f[2], fl[2]) || !salt_valid(f[6], fl[6]))
        return fail(err, "malformed salt", WOS_EINVAL);
    if (!b64_field(p, f[3], fl[3], &sp->iv, &sp->iv_len) || sp->iv_len != SEAL_IV_BYTES)
        return fail(err, "malformed iv", WOS_EINVAL);
    if (!b64_field(p, f[4], fl[4], &sp->ct, &sp->ct_len) || sp->ct_len == 0
        || sp->ct_len % 16 != 0)
        return fail(err, "malformed ciphertext", WOS_EINVAL);
    sp->has_exp = fl[5] > 0;
    if (sp->has_exp && !parse_exp(f[5], fl[5], &sp->exp_ms))
        return fail(err, "malformed expiry", WOS_EINVAL);
    if (!b64_field(p, f[7], fl[7], &sp->mac, &sp->mac_len) || sp->mac_len != SEAL_MAC_BYTES)
        return fail(err, "malformed mac", WOS_EINVAL);
    sp->esalt = f[2];
    sp->hsalt = f[6];
    return WOS_OK;
}

/* Strip the version suffix ("~2" or none), split and check every field. */
static wos_rv parse_seal(apr_pool_t *p, const char *sealed, apr_size_t len,
                         seal_parts *sp, const char **err)
{
    const char *tilde = memchr(sealed, '~', len);
    const char *f[SEAL_PARTS];
    apr_size_t fl[SEAL_PARTS];

    if (tilde) {
        apr_size_t rest = len - (apr_size_t)(tilde - sealed);
        if (rest != strlen(SEAL_SUFFIX) || memcmp(tilde, SEAL_SUFFIX, rest) != 0)
            return fail(err, "unknown seal version suffix", WOS_EINVAL);
        len -= rest;
    }
    if (split_parts(sealed, len, f, fl) != WOS_OK)
        return fail(err, "wrong number of seal parts", WOS_EINVAL);
    /* The MAC covers the first six fields exactly as they were sent. */
    sp->body = sealed;
    sp->body_len = fl[0] + fl[1] + fl[2] + fl[3] + fl[4] + fl[5] + 5;
    return check_fields(p, f, fl, sp, err);
}

static wos_rv check_passwords(const apr_array_header_t *passwords, const char **err)
{
    int i;

    if (!passwords || passwords->nelts == 0)
        return fail(err, "no seal password configured", WOS_EINVAL);
    for (i = 0; i < passwords->nelts; i++) {
        if (!password_ok(APR_ARRAY_IDX(passwords, i, const char *)))
            return fail(err, "seal password too short", WOS_EINVAL);
    }
    return WOS_OK;
}

/* Index of the first password whose MAC matches, or -1. */
static wos_rv find_password(const seal_ctx *ctx, const seal_parts *sp,
                            const apr_array_header_t *passwords, int *index)
{
    unsigned char mac[SEAL_MAC_BYTES];
    int i;

    *index = -1;
    for (i = 0; i < passwords->nelts; i++) {
        wos_rv rv = compute_mac(ctx, APR_ARRAY_IDX(passwords, i, const char *), sp->hsalt,
                                sp->body, sp->body_len, mac);
        if (rv != WOS_OK)
            return rv;
        if (wos_ct_equal(mac, sizeof(mac), sp->mac, sp->mac_len)) {
            *index = i;
            break;
        }
    }
    OPENSSL_cleanse(mac, sizeof(mac));
    return WOS_OK;
}

/* Expired when exp <= now - skew; written so that nothing can overflow. */
static int seal_expired(const seal_parts *sp, apr_int64_t now_ms)
{
    const apr_int64_t skew = (apr_int64_t)WOS_SEAL_SKEW_SEC * 1000;

    if (!sp->has_exp)
        return 0;
    if (now_ms < APR_INT64_MIN + skew)
        return 0;
    return sp->exp_ms <= now_ms - skew;
}

static wos_rv decrypt_payload(apr_pool_t *p, const seal_ctx *md, const seal_parts *sp,
                              const char *password, char **out, apr_size_t *outlen,
                              const char **err)
{
    unsigned char *pt = apr_palloc(p, sp->ct_len + SEAL_IV_BYTES + 1);
    apr_size_t n = 0;
    wos_rv rv = aes_cbc(p, md, 0, password, sp->esalt, sp->iv, sp->ct, sp->ct_len, pt, &n);

    if (rv != WOS_OK)
        return fail(err, "decryption failed", rv);
    pt[n] = '\0';
    if ((rv = payload_check((const char *)pt, n, err)) != WOS_OK)
        return rv;
    *out = (char *)pt;
    *outlen = n;
    return WOS_OK;
}

static wos_rv unseal_input_check(const char *sealed, apr_size_t sealed_len,
                                 const apr_array_header_t *passwords, const char **err)
{
    if (!sealed)
        return fail(err, "no seal", WOS_EINVAL);
    if (sealed_len > WOS_SEAL_MAX_INPUT)
        return fail(err, "seal too large", WOS_ETOOBIG);
    if (memchr(sealed, '\0', sealed_len))
        return fail(err, "seal contains a NUL byte", WOS_EINVAL);
    return check_passwords(passwords, err);
}

wos_rv wos_unseal(apr_pool_t *p, const char *sealed, apr_size_t sealed_len,
                  const apr_array_header_t *passwords, apr_int64_t now_ms,
                  char **out, apr_size_t *outlen, int *pw_index, const char **err)
{
    const char *why = NULL;
    seal_ctx md;
    seal_parts sp;
    int idx = -1;
    wos_rv rv;

    *out = NULL;
    *outlen = 0;
    *pw_index = -1;
    memset(&sp, 0, sizeof(sp));
    if ((rv = unseal_input_check(sealed, sealed_len, passwords, &why)) != WOS_OK
        || (rv = parse_seal(p, sealed, sealed_len, &sp, &why)) != WOS_OK)
        goto leave;
    if ((rv = seal_ctx_make(p, &md)) != WOS_OK      /* for every MAC and the key */
        || (rv = find_password(&md, &sp, passwords, &idx)) != WOS_OK) {
        why = "mac computation failed";
        goto leave;
    }
    if (idx < 0) {
        rv = WOS_EMAC;
        why = "no seal password verifies the mac";
        goto leave;
    }
    if (seal_expired(&sp, now_ms)) {
        rv = WOS_EEXPIRED;
        why = "seal expired";
        goto leave;
    }
    rv = decrypt_payload(p, &md, &sp, APR_ARRAY_IDX(passwords, idx, const char *), out, outlen,
                         &why);
    if (rv == WOS_OK)
        *pw_index = idx;
leave:
    if (err)
        *err = rv == WOS_OK ? NULL : why;
    return rv;
}
