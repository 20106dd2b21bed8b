/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_jwt.c: RS256 verification, one case (at least) per rejection rule,
 * plus the usual JWT attack set. Tokens are built by testkeys with keys
 * generated at run time; expected claim values come from the payloads the
 * tests write, never from the verifier.
 */
#include <stdarg.h>

#include "testutil.h"
#include "testkeys.h"
#include "wos_b64.h"
#include "wos_json.h"
#include "wos_jwks.h"
#include "wos_jwt.h"

#define NOW ((apr_int64_t)1700000000)
#define T "%" APR_INT64_T_FMT   /* apr_psprintf has no %lld */
#define ISS "https://api.workos.com/user_management/client_01TEST"
#define HDR_K1 "{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"JWT\"}"

/* k1 = main key, k2 = second key. */
static wos_jwks *keyset(void)
{
    const char *doc = apr_psprintf(tp, "{\"keys\":[%s,%s]}",
                                   wos_tk_jwk(tp, wos_tk_rsa2048(), "k1"),
                                   wos_tk_jwk(tp, wos_tk_rsa2048b(), "k2"));
    wos_jwks *set = NULL;
    const char *err;

    ck_assert_int_eq(wos_jwks_parse(tp, doc, strlen(doc), &set, &err), WOS_OK);
    ck_assert_int_eq(set->keys->nelts, 2);
    return set;
}

static wos_rv verify_full(const char *tok, const wos_jwt_opts *o, apr_int64_t now,
                          wos_claims **c)
{
    const char *err = NULL;
    wos_claims *dummy;
    wos_rv rv;

    if (!c)
        c = &dummy;
    rv = wos_jwt_verify(tp, tok, keyset(), o, now, c, &err);
    if (rv == WOS_OK || rv == WOS_EEXPIRED)
        ck_assert_ptr_nonnull(*c);
    else
        ck_assert_ptr_null(*c);
    if (rv != WOS_OK)
        ck_assert_ptr_nonnull(err);
    return rv;
}

static wos_rv verify(const char *tok)
{
    const wos_jwt_opts o = { 60, NULL, 0 };

    return verify_full(tok, &o, NOW, NULL);
}

#define ck_rv(expr, want)                                                         \
    do {                                                                          \
        wos_rv rv_ = (expr);                                                      \
        ck_assert_msg(rv_ == (want), "%s: got %s, want %s", #expr,                \
                      wos_strerror(rv_), wos_strerror(want));                     \
    } while (0)

static const char *default_payload(void)
{
    return wos_tk_claims(tp, "user_01", "session_01", "org_01", NOW + 300);
}

/* A k1-signed token over @p pay. */
static const char *tok_pay(const char *pay)
{
    const char *t = wos_tk_sign_rs256(tp, wos_tk_rsa2048(), HDR_K1, pay);

    ck_assert_ptr_nonnull(t);
    return t;
}

/* A k1-signed token with header @p hdr over the default payload. */
static const char *tok_hdr(const char *hdr)
{
    const char *t = wos_tk_sign_rs256(tp, wos_tk_rsa2048(), hdr, default_payload());

    ck_assert_ptr_nonnull(t);
    return t;
}

/* The claims a user access token must have, added where @p members lacks them. */
static const char *with_required(const char *members)
{
    static const char *const req[][2] = {
        {"\"sid\":", "\"sid\":\"session_01\""}, {"\"iss\":", "\"iss\":\"" ISS "\""},
        {"\"iat\":", "\"iat\":1699999000"}, {"\"auth_time\":", "\"auth_time\":1699999000"},
    };
    size_t i;

    for (i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
        if (!strstr(members, req[i][0]))
            members = apr_pstrcat(tp, req[i][1], ",", members, NULL);
    }
    return members;
}

/* A token whose payload is {"sub":"user_01",<members>} plus the required claims it lacks. */
static const char *tok_members(const char *members)
{
    return tok_pay(apr_psprintf(tp, "{\"sub\":\"user_01\",%s}", with_required(members)));
}

/* A token whose payload is exactly {"sub":"user_01",<members>}. */
static const char *tok_exact(const char *members)
{
    return tok_pay(apr_psprintf(tp, "{\"sub\":\"user_01\",%s}", members));
}

/* The raw signature of a token, decoded. */
static unsigned char *sig_of(const char *tok, apr_size_t *len)
{
    const char *s = strrchr(tok, '.') + 1;
    unsigned char *sig;

    ck_assert_int_eq(wos_b64url_decode(tp, s, strlen(s), &sig, len), WOS_OK);
    return sig;
}

/* @p tok with its signature replaced by @p sig. */
static const char *with_sig(const char *tok, const unsigned char *sig, apr_size_t len)
{
    return apr_pstrcat(tp, apr_pstrndup(tp, tok, (apr_size_t)(strrchr(tok, '.') - tok)), ".",
                       wos_tk_b64url(tp, sig, len), NULL);
}

/* Segment @p i (0 to 2) of a three-segment token. */
static const char *segment(const char *tok, int i)
{
    const char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');

    if (i == 0)
        return apr_pstrndup(tp, tok, (apr_size_t)(d1 - tok));
    if (i == 1)
        return apr_pstrndup(tp, d1 + 1, (apr_size_t)(d2 - d1 - 1));
    return d2 + 1;
}

/* ---- the good path ------------------------------------------------------ */

