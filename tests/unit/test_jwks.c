/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_jwks.c: JWKS parsing. Keys come from testkeys (generated at run time);
 * each rejection rule has its own case, and a parsed key is compared with
 * the original public key through OpenSSL, not through the parser.
 */
#include <openssl/bn.h>
#include <openssl/core_names.h>

#include "testutil.h"
#include "testkeys.h"
#include "wos_b64.h"
#include "wos_jwks.h"

/* Parse @p doc; assert the result code. */
static wos_jwks *parse_rv(const char *doc, wos_rv want)
{
    wos_jwks *set = NULL;
    const char *err = NULL;
    wos_rv rv = wos_jwks_parse(tp, doc, strlen(doc), &set, &err);

    ck_assert_msg(rv == want, "rv %s, want %s (%s)", wos_strerror(rv), wos_strerror(want),
                  err ? err : "-");
    if (rv == WOS_OK)
        ck_assert_ptr_nonnull(set);
    else
        ck_assert_ptr_nonnull(err);
    return set;
}

static wos_jwks *parse_ok(const char *doc)
{
    return parse_rv(doc, WOS_OK);
}

/* A JWKS whose only entry is {<members>,<n/e of the main key>}. */
static const char *doc_with(const char *members)
{
    return apr_psprintf(tp, "{\"keys\":[{%s,%s}]}", members, wos_tk_jwk_ne(tp, wos_tk_rsa2048()));
}

/* A JWKS whose only entry is {"kty":"RSA","kid":"k",<members>} (members give n and e). */
static const char *doc_ne(const char *ne)
{
    return apr_psprintf(tp, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k\",%s}]}", ne);
}

static const char *b64_of_bn(const BIGNUM *bn)
{
    int n = BN_num_bytes(bn);
    unsigned char *bin = apr_palloc(tp, (apr_size_t)n + 1);

    BN_bn2bin(bn, bin);
    return wos_tk_b64url(tp, bin, (size_t)n);
}

static const char *main_n(void)
{
    BIGNUM *n = NULL;
    const char *s;

    ck_assert(EVP_PKEY_get_bn_param(wos_tk_rsa2048(), OSSL_PKEY_PARAM_RSA_N, &n));
    s = b64_of_bn(n);
    BN_free(n);
    return s;
}

/* Assert the set has no usable key and exactly one skipped line starting with @p label. */
static void assert_skipped_only(const wos_jwks *set, const char *label)
{
    const char *line;

    ck_assert_int_eq(set->keys->nelts, 0);
    ck_assert_int_eq(set->skipped->nelts, 1);
    line = APR_ARRAY_IDX(set->skipped, 0, const char *);
    ck_assert_msg(strncmp(line, label, strlen(label)) == 0 && line[strlen(label)] == ':',
                  "skipped line '%s' does not start with '%s:'", line, label);
}

static void assert_one_key(const wos_jwks *set, const char *kid, EVP_PKEY *want)
{
    const wos_jwk *k;

    ck_assert_int_eq(set->keys->nelts, 1);
    k = &APR_ARRAY_IDX(set->keys, 0, wos_jwk);
    ck_assert_str_eq(k->kid, kid);
    ck_assert_int_eq(k->bits, EVP_PKEY_get_bits(want));
    ck_assert_int_eq(EVP_PKEY_eq(k->pkey, want), 1);
}

START_TEST(good_key_matches_original)
{
    wos_jwks *set = parse_ok(wos_tk_jwks(tp, wos_tk_rsa2048(), "k1"));

    assert_one_key(set, "k1", wos_tk_rsa2048());
    ck_assert_int_eq(set->skipped->nelts, 0);
    ck_assert_int_eq(EVP_PKEY_eq(APR_ARRAY_IDX(set->keys, 0, wos_jwk).pkey,
                                 wos_tk_rsa2048b()), 0);
}
END_TEST

