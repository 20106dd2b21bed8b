/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_failover.c: the shared cache's failover policy (src/wos_failover.c).
 * The shared store and the server's local store are in-memory caches
 * (memcache.c) that can be made to fail; each wos_failover plays one worker
 * process, all of them over one breaker (as the server's shared memory
 * holds it), with a clock the test moves.
 */
#include "testutil.h"
#include "memcache.h"
#include "wos_failover.h"

#define OPEN_MS 5000
#define ALL_DOWN (WOS_MC_GET | WOS_MC_SET | WOS_MC_ADD | WOS_MC_REMOVE | WOS_MC_DOWN)

static apr_time_t clock_offset;         /* the failovers' clock: real time plus this */

static apr_time_t test_now(void)
{
    return apr_time_now() + clock_offset;
}

typedef struct notes {
    int n[4];                           /* per wos_failover_event */
    const char *op;                     /* of the latest */
} notes;

static void record(void *baton, apr_pool_t *p, wos_failover_event ev, const char *op)
{
    notes *ns = baton;

    (void)p;
    ns->n[ev]++;
    ns->op = op;
}

typedef struct fixture {
    wos_memcache *shared, *local;
    wos_breaker *breaker;
    notes notes;
    wos_failover *f;
    const wos_cache *c;
} fixture;

/* A process with its own failover over @p shared and @p local (NULL: none). */
static void process(fixture *fx, wos_breaker *b, wos_memcache *shared, wos_memcache *local)
{
    wos_failover_opts o = {b, OPEN_MS, record, &fx->notes, test_now};

    memset(&fx->notes, 0, sizeof(fx->notes));
    fx->breaker = b;
    fx->shared = shared;
    fx->local = local;
    ck_assert_int_eq(wos_failover_create(tp, wos_memcache_cache(shared),
                                         local ? wos_memcache_cache(local) : NULL, &o, &fx->f),
                     WOS_OK);
    fx->c = wos_failover_cache(fx->f);
}

static void setup(fixture *fx, int with_local)
{
    wos_breaker *b = apr_pcalloc(tp, sizeof(*b));

    clock_offset = 0;
    wos_breaker_init(b);
    process(fx, b, wos_memcache_create(tp), with_local ? wos_memcache_create(tp) : NULL);
}

static apr_time_t in(int sec)
{
    return test_now() + apr_time_from_sec(sec);
}

static const char *get(const fixture *fx, const char *key)
{
    char *val;
    apr_size_t len;

    return fx->c->get(fx->c, tp, key, 100, &val, &len) == WOS_OK ? val : NULL;
}

/* What the local store itself holds under @p key. */
static const char *local_get(const fixture *fx, const char *key)
{
    const wos_cache *l = wos_memcache_cache(fx->local);
    char *val;
    apr_size_t len;

    return l->get(l, tp, key, 100, &val, &len) == WOS_OK ? val : NULL;
}

static int shared_calls(const fixture *fx)
{
    wos_memcache_counts n = wos_memcache_get_counts(fx->shared);

    return n.gets + n.sets + n.adds + n.removes + n.remove_ifs;
}

