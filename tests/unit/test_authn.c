/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_authn.c: the request path's decision, from a real sealed cookie
 * (wos_seal of wos_session_serialize, tokens signed by testkeys) to an
 * outcome. WorkOS is replaced twice: a fake JWKS fetch and a fake refresh
 * call; the shared cache is memcache. Every expected value comes from the
 * fixture (what was sealed, what was issued), never from the code's output.
 */
#include <apr_atomic.h>

#include "testutil.h"
#include "testkeys.h"
#include "memcache.h"
#include "wos_authn.h"
#include "wos_seal.h"

#define PW_NEW "new-cookie-password-0123456789abcdef"
#define PW_OLD "old-cookie-password-0123456789abcdef"
#define PW_OTHER "unrelated-password-0123456789abcdefgh"
#define USER "user_01"
#define OLD_RT "rt_old_0123456789abcdefghijkl"
#define NEW_RT "rt_new_0123456789abcdefghijkl"

/*
 * The fake WorkOS. Both fake functions receive only the api config, so it
 * is the first member and they find the rest from it.
 */
typedef struct fake {
    wos_api_cfg api;
    volatile apr_uint32_t fetches, calls;
    int jwks_fail;
    wos_rv refresh_answer;       /* WOS_OK, WOS_EUPSTREAM or WOS_EUNAVAIL */
    const char *refusal;         /* WorkOS's error with WOS_EUPSTREAM (NULL: invalid_grant) */
    const char *new_sub;         /* sub of the issued token (the answer's user is USER) */
    const char *issue_kid;       /* kid of the issued token (NULL: k1, the published one) */
    long refusal_status;         /* HTTP status of the refusal (0: 400) */
    const char *redirect;        /* authkit_redirect_url of the refusal */
    const char *issued_at;       /* the access token the last refresh issued */
    apr_int64_t issued_exp;
    char seen_org[64];
    apr_pool_t *pool;            /* for what the fakes keep (single-threaded tests) */
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

static const char *answer_json(apr_pool_t *p, const char *at)
{
    return apr_psprintf(p,
        "{\"user\":{\"object\":\"user\",\"id\":\"" USER "\",\"email\":\"ada@example.com\","
        "\"email_verified\":true,\"first_name\":\"Ada\",\"last_name\":\"Lovelace\","
        "\"profile_picture_url\":null,\"last_sign_in_at\":null,"
        "\"created_at\":\"2024-01-01T00:00:00Z\",\"updated_at\":\"2024-01-01T00:00:00Z\","
        "\"external_id\":null,\"metadata\":{}},\"organization_id\":\"org_01\","
        "\"access_token\":\"%s\",\"refresh_token\":\"" NEW_RT "\","
        "\"authentication_method\":\"Password\"}", at);
}

static wos_rv fake_refresh(apr_pool_t *p, const wos_api_cfg *c, const char *refresh_token,
                           const char *organization_id, const char *ip_address,
                           const char *user_agent, wos_auth_result **out, const char **err)
{
    fake *f = (fake *)c;
    wos_auth_result *r = apr_pcalloc(p, sizeof(*r));

    (void)refresh_token;
    (void)ip_address;
    (void)user_agent;
    apr_atomic_inc32(&f->calls);
    apr_cpystrn(f->seen_org, organization_id ? organization_id : "(null)", sizeof(f->seen_org));
    *out = r;
    r->retry_after_sec = -1;
    if (f->refresh_answer == WOS_EUPSTREAM) {
        r->http_status = f->refusal_status ? f->refusal_status : 400;
        r->error = f->refusal ? f->refusal : "invalid_grant";
        r->authkit_redirect_url = f->redirect;
        *err = "WorkOS refused the request (HTTP 400)";
        return WOS_EUPSTREAM;
    }
    if (f->refresh_answer != WOS_OK) {
        r->http_status = 503;
        r->error = "http_503";
        r->retry_after_sec = 7;
        *err = "WorkOS unavailable (HTTP 503, http_503)";
        return WOS_EUNAVAIL;
    }
    f->issued_exp = wos_now_sec() + 200;
    f->issued_at = wos_tk_token(f->pool, wos_tk_rsa2048(), f->issue_kid ? f->issue_kid : "k1",
                                wos_tk_claims(f->pool, f->new_sub, "sid_new", "org_01",
                                              f->issued_exp));
    r->http_status = 200;
    r->raw_json = answer_json(p, f->issued_at);
    return wos_session_from_auth_response(p, r->raw_json, strlen(r->raw_json), &r->session,
                                          err);
}

typedef struct fixture {
    fake fk;
    wos_memcache *mc;
    wos_authn_in in;
    apr_array_header_t *passwords;
} fixture;

static fixture *fixture_new(void)
{
    fixture *f = apr_pcalloc(tp, sizeof(*f));

    f->fk.api.base_url = "https://api.invalid";
    f->fk.api.client_id = "client_01";
    f->fk.api.api_key = "sk_test_not_a_real_key";
    f->fk.api.http.timeout_ms = 1000;
    f->fk.refresh_answer = WOS_OK;
    f->fk.new_sub = USER;
    f->fk.pool = tp;
    f->mc = wos_memcache_create(tp);
    f->passwords = apr_array_make(tp, 2, sizeof(const char *));
    APR_ARRAY_PUSH(f->passwords, const char *) = PW_NEW;
    APR_ARRAY_PUSH(f->passwords, const char *) = PW_OLD;

    f->in.passwords = f->passwords;
    ck_assert_int_eq(wos_keystore_create(tp, &f->in.keystore), WOS_OK);
    f->in.keys.cache = wos_memcache_cache(f->mc);
    f->in.keys.api = &f->fk.api;
    f->in.keys.ttl_sec = 3600;
    f->in.keys.fetch = fake_fetch;
    f->in.refresh.cache = wos_memcache_cache(f->mc);
    f->in.refresh.api = &f->fk.api;
    f->in.refresh.call = fake_refresh;
    f->in.jwt.skew_sec = 60;
    f->in.refresh_before = 30;
    return f;
}

/* An access token for @p sub expiring @p exp_in seconds from now (iat = exp - 300). */
static const char *token(const char *sub, apr_int64_t exp_in)
{
    return wos_tk_token(tp, wos_tk_rsa2048(), "k1",
                        wos_tk_claims(tp, sub, "sid_01", "org_01", wos_now_sec() + exp_in));
}

static const char *seal_session(const char *password, const char *at, const char *user_id)
{
    wos_session s;
    const char *json, *sealed = NULL;

    memset(&s, 0, sizeof(s));
    s.access_token = at;
    s.refresh_token = OLD_RT;
    s.organization_id = "org_01";
    s.authentication_method = "Password";
    s.user_id = user_id;
    s.user_email = "ada@example.com";
    s.user_first_name = "Ada";
    s.user_last_name = "Lovelace";
    s.user_email_verified = 1;
    json = wos_session_serialize(tp, &s);
    ck_assert_ptr_nonnull(json);
    ck_assert_int_eq(wos_seal(tp, password, json, strlen(json), 0,
                              apr_time_as_msec(apr_time_now()), &sealed), WOS_OK);
    return sealed;
}

/* A cookie for USER with a token expiring in @p exp_in seconds. */
static const char *cookie(const char *password, apr_int64_t exp_in)
{
    return seal_session(password, token(USER, exp_in), USER);
}

static wos_authn_out check(fixture *f, const char *c)
{
    wos_authn_out out;

    f->in.cookie = c;
    wos_authn_check(tp, &f->in, &out);
    ck_assert_ptr_nonnull(out.reason);
    return out;
}

static void assert_outcome(const wos_authn_out *o, wos_authn_outcome want)
{
    ck_assert_msg(o->outcome == want, "outcome %d, want %d (%s)", (int)o->outcome, (int)want,
                  o->reason);
}

/* The reason is for a log line: it must not quote a token or the cookie. */
static void assert_reason_clean(const wos_authn_out *o, const char *cookie_value)
{
    ck_assert_ptr_null(strstr(o->reason, OLD_RT));
    ck_assert_ptr_null(strstr(o->reason, NEW_RT));
    ck_assert_ptr_null(strstr(o->reason, "eyJ"));      /* any JWT segment */
    if (cookie_value && strlen(cookie_value) > 16)
        ck_assert_ptr_null(strstr(o->reason, apr_pstrndup(tp, cookie_value, 16)));
}

/* Unseal a new cookie with the given passwords only; NULL session when it does not open. */
static wos_session *open_with(const char *sealed, const char *password, int *idx)
{
    apr_array_header_t *pw = apr_array_make(tp, 1, sizeof(const char *));
    wos_session *s = NULL;
    const char *err;
    char *json;
    apr_size_t len;

    APR_ARRAY_PUSH(pw, const char *) = password;
    if (wos_unseal(tp, sealed, strlen(sealed), pw, apr_time_as_msec(apr_time_now()), &json,
                   &len, idx, &err) != WOS_OK)
        return NULL;
    ck_assert_int_eq(wos_session_parse(tp, json, len, &s, &err), WOS_OK);
    return s;
}

static void assert_refreshed(fixture *f, const wos_authn_out *o);

static unsigned calls(fixture *f)
{
    return apr_atomic_read32(&f->fk.calls);
}

/* ---- no cookie, bad cookies ------------------------------------------------- */

START_TEST(no_cookie)
{
    fixture *f = fixture_new();
    wos_authn_out o = check(f, NULL);

    assert_outcome(&o, WOS_AUTHN_NONE);
    o = check(f, "");
    assert_outcome(&o, WOS_AUTHN_NONE);
    ck_assert_ptr_null(o.session);
    ck_assert_ptr_null(o.new_cookie);
}
END_TEST

START_TEST(garbage_cookie)
{
    fixture *f = fixture_new();
    static const char *const bad[] = {
        "garbage", "Fe26.2*1*", "Fe26.2**********", "%00%ff", "Fe26.1*1*a*b*c**d*e~2",
    };
    apr_size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        wos_authn_out o = check(f, bad[i]);
        assert_outcome(&o, WOS_AUTHN_INVALID);
        ck_assert_ptr_null(o.claims);
    }
    ck_assert_uint_eq(calls(f), 0);
}
END_TEST

