/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_rs256.c: RS256 verification on kept contexts. A kept context must
 * give the same answers as a fresh one, whatever came before it (a bad
 * signature, another key's signature), and under many threads at once.
 */
#include <pthread.h>
#include <openssl/evp.h>

#include "testutil.h"
#include "testkeys.h"
#include "wos_algs.h"
#include "wos_rs256.h"

#define MSG "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyXzAxIn0"

/* RSASSA-PKCS1-v1_5 SHA-256 signature of @p msg (256 bytes for 2048-bit keys). */
static unsigned char *sign(EVP_PKEY *k, const char *msg, size_t *len)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char *sig = apr_palloc(tp, 512);

    *len = 512;
    ck_assert(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k) == 1);
    ck_assert(EVP_DigestSign(md, sig, len, (const unsigned char *)msg, strlen(msg)) == 1);
    EVP_MD_CTX_free(md);
    return sig;
}

static wos_rv check(wos_rs256 *v, const char *msg, const unsigned char *sig, size_t len)
{
    return wos_rs256_verify(v, msg, strlen(msg), sig, len);
}

START_TEST(good_bad_good_on_one_key)
{
    wos_rs256 *v = wos_rs256_make(tp, wos_tk_rsa2048());
    size_t n, n2;
    unsigned char *sig = sign(wos_tk_rsa2048(), MSG, &n);
    unsigned char *other = sign(wos_tk_rsa2048b(), MSG, &n2);
    unsigned char *flipped = apr_pmemdup(tp, sig, n);
    int i;

    flipped[n / 2] ^= 0x01;
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(wos_rs256_spares(v), 0);
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(check(v, MSG, sig, n), WOS_OK);
        /* The context that verified is kept, and only one is needed in turn. */
        ck_assert_int_eq(wos_rs256_spares(v), 1);
        ck_assert_int_eq(check(v, MSG, flipped, n), WOS_EMAC);
        ck_assert_int_eq(check(v, MSG, other, n2), WOS_EMAC);
        ck_assert_int_eq(check(v, MSG "x", sig, n), WOS_EMAC);
        ck_assert_int_eq(check(v, MSG, sig, n - 1), WOS_EMAC);
        ck_assert_int_eq(check(v, "", sig, n), WOS_EMAC);
        /* A context that saw a failure was dropped, not kept. */
        ck_assert_int_eq(wos_rs256_spares(v), 0);
    }
}
END_TEST

START_TEST(keys_do_not_share_contexts)
{
    wos_rs256 *a = wos_rs256_make(tp, wos_tk_rsa2048());
    wos_rs256 *b = wos_rs256_make(tp, wos_tk_rsa2048b());
    size_t na, nb;
    unsigned char *sa = sign(wos_tk_rsa2048(), MSG, &na);
    unsigned char *sb = sign(wos_tk_rsa2048b(), MSG, &nb);

    ck_assert_int_eq(check(a, MSG, sa, na), WOS_OK);
    ck_assert_int_eq(check(b, MSG, sb, nb), WOS_OK);
    /* Both warm now: each still refuses the other's signature. */
    ck_assert_int_eq(check(a, MSG, sb, nb), WOS_EMAC);
    ck_assert_int_eq(check(b, MSG, sa, na), WOS_EMAC);
    ck_assert_int_eq(check(a, MSG, sa, na), WOS_OK);
    ck_assert_int_eq(check(b, MSG, sb, nb), WOS_OK);
}
END_TEST

/* The key's type is checked once, when the verifier is made. */
START_TEST(only_rsa_keys)
{
    ck_assert_ptr_null(wos_rs256_make(tp, wos_tk_ec256()));
    ck_assert_ptr_null(wos_rs256_make(tp, NULL));
    ck_assert_ptr_nonnull(wos_rs256_make(tp, wos_tk_rsa2048()));
}
END_TEST

/* Signatures one byte short or long are refused; the right length still verifies. */
START_TEST(wrong_lengths_refused)
{
    wos_rs256 *v = wos_rs256_make(tp, wos_tk_rsa2048());
    size_t n;
    unsigned char *sig = sign(wos_tk_rsa2048(), MSG, &n);

    ck_assert_int_eq(check(v, MSG, sig, n + 1), WOS_EMAC);
    ck_assert_int_eq(check(v, MSG, sig, n - 1), WOS_EMAC);
    ck_assert_int_eq(check(v, MSG, sig, n), WOS_OK);
    ck_assert_int_eq(wos_rs256_spares(v), 1);
}
END_TEST

START_TEST(no_verifier_is_a_fault)
{
    unsigned char sig[256] = { 0 };

    ck_assert_int_eq(wos_rs256_verify(NULL, MSG, strlen(MSG), sig, sizeof(sig)), WOS_ECRYPTO);
}
END_TEST

/* Threads verify good and bad signatures on one key at once. */
typedef struct {
    wos_rs256 *v;
    const unsigned char *good, *bad;
    size_t len;
    int wrong;
} job;

#define THREADS 24
#define ROUNDS 60

static void *worker(void *arg)
{
    job *j = arg;
    int i;

    for (i = 0; i < ROUNDS; i++) {
        int good = (i % 3) != 0;
        wos_rv rv = wos_rs256_verify(j->v, MSG, strlen(MSG), good ? j->good : j->bad, j->len);
        if (rv != (good ? WOS_OK : WOS_EMAC))
            __atomic_add_fetch(&j->wrong, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

START_TEST(threads_share_one_key)
{
    wos_rs256 *v = wos_rs256_make(tp, wos_tk_rsa2048());
    size_t n;
    unsigned char *sig = sign(wos_tk_rsa2048(), MSG, &n);
    unsigned char *bad = apr_pmemdup(tp, sig, n);
    job j;
    pthread_t t[THREADS];
    int i;

    bad[0] ^= 0x80;
    j.v = v;
    j.good = sig;
    j.bad = bad;
    j.len = n;
    j.wrong = 0;
    for (i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, worker, &j), 0);
    for (i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    ck_assert_int_eq(j.wrong, 0);
    /* Never more spares than threads that held a context at once, nor the cap. */
    ck_assert_int_ge(wos_rs256_spares(v), 1);
    ck_assert_int_le(wos_rs256_spares(v), THREADS);
}
END_TEST

START_TEST(one_after_another_reuse_one_context)
{
    wos_rs256 *v = wos_rs256_make(tp, wos_tk_rsa2048());
    size_t n;
    unsigned char *sig = sign(wos_tk_rsa2048(), MSG, &n);
    int i;

    for (i = 0; i < WOS_RS256_SPARES + 16; i++)
        ck_assert_int_eq(check(v, MSG, sig, n), WOS_OK);
    ck_assert_int_eq(wos_rs256_spares(v), 1);
}
END_TEST

static Suite *rs256_suite(void)
{
    Suite *s = suite_create("rs256");
    TCase *tc = wos_tcase("rs256");

    wos_tk_init();
    tcase_add_test(tc, good_bad_good_on_one_key);
    tcase_add_test(tc, keys_do_not_share_contexts);
    tcase_add_test(tc, only_rsa_keys);
    tcase_add_test(tc, wrong_lengths_refused);
    tcase_add_test(tc, no_verifier_is_a_fault);
    tcase_add_test(tc, threads_share_one_key);
    tcase_add_test(tc, one_after_another_reuse_one_context);
    suite_add_tcase(s, tc);
    return s;
}

WOS_TEST_MAIN(rs256_suite)
