/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_sessions.c: the core of server-side session management: the age
 * rule of WorkOSTokenMaxAge (src/wos_tokenage.c) and the verified-session
 * cache under it, the last activity of WorkOSInactivityTimeout
 * (src/wos_activity.c, with memcache as the shared cache and explicit
 * clocks), and the user's session list (src/wos_sessionlist.c).
 */
#include <jansson.h>

#include "testutil.h"
#include "memcache.h"
#include "wos_activity.h"
#include "wos_sessionlist.h"
#include "wos_tokenage.h"
#include "wos_vcache.h"

/* ---- WorkOSTokenMaxAge ---------------------------------------------------- */

START_TEST(tokenage_rule)
{
    wos_claims c = {0};

    c.iat = 1000;
    c.exp = 1300;
    ck_assert(wos_tokenage_until(&c, WOS_TOKENAGE_OFF) == APR_INT64_MAX);
    ck_assert(!wos_tokenage_due(&c, WOS_TOKENAGE_OFF, 999999));
    ck_assert_int_eq(wos_tokenage_until(&c, 60), 1060);
    ck_assert(!wos_tokenage_due(&c, 60, 1059));
    ck_assert(wos_tokenage_due(&c, 60, 1060));
    c.iat = 0;                       /* age unknown: due at once */
    ck_assert(wos_tokenage_due(&c, 60, 1));
    ck_assert(!wos_tokenage_due(&c, WOS_TOKENAGE_OFF, 1));
}
END_TEST

/* The cache keeps apart verifications made under different max ages. */
START_TEST(tokenage_in_cache_key)
{
    static const int PW = 1;
    static const unsigned char KEY[16] = "0123456789abcdef";
    wos_vcache_settings a = {"client", "https://api", 60, 60, &PW, NULL, 0, KEY, 0};
    wos_vcache_settings b = a;
    unsigned char ka[WOS_VCACHE_KEY_LEN], kb[WOS_VCACHE_KEY_LEN], km[WOS_VCACHE_KEY_LEN];
    wos_vcache_memo memo;

    b.token_max_age = 2;
    ck_assert_int_eq(wos_vcache_key("cookie", &a, ka), WOS_OK);
    ck_assert_int_eq(wos_vcache_key("cookie", &b, kb), WOS_OK);
    ck_assert(memcmp(ka, kb, sizeof(ka)) != 0);
    /* and the memo, which compares settings instead of hashing, too */
    memset(&memo, 0, sizeof(memo));
    ck_assert_int_eq(wos_vcache_key_memo(&memo, tp, "cookie", &a, km), WOS_OK);
    ck_assert_int_eq(wos_vcache_key_memo(&memo, tp, "cookie", &b, km), WOS_OK);
    ck_assert(memcmp(km, kb, sizeof(km)) == 0);
}
END_TEST

/* ---- WorkOSInactivityTimeout ------------------------------------------------ */

/* Now, in whole seconds: memcache expires entries by the real clock. */
static apr_time_t T0;
#define MS(n) apr_time_from_msec(n)

typedef struct afix {
    wos_memcache *mc;
    wos_activity *memo_a, *memo_b;   /* two worker processes */
    wos_activity_in in;
} afix;

static afix *afix_new(int timeout)
{
    afix *f = apr_pcalloc(tp, sizeof(*f));

    T0 = apr_time_from_sec(apr_time_sec(apr_time_now()));
    f->mc = wos_memcache_create(tp);
    ck_assert_int_eq(wos_activity_create(tp, 64, &f->memo_a), WOS_OK);
    ck_assert_int_eq(wos_activity_create(tp, 64, &f->memo_b), WOS_OK);
    f->in.cache = wos_memcache_cache(f->mc);
    f->in.memo = f->memo_a;
    f->in.sid = "session_01TEST";
    f->in.iat = apr_time_sec(T0) - 1;
    f->in.timeout = timeout;
    f->in.now = T0;
    return f;
}

static wos_activity_verdict touch_at(afix *f, wos_activity *memo, apr_time_t now, int *wrote)
{
    f->in.memo = memo;
    f->in.now = now;
    return wos_activity_touch(tp, &f->in, NULL, wrote);
}

