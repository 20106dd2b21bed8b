/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_keys.c: the JWKS keystore. Each keystore object plays one worker
 * process; keystores that share a memcache play the processes of one server.
 * WorkOS is a counting fetch function (wos_keys_ctx.fetch), the keys come
 * from testkeys, and a borrowed set is always used to verify a real token,
 * so a generation freed too early shows up (loudly under the sanitizers).
 *
 * Generations are counted from outside: each one owns an unmanaged APR pool,
 * and this binary interposes apr_pool_create_unmanaged_ex to count the live
 * ones. A test-only hook, since the keystore (rightly) exposes no refcounts.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* RTLD_NEXT */
#endif
#include <dlfcn.h>
#include <apr_atomic.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>

#include "testutil.h"
#include "testkeys.h"
#include "memcache.h"
#include "wos_keys.h"
#include "wos_jwt.h"

/* ---- counting generations ------------------------------------------------- */

typedef apr_status_t create_unmanaged_fn(apr_pool_t **, apr_abortfunc_t, apr_allocator_t *);

/* Global by necessity: the interposed function has no baton. */
static create_unmanaged_fn *real_create_unmanaged;
static volatile apr_uint32_t live_unmanaged;

static apr_status_t unmanaged_gone(void *data)
{
    (void)data;
    apr_atomic_dec32(&live_unmanaged);
    return APR_SUCCESS;
}

APR_DECLARE(apr_status_t) apr_pool_create_unmanaged_ex(apr_pool_t **newpool,
                                                       apr_abortfunc_t abort_fn,
                                                       apr_allocator_t *allocator)
{
    apr_status_t st = real_create_unmanaged(newpool, abort_fn, allocator);

    if (st == APR_SUCCESS) {
        apr_atomic_inc32(&live_unmanaged);
        apr_pool_cleanup_register(*newpool, NULL, unmanaged_gone, apr_pool_cleanup_null);
    }
    return st;
}

static unsigned live_gens(void)
{
    return apr_atomic_read32(&live_unmanaged);
}

/* ---- the fake WorkOS JWKS endpoint ----------------------------------------- */

/* The fetch function only receives the api config: it is the first member. */
typedef struct jwks_src {
    wos_api_cfg api;
    volatile apr_uint32_t fetches;
    int fail;
    int sleep_ms;
    const char *doc;           /* what a fetch returns */
    const char *alt;           /* when set, even-numbered fetches return this instead */
} jwks_src;

static wos_rv fake_fetch(apr_pool_t *p, const wos_api_cfg *c, const char **doc,
                         apr_size_t *len, const char **err)
{
    jwks_src *s = (jwks_src *)c;
    unsigned n = apr_atomic_inc32(&s->fetches) + 1;
    const char *d = (s->alt && n % 2 == 0) ? s->alt : s->doc;

    if (s->sleep_ms)
        apr_sleep(apr_time_from_msec(s->sleep_ms));
    if (s->fail) {
        *err = "JWKS fetch answered HTTP 503";
        return WOS_EUNAVAIL;
    }
    *doc = apr_pstrdup(p, d);
    *len = strlen(d);
    return WOS_OK;
}

typedef struct fixture {
    jwks_src src;
    wos_memcache *mc;
    wos_keys_ctx ctx;
    const char *doc_a;         /* k1 */
    const char *doc_b;         /* k1 and k2 */
    const char *tok1, *tok2;   /* signed by k1's and k2's keys */
    unsigned base_gens;
} fixture;

static fixture *fixture_new(void)
{
    fixture *f = apr_pcalloc(tp, sizeof(*f));
    apr_int64_t exp = wos_now_sec() + 240;   /* testkeys sets iat = exp - 300 */

    f->src.api.base_url = "https://api.invalid";
    f->src.api.client_id = "client_01";
    f->src.api.http.timeout_ms = 2000;
    f->doc_a = wos_tk_jwks(tp, wos_tk_rsa2048(), "k1");
    f->doc_b = apr_psprintf(tp, "{\"keys\":[%s,%s]}", wos_tk_jwk(tp, wos_tk_rsa2048(), "k1"),
                            wos_tk_jwk(tp, wos_tk_rsa2048b(), "k2"));
    f->src.doc = f->doc_a;
    f->tok1 = wos_tk_token(tp, wos_tk_rsa2048(), "k1", wos_tk_claims(tp, "user_01", "s", NULL, exp));
    f->tok2 = wos_tk_token(tp, wos_tk_rsa2048b(), "k2", wos_tk_claims(tp, "user_01", "s", NULL, exp));
    f->mc = wos_memcache_create(tp);
    f->ctx.cache = wos_memcache_cache(f->mc);
    f->ctx.api = &f->src.api;
    f->ctx.ttl_sec = 3600;
    f->ctx.fetch = fake_fetch;
    f->base_gens = live_gens();
    return f;
}