START_TEST(wrong_password)
{
    fixture *f = fixture_new();
    const char *c = cookie(PW_OTHER, 240);
    wos_authn_out o = check(f, c);

    assert_outcome(&o, WOS_AUTHN_INVALID);
    assert_reason_clean(&o, c);
    ck_assert_ptr_null(o.claims);
}
END_TEST

/* Change one character of each part of a good cookie in turn. */
START_TEST(tampered_cookie)
{
    fixture *f = fixture_new();
    const char *good = cookie(PW_NEW, 240);
    apr_size_t n = strlen(good), i;
    int tried = 0;
    wos_authn_out first = check(f, good);

    assert_outcome(&first, WOS_AUTHN_OK);
    for (i = 1; i < n; i++) {
        char *bad;
        wos_authn_out o;

        if (good[i] == '*' || good[i - 1] != '*')
            continue;                        /* the first character of each part */
        bad = apr_pstrdup(tp, good);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        o = check(f, bad);
        assert_outcome(&o, WOS_AUTHN_INVALID);
        tried++;
    }
    ck_assert_int_ge(tried, 6);
}
END_TEST

START_TEST(expired_seal)
{
    fixture *f = fixture_new();
    const char *json = "{}", *sealed;
    wos_authn_out o;
    apr_int64_t hour_ago = apr_time_as_msec(apr_time_now()) - 3600 * 1000;
    wos_session s;

    memset(&s, 0, sizeof(s));
    s.access_token = token(USER, 240);
    s.refresh_token = OLD_RT;
    s.user_id = USER;
    json = wos_session_serialize(tp, &s);
    ck_assert_int_eq(wos_seal(tp, PW_NEW, json, strlen(json), 60, hour_ago, &sealed), WOS_OK);
    o = check(f, sealed);
    assert_outcome(&o, WOS_AUTHN_INVALID);
}
END_TEST

