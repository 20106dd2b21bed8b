/* SPDX-License-Identifier: Apache-2.0 */
/*
 * seedgen: write the seed inputs of every harness, made with the core itself
 * (wos_seal, wos_cookie_store), the fixed fuzz key (fuzz/fuzz_key.h) and the
 * known-answer vectors of tests/vectors.
 *
 *   seedgen VECTORS_DIR OUT_DIR      writes OUT_DIR/<harness>/seed-*
 *
 * The committed corpora (fuzz/corpus/<harness>) started from these and
 * grew by fuzzing; see fuzz/README.md. Seals and chunked cookies change at
 * every run (random salts and IVs); everything else is the same each time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "fuzz_key.h"
#include "testkeys.h"
#include "wos_b64.h"
#include "wos_cookie.h"
#include "wos_seal.h"

#define PW      "mod_auth_workos-test-password-0123456789"
#define SALT_A  "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define SALT_B  "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define IV_B64  "MDEyMzQ1Njc4OWFiY2RlZg"     /* "0123456789abcdef" */
#define NOW_MS  1700000000000LL
#define NOW     1700000000LL
#define HDR     "{\"alg\":\"RS256\",\"kid\":\"" FUZZ_KID "\",\"typ\":\"JWT\"}"

static apr_pool_t *p;
static const char *out_dir, *vec_dir;
static int written;

static void die(const char *what)
{
    fprintf(stderr, "seedgen: %s\n", what);
    exit(1);
}

static void put(const char *harness, const char *name, const void *data, size_t len)
{
    char *dir = apr_pstrcat(p, out_dir, "/", harness, NULL);
    char *path = apr_pstrcat(p, dir, "/seed-", name, NULL);
    FILE *f;

    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        die(dir);
    if (!(f = fopen(path, "wb")) || fwrite(data, 1, len, f) != len || fclose(f) != 0)
        die(path);
    written++;
}

static void puts_(const char *harness, const char *name, const char *s)
{
    put(harness, name, s, strlen(s));
}