/* A keystore in its own pool, so a test can destroy it (borrow only into subpools). */
static wos_keystore *keystore_new(apr_pool_t **pool)
{
    wos_keystore *ks = NULL;

    ck_assert_int_eq(apr_pool_create(pool, tp), APR_SUCCESS);
    ck_assert_int_eq(wos_keystore_create(*pool, &ks), WOS_OK);
    return ks;
}

/*
 * A keystore in tp, for tests that borrow into tp: borrowers must go before
 * the keystore (as requests do before the process pool), and tp's own
 * cleanups run after its subpools are gone.
 */
static wos_keystore *ks_new(void)
{
    wos_keystore *ks = NULL;

    ck_assert_int_eq(wos_keystore_create(tp, &ks), WOS_OK);
    return ks;
}

typedef struct got {
    wos_rv rv;
    const wos_jwks *set;
    int fetched;
    const char *err;
} got;

static got get(wos_keystore *ks, apr_pool_t *rp, fixture *f, const char *kid)
{
    got g = {0};

    g.rv = wos_keystore_get(ks, rp, &f->ctx, kid, &g.set, &g.fetched, &g.err);
    if (g.rv == WOS_OK)
        ck_assert_ptr_nonnull(g.set);
    return g;
}

static unsigned fetches(fixture *f)
{
    return apr_atomic_read32(&f->src.fetches);
}

/* The set verifies @p token (so its keys are alive and right). */
static int verifies(apr_pool_t *p, const wos_jwks *set, const char *token)
{
    wos_jwt_opts o = {60, NULL, 0};
    wos_claims *c = NULL;
    const char *err = NULL;

    return wos_jwt_verify(p, token, set, &o, wos_now_sec(), &c, &err) == WOS_OK;
}

static void assert_ok_with(const got *g, const char *kid)
{
    ck_assert_msg(g->rv == WOS_OK, "rv %s (%s)", wos_strerror(g->rv), g->err ? g->err : "-");
    ck_assert_msg(wos_jwks_find(g->set, kid) != NULL, "kid %s not in the set", kid);
}

/* Get k1 into @p rp, asserting success. */
static void assert_ok_with_get(wos_keystore *ks, apr_pool_t *rp, fixture *f)
{
    got g = get(ks, rp, f, "k1");
    assert_ok_with(&g, "k1");
}

/* The first request of a process: k1 (fetching or adopting the shared doc). */
static void prime(wos_keystore *ks, fixture *f)
{
    assert_ok_with_get(ks, tp, f);
}

/* ---- sharing and the hot path ---------------------------------------------- */

/* Prime @p ks, then count the shared cache's traffic from here on. */
static void prime_and_count(wos_keystore *ks, fixture *f)
{
    prime(ks, f);
    wos_memcache_reset_counts(f->mc);
}

/* Since prime_and_count: not one shared-cache operation, and no fetch but the priming's. */
static void assert_no_traffic(fixture *f)
{
    wos_memcache_counts n = wos_memcache_get_counts(f->mc);

    ck_assert_int_eq(n.gets + n.sets + n.adds + n.removes, 0);
    ck_assert_uint_eq(fetches(f), 1);
}

START_TEST(first_fetch_shared_with_other_process)
{
    fixture *f = fixture_new();
    got a = get(ks_new(), tp, f, "k1");
    got b;

    assert_ok_with(&a, "k1");
    ck_assert_int_eq(a.fetched, 1);
    ck_assert_uint_eq(fetches(f), 1);
    ck_assert(verifies(tp, a.set, f->tok1));
    b = get(ks_new(), tp, f, "k1");
    assert_ok_with(&b, "k1");
    ck_assert_int_eq(b.fetched, 0);
    ck_assert_uint_eq(fetches(f), 1);
    ck_assert(verifies(tp, b.set, f->tok1));
}
END_TEST

START_TEST(hot_path_does_not_touch_cache)
{
    fixture *f = fixture_new();
    wos_keystore *ks = ks_new();
    int i;

    prime_and_count(ks, f);
    for (i = 0; i < 50; i++) {
        got g = get(ks, tp, f, i % 2 ? "k1" : NULL);
        assert_ok_with(&g, "k1");
        ck_assert_int_eq(g.fetched, 0);
    }
    assert_no_traffic(f);
}
END_TEST

