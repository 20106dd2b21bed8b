/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_seal.c: the iron Fe26.2 seal (wos_seal).
 *
 * Known answers come from seals the real SDKs made (tests/vectors/seal/).
 * craft() below is a second, independent iron sealer written straight on
 * OpenSSL: it is first shown to reproduce the SDK's seals byte for byte, and
 * then used to build malformed seals whose MAC is nevertheless valid, so that
 * each structural rule is tested on its own rather than caught by the MAC.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "testutil.h"
#include "wos_b64.h"
#include "wos_seal.h"

/* The test-only passwords of tests/compat/seal_common.mjs. */
#define PW      "mod_auth_workos-test-password-0123456789"
#define OLD_PW  "mod_auth_workos-old-password-9876543210abc"
#define PW3     "a third password, at least 32 characters"
#define SALT_A  "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define SALT_B  "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define T0      1700000000000LL     /* a fixed "now" in ms */

static const char *vectors[] = {
    "small", "unicode", "session_iron", "default_ttl", "long_ttl",
    "session_sdk", "session_sdk_noorg", "no_suffix",
};
#define NVECTORS ((int)(sizeof(vectors) / sizeof(vectors[0])))

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static apr_array_header_t *pws(const char *a, const char *b, const char *c)
{
    apr_array_header_t *arr = apr_array_make(tp, 3, sizeof(const char *));
    if (a) APR_ARRAY_PUSH(arr, const char *) = a;
    if (b) APR_ARRAY_PUSH(arr, const char *) = b;
    if (c) APR_ARRAY_PUSH(arr, const char *) = c;
    return arr;
}

static apr_int64_t real_now_ms(void)
{
    return (apr_int64_t)(apr_time_now() / 1000);
}

typedef struct unsealed {
    wos_rv rv;
    char *out;
    apr_size_t len;
    int idx;
    const char *err;
} unsealed;

static unsealed unseal_with(const char *sealed, apr_array_header_t *passwords,
                            apr_int64_t now)
{
    unsealed u;
    u.rv = wos_unseal(tp, sealed, strlen(sealed), passwords, now, &u.out, &u.len,
                      &u.idx, &u.err);
    return u;
}

static wos_rv unseal_rv(const char *sealed, apr_int64_t now)
{
    return unseal_with(sealed, pws(PW, NULL, NULL), now).rv;
}

static const char *seal_str(const char *data, apr_int64_t ttl, apr_int64_t now)
{
    const char *out = NULL;
    ck_assert_int_eq(wos_seal(tp, PW, data, strlen(data), ttl, now, &out), WOS_OK);
    ck_assert_ptr_nonnull(out);
    return out;
}

/* A seal's eight fields (copies) and its suffix ("" when there is none). */
typedef struct fields { char *f[8]; const char *suffix; } fields;

static fields split(const char *sealed)
{
    fields x;
    char *s = apr_pstrdup(tp, sealed), *tilde = strchr(s, '~'), *star;
    int i;

    x.suffix = tilde ? apr_pstrdup(tp, tilde) : "";
    if (tilde)
        *tilde = '\0';
    for (i = 0; i < 8; i++) {
        x.f[i] = s;
        star = strchr(s, '*');
        ck_assert_msg(i == 7 ? star == NULL : star != NULL, "not 8 fields");
        if (star) {
            *star = '\0';
            s = star + 1;
        }
    }
    return x;
}

/* Rebuild a seal from fields, e.g. after changing one of them. */
static const char *join(const fields *x)
{
    return apr_pstrcat(tp, x->f[0], "*", x->f[1], "*", x->f[2], "*", x->f[3], "*",
                       x->f[4], "*", x->f[5], "*", x->f[6], "*", x->f[7], x->suffix, NULL);
}

/* Independent iron sealer: every field as given, the MAC always valid. */
typedef struct craft_spec {
    const char *prefix, *pwid, *esalt, *hsalt, *exp, *suffix, *password;
    const unsigned char *iv;
    apr_size_t iv_len;
    const char *plain;                  /* encrypted with PKCS#7 padding ... */
    apr_size_t plain_len;
    const unsigned char *raw_ct;        /* ... unless the ciphertext is given */
    apr_size_t raw_ct_len;
} craft_spec;

static const unsigned char fixed_iv[16] = "0123456789abcdef";

static void kdf(const char *pw, const char *salt, unsigned char key[32])
{
    ck_assert_int_eq(PKCS5_PBKDF2_HMAC(pw, (int)strlen(pw), (const unsigned char *)salt,
                                       (int)strlen(salt), 1, EVP_sha1(), 32, key), 1);
}

