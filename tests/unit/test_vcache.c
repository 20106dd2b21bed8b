/* test_vcache.c: the per-process verified-session cache (src/wos_vcache.c). */
#include <apr_thread_proc.h>

#include "testutil.h"
#include "wos_vcache.h"

static wos_session *session(apr_pool_t *p, const char *user)
{
    wos_session *s = apr_pcalloc(p, sizeof(*s));
    s->access_token = "at";
    s->refresh_token = "rt";
    s->user_id = user;
    s->user_email = apr_pstrcat(p, user, "@example.com", NULL);
    s->user_email_verified = 1;
    return s;
}

static wos_claims *claims(apr_pool_t *p, const char *user, apr_int64_t exp)
{
    wos_claims *c = apr_pcalloc(p, sizeof(*c));
    c->sub = user;
    c->role = "admin";
    c->exp = exp;
    c->roles = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(c->roles, const char *) = "admin";
    c->permissions = apr_array_make(p, 2, sizeof(const char *));
    APR_ARRAY_PUSH(c->permissions, const char *) = "posts:read";
    APR_ARRAY_PUSH(c->permissions, const char *) = "posts:write";
    c->entitlements = apr_array_make(p, 0, sizeof(const char *));
    c->feature_flags = apr_array_make(p, 0, sizeof(const char *));
    return c;
}

static void put(wos_vcache *vc, const char *cookie, const char *user, apr_int64_t until)
{
    unsigned char k[WOS_VCACHE_KEY_LEN];
    apr_pool_t *p;

    apr_pool_create(&p, tp);
    ck_assert_int_eq(wos_vcache_key(vc, cookie, "fp", k), WOS_OK);
    wos_vcache_put(vc, k, until, session(p, user), claims(p, user, until));
    apr_pool_destroy(p);   /* the cache must have its own copies */
}

static int hit(wos_vcache *vc, const char *cookie, const char *fp, const char **user)
{
    unsigned char k[WOS_VCACHE_KEY_LEN];
    wos_session *s;
    wos_claims *c;

    ck_assert_int_eq(wos_vcache_key(vc, cookie, fp, k), WOS_OK);
    if (wos_vcache_get(vc, tp, k, wos_now_sec(), &s, &c) != WOS_OK)
        return 0;
    if (user)
        *user = s->user_id;
    ck_assert_str_eq(c->sub, s->user_id);
    ck_assert_int_eq(c->permissions->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(c->permissions, 1, const char *), "posts:write");
    ck_assert_ptr_null(s->user);
    return 1;
}

START_TEST(hit_returns_copies)
{
    wos_vcache *vc;
    const char *user = NULL;

    ck_assert_int_eq(wos_vcache_create(tp, 8, &vc), WOS_OK);
    put(vc, "cookie-a", "user_a", wos_now_sec() + 60);
    ck_assert(hit(vc, "cookie-a", "fp", &user));
    ck_assert_str_eq(user, "user_a");
    ck_assert_int_eq(wos_vcache_count(vc), 1);
}
END_TEST

START_TEST(other_cookie_or_settings_miss)
{
    wos_vcache *vc;

    wos_vcache_create(tp, 8, &vc);
    put(vc, "cookie-a", "user_a", wos_now_sec() + 60);
    ck_assert(!hit(vc, "cookie-b", "fp", NULL));
    ck_assert(!hit(vc, "cookie-a ", "fp", NULL));
    ck_assert(!hit(vc, "cookie-a", "other settings", NULL));
}
END_TEST

START_TEST(expired_entries_are_never_served)
{
    wos_vcache *vc;

    wos_vcache_create(tp, 8, &vc);
    put(vc, "past", "user_a", wos_now_sec() - 1);
    put(vc, "now", "user_b", wos_now_sec());
    ck_assert_int_eq(wos_vcache_count(vc), 0);
    put(vc, "soon", "user_c", wos_now_sec() + 3);
    ck_assert(hit(vc, "soon", "fp", NULL));
    apr_sleep(apr_time_from_msec(3100));
    ck_assert(!hit(vc, "soon", "fp", NULL));
    ck_assert_int_eq(wos_vcache_count(vc), 0);
}
END_TEST

