/*
 * test_apis.c: the core of APIs and single-page apps: bearer tokens
 * (src/wos_bearer.c), custom claims (src/wos_custom.c), the session
 * endpoint's JSON (src/wos_sessioninfo.c), the per-session call limit
 * (src/wos_ratelimit.c and the refresh gate) and sign-in hints
 * (src/wos_hints.c). Tokens are signed by testkeys; WorkOS is a fake JWKS
 * fetch and a fake refresh; the shared cache is memcache.
 */
#include <apr_atomic.h>
#include <jansson.h>

#include "testutil.h"
#include "testkeys.h"
#include "memcache.h"
#include "wos_bearer.h"
#include "wos_custom.h"
#include "wos_hints.h"
#include "wos_ratelimit.h"
#include "wos_sessioninfo.h"

#define ISS "https://api.workos.com/user_management/client_01TEST"

typedef struct fake {
    wos_api_cfg api;             /* first: the fakes get only this */
    volatile apr_uint32_t fetches, calls;
    int jwks_fail;
} fake;

static wos_rv fake_fetch(apr_pool_t *p, const wos_api_cfg *c, const char **doc,
                         apr_size_t *len, const char **err)
{
    fake *f = (fake *)c;

    apr_atomic_inc32(&f->fetches);
    if (f->jwks_fail) {
        *err = "JWKS fetch answered HTTP 503";
        return WOS_EUNAVAIL;
    }
    *doc = wos_tk_jwks(p, wos_tk_rsa2048(), "k1");
    *len = strlen(*doc);
    return WOS_OK;
}

typedef struct bfix {
    fake fk;
    wos_memcache *mc;
    wos_authn_in in;
    wos_vcache *vc;
} bfix;

static bfix *bfix_new(void)
{
    bfix *b = apr_pcalloc(tp, sizeof(*b));
    apr_array_header_t *iss = apr_array_make(tp, 1, sizeof(const char *));

    APR_ARRAY_PUSH(iss, const char *) = ISS;
    b->fk.api.base_url = "https://api.invalid";
    b->fk.api.client_id = "client_01TEST";
    b->mc = wos_memcache_create(tp);
    ck_assert_int_eq(wos_keystore_create(tp, &b->in.keystore), WOS_OK);
    ck_assert_int_eq(wos_vcache_create(tp, 16, &b->vc), WOS_OK);
    b->in.keys.cache = wos_memcache_cache(b->mc);
    b->in.keys.api = &b->fk.api;
    b->in.keys.ttl_sec = 3600;
    b->in.keys.fetch = fake_fetch;
    b->in.jwt.skew_sec = 60;
    b->in.jwt.issuers = iss;
    b->in.vcache = b->vc;
    b->in.settings.client_id = "client_01TEST";
    return b;
}

static const char *tok(const char *pay)
{
    return wos_tk_token(tp, wos_tk_rsa2048(), "k1", pay);
}

static const char *std_token(apr_int64_t exp_in)
{
    return tok(wos_tk_claims(tp, "user_01", "sid_01", "org_01", wos_now_sec() + exp_in));
}

/* ---- bearer ---------------------------------------------------------------- */

START_TEST(bearer_parse_forms)
{
    const char *t = NULL;

    ck_assert_int_eq(wos_bearer_parse("Bearer abc.def-_~+/.x==", &t), WOS_OK);
    ck_assert_str_eq(t, "abc.def-_~+/.x==");
    ck_assert_int_eq(wos_bearer_parse("bearer   a.b.c", &t), WOS_OK);
    ck_assert_str_eq(t, "a.b.c");
    ck_assert_int_eq(wos_bearer_parse("Basic dXNlcjpwdw==", &t), WOS_ENOKEY);
    ck_assert_int_eq(wos_bearer_parse("Bearerx a", &t), WOS_ENOKEY);
    ck_assert_int_eq(wos_bearer_parse(NULL, &t), WOS_ENOKEY);
    ck_assert_int_eq(wos_bearer_parse("Bearer", &t), WOS_EINVAL);
    ck_assert_int_eq(wos_bearer_parse("Bearer ", &t), WOS_EINVAL);
    ck_assert_int_eq(wos_bearer_parse("Bearer a b", &t), WOS_OK);
    ck_assert_str_eq(t, "a b");
}
END_TEST