static unsigned char *aes_encrypt(const craft_spec *s, apr_size_t *len)
{
    unsigned char key[32], iv16[16] = { 0 }, *ct = apr_palloc(tp, s->plain_len + 16);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n1 = 0, n2 = 0;

    memcpy(iv16, s->iv, s->iv_len < 16 ? s->iv_len : 16);
    kdf(s->password, s->esalt, key);
    ck_assert_int_eq(EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, iv16), 1);
    ck_assert_int_eq(EVP_EncryptUpdate(ctx, ct, &n1, (const unsigned char *)s->plain,
                                       (int)s->plain_len), 1);
    ck_assert_int_eq(EVP_EncryptFinal_ex(ctx, ct + n1, &n2), 1);
    EVP_CIPHER_CTX_free(ctx);
    *len = (apr_size_t)(n1 + n2);
    return ct;
}

static const char *craft(const craft_spec *in)
{
    craft_spec s = *in;
    unsigned char key[32], mac[32], *ct;
    unsigned int maclen = 0;
    apr_size_t ct_len;
    const char *body;

    s.prefix = s.prefix ? s.prefix : "Fe26.2";
    s.pwid = s.pwid ? s.pwid : "1";
    s.esalt = s.esalt ? s.esalt : SALT_A;
    s.hsalt = s.hsalt ? s.hsalt : SALT_B;
    s.exp = s.exp ? s.exp : "";
    s.suffix = s.suffix ? s.suffix : "~2";
    s.password = s.password ? s.password : PW;
    if (!s.iv) {
        s.iv = fixed_iv;
        s.iv_len = 16;
    }
    if (!s.plain) {
        s.plain = "{\"crafted\":true}";
        s.plain_len = strlen(s.plain);
    }
    ct = s.raw_ct ? (unsigned char *)s.raw_ct : aes_encrypt(&s, &ct_len);
    if (s.raw_ct)
        ct_len = s.raw_ct_len;
    body = apr_pstrcat(tp, s.prefix, "*", s.pwid, "*", s.esalt, "*",
                       wos_b64url_encode(tp, s.iv, s.iv_len), "*",
                       wos_b64url_encode(tp, ct, ct_len), "*", s.exp, NULL);
    kdf(s.password, s.hsalt, key);
    ck_assert_ptr_nonnull(HMAC(EVP_sha256(), key, 32, (const unsigned char *)body,
                               strlen(body), mac, &maclen));
    return apr_pstrcat(tp, body, "*", s.hsalt, "*", wos_b64url_encode(tp, mac, maclen),
                       s.suffix, NULL);
}

/* The fields of an existing seal as a craft_spec (plaintext supplied). */
static craft_spec spec_of(const char *sealed, const char *plain, const char *password)
{
    fields x = split(sealed);
    craft_spec s;
    unsigned char *iv;
    apr_size_t iv_len;

    memset(&s, 0, sizeof(s));
    ck_assert_int_eq(wos_b64url_decode(tp, x.f[3], strlen(x.f[3]), &iv, &iv_len), WOS_OK);
    s.prefix = x.f[0];
    s.pwid = x.f[1];
    s.esalt = x.f[2];
    s.iv = iv;
    s.iv_len = iv_len;
    s.exp = x.f[5];
    s.hsalt = x.f[6];
    s.suffix = x.suffix;
    s.password = password;
    s.plain = plain;
    s.plain_len = strlen(plain);
    return s;
}

static const char *vec(const char *name, const char *ext)
{
    const char *v = wos_read_vector(tp, apr_pstrcat(tp, "seal/", name, ext, NULL), NULL);
    ck_assert_msg(v != NULL, "missing vector %s%s", name, ext);
    return v;
}

/* The vector's own sealing time if it expires, else the real clock. */
static apr_int64_t vec_now(const char *name)
{
    const char *now = wos_read_vector(tp, apr_pstrcat(tp, "seal/", name, ".now", NULL), NULL);
    return now ? apr_atoi64(now) : real_now_ms();
}

/* ------------------------------------------------------------------ */
/* Known answers from the SDKs                                         */

START_TEST(sdk_vectors_unseal)
{
    const char *name = vectors[_i];
    unsealed u = unseal_with(vec(name, ".sealed"), pws(PW, NULL, NULL), vec_now(name));

    ck_assert_msg(u.rv == WOS_OK, "%s: %s", name, u.err ? u.err : "?");
    ck_assert_str_eq(u.out, vec(name, ".json"));
    ck_assert_uint_eq(u.len, strlen(vec(name, ".json")));
    ck_assert_int_eq(u.idx, 0);
    ck_assert_ptr_null(u.err);
}
END_TEST

/* craft() is a faithful iron sealer: it rebuilds each SDK seal exactly. */
START_TEST(craft_reproduces_sdk_vectors)
{
    const char *name = vectors[_i];
    const char *sealed = vec(name, ".sealed");
    craft_spec s = spec_of(sealed, vec(name, ".json"), PW);

    ck_assert_str_eq(craft(&s), sealed);
}
END_TEST

START_TEST(sdk_vectors_wrong_password)
{
    const char *name = vectors[_i];
    unsealed u = unseal_with(vec(name, ".sealed"), pws(OLD_PW, PW3, NULL), vec_now(name));

    ck_assert_int_eq(u.rv, WOS_EMAC);
    ck_assert_ptr_null(u.out);
    ck_assert_int_eq(u.idx, -1);
}
END_TEST