START_TEST(bounded_least_recently_used_first)
{
    wos_vcache *vc;
    apr_int64_t until = wos_now_sec() + 60;

    wos_vcache_create(tp, 3, &vc);
    put(vc, "c1", "u1", until);
    put(vc, "c2", "u2", until);
    put(vc, "c3", "u3", until);
    ck_assert(hit(vc, "c1", "fp", NULL));       /* c2 is now the least recent */
    put(vc, "c4", "u4", until);
    ck_assert_int_eq(wos_vcache_count(vc), 3);
    ck_assert(!hit(vc, "c2", "fp", NULL));
    ck_assert(hit(vc, "c1", "fp", NULL));
    ck_assert(hit(vc, "c3", "fp", NULL));
    ck_assert(hit(vc, "c4", "fp", NULL));
}
END_TEST

START_TEST(replacing_a_key_keeps_one_entry)
{
    wos_vcache *vc;
    const char *user;

    wos_vcache_create(tp, 4, &vc);
    put(vc, "c", "old", wos_now_sec() + 60);
    put(vc, "c", "new", wos_now_sec() + 60);
    ck_assert_int_eq(wos_vcache_count(vc), 1);
    ck_assert(hit(vc, "c", "fp", &user));
    ck_assert_str_eq(user, "new");
}
END_TEST

typedef struct { wos_vcache *vc; int id; int hits; int nokey; } worker;

static void *APR_THREAD_FUNC run_worker(apr_thread_t *t, void *data)
{
    worker *w = data;
    apr_pool_t *p;
    int i;

    apr_pool_create_unmanaged_ex(&p, NULL, NULL);
    for (i = 0; i < 2000; i++) {
        char cookie[32];
        unsigned char k[WOS_VCACHE_KEY_LEN];
        wos_session *s;
        wos_claims *c;

        apr_snprintf(cookie, sizeof(cookie), "c%d", (i * 7 + w->id) % 40);
        if (wos_vcache_key(w->vc, cookie, "fp", k) != WOS_OK) {
            w->nokey++;     /* checked by the main thread: Check asserts stay there */
            continue;
        }
        if (wos_vcache_get(w->vc, p, k, wos_now_sec(), &s, &c) == WOS_OK) {
            if (strcmp(s->user_id, cookie) == 0 && strcmp(c->sub, cookie) == 0)
                w->hits++;
        }
        else {
            wos_vcache_put(w->vc, k, wos_now_sec() + 60, session(p, cookie),
                           claims(p, cookie, wos_now_sec() + 60));
        }
        if (i % 100 == 0)
            apr_pool_clear(p);
    }
    apr_pool_destroy(p);
    (void)t;    /* return, not apr_thread_exit: ASan misreads pthread_exit's unwinding */
    return NULL;
}

START_TEST(threads_share_it_safely)
{
    wos_vcache *vc;
    apr_thread_t *th[8];
    worker w[8];
    int i, hits = 0;

    wos_vcache_create(tp, 16, &vc);    /* smaller than the 40 keys: constant eviction */
    for (i = 0; i < 8; i++) {
        w[i].vc = vc;
        w[i].id = i;
        w[i].hits = 0;
        w[i].nokey = 0;
        ck_assert_int_eq(apr_thread_create(&th[i], NULL, run_worker, &w[i], tp), APR_SUCCESS);
    }
    for (i = 0; i < 8; i++) {
        apr_status_t st;
        apr_thread_join(&st, th[i]);
        hits += w[i].hits;
        ck_assert_int_eq(w[i].nokey, 0);
    }
    ck_assert_int_le(wos_vcache_count(vc), 16);
    ck_assert_int_gt(hits, 0);
}
END_TEST

static Suite *vcache_suite(void)
{
    Suite *s = suite_create("vcache");
    TCase *tc = wos_tcase("vcache");

    tcase_add_test(tc, hit_returns_copies);
    tcase_add_test(tc, other_cookie_or_settings_miss);
    tcase_add_test(tc, expired_entries_are_never_served);
    tcase_add_test(tc, bounded_least_recently_used_first);
    tcase_add_test(tc, replacing_a_key_keeps_one_entry);
    tcase_add_test(tc, threads_share_it_safely);
    suite_add_tcase(s, tc);
    return s;
}

WOS_TEST_MAIN(vcache_suite)
