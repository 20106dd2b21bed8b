/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memcache.h: an in-memory wos_cache for the unit tests, standing in for the
 * shared socache of the module. Entries have an absolute expiry, a mutex
 * makes it safe to share between threads (each thread playing a worker
 * process), counters record how it was used (add and remove_if are atomic,
 * as on the module's redis store), and a test can make operations
 * fail, evict entries, move its clock forward, or inspect every entry.
 */
#ifndef WOS_MEMCACHE_H
#define WOS_MEMCACHE_H

#include "wos_cache.h"

typedef struct wos_memcache wos_memcache;

/** How often each operation was called (also the failed calls). */
typedef struct wos_memcache_counts {
    int gets, sets, adds, removes, remove_ifs;
} wos_memcache_counts;

/** Operations that wos_memcache_fail can make fail. */
#define WOS_MC_GET    0x01
#define WOS_MC_SET    0x02
#define WOS_MC_ADD    0x04
#define WOS_MC_REMOVE 0x08   /**< remove and remove_if */
/** With the bits above: a failing get answers WOS_EUNAVAIL (a store that is down). */
#define WOS_MC_DOWN   0x10

/** A cache living in a subpool of @p p (destroyed with it); NULL on failure. */
wos_memcache *wos_memcache_create(apr_pool_t *p);

/** The wos_cache interface to hand to the code under test. */
const wos_cache *wos_memcache_cache(wos_memcache *m);

/** A snapshot of the counters. */
wos_memcache_counts wos_memcache_get_counts(wos_memcache *m);

/** Set every counter back to zero. */
void wos_memcache_reset_counts(wos_memcache *m);

/**
 * Make the operations in @p ops (WOS_MC_* bits; 0 = none) fail: get answers
 * WOS_ENOKEY, the others WOS_EUNAVAIL, and nothing changes.
 */
void wos_memcache_fail(wos_memcache *m, unsigned ops);

/** Drop every entry whose key contains @p part ("" drops all); returns how many. */
int wos_memcache_evict(wos_memcache *m, const char *part);

/**
 * Move the cache's clock @p sec seconds ahead of real time, so that entries
 * whose expiry falls within that span look expired (cumulative).
 */
void wos_memcache_advance(wos_memcache *m, int sec);

/** Number of entries that are not expired. */
int wos_memcache_size(wos_memcache *m);

/** Called once per live entry by wos_memcache_each; return non-zero to stop. */
typedef int wos_memcache_visit_fn(void *baton, const char *key, const char *val,
                                  apr_size_t len, apr_time_t expiry);

/** Visit every live entry (under the lock: @p fn must not call the cache). */
void wos_memcache_each(wos_memcache *m, wos_memcache_visit_fn *fn, void *baton);

#endif
