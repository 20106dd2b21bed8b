/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_breaker.c: the circuit breaker of a shared store (wos_breaker) and
 * calls bounded by a deadline (wos_timed). Times are given to the breaker,
 * so its cases need no clock; the timed calls block on a gate the test
 * opens, and only their bounds (never their speed) are asserted.
 */
#include <apr_atomic.h>
#include <apr_thread_proc.h>

#include "testutil.h"
#include "wos_breaker.h"
#include "wos_timed.h"

#define OPEN 5000
#define AT(ms) (apr_time_from_sec(1700000000) + apr_time_from_msec(ms))

/* ---- the breaker ----------------------------------------------------------------- */

START_TEST(closed_goes_to_the_shared_store)
{
    wos_breaker b;

    wos_breaker_init(&b);
    ck_assert_int_eq(wos_breaker_route_call(&b, AT(0), OPEN), WOS_BREAKER_SHARED);
    ck_assert_int_eq(wos_breaker_report(&b, WOS_BREAKER_SHARED, 1, AT(1), OPEN),
                     WOS_BREAKER_SAME);
    ck_assert_int_eq(wos_breaker_route_call(&b, AT(2), OPEN), WOS_BREAKER_SHARED);
    ck_assert(!wos_breaker_is_open(&b));
}
END_TEST

START_TEST(a_failure_opens_for_the_interval_then_one_probe_goes)
{
    wos_breaker b;

    wos_breaker_init(&b);
    ck_assert_int_eq(wos_breaker_report(&b, WOS_BREAKER_SHARED, 0, AT(0), OPEN),
                     WOS_BREAKER_OPENED);
    ck_assert(wos_breaker_is_open(&b));
    /* a second failure (a call that was in flight) changes nothing visible */
    ck_assert_int_eq(wos_breaker_report(&b, WOS_BREAKER_SHARED, 0, AT(10), OPEN),
                     WOS_BREAKER_SAME);
    ck_assert_int_eq(wos_breaker_route_call(&b, AT(20), OPEN), WOS_BREAKER_LOCAL);
    ck_assert_int_eq(wos_breaker_route_call(&b, AT(OPEN + 9), OPEN), WOS_BREAKER_LOCAL);
    ck_assert_int_eq(wos_breaker_route_call(&b, AT(OPEN + 10), OPEN), WOS_BREAKER_PROBE);
    /* while the probe is out, everyone else stays local */
    ck_assert_int_eq(wos_breaker_route_call(&b, AT(OPEN + 11), OPEN), WOS_BREAKER_LOCAL);
    ck_assert_int_eq(wos_breaker_report(&b, WOS_BREAKER_PROBE, 1, AT(OPEN + 20), OPEN),
                     WOS_BREAKER_CLOSED);
    ck_assert(!wos_breaker_is_open(&b));
    ck_assert_int_eq(wos_breaker_route_call(&b, AT(OPEN + 21), OPEN), WOS_BREAKER_SHARED);
}
END_TEST

START_TEST(a_failed_probe_keeps_it_open_another_interval)
{
    wos_breaker b;

    wos_breaker_init(&b);
    wos_breaker_report(&b, WOS_BREAKER_SHARED, 0, AT(0), OPEN);
    ck_assert_int_eq(wos_breaker_route_call(&b, AT(OPEN), OPEN), WOS_BREAKER_PROBE);
    ck_assert_int_eq(wos_breaker_report(&b, WOS_BREAKER_PROBE, 0, AT(OPEN + 200), OPEN),
                     WOS_BREAKER_SAME);
    ck_assert(wos_breaker_is_open(&b));
    ck_assert_int_eq(wos_breaker_route_call(&b, AT(2 * OPEN + 199), OPEN), WOS_BREAKER_LOCAL);
    ck_assert_int_eq(wos_breaker_route_call(&b, AT(2 * OPEN + 200), OPEN), WOS_BREAKER_PROBE);
}
END_TEST

/* Only a probe closes: a call made before the outage that ends well says
 * nothing about the store now. */