START_TEST(valid_token_claims)
{
    const char *pay = apr_psprintf(tp,
        "{\"iss\":\"" ISS "\",\"sub\":\"user_01\",\"sid\":\"session_01\",\"jti\":\"jti_9\","
        "\"org_id\":\"org_01\",\"role\":\"admin\",\"roles\":[\"admin\",\"member\"],"
        "\"permissions\":[\"posts:read\",\"posts:write\"],\"entitlements\":[\"audit-logs\"],"
        "\"feature_flags\":[\"beta\"],\"act\":{\"sub\":\"admin@example.com\"},"
        "\"auth_time\":" T ",\"iat\":" T ",\"nbf\":" T ",\"exp\":" T "}",
        NOW - 100, NOW - 10, NOW - 10, NOW + 290);
    wos_claims *c;

    ck_rv(verify_full(tok_pay(pay), &(wos_jwt_opts){ 60, NULL, 0 }, NOW, &c), WOS_OK);
    ck_assert_str_eq(c->sub, "user_01");
    ck_assert_str_eq(c->sid, "session_01");
    ck_assert_str_eq(c->jti, "jti_9");
    ck_assert_str_eq(c->org_id, "org_01");
    ck_assert_str_eq(c->role, "admin");
    ck_assert_str_eq(c->iss, ISS);
    ck_assert_str_eq(c->act_sub, "admin@example.com");
    ck_assert_int_eq(c->roles->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(c->roles, 1, const char *), "member");
    ck_assert_int_eq(c->permissions->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(c->permissions, 1, const char *), "posts:write");
    ck_assert_int_eq(c->entitlements->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(c->entitlements, 0, const char *), "audit-logs");
    ck_assert_int_eq(c->feature_flags->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(c->feature_flags, 0, const char *), "beta");
    ck_assert_int_eq(c->exp, NOW + 290);
    ck_assert_int_eq(c->iat, NOW - 10);
    ck_assert_int_eq(c->nbf, NOW - 10);
}
END_TEST

START_TEST(minimal_token_defaults)
{
    wos_claims *c;

    ck_rv(verify_full(tok_members(apr_psprintf(tp, "\"exp\":" T, NOW + 10)),
                      &(wos_jwt_opts){ 60, NULL, 0 }, NOW, &c), WOS_OK);
    ck_assert_str_eq(c->sub, "user_01");
    ck_assert_str_eq(c->sid, "session_01");             /* required: tok_members adds it */
    ck_assert_ptr_null(c->org_id);
    ck_assert_ptr_null(c->role);
    ck_assert_str_eq(c->iss, ISS);
    ck_assert_ptr_null(c->jti);
    ck_assert_ptr_null(c->act_sub);
    ck_assert_ptr_nonnull(c->roles);
    ck_assert_ptr_nonnull(c->permissions);
    ck_assert_ptr_nonnull(c->entitlements);
    ck_assert_ptr_nonnull(c->feature_flags);
    ck_assert_int_eq(c->roles->nelts + c->permissions->nelts + c->entitlements->nelts
                     + c->feature_flags->nelts, 0);
    ck_assert_int_eq(c->iat, 1699999000);
    ck_assert_int_eq(c->nbf, 0);
}
END_TEST

START_TEST(null_optional_claims_are_absent)
{
    wos_claims *c;

    ck_rv(verify_full(tok_members(apr_psprintf(tp,
              "\"org_id\":null,\"role\":null,\"act\":null,\"roles\":null,\"nbf\":null,"
              "\"exp\":" T, NOW + 10)), &(wos_jwt_opts){ 60, NULL, 0 }, NOW, &c), WOS_OK);
    ck_assert_ptr_null(c->org_id);
    ck_assert_ptr_null(c->act_sub);
    ck_assert_int_eq(c->roles->nelts, 0);
}
END_TEST

START_TEST(testkeys_claims_shape)
{
    wos_claims *c;

    ck_rv(verify_full(wos_tk_token(tp, wos_tk_rsa2048b(), "k2", default_payload()),
                      &(wos_jwt_opts){ 60, NULL, 0 }, NOW, &c), WOS_OK);
    ck_assert_str_eq(c->sid, "session_01");
    ck_assert_str_eq(c->org_id, "org_01");
    ck_assert_int_eq(c->exp, NOW + 300);
    ck_assert_int_eq(c->iat, NOW);
}
END_TEST

START_TEST(key_chosen_by_kid)
{
    /* Signed by k2's key but naming k1: the wrong key is used, so it must fail. */
    const char *t = wos_tk_sign_rs256(tp, wos_tk_rsa2048b(), HDR_K1, default_payload());

    ck_rv(verify(t), WOS_EMAC);
    ck_rv(verify(wos_tk_token(tp, wos_tk_rsa2048b(), "k2", default_payload())), WOS_OK);
    ck_rv(verify(wos_tk_token(tp, wos_tk_rsa2048(), "k2", default_payload())), WOS_EMAC);
}
END_TEST

/* ---- alg and header attacks ---------------------------------------------- */

START_TEST(alg_none_rejected)
{
    const char *hdr = "{\"alg\":\"none\",\"kid\":\"k1\"}";
    const char *signed_none = tok_hdr(hdr);
    const char *unsigned_none = apr_pstrcat(tp, segment(signed_none, 0), ".",
                                            segment(signed_none, 1), ".", NULL);

    ck_assert_int_eq(unsigned_none[strlen(unsigned_none) - 1], '.');
    ck_rv(verify(unsigned_none), WOS_EINVAL);          /* "h.p." : empty signature */
    ck_rv(verify(signed_none), WOS_EDENIED);           /* with a valid RSA signature */
    ck_rv(verify(tok_hdr("{\"alg\":\"None\",\"kid\":\"k1\"}")), WOS_EDENIED);
}
END_TEST

START_TEST(hs256_key_confusion_rejected)
{
    size_t pemlen = 0, derlen = 0;
    const char *pem = wos_tk_pub_pem(tp, wos_tk_rsa2048(), &pemlen);
    const unsigned char *der = wos_tk_pub_der(tp, wos_tk_rsa2048(), &derlen);
    const char *hs = "{\"alg\":\"HS256\",\"kid\":\"k1\",\"typ\":\"JWT\"}";
    const char *t;

    ck_assert_ptr_nonnull(pem);
    ck_assert_ptr_nonnull(der);
    ck_assert_ptr_nonnull(strstr(pem, "BEGIN PUBLIC KEY"));
    t = wos_tk_sign_hs256(tp, (const unsigned char *)pem, pemlen, hs, default_payload());
    ck_rv(verify(t), WOS_EDENIED);
    t = wos_tk_sign_hs256(tp, der, derlen, hs, default_payload());
    ck_rv(verify(t), WOS_EDENIED);
    /* The same HMAC under an RS256 header: wrong length, not a signature. */
    t = wos_tk_sign_hs256(tp, (const unsigned char *)pem, pemlen, HDR_K1, default_payload());
    ck_rv(verify(t), WOS_EMAC);
}
END_TEST