START_TEST(sdk_vector_rotation)
{
    const char *sealed = vec("rotated_old", ".sealed");
    unsealed u = unseal_with(sealed, pws(PW, OLD_PW, NULL), real_now_ms());

    ck_assert_int_eq(u.rv, WOS_OK);
    ck_assert_int_eq(u.idx, 1);
    ck_assert_str_eq(u.out, vec("rotated_old", ".json"));
    ck_assert_int_eq(unseal_with(sealed, pws(OLD_PW, NULL, NULL), 0).idx, 0);
    ck_assert_int_eq(unseal_rv(sealed, 0), WOS_EMAC);
}
END_TEST

/* iron-session's default ttl: exp = sealing time + 14 days, 60 s skew. */
START_TEST(sdk_vector_default_ttl_expiry)
{
    const char *sealed = vec("default_ttl", ".sealed");
    apr_int64_t made = vec_now("default_ttl");
    apr_int64_t exp = apr_atoi64(split(sealed).f[5]);

    ck_assert(exp >= made + 14LL * 24 * 3600 * 1000);
    ck_assert(exp <= made + 14LL * 24 * 3600 * 1000 + 60 * 1000);
    ck_assert_int_eq(unseal_rv(sealed, made), WOS_OK);
    ck_assert_int_eq(unseal_rv(sealed, exp + 59999), WOS_OK);
    ck_assert_int_eq(unseal_rv(sealed, exp + 60000), WOS_EEXPIRED);
    ck_assert_int_eq(unseal_rv(sealed, exp + 365LL * 24 * 3600 * 1000), WOS_EEXPIRED);
}
END_TEST

