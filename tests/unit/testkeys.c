/* SPDX-License-Identifier: Apache-2.0 */
/*
 * testkeys.c: test-time RSA/EC keys, JWK export and JWT signing (RS256,
 * PS256, ES256, HS256) for the unit tests. See testkeys.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "testkeys.h"

/* Shared per test binary; see the note in testkeys.h. */
static EVP_PKEY *tk_rsa2048, *tk_rsa2048b, *tk_rsa1024, *tk_ec256;

static void tk_free_all(void)
{
    EVP_PKEY_free(tk_rsa2048);
    EVP_PKEY_free(tk_rsa2048b);
    EVP_PKEY_free(tk_rsa1024);
    EVP_PKEY_free(tk_ec256);
    tk_rsa2048 = tk_rsa2048b = tk_rsa1024 = tk_ec256 = NULL;
}

static EVP_PKEY *must(EVP_PKEY *k, const char *what)
{
    if (!k) {
        fprintf(stderr, "testkeys: cannot generate %s\n", what);
        abort();
    }
    return k;
}

EVP_PKEY *wos_tk_rsa_new(int bits)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
}

void wos_tk_init(void)
{
    if (tk_rsa2048)
        return;
    tk_rsa2048 = must(wos_tk_rsa_new(2048), "RSA 2048");
    tk_rsa2048b = must(wos_tk_rsa_new(2048), "RSA 2048 (b)");
    tk_rsa1024 = must(wos_tk_rsa_new(1024), "RSA 1024");
    tk_ec256 = must(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), "EC P-256");
    /* Registered after OpenSSL's own atexit handler, so it runs before it. */
    atexit(tk_free_all);
}

EVP_PKEY *wos_tk_rsa2048(void)  { wos_tk_init(); return tk_rsa2048; }
EVP_PKEY *wos_tk_rsa2048b(void) { wos_tk_init(); return tk_rsa2048b; }
EVP_PKEY *wos_tk_rsa1024(void)  { wos_tk_init(); return tk_rsa1024; }
EVP_PKEY *wos_tk_ec256(void)    { wos_tk_init(); return tk_ec256; }

char *wos_tk_b64url(apr_pool_t *p, const unsigned char *buf, size_t len)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = apr_palloc(p, (len + 2) / 3 * 4 + 1), *o = out;
    size_t i;

    for (i = 0; i + 2 < len; i += 3) {
        unsigned long v = (unsigned long)buf[i] << 16 | (unsigned long)buf[i + 1] << 8 | buf[i + 2];
        *o++ = abc[v >> 18 & 63];
        *o++ = abc[v >> 12 & 63];
        *o++ = abc[v >> 6 & 63];
        *o++ = abc[v & 63];
    }
    if (len - i == 1) {
        *o++ = abc[buf[i] >> 2];
        *o++ = abc[(buf[i] & 3) << 4];
    }
    else if (len - i == 2) {
        *o++ = abc[buf[i] >> 2];
        *o++ = abc[((buf[i] & 3) << 4) | buf[i + 1] >> 4];
        *o++ = abc[(buf[i + 1] & 15) << 2];
    }
    *o = '\0';
    return out;
}

static char *bn_param_b64(apr_pool_t *p, EVP_PKEY *k, const char *name)
{
    BIGNUM *bn = NULL;
    unsigned char *bin;
    int n;

    if (!EVP_PKEY_get_bn_param(k, name, &bn))
        return NULL;
    n = BN_num_bytes(bn);
    bin = apr_palloc(p, (apr_size_t)n + 1);
    BN_bn2bin(bn, bin);
    BN_free(bn);
    return wos_tk_b64url(p, bin, (size_t)n);
}

char *wos_tk_jwk_ne(apr_pool_t *p, EVP_PKEY *rsa)
{
    char *n = bn_param_b64(p, rsa, OSSL_PKEY_PARAM_RSA_N);
    char *e = bn_param_b64(p, rsa, OSSL_PKEY_PARAM_RSA_E);

    if (!n || !e)
        return NULL;
    return apr_psprintf(p, "\"n\":\"%s\",\"e\":\"%s\"", n, e);
}

char *wos_tk_jwk(apr_pool_t *p, EVP_PKEY *rsa, const char *kid)
{
    char *ne = wos_tk_jwk_ne(p, rsa);

    if (!ne)
        return NULL;
    return apr_psprintf(p, "{\"kty\":\"RSA\",\"use\":\"sig\",\"alg\":\"RS256\","
                        "\"kid\":\"%s\",%s}", kid, ne);
}

char *wos_tk_jwks(apr_pool_t *p, EVP_PKEY *rsa, const char *kid)
{
    char *jwk = wos_tk_jwk(p, rsa, kid);

    return jwk ? apr_psprintf(p, "{\"keys\":[%s]}", jwk) : NULL;
}

char *wos_tk_pub_pem(apr_pool_t *p, EVP_PKEY *k, size_t *len)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data, *r = NULL;
    long n;

    if (b && PEM_write_bio_PUBKEY(b, k)) {
        n = BIO_get_mem_data(b, &data);
        r = apr_pstrmemdup(p, data, (apr_size_t)n);
        if (len)
            *len = (size_t)n;
    }
    BIO_free(b);
    return r;
}