START_TEST(es256_rejected)
{
    const char *t = wos_tk_sign_es256(tp, wos_tk_ec256(),
                                      "{\"alg\":\"ES256\",\"kid\":\"k1\"}", default_payload());

    ck_assert_ptr_nonnull(t);
    ck_rv(verify(t), WOS_EDENIED);
}
END_TEST

START_TEST(ps256_rejected)
{
    const char *t = wos_tk_sign_ps256(tp, wos_tk_rsa2048(),
                                      "{\"alg\":\"PS256\",\"kid\":\"k1\"}", default_payload());

    ck_assert_ptr_nonnull(t);
    ck_rv(verify(t), WOS_EDENIED);
    /* A PSS signature under an RS256 header: padding is pinned to PKCS#1 v1.5. */
    t = wos_tk_sign_ps256(tp, wos_tk_rsa2048(), HDR_K1, default_payload());
    ck_assert_ptr_nonnull(t);
    ck_rv(verify(t), WOS_EMAC);
}
END_TEST

START_TEST(alg_variants_rejected)
{
    static const char *const hdrs[] = {
        "{\"kid\":\"k1\"}",
        "{\"alg\":\"rs256\",\"kid\":\"k1\"}",
        "{\"alg\":\"RS256 \",\"kid\":\"k1\"}",
        "{\"alg\":\"RS512\",\"kid\":\"k1\"}",
        "{\"alg\":\"RS384\",\"kid\":\"k1\"}",
        "{\"alg\":\"HS256\",\"kid\":\"k1\"}",
        "{\"alg\":256,\"kid\":\"k1\"}",
        "{\"alg\":null,\"kid\":\"k1\"}",
        "{\"alg\":[\"RS256\"],\"kid\":\"k1\"}",
        "{\"alg\":\"\",\"kid\":\"k1\"}",
    };
    size_t i;

    for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
        wos_rv rv = verify(tok_hdr(hdrs[i]));
        ck_assert_msg(rv == WOS_EDENIED, "header %d: %s", (int)i, wos_strerror(rv));
    }
}
END_TEST

START_TEST(key_carrying_headers_rejected)
{
    const char *jwk = wos_tk_jwk(tp, wos_tk_rsa2048(), "k1");
    const char *extra[] = {
        apr_psprintf(tp, "\"jwk\":%s", jwk),
        "\"jku\":\"https://evil.example/jwks\"",
        "\"x5u\":\"https://evil.example/cert\"",
        "\"x5c\":[\"MIIB\"]",
        "\"crit\":[\"exp\"]",
        "\"crit\":[]",
        "\"jku\":null",
    };
    size_t i;

    for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
        const char *hdr = apr_psprintf(tp, "{\"alg\":\"RS256\",\"kid\":\"k1\",%s}", extra[i]);
        wos_rv rv = verify(tok_hdr(hdr));
        ck_assert_msg(rv == WOS_EDENIED, "header %d: %s", (int)i, wos_strerror(rv));
    }
    /* Control: the same construction without the extra member verifies. */
    ck_rv(verify(tok_hdr("{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"JWT\"}")), WOS_OK);
}
END_TEST

START_TEST(kid_rules)
{
    ck_rv(verify(tok_hdr("{\"alg\":\"RS256\",\"kid\":\"k3\"}")), WOS_ENOKEY);
    ck_rv(verify(tok_hdr("{\"alg\":\"RS256\",\"kid\":\"K1\"}")), WOS_ENOKEY);
    ck_rv(verify(tok_hdr("{\"alg\":\"RS256\",\"kid\":\"k1 \"}")), WOS_ENOKEY);
    ck_rv(verify(tok_hdr("{\"alg\":\"RS256\",\"kid\":1}")), WOS_EINVAL);
    ck_rv(verify(tok_hdr("{\"alg\":\"RS256\",\"kid\":[\"k1\"]}")), WOS_EINVAL);
    ck_rv(verify(tok_hdr("{\"alg\":\"RS256\",\"kid\":null}")), WOS_EINVAL);
    ck_rv(verify(tok_hdr("{\"alg\":\"RS256\",\"kid\":\"\"}")), WOS_EINVAL);
    ck_rv(verify(tok_hdr("{\"alg\":\"RS256\"}")), WOS_EINVAL);
    /* An embedded NUL must not shorten the kid to a known one. */
    ck_rv(verify(tok_hdr("{\"alg\":\"RS256\",\"kid\":\"k1\\u0000x\"}")), WOS_EINVAL);
}
END_TEST

START_TEST(no_keys_is_enokey)
{
    const char *err = NULL;
    wos_claims *c = NULL;
    wos_jwks *empty = NULL;

    ck_assert_int_eq(wos_jwks_parse(tp, "{\"keys\":[]}", 11, &empty, &err), WOS_OK);
    ck_rv(wos_jwt_verify(tp, tok_pay(default_payload()), empty, NULL, NOW, &c, &err),
          WOS_ENOKEY);
    ck_rv(wos_jwt_verify(tp, tok_pay(default_payload()), NULL, NULL, NOW, &c, &err),
          WOS_ENOKEY);
    ck_assert_ptr_null(c);
}
END_TEST

/* ---- structure and encoding --------------------------------------------- */