START_TEST(sealed_non_session)
{
    fixture *f = fixture_new();
    static const char *const payloads[] = {
        "{}", "[]", "null", "{\"accessToken\":\"x\",\"refreshToken\":\"y\"}",
    };
    apr_size_t i;

    for (i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
        const char *sealed;
        wos_authn_out o;

        ck_assert_int_eq(wos_seal(tp, PW_NEW, payloads[i], strlen(payloads[i]), 0,
                                  apr_time_as_msec(apr_time_now()), &sealed), WOS_OK);
        o = check(f, sealed);
        assert_outcome(&o, WOS_AUTHN_INVALID);
    }
}
END_TEST

START_TEST(forged_token)
{
    fixture *f = fixture_new();
    apr_int64_t exp = wos_now_sec() + 240;
    const char *pay = wos_tk_claims(tp, USER, "sid_01", "org_01", exp);
    /* Signed by another key under the trusted kid, and an unsigned one. */
    const char *forged = wos_tk_token(tp, wos_tk_rsa2048b(), "k1", pay);
    const char *hdr = "{\"alg\":\"none\",\"kid\":\"k1\"}";
    const char *none = apr_pstrcat(tp, wos_tk_b64url(tp, (const unsigned char *)hdr,
                                                     strlen(hdr)), ".",
                                   wos_tk_b64url(tp, (const unsigned char *)pay, strlen(pay)),
                                   ".", NULL);
    wos_authn_out o = check(f, seal_session(PW_NEW, forged, USER));

    /* Inside a seal of ours: never an attack, never a sign-out; WorkOS decides. */
    assert_refreshed(f, &o);
    o = check(f, seal_session(PW_NEW, none, USER));
    assert_refreshed(f, &o);                   /* the same refresh token: shared result */
    ck_assert_uint_eq(calls(f), 1);
    /* And when WorkOS says the session is over, it is. */
    f->fk.refresh_answer = WOS_EUPSTREAM;
    f->in.refresh.cache = wos_memcache_cache(wos_memcache_create(tp));
    o = check(f, seal_session(PW_NEW, forged, USER));
    assert_outcome(&o, WOS_AUTHN_ENDED);
    ck_assert_ptr_null(o.new_cookie);
}
END_TEST

