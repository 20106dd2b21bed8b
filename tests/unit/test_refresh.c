/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_refresh.c: single-flight refresh over the shared cache. WorkOS is
 * replaced by a counting call function (wos_refresh_ctx.call), the shared
 * cache by memcache, and worker processes by threads that share both.
 * The first cases check memcache itself, since every other case trusts it.
 * A "racy" wrapper gives memcache the add of redis and memcache behind
 * mod_socache (a check, then a store), and the fake WorkOS can spend refresh
 * tokens once, as WorkOS does: the cases at the end are servers that both
 * took the lock, and the one refused as spent taking the other's result.
 */
#include <apr_atomic.h>
#include <apr_hash.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>

#include "testutil.h"
#include "memcache.h"
#include "wos_refresh.h"
#include "wos_seal.h"

#define OLD_RT "rt_old_0123456789abcdefghijklmnopqrstuv"

/*
 * The fake WorkOS. The call function only receives the api config, so the
 * config is the first member and the call finds its state from it.
 */
typedef struct upstream {
    wos_api_cfg api;
    apr_thread_mutex_t *mu;
    volatile apr_uint32_t calls;
    volatile apr_uint32_t release;   /* a blocking call returns once this is set */
    int sleep_ms;
    int block;
    wos_rv answer;                   /* WOS_OK, WOS_EUPSTREAM or WOS_EUNAVAIL */
    const char *error;               /* WOS_EUPSTREAM's error; NULL: invalid_grant */
    int single_use;                  /* a token's second call gets invalid_grant */
    apr_hash_t *spent;               /* tokens used, when single_use (under mu) */
    char seen_token[128], seen_org[64], seen_ip[64], seen_ua[64];
    char issued_rt[64], issued_at[64];  /* the tokens of the last success */
} upstream;

static void copy(char *dst, apr_size_t n, const char *src)
{
    apr_cpystrn(dst, src ? src : "(null)", n);
}

/* A snake_case authenticate answer carrying the given tokens. */
static const char *answer_json(apr_pool_t *p, const char *at, const char *rt)
{
    return apr_psprintf(p,
        "{\"user\":{\"object\":\"user\",\"id\":\"user_01\",\"email\":\"ada@example.com\","
        "\"email_verified\":true,\"first_name\":\"Ada\",\"last_name\":\"Lovelace\","
        "\"profile_picture_url\":null,\"last_sign_in_at\":\"2024-01-01T00:00:00Z\","
        "\"created_at\":\"2024-01-01T00:00:00Z\",\"updated_at\":\"2024-01-01T00:00:00Z\","
        "\"external_id\":null,\"metadata\":{}},\"organization_id\":\"org_01\","
        "\"access_token\":\"%s\",\"refresh_token\":\"%s\","
        "\"authentication_method\":\"Password\"}", at, rt);
}

static void answer_ok(apr_pool_t *p, upstream *u, unsigned n, wos_auth_result *r)
{
    const char *err = NULL;
    const char *at = apr_psprintf(p, "at_new_%u_ZYXWVUTSRQPONMLKJIHGFEDCBA", n);
    const char *rt = apr_psprintf(p, "rt_new_%u_zyxwvutsrqponmlkjihgfedcba", n);

    r->raw_json = answer_json(p, at, rt);
    r->http_status = 200;
    ck_assert_int_eq(wos_session_from_auth_response(p, r->raw_json, strlen(r->raw_json),
                                                    &r->session, &err), WOS_OK);
    apr_thread_mutex_lock(u->mu);
    copy(u->issued_at, sizeof(u->issued_at), at);
    copy(u->issued_rt, sizeof(u->issued_rt), rt);
    apr_thread_mutex_unlock(u->mu);
}

static wos_rv fake_call(apr_pool_t *p, const wos_api_cfg *c, const char *refresh_token,
                        const char *organization_id, const char *ip_address,
                        const char *user_agent, wos_auth_result **out, const char **err)
{
    upstream *u = (upstream *)c;
    wos_auth_result *r = apr_pcalloc(p, sizeof(*r));
    unsigned n = apr_atomic_inc32(&u->calls) + 1;
    int reused = 0;

    apr_thread_mutex_lock(u->mu);
    copy(u->seen_token, sizeof(u->seen_token), refresh_token);
    copy(u->seen_org, sizeof(u->seen_org), organization_id);
    copy(u->seen_ip, sizeof(u->seen_ip), ip_address);
    copy(u->seen_ua, sizeof(u->seen_ua), user_agent);
    if (u->single_use) {     /* spent on arrival, as WorkOS does before answering */
        reused = apr_hash_get(u->spent, refresh_token, APR_HASH_KEY_STRING) != NULL;
        apr_hash_set(u->spent, apr_pstrdup(tp, refresh_token), APR_HASH_KEY_STRING, "");
    }
    apr_thread_mutex_unlock(u->mu);
    *out = r;
    r->retry_after_sec = -1;
    if (reused) {
        r->http_status = 400;
        r->error = "invalid_grant";
        r->error_description = "Refresh token already exchanged.";
        *err = "WorkOS refused the request (HTTP 400, invalid_grant)";
        return WOS_EUPSTREAM;
    }
    if (u->sleep_ms)
        apr_sleep(apr_time_from_msec(u->sleep_ms));
    while (u->block && !apr_atomic_read32(&u->release))
        apr_sleep(apr_time_from_msec(10));
    *out = r;
    r->retry_after_sec = -1;
    if (u->answer == WOS_OK) {
        answer_ok(p, u, n, r);
        return WOS_OK;
    }
    if (u->answer == WOS_EUPSTREAM) {
        r->http_status = 400;
        r->error = u->error ? u->error : "invalid_grant";
        r->error_description = "Invalid refresh token.";
        *err = "WorkOS refused the request (HTTP 400, invalid_grant)";
        return WOS_EUPSTREAM;
    }
    r->http_status = 503;
    r->error = "http_503";
    r->retry_after_sec = 7;
    *err = "WorkOS unavailable (HTTP 503, http_503)";
    return WOS_EUNAVAIL;
}

/*
 * The add of a store shared across servers: a check, then a store. force
 * makes the next adds succeed over a present entry (their check came before
 * the other's store: the window); clobber makes a competitor's value land
 * right after the next adds (during their confirmation).
 */
typedef struct racy {
    wos_cache cache;                 /* flags WOS_CACHE_RACY_ADD; baton = this */
    const wos_cache *inner;
    apr_thread_mutex_t *mu;
    int pause_ms;                    /* between the check and the store */
    int force, clobber;              /* adds still to treat so (under mu) */
    void (*before_add)(void *arg);   /* run once, at the start of the next add */
    void *before_add_arg;
} racy;

static int take_count(racy *rc, int *count)
{
    int yes;

    apr_thread_mutex_lock(rc->mu);
    yes = *count > 0;
    if (yes)
        (*count)--;
    apr_thread_mutex_unlock(rc->mu);
    return yes;
}

