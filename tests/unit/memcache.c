/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memcache.c: the in-memory wos_cache of the unit tests (see memcache.h).
 * An APR hash of entries in the cache's own subpool, every access under one
 * mutex. Replaced values stay in the pool until it is destroyed: tests are
 * short, and this keeps the cache free of malloc bookkeeping.
 */
#include <string.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "memcache.h"

typedef struct entry {
    char *val;                 /* NUL-terminated copy, len bytes before the NUL */
    apr_size_t len;
    apr_time_t expiry;
} entry;

struct wos_memcache {
    wos_cache cache;           /* what the code under test sees; baton = this */
    apr_pool_t *pool;
    apr_thread_mutex_t *mu;
    apr_hash_t *entries;       /* key -> entry */
    wos_memcache_counts counts;
    unsigned failing;          /* WOS_MC_* bits */
    apr_time_t offset;         /* added to real time when judging expiry */
};

static wos_memcache *self(const wos_cache *c)
{
    return c->baton;
}

/* The entry under @p key if it has not expired (caller holds the lock). */
static entry *live(wos_memcache *m, const char *key)
{
    entry *e = apr_hash_get(m->entries, key, APR_HASH_KEY_STRING);

    if (e && e->expiry <= apr_time_now() + m->offset) {
        apr_hash_set(m->entries, key, APR_HASH_KEY_STRING, NULL);
        return NULL;
    }
    return e;
}

/* Store a copy (caller holds the lock). */
static void put(wos_memcache *m, const char *key, const char *val, apr_size_t len,
                apr_time_t expiry)
{
    entry *e = apr_palloc(m->pool, sizeof(*e));

    e->val = apr_palloc(m->pool, len + 1);
    memcpy(e->val, val, len);
    e->val[len] = '\0';
    e->len = len;
    e->expiry = expiry;
    apr_hash_set(m->entries, apr_pstrdup(m->pool, key), APR_HASH_KEY_STRING, e);
}

static wos_rv mc_get(const wos_cache *c, apr_pool_t *p, const char *key,
                     apr_size_t max_len, char **val, apr_size_t *len)
{
    wos_memcache *m = self(c);
    wos_rv rv = WOS_ENOKEY;
    entry *e;

    apr_thread_mutex_lock(m->mu);
    m->counts.gets++;
    if (m->failing & WOS_MC_GET)
        rv = m->failing & WOS_MC_DOWN ? WOS_EUNAVAIL : WOS_ENOKEY;
    else if ((e = live(m, key)) != NULL) {
        if (e->len > max_len) {
            rv = WOS_ETOOBIG;
        }
        else {
            *val = apr_pstrmemdup(p, e->val, e->len);
            *len = e->len;
            rv = WOS_OK;
        }
    }
    apr_thread_mutex_unlock(m->mu);
    return rv;
}

static wos_rv mc_set(const wos_cache *c, apr_pool_t *p, const char *key,
                     const char *val, apr_size_t len, apr_time_t expiry)
{
    wos_memcache *m = self(c);
    wos_rv rv = WOS_EUNAVAIL;

    (void)p;
    apr_thread_mutex_lock(m->mu);
    m->counts.sets++;
    if (!(m->failing & WOS_MC_SET)) {
        put(m, key, val, len, expiry);
        rv = WOS_OK;
    }
    apr_thread_mutex_unlock(m->mu);
    return rv;
}

static wos_rv mc_add(const wos_cache *c, apr_pool_t *p, const char *key,
                     const char *val, apr_size_t len, apr_time_t expiry)
{
    wos_memcache *m = self(c);
    wos_rv rv = WOS_EUNAVAIL;

    (void)p;
    apr_thread_mutex_lock(m->mu);
    m->counts.adds++;
    if (!(m->failing & WOS_MC_ADD)) {
        rv = WOS_EBUSY;
        if (!live(m, key)) {
            put(m, key, val, len, expiry);
            rv = WOS_OK;
        }
    }
    apr_thread_mutex_unlock(m->mu);
    return rv;
}

static wos_rv mc_remove(const wos_cache *c, apr_pool_t *p, const char *key)
{
    wos_memcache *m = self(c);
    wos_rv rv = WOS_EUNAVAIL;

    (void)p;
    apr_thread_mutex_lock(m->mu);
    m->counts.removes++;
    if (!(m->failing & WOS_MC_REMOVE)) {
        rv = live(m, key) ? WOS_OK : WOS_ENOKEY;
        apr_hash_set(m->entries, key, APR_HASH_KEY_STRING, NULL);
    }
    apr_thread_mutex_unlock(m->mu);
    return rv;
}

