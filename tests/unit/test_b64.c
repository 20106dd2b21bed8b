/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_b64.c: strict base64url (wos_b64) and randomness/PKCE (wos_rand).
 * Expected encodings come from RFC 4648 §10 and RFC 7636 Appendix B.
 */
#include <openssl/evp.h>
#include "testutil.h"
#include "wos_b64.h"
#include "wos_rand.h"

/* RFC 4648 §10 test vectors, padding removed (base64url = base64 here). */
static const struct { const char *plain, *enc; } rfc4648[] = {
    { "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
    { "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" },
};

static wos_rv dec(const char *s, unsigned char **out, apr_size_t *len)
{
    return wos_b64url_decode(tp, s, strlen(s), out, len);
}

START_TEST(encode_rfc4648)
{
    const char *plain = rfc4648[_i].plain;
    ck_assert_str_eq(wos_b64url_encode(tp, (const unsigned char *)plain, strlen(plain)),
                     rfc4648[_i].enc);
}
END_TEST

START_TEST(decode_rfc4648)
{
    unsigned char *out;
    apr_size_t len;

    ck_assert_int_eq(dec(rfc4648[_i].enc, &out, &len), WOS_OK);
    ck_assert_uint_eq(len, strlen(rfc4648[_i].plain));
    ck_assert_mem_eq(out, rfc4648[_i].plain, len);
    ck_assert_int_eq(out[len], '\0');
}
END_TEST

/* 0xfb 0xef 0xff = 111110 111110 111111 111111: the two URL-only letters. */
START_TEST(url_alphabet)
{
    static const unsigned char bytes[] = { 0xfb, 0xef, 0xff, 0xfb, 0xff };
    unsigned char *out;
    apr_size_t len;

    ck_assert_str_eq(wos_b64url_encode(tp, bytes, 3), "--__");
    ck_assert_str_eq(wos_b64url_encode(tp, bytes + 3, 2), "-_8");
    ck_assert_int_eq(dec("--__-_8", &out, &len), WOS_OK);
    ck_assert_uint_eq(len, 5);
    ck_assert_mem_eq(out, bytes, 5);
}
END_TEST

START_TEST(roundtrip_all_lengths)
{
    unsigned char buf[300], *out;
    apr_size_t n, len, i;

    for (i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)(i * 7 + 3);
    for (n = 0; n <= sizeof(buf); n++) {
        char *enc = wos_b64url_encode(tp, buf, n);
        ck_assert_uint_eq(strlen(enc), (n * 4 + 2) / 3);
        ck_assert_int_eq(dec(enc, &out, &len), WOS_OK);
        ck_assert_uint_eq(len, n);
        ck_assert(n == 0 || memcmp(out, buf, n) == 0);
    }
}
END_TEST

/* Standard-alphabet, padded, whitespace or otherwise foreign characters. */
static const char *bad_chars[] = {
    "Zm9v+mFy", "Zm9v/mFy", "Zg==", "Zm8=", "Zm9v Zg", "Zm9v\nZg", "Zm9v\tZg",
    "Zm9v.g", "Zm9v*g", " Zm9v", "Zm9v ", "Zm9=", "Zm\xc3\xa9v", "=Zm9",
};

START_TEST(reject_bad_chars)
{
    unsigned char *out = (unsigned char *)"x";
    apr_size_t len = 99;

    ck_assert_int_eq(dec(bad_chars[_i], &out, &len), WOS_EINVAL);
    ck_assert_ptr_null(out);
    ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(reject_length_1_mod_4)
{
    unsigned char *out;
    apr_size_t len;

    ck_assert_int_eq(dec("Z", &out, &len), WOS_EINVAL);
    ck_assert_int_eq(dec("Zm9vZ", &out, &len), WOS_EINVAL);
    ck_assert_int_eq(dec("Zm9vYmFyZ", &out, &len), WOS_EINVAL);
}
END_TEST

/* "Zh" and "Zm9" encode the same bytes as "Zg"/"Zm8" but with bits set. */
START_TEST(reject_nonzero_trailing_bits)
{
    static const char *bad[] = { "Zh", "Zv", "Z_", "Zm9", "Zm-", "Zm_", "Zm9vYh", "Zm9vYmF" };
    unsigned char *out;
    apr_size_t len, i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(dec(bad[i], &out, &len) == WOS_EINVAL, "accepted %s", bad[i]);
    /* The canonical neighbours still decode. */
    ck_assert_int_eq(dec("Zg", &out, &len), WOS_OK);
    ck_assert_int_eq(dec("Zm8", &out, &len), WOS_OK);
    ck_assert_int_eq(dec("Zm9vYg", &out, &len), WOS_OK);
}
END_TEST

/*
 * Against OpenSSL's decoder as an oracle: every byte value in every position
 * of inputs of 2 to 5 characters (full blocks and both tails) is accepted or
 * refused alike, and decodes alike. The oracle applies the same strictness:
 * URL alphabet only, no 4n+1 length, unused trailing bits zero.
 */
static int oracle_decode(const unsigned char *in, apr_size_t len, unsigned char *out,
                         apr_size_t *outlen)
{
    unsigned char std[12], raw[12];
    apr_size_t i, rem = len % 4, padded = len + (rem ? 4 - rem : 0);
    const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    int last = 0;

    if (rem == 1)
        return 0;
    for (i = 0; i < len; i++) {
        const char *at = in[i] ? strchr(alpha, in[i]) : NULL;
        if (!at)
            return 0;
        last = (int)(at - alpha);
        std[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
    }
    if ((rem == 2 && (last & 0x0f)) || (rem == 3 && (last & 0x03)))
        return 0;
    for (; i < padded; i++)
        std[i] = '=';
    if (EVP_DecodeBlock(raw, std, (int)padded) != (int)(padded / 4 * 3))
        return 0;
    *outlen = len / 4 * 3 + (rem ? rem - 1 : 0);
    memcpy(out, raw, *outlen);
    return 1;
}

START_TEST(decode_matches_openssl)
{
    const unsigned char base[] = "QUJD";    /* "ABC", plus one more for 5-char inputs */
    unsigned char in[8], want[12], *got;
    apr_size_t len, pos, wantlen, gotlen;
    int c, ok;

    for (len = 2; len <= 5; len++) {
        for (pos = 0; pos < len; pos++) {
            for (c = 0; c < 256; c++) {
                memcpy(in, base, 4);
                in[4] = 'Q';
                in[pos] = (unsigned char)c;
                ok = oracle_decode(in, len, want, &wantlen);
                ck_assert_int_eq(wos_b64url_decode(tp, (const char *)in, len, &got, &gotlen),
                                 ok ? WOS_OK : WOS_EINVAL);
                if (ok) {
                    ck_assert_uint_eq(gotlen, wantlen);
                    ck_assert(memcmp(got, want, wantlen) == 0);
                }
            }
        }
    }
}
END_TEST

START_TEST(reject_embedded_nul_and_null)
{
    unsigned char *out;
    apr_size_t len;

    ck_assert_int_eq(wos_b64url_decode(tp, "Zm\0v", 4, &out, &len), WOS_EINVAL);
    ck_assert_int_eq(wos_b64url_decode(tp, NULL, 0, &out, &len), WOS_EINVAL);
}
END_TEST

/* Only inlen bytes are read: a longer buffer's tail is ignored. */
START_TEST(decode_respects_length)
{
    unsigned char *out;
    apr_size_t len;

    ck_assert_int_eq(wos_b64url_decode(tp, "Zm9v!!!", 4, &out, &len), WOS_OK);
    ck_assert_uint_eq(len, 3);
    ck_assert_mem_eq(out, "foo", 3);
}
END_TEST

START_TEST(rand_bytes_fill)
{
    unsigned char a[32], b[32], zero[32];

    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    memset(zero, 0, sizeof(zero));
    ck_assert_int_eq(wos_rand_bytes(a, sizeof(a)), WOS_OK);
    ck_assert_int_eq(wos_rand_bytes(b, sizeof(b)), WOS_OK);
    /* 2^-256 odds of a false failure. */
    ck_assert(memcmp(a, b, sizeof(a)) != 0);
    ck_assert(memcmp(a, zero, sizeof(a)) != 0);
    ck_assert_int_eq(wos_rand_bytes(a, 0), WOS_OK);
    ck_assert_int_eq(wos_rand_bytes(NULL, 4), WOS_EINVAL);
}
END_TEST

START_TEST(rand_token_shape)
{
    const char *t1, *t2;
    unsigned char *raw;
    apr_size_t len;

    ck_assert_int_eq(wos_rand_token(tp, 32, &t1), WOS_OK);
    ck_assert_int_eq(wos_rand_token(tp, 32, &t2), WOS_OK);
    ck_assert_uint_eq(strlen(t1), 43);
    ck_assert_str_ne(t1, t2);
    ck_assert_int_eq(dec(t1, &raw, &len), WOS_OK);
    ck_assert_uint_eq(len, 32);
    ck_assert_int_eq(wos_rand_token(tp, 0, &t1), WOS_EINVAL);
    ck_assert_ptr_null(t1);
    ck_assert_int_eq(wos_rand_token(tp, 1 << 20, &t1), WOS_EINVAL);
}
END_TEST

/* RFC 7636 Appendix B. */
START_TEST(pkce_rfc7636)
{
    ck_assert_str_eq(wos_pkce_challenge(tp, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
                     "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    ck_assert_ptr_null(wos_pkce_challenge(tp, NULL));
}
END_TEST

/* SHA-256("") = e3b0c442...b855, whose base64url is well known. */
START_TEST(pkce_empty_verifier)
{
    ck_assert_str_eq(wos_pkce_challenge(tp, ""),
                     "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
}
END_TEST

static Suite *b64_suite(void)
{
    Suite *s = suite_create("b64");
    TCase *tc = wos_tcase("b64url");
    TCase *tr = wos_tcase("rand");
    int n4648 = (int)(sizeof(rfc4648) / sizeof(rfc4648[0]));
    int nbad = (int)(sizeof(bad_chars) / sizeof(bad_chars[0]));

    tcase_add_loop_test(tc, encode_rfc4648, 0, n4648);
    tcase_add_loop_test(tc, decode_rfc4648, 0, n4648);
    tcase_add_test(tc, url_alphabet);
    tcase_add_test(tc, roundtrip_all_lengths);
    tcase_add_loop_test(tc, reject_bad_chars, 0, nbad);
    tcase_add_test(tc, reject_length_1_mod_4);
    tcase_add_test(tc, reject_nonzero_trailing_bits);
    tcase_add_test(tc, decode_matches_openssl);
    tcase_add_test(tc, reject_embedded_nul_and_null);
    tcase_add_test(tc, decode_respects_length);
    suite_add_tcase(s, tc);
    tcase_add_test(tr, rand_bytes_fill);
    tcase_add_test(tr, rand_token_shape);
    tcase_add_test(tr, pkce_rfc7636);
    tcase_add_test(tr, pkce_empty_verifier);
    suite_add_tcase(s, tr);
    return s;
}

WOS_TEST_MAIN(b64_suite)
