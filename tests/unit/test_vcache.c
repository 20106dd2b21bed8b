/* SPDX-License-Identifier: Apache-2.0 */
/* test_vcache.c: the per-process verified-session cache (src/wos_vcache.c). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* RTLD_NEXT */
#endif
#include <dlfcn.h>
#include <apr_atomic.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>

#include "testutil.h"
#include "wos_claims.h"
#include "wos_vcache.h"

static const char *var_of(const apr_array_header_t *vars, const char *env)
{
    int i;

    for (i = 0; i < vars->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(vars, i, wos_identity_var).env, env) == 0)
            return APR_ARRAY_IDX(vars, i, wos_identity_var).value;
    }
    return NULL;
}

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

/*
 * Locks taken on one cache's mutex are counted: the next mutex made once
 * watch_next_mutex() was called is the one watched (a cache makes one).
 * Global by necessity: the interposed functions have no baton.
 */
typedef apr_status_t lock_fn(apr_thread_mutex_t *);
typedef apr_status_t make_fn(apr_thread_mutex_t **, unsigned int, apr_pool_t *);
static lock_fn *real_lock;
static make_fn *real_make;
static apr_thread_mutex_t *volatile watched_mutex;
static volatile int watch_next;
static volatile apr_uint32_t locks_taken;

APR_DECLARE(apr_status_t) apr_thread_mutex_create(apr_thread_mutex_t **mu, unsigned int flags,
                                                  apr_pool_t *p)
{
    apr_status_t rv;

    if (!real_make)
        real_make = (make_fn *)dlsym(RTLD_NEXT, "apr_thread_mutex_create");
    rv = real_make(mu, flags, p);
    if (rv == APR_SUCCESS && watch_next) {
        watch_next = 0;
        watched_mutex = *mu;
    }
    return rv;
}

APR_DECLARE(apr_status_t) apr_thread_mutex_lock(apr_thread_mutex_t *mu)
{
    if (!real_lock)
        real_lock = (lock_fn *)dlsym(RTLD_NEXT, "apr_thread_mutex_lock");
    if (mu == watched_mutex)
        apr_atomic_inc32(&locks_taken);
    return real_lock(mu);
}

/* Settings a verification is made under; OTHER differs from FP in one number only. */
static const int PASSWORDS = 1, ISSUERS = 2;
static const unsigned char HASH_KEY[WOS_SIPHASH_KEY_LEN] = "0123456789abcdef";
static const wos_vcache_settings FP = {"client_A", "https://api.example", 60, 60,
                                        &PASSWORDS, &ISSUERS, 0, HASH_KEY};
static const wos_vcache_settings OTHER = {"client_A", "https://api.example", 61, 60,
                                           &PASSWORDS, &ISSUERS, 0, HASH_KEY};

static void put(wos_vcache *vc, const char *cookie, const char *user, apr_int64_t until)
{
    unsigned char k[WOS_VCACHE_KEY_LEN];
    apr_pool_t *p;

    apr_pool_create(&p, tp);
    ck_assert_int_eq(wos_vcache_key(cookie, &FP, k), WOS_OK);
    wos_vcache_put(vc, k, until, session(p, user), claims(p, user, until));
    apr_pool_destroy(p);   /* the cache must have its own copies */
}

static int hit(wos_vcache *vc, const char *cookie, const wos_vcache_settings *fp,
               const char **user)
{
    unsigned char k[WOS_VCACHE_KEY_LEN];
    wos_session *s;
    wos_claims *c;

    ck_assert_int_eq(wos_vcache_key(cookie, fp, k), WOS_OK);
    if (wos_vcache_get(vc, tp, k, wos_now_sec(), &s, &c, NULL) != WOS_OK)
        return 0;
    if (user)
        *user = s->user_id;
    ck_assert_str_eq(c->sub, s->user_id);
    ck_assert_int_eq(c->permissions->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(c->permissions, 1, const char *), "posts:write");
    ck_assert_ptr_null(s->user);
    return 1;
}

START_TEST(hit_returns_the_entry)
{
    wos_vcache *vc;
    const char *user = NULL;

    ck_assert_int_eq(wos_vcache_create(tp, 8, &vc), WOS_OK);
    put(vc, "cookie-a", "user_a", wos_now_sec() + 60);
    ck_assert(hit(vc, "cookie-a", &FP, &user));
    ck_assert_str_eq(user, "user_a");
    ck_assert_int_eq(wos_vcache_count(vc), 1);
}
END_TEST