static wos_rv mc_remove_if(const wos_cache *c, apr_pool_t *p, const char *key,
                          const char *val, apr_size_t len)
{
    wos_memcache *m = self(c);
    wos_rv rv = WOS_EUNAVAIL;
    entry *e;

    (void)p;
    apr_thread_mutex_lock(m->mu);
    m->counts.remove_ifs++;
    if (!(m->failing & WOS_MC_REMOVE)) {
        rv = WOS_ENOKEY;
        if ((e = live(m, key)) != NULL) {
            rv = e->len == len && memcmp(e->val, val, len) == 0 ? WOS_OK : WOS_EBUSY;
            if (rv == WOS_OK)
                apr_hash_set(m->entries, key, APR_HASH_KEY_STRING, NULL);
        }
    }
    apr_thread_mutex_unlock(m->mu);
    return rv;
}

wos_memcache *wos_memcache_create(apr_pool_t *p)
{
    apr_pool_t *sub;
    wos_memcache *m;

    if (apr_pool_create(&sub, p) != APR_SUCCESS)
        return NULL;
    m = apr_pcalloc(sub, sizeof(*m));
    m->pool = sub;
    if (apr_thread_mutex_create(&m->mu, APR_THREAD_MUTEX_DEFAULT, sub) != APR_SUCCESS)
        return NULL;
    m->entries = apr_hash_make(sub);
    m->cache.baton = m;
    m->cache.get = mc_get;
    m->cache.set = mc_set;
    m->cache.add = mc_add;
    m->cache.remove = mc_remove;
    m->cache.remove_if = mc_remove_if;
    return m;
}

const wos_cache *wos_memcache_cache(wos_memcache *m)
{
    return &m->cache;
}

wos_memcache_counts wos_memcache_get_counts(wos_memcache *m)
{
    wos_memcache_counts c;

    apr_thread_mutex_lock(m->mu);
    c = m->counts;
    apr_thread_mutex_unlock(m->mu);
    return c;
}

void wos_memcache_reset_counts(wos_memcache *m)
{
    apr_thread_mutex_lock(m->mu);
    memset(&m->counts, 0, sizeof(m->counts));
    apr_thread_mutex_unlock(m->mu);
}

void wos_memcache_fail(wos_memcache *m, unsigned ops)
{
    apr_thread_mutex_lock(m->mu);
    m->failing = ops;
    apr_thread_mutex_unlock(m->mu);
}

int wos_memcache_evict(wos_memcache *m, const char *part)
{
    apr_hash_index_t *hi;
    int n = 0;

    apr_thread_mutex_lock(m->mu);
    for (hi = apr_hash_first(NULL, m->entries); hi; hi = apr_hash_next(hi)) {
        const char *key = apr_hash_this_key(hi);
        if (strstr(key, part)) {
            /* Deleting the current entry while iterating is allowed by APR. */
            apr_hash_set(m->entries, key, APR_HASH_KEY_STRING, NULL);
            n++;
        }
    }
    apr_thread_mutex_unlock(m->mu);
    return n;
}

void wos_memcache_advance(wos_memcache *m, int sec)
{
    apr_thread_mutex_lock(m->mu);
    m->offset += apr_time_from_sec(sec);
    apr_thread_mutex_unlock(m->mu);
}

/* Visit entries that have not expired, stopping when @p fn says so. */
static void each_live(wos_memcache *m, wos_memcache_visit_fn *fn, void *baton, int *count)
{
    apr_time_t now = apr_time_now() + m->offset;
    apr_hash_index_t *hi;

    for (hi = apr_hash_first(NULL, m->entries); hi; hi = apr_hash_next(hi)) {
        const entry *e = apr_hash_this_val(hi);
        if (e->expiry <= now)
            continue;
        if (count)
            (*count)++;
        if (fn && fn(baton, apr_hash_this_key(hi), e->val, e->len, e->expiry))
            break;
    }
}

int wos_memcache_size(wos_memcache *m)
{
    int n = 0;

    apr_thread_mutex_lock(m->mu);
    each_live(m, NULL, NULL, &n);
    apr_thread_mutex_unlock(m->mu);
    return n;
}

void wos_memcache_each(wos_memcache *m, wos_memcache_visit_fn *fn, void *baton)
{
    apr_thread_mutex_lock(m->mu);
    each_live(m, fn, baton, NULL);
    apr_thread_mutex_unlock(m->mu);
}
