/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_algs.c: HMAC and one-round PBKDF2 of src/wos_algs.c (OpenSSL's EVP_MAC
 * and EVP_KDF on templates fetched once, contexts reused). Expected values
 * come from RFC 4231 §4 (HMAC-SHA-256), RFC 2202 §3 (HMAC-SHA-1) and RFC 6070
 * §2 (PBKDF2-HMAC-SHA1), or are computed by OpenSSL's one-shot HMAC() and
 * PKCS5_PBKDF2_HMAC() as the oracle.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "testutil.h"
#include "wos_algs.h"

/* Hex text to bytes; *len gets the count. */
static unsigned char *unhex(const char *h, size_t *len)
{
    size_t n = strlen(h) / 2, i;
    unsigned char *b = apr_palloc(tp, n + 1);

    for (i = 0; i < n; i++) {
        unsigned v;
        ck_assert_int_eq(sscanf(h + 2 * i, "%2x", &v), 1);
        b[i] = (unsigned char)v;
    }
    *len = n;
    return b;
}

static unsigned char *repeat(unsigned char c, size_t n)
{
    unsigned char *b = apr_palloc(tp, n);
    memset(b, c, n);
    return b;
}

/* The algorithms, or a failed test. */
static const wos_algs *algs(void)
{
    const wos_algs *a = wos_algs_get();
    ck_assert_ptr_nonnull(a);
    return a;
}

/* A known-answer case. Key and data: "t:<text>", "r<N>:<xx>" (N bytes 0x<xx>) or hex. */
typedef struct { const char *key, *data, *mac; } kat;

static const unsigned char *kat_bytes(const char *s, size_t *len)
{
    unsigned n, c;

    if (!strncmp(s, "t:", 2)) {
        *len = strlen(s + 2);
        return (const unsigned char *)s + 2;
    }
    if (sscanf(s, "r%u:%2x", &n, &c) == 2) {
        *len = n;
        return repeat((unsigned char)c, n);
    }
    return unhex(s, len);
}