static wos_rv racy_get(const wos_cache *c, apr_pool_t *p, const char *key,
                       apr_size_t max_len, char **val, apr_size_t *len)
{
    const wos_cache *in = ((racy *)c->baton)->inner;
    return in->get(in, p, key, max_len, val, len);
}

static wos_rv racy_set(const wos_cache *c, apr_pool_t *p, const char *key,
                       const char *val, apr_size_t len, apr_time_t expiry)
{
    const wos_cache *in = ((racy *)c->baton)->inner;
    return in->set(in, p, key, val, len, expiry);
}

static wos_rv racy_remove(const wos_cache *c, apr_pool_t *p, const char *key)
{
    const wos_cache *in = ((racy *)c->baton)->inner;
    return in->remove(in, p, key);
}

static wos_rv racy_add(const wos_cache *c, apr_pool_t *p, const char *key,
                       const char *val, apr_size_t len, apr_time_t expiry)
{
    racy *rc = c->baton;
    const wos_cache *in = rc->inner;
    char *v;
    apr_size_t l;
    wos_rv rv;
    void (*hook)(void *) = rc->before_add;

    rc->before_add = NULL;
    if (hook)
        hook(rc->before_add_arg);
    if (!take_count(rc, &rc->force) && in->get(in, p, key, 1 << 20, &v, &l) != WOS_ENOKEY)
        return WOS_EBUSY;
    if (rc->pause_ms)
        apr_sleep(apr_time_from_msec(rc->pause_ms));
    rv = in->set(in, p, key, val, len, expiry);
    if (take_count(rc, &rc->clobber))
        in->set(in, p, key, "competitor-value", 16, expiry);
    return rv;
}

static racy *racy_wrap(const wos_cache *inner)
{
    racy *rc = apr_pcalloc(tp, sizeof(*rc));

    ck_assert_int_eq(apr_thread_mutex_create(&rc->mu, APR_THREAD_MUTEX_DEFAULT, tp),
                     APR_SUCCESS);
    rc->inner = inner;
    rc->cache.baton = rc;
    rc->cache.flags = WOS_CACHE_RACY_ADD;
    rc->cache.get = racy_get;
    rc->cache.set = racy_set;
    rc->cache.add = racy_add;
    rc->cache.remove = racy_remove;
    return rc;
}

typedef struct fixture {
    upstream up;
    wos_memcache *mc;
    racy *rc;                        /* NULL: memcache's atomic add */
    wos_refresh_ctx ctx;
    volatile apr_uint32_t notes[3];  /* by wos_refresh_note */
    volatile apr_uint32_t secret_in_note;
} fixture;

static void record_note(void *baton, wos_refresh_note what, const char *msg)
{
    fixture *f = baton;

    if ((unsigned)what < 3)
        apr_atomic_inc32(&f->notes[what]);
    if (strstr(msg, OLD_RT) || strstr(msg, "rt_new_") || strstr(msg, "at_new_"))
        apr_atomic_set32(&f->secret_in_note, 1);
}

static fixture *fixture_new(wos_rv answer)
{
    fixture *f = apr_pcalloc(tp, sizeof(*f));

    ck_assert_int_eq(apr_thread_mutex_create(&f->up.mu, APR_THREAD_MUTEX_DEFAULT, tp),
                     APR_SUCCESS);
    f->up.api.base_url = "https://api.invalid";
    f->up.api.client_id = "client_01";
    f->up.api.api_key = "sk_test_not_a_real_key";
    f->up.api.http.timeout_ms = 1000;
    f->up.answer = answer;
    f->mc = wos_memcache_create(tp);
    ck_assert_ptr_nonnull(f->mc);
    f->ctx.cache = wos_memcache_cache(f->mc);
    f->ctx.api = &f->up.api;
    f->ctx.ip_address = "192.0.2.7";
    f->ctx.user_agent = "test-agent/1";
    f->ctx.call = fake_call;
    f->ctx.note = record_note;
    f->ctx.note_baton = f;
    f->up.spent = apr_hash_make(tp);
    return f;
}

/* A fixture whose cache has the racy add, and whose WorkOS spends tokens once. */
static fixture *fixture_racy(wos_rv answer)
{
    fixture *f = fixture_new(answer);

    f->rc = racy_wrap(f->ctx.cache);
    f->ctx.cache = &f->rc->cache;
    f->up.single_use = 1;
    return f;
}

static unsigned noted(fixture *f, wos_refresh_note what)
{
    return apr_atomic_read32(&f->notes[what]);
}

typedef struct call_result {
    wos_rv rv;
    int called;
    wos_auth_result *res;
    const char *err;
} call_result;

static call_result do_refresh(apr_pool_t *p, fixture *f, const char *token, const char *org)
{
    call_result c = {0};

    c.rv = wos_refresh(p, &f->ctx, token, org, &c.res, &c.called, &c.err);
    ck_assert_ptr_nonnull(c.res);
    return c;
}

static unsigned calls(fixture *f)
{
    return apr_atomic_read32(&f->up.calls);
}

/* ---- memcache, the fake every case below relies on ------------------------ */

START_TEST(memcache_semantics)
{
    wos_memcache *m = wos_memcache_create(tp);
    const wos_cache *c = wos_memcache_cache(m);
    apr_time_t later = apr_time_now() + apr_time_from_sec(30);
    char *val = NULL;
    apr_size_t len = 0;
    wos_memcache_counts n;

    ck_assert_int_eq(c->get(c, tp, "k", 100, &val, &len), WOS_ENOKEY);
    ck_assert_int_eq(c->add(c, tp, "k", "v1", 2, later), WOS_OK);
    ck_assert_int_eq(c->add(c, tp, "k", "v2", 2, later), WOS_EBUSY);
    ck_assert_int_eq(c->get(c, tp, "k", 100, &val, &len), WOS_OK);
    ck_assert_int_eq(len, 2);
    ck_assert_str_eq(val, "v1");
    ck_assert_int_eq(c->get(c, tp, "k", 1, &val, &len), WOS_ETOOBIG);
    ck_assert_int_eq(c->set(c, tp, "k", "v3", 2, later), WOS_OK);
    ck_assert_int_eq(c->get(c, tp, "k", 100, &val, &len), WOS_OK);
    ck_assert_str_eq(val, "v3");
    ck_assert_int_eq(c->remove(c, tp, "k"), WOS_OK);
    ck_assert_int_eq(c->get(c, tp, "k", 100, &val, &len), WOS_ENOKEY);
    n = wos_memcache_get_counts(m);
    ck_assert_int_eq(n.gets, 5);
    ck_assert_int_eq(n.sets, 1);
    ck_assert_int_eq(n.adds, 2);
    ck_assert_int_eq(n.removes, 1);
    /* remove_if: only the value it holds */
    ck_assert_int_eq(c->remove_if(c, tp, "k", "v", 1), WOS_ENOKEY);
    ck_assert_int_eq(c->set(c, tp, "k", "mine", 4, later), WOS_OK);
    ck_assert_int_eq(c->remove_if(c, tp, "k", "mind", 4), WOS_EBUSY);
    ck_assert_int_eq(c->remove_if(c, tp, "k", "min", 3), WOS_EBUSY);
    ck_assert_int_eq(c->get(c, tp, "k", 100, &val, &len), WOS_OK);
    ck_assert_int_eq(c->remove_if(c, tp, "k", "mine", 4), WOS_OK);
    ck_assert_int_eq(c->get(c, tp, "k", 100, &val, &len), WOS_ENOKEY);
    ck_assert_int_eq(wos_memcache_get_counts(m).remove_ifs, 4);
}
END_TEST

