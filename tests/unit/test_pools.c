/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pools.c: the per-process objects made at child start (the key store,
 * the verified-session cache) take nothing from the pool they were made in
 * once made. Request threads use each object under that object's own lock;
 * the parent pool (httpd's pchild) has none, so two objects allocating from
 * it at once corrupt it (a segfault under load, seen in CI).
 *
 * This binary interposes apr_palloc to count the allocations made from one
 * watched pool: apr_pcalloc (a macro here) and libapr's own helpers
 * (apr_pstrdup, the hash table) reach it through the same symbol.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* RTLD_NEXT */
#endif
#include <dlfcn.h>
#include <apr_atomic.h>
#include <apr_hash.h>

#include "testutil.h"
#include "testkeys.h"
#include "memcache.h"
#include "wos_claims.h"
#include "wos_keys.h"
#include "wos_vcache.h"

/* ---- counting allocations from one pool ----------------------------------- */

typedef void *alloc_fn(apr_pool_t *, apr_size_t);

/* Global by necessity: the interposed functions have no baton. */
static alloc_fn *real_palloc;
static apr_pool_t *volatile watched;
static volatile apr_uint32_t watched_allocs;

APR_DECLARE(void *) apr_palloc(apr_pool_t *p, apr_size_t size)
{
    if (!real_palloc)
        real_palloc = (alloc_fn *)dlsym(RTLD_NEXT, "apr_palloc");
    if (p == watched)
        apr_atomic_inc32(&watched_allocs);
    return real_palloc(p, size);
}

/* From now on, count what is taken from @p p. */
static void watch(apr_pool_t *p)
{
    apr_atomic_set32(&watched_allocs, 0);
    watched = p;
}

static unsigned taken(void)
{
    return apr_atomic_read32(&watched_allocs);
}

/* The interposition itself works: a plain allocation and libapr's own helpers count. */
START_TEST(the_counter_sees_allocations)
{
    apr_pool_t *p;
    apr_hash_t *h;

    ck_assert_int_eq(apr_pool_create(&p, tp), APR_SUCCESS);
    h = apr_hash_make(p);
    watch(p);
    (void)apr_palloc(p, 8);
    ck_assert_uint_eq(taken(), 1);
    (void)apr_pstrdup(p, "x");
    apr_hash_set(h, "k", APR_HASH_KEY_STRING, "v");
    ck_assert_uint_ge(taken(), 3);
    watch(NULL);
}
END_TEST

/* ---- the key store ---------------------------------------------------------- */

static wos_rv fake_fetch(apr_pool_t *p, const wos_api_cfg *c, const char **doc,
                         apr_size_t *len, const char **err)
{
    const char *d = wos_tk_jwks(p, wos_tk_rsa2048(), "k1");

    (void)c;
    (void)err;
    *doc = d;
    *len = strlen(d);
    return WOS_OK;
}

/* Clients met for the first time (a slot each), then met again. */
START_TEST(keystore_takes_nothing_from_its_parent)
{
    apr_pool_t *parent, *rp;
    wos_keystore *ks = NULL;
    wos_memcache *mc = wos_memcache_create(tp);
    int i;

    ck_assert_int_eq(apr_pool_create(&parent, tp), APR_SUCCESS);
    ck_assert_int_eq(wos_keystore_create(parent, &ks), WOS_OK);
    ck_assert_int_eq(apr_pool_create(&rp, tp), APR_SUCCESS);
    watch(parent);
    for (i = 0; i < 16; i++) {
        wos_api_cfg api = {0};
        wos_keys_ctx ctx = {0};
        const wos_jwks *set = NULL;
        const char *err = NULL;
        int fetched = 0;

        api.base_url = "https://api.invalid";
        api.client_id = apr_psprintf(rp, "client_%02d", i % 8);
        ctx.cache = wos_memcache_cache(mc);
        ctx.api = &api;
        ctx.ttl_sec = 3600;
        ctx.fetch = fake_fetch;
        ck_assert_int_eq(wos_keystore_get(ks, rp, &ctx, "k1", &set, &fetched, &err), WOS_OK);
        ck_assert_ptr_nonnull(wos_jwks_find(set, "k1"));
    }
    ck_assert_uint_eq(taken(), 0);
    watch(NULL);
    apr_pool_destroy(rp);      /* borrowers go before the store */
}
END_TEST

/* ---- the verified-session cache --------------------------------------------- */

static const int PASSWORDS = 1, ISSUERS = 2;
static const unsigned char HASH_KEY[WOS_SIPHASH_KEY_LEN] = "0123456789abcdef";
static const wos_vcache_settings FP = {"client_A", "https://api.example", 60, 60,
                                        &PASSWORDS, &ISSUERS, 0, HASH_KEY};

/* New keys past the table's first size, replacements and evictions. */
START_TEST(vcache_takes_nothing_from_its_parent)
{
    apr_pool_t *parent, *rp;
    wos_vcache *vc = NULL;
    apr_int64_t until = wos_now_sec() + 60;
    int i;

    ck_assert_int_eq(apr_pool_create(&parent, tp), APR_SUCCESS);
    ck_assert_int_eq(wos_vcache_create(parent, 64, &vc), WOS_OK);
    ck_assert_int_eq(apr_pool_create(&rp, tp), APR_SUCCESS);
    watch(parent);
    for (i = 0; i < 200; i++) {
        const char *cookie = apr_psprintf(rp, "cookie-%d", i % 150);
        unsigned char k[WOS_VCACHE_KEY_LEN];
        wos_session *s = apr_pcalloc(rp, sizeof(*s));
        wos_claims *c = apr_pcalloc(rp, sizeof(*c));
        wos_session *got_s;
        wos_claims *got_c;

        s->access_token = "at";
        s->refresh_token = "rt";
        s->user_id = c->sub = apr_psprintf(rp, "user_%d", i);
        c->exp = until;
        ck_assert_int_eq(wos_vcache_key(cookie, &FP, k), WOS_OK);
        wos_vcache_put_cookie(vc, k, cookie, &FP, until, s, c);
        ck_assert_int_eq(wos_vcache_get_cookie(vc, rp, cookie, strlen(cookie),
                                               &FP, wos_now_sec(), &got_s,
                                               &got_c, NULL), WOS_OK);
        ck_assert_str_eq(got_s->user_id, s->user_id);
    }
    ck_assert_int_eq(wos_vcache_count(vc), 64);
    ck_assert_uint_eq(taken(), 0);
    watch(NULL);
    apr_pool_destroy(rp);      /* held entries go before the cache */
}
END_TEST

static Suite *pools_suite(void)
{
    Suite *s = suite_create("pools");
    TCase *tc = wos_tcase("parent");

    tcase_add_test(tc, the_counter_sees_allocations);
    tcase_add_test(tc, keystore_takes_nothing_from_its_parent);
    tcase_add_test(tc, vcache_takes_nothing_from_its_parent);
    suite_add_tcase(s, tc);
    return s;
}

WOS_TEST_MAIN(pools_suite)