START_TEST(healthy_uses_only_the_shared_store)
{
    fixture fx;

    setup(&fx, 1);
    ck_assert_int_eq(fx.c->flags, wos_memcache_cache(fx.shared)->flags);
    ck_assert_int_eq(fx.c->set(fx.c, tp, "k", "v", 1, in(60)), WOS_OK);
    ck_assert_str_eq(get(&fx, "k"), "v");
    ck_assert_int_eq(fx.c->add(fx.c, tp, "k", "w", 1, in(60)), WOS_EBUSY);
    ck_assert_int_eq(fx.c->add(fx.c, tp, "n", "w", 1, in(60)), WOS_OK);
    ck_assert_int_eq(fx.c->remove_if(fx.c, tp, "n", "x", 1), WOS_EBUSY);
    ck_assert_int_eq(fx.c->remove_if(fx.c, tp, "n", "w", 1), WOS_OK);
    ck_assert_int_eq(fx.c->remove(fx.c, tp, "k"), WOS_OK);
    ck_assert_ptr_null(get(&fx, "k"));                  /* a miss is no failure */
    ck_assert_int_eq(wos_memcache_size(fx.shared), 0);
    ck_assert_int_eq(wos_memcache_size(fx.local), 0);
    ck_assert_int_eq(wos_memcache_get_counts(fx.local).gets
                     + wos_memcache_get_counts(fx.local).adds, 0);
    ck_assert_int_eq(fx.notes.n[WOS_FAILOVER_FAILED] + fx.notes.n[WOS_FAILOVER_DOWN]
                     + fx.notes.n[WOS_FAILOVER_UP] + fx.notes.n[WOS_FAILOVER_LOCAL], 0);
    ck_assert(!wos_breaker_is_open(fx.breaker));
}
END_TEST

/* A failure opens the breaker: the operation and the next ones go to the local store. */
START_TEST(failure_falls_back_to_local)
{
    fixture fx;

    setup(&fx, 1);
    wos_memcache_fail(fx.shared, ALL_DOWN);
    ck_assert_int_eq(fx.c->set(fx.c, tp, "k", "v", 1, in(60)), WOS_OK);
    ck_assert_int_eq(fx.notes.n[WOS_FAILOVER_FAILED], 1);
    ck_assert_int_eq(fx.notes.n[WOS_FAILOVER_DOWN], 1);
    ck_assert_str_eq(fx.notes.op, "store");
    ck_assert(wos_breaker_is_open(fx.breaker));
    wos_memcache_reset_counts(fx.shared);
    ck_assert_str_eq(get(&fx, "k"), "v");               /* from the local store */
    ck_assert_int_eq(fx.c->add(fx.c, tp, "k", "w", 1, in(60)), WOS_EBUSY);
    ck_assert_int_eq(fx.c->add(fx.c, tp, "a", "w", 1, in(60)), WOS_OK);
    ck_assert_int_eq(fx.c->remove(fx.c, tp, "a"), WOS_OK);
    ck_assert_ptr_null(local_get(&fx, "a"));
    ck_assert_str_eq(local_get(&fx, "k"), "v");
    ck_assert_int_eq(shared_calls(&fx), 0);             /* left alone meanwhile */
    ck_assert_int_eq(fx.notes.n[WOS_FAILOVER_LOCAL], 4);
    ck_assert_int_eq(fx.notes.n[WOS_FAILOVER_DOWN], 1);  /* reported once */
}
END_TEST

/* After the open interval one call probes; its success closes the breaker. */
START_TEST(a_probe_brings_it_back)
{
    fixture fx;

    setup(&fx, 1);
    wos_memcache_fail(fx.shared, ALL_DOWN);
    ck_assert_ptr_null(get(&fx, "k"));
    ck_assert_int_eq(fx.notes.n[WOS_FAILOVER_DOWN], 1);
    ck_assert_str_eq(fx.notes.op, "read");
    wos_memcache_fail(fx.shared, 0);
    ck_assert_int_eq(fx.c->set(fx.c, tp, "k", "local", 5, in(60)), WOS_OK);
    ck_assert_int_eq(wos_memcache_size(fx.shared), 0);
    clock_offset = apr_time_from_msec(OPEN_MS + 10);
    ck_assert_int_eq(fx.c->set(fx.c, tp, "k", "shared", 6, in(60)), WOS_OK);
    ck_assert_int_eq(fx.notes.n[WOS_FAILOVER_UP], 1);
    ck_assert(!wos_breaker_is_open(fx.breaker));
    ck_assert_str_eq(get(&fx, "k"), "shared");
    ck_assert_int_eq(fx.notes.n[WOS_FAILOVER_UP], 1);
}
END_TEST