START_TEST(memcache_expiry_fail_evict)
{
    wos_memcache *m = wos_memcache_create(tp);
    const wos_cache *c = wos_memcache_cache(m);
    apr_time_t now = apr_time_now();
    char *val;
    apr_size_t len;

    ck_assert_int_eq(c->set(c, tp, "past", "x", 1, now - 1), WOS_OK);
    ck_assert_int_eq(c->get(c, tp, "past", 100, &val, &len), WOS_ENOKEY);
    ck_assert_int_eq(c->add(c, tp, "past", "y", 1, now + apr_time_from_sec(30)), WOS_OK);
    ck_assert_int_eq(c->set(c, tp, "soon", "z", 1, now + apr_time_from_sec(10)), WOS_OK);
    ck_assert_int_eq(wos_memcache_size(m), 2);
    wos_memcache_advance(m, 20);        /* "soon" expires, "past" (now +30 s) does not */
    ck_assert_int_eq(c->get(c, tp, "soon", 100, &val, &len), WOS_ENOKEY);
    ck_assert_int_eq(c->get(c, tp, "past", 100, &val, &len), WOS_OK);
    wos_memcache_fail(m, WOS_MC_GET | WOS_MC_ADD);
    ck_assert_int_eq(c->get(c, tp, "past", 100, &val, &len), WOS_ENOKEY);
    ck_assert_int_ne(c->add(c, tp, "new", "n", 1, now + apr_time_from_sec(60)), WOS_OK);
    wos_memcache_fail(m, 0);
    ck_assert_int_eq(c->get(c, tp, "new", 100, &val, &len), WOS_ENOKEY);
    ck_assert_int_eq(wos_memcache_evict(m, "as"), 1);
    ck_assert_int_eq(wos_memcache_size(m), 0);
}
END_TEST

/* ---- one caller -------------------------------------------------------------- */

START_TEST(one_call_one_upstream_call)
{
    fixture *f = fixture_new(WOS_OK);
    call_result c = do_refresh(tp, f, OLD_RT, NULL);

    ck_assert_msg(c.rv == WOS_OK, "rv %s (%s)", wos_strerror(c.rv), c.err ? c.err : "-");
    ck_assert_int_eq(c.called, 1);
    ck_assert_uint_eq(calls(f), 1);
    ck_assert_str_eq(f->up.seen_token, OLD_RT);
    ck_assert_str_eq(f->up.seen_org, "(null)");
    ck_assert_str_eq(f->up.seen_ip, "192.0.2.7");
    ck_assert_str_eq(f->up.seen_ua, "test-agent/1");
    ck_assert_ptr_nonnull(c.res->session);
    ck_assert_str_eq(c.res->session->refresh_token, f->up.issued_rt);
    ck_assert_str_eq(c.res->session->access_token, f->up.issued_at);
    ck_assert_int_ge(wos_memcache_size(f->mc), 1);     /* the result is kept for others */
}
END_TEST

START_TEST(same_token_reuses_result)
{
    fixture *f = fixture_new(WOS_OK);
    call_result a = do_refresh(tp, f, OLD_RT, NULL);
    call_result b = do_refresh(tp, f, OLD_RT, NULL);

    ck_assert_int_eq(a.rv, WOS_OK);
    ck_assert_msg(b.rv == WOS_OK, "rv %s (%s)", wos_strerror(b.rv), b.err ? b.err : "-");
    ck_assert_int_eq(b.called, 0);
    ck_assert_uint_eq(calls(f), 1);
    ck_assert_ptr_nonnull(b.res->session);
    ck_assert_str_eq(b.res->session->refresh_token, a.res->session->refresh_token);
    ck_assert_str_eq(b.res->session->access_token, a.res->session->access_token);
    ck_assert_str_eq(b.res->session->user_id, "user_01");
    ck_assert_str_eq(b.res->session->user_first_name, "Ada");
}
END_TEST

START_TEST(result_expires_after_ttl)
{
    fixture *f = fixture_new(WOS_OK);
    call_result c;

    ck_assert_int_eq(do_refresh(tp, f, OLD_RT, NULL).rv, WOS_OK);
    wos_memcache_advance(f->mc, WOS_REFRESH_RESULT_TTL - 5);
    c = do_refresh(tp, f, OLD_RT, NULL);
    ck_assert_int_eq(c.called, 0);
    wos_memcache_advance(f->mc, 10);
    c = do_refresh(tp, f, OLD_RT, NULL);
    ck_assert_int_eq(c.called, 1);
    ck_assert_uint_eq(calls(f), 2);
}
END_TEST

START_TEST(different_org_is_different_flight)
{
    fixture *f = fixture_new(WOS_OK);
    call_result a = do_refresh(tp, f, OLD_RT, NULL);
    call_result b = do_refresh(tp, f, OLD_RT, "org_B");
    call_result c = do_refresh(tp, f, OLD_RT, "org_C");
    call_result d = do_refresh(tp, f, OLD_RT, "org_B");

    ck_assert_int_eq(a.called, 1);
    ck_assert_int_eq(b.called, 1);
    ck_assert_int_eq(c.called, 1);
    ck_assert_int_eq(d.called, 0);
    ck_assert_uint_eq(calls(f), 3);
    ck_assert_str_eq(f->up.seen_org, "org_C");
    ck_assert_str_ne(b.res->session->refresh_token, a.res->session->refresh_token);
    ck_assert_str_eq(d.res->session->refresh_token, b.res->session->refresh_token);
}
END_TEST