START_TEST(activity_hot_path_needs_no_shared_access)
{
    afix *f = afix_new(10);          /* fraction: 1 s */
    int wrote, i;

    ck_assert_int_eq(touch_at(f, f->memo_a, T0, &wrote), WOS_ACTIVITY_ALIVE);
    ck_assert_int_eq(wrote, 1);      /* nothing recorded; iat 1 s old */
    wos_memcache_reset_counts(f->mc);
    for (i = 0; i < 100; i++)
        ck_assert_int_eq(touch_at(f, f->memo_a, T0 + MS(9 * i), &wrote), WOS_ACTIVITY_ALIVE);
    ck_assert_int_eq(wos_memcache_get_counts(f->mc).gets, 0);
    ck_assert_int_eq(wos_memcache_get_counts(f->mc).sets, 0);
    /* past the fraction: read and write once, then quiet again */
    ck_assert_int_eq(touch_at(f, f->memo_a, T0 + MS(1000), &wrote), WOS_ACTIVITY_ALIVE);
    ck_assert_int_eq(wrote, 1);
    ck_assert_int_eq(touch_at(f, f->memo_a, T0 + MS(1500), &wrote), WOS_ACTIVITY_ALIVE);
    ck_assert_int_eq(wos_memcache_get_counts(f->mc).sets, 1);
    ck_assert_int_eq(wos_memcache_get_counts(f->mc).gets, 1);
}
END_TEST

START_TEST(activity_shared_between_processes)
{
    afix *f = afix_new(10);
    int wrote;

    ck_assert_int_eq(touch_at(f, f->memo_a, T0, &wrote), WOS_ACTIVITY_ALIVE);
    /* B sees A's fresh record: no write of its own */
    ck_assert_int_eq(touch_at(f, f->memo_b, T0 + MS(300), &wrote), WOS_ACTIVITY_ALIVE);
    ck_assert_int_eq(wrote, 0);
    /* A keeps serving the session for 9 s; B has not seen it since 0.3 s,
     * yet knows from the shared record that it is not idle at 19 s */
    ck_assert_int_eq(touch_at(f, f->memo_a, T0 + MS(9000), &wrote), WOS_ACTIVITY_ALIVE);
    ck_assert_int_eq(wrote, 1);
    ck_assert_int_eq(touch_at(f, f->memo_b, T0 + MS(19000), &wrote), WOS_ACTIVITY_ALIVE);
}
END_TEST

START_TEST(activity_idle_ends_never_early)
{
    afix *f = afix_new(10);
    apr_time_t idle;
    int wrote;

    ck_assert_int_eq(touch_at(f, f->memo_a, T0, &wrote), WOS_ACTIVITY_ALIVE);
    /* 10.999 s: idle for less than timeout + fraction (the record may lag) */
    ck_assert_int_eq(touch_at(f, f->memo_b, T0 + MS(10999), &wrote), WOS_ACTIVITY_ALIVE);
    f = afix_new(10);
    ck_assert_int_eq(touch_at(f, f->memo_a, T0, &wrote), WOS_ACTIVITY_ALIVE);
    f->in.memo = f->memo_a;
    f->in.now = T0 + MS(11000);
    ck_assert_int_eq(wos_activity_touch(tp, &f->in, &idle, NULL), WOS_ACTIVITY_IDLE);
    ck_assert(idle == MS(11000));
    /* the same from the process that served the last request */
    ck_assert_int_eq(touch_at(f, f->memo_b, T0 + MS(12000), &wrote), WOS_ACTIVITY_IDLE);
}
END_TEST

START_TEST(activity_ended_marker)
{
    afix *f = afix_new(10);
    int wrote;

    ck_assert_int_eq(touch_at(f, f->memo_a, T0, &wrote), WOS_ACTIVITY_ALIVE);
    f->in.now = T0 + MS(20000);
    wos_activity_end(tp, &f->in);
    /* refused from then on, also where a process had it fresh, and also
     * if a refresh gave the session a new token (iat) meanwhile */
    f->in.iat = apr_time_sec(T0) + 20;
    ck_assert_int_eq(touch_at(f, f->memo_a, T0 + MS(20001), &wrote), WOS_ACTIVITY_ENDED);
    ck_assert_int_eq(touch_at(f, f->memo_b, T0 + MS(20001), &wrote), WOS_ACTIVITY_ENDED);
    ck_assert_int_eq(wrote, 0);
}
END_TEST