/* A failed probe: another interval on the local store, no second outage report. */
START_TEST(still_down_after_the_interval)
{
    fixture fx;

    setup(&fx, 1);
    wos_memcache_fail(fx.shared, ALL_DOWN);
    ck_assert_ptr_null(get(&fx, "k"));
    clock_offset = apr_time_from_msec(OPEN_MS + 10);
    ck_assert_ptr_null(get(&fx, "k"));
    ck_assert_int_eq(wos_memcache_get_counts(fx.shared).gets, 2);
    ck_assert_ptr_null(get(&fx, "k"));
    ck_assert_int_eq(wos_memcache_get_counts(fx.shared).gets, 2);
    ck_assert(wos_breaker_is_open(fx.breaker));
    ck_assert_int_eq(fx.notes.n[WOS_FAILOVER_FAILED], 2);
    ck_assert_int_eq(fx.notes.n[WOS_FAILOVER_DOWN], 1);
}
END_TEST

/* Without a local store: a read misses, a store fails, an add lets the caller go alone. */
START_TEST(no_local_store)
{
    fixture fx;

    setup(&fx, 0);
    wos_memcache_fail(fx.shared, ALL_DOWN);
    ck_assert_ptr_null(get(&fx, "k"));
    ck_assert_int_eq(fx.c->set(fx.c, tp, "k", "v", 1, in(60)), WOS_EUNAVAIL);
    ck_assert_int_eq(fx.c->add(fx.c, tp, "k", "v", 1, in(60)), WOS_OK);
    ck_assert_int_eq(fx.c->add(fx.c, tp, "k", "v", 1, in(60)), WOS_OK);
    ck_assert_int_eq(fx.c->remove(fx.c, tp, "k"), WOS_OK);
    ck_assert_int_eq(fx.c->remove_if(fx.c, tp, "k", "v", 1), WOS_OK);
    ck_assert_int_eq(fx.notes.n[WOS_FAILOVER_DOWN], 1);
}
END_TEST

/* Two processes of one server share the breaker: one failure spares the other
 * the wait, and outage and recovery are each reported to one of them. */
START_TEST(one_report_per_server)
{
    fixture a, b;

    setup(&a, 1);
    process(&b, a.breaker, a.shared, a.local);
    wos_memcache_fail(a.shared, ALL_DOWN);
    ck_assert_ptr_null(get(&a, "k"));
    ck_assert_ptr_null(get(&b, "k"));
    ck_assert_int_eq(wos_memcache_get_counts(a.shared).gets, 1);
    ck_assert_int_eq(a.notes.n[WOS_FAILOVER_DOWN] + b.notes.n[WOS_FAILOVER_DOWN], 1);
    ck_assert_int_eq(b.notes.n[WOS_FAILOVER_LOCAL], 1);
    wos_memcache_fail(a.shared, 0);
    clock_offset = apr_time_from_msec(OPEN_MS + 10);
    ck_assert_int_eq(b.c->set(b.c, tp, "k", "v", 1, in(60)), WOS_OK);
    ck_assert_str_eq(get(&a, "k"), "v");
    ck_assert_int_eq(a.notes.n[WOS_FAILOVER_UP] + b.notes.n[WOS_FAILOVER_UP], 1);
}
END_TEST

/* Answers about an entry (absent, present, too big) say nothing about the store. */
START_TEST(misses_are_no_failures)
{
    fixture fx;
    char *val;
    apr_size_t len;

    setup(&fx, 1);
    ck_assert_int_eq(fx.c->set(fx.c, tp, "big", "0123456789", 10, in(60)), WOS_OK);
    ck_assert_int_eq(fx.c->get(fx.c, tp, "big", 4, &val, &len), WOS_ENOKEY);
    ck_assert_ptr_null(get(&fx, "absent"));
    ck_assert_int_eq(fx.c->remove(fx.c, tp, "absent"), WOS_OK);
    ck_assert_int_eq(fx.c->add(fx.c, tp, "big", "x", 1, in(60)), WOS_EBUSY);
    ck_assert(!wos_breaker_is_open(fx.breaker));
    ck_assert_int_eq(fx.notes.n[WOS_FAILOVER_FAILED], 0);
    ck_assert_int_eq(wos_memcache_get_counts(fx.local).gets, 0);
}
END_TEST