START_TEST(terminal_error_is_shared)
{
    fixture *f = fixture_new(WOS_EUPSTREAM);
    call_result a = do_refresh(tp, f, OLD_RT, NULL);
    call_result b;

    ck_assert_int_eq(a.rv, WOS_EUPSTREAM);
    ck_assert_int_eq(a.called, 1);
    ck_assert_str_eq(a.res->error, "invalid_grant");
    f->up.answer = WOS_OK;          /* a second call to WorkOS would now succeed */
    b = do_refresh(tp, f, OLD_RT, NULL);
    ck_assert_int_eq(b.rv, WOS_EUPSTREAM);
    ck_assert_int_eq(b.called, 0);
    ck_assert_ptr_nonnull(b.res->error);
    ck_assert_str_eq(b.res->error, "invalid_grant");
    ck_assert_ptr_nonnull(b.err);
    ck_assert_uint_eq(calls(f), 1);
}
END_TEST

START_TEST(retryable_error_stores_nothing)
{
    fixture *f = fixture_new(WOS_EUNAVAIL);
    call_result a = do_refresh(tp, f, OLD_RT, NULL);
    call_result b;

    ck_assert_int_eq(a.rv, WOS_EUNAVAIL);
    ck_assert_int_eq(a.called, 1);
    ck_assert_int_eq(a.res->retry_after_sec, 7);
    ck_assert_int_eq(wos_memcache_size(f->mc), 0);   /* lock gone, no result */
    b = do_refresh(tp, f, OLD_RT, NULL);
    ck_assert_int_eq(b.rv, WOS_EUNAVAIL);
    ck_assert_int_eq(b.called, 1);
    f->up.answer = WOS_OK;
    b = do_refresh(tp, f, OLD_RT, NULL);
    ck_assert_int_eq(b.rv, WOS_OK);
    ck_assert_int_eq(b.called, 1);
    ck_assert_uint_eq(calls(f), 3);
}
END_TEST

/* The real client refuses a bad configuration before sending, without an answer. */
START_TEST(no_answer_is_not_shared)
{
    fixture *f = fixture_new(WOS_OK);
    call_result a, b;

    f->up.api.api_key = NULL;
    f->ctx.call = NULL;                              /* wos_api_refresh */
    a = do_refresh(tp, f, OLD_RT, NULL);
    ck_assert_int_eq(a.rv, WOS_EINVAL);
    ck_assert_int_eq(a.called, 1);
    ck_assert_ptr_null(a.res->session);
    ck_assert_int_eq(wos_memcache_size(f->mc), 0);
    f->ctx.call = fake_call;                         /* the next request may call */
    b = do_refresh(tp, f, OLD_RT, NULL);
    ck_assert_int_eq(b.rv, WOS_OK);
    ck_assert_int_eq(b.called, 1);
}
END_TEST

/* Overwrite every entry with @p val (collected first: the visitor may not write). */
typedef struct keylist {
    apr_pool_t *p;
    apr_array_header_t *keys;
} keylist;

static int collect_key(void *baton, const char *key, const char *val, apr_size_t len,
                       apr_time_t expiry)
{
    keylist *kl = baton;

    (void)val;
    (void)len;
    (void)expiry;
    APR_ARRAY_PUSH(kl->keys, const char *) = apr_pstrdup(kl->p, key);
    return 0;
}

START_TEST(corrupt_result_is_not_believed)
{
    fixture *f = fixture_new(WOS_OK);
    keylist kl = {tp, apr_array_make(tp, 4, sizeof(const char *))};
    const char *bad = "ok\nFe26.2*1*aa*bb*cc**dd*ee~2";
    call_result c;
    int i;

    ck_assert_int_eq(do_refresh(tp, f, OLD_RT, NULL).rv, WOS_OK);
    wos_memcache_each(f->mc, collect_key, &kl);
    ck_assert_int_ge(kl.keys->nelts, 1);
    for (i = 0; i < kl.keys->nelts; i++)
        f->ctx.cache->set(f->ctx.cache, tp, APR_ARRAY_IDX(kl.keys, i, const char *), bad,
                          strlen(bad), apr_time_now() + apr_time_from_sec(60));
    c = do_refresh(tp, f, OLD_RT, NULL);
    ck_assert_int_eq(c.rv, WOS_OK);
    ck_assert_int_eq(c.called, 1);                   /* not a session made of garbage */
    ck_assert_str_eq(c.res->session->refresh_token, f->up.issued_rt);
}
END_TEST

/* ---- nothing secret in the cache ------------------------------------------- */

typedef struct scan {
    const char *needles[4];
    int entries;
    const char *found;
} scan;

static int scan_entry(void *baton, const char *key, const char *val, apr_size_t len,
                      apr_time_t expiry)
{
    scan *s = baton;
    int i;

    (void)expiry;
    s->entries++;
    for (i = 0; i < 4 && s->needles[i]; i++) {
        apr_size_t n = strlen(s->needles[i]);
        if (strstr(key, s->needles[i]) || memmem(val, len, s->needles[i], n))
            s->found = s->needles[i];
    }
    return 0;
}

START_TEST(cache_holds_no_plaintext_token)
{
    fixture *f = fixture_new(WOS_OK);
    call_result a = do_refresh(tp, f, OLD_RT, "org_X");
    call_result b;
    scan s = {{OLD_RT, NULL, NULL, NULL}, 0, NULL};

    ck_assert_int_eq(a.rv, WOS_OK);
    s.needles[1] = apr_pstrdup(tp, a.res->session->refresh_token);
    s.needles[2] = apr_pstrdup(tp, a.res->session->access_token);
    /* A terminal error is stored too: scan that as well. */
    f->up.answer = WOS_EUPSTREAM;
    b = do_refresh(tp, f, "rt_second_abcdefghijklmnopqrstuvwxyz", NULL);
    ck_assert_int_eq(b.rv, WOS_EUPSTREAM);
    s.needles[3] = "rt_second_abcdefghijklmnopqrstuvwxyz";
    wos_memcache_each(f->mc, scan_entry, &s);
    ck_assert_int_ge(s.entries, 2);
    ck_assert_msg(s.found == NULL, "the cache holds a token in plaintext");
}
END_TEST

/* The scan itself must be able to see a token (so the case above can fail). */
START_TEST(scan_finds_planted_token)
{
    fixture *f = fixture_new(WOS_OK);
    scan s = {{OLD_RT, NULL, NULL, NULL}, 0, NULL};
    const char *val = apr_pstrcat(tp, "ok\n", OLD_RT, NULL);

    f->ctx.cache->set(f->ctx.cache, tp, "k", val, strlen(val),
                      apr_time_now() + apr_time_from_sec(60));
    wos_memcache_each(f->mc, scan_entry, &s);
    ck_assert_ptr_nonnull(s.found);
}
END_TEST

/* ---- concurrency -------------------------------------------------------------- */

typedef struct worker {
    fixture *f;
    apr_pool_t *pool;
    const char *token;
    const char *org;
    volatile apr_uint32_t *gate;
    call_result out;
    const char *new_rt;
    volatile apr_uint32_t done;
} worker;