START_TEST(sub_is_not_user)
{
    fixture *f = fixture_new();
    wos_authn_out o = check(f, seal_session(PW_NEW, token("user_02", 240), USER));

    /* Never served as it is: refreshed, and the answer (USER's) is served. */
    assert_refreshed(f, &o);
    ck_assert_str_eq(o.claims->sub, USER);
    ck_assert_uint_eq(calls(f), 1);
}
END_TEST

/* ---- a valid session --------------------------------------------------------- */

START_TEST(valid_cookie)
{
    fixture *f = fixture_new();
    const char *at = token(USER, 240);
    wos_authn_out o = check(f, seal_session(PW_NEW, at, USER));

    assert_outcome(&o, WOS_AUTHN_OK);
    ck_assert_ptr_nonnull(o.claims);
    ck_assert_str_eq(o.claims->sub, USER);
    ck_assert_str_eq(o.claims->sid, "sid_01");
    ck_assert_str_eq(o.claims->org_id, "org_01");
    ck_assert_ptr_nonnull(o.session);
    ck_assert_str_eq(o.session->access_token, at);
    ck_assert_str_eq(o.session->user_first_name, "Ada");
    ck_assert_ptr_null(o.new_cookie);
    ck_assert_int_eq(o.refreshed, 0);
    ck_assert_int_eq(o.upstream_called, 0);
    ck_assert_int_eq(o.keys_fetched, 1);         /* the first request fetched the keys */
    o = check(f, seal_session(PW_NEW, at, USER));
    ck_assert_int_eq(o.keys_fetched, 0);
    ck_assert_uint_eq(calls(f), 0);
}
END_TEST

START_TEST(valid_cookie_old_password)
{
    fixture *f = fixture_new();
    wos_authn_out o = check(f, cookie(PW_OLD, 240));

    assert_outcome(&o, WOS_AUTHN_OK);
    ck_assert_str_eq(o.claims->sub, USER);
}
END_TEST

START_TEST(no_keys)
{
    fixture *f = fixture_new();
    wos_authn_out o;

    f->fk.jwks_fail = 1;
    o = check(f, cookie(PW_NEW, 240));
    assert_outcome(&o, WOS_AUTHN_NOKEYS);
    ck_assert_ptr_null(o.claims);
    ck_assert_ptr_null(o.new_cookie);
    ck_assert_uint_eq(calls(f), 0);
}
END_TEST

/* ---- refresh ---------------------------------------------------------------- */

/* A refreshed outcome: OK, a new cookie holding exactly what the fake issued. */
static void assert_refreshed(fixture *f, const wos_authn_out *o)
{
    wos_session *s;
    int idx = -1;

    assert_outcome(o, WOS_AUTHN_OK);
    ck_assert_int_eq(o->refreshed, 1);
    ck_assert_int_eq(o->refresh_failed, WOS_REFRESH_NOT_FAILED);
    ck_assert_ptr_nonnull(o->new_cookie);
    ck_assert_ptr_nonnull(o->claims);
    ck_assert_int_eq(o->claims->exp, f->fk.issued_exp);
    ck_assert_str_eq(o->claims->sid, "sid_new");
    s = open_with(o->new_cookie, PW_NEW, &idx);
    ck_assert_msg(s != NULL, "the new cookie does not open with the first password");
    ck_assert_int_eq(idx, 0);
    ck_assert_str_eq(s->access_token, f->fk.issued_at);
    ck_assert_str_eq(s->refresh_token, NEW_RT);
    ck_assert_str_eq(s->user_id, USER);
    ck_assert_ptr_null(open_with(o->new_cookie, PW_OLD, &idx));
}

START_TEST(expired_refresh_ok)
{
    fixture *f = fixture_new();
    wos_authn_out o = check(f, cookie(PW_NEW, -120));

    assert_refreshed(f, &o);
    ck_assert_int_eq(o.upstream_called, 1);
    ck_assert_uint_eq(calls(f), 1);
    ck_assert_str_eq(f->fk.seen_org, "org_01");   /* the token's org_id, as the SDKs send */
}
END_TEST

START_TEST(expired_refresh_rotates_password)
{
    fixture *f = fixture_new();
    wos_authn_out o = check(f, cookie(PW_OLD, -120));

    assert_refreshed(f, &o);
}
END_TEST