/*
 * One keystore (one process) serving several clients keeps a set per base URL
 * and client id: never another client's keys, also where the two strings run
 * together alike ("https://a" + "bc" against "https://ab" + "c").
 */
START_TEST(clients_keep_their_own_sets)
{
    static const char *const urls[] = { "https://a", "https://ab", "https://a" };
    static const char *const ids[] = { "bc", "c", "c" };
    fixture *f[3];
    wos_keystore *ks = ks_new();
    int i, round;

    for (i = 0; i < 3; i++) {
        f[i] = fixture_new();
        f[i]->src.api.base_url = urls[i];
        f[i]->src.api.client_id = ids[i];
        /* Each client publishes one key of its own under its own kid. */
        f[i]->src.doc = wos_tk_jwks(tp, i == 1 ? wos_tk_rsa2048b() : wos_tk_rsa2048(),
                                    apr_psprintf(tp, "c%d", i));
        f[i]->ctx.cache = f[0]->ctx.cache;
    }
    for (round = 0; round < 2; round++) {
        for (i = 0; i < 3; i++) {
            got g = get(ks, tp, f[i], NULL);
            const char *mine = apr_psprintf(tp, "c%d", i);
            int j;

            assert_ok_with(&g, mine);
            for (j = 0; j < 3; j++)
                if (j != i)
                    ck_assert_ptr_null(wos_jwks_find(g.set, apr_psprintf(tp, "c%d", j)));
            ck_assert_uint_eq(fetches(f[i]), 1);
        }
    }
}
END_TEST

/* A kid listed twice stays on the hot path: the caller refuses it, no refetch helps. */
START_TEST(ambiguous_kid_does_not_touch_cache)
{
    fixture *f = fixture_new();
    wos_keystore *ks = ks_new();
    int i;

    f->src.doc = apr_psprintf(tp, "{\"keys\":[%s,%s,%s]}",
                              wos_tk_jwk(tp, wos_tk_rsa2048(), "k1"),
                              wos_tk_jwk(tp, wos_tk_rsa2048(), "dup"),
                              wos_tk_jwk(tp, wos_tk_rsa2048b(), "dup"));
    prime_and_count(ks, f);
    for (i = 0; i < 5; i++) {
        got g = get(ks, tp, f, "dup");
        ck_assert_int_eq(g.rv, WOS_OK);
        ck_assert(wos_jwks_ambiguous(g.set, "dup"));
        ck_assert_ptr_null(wos_jwks_find(g.set, "dup"));
        ck_assert_int_eq(g.fetched, 0);
    }
    assert_no_traffic(f);
}
END_TEST

/* ---- unknown kids ----------------------------------------------------------- */

START_TEST(unknown_kid_refetch_is_throttled)
{
    fixture *f = fixture_new();
    wos_keystore *ks1 = ks_new(), *ks2 = ks_new();
    got g;

    prime(ks1, f);
    g = get(ks1, tp, f, "kx");
    assert_ok_with(&g, "k1");          /* still the keys it has */
    ck_assert_int_eq(g.fetched, 1);
    ck_assert_uint_eq(fetches(f), 2);

    g = get(ks1, tp, f, "kx");
    ck_assert_int_eq(g.rv, WOS_OK);
    ck_assert_int_eq(g.fetched, 0);
    g = get(ks2, tp, f, "kx");         /* another process obeys the same throttle */
    assert_ok_with(&g, "k1");
    ck_assert_int_eq(g.fetched, 0);
    ck_assert_uint_eq(fetches(f), 2);

    wos_memcache_advance(f->mc, WOS_KEYS_REFETCH_INTERVAL - 5);
    ck_assert_int_eq(get(ks2, tp, f, "kx").fetched, 0);
    wos_memcache_advance(f->mc, 10);   /* the interval has passed */
    g = get(ks2, tp, f, "kx");
    ck_assert_int_eq(g.fetched, 1);
    ck_assert_uint_eq(fetches(f), 3);
}
END_TEST

