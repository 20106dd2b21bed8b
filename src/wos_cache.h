/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_cache.h
 * @brief The seam to the shared cache (the module's own redis store or
 *        mod_socache in the module, a table in tests).
 *
 * Entries are shared by all worker processes (and, with redis or memcache,
 * by several servers). Keys are never secrets: callers hash anything
 * sensitive before using it as a key.
 */
#ifndef WOS_CACHE_H
#define WOS_CACHE_H

#include "wos_common.h"

typedef struct wos_cache wos_cache;

/**
 * add() is a check followed by a store (redis, memcache through mod_socache,
 * which has no atomic add), so two callers can both succeed in the window
 * between them. The module's own redis store adds atomically (SET NX).
 */
#define WOS_CACHE_RACY_ADD 0x01

struct wos_cache {
    void *baton;
    unsigned flags;            /**< WOS_CACHE_* bits; 0 for an atomic add */
    /** Copy the value of @p key into @p p. WOS_ENOKEY when absent or expired. */
    wos_rv (*get)(const wos_cache *c, apr_pool_t *p, const char *key,
                  apr_size_t max_len, char **val, apr_size_t *len);
    /** Store (replace) with an absolute expiry time. */
    wos_rv (*set)(const wos_cache *c, apr_pool_t *p, const char *key,
                  const char *val, apr_size_t len, apr_time_t expiry);
    /**
     * Store only if absent: WOS_OK if this call stored it, WOS_EBUSY if
     * another holder has it. Atomic where the provider is guarded by a
     * mutex (shmcb) and on the module's redis store (SET NX PX); across
     * servers through mod_socache (redis, memcache) a small window remains.
     */
    wos_rv (*add)(const wos_cache *c, apr_pool_t *p, const char *key,
                  const char *val, apr_size_t len, apr_time_t expiry);
    wos_rv (*remove)(const wos_cache *c, apr_pool_t *p, const char *key);
    /**
     * Optional (NULL: the caller compares and removes in two steps). Remove
     * @p key only while it holds @p val, in one step, so a lock is released
     * only by its holder: WOS_OK removed, WOS_EBUSY another value is there,
     * WOS_ENOKEY absent, WOS_EUNAVAIL the store failed.
     */
    wos_rv (*remove_if)(const wos_cache *c, apr_pool_t *p, const char *key,
                        const char *val, apr_size_t len);
};

#endif