START_TEST(find_is_exact)
{
    const char *doc = apr_psprintf(tp, "{\"keys\":[%s,%s]}",
                                   wos_tk_jwk(tp, wos_tk_rsa2048(), "k1"),
                                   wos_tk_jwk(tp, wos_tk_rsa2048b(), "k2"));
    wos_jwks *set = parse_ok(doc);
    const wos_jwk *k;

    ck_assert_int_eq(set->keys->nelts, 2);
    k = wos_jwks_find(set, "k2");
    ck_assert_ptr_nonnull(k);
    ck_assert_int_eq(EVP_PKEY_eq(k->pkey, wos_tk_rsa2048b()), 1);
    ck_assert_ptr_nonnull(wos_jwks_find(set, "k1"));
    ck_assert_ptr_null(wos_jwks_find(set, "K1"));
    ck_assert_ptr_null(wos_jwks_find(set, "k1 "));
    ck_assert_ptr_null(wos_jwks_find(set, "k"));
    ck_assert_ptr_null(wos_jwks_find(set, ""));
    ck_assert_ptr_null(wos_jwks_find(set, NULL));
    ck_assert_ptr_null(wos_jwks_find(NULL, "k1"));
}
END_TEST

/* The example shape from docs/workos-protocol.md, with a key made here. */
START_TEST(workos_shaped_example)
{
    const char *kid = "sso_oidc_key_pair_01HXYZABCDEFGHJKMNPQRSTVWX";
    const char *doc = apr_psprintf(tp,
        "{\"keys\":[{\"alg\":\"RS256\",\"kty\":\"RSA\",\"use\":\"sig\",\"kid\":\"%s\",%s,"
        "\"x5c\":[\"MIIDQjCCAiqgAwIBAgIGATz/FuLiMA0GCSqGSIb3DQEBBQUAMGIxCzAJB\"],"
        "\"x5t#S256\":\"ZmFrZS10aHVtYnByaW50\"}]}", kid, wos_tk_jwk_ne(tp, wos_tk_rsa2048()));
    wos_jwks *set = parse_ok(doc);

    assert_one_key(set, kid, wos_tk_rsa2048());
    ck_assert_int_eq(set->skipped->nelts, 0);
    ck_assert_ptr_nonnull(wos_jwks_find(set, kid));
}
END_TEST

START_TEST(optional_members_absent_kept)
{
    /* use, alg and key_ops are optional; only kty, kid, n, e are required. */
    wos_jwks *set = parse_ok(doc_with("\"kty\":\"RSA\",\"kid\":\"bare\""));

    assert_one_key(set, "bare", wos_tk_rsa2048());
}
END_TEST

START_TEST(small_key_skipped)
{
    wos_jwks *set = parse_ok(wos_tk_jwks(tp, wos_tk_rsa1024(), "small"));

    assert_skipped_only(set, "small");
    ck_assert_ptr_nonnull(strstr(APR_ARRAY_IDX(set->skipped, 0, const char *), "1024"));
}
END_TEST

START_TEST(non_rsa_skipped)
{
    BIGNUM *x = NULL, *y = NULL;
    wos_jwks *set;

    ck_assert(EVP_PKEY_get_bn_param(wos_tk_ec256(), OSSL_PKEY_PARAM_EC_PUB_X, &x));
    ck_assert(EVP_PKEY_get_bn_param(wos_tk_ec256(), OSSL_PKEY_PARAM_EC_PUB_Y, &y));
    set = parse_ok(apr_psprintf(tp, "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
                                "\"kid\":\"ec\",\"use\":\"sig\",\"alg\":\"ES256\","
                                "\"x\":\"%s\",\"y\":\"%s\"}]}", b64_of_bn(x), b64_of_bn(y)));
    BN_free(x);
    BN_free(y);
    assert_skipped_only(set, "ec");
    /* An "oct" (HMAC) key must never be usable either, even with RSA-looking members. */
    assert_skipped_only(parse_ok(doc_with("\"kty\":\"oct\",\"kid\":\"oct\",\"k\":\"c2VjcmV0\"")),
                        "oct");
    assert_skipped_only(parse_ok(doc_with("\"kid\":\"nokty\"")), "nokty");
    assert_skipped_only(parse_ok(doc_with("\"kty\":1,\"kid\":\"numkty\"")), "numkty");
    assert_skipped_only(parse_ok(doc_with("\"kty\":\"rsa\",\"kid\":\"lower\"")), "lower");
}
END_TEST