START_TEST(unknown_kid_refetch_finds_rotated_key)
{
    fixture *f = fixture_new();
    wos_keystore *ks = ks_new();
    got g;

    prime(ks, f);
    f->src.doc = f->doc_b;             /* WorkOS rotated in k2 */
    g = get(ks, tp, f, "k2");
    assert_ok_with(&g, "k2");
    ck_assert_int_eq(g.fetched, 1);
    ck_assert(verifies(tp, g.set, f->tok2));
    wos_memcache_reset_counts(f->mc);
    g = get(ks, tp, f, "k2");          /* now on the hot path */
    ck_assert_int_eq(g.fetched, 0);
    ck_assert_int_eq(wos_memcache_get_counts(f->mc).gets, 0);
}
END_TEST

START_TEST(newer_generation_adopted_without_fetch)
{
    fixture *f = fixture_new();
    wos_keystore *ks1 = ks_new(), *ks2 = ks_new();
    got g;

    prime(ks1, f);
    f->src.doc = f->doc_b;
    g = get(ks2, tp, f, "k2");         /* the other process refetches and publishes */
    assert_ok_with(&g, "k2");
    ck_assert_int_eq(g.fetched, 1);
    ck_assert_uint_eq(fetches(f), 2);

    g = get(ks1, tp, f, "k2");
    assert_ok_with(&g, "k2");
    ck_assert_int_eq(g.fetched, 0);
    ck_assert_uint_eq(fetches(f), 2);
    ck_assert(verifies(tp, g.set, f->tok2));
}
END_TEST

/* ---- failures ---------------------------------------------------------------- */

START_TEST(fetch_failure_with_nothing_cached)
{
    fixture *f = fixture_new();
    got g;

    f->src.fail = 1;
    g = get(ks_new(), tp, f, "k1");
    ck_assert_int_eq(g.rv, WOS_EUNAVAIL);
    ck_assert_ptr_null(g.set);
    ck_assert_ptr_nonnull(g.err);
    ck_assert_uint_eq(fetches(f), 1);
    ck_assert_uint_eq(live_gens(), f->base_gens);
}
END_TEST

/* Every fetch is reported with its result: fetched and usable, unreachable, unusable. */
static void count_fetch(void *baton, wos_rv rv)
{
    int *n = baton;
    n[rv == WOS_OK ? 0 : 1]++;
}

START_TEST(fetches_are_reported)
{
    fixture *f = fixture_new();
    int n[2] = {0, 0};
    got g;

    f->ctx.fetched = count_fetch;
    f->ctx.fetched_baton = n;
    g = get(ks_new(), tp, f, "k1");
    ck_assert_int_eq(g.rv, WOS_OK);
    ck_assert_int_eq(n[0], 1);
    ck_assert_int_eq(n[1], 0);
    get(ks_new(), tp, f, "k1");                  /* from the shared document: no fetch */
    ck_assert_int_eq(n[0] + n[1], 1);

    f = fixture_new();
    f->ctx.fetched = count_fetch;
    f->ctx.fetched_baton = n;
    f->src.fail = 1;
    ck_assert_int_eq(get(ks_new(), tp, f, "k1").rv, WOS_EUNAVAIL);
    ck_assert_int_eq(n[1], 1);

    f = fixture_new();
    f->ctx.fetched = count_fetch;
    f->ctx.fetched_baton = n;
    f->src.doc = "{\"keys\":[]}";
    ck_assert_int_eq(get(ks_new(), tp, f, "k1").rv, WOS_EUNAVAIL);
    ck_assert_int_eq(n[0], 1);
    ck_assert_int_eq(n[1], 2);
}
END_TEST

START_TEST(fetch_failure_keeps_fresh_keys)
{
    fixture *f = fixture_new();
    wos_keystore *ks = ks_new();
    got g;

    prime(ks, f);
    f->src.fail = 1;
    g = get(ks, tp, f, "kx");
    assert_ok_with(&g, "k1");
    ck_assert_int_eq(g.fetched, 1);
    ck_assert_uint_eq(fetches(f), 2);
    g = get(ks, tp, f, "k1");
    assert_ok_with(&g, "k1");
    ck_assert(verifies(tp, g.set, f->tok1));
    g = get(ks_new(), tp, f, "k1");    /* another process still gets the shared doc */
    assert_ok_with(&g, "k1");
    ck_assert_int_eq(g.fetched, 0);
}
END_TEST