START_TEST(other_cookie_or_settings_miss)
{
    wos_vcache *vc;

    wos_vcache_create(tp, 8, &vc);
    put(vc, "cookie-a", "user_a", wos_now_sec() + 60);
    ck_assert(!hit(vc, "cookie-b", &FP, NULL));
    ck_assert(!hit(vc, "cookie-a ", &FP, NULL));
    ck_assert(!hit(vc, "cookie-a", &OTHER, NULL));
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
    ck_assert(hit(vc, "soon", &FP, NULL));
    apr_sleep(apr_time_from_msec(3100));
    ck_assert(!hit(vc, "soon", &FP, NULL));
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
    ck_assert(hit(vc, "c1", &FP, NULL));       /* c2 is now the least recent */
    put(vc, "c4", "u4", until);
    ck_assert_int_eq(wos_vcache_count(vc), 3);
    ck_assert(!hit(vc, "c2", &FP, NULL));
    ck_assert(hit(vc, "c1", &FP, NULL));
    ck_assert(hit(vc, "c3", &FP, NULL));
    ck_assert(hit(vc, "c4", &FP, NULL));
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
    ck_assert(hit(vc, "c", &FP, &user));
    ck_assert_str_eq(user, "new");
}
END_TEST

/* A reader's entry outlives its eviction until the reader's pool ends. */
START_TEST(held_entries_outlive_eviction)
{
    unsigned char k[WOS_VCACHE_KEY_LEN];
    const apr_array_header_t *ids = NULL;
    wos_vcache *vc;
    wos_session *s;
    wos_claims *c;
    apr_pool_t *rp;

    wos_vcache_create(tp, 1, &vc);
    put(vc, "c1", "u1", wos_now_sec() + 60);
    apr_pool_create(&rp, tp);
    ck_assert_int_eq(wos_vcache_key("c1", &FP, k), WOS_OK);
    ck_assert_int_eq(wos_vcache_get(vc, rp, k, wos_now_sec(), &s, &c, &ids), WOS_OK);
    put(vc, "c2", "u2", wos_now_sec() + 60);            /* evicts c1 */
    put(vc, "c1", "u1-again", wos_now_sec() + 60);      /* and c2, and replaces c1 */
    ck_assert_int_eq(wos_vcache_count(vc), 1);
    /* Still the first entry's strings (ASan and valgrind watch these reads). */
    ck_assert_str_eq(s->user_id, "u1");
    ck_assert_str_eq(c->sub, "u1");
    ck_assert_str_eq(APR_ARRAY_IDX(c->permissions, 0, const char *), "posts:read");
    ck_assert_ptr_nonnull(ids);
    apr_pool_destroy(rp);                                /* frees it */
    ck_assert(hit(vc, "c1", &FP, NULL));
}
END_TEST

/* The identity is made once, when cached, without the token. */
START_TEST(identity_comes_ready_made)
{
    unsigned char k[WOS_VCACHE_KEY_LEN];
    const apr_array_header_t *ids = NULL, *direct;
    const wos_identity_var *v, *d;
    wos_vcache *vc;
    wos_session *s;
    wos_claims *c;
    int i;

    wos_vcache_create(tp, 4, &vc);
    put(vc, "c1", "u1", wos_now_sec() + 60);
    ck_assert_int_eq(wos_vcache_key("c1", &FP, k), WOS_OK);
    ck_assert_int_eq(wos_vcache_get(vc, tp, k, wos_now_sec(), &s, &c, &ids), WOS_OK);
    direct = wos_identity_vars(tp, s, c, 0);
    ck_assert_int_eq(ids->nelts, direct->nelts);
    for (i = 0; i < ids->nelts; i++) {
        v = &APR_ARRAY_IDX(ids, i, wos_identity_var);
        d = &APR_ARRAY_IDX(direct, i, wos_identity_var);
        ck_assert_str_eq(v->env, d->env);
        ck_assert_str_eq(v->header, d->header);
        ck_assert_str_eq(v->value, d->value);
    }
    ck_assert_ptr_null(var_of(ids, "WORKOS_ACCESS_TOKEN"));
    ck_assert_str_eq(var_of(ids, "WORKOS_USER_EMAIL"), "u1@example.com");
}
END_TEST