START_TEST(use_enc_skipped)
{
    assert_skipped_only(parse_ok(doc_with("\"kty\":\"RSA\",\"kid\":\"e1\",\"use\":\"enc\"")),
                        "e1");
    assert_skipped_only(parse_ok(doc_with("\"kty\":\"RSA\",\"kid\":\"e2\",\"use\":[\"sig\"]")),
                        "e2");
    assert_one_key(parse_ok(doc_with("\"kty\":\"RSA\",\"kid\":\"e3\",\"use\":\"sig\"")), "e3",
                   wos_tk_rsa2048());
}
END_TEST

START_TEST(alg_other_skipped)
{
    static const char *const algs[] = { "RS512", "rs256", "PS256", "none", "HS256", "" };
    size_t i;

    for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
        assert_skipped_only(parse_ok(doc_with(apr_psprintf(
            tp, "\"kty\":\"RSA\",\"kid\":\"a\",\"alg\":\"%s\"", algs[i]))), "a");
    assert_skipped_only(parse_ok(doc_with("\"kty\":\"RSA\",\"kid\":\"a\",\"alg\":null")), "a");
}
END_TEST

START_TEST(key_ops_checked)
{
    assert_skipped_only(parse_ok(doc_with(
        "\"kty\":\"RSA\",\"kid\":\"o1\",\"key_ops\":[\"encrypt\"]")), "o1");
    assert_skipped_only(parse_ok(doc_with(
        "\"kty\":\"RSA\",\"kid\":\"o2\",\"key_ops\":\"verify\"")), "o2");
    assert_one_key(parse_ok(doc_with(
        "\"kty\":\"RSA\",\"kid\":\"o3\",\"key_ops\":[\"verify\"]")), "o3", wos_tk_rsa2048());
}
END_TEST

START_TEST(bad_kid_skipped)
{
    static const char *const kids[] = {
        "", "\"kid\":\"\",", "\"kid\":7,", "\"kid\":null,", "\"kid\":[\"k\"],",
        "\"kid\":\"tab\\there\",", "\"kid\":\"caf\\u00e9\",",
    };
    size_t i;

    for (i = 0; i < sizeof(kids) / sizeof(kids[0]); i++) {
        wos_jwks *set = parse_ok(doc_with(apr_psprintf(tp, "%s\"kty\":\"RSA\"", kids[i])));
        ck_assert_msg(set->keys->nelts == 0, "case %d kept", (int)i);
        assert_skipped_only(set, "#0");
    }
}
END_TEST

START_TEST(long_kid_skipped_not_echoed)
{
    char kid[200];
    wos_jwks *set;

    memset(kid, 'Q', sizeof(kid) - 1);
    kid[sizeof(kid) - 1] = '\0';
    set = parse_ok(doc_with(apr_psprintf(tp, "\"kty\":\"RSA\",\"kid\":\"%s\"", kid)));
    assert_skipped_only(set, "#0");
    ck_assert_ptr_null(strstr(APR_ARRAY_IDX(set->skipped, 0, const char *), "QQQQ"));
    /* 128 printable characters are still a kid. */
    kid[128] = '\0';
    assert_one_key(parse_ok(doc_with(apr_psprintf(tp, "\"kty\":\"RSA\",\"kid\":\"%s\"", kid))),
                   kid, wos_tk_rsa2048());
}
END_TEST