/* RFC 4231 §4.2-4.5, 4.7, 4.8 (case 5 is a truncated MAC: not ours to test). */
static const kat rfc4231[] = {
    { "r20:0b", "t:Hi There",
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
    { "t:Jefe", "t:what do ya want for nothing?",
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
    { "r20:aa", "r50:dd",
      "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
    { "0102030405060708090a0b0c0d0e0f10111213141516171819", "r50:cd",
      "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
    { "r131:aa", "t:Test Using Larger Than Block-Size Key - Hash Key First",
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
    { "r131:aa", "t:This is a test using a larger than block-size key and a larger "
      "than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
      "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
};

/* RFC 2202 §3, test cases 1-4, 6, 7 (6 and 7: an 80-byte key, longer than the block). */
static const kat rfc2202[] = {
    { "r20:0b", "t:Hi There", "b617318655057264e28bc0b6fb378c8ef146be00" },
    { "t:Jefe", "t:what do ya want for nothing?", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
    { "r20:aa", "r50:dd", "125d7342b9ac11cd91a39af48aa17b4f63f175d3" },
    { "0102030405060708090a0b0c0d0e0f10111213141516171819", "r50:cd",
      "4c9007f4026250c6bc8414f9bf50c86c2d7235da" },
    { "r80:aa", "t:Test Using Larger Than Block-Size Key - Hash Key First",
      "aa4ae5e15272d00e95705637ce8a3b55ed402112" },
    { "r80:aa", "t:Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
      "e8e99d0f45237d786d6bbaa7965c7808bbff1a91" },
};

static void check_kat(const kat *k, wos_digest d, const EVP_MD *md)
{
    EVP_MAC_CTX *ctx = wos_hmac_ctx(tp, d);
    size_t klen, dlen, mlen;
    const unsigned char *key = kat_bytes(k->key, &klen), *data = kat_bytes(k->data, &dlen);
    const unsigned char *want = unhex(k->mac, &mlen);
    unsigned char out[EVP_MAX_MD_SIZE];

    ck_assert_ptr_nonnull(ctx);
    ck_assert_uint_eq(mlen, (size_t)EVP_MD_get_size(md));
    ck_assert_int_eq(wos_hmac(ctx, key, klen, data, dlen, out), WOS_OK);
    ck_assert_mem_eq(out, want, mlen);
}

START_TEST(hmac_sha256_rfc4231)
{
    check_kat(&rfc4231[_i], WOS_SHA256, algs()->sha256);
}
END_TEST

START_TEST(hmac_sha1_rfc2202)
{
    check_kat(&rfc2202[_i], WOS_SHA1, algs()->sha1);
}
END_TEST

/* Key lengths around the 64-byte block (equal: used as is; one more: hashed), one context. */
START_TEST(hmac_matches_openssl)
{
    static const size_t klens[] = { 0, 1, 20, 63, 64, 65, 128, 200 };
    static const size_t dlens[] = { 0, 1, 55, 64, 119, 300 };
    const wos_digest ds[2] = { WOS_SHA1, WOS_SHA256 };
    const EVP_MD *ref[2] = { EVP_sha1(), EVP_sha256() };
    EVP_MAC_CTX *ctx;
    unsigned char key[200], data[300], out[EVP_MAX_MD_SIZE], want[EVP_MAX_MD_SIZE];
    unsigned int wlen;
    size_t i, j, m;

    for (i = 0; i < sizeof(key); i++)
        key[i] = (unsigned char)(i * 7 + 1);
    for (i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i * 13 + 5);
    for (m = 0; m < 2 && (ctx = wos_hmac_ctx(tp, ds[m])) != NULL; m++)
        for (i = 0; i < sizeof(klens) / sizeof(klens[0]); i++)
            for (j = 0; j < sizeof(dlens) / sizeof(dlens[0]); j++) {
                ck_assert_ptr_nonnull(HMAC(ref[m], key, (int)klens[i], data, dlens[j], want,
                                           &wlen));
                memset(out, 0, sizeof(out));
                ck_assert_int_eq(wos_hmac(ctx, key, klens[i], data, dlens[j], out), WOS_OK);
                ck_assert_msg(!memcmp(out, want, wlen), "md %zu key %zu data %zu", m, klens[i],
                              dlens[j]);
            }
    ck_assert_int_eq(m, 2);
}
END_TEST

/* RFC 6070 §2, first case: P "password", S "salt", c 1, dkLen 20. */
START_TEST(pbkdf2_rfc6070)
{
    EVP_KDF_CTX *ctx = wos_pbkdf2_ctx(tp, WOS_SHA1);
    size_t wlen;
    const unsigned char *want = unhex("0c60c80f961f0e71f3a9b524af6012062fe037a6", &wlen);
    unsigned char out[20];

    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(wos_pbkdf2_1(ctx, "password", "salt", 4, out, sizeof(out)), WOS_OK);
    ck_assert_uint_eq(wlen, sizeof(out));
    ck_assert_mem_eq(out, want, sizeof(out));
}
END_TEST

/* 32 bytes as iron derives them (two SHA-1 blocks, the second cut), and other lengths. */
START_TEST(pbkdf2_matches_openssl)
{
    static const size_t plens[] = { 0, 1, 8, 40, 64, 65, 100, 200 };
    static const size_t slens[] = { 0, 1, 4, 32, 64, 200, 253, 1000 };
    static const size_t olens[] = { 32, 1, 20, 40, 64, 100 };
    const wos_digest ds[2] = { WOS_SHA1, WOS_SHA256 };
    const EVP_MD *ref[2] = { EVP_sha1(), EVP_sha256() };
    EVP_KDF_CTX *ctx;
    char pw[201];
    unsigned char salt[1000], out[100], want[100];
    size_t i, j, o, m;

    for (i = 0; i < sizeof(salt); i++)
        salt[i] = (unsigned char)(i * 11 + 3);
    for (m = 0; m < 2 && (ctx = wos_pbkdf2_ctx(tp, ds[m])) != NULL; m++)
        for (i = 0; i < sizeof(plens) / sizeof(plens[0]); i++) {
            size_t k;
            for (k = 0; k < plens[i]; k++)
                pw[k] = (char)('!' + (k * 5 + i) % 94);
            pw[plens[i]] = '\0';
            for (j = 0; j < sizeof(slens) / sizeof(slens[0]); j++)
                for (o = 0; o < (m == 0 ? sizeof(olens) / sizeof(olens[0]) : 1); o++) {
                    ck_assert_int_eq(PKCS5_PBKDF2_HMAC(pw, (int)plens[i], salt, (int)slens[j], 1,
                                                       ref[m], (int)olens[o], want), 1);
                    memset(out, 0, sizeof(out));
                    ck_assert_int_eq(wos_pbkdf2_1(ctx, pw, salt, slens[j], out, olens[o]),
                                     WOS_OK);
                    ck_assert_msg(!memcmp(out, want, olens[o]),
                                  "md %zu password %zu salt %zu out %zu", m, plens[i], slens[j],
                                  olens[o]);
                }
        }
    ck_assert_int_eq(m, 2);
}
END_TEST

/* A PBKDF2 context outlives its pool as a spare: the next caller gets it, and its answers
 * depend on the new password and salt only. */
START_TEST(pbkdf2_context_reused)
{
    apr_pool_t *p1, *p2;
    EVP_KDF_CTX *first, *second;
    unsigned char out[20], want[20];
    size_t wlen;
    const unsigned char *rfc = unhex("0c60c80f961f0e71f3a9b524af6012062fe037a6", &wlen);

    ck_assert_int_eq(apr_pool_create(&p1, tp), APR_SUCCESS);
    first = wos_pbkdf2_ctx(p1, WOS_SHA1);
    ck_assert_ptr_nonnull(first);
    ck_assert_int_eq(wos_pbkdf2_1(first, "another password", "pepper", 6, out, sizeof(out)),
                     WOS_OK);
    ck_assert_int_eq(PKCS5_PBKDF2_HMAC("another password", 16, (const unsigned char *)"pepper",
                                       6, 1, EVP_sha1(), sizeof(want), want), 1);
    ck_assert_mem_eq(out, want, sizeof(out));
    apr_pool_destroy(p1);
    ck_assert_int_eq(apr_pool_create(&p2, tp), APR_SUCCESS);
    second = wos_pbkdf2_ctx(p2, WOS_SHA1);
    ck_assert_ptr_eq(second, first);
    ck_assert_int_eq(wos_pbkdf2_1(second, "password", "salt", 4, out, sizeof(out)), WOS_OK);
    ck_assert_mem_eq(out, rfc, sizeof(out));
    ck_assert_ptr_ne(wos_pbkdf2_ctx(p2, WOS_SHA1), second);     /* one user at a time */
}
END_TEST

/* Contexts come from templates: a duplicate keyed by one caller leaves the others alone. */
START_TEST(contexts_are_independent)
{
    EVP_MAC_CTX *a = wos_hmac_ctx(tp, WOS_SHA256), *b = wos_hmac_ctx(tp, WOS_SHA256);
    unsigned char one[32], two[32], again[32];

    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(wos_hmac(a, "key one", 7, "data", 4, one), WOS_OK);
    ck_assert_int_eq(wos_hmac(b, "key two", 7, "data", 4, two), WOS_OK);
    ck_assert_int_eq(wos_hmac(a, "key one", 7, "data", 4, again), WOS_OK);
    ck_assert_mem_eq(one, again, sizeof(one));
    ck_assert(memcmp(one, two, sizeof(one)) != 0);
    ck_assert_ptr_null(wos_hmac_ctx(tp, WOS_DIGESTS));
    ck_assert_ptr_null(wos_pbkdf2_ctx(tp, WOS_DIGESTS));
    ck_assert_int_eq(wos_hmac(NULL, "k", 1, "d", 1, one), WOS_ECRYPTO);
    ck_assert_int_eq(wos_pbkdf2_1(NULL, "pw", "salt", 4, one, sizeof(one)), WOS_ECRYPTO);
}
END_TEST

static Suite *algs_suite(void)
{
    Suite *s = suite_create("algs");
    TCase *th = wos_tcase("hmac");
    TCase *tk = wos_tcase("pbkdf2");

    tcase_add_loop_test(th, hmac_sha256_rfc4231, 0, (int)(sizeof(rfc4231) / sizeof(rfc4231[0])));
    tcase_add_loop_test(th, hmac_sha1_rfc2202, 0, (int)(sizeof(rfc2202) / sizeof(rfc2202[0])));
    tcase_add_test(th, hmac_matches_openssl);
    suite_add_tcase(s, th);
    tcase_add_test(tk, pbkdf2_rfc6070);
    tcase_add_test(tk, pbkdf2_matches_openssl);
    tcase_add_test(tk, pbkdf2_context_reused);
    tcase_add_test(tk, contexts_are_independent);
    suite_add_tcase(s, tk);
    return s;
}

WOS_TEST_MAIN(algs_suite)