/* Serve @p bad after good keys: the good keys stay, here and in the cache. */
static void bad_doc_does_not_replace(const char *bad)
{
    fixture *f = fixture_new();
    wos_keystore *ks = ks_new();
    got g;

    prime(ks, f);
    f->src.doc = bad;
    g = get(ks, tp, f, "k9");
    assert_ok_with(&g, "k1");
    ck_assert_int_eq(g.fetched, 1);
    ck_assert_uint_eq(fetches(f), 2);
    g = get(ks, tp, f, "k1");
    assert_ok_with(&g, "k1");
    ck_assert(verifies(tp, g.set, f->tok1));
    g = get(ks_new(), tp, f, NULL);
    assert_ok_with(&g, "k1");
    ck_assert_int_eq(g.fetched, 0);
}

START_TEST(unusable_doc_never_replaces_working_keys)
{
    bad_doc_does_not_replace(wos_tk_jwks(tp, wos_tk_rsa1024(), "k9"));   /* too small */
    bad_doc_does_not_replace("{\"keys\":[]}");
    bad_doc_does_not_replace("{\"keys\":");
    bad_doc_does_not_replace("<html>503</html>");
}
END_TEST

START_TEST(unusable_doc_with_nothing_cached)
{
    fixture *f = fixture_new();
    got g;

    f->src.doc = wos_tk_jwks(tp, wos_tk_rsa1024(), "k1");
    g = get(ks_new(), tp, f, "k1");
    ck_assert_int_eq(g.rv, WOS_EUNAVAIL);
    ck_assert_ptr_nonnull(g.err);
    ck_assert_int_eq(wos_memcache_size(f->mc), 0);   /* nothing published */
}
END_TEST

START_TEST(everything_expired_and_fetch_fails)
{
    fixture *f = fixture_new();
    wos_keystore *ks = ks_new();
    got g;

    f->ctx.ttl_sec = 1;
    prime(ks, f);
    apr_sleep(apr_time_from_msec(1100));   /* local generation and shared entry expire */
    f->src.fail = 1;
    g = get(ks, tp, f, "k1");
    ck_assert_int_eq(g.rv, WOS_EUNAVAIL);
    ck_assert_ptr_null(g.set);
    ck_assert_int_eq(g.fetched, 1);
    f->src.fail = 0;
    g = get(ks, tp, f, "k1");              /* and it recovers once WorkOS answers */
    assert_ok_with(&g, "k1");
    ck_assert_int_eq(g.fetched, 1);
}
END_TEST

START_TEST(expired_local_generation_renewed_from_shared)
{
    fixture *f = fixture_new();
    wos_keystore *ks1 = ks_new(), *ks2 = ks_new();
    got g;

    f->ctx.ttl_sec = 1;
    prime(ks1, f);
    apr_sleep(apr_time_from_msec(1100));
    f->ctx.ttl_sec = 3600;
    g = get(ks2, tp, f, "k1");             /* the other process refetches */
    ck_assert_int_eq(g.fetched, 1);
    g = get(ks1, tp, f, "k1");             /* same document, new expiry: no fetch */
    assert_ok_with(&g, "k1");
    ck_assert_int_eq(g.fetched, 0);
    ck_assert_uint_eq(fetches(f), 2);
    wos_memcache_reset_counts(f->mc);
    g = get(ks1, tp, f, "k1");             /* and the hot path again */
    ck_assert_int_eq(wos_memcache_get_counts(f->mc).gets, 0);
}
END_TEST

/* ---- generations and their lifetimes --------------------------------------- */

START_TEST(borrowed_generation_outlives_replacement)
{
    fixture *f = fixture_new();
    apr_pool_t *kp, *rp_old, *rp_new;
    wos_keystore *ks = keystore_new(&kp);
    got old, cur;

    ck_assert_int_eq(apr_pool_create(&rp_old, tp), APR_SUCCESS);
    ck_assert_int_eq(apr_pool_create(&rp_new, tp), APR_SUCCESS);
    old = get(ks, rp_old, f, "k1");
    assert_ok_with(&old, "k1");
    ck_assert_uint_eq(live_gens(), f->base_gens + 1);   /* also proves the counter works */
    f->src.doc = f->doc_b;
    cur = get(ks, rp_new, f, "k2");
    assert_ok_with(&cur, "k2");
    ck_assert_uint_eq(live_gens(), f->base_gens + 2);   /* the old one is still lent out */
    ck_assert(verifies(tp, old.set, f->tok1));
    ck_assert_ptr_null(wos_jwks_find(old.set, "k2"));
    apr_pool_destroy(rp_old);
    ck_assert_uint_eq(live_gens(), f->base_gens + 1);
    ck_assert(verifies(tp, cur.set, f->tok2));
    apr_pool_destroy(rp_new);
    ck_assert_uint_eq(live_gens(), f->base_gens + 1);   /* current, kept by the keystore */
    apr_pool_destroy(kp);
    ck_assert_uint_eq(live_gens(), f->base_gens);
}
END_TEST