START_TEST(malformed_n_skipped)
{
    const char *n = main_n();
    const char *cases[] = {
        "\"n\":\"\",\"e\":\"AQAB\"",
        "\"e\":\"AQAB\"",
        "\"n\":12345,\"e\":\"AQAB\"",
        apr_psprintf(tp, "\"n\":\"%s=\",\"e\":\"AQAB\"", n),      /* padding */
        apr_psprintf(tp, "\"n\":\"+%s\",\"e\":\"AQAB\"", n + 1),  /* standard alphabet */
        apr_psprintf(tp, "\"n\":\"%.100s %s\",\"e\":\"AQAB\"", n, n + 100),
        apr_psprintf(tp, "\"n\":\"%sA\",\"e\":\"AQAB\"", n),      /* length 1 mod 4 */
    };
    size_t i;

    /* 2048 bits = 256 bytes -> 342 chars with 4 unused low bits in the last one. */
    ck_assert_int_eq((int)strlen(n), 342);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        wos_jwks *set = parse_ok(doc_ne(cases[i]));
        ck_assert_msg(set->keys->nelts == 0, "case %d kept", (int)i);
        assert_skipped_only(set, "k");
    }
}
END_TEST

START_TEST(noncanonical_n_skipped)
{
    /* Same value with nonzero unused bits in the last character: two spellings of one key. */
    char *n = apr_pstrdup(tp, main_n());
    char *last = n + strlen(n) - 1;
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    int v = (int)(strchr(abc, *last) - abc);

    *last = abc[v | 1];
    assert_skipped_only(parse_ok(doc_ne(apr_psprintf(tp, "\"n\":\"%s\",\"e\":\"AQAB\"", n))),
                        "k");
}
END_TEST

START_TEST(even_or_huge_n_skipped)
{
    BIGNUM *n = NULL;
    unsigned char big[2100];
    wos_jwks *set;

    ck_assert(EVP_PKEY_get_bn_param(wos_tk_rsa2048(), OSSL_PKEY_PARAM_RSA_N, &n));
    BN_clear_bit(n, 0);
    set = parse_ok(doc_ne(apr_psprintf(tp, "\"n\":\"%s\",\"e\":\"AQAB\"", b64_of_bn(n))));
    BN_free(n);
    assert_skipped_only(set, "k");
    ck_assert_ptr_nonnull(strstr(APR_ARRAY_IDX(set->skipped, 0, const char *), "even"));

    memset(big, 0xff, sizeof(big));  /* 16800 bits, odd: over the 16384-bit bound */
    set = parse_ok(doc_ne(apr_psprintf(tp, "\"n\":\"%s\",\"e\":\"AQAB\"",
                                       wos_tk_b64url(tp, big, sizeof(big)))));
    assert_skipped_only(set, "k");
}
END_TEST

START_TEST(leading_zero_n_same_key)
{
    BIGNUM *n = NULL;
    unsigned char bin[257];
    wos_jwks *set;

    ck_assert(EVP_PKEY_get_bn_param(wos_tk_rsa2048(), OSSL_PKEY_PARAM_RSA_N, &n));
    bin[0] = 0;
    ck_assert_int_eq(BN_bn2binpad(n, bin + 1, 256), 256);
    BN_free(n);
    set = parse_ok(doc_ne(apr_psprintf(tp, "\"n\":\"%s\",\"e\":\"AQAB\"",
                                       wos_tk_b64url(tp, bin, sizeof(bin)))));
    assert_one_key(set, "k", wos_tk_rsa2048());
}
END_TEST

START_TEST(bad_e_skipped)
{
    const char *n = main_n();
    /* e = 2 (even), 1, 0, 2^32 + 1 (5 bytes), missing, not a string, bad base64url */
    static const char *const es[] = { "\"Ag\"", "\"AQ\"", "\"AA\"", "\"AQAAAAE\"", NULL,
                                      "65537", "\"AQA=\"" };
    size_t i;

    for (i = 0; i < sizeof(es) / sizeof(es[0]); i++) {
        const char *members = es[i] ? apr_psprintf(tp, "\"n\":\"%s\",\"e\":%s", n, es[i])
                                    : apr_psprintf(tp, "\"n\":\"%s\"", n);
        wos_jwks *set = parse_ok(doc_ne(members));
        ck_assert_msg(set->keys->nelts == 0, "case %d kept", (int)i);
        assert_skipped_only(set, "k");
    }
}
END_TEST