START_TEST(sdk_vector_long_ttl_real_clock)
{
    ck_assert_int_eq(unseal_rv(vec("long_ttl", ".sealed"), real_now_ms()), WOS_OK);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Sealing                                                             */

static int is_lower_hex64(const char *s)
{
    return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

START_TEST(seal_format)
{
    const char *sealed = seal_str("{\"a\":1}", 0, T0);
    fields x = split(sealed);
    unsigned char *iv;
    apr_size_t iv_len;

    ck_assert_str_eq(x.f[0], "Fe26.2");
    ck_assert_str_eq(x.f[1], "1");
    ck_assert(is_lower_hex64(x.f[2]));
    ck_assert(is_lower_hex64(x.f[6]));
    ck_assert_str_ne(x.f[2], x.f[6]);
    ck_assert_int_eq(wos_b64url_decode(tp, x.f[3], strlen(x.f[3]), &iv, &iv_len), WOS_OK);
    ck_assert_uint_eq(iv_len, 16);
    ck_assert_uint_eq(strlen(x.f[7]), 43);
    ck_assert_str_eq(x.suffix, "~2");
    /* ttl 0: an empty expiry field, exactly as the Node SDK writes. */
    ck_assert_ptr_nonnull(strstr(sealed, "**"));
}
END_TEST

START_TEST(seal_expiry_field)
{
    fields x = split(seal_str("{}", 3600, T0));
    ck_assert_str_eq(x.f[5], "1700003600000");
}
END_TEST

/* wos_seal's output, rebuilt by craft() from its salts and IV, is identical. */
START_TEST(seal_matches_independent_sealer)
{
    static const char *payload = "{\"user\":{\"id\":\"user_1\",\"name\":\"Zo\xc3\xab\"}}";
    const char *sealed = seal_str(payload, 60, T0);
    craft_spec s = spec_of(sealed, payload, PW);

    ck_assert_str_eq(craft(&s), sealed);
}
END_TEST

START_TEST(seal_is_randomised)
{
    fields a = split(seal_str("{}", 0, T0)), b = split(seal_str("{}", 0, T0));

    ck_assert_str_ne(a.f[2], b.f[2]);
    ck_assert_str_ne(a.f[3], b.f[3]);
    ck_assert_str_ne(a.f[6], b.f[6]);
}
END_TEST

/* Payloads from empty to 12 KB, ASCII and UTF-8, with and without expiry. */
START_TEST(seal_roundtrip_sizes)
{
    static const char unit[] = "{\"k\":\"\xc3\xa9\xe6\x9d\x8e\xf0\x9f\x99\x82 x\"}";
    apr_size_t sizes[] = { 0, 1, 15, 16, 17, 31, 32, 33, 1000, 4096, 12 * 1024 };
    apr_size_t i, n;

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char *data = apr_palloc(tp, sizes[i] + sizeof(unit));
        const char *sealed;
        unsealed u;

        for (n = 0; n + sizeof(unit) - 1 <= sizes[i]; n += sizeof(unit) - 1)
            memcpy(data + n, unit, sizeof(unit) - 1);
        memset(data + n, 'a', sizes[i] - n);
        data[sizes[i]] = '\0';
        sealed = seal_str(data, i % 2 ? 600 : 0, T0);
        u = unseal_with(sealed, pws(PW, NULL, NULL), T0);
        ck_assert_int_eq(u.rv, WOS_OK);
        ck_assert_uint_eq(u.len, sizes[i]);
        ck_assert_str_eq(u.out, data);
    }
}
END_TEST

START_TEST(seal_rejects_short_password)
{
    const char *out = "x";
    const char *pw31 = "0123456789012345678901234567890", *pw32 = "01234567890123456789012345678901";

    ck_assert_int_eq(wos_seal(tp, pw31, "{}", 2, 0, T0, &out), WOS_EINVAL);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(wos_seal(tp, NULL, "{}", 2, 0, T0, &out), WOS_EINVAL);
    ck_assert_int_eq(wos_seal(tp, "", "{}", 2, 0, T0, &out), WOS_EINVAL);
    ck_assert_int_eq(wos_seal(tp, pw32, "{}", 2, 0, T0, &out), WOS_OK);
}
END_TEST

START_TEST(seal_rejects_bad_payload)
{
    static const char *bad[] = {
        "{\"a\":\"\0\"}", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\x80",
        "\xc3", "\xf4\x90\x80\x80", "\xff", "\xe6\x9d",
    };
    static const apr_size_t len[] = { 9, 2, 3, 3, 1, 1, 4, 1, 2 };
    const char *out;
    apr_size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(wos_seal(tp, PW, bad[i], len[i], 0, T0, &out) == WOS_EINVAL,
                      "accepted bad payload %u", (unsigned)i);
}
END_TEST

START_TEST(seal_rejects_bad_ttl)
{
    const char *out;

    ck_assert_int_eq(wos_seal(tp, PW, "{}", 2, -1, T0, &out), WOS_EINVAL);
    ck_assert_int_eq(wos_seal(tp, PW, "{}", 2, APR_INT64_MAX / 10, T0, &out), WOS_EINVAL);
    ck_assert_int_eq(wos_seal(tp, PW, "{}", 2, APR_INT64_MAX / 1000, T0, &out), WOS_EINVAL);
}
END_TEST

/* Never write a seal that wos_unseal would refuse as too large. */
START_TEST(seal_rejects_too_large)
{
    apr_size_t big = WOS_SEAL_MAX_INPUT * 3 / 4;
    char *data = apr_palloc(tp, big + 1);
    const char *out;

    memset(data, 'a', big);
    data[big] = '\0';
    ck_assert_int_eq(wos_seal(tp, PW, data, big, 0, T0, &out), WOS_ETOOBIG);
    ck_assert_int_eq(wos_seal(tp, PW, data, 40 * 1024, 0, T0, &out), WOS_OK);
    ck_assert_uint_le(strlen(out), WOS_SEAL_MAX_INPUT);
    ck_assert_int_eq(unseal_rv(out, T0), WOS_OK);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Unsealing: rejections                                               */

START_TEST(missing_suffix_accepted)
{
    const char *sealed = seal_str("{\"v\":1}", 0, T0);
    char *bare = apr_pstrndup(tp, sealed, strlen(sealed) - 2);
    unsealed u = unseal_with(bare, pws(PW, NULL, NULL), T0);

    ck_assert_int_eq(u.rv, WOS_OK);
    ck_assert_str_eq(u.out, "{\"v\":1}");
}
END_TEST

START_TEST(unknown_suffix_rejected)
{
    static const char *suffixes[] = { "~1", "~3", "~", "~22", "~02", "~2~2", "~2 ", "~ 2", "~v2" };
    craft_spec s;
    apr_size_t i;

    memset(&s, 0, sizeof(s));
    ck_assert_int_eq(unseal_rv(craft(&s), T0), WOS_OK);
    for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        s.suffix = suffixes[i];
        ck_assert_msg(unseal_rv(craft(&s), T0) == WOS_EINVAL, "accepted suffix %s", suffixes[i]);
    }
}
END_TEST

START_TEST(bad_prefix_rejected)
{
    static const char *prefixes[] = { "Fe26.1", "Fe26.3", "fe26.2", "Fe26.2 ", "", "Fe26" };
    craft_spec s;
    apr_size_t i;

    memset(&s, 0, sizeof(s));
    for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        s.prefix = prefixes[i];
        ck_assert_msg(unseal_rv(craft(&s), T0) == WOS_EINVAL, "accepted prefix '%s'", prefixes[i]);
    }
}
END_TEST