/*
 * A hit takes the lock once: the reference it takes for the request's pool
 * is let go without it (every worker thread of a process asks this cache on
 * every request). A cookie that shares only its last bytes with an entry is
 * a miss and leaves the entry as it was.
 */
START_TEST(a_hit_takes_the_lock_once)
{
    static const char cookie[] = "Fe26.2**one-session*...*0123456789abcdefghijklmnop";
    static const char twin[] = "Fe26.2**two-session*...*0123456789abcdefghijklmnop";
    unsigned char k[WOS_VCACHE_KEY_LEN];
    wos_vcache *vc;
    wos_session *s;
    wos_claims *c;
    apr_pool_t *rp, *p;
    int i;

    watch_next = 1;
    wos_vcache_create(tp, 4, &vc);
    ck_assert_ptr_nonnull(watched_mutex);
    apr_pool_create(&p, tp);
    ck_assert_int_eq(wos_vcache_key(cookie, &FP, k), WOS_OK);
    wos_vcache_put_cookie(vc, k, cookie, &FP, wos_now_sec() + 60, session(p, "u1"),
                          claims(p, "u1", wos_now_sec() + 60));
    for (i = 0; i < 3; i++) {
        apr_atomic_set32(&locks_taken, 0);
        apr_pool_create(&rp, tp);
        ck_assert_int_eq(wos_vcache_get_cookie(vc, rp, cookie, strlen(cookie),
                                               &FP, wos_now_sec(), &s, &c,
                                               NULL), WOS_OK);
        ck_assert_int_eq(wos_vcache_get_cookie(vc, rp, twin, strlen(twin),
                                               &FP, wos_now_sec(), &s, &c,
                                               NULL), WOS_ENOKEY);
        ck_assert_int_eq(wos_vcache_get(vc, rp, k, wos_now_sec(), &s, &c, NULL), WOS_OK);
        apr_pool_destroy(rp);
        ck_assert_uint_eq(apr_atomic_read32(&locks_taken), 3);
        ck_assert_str_eq(s->user_id, "u1");      /* still the index's (ASan watches) */
    }
    apr_pool_destroy(p);
    ck_assert_int_eq(wos_vcache_count(vc), 1);
}
END_TEST

/* Reads by key at a given second, asserting a hit. */
static void read_at(wos_vcache *vc, const char *cookie, apr_int64_t now)
{
    unsigned char k[WOS_VCACHE_KEY_LEN];
    wos_session *s;
    wos_claims *c;

    ck_assert_int_eq(wos_vcache_key(cookie, &FP, k), WOS_OK);
    ck_assert_int_eq(wos_vcache_get(vc, tp, k, now, &s, &c, NULL), WOS_OK);
    ck_assert_str_eq(s->user_id, cookie);
}

/*
 * Recency to within a second: an entry moves to the front on its first read
 * in a second, not on every read (a move writes to two other entries, which
 * with many sessions are out of the CPU's caches). The second read of "a"
 * below leaves it behind "b", so "a" is the one evicted; a read in the next
 * second moves it again.
 */
START_TEST(recency_moves_once_a_second)
{
    apr_int64_t now = wos_now_sec();
    wos_vcache *vc;

    wos_vcache_create(tp, 2, &vc);
    put(vc, "a", "a", now + 60);
    put(vc, "b", "b", now + 60);
    read_at(vc, "a", now);
    read_at(vc, "b", now);
    read_at(vc, "a", now);                  /* moved this second already */
    put(vc, "c", "c", now + 60);
    ck_assert(!hit(vc, "a", &FP, NULL));
    ck_assert(hit(vc, "b", &FP, NULL));

    wos_vcache_create(tp, 2, &vc);
    put(vc, "a", "a", now + 60);
    put(vc, "b", "b", now + 60);
    read_at(vc, "a", now);
    read_at(vc, "b", now);
    read_at(vc, "a", now + 1);              /* a new second: to the front */
    put(vc, "c", "c", now + 60);
    ck_assert(hit(vc, "a", &FP, NULL));
    ck_assert(!hit(vc, "b", &FP, NULL));
}
END_TEST