START_TEST(keystore_frees_its_generation)
{
    fixture *f = fixture_new();
    apr_pool_t *kp, *rp;
    wos_keystore *ks = keystore_new(&kp);

    ck_assert_int_eq(apr_pool_create(&rp, tp), APR_SUCCESS);
    assert_ok_with_get(ks, rp, f);
    apr_pool_destroy(rp);
    ck_assert_uint_eq(live_gens(), f->base_gens + 1);
    apr_pool_destroy(kp);
    ck_assert_uint_eq(live_gens(), f->base_gens);
}
END_TEST

/* Workers: one keystore shared by threads, generations changing underneath. */
typedef struct worker {
    fixture *f;
    wos_keystore *ks;
    apr_pool_t *pool;
    volatile apr_uint32_t *stop;
    int id, rounds, failures, bad_verifies;
} worker;

static void *APR_THREAD_FUNC get_thread(apr_thread_t *t, void *data)
{
    static const char *const kids[] = {"k1", "k2", "kx", NULL};
    worker *w = data;

    while (!apr_atomic_read32(w->stop) || w->rounds < 50) {
        const char *kid = kids[(w->rounds + w->id) % 4];
        apr_pool_t *rp;
        got g = {0};

        apr_pool_create(&rp, w->pool);
        g.rv = wos_keystore_get(w->ks, rp, &w->f->ctx, kid, &g.set, &g.fetched, &g.err);
        if (g.rv != WOS_OK || !g.set)
            w->failures++;
        else if (!verifies(rp, g.set, w->f->tok1)
                 || (wos_jwks_find(g.set, "k2") && !verifies(rp, g.set, w->f->tok2)))
            w->bad_verifies++;
        apr_pool_destroy(rp);
        w->rounds++;
    }
    (void)t;    /* return, not apr_thread_exit: ASan misreads pthread_exit's unwinding */
    return NULL;
}

START_TEST(threads_while_generations_change)
{
    enum { N = 8 };
    fixture *f = fixture_new();
    apr_pool_t *kp;
    wos_keystore *ks = keystore_new(&kp);
    volatile apr_uint32_t stop = 0;
    worker w[N];
    apr_thread_t *th[N];
    apr_status_t st;
    int i;

    f->src.alt = f->doc_b;          /* each fetch alternates between two documents */
    f->ctx.ttl_sec = 1000000;       /* outlasts the clock move below */
    /*
     * With the cache's clock past the refetch interval, a throttle entry
     * expires as soon as it is written: every unknown kid refetches, and
     * every fetch installs a new generation while others still use the old.
     */
    wos_memcache_advance(f->mc, WOS_KEYS_REFETCH_INTERVAL + 1);
    memset(w, 0, sizeof(w));
    for (i = 0; i < N; i++) {
        w[i].f = f;
        w[i].ks = ks;
        w[i].stop = &stop;
        w[i].id = i;
        ck_assert_int_eq(apr_pool_create(&w[i].pool, tp), APR_SUCCESS);
        ck_assert_int_eq(apr_thread_create(&th[i], NULL, get_thread, &w[i], tp), APR_SUCCESS);
    }
    apr_sleep(apr_time_from_sec(1));
    apr_atomic_set32(&stop, 1);
    for (i = 0; i < N; i++) {
        apr_thread_join(&st, th[i]);
        ck_assert_int_eq(w[i].failures, 0);
        ck_assert_int_eq(w[i].bad_verifies, 0);
        apr_pool_destroy(w[i].pool);
    }
    ck_assert_uint_ge(fetches(f), 20);                 /* generations did change */
    ck_assert_uint_eq(live_gens(), f->base_gens + 1);  /* only the current one is left */
    apr_pool_destroy(kp);
    ck_assert_uint_eq(live_gens(), f->base_gens);
}
END_TEST

/* The stampede: every process starts cold at once. */
typedef struct cold {
    fixture *f;
    wos_keystore *ks;
    apr_pool_t *pool;
    volatile apr_uint32_t *gate;
    got g;
} cold;