START_TEST(a_late_success_does_not_close)
{
    wos_breaker b;

    wos_breaker_init(&b);
    wos_breaker_report(&b, WOS_BREAKER_SHARED, 0, AT(0), OPEN);
    ck_assert_int_eq(wos_breaker_report(&b, WOS_BREAKER_SHARED, 1, AT(5), OPEN),
                     WOS_BREAKER_SAME);
    ck_assert_int_eq(wos_breaker_report(&b, WOS_BREAKER_LOCAL, 1, AT(6), OPEN),
                     WOS_BREAKER_SAME);
    ck_assert(wos_breaker_is_open(&b));
}
END_TEST

/* A probe whose process died never reports: another goes an interval later. */
START_TEST(a_lost_probe_is_replaced)
{
    wos_breaker b;

    wos_breaker_init(&b);
    wos_breaker_report(&b, WOS_BREAKER_SHARED, 0, AT(0), OPEN);
    ck_assert_int_eq(wos_breaker_route_call(&b, AT(OPEN), OPEN), WOS_BREAKER_PROBE);
    ck_assert_int_eq(wos_breaker_route_call(&b, AT(2 * OPEN - 1), OPEN), WOS_BREAKER_LOCAL);
    ck_assert_int_eq(wos_breaker_route_call(&b, AT(2 * OPEN), OPEN), WOS_BREAKER_PROBE);
}
END_TEST

/* The 32-bit millisecond clock wraps every 49 days: the comparisons still hold. */
START_TEST(the_clock_wrap_is_harmless)
{
    wos_breaker b;
    apr_time_t base = apr_time_from_msec((apr_int64_t)0xFFFFFFFFu - 1000);

    wos_breaker_init(&b);
    wos_breaker_report(&b, WOS_BREAKER_SHARED, 0, base, OPEN);
    ck_assert_int_eq(wos_breaker_route_call(&b, base + apr_time_from_msec(OPEN - 1), OPEN),
                     WOS_BREAKER_LOCAL);
    ck_assert_int_eq(wos_breaker_route_call(&b, base + apr_time_from_msec(OPEN), OPEN),
                     WOS_BREAKER_PROBE);
}
END_TEST

/* Threads standing for processes: one change of state is seen by one of them. */
typedef struct racer {
    wos_breaker *b;
    volatile apr_uint32_t *gate;
    int fail;                       /* report a failure; else route at OPEN */
    int seen;                       /* OPENED reports, or PROBE routes */
} racer;

static void *APR_THREAD_FUNC race(apr_thread_t *t, void *data)
{
    racer *r = data;
    int i;

    (void)t;
    while (!apr_atomic_read32(r->gate))
        ;
    for (i = 0; i < 100; i++) {
        if (r->fail)
            r->seen += wos_breaker_report(r->b, WOS_BREAKER_SHARED, 0, AT(0), OPEN)
                       == WOS_BREAKER_OPENED;
        else
            r->seen += wos_breaker_route_call(r->b, AT(OPEN), OPEN) == WOS_BREAKER_PROBE;
    }
    return NULL;
}

static int run_race(wos_breaker *b, int fail)
{
    volatile apr_uint32_t gate = 0;
    racer r[8];
    apr_thread_t *th[8];
    apr_status_t st;
    int i, seen = 0;

    for (i = 0; i < 8; i++) {
        r[i] = (racer){b, &gate, fail, 0};
        ck_assert_int_eq(apr_thread_create(&th[i], NULL, race, &r[i], tp), APR_SUCCESS);
    }
    apr_atomic_set32(&gate, 1);
    for (i = 0; i < 8; i++) {
        apr_thread_join(&st, th[i]);
        seen += r[i].seen;
    }
    return seen;
}

START_TEST(one_opener_and_one_probe_among_many)
{
    wos_breaker b;

    wos_breaker_init(&b);
    ck_assert_int_eq(run_race(&b, 1), 1);
    ck_assert_int_eq(run_race(&b, 0), 1);
}
END_TEST

/* ---- calls bounded by a deadline ---------------------------------------------------- */

typedef struct job {
    volatile apr_uint32_t *gate;    /* in the test's memory: outlives every call */
    volatile apr_uint32_t *finished;
    char *out;                      /* in the call's pool */
} job;

static apr_status_t blocking(void *arg, apr_pool_t *pool)
{
    job *j = arg;

    while (!apr_atomic_read32(j->gate))
        apr_sleep(apr_time_from_msec(5));
    j->out = apr_pstrdup(pool, "answer");
    apr_atomic_inc32(j->finished);
    return APR_EGENERAL;            /* any status: handed back as it is */
}