/* Characters outside RFC 6750's b64token: invalid_request, decided before any key work. */
START_TEST(bearer_malformed_tokens)
{
    static const char *const bad[] = {"a b", "a=b", "a\"b", "a.b ", "=", "a,b", "\xc3\xa9"};
    bfix *b = bfix_new();
    wos_authn_out out;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        wos_bearer_check(tp, &b->in, bad[i], &out);
        ck_assert_int_eq(out.outcome, WOS_AUTHN_INVALID);
        ck_assert_str_eq(out.error, "invalid_request");
    }
    wos_bearer_check(tp, &b->in, "abc.def==", &out);     /* well formed, not a JWT */
    ck_assert_int_eq(out.outcome, WOS_AUTHN_INVALID);
    ck_assert_ptr_null(out.error);
    ck_assert_uint_eq(b->fk.fetches, 0);
}
END_TEST

START_TEST(bearer_valid_then_cached)
{
    bfix *b = bfix_new();
    const char *t = std_token(300);
    wos_authn_out out;

    wos_bearer_check(tp, &b->in, t, &out);
    ck_assert_int_eq(out.outcome, WOS_AUTHN_OK);
    ck_assert_int_eq(out.cached, 0);
    ck_assert_str_eq(out.session->user_id, "user_01");
    ck_assert_str_eq(out.session->access_token, t);
    ck_assert_str_eq(out.session->organization_id, "org_01");
    ck_assert_ptr_null(out.session->user_email);
    ck_assert_str_eq(out.claims->sid, "sid_01");
    ck_assert_int_eq(wos_vcache_count(b->vc), 1);
    wos_bearer_check(tp, &b->in, t, &out);
    ck_assert_int_eq(out.outcome, WOS_AUTHN_OK);
    ck_assert_int_eq(out.cached, 1);
    ck_assert_str_eq(out.session->user_id, "user_01");
    ck_assert_ptr_nonnull(out.identity);
    ck_assert_uint_eq(b->fk.fetches, 1);
}
END_TEST

START_TEST(bearer_cache_keys_apart_from_cookies)
{
    bfix *b = bfix_new();
    const char *t = std_token(300);
    unsigned char cookie_key[WOS_VCACHE_KEY_LEN];
    wos_session *s;
    wos_claims *c;
    wos_authn_out out;

    wos_bearer_check(tp, &b->in, t, &out);
    ck_assert_int_eq(out.outcome, WOS_AUTHN_OK);
    /* The same string presented as a cookie under the same settings misses. */
    ck_assert_int_eq(wos_vcache_key(t, &b->in.settings, cookie_key), WOS_OK);
    ck_assert_int_eq(wos_vcache_get(b->vc, tp, cookie_key, wos_now_sec(), &s, &c, NULL),
                     WOS_ENOKEY);
}
END_TEST

START_TEST(bearer_email_from_claim)
{
    bfix *b = bfix_new();
    apr_int64_t exp = wos_now_sec() + 300;
    wos_authn_out out;

    wos_bearer_check(tp, &b->in, tok(apr_psprintf(tp, "{\"iss\":\"" ISS "\",\"sub\":\"u\","
                                                  "\"email\":\"a@example.com\",\"exp\":%"
                                                  APR_INT64_T_FMT "}", exp)), &out);
    ck_assert_int_eq(out.outcome, WOS_AUTHN_OK);
    ck_assert_str_eq(out.session->user_email, "a@example.com");
    ck_assert_ptr_null(out.claims->org_id);
}
END_TEST

