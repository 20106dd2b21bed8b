/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_scache.h
 * @brief The verified-session table shared by all processes of a server.
 *
 * A fixed-size table laid out in one memory region (shared memory in the
 * server; any memory in tests): a header, a bucket array and equal slots,
 * each holding one entry: its 16-byte key, until when it holds, and a
 * compact payload (wos_idpack.h), never the cookie. Lookups find the bucket
 * from the key's first bytes and accept only the whole key. Least recently
 * used entries are evicted first; an expired entry is never returned.
 *
 * Writers run under the caller's lock (callbacks, so the core needs no httpd
 * mutex). Lookups take no lock: they read under a sequence count that every
 * change to a chain or a slot's contents makes odd, then even again, and
 * retry under the lock when it moved. The region holds no pointers, only
 * offsets and indexes, so each process may map it at its own address.
 * Untouched slots are never written before first use, so a large region
 * costs memory only as it fills.
 */
#ifndef WOS_SCACHE_H
#define WOS_SCACHE_H

#include "wos_common.h"
#include "wos_siphash.h"

#define WOS_SCACHE_KEY_LEN WOS_SIPHASH_TAG_LEN
/** The slot size a region gets unless told otherwise (header included). */
#define WOS_SCACHE_DEFAULT_ENTRY 768
#define WOS_SCACHE_MIN_ENTRY 128
#define WOS_SCACHE_MAX_ENTRY 65536
/** The fewest entries a region must hold to be worth having. */
#define WOS_SCACHE_MIN_ENTRIES 16
/**
 * How old an entry's last use must be for a read to count as a new one (and
 * move it to the front, under the lock). Eviction is least recently used to
 * within this many seconds; any other read takes no lock.
 */
#define WOS_SCACHE_RECENCY_SEC 30

typedef struct wos_scache wos_scache;

/** The caller's lock; lock() returns 0 when held (anything else: not used). */
typedef struct wos_scache_lock {
    int (*lock)(void *baton);
    void (*unlock)(void *baton);
    void *baton;
} wos_scache_lock;

typedef struct wos_scache_stats {
    apr_uint64_t bytes, entries, capacity, entry_size;
    apr_uint64_t hits, misses, stores, evictions, expired, too_large;
} wos_scache_stats;

/** Entries a region of @p size bytes holds with slots of @p entry_size (0: too small). */
apr_uint32_t wos_scache_capacity(apr_size_t size, apr_size_t entry_size);

/**
 * Lay out an empty table in @p base (once, before any process uses it).
 * @p secret keys the hash every process uses (wos_scache_secret()).
 * WOS_EINVAL when the region holds fewer than WOS_SCACHE_MIN_ENTRIES or
 * @p entry_size is out of range.
 */
wos_rv wos_scache_format(void *base, apr_size_t size, apr_size_t entry_size,
                         const unsigned char secret[WOS_SIPHASH_KEY_LEN]);

/** A handle on a formatted region (WOS_EINVAL: not one, or another size). */
wos_rv wos_scache_attach(apr_pool_t *p, void *base, apr_size_t size,
                         const wos_scache_lock *lock, wos_scache **out);

/** The key of the hash that names entries (the same in every process). */
const unsigned char *wos_scache_secret(const wos_scache *sc);

/** The largest payload a slot holds. */
apr_size_t wos_scache_payload_max(const wos_scache *sc);

/**
 * A copy (in @p p) of the payload stored under @p key when it holds at
 * @p now, and until when (@p valid_until may be NULL); WOS_ENOKEY otherwise
 * (an expired entry is freed on the way). Takes the lock only to free an
 * expired entry, to move one last used WOS_SCACHE_RECENCY_SEC ago to the
 * front, or when a writer changed the table meanwhile. WOS_EBUSY when the
 * lock failed.
 */
wos_rv wos_scache_get(wos_scache *sc, apr_pool_t *p, const unsigned char *key,
                      apr_int64_t now, void **data, apr_size_t *len,
                      apr_int64_t *valid_until);

/**
 * Store @p data under @p key until @p valid_until, replacing an entry of the
 * same key, taking a free slot or the least recently used one. WOS_ETOOBIG
 * when it does not fit a slot, WOS_EINVAL when already expired at @p now.
 */
wos_rv wos_scache_put(wos_scache *sc, const unsigned char *key, apr_int64_t valid_until,
                      const void *data, apr_size_t len, apr_int64_t now);

/** Count a payload the caller could not make small enough for a slot. */
void wos_scache_count_too_large(wos_scache *sc);

/** Counters and fill, read under the lock. */
wos_rv wos_scache_stats_get(wos_scache *sc, wos_scache_stats *st);

/**
 * Walk the whole table under the lock and check its links: every entry in
 * exactly one bucket chain and once in the LRU list, counts agreeing.
 * WOS_OK when consistent (for tests and debugging; O(capacity)).
 */
wos_rv wos_scache_verify(wos_scache *sc, apr_pool_t *p);

#endif