static void *APR_THREAD_FUNC refresh_thread(apr_thread_t *t, void *data)
{
    worker *w = data;

    while (!apr_atomic_read32(w->gate))
        apr_sleep(1000);
    w->out.rv = wos_refresh(w->pool, &w->f->ctx, w->token, w->org, &w->out.res,
                            &w->out.called, &w->out.err);
    if (w->out.rv == WOS_OK && w->out.res && w->out.res->session)
        w->new_rt = w->out.res->session->refresh_token;
    apr_atomic_set32(&w->done, 1);
    (void)t;    /* return, not apr_thread_exit: ASan misreads pthread_exit's unwinding */
    return NULL;
}

/* Run @p n threads refreshing the same token at once; returns the workers. */
static worker *run_workers(fixture *f, int n)
{
    worker *w = apr_pcalloc(tp, sizeof(*w) * (apr_size_t)n);
    apr_thread_t **th = apr_pcalloc(tp, sizeof(*th) * (apr_size_t)n);
    volatile apr_uint32_t *gate = apr_pcalloc(tp, sizeof(*gate));
    apr_status_t st;
    int i;

    for (i = 0; i < n; i++) {
        w[i].f = f;
        w[i].token = OLD_RT;
        w[i].gate = gate;
        ck_assert_int_eq(apr_pool_create(&w[i].pool, tp), APR_SUCCESS);
        ck_assert_int_eq(apr_thread_create(&th[i], NULL, refresh_thread, &w[i], tp),
                         APR_SUCCESS);
    }
    apr_atomic_set32(gate, 1);
    for (i = 0; i < n; i++)
        apr_thread_join(&st, th[i]);
    return w;
}

START_TEST(sixteen_threads_one_upstream_call)
{
    fixture *f = fixture_new(WOS_OK);
    worker *w;
    int i, callers = 0;

    f->up.sleep_ms = 300;
    w = run_workers(f, 16);
    ck_assert_uint_eq(calls(f), 1);
    for (i = 0; i < 16; i++) {
        ck_assert_msg(w[i].out.rv == WOS_OK, "thread %d: %s (%s)", i,
                      wos_strerror(w[i].out.rv), w[i].out.err ? w[i].out.err : "-");
        ck_assert_ptr_nonnull(w[i].new_rt);
        ck_assert_str_eq(w[i].new_rt, f->up.issued_rt);
        callers += w[i].out.called;
    }
    ck_assert_int_eq(callers, 1);
}
END_TEST

START_TEST(concurrent_terminal_error_shared_with_waiters)
{
    fixture *f = fixture_new(WOS_EUPSTREAM);
    worker *w;
    int i, callers = 0;

    f->up.sleep_ms = 300;
    w = run_workers(f, 8);
    ck_assert_uint_eq(calls(f), 1);
    for (i = 0; i < 8; i++) {
        ck_assert_int_eq(w[i].out.rv, WOS_EUPSTREAM);
        ck_assert_ptr_nonnull(w[i].out.res->error);
        ck_assert_str_eq(w[i].out.res->error, "invalid_grant");
        callers += w[i].out.called;
    }
    ck_assert_int_eq(callers, 1);
}
END_TEST

START_TEST(waiter_times_out_without_result)
{
    fixture *f = fixture_new(WOS_EUNAVAIL);
    apr_thread_t *th;
    apr_status_t st;
    volatile apr_uint32_t gate = 1;
    worker holder = {0};
    apr_time_t start, took;
    call_result c;

    f->up.api.http.timeout_ms = 200;       /* the wait is timeout + 2 s */
    f->up.block = 1;
    holder.f = f;
    holder.token = OLD_RT;
    holder.gate = &gate;
    ck_assert_int_eq(apr_pool_create(&holder.pool, tp), APR_SUCCESS);
    ck_assert_int_eq(apr_thread_create(&th, NULL, refresh_thread, &holder, tp), APR_SUCCESS);
    while (calls(f) == 0)                  /* the holder has the lock once it calls */
        apr_sleep(apr_time_from_msec(5));
    start = apr_time_now();
    c = do_refresh(tp, f, OLD_RT, NULL);
    took = apr_time_now() - start;
    apr_atomic_set32(&f->up.release, 1);
    apr_thread_join(&st, th);

    ck_assert_int_eq(c.rv, WOS_EUNAVAIL);
    ck_assert_int_eq(c.called, 0);
    ck_assert_int_gt(c.res->retry_after_sec, 0);
    ck_assert_ptr_nonnull(c.err);
    ck_assert_int_ge(took, apr_time_from_msec(2000));
    ck_assert_int_lt(took, apr_time_from_sec(10));
    ck_assert_uint_eq(calls(f), 1);
    ck_assert_int_eq(holder.out.rv, WOS_EUNAVAIL);
}
END_TEST

/* ---- several servers: the racy add, and recovery from a lost race ----------- */

/* The wrapper must really let two adds through (else the cases below prove nothing). */
START_TEST(racy_add_lets_two_through)
{
    fixture *f = fixture_racy(WOS_OK);
    const wos_cache *c = f->ctx.cache;
    apr_time_t later = apr_time_now() + apr_time_from_sec(30);
    char *val;
    apr_size_t len;

    ck_assert_int_eq(c->add(c, tp, "k", "v1", 2, later), WOS_OK);
    ck_assert_int_eq(c->add(c, tp, "k", "v2", 2, later), WOS_EBUSY);
    f->rc->force = 1;
    ck_assert_int_eq(c->add(c, tp, "k", "v3", 2, later), WOS_OK);
    ck_assert_int_eq(c->get(c, tp, "k", 100, &val, &len), WOS_OK);
    ck_assert_str_eq(val, "v3");
    f->rc->clobber = 1;
    ck_assert_int_eq(c->add(c, tp, "k2", "v4", 2, later), WOS_OK);
    ck_assert_int_eq(c->get(c, tp, "k2", 100, &val, &len), WOS_OK);
    ck_assert_str_eq(val, "competitor-value");
}
END_TEST

/* So must the single-use WorkOS: a token's second use is refused. */
START_TEST(fake_workos_spends_tokens_once)
{
    fixture *f = fixture_racy(WOS_OK);
    wos_auth_result *r = NULL;
    const char *err = NULL;

    ck_assert_int_eq(fake_call(tp, &f->up.api, OLD_RT, NULL, NULL, NULL, &r, &err), WOS_OK);
    ck_assert_int_eq(fake_call(tp, &f->up.api, OLD_RT, NULL, NULL, NULL, &r, &err),
                     WOS_EUPSTREAM);
    ck_assert_str_eq(r->error, "invalid_grant");
    ck_assert_int_eq(fake_call(tp, &f->up.api, "rt_other_abcdefghijklmnopqrstuvwxyz", NULL,
                               NULL, NULL, &r, &err), WOS_OK);
}
END_TEST