START_TEST(bearer_refusals)
{
    bfix *b = bfix_new();
    apr_int64_t now = wos_now_sec();
    wos_authn_out out;
    const char *other_iss = apr_psprintf(tp, "{\"iss\":\"https://evil\",\"sub\":\"u\",\"exp\":%"
                                         APR_INT64_T_FMT "}", now + 300);
    const char *no_iss = apr_psprintf(tp, "{\"sub\":\"u\",\"exp\":%" APR_INT64_T_FMT "}",
                                      now + 300);
    const char *cases[] = {
        std_token(-120),                                            /* expired beyond skew */
        tok(other_iss), tok(no_iss),
        wos_tk_token(tp, wos_tk_rsa2048b(), "k1",                   /* another key */
                     wos_tk_claims(tp, "u", "s", NULL, now + 300)),
        wos_tk_token(tp, wos_tk_rsa2048(), "k2",                    /* unknown kid */
                     wos_tk_claims(tp, "u", "s", NULL, now + 300)),
        wos_tk_sign_hs256(tp, (const unsigned char *)"k", 1,
                          "{\"alg\":\"HS256\",\"kid\":\"k1\"}", no_iss),
        "a.b.c", "nodots",
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        wos_bearer_check(tp, &b->in, cases[i], &out);
        ck_assert_msg(out.outcome == WOS_AUTHN_INVALID, "case %zu: outcome %d (%s)", i,
                      out.outcome, out.reason);
        ck_assert_ptr_null(out.claims);
    }
    ck_assert_int_eq(wos_vcache_count(b->vc), 0);
}
END_TEST

START_TEST(bearer_needs_issuers)
{
    bfix *b = bfix_new();
    wos_authn_out out;

    b->in.jwt.issuers = NULL;
    wos_bearer_check(tp, &b->in, std_token(300), &out);
    ck_assert_int_eq(out.outcome, WOS_AUTHN_INVALID);
    b->in.jwt.issuers = apr_array_make(tp, 1, sizeof(const char *));
    wos_bearer_check(tp, &b->in, std_token(300), &out);
    ck_assert_int_eq(out.outcome, WOS_AUTHN_INVALID);
    ck_assert_uint_eq(b->fk.fetches, 0);
}
END_TEST

START_TEST(bearer_no_keys_is_ours)
{
    bfix *b = bfix_new();
    wos_authn_out out;

    b->fk.jwks_fail = 1;
    wos_bearer_check(tp, &b->in, std_token(300), &out);
    ck_assert_int_eq(out.outcome, WOS_AUTHN_NOKEYS);
}
END_TEST

START_TEST(bearer_cache_entry_ends_at_exp)
{
    bfix *b = bfix_new();
    wos_authn_out out;

    /* Expired by the clock, accepted by the skew: verified, but never cached past exp. */
    wos_bearer_check(tp, &b->in, std_token(-10), &out);
    ck_assert_int_eq(out.outcome, WOS_AUTHN_OK);
    ck_assert_int_eq(wos_vcache_count(b->vc), 0);
}
END_TEST

/* ---- custom claims --------------------------------------------------------- */

