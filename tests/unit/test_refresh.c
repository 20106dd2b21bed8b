/*
 * test_refresh.c: single-flight refresh over the shared cache. WorkOS is
 * replaced by a counting call function (wos_refresh_ctx.call), the shared
 * cache by memcache, and worker processes by threads that share both.
 * The first cases check memcache itself, since every other case trusts it.
 */
#include <apr_atomic.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>

#include "testutil.h"
#include "memcache.h"
#include "wos_refresh.h"

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

    apr_thread_mutex_lock(u->mu);
    copy(u->seen_token, sizeof(u->seen_token), refresh_token);
    copy(u->seen_org, sizeof(u->seen_org), organization_id);
    copy(u->seen_ip, sizeof(u->seen_ip), ip_address);
    copy(u->seen_ua, sizeof(u->seen_ua), user_agent);
    apr_thread_mutex_unlock(u->mu);
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
        r->error = "invalid_grant";
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

typedef struct fixture {
    upstream up;
    wos_memcache *mc;
    wos_refresh_ctx ctx;
} fixture;

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
    return f;
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
    volatile apr_uint32_t *gate;
    call_result out;
    const char *new_rt;
} worker;

static void *APR_THREAD_FUNC refresh_thread(apr_thread_t *t, void *data)
{
    worker *w = data;

    while (!apr_atomic_read32(w->gate))
        apr_sleep(1000);
    w->out.rv = wos_refresh(w->pool, &w->f->ctx, w->token, NULL, &w->out.res,
                            &w->out.called, &w->out.err);
    if (w->out.rv == WOS_OK && w->out.res && w->out.res->session)
        w->new_rt = w->out.res->session->refresh_token;
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

static Suite *refresh_suite(void)
{
    Suite *s = suite_create("refresh");
    TCase *mc = wos_tcase("memcache");
    TCase *one = wos_tcase("single");
    TCase *sec = wos_tcase("secrecy");
    TCase *conc = wos_tcase("concurrency");

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
    suite_add_tcase(s, mc);
    suite_add_tcase(s, one);
    suite_add_tcase(s, sec);
    suite_add_tcase(s, conc);
    return s;
}

WOS_TEST_MAIN(refresh_suite)