static void *APR_THREAD_FUNC cold_thread(apr_thread_t *t, void *data)
{
    cold *c = data;

    while (!apr_atomic_read32(c->gate))
        apr_sleep(1000);
    c->g.rv = wos_keystore_get(c->ks, c->pool, &c->f->ctx, "k1", &c->g.set, &c->g.fetched,
                               &c->g.err);
    (void)t;    /* return, not apr_thread_exit: ASan misreads pthread_exit's unwinding */
    return NULL;
}

START_TEST(stampede_fetches_once)
{
    enum { N = 8 };
    fixture *f = fixture_new();
    volatile apr_uint32_t gate = 0;
    cold c[N];
    apr_thread_t *th[N];
    apr_status_t st;
    int i, fetchers = 0;

    f->src.sleep_ms = 200;
    memset(c, 0, sizeof(c));
    for (i = 0; i < N; i++) {
        c[i].f = f;
        c[i].ks = ks_new();
        c[i].gate = &gate;
        ck_assert_int_eq(apr_pool_create(&c[i].pool, tp), APR_SUCCESS);
        ck_assert_int_eq(apr_thread_create(&th[i], NULL, cold_thread, &c[i], tp), APR_SUCCESS);
    }
    apr_atomic_set32(&gate, 1);
    for (i = 0; i < N; i++)
        apr_thread_join(&st, th[i]);
    ck_assert_uint_eq(fetches(f), 1);
    for (i = 0; i < N; i++) {
        assert_ok_with(&c[i].g, "k1");
        fetchers += c[i].g.fetched;
    }
    ck_assert_int_eq(fetchers, 1);
}
END_TEST

/*
 * The look-then-lock window: a process that missed the shared document just
 * before another one published it (and unlocked) takes the lock itself. It
 * must use what was published, not fetch a second time (a second JWKS fetch
 * under load, seen in CI). The late look is played by a cache whose first
 * read of the document misses.
 */
typedef struct late_cache {
    wos_cache cache;
    const wos_cache *real;
    int misses;                /* document reads still to miss */
} late_cache;

static wos_rv late_get(const wos_cache *c, apr_pool_t *p, const char *key,
                       apr_size_t max_len, char **val, apr_size_t *len)
{
    late_cache *lc = c->baton;
    apr_size_t n = strlen(key);

    if (lc->misses > 0 && n > 4 && strcmp(key + n - 4, ":doc") == 0) {
        lc->misses--;
        return WOS_ENOKEY;
    }
    return lc->real->get(lc->real, p, key, max_len, val, len);
}

static wos_rv late_set(const wos_cache *c, apr_pool_t *p, const char *key, const char *val,
                       apr_size_t len, apr_time_t exp)
{
    const wos_cache *real = ((late_cache *)c->baton)->real;
    return real->set(real, p, key, val, len, exp);
}

static wos_rv late_add(const wos_cache *c, apr_pool_t *p, const char *key, const char *val,
                       apr_size_t len, apr_time_t exp)
{
    const wos_cache *real = ((late_cache *)c->baton)->real;
    return real->add(real, p, key, val, len, exp);
}

static wos_rv late_remove(const wos_cache *c, apr_pool_t *p, const char *key)
{
    const wos_cache *real = ((late_cache *)c->baton)->real;
    return real->remove(real, p, key);
}

START_TEST(lock_after_a_late_look_uses_the_published_document)
{
    fixture *f = fixture_new();
    late_cache lc = {{0}, NULL, 1};
    wos_keys_ctx late = f->ctx;
    wos_keystore *a = ks_new(), *b = ks_new();
    got g;

    prime(a, f);                               /* process A fetched and published */
    ck_assert_uint_eq(fetches(f), 1);
    lc.real = f->ctx.cache;
    lc.cache = *f->ctx.cache;
    lc.cache.baton = &lc;
    lc.cache.get = late_get;
    lc.cache.set = late_set;
    lc.cache.add = late_add;
    lc.cache.remove = late_remove;
    late.cache = &lc.cache;
    g.rv = wos_keystore_get(b, tp, &late, "k1", &g.set, &g.fetched, &g.err);
    assert_ok_with(&g, "k1");
    ck_assert_int_eq(lc.misses, 0);            /* B did look too early */
    ck_assert_int_eq(g.fetched, 0);
    ck_assert_uint_eq(fetches(f), 1);          /* and did not fetch again */
    ck_assert(verifies(tp, g.set, f->tok1));
}
END_TEST

/* ---- the shared document's format, as the module's restart carry reads it ---- */

typedef struct docs_seen {
    int docs, others;
    apr_time_t expiry;
    const char *json;
} docs_seen;