START_TEST(segment_counts)
{
    const char *t = tok_pay(default_payload());
    const char *h = segment(t, 0), *p = segment(t, 1), *s = segment(t, 2);

    ck_rv(verify(t), WOS_OK);
    ck_rv(verify(apr_pstrcat(tp, h, ".", p, NULL)), WOS_EINVAL);
    ck_rv(verify(apr_pstrcat(tp, h, ".", p, ".", s, ".", s, NULL)), WOS_EINVAL);
    ck_rv(verify(apr_pstrcat(tp, t, ".", NULL)), WOS_EINVAL);
    ck_rv(verify(apr_pstrcat(tp, ".", p, ".", s, NULL)), WOS_EINVAL);
    ck_rv(verify(apr_pstrcat(tp, h, "..", s, NULL)), WOS_EINVAL);
    ck_rv(verify(apr_pstrcat(tp, h, ".", p, ".", NULL)), WOS_EINVAL);
    ck_rv(verify(".."), WOS_EINVAL);
    ck_rv(verify(""), WOS_EINVAL);
    ck_rv(verify(h), WOS_EINVAL);
    ck_rv(verify_full(NULL, NULL, NOW, NULL), WOS_EINVAL);
}
END_TEST

START_TEST(bad_base64url)
{
    const char *t = tok_pay(default_payload());
    const char *h = segment(t, 0), *p = segment(t, 1), *s = segment(t, 2);
    const char *cases[] = {
        apr_pstrcat(tp, h, "=.", p, ".", s, NULL),          /* padding in header */
        apr_pstrcat(tp, h, ".", p, ".", s, "==", NULL),     /* padding in signature */
        apr_pstrcat(tp, " ", h, ".", p, ".", s, NULL),      /* whitespace */
        apr_pstrcat(tp, h, ".", p, ".", s, "\n", NULL),
        apr_pstrcat(tp, h, ".", p, "*.", s, NULL),          /* outside the alphabet */
        apr_pstrcat(tp, h, ".", p, ".", apr_pstrndup(tp, s, strlen(s) - 1), "+", NULL),
        apr_pstrcat(tp, h, ".", p, ".", s, "A", NULL),      /* 343 chars: 1 mod 4 */
    };
    size_t i;

    ck_assert_int_eq((int)strlen(s), 342);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        wos_rv rv = verify(cases[i]);
        ck_assert_msg(rv != WOS_OK, "case %d accepted", (int)i);
        ck_assert_msg(rv == WOS_EINVAL || rv == WOS_EMAC, "case %d: %s", (int)i,
                      wos_strerror(rv));
    }
}
END_TEST

START_TEST(noncanonical_signature_encoding)
{
    /* Flipping an unused low bit of the last character keeps the bytes: must still fail. */
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *t = apr_pstrdup(tp, tok_pay(default_payload()));
    char *last = t + strlen(t) - 1;

    *last = abc[(strchr(abc, *last) - abc) | 1];
    ck_rv(verify(t), WOS_EINVAL);
}
END_TEST

START_TEST(bad_base64url_payload_signed)
{
    /* A correctly signed token whose payload segment is not base64url. */
    const char *h = wos_tk_b64url(tp, (const unsigned char *)HDR_K1, strlen(HDR_K1));
    const char *pay = default_payload();
    const char *p = wos_tk_b64url(tp, (const unsigned char *)pay, strlen(pay));
    const char *t = wos_tk_sign_input_rs256(tp, wos_tk_rsa2048(),
                                            apr_pstrcat(tp, h, ".", p, "=", NULL));

    ck_rv(verify(t), WOS_EINVAL);
    /* Control: the same construction with a valid payload verifies. */
    ck_rv(verify(wos_tk_sign_input_rs256(tp, wos_tk_rsa2048(), apr_pstrcat(tp, h, ".", p, NULL))),
          WOS_OK);
}
END_TEST

START_TEST(non_object_segments)
{
    ck_rv(verify(tok_hdr("[\"RS256\"]")), WOS_EINVAL);
    ck_rv(verify(tok_hdr("\"RS256\"")), WOS_EINVAL);
    ck_rv(verify(tok_hdr("{\"alg\":\"RS256\",\"kid\":\"k1\"")), WOS_EINVAL);
    ck_rv(verify(tok_pay("[1]")), WOS_EINVAL);
    ck_rv(verify(tok_pay("null")), WOS_EINVAL);
    ck_rv(verify(tok_pay("{\"sub\":\"u\",\"exp\":99999999999} x")), WOS_EINVAL);
}
END_TEST

START_TEST(duplicate_members_rejected)
{
    const char *pay = default_payload();

    /* A second alg after a good one: parsers that keep the last one would see "none". */
    ck_rv(verify(tok_hdr("{\"alg\":\"RS256\",\"kid\":\"k1\",\"alg\":\"none\"}")), WOS_EINVAL);
    ck_rv(verify(tok_hdr("{\"alg\":\"RS256\",\"kid\":\"k2\",\"kid\":\"k1\"}")), WOS_EINVAL);
    ck_rv(verify(tok_pay(apr_psprintf(tp, "{\"sub\":\"admin\",%s", pay + 1))), WOS_EINVAL);
    ck_rv(verify(tok_members(apr_psprintf(tp, "\"exp\":" T ",\"exp\":" T, NOW + 10,
                                          NOW + 10))), WOS_EINVAL);
    /* Control. */
    ck_rv(verify(tok_pay(pay)), WOS_OK);
}
END_TEST

START_TEST(deep_nesting_rejected)
{
    char deep[64] = "", close[64] = "";
    int i;

    for (i = 0; i < WOS_JSON_MAX_DEPTH + 1; i++) {
        strcat(deep, "[");
        strcat(close, "]");
    }
    ck_rv(verify(tok_members(apr_psprintf(tp, "\"x\":%s%s,\"exp\":" T, deep, close,
                                          NOW + 10))), WOS_EINVAL);
    ck_rv(verify(tok_hdr(apr_psprintf(tp, "{\"alg\":\"RS256\",\"kid\":\"k1\",\"x\":%s%s}",
                                      deep, close))), WOS_EINVAL);
    /* A few levels are fine. */
    ck_rv(verify(tok_members(apr_psprintf(tp, "\"x\":[[[]]],\"exp\":" T, NOW + 10))),
          WOS_OK);
}
END_TEST