START_TEST(wrong_part_count_rejected)
{
    const char *sealed = seal_str("{}", 0, T0);
    fields x = split(sealed);
    const char *seven = apr_pstrcat(tp, x.f[0], "*", x.f[1], "*", x.f[2], "*", x.f[3], "*",
                                    x.f[4], "*", x.f[5], "*", x.f[7], "~2", NULL);
    const char *nine = apr_pstrcat(tp, x.f[0], "*", x.f[1], "*", x.f[2], "*", x.f[3], "*",
                                   x.f[4], "*", x.f[5], "*", x.f[6], "*", x.f[7], "*~2", NULL);

    unsealed u7 = unseal_with(seven, pws(PW, NULL, NULL), T0);
    unsealed u9 = unseal_with(nine, pws(PW, NULL, NULL), T0);

    ck_assert_int_eq(u7.rv, WOS_EINVAL);
    ck_assert_str_eq(u7.err, "wrong number of seal parts");
    ck_assert_int_eq(u9.rv, WOS_EINVAL);
    ck_assert_str_eq(u9.err, "wrong number of seal parts");
    ck_assert_int_eq(unseal_rv(apr_pstrcat(tp, "*", sealed, NULL), T0), WOS_EINVAL);
    ck_assert_int_eq(unseal_rv("", T0), WOS_EINVAL);
    ck_assert_int_eq(unseal_rv("Fe26.2", T0), WOS_EINVAL);
    ck_assert_int_eq(unseal_rv("********~2", T0), WOS_EINVAL);
}
END_TEST

START_TEST(password_id_rejected)
{
    static const char *ids[] = { "", "2", "0", "01", "default", "1 ", "11" };
    craft_spec s;
    apr_size_t i;

    memset(&s, 0, sizeof(s));
    for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        s.pwid = ids[i];
        ck_assert_msg(unseal_rv(craft(&s), T0) == WOS_EINVAL, "accepted pwid '%s'", ids[i]);
    }
}
END_TEST

START_TEST(bad_salt_rejected)
{
    static const char *salts[] = {
        "",
        "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF",
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeef",
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0",
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeefg",
        "salt",
    };
    craft_spec s;
    apr_size_t i;

    for (i = 0; i < sizeof(salts) / sizeof(salts[0]); i++) {
        memset(&s, 0, sizeof(s));
        s.esalt = salts[i];
        ck_assert_msg(unseal_rv(craft(&s), T0) == WOS_EINVAL, "accepted esalt %u", (unsigned)i);
        memset(&s, 0, sizeof(s));
        s.hsalt = salts[i];
        ck_assert_msg(unseal_rv(craft(&s), T0) == WOS_EINVAL, "accepted hsalt %u", (unsigned)i);
    }
}
END_TEST

START_TEST(iv_length_rejected)
{
    static const unsigned char iv[32] = "0123456789abcdef0123456789abcdef";
    static const apr_size_t lens[] = { 0, 1, 12, 15, 17, 24, 32 };
    craft_spec s;
    apr_size_t i;

    memset(&s, 0, sizeof(s));
    s.iv = iv;
    s.iv_len = 16;
    ck_assert_int_eq(unseal_rv(craft(&s), T0), WOS_OK);
    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        s.iv_len = lens[i];
        ck_assert_msg(unseal_rv(craft(&s), T0) == WOS_EINVAL, "accepted iv of %u", (unsigned)lens[i]);
    }
}
END_TEST

START_TEST(ciphertext_shape_rejected)
{
    static const unsigned char junk[33] = "0123456789abcdef0123456789abcdefX";
    static const apr_size_t lens[] = { 0, 15, 17, 33 };
    craft_spec s;
    apr_size_t i;

    memset(&s, 0, sizeof(s));
    s.raw_ct = junk;
    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        unsealed u;
        s.raw_ct_len = lens[i];
        u = unseal_with(craft(&s), pws(PW, NULL, NULL), T0);
        ck_assert_int_eq(u.rv, WOS_EINVAL);
        /* Refused by form, before any decryption is attempted. */
        ck_assert_str_eq(u.err, "malformed ciphertext");
    }
}
END_TEST

/* Authentic but with broken PKCS#7 padding: a sealer bug, still refused. */
START_TEST(bad_padding_rejected)
{
    unsigned char key[32], ct[32];
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    const unsigned char block[32] = "{\"padding\":\"zero byte at end\"}";
    int n = 0;
    craft_spec s;

    /* Encrypt two blocks without padding: the last byte is '}', not 1..16. */
    kdf(PW, SALT_A, key);
    ck_assert_int_eq(EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, fixed_iv), 1);
    EVP_CIPHER_CTX_set_padding(ctx, 0);
    ck_assert_int_eq(EVP_EncryptUpdate(ctx, ct, &n, block, 32), 1);
    EVP_CIPHER_CTX_free(ctx);
    memset(&s, 0, sizeof(s));
    s.raw_ct = ct;
    s.raw_ct_len = 32;
    ck_assert_int_eq(unseal_rv(craft(&s), T0), WOS_EINVAL);
}
END_TEST