START_TEST(activity_lost_record_reads_iat)
{
    afix *f = afix_new(10);
    int wrote;

    ck_assert_int_eq(touch_at(f, f->memo_a, T0, &wrote), WOS_ACTIVITY_ALIVE);
    ck_assert_int_eq(wos_memcache_evict(f->mc, "wos:act:"), 1);
    /* a token issued 5 s ago bounds the idle time: alive */
    f->in.iat = apr_time_sec(T0) + 15;
    ck_assert_int_eq(touch_at(f, f->memo_b, T0 + MS(20000), &wrote), WOS_ACTIVITY_ALIVE);
    ck_assert_int_eq(wos_memcache_evict(f->mc, "wos:act:"), 1);
    /* one issued 12 s ago does not, and nothing else says the session was used */
    f->in.iat = apr_time_sec(T0) + 8;
    ck_assert_int_eq(touch_at(f, f->memo_b, T0 + MS(20000) + MS(1), &wrote),
                     WOS_ACTIVITY_ALIVE);     /* B itself saw it at 20 s */
    f->in.sid = "session_02OTHER";
    ck_assert_int_eq(touch_at(f, f->memo_b, T0 + MS(20000), &wrote), WOS_ACTIVITY_IDLE);
}
END_TEST

START_TEST(activity_keys_are_hashed)
{
    afix *f = afix_new(10);
    int wrote;

    ck_assert_int_eq(touch_at(f, f->memo_a, T0, &wrote), WOS_ACTIVITY_ALIVE);
    ck_assert_int_eq(wos_memcache_evict(f->mc, "session_01TEST"), 0);
    ck_assert_int_eq(wos_memcache_evict(f->mc, wos_sha256_hex(tp, "session_01TEST", 14)), 1);
}
END_TEST

/* ---- the session list ---------------------------------------------------------- */

static const char PAGE[] =
    "{\"object\":\"list\",\"data\":["
    "{\"object\":\"session\",\"id\":\"session_A\",\"user_agent\":\"Mozilla/5.0 \\\"x\\\"\","
    "\"ip_address\":\"192.0.2.1\",\"user_id\":\"user_1\",\"auth_method\":\"password\","
    "\"status\":\"active\",\"expires_at\":\"2026-07-22T22:59:48.743Z\",\"ended_at\":null,"
    "\"created_at\":\"2025-07-23T04:59:48.738Z\",\"updated_at\":\"2025-07-23T04:59:48.738Z\"},"
    "{\"object\":\"session\",\"id\":\"session_B\",\"status\":\"revoked\"},"
    "{\"object\":\"session\",\"id\":\"session_C\",\"ip_address\":null},"
    "{\"object\":\"session\",\"status\":\"active\"}"
    "],\"list_metadata\":{\"before\":null,\"after\":\"session_C\"}}";

START_TEST(sessionlist_parse_page)
{
    apr_array_header_t *l = apr_array_make(tp, 2, sizeof(wos_user_session));
    const wos_user_session *a;
    const char *after;

    ck_assert_int_eq(wos_sessionlist_parse(tp, PAGE, strlen(PAGE), l, &after), WOS_OK);
    ck_assert_int_eq(l->nelts, 2);            /* revoked and id-less left out */
    ck_assert_str_eq(after, "session_C");
    a = wos_sessionlist_find(l, "session_A");
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(a->ip_address, "192.0.2.1");
    ck_assert_str_eq(a->user_agent, "Mozilla/5.0 \"x\"");
    ck_assert_str_eq(a->created_at, "2025-07-23T04:59:48.738Z");
    ck_assert_ptr_null(wos_sessionlist_find(l, "session_C")->ip_address);
    ck_assert_ptr_null(wos_sessionlist_find(l, "session_B"));
    ck_assert_ptr_null(wos_sessionlist_find(l, "session_"));
}
END_TEST