static int classify(void *baton, const char *key, const char *val, apr_size_t len,
                    apr_time_t expiry)
{
    docs_seen *d = baton;
    apr_time_t e;
    const char *json;

    if (!wos_keys_is_doc_key(key, strlen(key))) {
        d->others++;
        return 0;
    }
    d->docs++;
    ck_assert_int_eq(wos_keys_doc_parse(val, len, &e, &json), WOS_OK);
    ck_assert_int_eq(e, expiry);            /* the document carries its cache expiry */
    d->expiry = e;
    d->json = apr_pstrdup(tp, json);
    return 0;
}

/* Of what a fetch leaves in the shared cache, the document is told apart and parsed. */
START_TEST(doc_format_exported)
{
    fixture *f = fixture_new();
    docs_seen d = {0};
    apr_time_t e;

    prime(ks_new(), f);
    f->ctx.cache->set(f->ctx.cache, tp, "wos:jwks:0123:refetch", "1", 1,
                      apr_time_now() + apr_time_from_sec(60));
    wos_memcache_each(f->mc, classify, &d);
    ck_assert_int_eq(d.docs, 1);
    ck_assert_int_eq(d.others, 1);
    ck_assert_str_eq(d.json, f->doc_a);
    ck_assert_int_gt(d.expiry, apr_time_now());
    ck_assert(!wos_keys_is_doc_key(WOS_KEYS_DOC_PREFIX WOS_KEYS_DOC_SUFFIX,
                                   strlen(WOS_KEYS_DOC_PREFIX WOS_KEYS_DOC_SUFFIX)));
    ck_assert(!wos_keys_is_doc_key("wos:jwks:abc:fetching", 21));
    ck_assert_int_eq(wos_keys_doc_parse("12x\n{}", 6, &e, NULL), WOS_EINVAL);
    ck_assert_int_eq(wos_keys_doc_parse("\n{}", 3, &e, NULL), WOS_EINVAL);
    ck_assert_int_eq(wos_keys_doc_parse("123", 3, &e, NULL), WOS_EINVAL);
    ck_assert_int_eq(wos_keys_doc_parse("123\n", 4, &e, NULL), WOS_OK);
    ck_assert_int_eq(e, 123);
}
END_TEST

static Suite *keys_suite(void)
{
    Suite *s = suite_create("keys");
    TCase *share = wos_tcase("sharing");
    TCase *kid = wos_tcase("unknown_kid");
    TCase *fail = wos_tcase("failures");
    TCase *gen = wos_tcase("generations");

    real_create_unmanaged = (create_unmanaged_fn *)dlsym(RTLD_NEXT,
                                                         "apr_pool_create_unmanaged_ex");
    if (!real_create_unmanaged) {
        fprintf(stderr, "cannot find apr_pool_create_unmanaged_ex\n");
        exit(EXIT_FAILURE);
    }
    wos_tk_init();  /* once, before Check forks */
    tcase_add_test(share, first_fetch_shared_with_other_process);
    tcase_add_test(share, lock_after_a_late_look_uses_the_published_document);
    tcase_add_test(share, hot_path_does_not_touch_cache);
    tcase_add_test(share, clients_keep_their_own_sets);
    tcase_add_test(share, ambiguous_kid_does_not_touch_cache);
    tcase_add_test(share, doc_format_exported);
    tcase_add_test(kid, unknown_kid_refetch_is_throttled);
    tcase_add_test(kid, unknown_kid_refetch_finds_rotated_key);
    tcase_add_test(kid, newer_generation_adopted_without_fetch);
    tcase_add_test(fail, fetch_failure_with_nothing_cached);
    tcase_add_test(fail, fetches_are_reported);
    tcase_add_test(fail, fetch_failure_keeps_fresh_keys);
    tcase_add_test(fail, unusable_doc_never_replaces_working_keys);
    tcase_add_test(fail, unusable_doc_with_nothing_cached);
    tcase_add_test(fail, everything_expired_and_fetch_fails);
    tcase_add_test(fail, expired_local_generation_renewed_from_shared);
    tcase_add_test(gen, borrowed_generation_outlives_replacement);
    tcase_add_test(gen, keystore_frees_its_generation);
    tcase_add_test(gen, threads_while_generations_change);
    tcase_add_test(gen, stampede_fetches_once);
    suite_add_tcase(s, share);
    suite_add_tcase(s, kid);
    suite_add_tcase(s, fail);
    suite_add_tcase(s, gen);
    return s;
}

WOS_TEST_MAIN(keys_suite)