START_TEST(custom_names)
{
    wos_custom_claim c;
    const char *err;

    ck_assert_int_eq(wos_custom_claim_make(tp, "urn:myapp:plan", &c, &err), WOS_OK);
    ck_assert_str_eq(c.env, "WORKOS_CLAIM_URN_MYAPP_PLAN");
    ck_assert_str_eq(c.header, "X-WorkOS-Claim-Urn-Myapp-Plan");
    ck_assert_int_eq(wos_custom_claim_make(tp, "https://x.io/tier", &c, &err), WOS_OK);
    ck_assert_str_eq(c.env, "WORKOS_CLAIM_HTTPS___X_IO_TIER");
    ck_assert_str_eq(c.header, "X-WorkOS-Claim-Https---X-Io-Tier");
    ck_assert_int_eq(wos_custom_claim_make(tp, "caf\xc3\xa9", &c, &err), WOS_OK);
    ck_assert_str_eq(c.env, "WORKOS_CLAIM_CAF__");
    ck_assert_int_eq(wos_header_is_reserved(c.header), 1);
    ck_assert_int_eq(wos_custom_claim_make(tp, "", &c, &err), WOS_EINVAL);
    ck_assert_int_eq(wos_custom_claim_make(tp, "a b", &c, &err), WOS_EINVAL);
    ck_assert_int_eq(wos_custom_claim_make(tp, "a\nb", &c, &err), WOS_EINVAL);
    ck_assert_int_eq(wos_custom_claim_make(tp, apr_psprintf(tp, "%0129d", 0), &c, &err),
                     WOS_EINVAL);
    ck_assert_int_eq(wos_custom_claim_make(tp, apr_psprintf(tp, "%0128d", 0), &c, &err),
                     WOS_OK);
}
END_TEST

static const char *PAY = "{\"s\":\"pro\",\"i\":-42,\"big\":9007199254740993,\"r\":1.5,"
    "\"t\":true,\"f\":false,\"n\":null,\"a\":[\"x\",2,false],\"e\":[],\"o\":{\"k\":1},"
    "\"nest\":[[1]],\"ctl\":\"a\\nb\"}";

START_TEST(custom_values)
{
    const char *v;
    apr_array_header_t *items;

    ck_assert_int_eq(wos_custom_value(tp, PAY, "s", &v, &items), WOS_OK);
    ck_assert_str_eq(v, "pro");
    ck_assert_ptr_null(items);
    ck_assert_int_eq(wos_custom_value(tp, PAY, "i", &v, NULL), WOS_OK);
    ck_assert_str_eq(v, "-42");
    ck_assert_int_eq(wos_custom_value(tp, PAY, "big", &v, NULL), WOS_OK);
    ck_assert_str_eq(v, "9007199254740993");
    ck_assert_int_eq(wos_custom_value(tp, PAY, "r", &v, NULL), WOS_OK);
    ck_assert_str_eq(v, "1.5");
    ck_assert_int_eq(wos_custom_value(tp, PAY, "t", &v, NULL), WOS_OK);
    ck_assert_str_eq(v, "true");
    ck_assert_int_eq(wos_custom_value(tp, PAY, "f", &v, NULL), WOS_OK);
    ck_assert_str_eq(v, "false");
    ck_assert_int_eq(wos_custom_value(tp, PAY, "a", &v, &items), WOS_OK);
    ck_assert_str_eq(v, "x,2,false");
    ck_assert_int_eq(items->nelts, 3);
    ck_assert_int_eq(wos_custom_value(tp, PAY, "e", &v, &items), WOS_OK);
    ck_assert_str_eq(v, "");
    ck_assert_int_eq(wos_custom_value(tp, PAY, "n", &v, NULL), WOS_ENOKEY);
    ck_assert_int_eq(wos_custom_value(tp, PAY, "absent", &v, NULL), WOS_ENOKEY);
    ck_assert_int_eq(wos_custom_value(tp, PAY, "o", &v, NULL), WOS_EINVAL);
    ck_assert_int_eq(wos_custom_value(tp, PAY, "nest", &v, NULL), WOS_EINVAL);
    ck_assert_int_eq(wos_custom_value(tp, "not json", "s", &v, NULL), WOS_ENOKEY);
    ck_assert_int_eq(wos_custom_value(tp, NULL, "s", &v, NULL), WOS_ENOKEY);
}
END_TEST

static apr_array_header_t *claim_list(const char *const *names, int n)
{
    apr_array_header_t *a = apr_array_make(tp, n, sizeof(wos_custom_claim));
    const char *err;
    int i;

    for (i = 0; i < n; i++)
        ck_assert_int_eq(wos_custom_claim_make(tp, names[i], apr_array_push(a), &err), WOS_OK);
    return a;
}