START_TEST(racy_single_caller_works_and_leaves_no_lock)
{
    fixture *f = fixture_racy(WOS_OK);
    call_result c = do_refresh(tp, f, OLD_RT, NULL);

    ck_assert_msg(c.rv == WOS_OK, "rv %s (%s)", wos_strerror(c.rv), c.err ? c.err : "-");
    ck_assert_int_eq(c.called, 1);
    ck_assert_uint_eq(calls(f), 1);
    ck_assert_int_eq(wos_memcache_evict(f->mc, ":lock"), 0);
    ck_assert_int_eq(wos_memcache_evict(f->mc, ":err"), 0);
    ck_assert_int_eq(wos_memcache_size(f->mc), 1);      /* the result only */
    ck_assert_uint_eq(noted(f, WOS_REFRESH_NOTE_LOST_LOCK), 0);
}
END_TEST

/* Another request's whole refresh, run inside our add (between our look and our lock). */
static void refresh_elsewhere(void *arg)
{
    fixture *other = arg;
    call_result c = do_refresh(tp, other, OLD_RT, NULL);

    ck_assert_int_eq(c.rv, WOS_OK);
    ck_assert_int_eq(c.called, 1);
}

START_TEST(result_stored_before_our_lock_is_used)
{
    fixture *f = fixture_racy(WOS_OK);
    fixture *other = apr_pmemdup(tp, f, sizeof(*f));
    call_result c;

    other->ctx.cache = wos_memcache_cache(f->mc);   /* same store, same WorkOS */
    f->rc->before_add = refresh_elsewhere;
    f->rc->before_add_arg = other;
    c = do_refresh(tp, f, OLD_RT, NULL);
    ck_assert_msg(c.rv == WOS_OK, "%s (%s)", wos_strerror(c.rv), c.err ? c.err : "-");
    ck_assert_int_eq(c.called, 0);                  /* looked again once it had the lock */
    ck_assert_uint_eq(calls(f), 1);
    ck_assert_str_eq(c.res->session->refresh_token, f->up.issued_rt);
    ck_assert_int_eq(wos_memcache_evict(f->mc, ":lock"), 0);
}
END_TEST

/* Checks that raced each other store within the confirmation time: one caller. */
START_TEST(racy_burst_is_confirmed_to_one_caller)
{
    fixture *f = fixture_racy(WOS_OK);
    worker *w;
    int i, callers = 0;

    f->rc->pause_ms = 5;           /* checks made together all come before the stores */
    f->up.sleep_ms = 200;
    w = run_workers(f, 16);
    for (i = 0; i < 16; i++) {
        ck_assert_msg(w[i].out.rv == WOS_OK, "thread %d: %s (%s)", i,
                      wos_strerror(w[i].out.rv), w[i].out.err ? w[i].out.err : "-");
        ck_assert_str_eq(w[i].new_rt, f->up.issued_rt);
        callers += w[i].out.called;
    }
    /* Without the confirmation each of the 16 would have called; a second
     * caller remains possible only if a thread stalls longer than
     * WOS_REFRESH_CONFIRM_MS between its check and its store. */
    ck_assert_uint_le(calls(f), 2);
    ck_assert_int_eq(callers, (int)calls(f));
    ck_assert_uint_ge(noted(f, WOS_REFRESH_NOTE_LOST_LOCK), 1);
    ck_assert_int_eq(wos_memcache_evict(f->mc, ":lock"), 0);
}
END_TEST

/* A competitor's store lands during our confirmation: we wait for its result. */
START_TEST(overwritten_lock_makes_us_wait)
{
    fixture *f = fixture_racy(WOS_OK);
    volatile apr_uint32_t gate = 1;
    worker a = {0};
    apr_thread_t *th;
    apr_status_t st;
    call_result b;

    f->rc->clobber = 1;
    a.f = f;
    a.token = OLD_RT;
    a.gate = &gate;
    ck_assert_int_eq(apr_pool_create(&a.pool, tp), APR_SUCCESS);
    ck_assert_int_eq(apr_thread_create(&th, NULL, refresh_thread, &a, tp), APR_SUCCESS);
    while (noted(f, WOS_REFRESH_NOTE_LOST_LOCK) == 0)
        apr_sleep(apr_time_from_msec(5));
    ck_assert_uint_eq(calls(f), 0);
    ck_assert_uint_eq(apr_atomic_read32(&a.done), 0);
    /* The competitor, whose check came before the placeholder's store. */
    f->rc->force = 1;
    b = do_refresh(tp, f, OLD_RT, NULL);
    apr_thread_join(&st, th);

    ck_assert_int_eq(b.rv, WOS_OK);
    ck_assert_int_eq(b.called, 1);
    ck_assert_msg(a.out.rv == WOS_OK, "%s (%s)", wos_strerror(a.out.rv),
                  a.out.err ? a.out.err : "-");
    ck_assert_int_eq(a.out.called, 0);
    ck_assert_str_eq(a.new_rt, b.res->session->refresh_token);
    ck_assert_uint_eq(calls(f), 1);
    ck_assert_int_eq(wos_memcache_evict(f->mc, ":lock"), 0);
}
END_TEST

/*
 * Two servers both took the lock (the window). The first to reach WorkOS
 * spends the token and is slow to answer; the second is refused as spent,
 * waits, and takes the first one's sealed result.
 */
START_TEST(lost_race_takes_the_winners_result)
{
    fixture *f = fixture_racy(WOS_OK);
    volatile apr_uint32_t gate = 1;
    worker a = {0}, b = {0};
    apr_thread_t *ta, *tb;
    apr_status_t st;

    f->up.block = 1;
    a.f = b.f = f;
    a.token = b.token = OLD_RT;
    a.gate = b.gate = &gate;
    ck_assert_int_eq(apr_pool_create(&a.pool, tp), APR_SUCCESS);
    ck_assert_int_eq(apr_pool_create(&b.pool, tp), APR_SUCCESS);
    ck_assert_int_eq(apr_thread_create(&ta, NULL, refresh_thread, &a, tp), APR_SUCCESS);
    while (calls(f) < 1)                 /* a holds the lock and spent the token */
        apr_sleep(apr_time_from_msec(5));
    f->rc->force = 1;                    /* b's check came before a's store */
    ck_assert_int_eq(apr_thread_create(&tb, NULL, refresh_thread, &b, tp), APR_SUCCESS);
    while (calls(f) < 2)                 /* b called and was refused */
        apr_sleep(apr_time_from_msec(5));
    apr_sleep(apr_time_from_msec(200)); /* b is waiting for a result */
    ck_assert_uint_eq(apr_atomic_read32(&b.done), 0);
    apr_atomic_set32(&f->up.release, 1);
    apr_thread_join(&st, ta);
    apr_thread_join(&st, tb);

    ck_assert_int_eq(a.out.rv, WOS_OK);
    ck_assert_int_eq(a.out.called, 1);
    ck_assert_msg(b.out.rv == WOS_OK, "%s (%s)", wos_strerror(b.out.rv),
                  b.out.err ? b.out.err : "-");
    ck_assert_int_eq(b.out.called, 1);
    ck_assert_uint_eq(calls(f), 2);
    ck_assert_str_eq(a.new_rt, f->up.issued_rt);
    ck_assert_str_eq(b.new_rt, f->up.issued_rt);
    ck_assert_str_eq(b.out.res->session->access_token, f->up.issued_at);
    ck_assert_str_eq(b.out.res->session->user_id, "user_01");
    ck_assert_uint_eq(noted(f, WOS_REFRESH_NOTE_RECOVERED), 1);
    ck_assert_uint_eq(noted(f, WOS_REFRESH_NOTE_UNRECOVERED), 0);
    ck_assert_uint_eq(apr_atomic_read32(&f->secret_in_note), 0);
    /* Nothing refused was shared, and no lock is left behind. */
    ck_assert_int_eq(wos_memcache_evict(f->mc, ":err"), 0);
    ck_assert_int_eq(wos_memcache_evict(f->mc, ":lock"), 0);
    ck_assert_int_eq(do_refresh(tp, f, OLD_RT, NULL).called, 0);
}
END_TEST