START_TEST(small_odd_e_accepted)
{
    /* e = 3 and e = 2^32 - 1 are inside the bounds; with another e the key differs. */
    const char *n = main_n();
    wos_jwks *set = parse_ok(doc_ne(apr_psprintf(tp, "\"n\":\"%s\",\"e\":\"Aw\"", n)));
    BIGNUM *e = NULL;

    ck_assert_int_eq(set->keys->nelts, 1);
    ck_assert(EVP_PKEY_get_bn_param(APR_ARRAY_IDX(set->keys, 0, wos_jwk).pkey,
                                    OSSL_PKEY_PARAM_RSA_E, &e));
    ck_assert_int_eq((int)BN_get_word(e), 3);
    BN_free(e);
    ck_assert_int_eq(EVP_PKEY_eq(APR_ARRAY_IDX(set->keys, 0, wos_jwk).pkey,
                                 wos_tk_rsa2048()), 0);
    set = parse_ok(doc_ne(apr_psprintf(tp, "\"n\":\"%s\",\"e\":\"_____w\"", n)));
    ck_assert_int_eq(set->keys->nelts, 1);
}
END_TEST

START_TEST(duplicate_kid_keeps_neither)
{
    const char *doc = apr_psprintf(tp, "{\"keys\":[%s,%s,%s]}",
                                   wos_tk_jwk(tp, wos_tk_rsa2048(), "dup"),
                                   wos_tk_jwk(tp, wos_tk_rsa2048b(), "other"),
                                   wos_tk_jwk(tp, wos_tk_rsa2048b(), "dup"));
    wos_jwks *set = parse_ok(doc);
    const char *line;

    assert_one_key(set, "other", wos_tk_rsa2048b());
    ck_assert_ptr_null(wos_jwks_find(set, "dup"));
    ck_assert_int_eq(set->skipped->nelts, 1);
    line = APR_ARRAY_IDX(set->skipped, 0, const char *);
    ck_assert_msg(strncmp(line, "dup: ", 5) == 0, "skipped line '%s'", line);
    ck_assert(wos_jwks_ambiguous(set, "dup"));
    ck_assert(!wos_jwks_ambiguous(set, "other"));
    ck_assert(!wos_jwks_ambiguous(set, "never-listed"));
}
END_TEST

START_TEST(duplicate_kid_with_bad_copy_keeps_neither)
{
    /* The second copy is unusable (1024 bits), but the kid is still ambiguous. */
    const char *doc = apr_psprintf(tp, "{\"keys\":[%s,%s]}",
                                   wos_tk_jwk(tp, wos_tk_rsa2048(), "dup"),
                                   wos_tk_jwk(tp, wos_tk_rsa1024(), "dup"));
    wos_jwks *set = parse_ok(doc);

    ck_assert_int_eq(set->keys->nelts, 0);
    ck_assert_int_eq(set->skipped->nelts, 2);
    ck_assert(wos_jwks_ambiguous(set, "dup"));
}
END_TEST

START_TEST(good_kept_beside_bad)
{
    const char *doc;
    wos_jwks *set;

    /* small, good1, a string, use:enc, an empty object, good2, bad n. */
    doc = apr_psprintf(tp, "{\"keys\":[%s,%s,\"junk\",%s,{},%s,%s]}",
        wos_tk_jwk(tp, wos_tk_rsa1024(), "small"),
        wos_tk_jwk(tp, wos_tk_rsa2048(), "good1"),
        apr_psprintf(tp, "{\"kty\":\"RSA\",\"kid\":\"enc\",\"use\":\"enc\",%s}",
                     wos_tk_jwk_ne(tp, wos_tk_rsa2048())),
        wos_tk_jwk(tp, wos_tk_rsa2048b(), "good2"),
        "{\"kty\":\"RSA\",\"kid\":\"badn\",\"n\":\"!!\",\"e\":\"AQAB\"}");
    set = parse_ok(doc);
    ck_assert_int_eq(set->keys->nelts, 2);
    ck_assert_int_eq(EVP_PKEY_eq(wos_jwks_find(set, "good1")->pkey, wos_tk_rsa2048()), 1);
    ck_assert_int_eq(EVP_PKEY_eq(wos_jwks_find(set, "good2")->pkey, wos_tk_rsa2048b()), 1);
    ck_assert_int_eq(set->skipped->nelts, 5);
    ck_assert_ptr_null(wos_jwks_find(set, "small"));
    ck_assert_ptr_null(wos_jwks_find(set, "enc"));
    ck_assert_ptr_null(wos_jwks_find(set, "badn"));
}
END_TEST