static job *new_job(wos_timed *c, volatile apr_uint32_t *gate, volatile apr_uint32_t *fin)
{
    job *j = apr_pcalloc(wos_timed_pool(c), sizeof(*j));

    j->gate = gate;
    j->finished = fin;
    return j;
}

START_TEST(a_call_in_time_hands_back_its_result)
{
    static volatile apr_uint32_t gate = 1, fin = 0;
    wos_timer *t;
    wos_timed *c;
    apr_status_t st = APR_SUCCESS;
    job *j;

    ck_assert_int_eq(wos_timer_create(tp, 2, &t), WOS_OK);
    ck_assert_int_eq(wos_timed_create(t, &c), WOS_OK);
    j = new_job(c, &gate, &fin);
    ck_assert_int_eq(wos_timed_run(c, blocking, j, 30000, &st), WOS_OK);
    ck_assert_int_eq(st, APR_EGENERAL);
    ck_assert_str_eq(j->out, "answer");
    wos_timed_destroy(c);
    ck_assert_int_eq(wos_timer_abandoned(t), 0);
}
END_TEST

/* A call that hangs costs its caller the deadline, not the hang; once it
 * returns, its thread cleans up (the abandoned count goes back to 0), and a
 * timer with too many hung calls refuses new ones at once. */
START_TEST(a_hung_call_is_abandoned_at_the_deadline)
{
    static volatile apr_uint32_t gate = 0, fin = 0;
    wos_timer *t;
    wos_timed *c;
    apr_status_t st = APR_SUCCESS;
    apr_time_t start, took;
    int i;

    ck_assert_int_eq(wos_timer_create(tp, 2, &t), WOS_OK);
    for (i = 0; i < 2; i++) {
        ck_assert_int_eq(wos_timed_create(t, &c), WOS_OK);
        start = apr_time_now();
        ck_assert_int_eq(wos_timed_run(c, blocking, new_job(c, &gate, &fin), 100, &st),
                         WOS_EUNAVAIL);
        took = apr_time_now() - start;
        ck_assert_int_ge(took, apr_time_from_msec(100));
        ck_assert_int_lt(took, apr_time_from_sec(20));   /* the hang itself is endless */
    }
    ck_assert_int_eq(wos_timer_abandoned(t), 2);
    ck_assert_int_eq(wos_timed_create(t, &c), WOS_OK);
    start = apr_time_now();
    ck_assert_int_eq(wos_timed_run(c, blocking, new_job(c, &gate, &fin), 30000, &st),
                     WOS_EUNAVAIL);
    ck_assert_int_lt(apr_time_now() - start, apr_time_from_sec(20));
    ck_assert_uint_eq(apr_atomic_read32(&fin), 0);
    apr_atomic_set32(&gate, 1);
    for (i = 0; i < 2000 && wos_timer_abandoned(t) > 0; i++)
        apr_sleep(apr_time_from_msec(10));
    ck_assert_int_eq(wos_timer_abandoned(t), 0);
    ck_assert_uint_eq(apr_atomic_read32(&fin), 2);
}
END_TEST

static Suite *breaker_suite(void)
{
    Suite *s = suite_create("breaker");
    TCase *b = wos_tcase("breaker");
    TCase *t = wos_tcase("timed");

    tcase_add_test(b, closed_goes_to_the_shared_store);
    tcase_add_test(b, a_failure_opens_for_the_interval_then_one_probe_goes);
    tcase_add_test(b, a_failed_probe_keeps_it_open_another_interval);
    tcase_add_test(b, a_late_success_does_not_close);
    tcase_add_test(b, a_lost_probe_is_replaced);
    tcase_add_test(b, the_clock_wrap_is_harmless);
    tcase_add_test(b, one_opener_and_one_probe_among_many);
    tcase_add_test(t, a_call_in_time_hands_back_its_result);
    tcase_add_test(t, a_hung_call_is_abandoned_at_the_deadline);
    suite_add_tcase(s, b);
    suite_add_tcase(s, t);
    return s;
}

WOS_TEST_MAIN(breaker_suite)