START_TEST(sessionlist_parse_refusals)
{
    static const char *bad[] = {"", "[]", "{}", "{\"data\":{}}", "{\"data\":[] ",
                                "{\"data\":\"x\"}"};
    apr_array_header_t *l = apr_array_make(tp, 2, sizeof(wos_user_session));
    const char *after;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_int_eq(wos_sessionlist_parse(tp, bad[i], strlen(bad[i]), l, &after),
                         WOS_EINVAL);
    after = "{\"data\":[],\"list_metadata\":{\"after\":\"\"}}";
    ck_assert_int_eq(wos_sessionlist_parse(tp, after, strlen(after), l, &after), WOS_OK);
    ck_assert_ptr_null(after);
    ck_assert_int_eq(l->nelts, 0);
}
END_TEST

START_TEST(sessionlist_json)
{
    apr_array_header_t *l = apr_array_make(tp, 2, sizeof(wos_user_session));
    const char *after, *out;
    json_t *doc, *arr, *first;
    json_error_t e;

    wos_sessionlist_parse(tp, PAGE, strlen(PAGE), l, &after);
    out = wos_sessionlist_json(tp, l, "session_C");
    doc = json_loads(out, 0, &e);
    ck_assert_ptr_nonnull(doc);
    arr = json_object_get(doc, "sessions");
    ck_assert_int_eq(json_array_size(arr), 2);
    first = json_array_get(arr, 0);
    ck_assert_str_eq(json_string_value(json_object_get(first, "id")), "session_A");
    ck_assert_str_eq(json_string_value(json_object_get(first, "userAgent")),
                     "Mozilla/5.0 \"x\"");
    ck_assert_str_eq(json_string_value(json_object_get(first, "ipAddress")), "192.0.2.1");
    ck_assert_str_eq(json_string_value(json_object_get(first, "authMethod")), "password");
    ck_assert(json_is_false(json_object_get(first, "current")));
    ck_assert(json_is_true(json_object_get(json_array_get(arr, 1), "current")));
    ck_assert(json_is_null(json_object_get(json_array_get(arr, 1), "ipAddress")));
    json_decref(doc);
    ck_assert_str_eq(wos_sessionlist_json(tp, NULL, NULL), "{\"sessions\":[]}");
}
END_TEST

START_TEST(sessionlist_calls_refuse_without_config)
{
    wos_api_cfg c = {"https://api.invalid", "client", NULL, {0}};
    apr_array_header_t *l;
    const char *err;
    long ra;

    ck_assert_int_eq(wos_sessionlist_fetch(tp, &c, "user_1", &l, &ra, &err), WOS_EINVAL);
    ck_assert_int_eq(wos_sessionlist_revoke(tp, &c, "session_A", &ra, &err), WOS_EINVAL);
    c.api_key = "sk_test";
    ck_assert_int_eq(wos_sessionlist_fetch(tp, &c, "", &l, &ra, &err), WOS_EINVAL);
    ck_assert_int_eq(wos_sessionlist_revoke(tp, &c, "", &ra, &err), WOS_EINVAL);
}
END_TEST

static Suite *sessions_suite(void)
{
    Suite *su = suite_create("sessions");
    TCase *tc = wos_tcase("tokenage");

    tcase_add_test(tc, tokenage_rule);
    tcase_add_test(tc, tokenage_in_cache_key);
    suite_add_tcase(su, tc);
    tc = wos_tcase("activity");
    tcase_add_test(tc, activity_hot_path_needs_no_shared_access);
    tcase_add_test(tc, activity_shared_between_processes);
    tcase_add_test(tc, activity_idle_ends_never_early);
    tcase_add_test(tc, activity_ended_marker);
    tcase_add_test(tc, activity_lost_record_reads_iat);
    tcase_add_test(tc, activity_keys_are_hashed);
    suite_add_tcase(su, tc);
    tc = wos_tcase("sessionlist");
    tcase_add_test(tc, sessionlist_parse_page);
    tcase_add_test(tc, sessionlist_parse_refusals);
    tcase_add_test(tc, sessionlist_json);
    tcase_add_test(tc, sessionlist_calls_refuse_without_config);
    suite_add_tcase(su, tc);
    return su;
}

WOS_TEST_MAIN(sessions_suite)