START_TEST(custom_vars_and_skips)
{
    static const char *const names[] = {"s", "a", "e", "o", "n", "ctl", "absent", "nest"};
    apr_array_header_t *skipped = apr_array_make(tp, 2, sizeof(const char *));
    apr_array_header_t *vars = wos_custom_vars(tp, PAY, claim_list(names, 8), skipped);
    const wos_identity_var *v = (const wos_identity_var *)vars->elts;

    ck_assert_int_eq(vars->nelts, 3);
    ck_assert_str_eq(v[0].env, "WORKOS_CLAIM_S");
    ck_assert_str_eq(v[0].header, "X-WorkOS-Claim-S");
    ck_assert_str_eq(v[0].value, "pro");
    ck_assert_str_eq(v[1].value, "x,2,false");
    ck_assert_str_eq(v[2].env, "WORKOS_CLAIM_CTL");
    ck_assert_str_eq(v[2].value, "a b");       /* control characters never reach a header */
    ck_assert_int_eq(skipped->nelts, 2);
    ck_assert_str_eq(wos_join(tp, skipped, " "), "o nest");
}
END_TEST

static apr_array_header_t *values(const char *a, const char *b)
{
    apr_array_header_t *v = apr_array_make(tp, 2, sizeof(const char *));
    APR_ARRAY_PUSH(v, const char *) = a;
    if (b)
        APR_ARRAY_PUSH(v, const char *) = b;
    return v;
}

START_TEST(custom_match)
{
    ck_assert_int_eq(wos_custom_match(tp, PAY, "s", values("free", "pro")), 1);
    ck_assert_int_eq(wos_custom_match(tp, PAY, "s", values("pr", NULL)), 0);
    ck_assert_int_eq(wos_custom_match(tp, PAY, "s", values("PRO", NULL)), 0);
    ck_assert_int_eq(wos_custom_match(tp, PAY, "a", values("2", NULL)), 1);
    ck_assert_int_eq(wos_custom_match(tp, PAY, "a", values("x,2,false", NULL)), 0);
    ck_assert_int_eq(wos_custom_match(tp, PAY, "i", values("-42", NULL)), 1);
    ck_assert_int_eq(wos_custom_match(tp, PAY, "t", values("true", NULL)), 1);
    ck_assert_int_eq(wos_custom_match(tp, PAY, "e", values("", NULL)), 0);
    ck_assert_int_eq(wos_custom_match(tp, PAY, "o", values("{\"k\":1}", NULL)), 0);
    ck_assert_int_eq(wos_custom_match(tp, PAY, "absent", values("x", NULL)), 0);
}
END_TEST

/* ---- session endpoint JSON ------------------------------------------------- */

START_TEST(sessioninfo_full)
{
    wos_session s;
    wos_claims *c;
    json_t *o, *exp;
    const char *t = std_token(300);
    bfix *b = bfix_new();
    wos_authn_out out;
    char *json;

    wos_bearer_check(tp, &b->in, t, &out);
    c = out.claims;
    memset(&s, 0, sizeof(s));
    s.access_token = t;
    s.user_id = "user_01";
    s.user_email = "ada@example.com";
    s.user_first_name = "Ada \"the\" first";
    s.user_email_verified = 1;
    s.impersonator_email = "admin@example.com";
    s.user = json_pack("{s:s,s:s}", "id", "user_01", "profilePictureUrl", "https://p/x.png");
    json = wos_sessioninfo_json(tp, &s, c, 0);
    json_decref(s.user);
    o = json_loads(json, 0, NULL);
    exp = json_pack("{s:{s:s,s:s,s:s,s:n,s:b,s:s},s:s,s:s,s:[s],s:[s],s:[],s:[],s:s,"
                    "s:{s:s,s:n},s:I}",
                    "user", "id", "user_01", "email", "ada@example.com", "firstName",
                    "Ada \"the\" first", "lastName", "emailVerified", 1, "profilePictureUrl",
                    "https://p/x.png", "organizationId", "org_01", "role", "member",
                    "roles", "member", "permissions", "posts:read", "entitlements",
                    "featureFlags", "sessionId", "sid_01", "impersonator", "email",
                    "admin@example.com", "reason", "accessTokenExpiresAt",
                    (json_int_t)c->exp);
    ck_assert_msg(json_equal(o, exp), "got %s", json);
    ck_assert_ptr_null(strstr(json, "accessToken\""));
    json_decref(o);
    o = json_loads(wos_sessioninfo_json(tp, &s, c, 1), 0, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(o, "accessToken")), t);
    json_decref(o);
    json_decref(exp);
}
END_TEST