unsigned char *wos_tk_pub_der(apr_pool_t *p, EVP_PKEY *k, size_t *len)
{
    unsigned char *der = NULL, *r;
    int n = i2d_PUBKEY(k, &der);

    if (n <= 0)
        return NULL;
    r = apr_pmemdup(p, der, (apr_size_t)n);
    OPENSSL_free(der);
    *len = (size_t)n;
    return r;
}

/* Sign @p input with SHA-256 and the given RSA padding (or the key's default). */
static unsigned char *digest_sign(apr_pool_t *p, EVP_PKEY *k, int rsa_pad,
                                  const char *input, size_t *siglen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char *sig = NULL;
    int ok;

    ok = md && EVP_DigestSignInit_ex(md, &pctx, "SHA256", NULL, NULL, k, NULL) == 1;
    if (ok && rsa_pad == RSA_PKCS1_PSS_PADDING)
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, rsa_pad) == 1
             && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
    else if (ok && rsa_pad)
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, rsa_pad) == 1;
    ok = ok && EVP_DigestSign(md, NULL, siglen, (const unsigned char *)input,
                              strlen(input)) == 1;
    if (ok) {
        sig = apr_palloc(p, *siglen);
        ok = EVP_DigestSign(md, sig, siglen, (const unsigned char *)input,
                            strlen(input)) == 1;
    }
    EVP_MD_CTX_free(md);
    return ok ? sig : NULL;
}

static char *signing_input(apr_pool_t *p, const char *hdr, const char *pay)
{
    return apr_pstrcat(p, wos_tk_b64url(p, (const unsigned char *)hdr, strlen(hdr)), ".",
                       wos_tk_b64url(p, (const unsigned char *)pay, strlen(pay)), NULL);
}

static char *finish(apr_pool_t *p, const char *input, const unsigned char *sig, size_t len)
{
    return sig ? apr_pstrcat(p, input, ".", wos_tk_b64url(p, sig, len), NULL) : NULL;
}

char *wos_tk_sign_input_rs256(apr_pool_t *p, EVP_PKEY *rsa, const char *input)
{
    size_t len = 0;
    unsigned char *sig = digest_sign(p, rsa, RSA_PKCS1_PADDING, input, &len);

    return finish(p, input, sig, len);
}

char *wos_tk_sign_rs256(apr_pool_t *p, EVP_PKEY *rsa, const char *hdr, const char *pay)
{
    return wos_tk_sign_input_rs256(p, rsa, signing_input(p, hdr, pay));
}

char *wos_tk_sign_ps256(apr_pool_t *p, EVP_PKEY *rsa, const char *hdr, const char *pay)
{
    const char *input = signing_input(p, hdr, pay);
    size_t len = 0;
    unsigned char *sig = digest_sign(p, rsa, RSA_PKCS1_PSS_PADDING, input, &len);

    return finish(p, input, sig, len);
}

char *wos_tk_sign_es256(apr_pool_t *p, EVP_PKEY *ec, const char *hdr, const char *pay)
{
    const char *input = signing_input(p, hdr, pay);
    size_t len = 0;
    unsigned char *der = digest_sign(p, ec, 0, input, &len), raw[64];
    const unsigned char *d = der;
    ECDSA_SIG *es;
    const BIGNUM *r, *s;
    int ok;

    if (!der || !(es = d2i_ECDSA_SIG(NULL, &d, (long)len)))
        return NULL;
    ECDSA_SIG_get0(es, &r, &s);
    ok = BN_bn2binpad(r, raw, 32) == 32 && BN_bn2binpad(s, raw + 32, 32) == 32;
    ECDSA_SIG_free(es);
    return ok ? finish(p, input, raw, sizeof(raw)) : NULL;
}

char *wos_tk_sign_hs256(apr_pool_t *p, const unsigned char *secret, size_t slen,
                        const char *hdr, const char *pay)
{
    const char *input = signing_input(p, hdr, pay);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mlen = 0;

    if (!HMAC(EVP_sha256(), secret, (int)slen, (const unsigned char *)input,
              strlen(input), mac, &mlen))
        return NULL;
    return finish(p, input, mac, mlen);
}

char *wos_tk_token(apr_pool_t *p, EVP_PKEY *rsa, const char *kid, const char *pay)
{
    const char *hdr = apr_psprintf(p, "{\"alg\":\"RS256\",\"kid\":\"%s\",\"typ\":\"JWT\"}", kid);

    return wos_tk_sign_rs256(p, rsa, hdr, pay);
}

char *wos_tk_claims(apr_pool_t *p, const char *sub, const char *sid,
                    const char *org_id, apr_int64_t exp)
{
    const char *org = org_id
        ? apr_psprintf(p, "\"org_id\":\"%s\",\"role\":\"member\",", org_id) : "";

    return apr_psprintf(p,
        "{\"iss\":\"https://api.workos.com/user_management/client_01TEST\","
        "\"sub\":\"%s\",\"sid\":\"%s\",\"jti\":\"01JTI%" APR_INT64_T_FMT "\",%s"
        "\"roles\":[\"member\"],\"permissions\":[\"posts:read\"],"
        "\"entitlements\":[],\"feature_flags\":[],"
        "\"iat\":%" APR_INT64_T_FMT ",\"auth_time\":%" APR_INT64_T_FMT ","
        "\"exp\":%" APR_INT64_T_FMT "}",
        sub, sid, exp, org, exp - 300, exp - 300, exp);
}