START_TEST(size_cap)
{
    apr_size_t hlen = strlen(wos_tk_b64url(tp, (const unsigned char *)HDR_K1, strlen(HDR_K1)));
    const char *pay = NULL, *t;
    char *x = apr_palloc(tp, WOS_JWT_MAX_SIZE);
    int pad;

    /* The longest padding that keeps the token within the cap (a 2048-bit RS256
     * signature is 342 characters), found without signing every candidate. */
    for (pad = WOS_JWT_MAX_SIZE / 4 * 3; pad > 0; pad--) {
        memset(x, 'x', (size_t)pad);
        x[pad] = '\0';
        pay = apr_psprintf(tp, "{\"sub\":\"user_01\",%s\"pad\":\"%s\",\"exp\":" T "}",
                           with_required(""), x, NOW + 10);
        if (hlen + 1 + strlen(wos_tk_b64url(tp, (const unsigned char *)pay, strlen(pay)))
            + 1 + 342 <= WOS_JWT_MAX_SIZE)
            break;
    }
    t = tok_pay(pay);
    ck_assert_int_le((int)strlen(t), WOS_JWT_MAX_SIZE);
    ck_assert_int_ge((int)strlen(t), WOS_JWT_MAX_SIZE - 1);
    ck_rv(verify(t), WOS_OK);
    ck_rv(verify(apr_pstrcat(tp, t, "AAAA", NULL)), WOS_ETOOBIG);
    ck_assert_ptr_null(wos_jwt_peek_kid(tp, apr_pstrcat(tp, t, "AAAA", NULL)));
}
END_TEST

/* ---- signature ------------------------------------------------------------ */

START_TEST(tampered_payload)
{
    const char *t = tok_pay(default_payload());
    const char *other = wos_tk_claims(tp, "user_02", "session_01", "org_01", NOW + 300);
    const char *tp2 = tok_pay(other);
    /* Header of t, payload of the other token, signature of t. */
    const char *mixed = apr_pstrcat(tp, segment(t, 0), ".", segment(tp2, 1), ".",
                                    segment(t, 2), NULL);

    ck_rv(verify(t), WOS_OK);
    ck_rv(verify(tp2), WOS_OK);
    ck_rv(verify(mixed), WOS_EMAC);
}
END_TEST

START_TEST(tampered_signature)
{
    const char *t = tok_pay(default_payload());
    apr_size_t len;
    unsigned char *sig = sig_of(t, &len);
    unsigned char *copy;

    ck_assert_int_eq((int)len, 256);
    copy = apr_pmemdup(tp, sig, len);
    copy[100] ^= 0x01;
    ck_rv(verify(with_sig(t, copy, len)), WOS_EMAC);
    copy = apr_pmemdup(tp, sig, len);
    copy[len - 1] ^= 0x80;
    ck_rv(verify(with_sig(t, copy, len)), WOS_EMAC);
    /* Control: re-encoding the untouched bytes verifies. */
    ck_rv(verify(with_sig(t, sig, len)), WOS_OK);
}
END_TEST

START_TEST(signature_length_must_match)
{
    const char *t = tok_pay(default_payload());
    apr_size_t len;
    unsigned char *sig = sig_of(t, &len), *longer = apr_palloc(tp, len + 1), *zero;

    ck_rv(verify(with_sig(t, sig, len - 1)), WOS_EMAC);       /* truncated */
    ck_rv(verify(with_sig(t, sig, 1)), WOS_EMAC);
    longer[0] = 0;                                            /* leading zero added */
    memcpy(longer + 1, sig, len);
    ck_rv(verify(with_sig(t, longer, len + 1)), WOS_EMAC);
    zero = apr_pcalloc(tp, len);
    ck_rv(verify(with_sig(t, zero, len)), WOS_EMAC);
    memset(zero, 0xff, len);                                  /* >= modulus */
    ck_rv(verify(with_sig(t, zero, len)), WOS_EMAC);
}
END_TEST

/* ---- time claims --------------------------------------------------------- */

static wos_rv verify_exp(const char *exp_json)
{
    return verify(tok_members(apr_psprintf(tp, "\"exp\":%s", exp_json)));
}

START_TEST(exp_rules)
{
    ck_rv(verify(tok_members("\"iat\":1700000000")), WOS_EINVAL);   /* missing */
    ck_rv(verify_exp("\"1700000300\""), WOS_EINVAL);
    ck_rv(verify_exp("-1"), WOS_EINVAL);
    ck_rv(verify_exp("-0.5"), WOS_EINVAL);
    ck_rv(verify_exp("1e300"), WOS_EINVAL);
    ck_rv(verify_exp("1e400"), WOS_EINVAL);                  /* overflows to inf */
    ck_rv(verify_exp("-1e400"), WOS_EINVAL);
    ck_rv(verify_exp("99999999999999999999999"), WOS_EINVAL); /* integer overflow */
    ck_rv(verify_exp("NaN"), WOS_EINVAL);
    ck_rv(verify_exp("Infinity"), WOS_EINVAL);
    ck_rv(verify_exp("null"), WOS_EINVAL);
    ck_rv(verify_exp("true"), WOS_EINVAL);
    ck_rv(verify_exp("[1700000300]"), WOS_EINVAL);
    ck_rv(verify_exp("{}"), WOS_EINVAL);
    ck_rv(verify_exp("253402300800"), WOS_EINVAL);
    ck_rv(verify_exp("253402300800.0"), WOS_EINVAL);
    ck_rv(verify_exp("253402300799"), WOS_OK);               /* the last second of 9999 */
    ck_rv(verify_exp("253402300799.5"), WOS_OK);
    ck_rv(verify_exp("1.7000003e9"), WOS_OK);
}
END_TEST