START_TEST(sessioninfo_minimal)
{
    wos_session s;
    wos_claims c;
    json_t *o;

    memset(&s, 0, sizeof(s));
    memset(&c, 0, sizeof(c));
    s.user_id = "user_02";
    s.user_email_verified = -1;
    s.user_last_name = "bad \xff utf8";
    c.sub = "user_02";
    c.exp = 1700000000;
    o = json_loads(wos_sessioninfo_json(tp, &s, &c, 0), 0, NULL);
    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(json_object_size(o), 10);
    ck_assert(json_is_null(json_object_get(o, "organizationId")));
    ck_assert(json_is_null(json_object_get(o, "impersonator")));
    ck_assert(json_is_null(json_object_get(json_object_get(o, "user"), "lastName")));
    ck_assert(json_is_null(json_object_get(json_object_get(o, "user"), "emailVerified")));
    ck_assert_int_eq(json_array_size(json_object_get(o, "roles")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "accessTokenExpiresAt")),
                     1700000000);
    json_decref(o);
}
END_TEST

/* ---- call limit ------------------------------------------------------------ */

START_TEST(ratelimit_window)
{
    wos_memcache *mc = wos_memcache_create(tp);
    const wos_cache *c = wos_memcache_cache(mc);
    /* 10 s into this minute's window (the cache expires entries by the real clock) */
    apr_int64_t now = wos_now_sec() - wos_now_sec() % 60 + 10;
    long retry = 0;
    int i;

    for (i = 0; i < 5; i++)
        ck_assert_int_eq(wos_ratelimit_take(c, tp, "sid_a", 5, 60, now + i, &retry), WOS_OK);
    ck_assert_int_eq(wos_ratelimit_take(c, tp, "sid_a", 5, 60, now + 5, &retry), WOS_ELIMIT);
    ck_assert_int_eq(retry, 45);
    ck_assert_int_eq(wos_ratelimit_take(c, tp, "sid_b", 5, 60, now + 5, &retry), WOS_OK);
    /* the next window starts afresh */
    ck_assert_int_eq(wos_ratelimit_take(c, tp, "sid_a", 5, 60, now + 50, &retry), WOS_OK);
    /* no limit */
    for (i = 0; i < 10; i++)
        ck_assert_int_eq(wos_ratelimit_take(c, tp, "sid_c", 0, 60, now, &retry), WOS_OK);
}
END_TEST

static int key_has_no_subject(void *baton, const char *key, const char *val, apr_size_t len,
                              apr_time_t expiry)
{
    (void)val;
    (void)len;
    (void)expiry;
    ck_assert_ptr_null(strstr(key, (const char *)baton));
    return 0;
}