START_TEST(concurrent_request_shares_refresh)
{
    fixture *f = fixture_new();
    const char *c = cookie(PW_NEW, -120);
    wos_authn_out a = check(f, c);
    wos_authn_out b = check(f, c);           /* the same old cookie, a moment later */

    assert_refreshed(f, &a);
    assert_refreshed(f, &b);
    ck_assert_int_eq(b.upstream_called, 0);
    ck_assert_uint_eq(calls(f), 1);
}
END_TEST

START_TEST(expired_refresh_invalid_grant)
{
    fixture *f = fixture_new();
    const char *c = cookie(PW_NEW, -120);
    wos_authn_out o;

    f->fk.refresh_answer = WOS_EUPSTREAM;
    o = check(f, c);
    assert_outcome(&o, WOS_AUTHN_ENDED);
    ck_assert_ptr_nonnull(o.error);
    ck_assert_str_eq(o.error, "invalid_grant");
    ck_assert_int_eq(o.refresh_failed, WOS_REFRESH_FAILED_GRANT);
    ck_assert_ptr_null(o.new_cookie);
    assert_reason_clean(&o, c);
}
END_TEST

START_TEST(expired_refresh_rejected_otherwise)
{
    fixture *f = fixture_new();
    wos_authn_out o;

    f->fk.refresh_answer = WOS_EUPSTREAM;
    f->fk.refusal = "mfa_enrollment";
    f->fk.refusal_status = 403;
    o = check(f, cookie(PW_NEW, -120));
    assert_outcome(&o, WOS_AUTHN_ENDED);
    ck_assert_str_eq(o.error, "mfa_enrollment");
    ck_assert_int_eq(o.refresh_failed, WOS_REFRESH_FAILED_REJECTED);
    ck_assert_int_eq(o.interaction, 0);          /* only an organization switch asks */
}
END_TEST

/* WorkOS refusing the module itself is never the session's end. */
START_TEST(expired_refresh_module_refused)
{
    static const struct { long status; const char *error; } refusals[] = {
        {401, "unauthorized"}, {400, "invalid_client"}, {401, "invalid_client"},
        {403, "http_403"}, {404, "http_404"}, {400, "invalid_request"},
    };
    apr_size_t i;

    for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        fixture *f = fixture_new();
        const char *c = cookie(PW_NEW, -120);
        wos_authn_out o;

        f->fk.refresh_answer = WOS_EUPSTREAM;
        f->fk.refusal = refusals[i].error;
        f->fk.refusal_status = refusals[i].status;
        o = check(f, c);
        assert_outcome(&o, WOS_AUTHN_RETRY);
        ck_assert_int_eq(o.refresh_failed, WOS_REFRESH_FAILED_REFUSED);
        ck_assert_ptr_null(o.new_cookie);
        ck_assert_int_gt(o.retry_after, 0);
        ck_assert_str_eq(o.error, refusals[i].error);
        ck_assert_int_eq(o.report_due, 1);       /* the first in a minute says it */
        assert_reason_clean(&o, c);
        /* Not shared as a verdict: the next request asks again, and is quiet. */
        o = check(f, c);
        assert_outcome(&o, WOS_AUTHN_RETRY);
        ck_assert_int_eq(o.report_due, 0);
        ck_assert_uint_eq(calls(f), 2);
    }
}
END_TEST

START_TEST(expired_refresh_unavailable)
{
    fixture *f = fixture_new();
    const char *c = cookie(PW_NEW, -120);
    wos_authn_out o;

    f->fk.refresh_answer = WOS_EUNAVAIL;
    o = check(f, c);
    assert_outcome(&o, WOS_AUTHN_RETRY);
    ck_assert_int_eq(o.refresh_failed, WOS_REFRESH_FAILED_UNAVAILABLE);
    ck_assert_int_eq(o.retry_after, 7);
    ck_assert_ptr_null(o.new_cookie);
    assert_reason_clean(&o, c);
}
END_TEST

START_TEST(refresh_before_unavailable_still_valid)
{
    fixture *f = fixture_new();
    const char *at = token(USER, 20);         /* inside refresh_before (30 s) */
    wos_authn_out o;

    f->fk.refresh_answer = WOS_EUNAVAIL;
    o = check(f, seal_session(PW_NEW, at, USER));
    assert_outcome(&o, WOS_AUTHN_OK);
    ck_assert_ptr_null(o.new_cookie);
    ck_assert_int_eq(o.refreshed, 0);
    ck_assert_ptr_nonnull(o.claims);
    ck_assert_str_eq(o.claims->sid, "sid_01");
    ck_assert_str_eq(o.session->access_token, at);
    ck_assert_uint_eq(calls(f), 1);           /* it did try, and that failure counts */
    ck_assert_int_eq(o.refresh_failed, WOS_REFRESH_FAILED_UNAVAILABLE);
}
END_TEST