START_TEST(key_count_capped)
{
    const char *jwk = wos_tk_jwk_ne(tp, wos_tk_rsa2048());
    apr_array_header_t *parts = apr_array_make(tp, 40, sizeof(const char *));
    wos_jwks *set;
    int i;

    for (i = 0; i < WOS_JWKS_MAX_KEYS + 3; i++)
        APR_ARRAY_PUSH(parts, const char *) =
            apr_psprintf(tp, "{\"kty\":\"RSA\",\"kid\":\"k%d\",%s}", i, jwk);
    set = parse_ok(apr_psprintf(tp, "{\"keys\":[%s]}", wos_join(tp, parts, ",")));
    ck_assert_int_eq(set->keys->nelts, WOS_JWKS_MAX_KEYS);
    ck_assert_ptr_nonnull(wos_jwks_find(set, apr_psprintf(tp, "k%d", WOS_JWKS_MAX_KEYS - 1)));
    ck_assert_ptr_null(wos_jwks_find(set, apr_psprintf(tp, "k%d", WOS_JWKS_MAX_KEYS)));
    ck_assert_int_eq(set->skipped->nelts, 1);
}
END_TEST

START_TEST(oversize_rejected_before_parsing)
{
    apr_size_t len = WOS_JWKS_MAX_SIZE + 1;
    char *doc = apr_palloc(tp, len + 1);
    wos_jwks *set = (wos_jwks *)1;
    const char *err = NULL;

    /* Not even JSON: the size must be checked first. */
    memset(doc, 'x', len);
    doc[len] = '\0';
    ck_assert_int_eq(wos_jwks_parse(tp, doc, len, &set, &err), WOS_ETOOBIG);
    ck_assert_ptr_null(set);
    ck_assert_ptr_nonnull(err);
}
END_TEST

START_TEST(max_size_accepted)
{
    const char *jwk = wos_tk_jwk(tp, wos_tk_rsa2048(), "k1");
    apr_size_t fixed = strlen("{\"keys\":[],\"pad\":\"\"}") + strlen(jwk);
    apr_size_t pad = WOS_JWKS_MAX_SIZE - fixed;
    char *padding = apr_palloc(tp, pad + 1);
    const char *doc;

    memset(padding, 'p', pad);
    padding[pad] = '\0';
    doc = apr_psprintf(tp, "{\"keys\":[%s],\"pad\":\"%s\"}", jwk, padding);
    ck_assert_int_eq((int)strlen(doc), WOS_JWKS_MAX_SIZE);
    assert_one_key(parse_ok(doc), "k1", wos_tk_rsa2048());
}
END_TEST

START_TEST(malformed_documents)
{
    static const char *const docs[] = {
        "", "not json", "[]", "{}", "{\"keys\":{}}", "{\"keys\":\"x\"}", "{\"keys\":null}",
        "{\"keys\":[],\"keys\":[]}", "{\"keys\":[]} trailing", "{\"keys\":[}",
        "{\"keys\":[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]}",
    };
    size_t i;

    for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        wos_jwks *set = (wos_jwks *)1;
        const char *err = NULL;
        wos_rv rv = wos_jwks_parse(tp, docs[i], strlen(docs[i]), &set, &err);
        ck_assert_msg(rv == WOS_EINVAL, "doc %d: %s", (int)i, wos_strerror(rv));
        ck_assert_ptr_null(set);
        ck_assert_ptr_nonnull(err);
        /* The error names the rule, never the document's bytes. */
        ck_assert_ptr_null(strstr(err, "trailing"));
    }
    ck_assert_int_eq(wos_jwks_parse(tp, NULL, 0, &(wos_jwks *){ NULL }, &(const char *){ NULL }),
                     WOS_EINVAL);
}
END_TEST