START_TEST(fractional_exp_floored)
{
    const wos_jwt_opts o = { 0, NULL, 0 };
    wos_claims *c;

    /* exp = NOW + 0.9 floors to NOW: expired at NOW with no skew (ceil would accept). */
    ck_rv(verify_full(tok_members("\"exp\":1700000000.9"), &o, NOW, &c), WOS_EEXPIRED);
    ck_assert_int_eq(c->exp, NOW);
    ck_rv(verify_full(tok_members("\"exp\":1700000001.9"), &o, NOW, &c), WOS_OK);
    ck_assert_int_eq(c->exp, NOW + 1);
    ck_rv(verify_full(tok_members("\"exp\":1700000001,\"nbf\":1700000000.99"), &o, NOW, &c),
          WOS_OK);
    ck_assert_int_eq(c->nbf, NOW);
}
END_TEST

START_TEST(expiry_and_skew)
{
    const wos_jwt_opts o = { 60, NULL, 0 };
    wos_claims *c;

    ck_rv(verify_full(tok_members("\"exp\":1699999941"), &o, NOW, &c), WOS_OK);      /* -59 */
    ck_rv(verify_full(tok_members("\"exp\":1699999940"), &o, NOW, &c), WOS_EEXPIRED); /* -60 */
    ck_rv(verify_full(tok_members("\"exp\":1699990000"), &o, NOW, &c), WOS_EEXPIRED);
    /* Expired still hands back the claims (logout needs sid). */
    ck_assert_str_eq(c->sub, "user_01");
    ck_assert_int_eq(c->exp, 1699990000);
    /* Skew zero: expired exactly at exp. */
    ck_rv(verify_full(tok_members("\"exp\":1700000000"), &(wos_jwt_opts){ 0, NULL, 0 }, NOW, &c),
          WOS_EEXPIRED);
    ck_rv(verify_full(tok_members("\"exp\":1700000001"), &(wos_jwt_opts){ 0, NULL, 0 }, NOW, &c),
          WOS_OK);
    /* Negative skew counts as zero, not as a tighter window. */
    ck_rv(verify_full(tok_members("\"exp\":1700000001"), &(wos_jwt_opts){ -30, NULL, 0 }, NOW,
                      &c), WOS_OK);
}
END_TEST

START_TEST(null_opts_default_skew)
{
    const char *err;
    wos_claims *c;

    ck_rv(wos_jwt_verify(tp, tok_members("\"exp\":1699999970"), keyset(), NULL, NOW, &c, &err),
          WOS_OK);
    ck_rv(wos_jwt_verify(tp, tok_members("\"exp\":1699999939"), keyset(), NULL, NOW, &c, &err),
          WOS_EEXPIRED);
}
END_TEST

START_TEST(ignore_expiry)
{
    const wos_jwt_opts o = { 60, NULL, 1 };
    const char *t = tok_pay(wos_tk_claims(tp, "user_01", "session_old", "org_01", NOW - 3600));
    wos_claims *c;
    apr_size_t len;
    unsigned char *sig;

    ck_rv(verify(t), WOS_EEXPIRED);
    ck_rv(verify_full(t, &o, NOW, &c), WOS_OK);
    ck_assert_str_eq(c->sid, "session_old");
    /* It does not excuse a bad signature, or bad time claims. */
    sig = sig_of(t, &len);
    sig[0] ^= 1;
    ck_rv(verify_full(with_sig(t, sig, len), &o, NOW, &c), WOS_EMAC);
    ck_rv(verify_full(tok_members("\"exp\":-5"), &o, NOW, &c), WOS_EINVAL);
    ck_rv(verify_full(tok_members("\"exp\":10,\"nbf\":1700000100"), &o, NOW, &c), WOS_ENOTYET);
}
END_TEST

START_TEST(nbf_iat_future)
{
    ck_rv(verify(tok_members("\"exp\":1700000300,\"nbf\":1700000061")), WOS_ENOTYET);
    ck_rv(verify(tok_members("\"exp\":1700000300,\"nbf\":1700000060")), WOS_OK);
    ck_rv(verify(tok_members("\"exp\":1700000300,\"iat\":1700000061")), WOS_ENOTYET);
    ck_rv(verify(tok_members("\"exp\":1700000300,\"iat\":1700000060")), WOS_OK);
    ck_rv(verify(tok_members("\"exp\":1700000300,\"nbf\":\"1\"")), WOS_EINVAL);
    ck_rv(verify(tok_members("\"exp\":1700000300,\"iat\":-1")), WOS_EINVAL);
    ck_rv(verify(tok_members("\"exp\":1700000300,\"iat\":1e300")), WOS_EINVAL);
    ck_rv(verify(tok_members("\"exp\":1700000300,\"nbf\":true")), WOS_EINVAL);
}
END_TEST

/* ---- issuer ----------------------------------------------------------------- */

static wos_rv verify_iss(const char *tok, int n, ...)
{
    apr_array_header_t *list = apr_array_make(tp, 2, sizeof(const char *));
    va_list ap;
    int i;

    va_start(ap, n);
    for (i = 0; i < n; i++)
        APR_ARRAY_PUSH(list, const char *) = va_arg(ap, const char *);
    va_end(ap);
    return verify_full(tok, &(wos_jwt_opts){ 60, list, 0 }, NOW, NULL);
}

START_TEST(issuer_check)
{
    const char *t = tok_pay(default_payload());   /* iss = ISS */
    const char *no_iss = tok_exact("\"sid\":\"s\",\"iat\":1,\"auth_time\":1,"
                                   "\"exp\":1700000300");

    ck_rv(verify_iss(t, 0), WOS_OK);                                   /* no check */
    ck_rv(verify_iss(t, 1, ISS), WOS_OK);
    ck_rv(verify_iss(t, 1, "https://api.workos.com"), WOS_EDENIED);
    ck_rv(verify_iss(t, 1, ISS "/"), WOS_EDENIED);
    ck_rv(verify_iss(t, 1, "https://API.workos.com/user_management/client_01TEST"), WOS_EDENIED);
    ck_rv(verify_iss(t, 2, "https://api.workos.com", ISS), WOS_OK);
    ck_rv(verify_iss(t, 2, "https://auth.example.com", "https://api.workos.com"), WOS_EDENIED);
    ck_rv(verify_iss(no_iss, 1, ISS), WOS_EINVAL);      /* iss is required (Node SDK 12) */
    ck_rv(verify_iss(no_iss, 0), WOS_EINVAL);
    ck_rv(verify_iss(tok_members("\"exp\":1700000300,\"iss\":7"), 0), WOS_EINVAL);
}
END_TEST