START_TEST(ratelimit_keys_and_failures)
{
    wos_memcache *mc = wos_memcache_create(tp);
    const wos_cache *c = wos_memcache_cache(mc);
    apr_int64_t now = wos_now_sec() - wos_now_sec() % 60 + 40;
    long retry = 0;
    int i;

    ck_assert_int_eq(wos_ratelimit_take(c, tp, "session_secretish", 1, 60, now, &retry),
                     WOS_OK);
    wos_memcache_each(mc, key_has_no_subject, "session_secretish");
    ck_assert_int_eq(wos_ratelimit_take(c, tp, "session_secretish", 1, 60, now, &retry),
                     WOS_ELIMIT);
    ck_assert_int_eq(retry, 20);
    /* A cache that cannot count lets calls through (our outage, not the user's). */
    wos_memcache_fail(mc, WOS_MC_ADD);
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(wos_ratelimit_take(c, tp, "other", 1, 60, now, &retry), WOS_OK);
}
END_TEST

/* The refresh gate: the caller about to call WorkOS asks; refused, nothing is sent. */
typedef struct gate_state { int asked; wos_rv answer; char subject[32]; } gate_state;

static wos_rv test_gate(void *baton, const char *subject, long *retry_after)
{
    gate_state *g = baton;
    g->asked++;
    apr_cpystrn(g->subject, subject ? subject : "(null)", sizeof(g->subject));
    *retry_after = 33;
    return g->answer;
}

static volatile apr_uint32_t refresh_calls;

static wos_rv counting_refresh(apr_pool_t *p, const wos_api_cfg *c, const char *rt,
                               const char *org, const char *ip, const char *ua,
                               wos_auth_result **out, const char **err)
{
    wos_auth_result *r = apr_pcalloc(p, sizeof(*r));

    (void)c; (void)rt; (void)org; (void)ip; (void)ua;
    apr_atomic_inc32(&refresh_calls);
    r->http_status = 400;
    r->error = "invalid_grant";
    r->retry_after_sec = -1;
    *out = r;
    *err = "refused";
    return WOS_EUPSTREAM;
}

START_TEST(refresh_gate)
{
    wos_memcache *mc = wos_memcache_create(tp);
    wos_api_cfg api;
    wos_refresh_ctx ctx;
    gate_state g = {0, WOS_ELIMIT, ""};
    wos_auth_result *res;
    const char *err = NULL;
    int called = -1;

    memset(&api, 0, sizeof(api));
    api.http.timeout_ms = 1000;
    memset(&ctx, 0, sizeof(ctx));
    ctx.cache = wos_memcache_cache(mc);
    ctx.api = &api;
    ctx.call = counting_refresh;
    ctx.gate = test_gate;
    ctx.gate_baton = &g;
    ctx.gate_subject = "sid_9";
    refresh_calls = 0;
    ck_assert_int_eq(wos_refresh(tp, &ctx, "rt_1", "org_x", &res, &called, &err), WOS_ELIMIT);
    ck_assert_int_eq(called, 0);
    ck_assert_uint_eq(refresh_calls, 0);
    ck_assert_int_eq(res->retry_after_sec, 33);
    ck_assert_str_eq(g.subject, "sid_9");
    ck_assert_int_eq(wos_memcache_size(mc), 0);        /* the lock was released */
    g.answer = WOS_OK;
    ck_assert_int_eq(wos_refresh(tp, &ctx, "rt_1", "org_x", &res, &called, &err),
                     WOS_EUPSTREAM);
    ck_assert_int_eq(called, 1);
    ck_assert_uint_eq(refresh_calls, 1);
    /* A stored result is shared without asking the gate again. */
    ck_assert_int_eq(wos_refresh(tp, &ctx, "rt_1", "org_x", &res, &called, &err),
                     WOS_EUPSTREAM);
    ck_assert_int_eq(g.asked, 2);
    ck_assert_uint_eq(refresh_calls, 1);
}
END_TEST

/* ---- sign-in hints --------------------------------------------------------- */