START_TEST(empty_set_ok)
{
    wos_jwks *set = parse_ok("{\"keys\":[]}");

    ck_assert_int_eq(set->keys->nelts, 0);
    ck_assert_int_eq(set->skipped->nelts, 0);
    ck_assert_ptr_null(wos_jwks_find(set, "k1"));
}
END_TEST

START_TEST(entry_not_object_skipped)
{
    wos_jwks *set = parse_ok("{\"keys\":[\"evilstring\",42,null]}");
    int i;

    ck_assert_int_eq(set->keys->nelts, 0);
    ck_assert_int_eq(set->skipped->nelts, 3);
    for (i = 0; i < 3; i++) {
        const char *line = APR_ARRAY_IDX(set->skipped, i, const char *);
        ck_assert_msg(strncmp(line, apr_psprintf(tp, "#%d: ", i), 4) == 0, "line '%s'", line);
        ck_assert_ptr_null(strstr(line, "evil"));
    }
}
END_TEST

START_TEST(skipped_lines_do_not_echo_key_bytes)
{
    const char *n = main_n();
    wos_jwks *set = parse_ok(doc_ne(apr_psprintf(tp, "\"n\":\"%s\",\"e\":\"ZZZZZZZZ\"", n)));
    const char *line;

    assert_skipped_only(set, "k");
    line = APR_ARRAY_IDX(set->skipped, 0, const char *);
    ck_assert_ptr_null(strstr(line, "ZZZZ"));
    ck_assert_ptr_null(strstr(line, apr_pstrndup(tp, n, 16)));
}
END_TEST

static Suite *jwks_suite(void)
{
    Suite *s = suite_create("jwks");
    TCase *tc = wos_tcase("parse");

    wos_tk_init();  /* once, before Check forks */
    tcase_add_test(tc, good_key_matches_original);
    tcase_add_test(tc, find_is_exact);
    tcase_add_test(tc, workos_shaped_example);
    tcase_add_test(tc, optional_members_absent_kept);
    tcase_add_test(tc, small_key_skipped);
    tcase_add_test(tc, non_rsa_skipped);
    tcase_add_test(tc, use_enc_skipped);
    tcase_add_test(tc, alg_other_skipped);
    tcase_add_test(tc, key_ops_checked);
    tcase_add_test(tc, bad_kid_skipped);
    tcase_add_test(tc, long_kid_skipped_not_echoed);
    tcase_add_test(tc, malformed_n_skipped);
    tcase_add_test(tc, noncanonical_n_skipped);
    tcase_add_test(tc, even_or_huge_n_skipped);
    tcase_add_test(tc, leading_zero_n_same_key);
    tcase_add_test(tc, bad_e_skipped);
    tcase_add_test(tc, small_odd_e_accepted);
    tcase_add_test(tc, duplicate_kid_keeps_neither);
    tcase_add_test(tc, duplicate_kid_with_bad_copy_keeps_neither);
    tcase_add_test(tc, good_kept_beside_bad);
    tcase_add_test(tc, key_count_capped);
    tcase_add_test(tc, oversize_rejected_before_parsing);
    tcase_add_test(tc, max_size_accepted);
    tcase_add_test(tc, malformed_documents);
    tcase_add_test(tc, empty_set_ok);
    tcase_add_test(tc, entry_not_object_skipped);
    tcase_add_test(tc, skipped_lines_do_not_echo_key_bytes);
    suite_add_tcase(s, tc);
    return s;
}

WOS_TEST_MAIN(jwks_suite)