START_TEST(issuer_checked_before_expiry)
{
    /* An expired token from the wrong issuer is denied, not "expired with claims". */
    const char *t = tok_pay(wos_tk_claims(tp, "user_01", "s", NULL, NOW - 3600));

    ck_rv(verify_iss(t, 1, "https://other.example"), WOS_EDENIED);
    ck_rv(verify_iss(t, 1, ISS), WOS_EEXPIRED);
}
END_TEST

/* ---- claim types ------------------------------------------------------------ */

START_TEST(wrong_claim_types)
{
    static const char *const bad[] = {
        "\"sub\":7", "\"sub\":null", "\"sub\":\"\"", "\"sub\":[\"u\"]",
        "\"sid\":1", "\"org_id\":[\"o\"]", "\"role\":{}", "\"iss\":true", "\"jti\":2",
        "\"act\":\"admin\"", "\"act\":{\"sub\":5}", "\"act\":[]",
        "\"roles\":\"admin\"", "\"roles\":[1]", "\"roles\":[null]", "\"roles\":{}",
        "\"permissions\":[\"a\",2]", "\"entitlements\":true", "\"feature_flags\":\"x\"",
        "\"feature_flags\":[[\"x\"]]", "\"sub\":\"u\\u0000admin\"",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *pay = apr_psprintf(tp, "{%s,\"exp\":" T "}", bad[i], NOW + 100);
        wos_rv rv;
        if (strncmp(bad[i], "\"sub\"", 5) != 0)
            pay = apr_psprintf(tp, "{\"sub\":\"user_01\",%s,\"exp\":" T "}", bad[i], NOW + 100);
        rv = verify(tok_pay(pay));
        ck_assert_msg(rv == WOS_EINVAL, "claim %s: %s", bad[i], wos_strerror(rv));
    }
    ck_rv(verify(tok_pay(apr_psprintf(tp, "{\"exp\":" T "}", NOW + 100))), WOS_EINVAL);
}
END_TEST

START_TEST(unused_claims_ignored)
{
    /* aud and unknown claims are not interpreted (WorkOS sends no aud). */
    ck_rv(verify(tok_members("\"exp\":1700000300,\"aud\":[1,2],"
                             "\"custom\":{\"a\":null}")), WOS_OK);
    ck_rv(verify(tok_members("\"exp\":1700000300,\"auth_time\":\"x\"")), WOS_EINVAL);
}
END_TEST

/* What the Node SDK 12 requires of a user access token (hasRequiredAccessTokenClaims). */
START_TEST(user_token_required_claims)
{
    static const char *const all = "\"sid\":\"s\",\"iss\":\"" ISS "\",\"iat\":1699999000,"
                                   "\"auth_time\":1699999000";
    static const char *const missing[] = {"sid", "iss", "iat", "auth_time"};
    size_t i;

    ck_rv(verify(tok_exact(apr_psprintf(tp, "%s,\"exp\":" T, all, NOW + 10))), WOS_OK);
    for (i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
        /* The same claims with one of them null, then left out. */
        const char *nulled = apr_psprintf(tp, "{\"sub\":\"user_01\",%s,\"exp\":" T "}", all,
                                          NOW + 10);
        char *at = strstr(nulled, apr_psprintf(tp, "\"%s\":", missing[i]));
        char *end = at + strcspn(at, ",}");
        const char *without = apr_pstrcat(tp, apr_pstrndup(tp, nulled, (apr_size_t)(at - nulled)),
                                          *end == ',' ? end + 1 : end, NULL);
        const char *as_null = apr_pstrcat(tp, apr_pstrndup(tp, nulled, (apr_size_t)(at - nulled)),
                                          "\"", missing[i], "\":null", end, NULL);
        ck_assert_msg(verify(tok_pay(without)) == WOS_EINVAL, "without %s", missing[i]);
        ck_assert_msg(verify(tok_pay(as_null)) == WOS_EINVAL, "%s null", missing[i]);
    }
}
END_TEST

START_TEST(user_token_subject_kind)
{
    ck_rv(verify(tok_members("\"exp\":1700000300,\"sub_profile\":\"user\"")), WOS_OK);
    ck_rv(verify(tok_members("\"exp\":1700000300,\"sub_profile\":\"agent\"")), WOS_EDENIED);
    ck_rv(verify(tok_members("\"exp\":1700000300,\"sub_profile\":null")), WOS_EDENIED);
    ck_rv(verify(tok_members("\"exp\":1700000300,\"sub_type\":\"widget\"")), WOS_EDENIED);
    ck_rv(verify(tok_members("\"exp\":1700000300,\"sub_type\":\"user\"")), WOS_EDENIED);
}
END_TEST

/* Read without any check: what logout and a refresh's organization need. */
START_TEST(decode_unverified)
{
    const char *good = tok_members("\"exp\":1,\"org_id\":\"org_7\"");
    const char *rogue = wos_tk_token(tp, wos_tk_rsa2048b(), "unknown-kid",
                                     "{\"sub\":\"u\",\"sid\":\"session_9\",\"exp\":2}");
    wos_claims *c;

    ck_rv(wos_jwt_decode_unverified(tp, good, &c), WOS_OK);
    ck_assert_str_eq(c->sid, "session_01");
    ck_assert_str_eq(c->org_id, "org_7");
    ck_rv(wos_jwt_decode_unverified(tp, rogue, &c), WOS_OK);
    ck_assert_str_eq(c->sid, "session_9");
    ck_assert_ptr_null(c->org_id);
    ck_rv(wos_jwt_decode_unverified(tp, "a.b.c", &c), WOS_EINVAL);
    ck_assert_ptr_null(c);
    ck_rv(wos_jwt_decode_unverified(tp, tok_exact("\"exp\":\"soon\""), &c), WOS_EINVAL);
    ck_rv(wos_jwt_decode_unverified(tp, NULL, &c), WOS_EINVAL);
}
END_TEST