START_TEST(refresh_before_ok_refreshes)
{
    fixture *f = fixture_new();
    wos_authn_out o = check(f, cookie(PW_NEW, 20));

    assert_refreshed(f, &o);
    o = check(f, cookie(PW_NEW, 40));         /* outside the window: no refresh */
    assert_outcome(&o, WOS_AUTHN_OK);
    ck_assert_ptr_null(o.new_cookie);
    ck_assert_uint_eq(calls(f), 1);
}
END_TEST

/* A proactive refresh refused (another app sharing the cookie spent the token,
 * or WorkOS refuses the module): the still-valid token is served, cookie kept. */
START_TEST(refresh_before_refused_serves_valid_token)
{
    static const char *const refusals[] = {"invalid_grant", "invalid_client", "sso_required"};
    apr_size_t i;

    for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        fixture *f = fixture_new();
        const char *at = token(USER, 20);
        wos_authn_out o;

        f->fk.refresh_answer = WOS_EUPSTREAM;
        f->fk.refusal = refusals[i];
        o = check(f, seal_session(PW_NEW, at, USER));
        assert_outcome(&o, WOS_AUTHN_OK);
        ck_assert_ptr_null(o.new_cookie);
        ck_assert_int_eq(o.refreshed, 0);
        ck_assert_ptr_nonnull(o.claims);
        ck_assert_str_eq(o.claims->sid, "sid_01");
        ck_assert_str_eq(o.session->access_token, at);
        ck_assert_int_ne(o.refresh_failed, WOS_REFRESH_NOT_FAILED);
        ck_assert_uint_eq(calls(f), 1);
    }
}
END_TEST

/* A token whose key is not (yet) in the JWKS: refetch, then refresh. */
START_TEST(unknown_kid_refreshes)
{
    fixture *f = fixture_new();
    const char *at = wos_tk_token(tp, wos_tk_rsa2048(), "k-new",
                                  wos_tk_claims(tp, USER, "sid_01", "org_01",
                                                wos_now_sec() + 240));
    wos_authn_out o = check(f, seal_session(PW_NEW, at, USER));

    assert_refreshed(f, &o);                   /* the refreshed token is under k1 */
    ck_assert_uint_eq(apr_atomic_read32(&f->fk.fetches), 1);   /* the cold fetch: no second */
}
END_TEST

/* WorkOS unreachable too: 503, the cookie kept (no deletion, no new one). */
START_TEST(unknown_kid_refresh_unavailable_keeps_cookie)
{
    fixture *f = fixture_new();
    const char *at = wos_tk_token(tp, wos_tk_rsa2048b(), "k-new",
                                  wos_tk_claims(tp, USER, "sid_01", "org_01",
                                                wos_now_sec() + 240));
    wos_authn_out o;

    f->fk.refresh_answer = WOS_EUNAVAIL;
    o = check(f, seal_session(PW_NEW, at, USER));
    assert_outcome(&o, WOS_AUTHN_RETRY);
    ck_assert_ptr_null(o.new_cookie);
    ck_assert_int_gt(o.retry_after, 0);
}
END_TEST

/* Key rotation with the JWKS lagging: the refreshed token's key is unknown too.
 * The new cookie is kept (the old refresh token is spent), nobody is served. */
START_TEST(refreshed_under_unpublished_key_retries)
{
    fixture *f = fixture_new();
    const char *at = wos_tk_token(tp, wos_tk_rsa2048(), "k-new",
                                  wos_tk_claims(tp, USER, "sid_01", "org_01",
                                                wos_now_sec() + 240));
    wos_authn_out o;

    f->fk.issue_kid = "k-new";
    o = check(f, seal_session(PW_NEW, at, USER));
    assert_outcome(&o, WOS_AUTHN_RETRY);
    ck_assert_ptr_nonnull(o.new_cookie);
    ck_assert_int_eq(o.refreshed, 1);
    ck_assert_ptr_null(o.claims);
}
END_TEST

/* Not a user's access token (Node SDK 12 rules) inside our seal: refreshed. */
START_TEST(not_a_user_token_refreshes)
{
    fixture *f = fixture_new();
    apr_int64_t exp = wos_now_sec() + 240;
    const char *claims = apr_psprintf(tp, "{\"iss\":\"i\",\"sub\":\"" USER "\",\"sid\":\"s\","
                                      "\"iat\":%" APR_INT64_T_FMT ",\"auth_time\":1,"
                                      "\"sub_profile\":\"agent\",\"exp\":%" APR_INT64_T_FMT "}",
                                      exp - 300, exp);
    wos_authn_out o = check(f, seal_session(PW_NEW, wos_tk_token(tp, wos_tk_rsa2048(), "k1",
                                                                 claims), USER));

    assert_refreshed(f, &o);
    ck_assert_str_eq(f->fk.seen_org, "(null)");   /* that token had no org_id */
}
END_TEST