/* A decision is reused only under the same settings: each one apart, NULL as "". */
START_TEST(settings_same_compares_every_field)
{
    static const int OTHER_LIST = 3;
    wos_vcache_settings a = FP, b = FP, none = {NULL, NULL, 0, 0, NULL, NULL};
    char copy[32];

    /* Equal strings at other addresses (another <Location>'s) are the same. */
    strcpy(copy, FP.client_id);
    b.client_id = copy;
    ck_assert(wos_vcache_settings_same(&a, &b));
    ck_assert(!wos_vcache_settings_same(&FP, &OTHER));
    b = FP; b.client_id = "client_B";
    ck_assert(!wos_vcache_settings_same(&a, &b));
    b = FP; b.base_url = "https://api.example/";
    ck_assert(!wos_vcache_settings_same(&a, &b));
    b = FP; b.refresh_before = 0;
    ck_assert(!wos_vcache_settings_same(&a, &b));
    b = FP; b.passwords = &OTHER_LIST;
    ck_assert(!wos_vcache_settings_same(&a, &b));
    b = FP; b.issuers = NULL;
    ck_assert(!wos_vcache_settings_same(&a, &b));
    b = none; b.client_id = "";
    ck_assert(wos_vcache_settings_same(&none, &b));
}
END_TEST

/* The connection memo: the same key as hashing, and hashing whenever anything differs. */
START_TEST(memo_gives_the_hashed_key)
{
    unsigned char k[WOS_VCACHE_KEY_LEN], want[WOS_VCACHE_KEY_LEN];
    wos_vcache_memo m;
    wos_vcache *vc;
    apr_pool_t *cp;
    char *big;

    memset(&m, 0, sizeof(m));
    wos_vcache_create(tp, 4, &vc);
    apr_pool_create(&cp, tp);
    ck_assert_int_eq(wos_vcache_key_memo(&m, cp, "cookie-a", &FP, k), WOS_OK);
    ck_assert_int_eq(wos_vcache_key("cookie-a", &FP, want), WOS_OK);
    ck_assert_mem_eq(k, want, sizeof(k));
    /* The second time comes from the memo: a marked key proves it. */
    m.key[0] ^= 0x5a;
    ck_assert_int_eq(wos_vcache_key_memo(&m, cp, "cookie-a", &FP, k), WOS_OK);
    ck_assert_int_eq(k[0], want[0] ^ 0x5a);
    /* One byte of the cookie, any one setting, or the split between the
     * strings differs: hashed anew (the remembered key is marked, so a wrong
     * hit would show), and a key of its own. */
    {
        wos_vcache_settings v[8];
        unsigned char base[WOS_VCACHE_KEY_LEN];
        int i, j;

        for (i = 0; i < 8; i++)
            v[i] = FP;
        v[0].client_id = "client_B";
        v[1].base_url = "https://api.example/";
        v[2].skew = 61;
        v[3].refresh_before = 59;
        v[4].passwords = &ISSUERS;
        v[5].issuers = &PASSWORDS;
        v[6].client_id = "client_Ah";             /* one byte moved across the split */
        v[6].base_url = "ttps://api.example";
        v[7].client_id = "client_A";              /* equal strings elsewhere: a hit */
        ck_assert_int_eq(wos_vcache_key_memo(&m, cp, "cookie-b", &FP, k), WOS_OK);
        ck_assert_int_eq(wos_vcache_key("cookie-b", &FP, base), WOS_OK);
        ck_assert_mem_eq(k, base, sizeof(k));
        for (i = 0; i < 7; i++) {
            ck_assert_int_eq(wos_vcache_key_memo(&m, cp, "cookie-b", &FP, k), WOS_OK);
            m.key[0] ^= 0x5a;
            ck_assert_int_eq(wos_vcache_key_memo(&m, cp, "cookie-b", &v[i], k), WOS_OK);
            ck_assert_int_eq(wos_vcache_key("cookie-b", &v[i], want), WOS_OK);
            ck_assert_mem_eq(k, want, sizeof(k));
            ck_assert_mem_ne(want, base, sizeof(want));
            for (j = 0; j < i; j++) {
                unsigned char other[WOS_VCACHE_KEY_LEN];
                ck_assert_int_eq(wos_vcache_key("cookie-b", &v[j], other), WOS_OK);
                ck_assert_mem_ne(want, other, sizeof(want));
            }
        }
        ck_assert_int_eq(wos_vcache_key_memo(&m, cp, "cookie-b", &FP, k), WOS_OK);
        m.key[0] ^= 0x5a;
        ck_assert_int_eq(wos_vcache_key_memo(&m, cp, "cookie-b", &v[7], k), WOS_OK);
        ck_assert_int_eq(k[0], base[0] ^ 0x5a);
    }
    ck_assert_int_eq(wos_vcache_key_memo(&m, cp, "qcookie-b", &OTHER, k), WOS_OK);
    ck_assert_int_eq(wos_vcache_key("qcookie-b", &OTHER, want), WOS_OK);
    ck_assert_mem_eq(k, want, sizeof(k));
    /* No memo at all still gives keys. */
    ck_assert_int_eq(wos_vcache_key_memo(NULL, NULL, "cookie-a", &FP, k), WOS_OK);
    ck_assert_int_eq(wos_vcache_key("cookie-a", &FP, want), WOS_OK);
    ck_assert_mem_eq(k, want, sizeof(k));
    /* Too long to remember: hashed every time, and the memo stays usable. */
    big = apr_palloc(tp, WOS_VCACHE_MEMO_MAX + 1);
    memset(big, 'x', WOS_VCACHE_MEMO_MAX);
    big[WOS_VCACHE_MEMO_MAX] = '\0';
    ck_assert_int_eq(wos_vcache_key_memo(&m, cp, big, &FP, k), WOS_OK);
    ck_assert_int_eq(wos_vcache_key(big, &FP, want), WOS_OK);
    ck_assert_mem_eq(k, want, sizeof(k));
    ck_assert_uint_le(m.cap, 2 * WOS_VCACHE_MEMO_MAX);
    ck_assert_int_eq(wos_vcache_key_memo(&m, cp, "qcookie-b", &OTHER, k), WOS_OK);
    ck_assert_int_eq(wos_vcache_key("qcookie-b", &OTHER, want), WOS_OK);
    ck_assert_mem_eq(k, want, sizeof(k));
    apr_pool_destroy(cp);
}
END_TEST