/* The token was spent and no result comes: fail closed, after a bounded wait. */
START_TEST(spent_without_a_winner_fails_after_the_wait)
{
    fixture *f = fixture_racy(WOS_OK);
    apr_time_t start, took;
    call_result c, again;

    apr_hash_set(f->up.spent, OLD_RT, APR_HASH_KEY_STRING, "");   /* spent elsewhere */
    start = apr_time_now();
    c = do_refresh(tp, f, OLD_RT, NULL);
    took = apr_time_now() - start;
    ck_assert_int_eq(c.rv, WOS_EUPSTREAM);
    ck_assert_int_eq(c.called, 1);
    ck_assert_ptr_null(c.res->session);
    ck_assert_str_eq(c.res->error, "invalid_grant");
    ck_assert_int_ge(took, apr_time_from_msec(WOS_REFRESH_RECOVER_MS));
    ck_assert_int_lt(took, apr_time_from_msec(WOS_REFRESH_RECOVER_MS + 3000));
    ck_assert_uint_eq(noted(f, WOS_REFRESH_NOTE_UNRECOVERED), 1);
    ck_assert_uint_eq(noted(f, WOS_REFRESH_NOTE_RECOVERED), 0);
    /* The refusal is shared now: the next request does not call. */
    again = do_refresh(tp, f, OLD_RT, NULL);
    ck_assert_int_eq(again.rv, WOS_EUPSTREAM);
    ck_assert_int_eq(again.called, 0);
    ck_assert_uint_eq(calls(f), 1);
}
END_TEST

/* With an atomic add nobody else can have called: no wait. */
START_TEST(atomic_cache_spent_fails_at_once)
{
    fixture *f = fixture_new(WOS_OK);
    apr_time_t start, took;
    call_result c;

    f->up.single_use = 1;
    apr_hash_set(f->up.spent, OLD_RT, APR_HASH_KEY_STRING, "");
    start = apr_time_now();
    c = do_refresh(tp, f, OLD_RT, NULL);
    took = apr_time_now() - start;
    ck_assert_int_eq(c.rv, WOS_EUPSTREAM);
    ck_assert_int_eq(c.called, 1);
    ck_assert_int_lt(took, apr_time_from_msec(WOS_REFRESH_RECOVER_MS / 2));
    ck_assert_uint_eq(noted(f, WOS_REFRESH_NOTE_UNRECOVERED), 0);
}
END_TEST

/* Only a spent token is worth waiting for: other refusals end at once. */
START_TEST(other_refusals_do_not_wait)
{
    fixture *f = fixture_racy(WOS_EUPSTREAM);
    apr_time_t start, took;
    call_result c;

    f->up.error = "mfa_enrollment";
    start = apr_time_now();
    c = do_refresh(tp, f, OLD_RT, NULL);
    took = apr_time_now() - start;
    ck_assert_int_eq(c.rv, WOS_EUPSTREAM);
    ck_assert_str_eq(c.res->error, "mfa_enrollment");
    ck_assert_int_lt(took, apr_time_from_msec(WOS_REFRESH_RECOVER_MS / 2));
    ck_assert_uint_eq(noted(f, WOS_REFRESH_NOTE_UNRECOVERED), 0);
}
END_TEST

/* A result for another organization is another flight: never taken. */
START_TEST(recovery_needs_the_same_flight)
{
    fixture *f = fixture_racy(WOS_OK);
    volatile apr_uint32_t gate = 1;
    worker a = {0};
    apr_thread_t *ta;
    apr_status_t st;
    call_result b;

    f->up.block = 1;
    a.f = f;
    a.token = OLD_RT;
    a.gate = &gate;
    ck_assert_int_eq(apr_pool_create(&a.pool, tp), APR_SUCCESS);
    ck_assert_int_eq(apr_thread_create(&ta, NULL, refresh_thread, &a, tp), APR_SUCCESS);
    while (calls(f) < 1)
        apr_sleep(apr_time_from_msec(5));
    apr_atomic_set32(&f->up.release, 1);
    apr_thread_join(&st, ta);
    ck_assert_int_eq(a.out.rv, WOS_OK);          /* a stored its result (no org) */
    b = do_refresh(tp, f, OLD_RT, "org_B");      /* the same token, into org_B */
    ck_assert_int_eq(b.rv, WOS_EUPSTREAM);
    ck_assert_int_eq(b.called, 1);
    ck_assert_ptr_null(b.res->session);
    ck_assert_uint_eq(noted(f, WOS_REFRESH_NOTE_RECOVERED), 0);
}
END_TEST

/* A result that does not open with this token (planted, or corrupt) is no rescue. */
START_TEST(recovery_ignores_a_result_it_cannot_open)
{
    fixture *f = fixture_racy(WOS_OK);
    const char *id = apr_pstrcat(tp, OLD_RT, "|", NULL);
    const char *key = apr_pstrcat(tp, "wos:rf:", wos_sha256_hex(tp, id, strlen(id)), ":res",
                                  NULL);
    const char *json = answer_json(tp, "at_planted_0123456789", "rt_planted_0123456789");
    const char *sealed, *val;
    call_result c;

    /* Sealed under a password that is not derived from OLD_RT. */
    ck_assert_int_eq(wos_seal(tp, "0123456789abcdef0123456789abcdef0123456789abcdef", json,
                              strlen(json), 60, apr_time_as_msec(apr_time_now()), &sealed),
                     WOS_OK);
    val = apr_pstrcat(tp, "ok\n", sealed, NULL);
    f->ctx.cache->set(f->ctx.cache, tp, key, val, strlen(val),
                      apr_time_now() + apr_time_from_sec(60));
    apr_hash_set(f->up.spent, OLD_RT, APR_HASH_KEY_STRING, "");
    c = do_refresh(tp, f, OLD_RT, NULL);
    ck_assert_int_eq(c.rv, WOS_EUPSTREAM);
    ck_assert_int_eq(c.called, 1);
    ck_assert_ptr_null(c.res->session);
}
END_TEST