/* A plain refresh stays in the token's organization (not the sealed one). */
START_TEST(refresh_sends_token_org)
{
    fixture *f = fixture_new();
    const char *at = wos_tk_token(tp, wos_tk_rsa2048(), "k1",
                                  wos_tk_claims(tp, USER, "sid_01", "org_TOKEN",
                                                wos_now_sec() - 120));
    wos_authn_out o = check(f, seal_session(PW_NEW, at, USER));

    assert_refreshed(f, &o);
    ck_assert_str_eq(f->fk.seen_org, "org_TOKEN");
}
END_TEST

/* An organization switch that needs SSO or MFA enrollment: to AuthKit, session kept. */
START_TEST(switch_org_needs_user)
{
    fixture *f = fixture_new();
    wos_authn_out o;

    f->in.switch_org = "org_02";
    f->fk.refresh_answer = WOS_EUPSTREAM;
    f->fk.refusal = "sso_required";
    f->fk.redirect = "https://auth.example.com/sso?token=t";
    o = check(f, cookie(PW_NEW, 240));
    assert_outcome(&o, WOS_AUTHN_ENDED);
    ck_assert_int_eq(o.interaction, 1);
    ck_assert_str_eq(o.redirect_url, "https://auth.example.com/sso?token=t");
    /* A concurrent request sees the shared answer, redirect included. */
    o = check(f, cookie(PW_NEW, 240));
    ck_assert_int_eq(o.interaction, 1);
    ck_assert_uint_eq(calls(f), 1);

    f = fixture_new();
    f->in.switch_org = "org_02";
    f->fk.refresh_answer = WOS_EUPSTREAM;
    f->fk.refusal = "mfa_enrollment";
    f->fk.refusal_status = 403;
    o = check(f, cookie(PW_NEW, 240));
    ck_assert_int_eq(o.interaction, 1);
    ck_assert_ptr_null(o.redirect_url);          /* AuthKit with the organization */

    f = fixture_new();
    f->in.switch_org = "org_02";
    f->fk.refresh_answer = WOS_EUPSTREAM;
    f->fk.refusal = "organization_membership_not_found";
    f->fk.refusal_status = 403;
    o = check(f, cookie(PW_NEW, 240));
    assert_outcome(&o, WOS_AUTHN_ENDED);
    ck_assert_int_eq(o.interaction, 0);
}
END_TEST

START_TEST(refreshed_token_for_other_user_not_served)
{
    fixture *f = fixture_new();
    wos_authn_out o;

    f->fk.new_sub = "user_02";                /* a token for someone else than the user */
    o = check(f, cookie(PW_NEW, -120));
    assert_outcome(&o, WOS_AUTHN_RETRY);
    ck_assert_int_eq(o.upstream_called, 1);
    ck_assert_int_eq(o.refresh_failed, WOS_REFRESH_NOT_FAILED);   /* it worked; verify failed */
    /* The old refresh token is spent: the new cookie is kept, but nobody is served. */
    ck_assert_ptr_nonnull(o.new_cookie);
    ck_assert(o.claims == NULL || strcmp(o.claims->sub, "user_02") != 0);
}
END_TEST

START_TEST(switch_org_refreshes_into_org)
{
    fixture *f = fixture_new();
    wos_authn_out o;

    f->in.switch_org = "org_02";
    o = check(f, cookie(PW_NEW, 240));         /* valid, but switching forces a refresh */
    assert_refreshed(f, &o);
    ck_assert_str_eq(f->fk.seen_org, "org_02");
}
END_TEST

/* The real WorkOS client refuses a bad configuration without an answer (no *out). */
START_TEST(refresh_misconfigured_is_retry)
{
    fixture *f = fixture_new();
    wos_authn_out o;

    f->fk.api.api_key = NULL;
    f->in.refresh.call = NULL;                 /* wos_api_refresh: fails before sending */
    o = check(f, cookie(PW_NEW, -120));
    assert_outcome(&o, WOS_AUTHN_RETRY);
    ck_assert_ptr_null(o.new_cookie);
}
END_TEST

/* ---- peek (logout) --------------------------------------------------------- */

START_TEST(peek_expired_token)
{
    fixture *f = fixture_new();
    wos_session *s = NULL;
    wos_claims *c = NULL;
    const char *err = NULL;

    f->in.cookie = cookie(PW_OLD, -3600);
    ck_assert_int_eq(wos_authn_peek(tp, &f->in, &s, &c, &err), WOS_OK);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(c->sid, "sid_01");
    ck_assert_str_eq(s->user_id, USER);
    ck_assert_uint_eq(calls(f), 0);
}
END_TEST