/* A client changing its cookie's size on every request costs memory only as it doubles. */
START_TEST(memo_memory_is_bounded)
{
    unsigned char k[WOS_VCACHE_KEY_LEN];
    wos_vcache_memo m;
    wos_vcache *vc;
    apr_pool_t *cp;
    char *cookie = apr_palloc(tp, 40001);
    apr_size_t n;
    int allocs = 0;
    char *last = NULL;

    memset(&m, 0, sizeof(m));
    memset(cookie, 'c', 40000);
    wos_vcache_create(tp, 4, &vc);
    apr_pool_create(&cp, tp);
    for (n = 1; n <= 40000; n += 97) {
        cookie[n] = '\0';
        ck_assert_int_eq(wos_vcache_key_memo(&m, cp, cookie, &FP, k), WOS_OK);
        cookie[n] = 'c';
        if (m.input != last)
            allocs++;
        last = m.input;
    }
    ck_assert_int_le(allocs, 8);       /* 1 KB, 2, 4, ... 64 KB */
    ck_assert_uint_le(m.cap, 2 * WOS_VCACHE_MEMO_MAX);
    apr_pool_destroy(cp);
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
        if (wos_vcache_key(cookie, &FP, k) != WOS_OK) {
            w->nokey++;     /* checked by the main thread: Check asserts stay there */
            continue;
        }
        if (wos_vcache_get(w->vc, p, k, wos_now_sec(), &s, &c, NULL) == WOS_OK) {
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

    tcase_add_test(tc, hit_returns_the_entry);
    tcase_add_test(tc, other_cookie_or_settings_miss);
    tcase_add_test(tc, expired_entries_are_never_served);
    tcase_add_test(tc, bounded_least_recently_used_first);
    tcase_add_test(tc, replacing_a_key_keeps_one_entry);
    tcase_add_test(tc, held_entries_outlive_eviction);
    tcase_add_test(tc, a_hit_takes_the_lock_once);
    tcase_add_test(tc, recency_moves_once_a_second);
    tcase_add_test(tc, identity_comes_ready_made);
    tcase_add_test(tc, settings_same_compares_every_field);
    tcase_add_test(tc, memo_gives_the_hashed_key);
    tcase_add_test(tc, memo_memory_is_bounded);
    tcase_add_test(tc, threads_share_it_safely);
    suite_add_tcase(s, tc);
    return s;
}

WOS_TEST_MAIN(vcache_suite)