/* A refusal stored after a success (a slow loser) never hides the success. */
START_TEST(late_refusal_never_hides_success)
{
    fixture *f = fixture_racy(WOS_OK);
    keylist kl = {tp, apr_array_make(tp, 4, sizeof(const char *))};
    const char *res, *errkey, *val = "err\ninvalid_grant\nlate";
    call_result a, b;

    a = do_refresh(tp, f, OLD_RT, NULL);
    ck_assert_int_eq(a.rv, WOS_OK);
    wos_memcache_each(f->mc, collect_key, &kl);
    ck_assert_int_eq(kl.keys->nelts, 1);
    res = APR_ARRAY_IDX(kl.keys, 0, const char *);
    ck_assert_str_eq(res + strlen(res) - 4, ":res");
    errkey = apr_pstrcat(tp, apr_pstrndup(tp, res, strlen(res) - 4), ":err", NULL);
    f->ctx.cache->set(f->ctx.cache, tp, errkey, val, strlen(val),
                      apr_time_now() + apr_time_from_sec(60));
    b = do_refresh(tp, f, OLD_RT, NULL);
    ck_assert_int_eq(b.rv, WOS_OK);
    ck_assert_int_eq(b.called, 0);
    ck_assert_str_eq(b.res->session->refresh_token, a.res->session->refresh_token);
}
END_TEST

/* ---- the lock released by its holder only (remove_if) ------------------------ */

static int find_lock(void *baton, const char *key, const char *val, apr_size_t len,
                     apr_time_t expiry)
{
    const char **out = baton;

    (void)val, (void)len, (void)expiry;
    if (!strstr(key, ":lock"))
        return 0;
    *out = apr_pstrdup(tp, key);
    return 1;
}

/* The holder releases in one step (compare and delete), not a look and a remove. */
START_TEST(holder_releases_in_one_step)
{
    fixture *f = fixture_new(WOS_OK);
    call_result c = do_refresh(tp, f, OLD_RT, NULL);
    wos_memcache_counts n = wos_memcache_get_counts(f->mc);

    ck_assert_int_eq(c.rv, WOS_OK);
    ck_assert_int_eq(n.remove_ifs, 1);
    ck_assert_int_eq(n.removes, 0);
    ck_assert_int_eq(wos_memcache_evict(f->mc, ":lock"), 0);
}
END_TEST

/* A lock that expired and was taken by another caller while ours called
 * WorkOS stays: the holder's release removes its own value only. */
START_TEST(release_leaves_a_later_holders_lock)
{
    fixture *f = fixture_new(WOS_OK);
    volatile apr_uint32_t gate = 1;
    worker holder = {0};
    const char *key = NULL;
    apr_thread_t *th;
    apr_status_t st;
    char *val;
    apr_size_t len;

    f->up.block = 1;
    holder.f = f;
    holder.token = OLD_RT;
    holder.gate = &gate;
    ck_assert_int_eq(apr_pool_create(&holder.pool, tp), APR_SUCCESS);
    ck_assert_int_eq(apr_thread_create(&th, NULL, refresh_thread, &holder, tp), APR_SUCCESS);
    while (calls(f) == 0)
        apr_sleep(apr_time_from_msec(5));
    wos_memcache_each(f->mc, find_lock, &key);
    ck_assert_ptr_nonnull(key);
    f->ctx.cache->set(f->ctx.cache, tp, key, "later-holder", 12,
                      apr_time_now() + apr_time_from_sec(60));
    apr_atomic_set32(&f->up.release, 1);
    apr_thread_join(&st, th);

    ck_assert_int_eq(holder.out.rv, WOS_OK);
    ck_assert_int_eq(f->ctx.cache->get(f->ctx.cache, tp, key, 64, &val, &len), WOS_OK);
    ck_assert_str_eq(val, "later-holder");
    ck_assert_int_eq(wos_memcache_get_counts(f->mc).remove_ifs, 1);
}
END_TEST

static Suite *refresh_suite(void)
{
    Suite *s = suite_create("refresh");
    TCase *mc = wos_tcase("memcache");
    TCase *one = wos_tcase("single");
    TCase *sec = wos_tcase("secrecy");
    TCase *conc = wos_tcase("concurrency");
    TCase *multi = wos_tcase("several servers");

    tcase_add_test(mc, memcache_semantics);
    tcase_add_test(mc, memcache_expiry_fail_evict);
    tcase_add_test(one, one_call_one_upstream_call);
    tcase_add_test(one, same_token_reuses_result);
    tcase_add_test(one, result_expires_after_ttl);
    tcase_add_test(one, different_org_is_different_flight);
    tcase_add_test(one, terminal_error_is_shared);
    tcase_add_test(one, retryable_error_stores_nothing);
    tcase_add_test(one, corrupt_result_is_not_believed);
    tcase_add_test(one, no_answer_is_not_shared);
    tcase_add_test(sec, cache_holds_no_plaintext_token);
    tcase_add_test(sec, scan_finds_planted_token);
    tcase_add_test(conc, sixteen_threads_one_upstream_call);
    tcase_add_test(conc, concurrent_terminal_error_shared_with_waiters);
    tcase_add_test(conc, waiter_times_out_without_result);
    tcase_add_test(conc, holder_releases_in_one_step);
    tcase_add_test(conc, release_leaves_a_later_holders_lock);
    suite_add_tcase(s, mc);
    suite_add_tcase(s, one);
    suite_add_tcase(s, sec);
    tcase_add_test(multi, racy_add_lets_two_through);
    tcase_add_test(multi, fake_workos_spends_tokens_once);
    tcase_add_test(multi, racy_single_caller_works_and_leaves_no_lock);
    tcase_add_test(multi, result_stored_before_our_lock_is_used);
    tcase_add_test(multi, racy_burst_is_confirmed_to_one_caller);
    tcase_add_test(multi, overwritten_lock_makes_us_wait);
    tcase_add_test(multi, lost_race_takes_the_winners_result);
    tcase_add_test(multi, spent_without_a_winner_fails_after_the_wait);
    tcase_add_test(multi, atomic_cache_spent_fails_at_once);
    tcase_add_test(multi, other_refusals_do_not_wait);
    tcase_add_test(multi, recovery_needs_the_same_flight);
    tcase_add_test(multi, recovery_ignores_a_result_it_cannot_open);
    tcase_add_test(multi, late_refusal_never_hides_success);
    suite_add_tcase(s, conc);
    suite_add_tcase(s, multi);
    return s;
}

WOS_TEST_MAIN(refresh_suite)