START_TEST(peek_refuses_bad_cookies)
{
    fixture *f = fixture_new();
    wos_session *s = NULL;
    wos_claims *c = NULL;
    const char *err = NULL;
    apr_int64_t exp = wos_now_sec() - 3600;
    const char *pay = wos_tk_claims(tp, USER, "sid_01", "org_01", exp);

    f->in.cookie = NULL;
    ck_assert_int_ne(wos_authn_peek(tp, &f->in, &s, &c, &err), WOS_OK);
    f->in.cookie = cookie(PW_OTHER, -3600);
    ck_assert_int_ne(wos_authn_peek(tp, &f->in, &s, &c, &err), WOS_OK);
    (void)pay;
}
END_TEST

/* Logout reads sid from the sealed token as the SDKs do: no signature check,
 * so a rotated key or an unreachable JWKS still signs out at WorkOS. */
START_TEST(peek_reads_sid_without_keys)
{
    fixture *f = fixture_new();
    wos_session *s = NULL;
    wos_claims *c = NULL;
    const char *err = NULL;
    const char *pay = wos_tk_claims(tp, USER, "sid_rotated", "org_01", wos_now_sec() + 60);

    f->fk.jwks_fail = 1;
    f->in.cookie = seal_session(PW_NEW, wos_tk_token(tp, wos_tk_rsa2048b(), "k-gone", pay),
                                USER);
    ck_assert_int_eq(wos_authn_peek(tp, &f->in, &s, &c, &err), WOS_OK);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(c->sid, "sid_rotated");
    ck_assert_uint_eq(apr_atomic_read32(&f->fk.fetches), 0);
    /* A token that cannot be read at all: the session, but no sid. */
    f->in.cookie = seal_session(PW_NEW, "not-a-token", USER);
    ck_assert_int_eq(wos_authn_peek(tp, &f->in, &s, &c, &err), WOS_OK);
    ck_assert_ptr_null(c);
}
END_TEST

static Suite *authn_suite(void)
{
    Suite *s = suite_create("authn");
    TCase *bad = wos_tcase("bad_cookies");
    TCase *ok = wos_tcase("valid");
    TCase *rf = wos_tcase("refresh");
    TCase *pk = wos_tcase("peek");

    wos_tk_init();  /* once, before Check forks */
    tcase_add_test(bad, no_cookie);
    tcase_add_test(bad, garbage_cookie);
    tcase_add_test(bad, wrong_password);
    tcase_add_test(bad, tampered_cookie);
    tcase_add_test(bad, expired_seal);
    tcase_add_test(bad, sealed_non_session);
    tcase_add_test(bad, forged_token);
    tcase_add_test(bad, sub_is_not_user);
    tcase_add_test(ok, valid_cookie);
    tcase_add_test(ok, valid_cookie_old_password);
    tcase_add_test(ok, no_keys);
    tcase_add_test(rf, expired_refresh_ok);
    tcase_add_test(rf, expired_refresh_rotates_password);
    tcase_add_test(rf, concurrent_request_shares_refresh);
    tcase_add_test(rf, expired_refresh_invalid_grant);
    tcase_add_test(rf, expired_refresh_rejected_otherwise);
    tcase_add_test(rf, expired_refresh_unavailable);
    tcase_add_test(rf, refresh_before_unavailable_still_valid);
    tcase_add_test(rf, refresh_before_ok_refreshes);
    tcase_add_test(rf, refresh_before_refused_serves_valid_token);
    tcase_add_test(rf, expired_refresh_module_refused);
    tcase_add_test(rf, unknown_kid_refreshes);
    tcase_add_test(rf, unknown_kid_refresh_unavailable_keeps_cookie);
    tcase_add_test(rf, refreshed_under_unpublished_key_retries);
    tcase_add_test(rf, not_a_user_token_refreshes);
    tcase_add_test(rf, refresh_sends_token_org);
    tcase_add_test(rf, switch_org_needs_user);
    tcase_add_test(rf, refreshed_token_for_other_user_not_served);
    tcase_add_test(rf, switch_org_refreshes_into_org);
    tcase_add_test(rf, refresh_misconfigured_is_retry);
    tcase_add_test(pk, peek_expired_token);
    tcase_add_test(pk, peek_refuses_bad_cookies);
    tcase_add_test(pk, peek_reads_sid_without_keys);
    suite_add_tcase(s, bad);
    suite_add_tcase(s, ok);
    suite_add_tcase(s, rf);
    suite_add_tcase(s, pk);
    return s;
}

WOS_TEST_MAIN(authn_suite)