/* ---- errors and peek ---------------------------------------------------------- */

START_TEST(errors_do_not_echo_input)
{
    const char *toks[] = {
        tok_hdr("{\"alg\":\"EVILALG\",\"kid\":\"k1\"}"),
        tok_hdr("{\"alg\":\"RS256\",\"kid\":\"EVILKID\"}"),
        tok_members("\"exp\":\"EVILEXP\""),
        tok_members("\"roles\":\"EVILROLE\",\"exp\":1700000300"),
        tok_hdr("{\"alg\":\"RS256\",\"kid\":\"k1\",\"jku\":\"EVILURL\"}"),
        apr_pstrcat(tp, "EVIL", tok_pay(default_payload()), NULL),
    };
    size_t i;

    for (i = 0; i < sizeof(toks) / sizeof(toks[0]); i++) {
        const char *err = NULL;
        wos_claims *c;
        wos_rv rv = wos_jwt_verify(tp, toks[i], keyset(), NULL, NOW, &c, &err);
        ck_assert_msg(rv != WOS_OK, "case %d accepted", (int)i);
        ck_assert_ptr_nonnull(err);
        ck_assert_msg(!strstr(err, "EVIL"), "case %d echoes input: %s", (int)i, err);
    }
}
END_TEST

START_TEST(peek_kid)
{
    const char *t = tok_pay(default_payload());
    const char *bad_sig = apr_pstrcat(tp, apr_pstrndup(tp, t, strlen(t) - 4), "AAAA", NULL);

    ck_assert_str_eq(wos_jwt_peek_kid(tp, t), "k1");
    ck_assert_str_eq(wos_jwt_peek_kid(tp, bad_sig), "k1");     /* verifies nothing */
    ck_assert_str_eq(wos_jwt_peek_kid(tp, tok_hdr("{\"alg\":\"RS256\",\"kid\":\"sso_x\"}")),
                     "sso_x");
    ck_assert_ptr_null(wos_jwt_peek_kid(tp, tok_hdr("{\"alg\":\"RS256\"}")));
    ck_assert_ptr_null(wos_jwt_peek_kid(tp, tok_hdr("{\"alg\":\"RS256\",\"kid\":\"\"}")));
    ck_assert_ptr_null(wos_jwt_peek_kid(tp, tok_hdr("{\"alg\":\"RS256\",\"kid\":5}")));
    ck_assert_ptr_null(wos_jwt_peek_kid(tp, tok_hdr("{\"kid\":\"a\",\"kid\":\"b\"}")));
    ck_assert_ptr_null(wos_jwt_peek_kid(tp, "garbage"));
    ck_assert_ptr_null(wos_jwt_peek_kid(tp, "a.b"));
    ck_assert_ptr_null(wos_jwt_peek_kid(tp, ""));
    ck_assert_ptr_null(wos_jwt_peek_kid(tp, NULL));
}
END_TEST

static Suite *jwt_suite(void)
{
    Suite *s = suite_create("jwt");
    TCase *good = wos_tcase("good"), *hdr = wos_tcase("header"), *fmt = wos_tcase("format"),
          *sig = wos_tcase("signature"), *tm = wos_tcase("time"), *cl = wos_tcase("claims");

    wos_tk_init();  /* once, before Check forks */
    tcase_add_test(good, valid_token_claims);
    tcase_add_test(good, minimal_token_defaults);
    tcase_add_test(good, null_optional_claims_are_absent);
    tcase_add_test(good, testkeys_claims_shape);
    tcase_add_test(good, key_chosen_by_kid);
    tcase_add_test(hdr, alg_none_rejected);
    tcase_add_test(hdr, hs256_key_confusion_rejected);
    tcase_add_test(hdr, es256_rejected);
    tcase_add_test(hdr, ps256_rejected);
    tcase_add_test(hdr, alg_variants_rejected);
    tcase_add_test(hdr, key_carrying_headers_rejected);
    tcase_add_test(hdr, kid_rules);
    tcase_add_test(hdr, no_keys_is_enokey);
    tcase_add_test(fmt, segment_counts);
    tcase_add_test(fmt, bad_base64url);
    tcase_add_test(fmt, noncanonical_signature_encoding);
    tcase_add_test(fmt, bad_base64url_payload_signed);
    tcase_add_test(fmt, non_object_segments);
    tcase_add_test(fmt, duplicate_members_rejected);
    tcase_add_test(fmt, deep_nesting_rejected);
    tcase_add_test(fmt, size_cap);
    tcase_add_test(sig, tampered_payload);
    tcase_add_test(sig, tampered_signature);
    tcase_add_test(sig, signature_length_must_match);
    tcase_add_test(tm, exp_rules);
    tcase_add_test(tm, fractional_exp_floored);
    tcase_add_test(tm, expiry_and_skew);
    tcase_add_test(tm, null_opts_default_skew);
    tcase_add_test(tm, ignore_expiry);
    tcase_add_test(tm, nbf_iat_future);
    tcase_add_test(cl, issuer_check);
    tcase_add_test(cl, issuer_checked_before_expiry);
    tcase_add_test(cl, wrong_claim_types);
    tcase_add_test(cl, unused_claims_ignored);
    tcase_add_test(cl, user_token_required_claims);
    tcase_add_test(cl, user_token_subject_kind);
    tcase_add_test(cl, decode_unverified);
    tcase_add_test(cl, errors_do_not_echo_input);
    tcase_add_test(cl, peek_kid);
    suite_add_tcase(s, good);
    suite_add_tcase(s, hdr);
    suite_add_tcase(s, fmt);
    suite_add_tcase(s, sig);
    suite_add_tcase(s, tm);
    suite_add_tcase(s, cl);
    return s;
}

WOS_TEST_MAIN(jwt_suite)