/* Without a breaker (a process-local store alone) the store's answers are the only ones. */
START_TEST(no_breaker_no_stand_in)
{
    wos_failover_opts o = {NULL, 0, NULL, NULL, NULL};
    wos_memcache *m = wos_memcache_create(tp), *l = wos_memcache_create(tp);
    const wos_cache *c;
    wos_failover *f;
    char *val;
    apr_size_t len;

    ck_assert_int_eq(wos_failover_create(tp, wos_memcache_cache(m), wos_memcache_cache(l), &o,
                                         &f), WOS_OK);
    c = wos_failover_cache(f);
    wos_memcache_fail(m, ALL_DOWN);
    ck_assert_int_eq(c->set(c, tp, "k", "v", 1, in(60)), WOS_EUNAVAIL);
    ck_assert_int_eq(c->get(c, tp, "k", 10, &val, &len), WOS_ENOKEY);
    ck_assert_int_eq(c->remove_if(c, tp, "k", "v", 1), WOS_EUNAVAIL);
    ck_assert_int_eq(wos_memcache_size(l), 0);
    ck_assert_int_eq(wos_memcache_get_counts(l).sets + wos_memcache_get_counts(l).gets, 0);
}
END_TEST

START_TEST(shared_expiry)
{
    apr_time_t now = apr_time_from_sec(1000000);

    ck_assert_int_eq(wos_failover_shared_expiry(now, now), 0);
    ck_assert_int_eq(wos_failover_shared_expiry(now - 1, now), 0);
    ck_assert_int_eq(wos_failover_shared_expiry(now + 1, now),
                     now + apr_time_from_sec(1) + apr_time_from_msec(500));
    ck_assert_int_eq(wos_failover_shared_expiry(now + apr_time_from_sec(2), now),
                     now + apr_time_from_sec(2) + apr_time_from_msec(500));
    ck_assert_int_eq(wos_failover_shared_expiry(now + apr_time_from_sec(365 * 86400), now),
                     now + apr_time_from_sec(30 * 86400) + apr_time_from_msec(500));
}
END_TEST

START_TEST(create_refuses_bad_options)
{
    wos_breaker b;
    wos_failover_opts o = {&b, 0, NULL, NULL, NULL};
    wos_memcache *m = wos_memcache_create(tp);
    wos_failover *f;

    wos_breaker_init(&b);
    ck_assert_int_eq(wos_failover_create(tp, wos_memcache_cache(m), NULL, &o, &f), WOS_EINVAL);
    o.open_ms = OPEN_MS;
    ck_assert_int_eq(wos_failover_create(tp, NULL, NULL, &o, &f), WOS_EINVAL);
    ck_assert_int_eq(wos_failover_create(tp, wos_memcache_cache(m), NULL, &o, &f), WOS_OK);
}
END_TEST

static Suite *failover_suite(void)
{
    Suite *s = suite_create("failover");
    TCase *tc = wos_tcase("policy");

    tcase_add_test(tc, healthy_uses_only_the_shared_store);
    tcase_add_test(tc, failure_falls_back_to_local);
    tcase_add_test(tc, a_probe_brings_it_back);
    tcase_add_test(tc, still_down_after_the_interval);
    tcase_add_test(tc, no_local_store);
    tcase_add_test(tc, one_report_per_server);
    tcase_add_test(tc, misses_are_no_failures);
    tcase_add_test(tc, no_breaker_no_stand_in);
    tcase_add_test(tc, shared_expiry);
    tcase_add_test(tc, create_refuses_bad_options);
    suite_add_tcase(s, tc);
    return s;
}

WOS_TEST_MAIN(failover_suite)