START_TEST(hints)
{
    wos_login_hints h;
    const char *err;

    memset(&h, 0, sizeof(h));
    ck_assert_int_eq(wos_hints_take(&h, "login_hint", "ada+x@example.com", &err), WOS_OK);
    ck_assert_int_eq(wos_hints_take(&h, "organization_id", "org_01ACME", &err), WOS_OK);
    ck_assert_int_eq(wos_hints_take(&h, "screen_hint", "sign-up", &err), WOS_OK);
    ck_assert_int_eq(wos_hints_take(&h, "prompt", "login", &err), WOS_OK);
    ck_assert_str_eq(h.login_hint, "ada+x@example.com");
    ck_assert_str_eq(h.organization_id, "org_01ACME");
    ck_assert_str_eq(h.screen_hint, "sign-up");
    ck_assert_str_eq(h.prompt, "login");
    ck_assert_int_eq(wos_hints_take(&h, "return_to", "/x", &err), WOS_ENOKEY);
    ck_assert_int_eq(wos_hints_take(&h, "login_hint", "", &err), WOS_EINVAL);
    ck_assert_int_eq(wos_hints_take(&h, "login_hint", "a b", &err), WOS_EINVAL);
    ck_assert_int_eq(wos_hints_take(&h, "login_hint", "a\x7f", &err), WOS_EINVAL);
    ck_assert_int_eq(wos_hints_take(&h, "login_hint", apr_psprintf(tp, "%0321d", 0), &err),
                     WOS_EINVAL);
    ck_assert_int_eq(wos_hints_take(&h, "login_hint", apr_psprintf(tp, "%0320d", 0), &err),
                     WOS_OK);
    ck_assert_int_eq(wos_hints_take(&h, "organization_id", "org_", &err), WOS_EINVAL);
    ck_assert_int_eq(wos_hints_take(&h, "organization_id", "org_a-b", &err), WOS_EINVAL);
    ck_assert_int_eq(wos_hints_take(&h, "organization_id", "acme", &err), WOS_EINVAL);
    ck_assert_int_eq(wos_hints_take(&h, "screen_hint", "Sign-up", &err), WOS_EINVAL);
    ck_assert_int_eq(wos_hints_take(&h, "prompt", "none", &err), WOS_EINVAL);
    ck_assert_str_eq(h.prompt, "login");       /* a refused value changes nothing */
}
END_TEST

static Suite *apis_suite(void)
{
    Suite *su = suite_create("apis");
    TCase *tc;

    wos_tk_init();
    tc = wos_tcase("bearer");
    tcase_add_test(tc, bearer_parse_forms);
    tcase_add_test(tc, bearer_malformed_tokens);
    tcase_add_test(tc, bearer_valid_then_cached);
    tcase_add_test(tc, bearer_cache_keys_apart_from_cookies);
    tcase_add_test(tc, bearer_email_from_claim);
    tcase_add_test(tc, bearer_refusals);
    tcase_add_test(tc, bearer_needs_issuers);
    tcase_add_test(tc, bearer_no_keys_is_ours);
    tcase_add_test(tc, bearer_cache_entry_ends_at_exp);
    suite_add_tcase(su, tc);
    tc = wos_tcase("custom");
    tcase_add_test(tc, custom_names);
    tcase_add_test(tc, custom_values);
    tcase_add_test(tc, custom_vars_and_skips);
    tcase_add_test(tc, custom_match);
    suite_add_tcase(su, tc);
    tc = wos_tcase("sessioninfo");
    tcase_add_test(tc, sessioninfo_full);
    tcase_add_test(tc, sessioninfo_minimal);
    suite_add_tcase(su, tc);
    tc = wos_tcase("limit");
    tcase_add_test(tc, ratelimit_window);
    tcase_add_test(tc, ratelimit_keys_and_failures);
    tcase_add_test(tc, refresh_gate);
    suite_add_tcase(su, tc);
    tc = wos_tcase("hints");
    tcase_add_test(tc, hints);
    suite_add_tcase(su, tc);
    return su;
}

WOS_TEST_MAIN(apis_suite)