static char *slurp(const char *rel, size_t *len)
{
    char *path = apr_pstrcat(p, vec_dir, "/", rel, NULL);
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (!f)
        die(path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = apr_palloc(p, (apr_size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n)
        die(path);
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = (size_t)n;
    return buf;
}

/* --- redirect: the payload lists, escapes decoded as bad.txt describes ------- */

static char *unescape_line(const char *s, size_t *len)
{
    char *out = apr_palloc(p, strlen(s) + 1), *w = out;

    for (; *s; s++) {
        if (*s != '\\' || !s[1]) {
            *w++ = *s;
            continue;
        }
        s++;
        if (*s == 't') *w++ = '\t';
        else if (*s == 'r') *w++ = '\r';
        else if (*s == 'n') *w++ = '\n';
        else if (*s == 'x' && s[1] && s[2]) {
            char hex[3] = { s[1], s[2], 0 };
            *w++ = (char)strtol(hex, NULL, 16);
            s += 2;
        }
        else *w++ = *s;
    }
    *len = (size_t)(w - out);
    return out;
}

static void redirect_list(const char *file, const char *tag)
{
    char *text = slurp(file, NULL), *line, *save = NULL;
    int n = 0;

    for (line = apr_strtok(text, "\n", &save); line; line = apr_strtok(NULL, "\n", &save)) {
        size_t len = strlen(line);
        char *v;
        if (len && line[len - 1] == '\r')
            line[--len] = '\0';
        if (!len || line[0] == '#')
            continue;
        v = unescape_line(line, &len);
        /* A payload with a newline would read as an allow-list line: skip it. */
        if (!memchr(v, '\n', len))
            put("redirect", apr_psprintf(p, "%s-%03d", tag, ++n), v, len);
    }
}

static void redirect_seeds(void)
{
    redirect_list("redirect/good.txt", "good");
    redirect_list("redirect/bad.txt", "bad");
    puts_("redirect", "allow-own", "https://x.example\nhttps://x.example/path?q#f");
    puts_("redirect", "allow-port", "http://x.example:8080/\nhttp://X.EXAMPLE:8080/a");
    puts_("redirect", "allow-ipv6", "http://[::1]:8080\nhttp://[::1]:8080/a");
    puts_("redirect", "allow-two", "https://a.example\nhttps://b.example:444\nhttps://b.example:444");
    puts_("redirect", "allow-bad-entry", "https://u@x.example\nhttps://x.example/");
    puts_("redirect", "allow-default-port", "https://x.example:443\nhttps://x.example/a");
}

/* --- seal ------------------------------------------------------------------ */

static const char *seal_of(const char *json, apr_int64_t ttl)
{
    const char *out = NULL;

    if (wos_seal(p, PW, json, strlen(json), ttl, NOW_MS, &out) != WOS_OK)
        die("wos_seal");
    return out;
}

/* Crafted-mode input of fuzz_seal.c: 0x01, flags, the fields, "\n", plaintext. */
static void crafted(const char *name, int flags, const char *esalt, const char *iv,
                    const char *exp, const char *suffix, const char *plain, size_t plen)
{
    char *hdr = apr_psprintf(p, "\x01%cFe26.2*1*%s*%s*%s*%s*%s\n", (char)flags, esalt, iv, exp,
                             SALT_B, suffix);
    size_t hlen = 2 + strlen(hdr + 2);
    char *buf = apr_palloc(p, hlen + plen);

    memcpy(buf, hdr, hlen);
    memcpy(buf + hlen, plain, plen);
    put("seal", name, buf, hlen + plen);
}

static void seal_seeds(void)
{
    static const char *const vecs[] = {
        "small", "unicode", "session_iron", "default_ttl", "long_ttl", "session_sdk",
        "session_sdk_noorg", "no_suffix", "rotated_old",
    };
    const char *json = slurp("session/full.session.json", NULL);
    size_t i, len;

    for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
        char *s = slurp(apr_pstrcat(p, "seal/", vecs[i], ".sealed", NULL), &len);
        while (len && (s[len - 1] == '\n' || s[len - 1] == '\r'))
            len--;
        put("seal", apr_pstrcat(p, "vector-", vecs[i], NULL), s, len);
    }
    puts_("seal", "core-session", seal_of(json, 0));
    puts_("seal", "core-ttl", seal_of("{\"a\":1}", 3600));
    puts_("seal", "core-short-ttl", seal_of("{\"a\":1}", 1));
    puts_("seal", "core-empty", seal_of("", 0));
    crafted("crafted-json", 0, SALT_A, IV_B64, "", "~2", json, strlen(json));
    crafted("crafted-old-pw", 1, SALT_A, IV_B64, "", "~2", "{}", 2);
    crafted("crafted-unknown-pw", 2, SALT_A, IV_B64, "", "~2", "{}", 2);
    crafted("crafted-bad-mac", 4, SALT_A, IV_B64, "", "~2", "{}", 2);
    crafted("crafted-nopad", 8, SALT_A, IV_B64, "", "~2", "0123456789abcdef", 16);
    crafted("crafted-exp", 0, SALT_A, IV_B64, "1700000060001", "~2", "{}", 2);
    crafted("crafted-expired", 0, SALT_A, IV_B64, "1699999940000", "", "{}", 2);
    crafted("crafted-exp-zero", 0, SALT_A, IV_B64, "0123", "~2", "{}", 2);
    crafted("crafted-exp-long", 0, SALT_A, IV_B64, "9999999999999999999", "~2", "{}", 2);
    crafted("crafted-empty", 0, SALT_A, IV_B64, "", "~2", "", 0);
    crafted("crafted-nul", 0, SALT_A, IV_B64, "", "~2", "{\"a\":\"\0\"}", 9);
    crafted("crafted-bad-utf8", 0, SALT_A, IV_B64, "", "~2", "\xc0\xaf\xed\xa0\x80\xf4\x90", 7);
    crafted("crafted-utf8", 0, SALT_A, IV_B64, "", "~2", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14);
    crafted("crafted-upper-salt", 0, "00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff",
            IV_B64, "", "~2", "{}", 2);
    crafted("crafted-short-iv", 0, SALT_A, "MDEy", "", "~2", "{}", 2);
    crafted("crafted-suffix", 0, SALT_A, IV_B64, "", "~3", "{}", 2);
}

/* --- cookie ------------------------------------------------------------------ */

static void cookie_seeds(void)
{
    wos_cookie_attrs a = { "/", NULL, "Lax", 1, 1, 3600 };
    apr_array_header_t *sets;
    const char *json = slurp("session/full.session.json", NULL);
    const char *sealed = seal_of(apr_pstrcat(p, json, json + 1, NULL), 0), *hdr = "";
    int i;

    if (wos_cookie_store(p, &a, "wos-session", sealed, 512, NULL, &sets) != WOS_OK)
        die("wos_cookie_store");
    for (i = 0; i < sets->nelts; i++) {
        const char *sc = APR_ARRAY_IDX(sets, i, const char *);
        hdr = apr_pstrcat(p, hdr, *hdr ? "; " : "", apr_pstrndup(p, sc, strcspn(sc, ";")), NULL);
    }
    puts_("cookie", "chunked", hdr);
    puts_("cookie", "chunked-stale", apr_pstrcat(p, "wos-session=; ", hdr, "; wos-session.9=x", NULL));
    puts_("cookie", "whole", apr_pstrcat(p, "wos-session=", seal_of("{}", 0), NULL));
    puts_("cookie", "whole-among", apr_pstrcat(p, "a=1; wos-session=", seal_of("{}", 0),
                                               "; b=2; wos-session.0=stale", NULL));
    puts_("cookie", "duplicate", "wos-session=a; wos-session=b");
    puts_("cookie", "duplicate-chunk", "wos-session.0=a; wos-session.0=b");
    puts_("cookie", "gap", "wos-session.0=a; wos-session.2=b");
    puts_("cookie", "leading-zero", "wos-session.01=a; wos-session.0=b");
    puts_("cookie", "index-16", "wos-session.0=a; wos-session.16=b");
    puts_("cookie", "index-15", "wos-session.15=b");
    puts_("cookie", "quoted", "wos-session=\"abc\"; a=\"\"");
    puts_("cookie", "spaces", " \t a = 1 ;\twos-session =  v \t;;; =x; novalue; ");
    puts_("cookie", "short-name", "a=1; a.0=x; a.1=y; ab=2; a.x=3; a.=4");
    puts_("cookie", "short-chunks", "a.0=x; a.1=y; a.2=z");
    puts_("cookie", "prefixed", "wos-session-state-1=x; wos-session-state-2=y; wos-session-state-1=z");
    puts_("cookie", "empty", "");
    puts_("cookie", "separators", ";;; ; ;");
    puts_("cookie", "emptied-whole", "wos-session=; wos-session.0=ab; wos-session.1=cd");
}

/* --- jwt ---------------------------------------------------------------------- */

static char *b64(const char *s)
{
    return wos_b64url_encode(p, (const unsigned char *)s, strlen(s));
}

static char *token(const char *hdr, const char *pay)
{
    char *t = wos_tk_sign_rs256(p, fuzz_key(), hdr, pay);

    if (!t)
        die("sign");
    return t;
}

static char *claims(const char *extra, apr_int64_t exp)
{
    return apr_psprintf(p, "{\"iss\":\"https://api.workos.com\",\"sub\":\"user_01ADA\","
                        "\"sid\":\"session_01\",\"jti\":\"01JTI\",\"org_id\":\"org_01ACME\","
                        "\"role\":\"admin\",\"roles\":[\"admin\",\"member\"],"
                        "\"permissions\":[\"users:manage\"],\"entitlements\":[\"sso\"],"
                        "\"feature_flags\":[\"beta\"],\"iat\":%" APR_INT64_T_FMT
                        ",\"exp\":%" APR_INT64_T_FMT "%s}", exp - 300, exp, extra);
}

/* Mode 1 of fuzz_jwt.c: 0x01, flags, [header 0x00] payload. */
static void signed_json(const char *name, int flags, const char *hdr, const char *pay)
{
    size_t hl = hdr ? strlen(hdr) + 1 : 0, pl = strlen(pay);
    char *buf = apr_palloc(p, 2 + hl + pl);

    buf[0] = 1;
    buf[1] = (char)flags;
    if (hdr)
        memcpy(buf + 2, hdr, hl);       /* with its NUL: the separator */
    memcpy(buf + 2 + hl, pay, pl);
    put("jwt", name, buf, 2 + hl + pl);
}

static void jwt_seeds(void)
{
    const char *ok = claims("", NOW + 300);

    puts_("jwt", "valid", token(HDR, ok));
    puts_("jwt", "valid-act", token(HDR, claims(",\"act\":{\"sub\":\"admin@example.com\"}", NOW + 300)));
    puts_("jwt", "expired", token(HDR, claims("", NOW - 3600)));
    puts_("jwt", "nbf-future", token(HDR, claims(",\"nbf\":1800000000", NOW + 300)));
    puts_("jwt", "minimal", token(HDR, "{\"sub\":\"u\",\"exp\":1700000100}"));
    puts_("jwt", "nulls", token(HDR, "{\"sub\":\"u\",\"exp\":1700000100.5,\"sid\":null,"
                               "\"roles\":null,\"act\":null,\"nbf\":null}"));
    puts_("jwt", "exp-huge", token(HDR, "{\"sub\":\"u\",\"exp\":1e300}"));
    puts_("jwt", "exp-string", token(HDR, "{\"sub\":\"u\",\"exp\":\"1700000100\"}"));
    puts_("jwt", "exp-negative", token(HDR, "{\"sub\":\"u\",\"exp\":-1}"));
    puts_("jwt", "roles-mixed", token(HDR, "{\"sub\":\"u\",\"exp\":1700000100,\"roles\":[\"a\",1]}"));
    puts_("jwt", "no-sub", token(HDR, "{\"exp\":1700000100}"));
    puts_("jwt", "dup-key", token(HDR, "{\"sub\":\"u\",\"sub\":\"v\",\"exp\":1700000100}"));
    puts_("jwt", "unknown-kid", token("{\"alg\":\"RS256\",\"kid\":\"other\"}", ok));
    puts_("jwt", "no-kid", token("{\"alg\":\"RS256\"}", ok));
    puts_("jwt", "crit", token("{\"alg\":\"RS256\",\"kid\":\"" FUZZ_KID "\",\"crit\":[\"exp\"]}", ok));
    puts_("jwt", "jku", token("{\"alg\":\"RS256\",\"kid\":\"" FUZZ_KID "\",\"jku\":\"https://e.example\"}", ok));
    puts_("jwt", "jwk", token("{\"alg\":\"RS256\",\"kid\":\"" FUZZ_KID "\",\"jwk\":{}}", ok));
    puts_("jwt", "alg-none", apr_pstrcat(p, b64("{\"alg\":\"none\",\"kid\":\"" FUZZ_KID "\"}"),
                                          ".", b64(ok), ".", NULL));
    puts_("jwt", "alg-hs256", apr_pstrcat(p, b64("{\"alg\":\"HS256\",\"kid\":\"" FUZZ_KID "\"}"),
                                           ".", b64(ok), ".c2lnbmF0dXJl", NULL));
    puts_("jwt", "two-segments", apr_pstrcat(p, b64(HDR), ".", b64(ok), NULL));
    puts_("jwt", "short-sig", apr_pstrcat(p, b64(HDR), ".", b64(ok), ".c2lnbmF0dXJl", NULL));
    signed_json("json-claims", 0, NULL, ok);
    signed_json("json-expired-ignored", 1, NULL, claims("", NOW - 3600));
    signed_json("json-issuers", 2, NULL, ok);
    signed_json("json-skew0", 4, NULL, claims("", NOW + 1));
    signed_json("json-skew-neg", 8, NULL, claims(",\"nbf\":1700000030", NOW + 300));
    signed_json("json-skew-max", 12, NULL, claims("", 0));
    signed_json("json-bad-sig", 16, NULL, ok);
    signed_json("json-header", 0, "{\"alg\":\"RS256\",\"kid\":\"" FUZZ_KID "\",\"x5u\":\"u\"}", ok);
    signed_json("json-header-typ", 0, "{\"typ\":\"JWT\",\"kid\":\"" FUZZ_KID "\",\"alg\":\"RS256\"}",
                "{\"sub\":\"u\",\"exp\":1700000100,\"iat\":1700000000,\"aud\":[\"x\"]}");
    puts_("jwt", "input", apr_pstrcat(p, "\x02", "\x01", b64(HDR), ".", b64(ok), NULL));
}

/* --- jwks --------------------------------------------------------------------- */

static void jwks_seeds(void)
{
    EVP_PKEY *small = fuzz_key_derive("mod_auth_workos fuzz key small", 1024);
    EVP_PKEY *big = fuzz_key_derive("mod_auth_workos fuzz key big", 4096);
    const char *k1 = wos_tk_jwk(p, fuzz_key(), FUZZ_KID);
    const char *ne = strstr(k1, "\"n\":");
    const char *many = "";
    int i;

    if (!small || !big)
        die("derive");
    puts_("jwks", "one", wos_tk_jwks(p, fuzz_key(), FUZZ_KID));
    puts_("jwks", "three", apr_pstrcat(p, "{\"keys\":[", k1, ",", wos_tk_jwk(p, small, "small"),
                                        ",", wos_tk_jwk(p, big, "big"), "]}", NULL));
    puts_("jwks", "duplicate", apr_pstrcat(p, "{\"keys\":[", k1, ",", k1, "]}", NULL));
    puts_("jwks", "bare", apr_pstrcat(p, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"b\",", ne, "]}", NULL));
    puts_("jwks", "ops", apr_pstrcat(p, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"o\",\"key_ops\":"
                                     "[\"sign\",\"verify\"],", ne, ",{\"kty\":\"RSA\",\"kid\":\"s\","
                                     "\"key_ops\":[\"sign\"],", ne, "]}", NULL));
    puts_("jwks", "use-enc", apr_pstrcat(p, "{\"keys\":[{\"kty\":\"RSA\",\"use\":\"enc\",\"alg\":"
                                         "\"RS512\",\"kid\":\"e\",", ne, "]}", NULL));
    puts_("jwks", "e3", "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"e3\",\"n\":\"AQAB\",\"e\":\"Aw\"}]}");
    puts_("jwks", "e-even", apr_pstrcat(p, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"ev\",",
                                        apr_pstrndup(p, ne, strstr(ne, "\"e\":") - ne),
                                        "\"e\":\"AQAA\"}]}", NULL));
    puts_("jwks", "leading-zero", apr_pstrcat(p, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"z\",\"n\":\"AA",
                                              ne + 5, "]}", NULL));
    puts_("jwks", "ec", "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"ec\",\"x\":"
          "\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\",\"y\":"
          "\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}");
    puts_("jwks", "odd-entries", "{\"keys\":[1,\"x\",null,[],{},{\"kid\":\"\\u0001\"},"
          "{\"kid\":7},{\"kid\":\"k\",\"kty\":null},{\"kid\":\"k2\",\"kty\":\"RSA\",\"n\":5}]}");
    puts_("jwks", "no-keys", "{\"keys\":{}}");
    puts_("jwks", "empty", "{\"keys\":[]}");
    puts_("jwks", "x5c", apr_pstrcat(p, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"x\",\"x5c\":[\"MIIB\"],"
                                     "\"x5t\":\"abc\",", ne, "]}", NULL));
    for (i = 0; i < 34; i++)
        many = apr_psprintf(p, "%s%s{\"kty\":\"RSA\",\"kid\":\"k%d\",\"n\":\"AQAB\",\"e\":\"AQAB\"}",
                            many, i ? "," : "", i);
    puts_("jwks", "over-limit", apr_pstrcat(p, "{\"keys\":[", many, "]}", NULL));
    EVP_PKEY_free(small);
    EVP_PKEY_free(big);
}

/* --- session ------------------------------------------------------------------ */

static void session_seeds(void)
{
    static const char *const vecs[] = {
        "session/full.session.json", "session/full.response.json",
        "session/minimal.session.json", "session/minimal.response.json",
        "session/nulls.session.json", "session/nulls.response.json",
        "session/org_absent_in_token.response.json", "session/org_from_token.response.json",
        "session/unicode.session.json", "session/unicode.response.json",
        "seal/session_sdk.json", "seal/session_sdk_noorg.json",
    };
    size_t i, len;

    for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
        char *s = slurp(vecs[i], &len), *name = apr_pstrdup(p, strchr(vecs[i], '/') + 1);
        put("session", name, s, len);
    }
    puts_("session", "types", "{\"accessToken\":\"a\",\"refreshToken\":\"r\",\"user\":{\"id\":\"u\","
          "\"emailVerified\":\"yes\"}}");
    puts_("session", "impersonator", "{\"accessToken\":\"a\",\"refreshToken\":\"r\",\"user\":"
          "{\"id\":\"u\"},\"impersonator\":{\"email\":\"e\",\"reason\":null}}");
    puts_("session", "deep", "{\"accessToken\":\"a\",\"refreshToken\":\"r\",\"user\":{\"id\":\"u\","
          "\"metadata\":{\"a\":[[[[[[[[[[[[[[1]]]]]]]]]]]]]]}}}");
    puts_("session", "json-edges", "{\"a\":[-0,0.5e-3,1E+2,1e-400,9223372036854775807,"
          "-9223372036854775808,123456789012345678901234567890.5],\"b\":\"\\u00e9\\ud83d\\ude00"
          "\\\"\\\\\\/\\b\\f\\n\\r\\t\\u20ac\",\"k\\u00e9\":1,\"k\xc3\xa8\":2,\"\":{}}");
    puts_("session", "json-overflow", "{\"a\":1e400}");
    puts_("session", "json-int-overflow", "{\"a\":-9223372036854775809}");
    puts_("session", "json-lone-surrogate", "{\"a\":\"\\ud83d\\u0041\"}");
    puts_("session", "json-dup-escaped", "{\"a\":1,\"\\u0061\":2}");
    puts_("session", "json-deep-17", "{\"a\":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}");
    puts_("session", "numbers", "{\"access_token\":\"a.eyJvcmdfaWQiOiJvIn0.c\",\"refresh_token\":"
          "\"r\",\"user\":{\"id\":\"u\",\"metadata\":{\"n\":[1e-7,1e9,-0,1.5e300,12345678901234567890]}}}");
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: seedgen VECTORS_DIR OUT_DIR\n");
        return 2;
    }
    vec_dir = argv[1];
    out_dir = argv[2];
    apr_initialize();
    apr_pool_create(&p, NULL);
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST)
        die(out_dir);
    redirect_seeds();
    seal_seeds();
    cookie_seeds();
    jwt_seeds();
    jwks_seeds();
    session_seeds();
    printf("seedgen: %d files in %s\n", written, out_dir);
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