/* Each base64url field with a character outside the alphabet or non-canonical bits. */
START_TEST(bad_base64_in_each_field)
{
    static const int idx[] = { 3, 4, 7 };
    static const char *bad[] = { "+", "/", "=", " ", "." };
    const char *sealed = seal_str("{\"b\":2}", 0, T0);
    apr_size_t i, j;

    ck_assert_int_eq(unseal_rv(sealed, T0), WOS_OK);
    for (i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
        for (j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
            fields x = split(sealed);
            x.f[idx[i]] = apr_pstrcat(tp, bad[j], x.f[idx[i]] + 1, NULL);
            ck_assert_msg(unseal_rv(join(&x), T0) == WOS_EINVAL, "field %d '%s'", idx[i], bad[j]);
            x = split(sealed);
            x.f[idx[i]] = apr_pstrcat(tp, x.f[idx[i]], "=", NULL);
            ck_assert_int_eq(unseal_rv(join(&x), T0), WOS_EINVAL);
        }
    }
}
END_TEST

/* A MAC that is valid base64url but not 32 bytes is malformed, not merely wrong. */
START_TEST(mac_length_rejected)
{
    static const char *macs[] = { "AAAA", "", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" };
    const char *sealed = seal_str("{}", 0, T0);
    apr_size_t i;

    for (i = 0; i < sizeof(macs) / sizeof(macs[0]); i++) {
        fields x = split(sealed);
        unsealed u;
        x.f[7] = (char *)macs[i];
        u = unseal_with(join(&x), pws(PW, NULL, NULL), T0);
        ck_assert_int_eq(u.rv, WOS_EINVAL);
        ck_assert_str_eq(u.err, "malformed mac");
    }
}
END_TEST

/* 16-byte IV = 22 chars, 32-byte MAC = 43 chars: both end in a partial group. */
START_TEST(noncanonical_base64_rejected)
{
    const char *sealed = seal_str("{}", 0, T0);
    fields x = split(sealed);
    char *iv = apr_pstrdup(tp, x.f[3]), *mac = apr_pstrdup(tp, x.f[7]);

    /* Set the lowest (unused) bit of the last character's value: 'A'->'B' etc. */
    iv[21] = iv[21] == 'A' ? 'B' : iv[21] == 'Q' ? 'R' : iv[21] == 'g' ? 'h' : 'x';
    mac[42] = mac[42] == 'A' ? 'B' : mac[42] == 'E' ? 'F' : 'x';
    x.f[3] = iv;
    ck_assert_int_eq(unseal_rv(join(&x), T0), WOS_EINVAL);
    x = split(sealed);
    x.f[7] = mac;
    ck_assert_int_eq(unseal_rv(join(&x), T0), WOS_EINVAL);
}
END_TEST

static char flip_char(char c)
{
    return c == 'A' ? 'B' : 'A';
}

START_TEST(tampering_fails_mac)
{
    static const int idx[] = { 2, 3, 4, 6, 7 };
    const char *sealed = seal_str("{\"t\":\"tamper\"}", 3600, T0);
    apr_size_t i;

    for (i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
        fields x = split(sealed);
        char *f = apr_pstrdup(tp, x.f[idx[i]]);
        f[0] = idx[i] == 2 || idx[i] == 6 ? (f[0] == 'a' ? 'b' : 'a') : flip_char(f[0]);
        x.f[idx[i]] = f;
        ck_assert_msg(unseal_rv(join(&x), T0) == WOS_EMAC, "field %d", idx[i]);
    }
    /* The expiry is covered by the MAC too. */
    {
        fields x = split(sealed);
        x.f[5] = "1700003600001";
        ck_assert_int_eq(unseal_rv(join(&x), T0), WOS_EMAC);
    }
}
END_TEST

START_TEST(wrong_password_fails_mac)
{
    const char *sealed = seal_str("{}", 0, T0);
    unsealed u = unseal_with(sealed, pws(OLD_PW, PW3, NULL), T0);

    ck_assert_int_eq(u.rv, WOS_EMAC);
    ck_assert_ptr_nonnull(u.err);
    ck_assert_ptr_null(strstr(u.err, "Fe26"));
}
END_TEST

START_TEST(expiry_boundary)
{
    const char *sealed = seal_str("{}", 10, T0);   /* exp = T0 + 10000 */
    apr_int64_t exp = T0 + 10000;

    ck_assert_int_eq(unseal_rv(sealed, T0), WOS_OK);
    ck_assert_int_eq(unseal_rv(sealed, exp), WOS_OK);
    ck_assert_int_eq(unseal_rv(sealed, exp + 59999), WOS_OK);
    ck_assert_int_eq(unseal_rv(sealed, exp + 60000), WOS_EEXPIRED);
    ck_assert_int_eq(unseal_rv(sealed, APR_INT64_MAX), WOS_EEXPIRED);
    ck_assert_int_eq(unseal_rv(sealed, APR_INT64_MIN), WOS_OK);
}
END_TEST

/* Authenticity first: a forged expired seal is a MAC failure, not "expired". */
START_TEST(expiry_checked_after_mac)
{
    craft_spec s;

    memset(&s, 0, sizeof(s));
    s.exp = "1000";
    ck_assert_int_eq(unseal_rv(craft(&s), T0), WOS_EEXPIRED);
    s.password = OLD_PW;
    ck_assert_int_eq(unseal_rv(craft(&s), T0), WOS_EMAC);
}
END_TEST

START_TEST(bad_expiry_rejected)
{
    static const char *exps[] = {
        "12a4", "-5", "+5", " 5", "5 ", "1e12", "0x10", "1.5", "0", "0123",
        "9999999999999999999",           /* 19 digits: beyond the accepted width */
        "9223372036854775808",           /* INT64_MAX + 1 */
        "99999999999999999999999999999", /* would overflow any integer */
    };
    craft_spec s;
    apr_size_t i;

    memset(&s, 0, sizeof(s));
    for (i = 0; i < sizeof(exps) / sizeof(exps[0]); i++) {
        s.exp = exps[i];
        ck_assert_msg(unseal_rv(craft(&s), T0) == WOS_EINVAL, "accepted exp '%s'", exps[i]);
    }
    /* The widest accepted value: 18 digits, far in the future. */
    s.exp = "999999999999999999";
    ck_assert_int_eq(unseal_rv(craft(&s), T0), WOS_OK);
    s.exp = "1";
    ck_assert_int_eq(unseal_rv(craft(&s), T0), WOS_EEXPIRED);
}
END_TEST

START_TEST(too_large_rejected_first)
{
    apr_size_t n = WOS_SEAL_MAX_INPUT + 1;
    char *big = apr_palloc(tp, n + 1);
    char *out;
    apr_size_t outlen;
    int idx;
    const char *err;

    memset(big, 'A', n);
    big[n] = '\0';
    /* Size comes before everything else, even before the password check. */
    ck_assert_int_eq(wos_unseal(tp, big, n, pws("short", NULL, NULL), T0, &out, &outlen,
                                &idx, &err), WOS_ETOOBIG);
    ck_assert_int_eq(wos_unseal(tp, big, n - 1, pws(PW, NULL, NULL), T0, &out, &outlen,
                                &idx, &err), WOS_EINVAL);
}
END_TEST

START_TEST(short_password_rejected)
{
    const char *sealed = seal_str("{}", 0, T0);
    const char *pw31 = "0123456789012345678901234567890";

    ck_assert_int_eq(unseal_with(sealed, pws(pw31, NULL, NULL), T0).rv, WOS_EINVAL);
    ck_assert_int_eq(unseal_with(sealed, pws(PW, pw31, NULL), T0).rv, WOS_EINVAL);
    ck_assert_int_eq(unseal_with(sealed, pws(NULL, NULL, NULL), T0).rv, WOS_EINVAL);
    ck_assert_int_eq(unseal_with(sealed, NULL, T0).rv, WOS_EINVAL);
}
END_TEST

START_TEST(rotation_index)
{
    const char *out;
    unsealed u;

    ck_assert_int_eq(wos_seal(tp, PW3, "{\"r\":3}", 7, 0, T0, &out), WOS_OK);
    u = unseal_with(out, pws(PW, OLD_PW, PW3), T0);
    ck_assert_int_eq(u.rv, WOS_OK);
    ck_assert_int_eq(u.idx, 2);
    ck_assert_str_eq(u.out, "{\"r\":3}");
    u = unseal_with(out, pws(PW3, PW, NULL), T0);
    ck_assert_int_eq(u.idx, 0);
    /* The first match wins when a password is listed twice. */
    u = unseal_with(out, pws(PW, PW3, PW3), T0);
    ck_assert_int_eq(u.idx, 1);
    ck_assert_int_eq(unseal_with(out, pws(PW, OLD_PW, NULL), T0).rv, WOS_EMAC);
}
END_TEST

/* Payloads callers could not use as C strings / UTF-8, even when authentic. */
START_TEST(bad_plaintext_rejected)
{
    craft_spec s;

    memset(&s, 0, sizeof(s));
    s.plain = "{\"a\":\"\0\"}";
    s.plain_len = 9;
    ck_assert_int_eq(unseal_rv(craft(&s), T0), WOS_EINVAL);
    s.plain = "{\"a\":\"\xc3\x28\"}";
    s.plain_len = strlen(s.plain);
    ck_assert_int_eq(unseal_rv(craft(&s), T0), WOS_EINVAL);
    s.plain = "{\"a\":\"\xed\xb0\x80\"}";   /* a UTF-16 surrogate */
    s.plain_len = strlen(s.plain);
    ck_assert_int_eq(unseal_rv(craft(&s), T0), WOS_EINVAL);
    s.plain = "";
    s.plain_len = 0;
    ck_assert_int_eq(unseal_rv(craft(&s), T0), WOS_OK);
}
END_TEST

START_TEST(embedded_nul_rejected)
{
    const char *sealed = seal_str("{}", 0, T0);
    apr_size_t n = strlen(sealed);
    char *copy = apr_pmemdup(tp, sealed, n + 1);
    char *out;
    apr_size_t outlen;
    int idx;
    const char *err;

    ck_assert_int_eq(wos_unseal(tp, copy, n, pws(PW, NULL, NULL), T0, &out, &outlen,
                                &idx, &err), WOS_OK);
    copy[n - 3] = '\0';
    ck_assert_int_eq(wos_unseal(tp, copy, n, pws(PW, NULL, NULL), T0, &out, &outlen,
                                &idx, &err), WOS_EINVAL);
    ck_assert_str_eq(err, "seal contains a NUL byte");
    ck_assert_int_eq(wos_unseal(tp, NULL, 0, pws(PW, NULL, NULL), T0, &out, &outlen,
                                &idx, &err), WOS_EINVAL);
}
END_TEST

/* Only sealed_len bytes are read; the rest of the buffer is not the seal. */
START_TEST(unseal_respects_length)
{
    const char *sealed = seal_str("{\"l\":1}", 0, T0);
    const char *longer = apr_pstrcat(tp, sealed, "garbage", NULL);
    char *out;
    apr_size_t outlen;
    int idx;
    const char *err;

    ck_assert_int_eq(wos_unseal(tp, longer, strlen(sealed), pws(PW, NULL, NULL), T0, &out,
                                &outlen, &idx, &err), WOS_OK);
    ck_assert_str_eq(out, "{\"l\":1}");
}
END_TEST

/* Error texts are fixed strings: no part of the input or the password. */
START_TEST(errors_do_not_echo_input)
{
    craft_spec s;
    unsealed u;

    memset(&s, 0, sizeof(s));
    s.pwid = "SECRETID";
    u = unseal_with(craft(&s), pws(PW, NULL, NULL), T0);
    ck_assert_int_eq(u.rv, WOS_EINVAL);
    ck_assert_ptr_nonnull(u.err);
    ck_assert_ptr_null(strstr(u.err, "SECRETID"));
    ck_assert_ptr_null(strstr(u.err, SALT_A));
    ck_assert_ptr_null(strstr(u.err, PW));
}
END_TEST

static Suite *seal_suite(void)
{
    Suite *s = suite_create("seal");
    TCase *tv = wos_tcase("sdk_vectors");
    TCase *ts = wos_tcase("seal");
    TCase *tu = wos_tcase("unseal");

    tcase_add_loop_test(tv, sdk_vectors_unseal, 0, NVECTORS);
    tcase_add_loop_test(tv, craft_reproduces_sdk_vectors, 0, NVECTORS);
    tcase_add_loop_test(tv, sdk_vectors_wrong_password, 0, NVECTORS);
    tcase_add_test(tv, sdk_vector_rotation);
    tcase_add_test(tv, sdk_vector_default_ttl_expiry);
    tcase_add_test(tv, sdk_vector_long_ttl_real_clock);
    suite_add_tcase(s, tv);

    tcase_add_test(ts, seal_format);
    tcase_add_test(ts, seal_expiry_field);
    tcase_add_test(ts, seal_matches_independent_sealer);
    tcase_add_test(ts, seal_is_randomised);
    tcase_add_test(ts, seal_roundtrip_sizes);
    tcase_add_test(ts, seal_rejects_short_password);
    tcase_add_test(ts, seal_rejects_bad_payload);
    tcase_add_test(ts, seal_rejects_bad_ttl);
    tcase_add_test(ts, seal_rejects_too_large);
    suite_add_tcase(s, ts);

    tcase_add_test(tu, missing_suffix_accepted);
    tcase_add_test(tu, unknown_suffix_rejected);
    tcase_add_test(tu, bad_prefix_rejected);
    tcase_add_test(tu, wrong_part_count_rejected);
    tcase_add_test(tu, password_id_rejected);
    tcase_add_test(tu, bad_salt_rejected);
    tcase_add_test(tu, iv_length_rejected);
    tcase_add_test(tu, ciphertext_shape_rejected);
    tcase_add_test(tu, bad_padding_rejected);
    tcase_add_test(tu, bad_base64_in_each_field);
    tcase_add_test(tu, noncanonical_base64_rejected);
    tcase_add_test(tu, mac_length_rejected);
    tcase_add_test(tu, tampering_fails_mac);
    tcase_add_test(tu, wrong_password_fails_mac);
    tcase_add_test(tu, expiry_boundary);
    tcase_add_test(tu, expiry_checked_after_mac);
    tcase_add_test(tu, bad_expiry_rejected);
    tcase_add_test(tu, too_large_rejected_first);
    tcase_add_test(tu, short_password_rejected);
    tcase_add_test(tu, rotation_index);
    tcase_add_test(tu, bad_plaintext_rejected);
    tcase_add_test(tu, embedded_nul_rejected);
    tcase_add_test(tu, unseal_respects_length);
    tcase_add_test(tu, errors_do_not_echo_input);
    suite_add_tcase(s, tu);
    return s;
}

WOS_TEST_MAIN(seal_suite)
