/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_failover.h
 * @brief A shared store (redis, memcache) with a local stand-in while it fails.
 *
 * The policy of the module's shared cache, decided without httpd: every
 * operation goes to the shared store while it answers. When it fails, this
 * process leaves it alone for @c retry_sec and uses the local store (a shmcb
 * of this server, or nothing), so single flight holds at least among the
 * server's own processes; then it tries the shared store again, and the first
 * answer brings it back. Outage and recovery are reported once per server
 * and @c report_sec (the local store's add elects the reporter).
 *
 * Both stores are wos_cache seams. A get or remove tells a failure by
 * WOS_EUNAVAIL: absent (WOS_ENOKEY), too big (WOS_ETOOBIG) and bad key
 * (WOS_EINVAL) say nothing about the store's health. A set fails unless it
 * stored (WOS_OK), an add unless it stored or found the key (WOS_EBUSY).
 * The result is itself a wos_cache (WOS_CACHE_RACY_ADD), so another layer
 * (a circuit breaker, a second failover) can wrap it, or sit between it and
 * the shared store by offering the same answers.
 */
#ifndef WOS_FAILOVER_H
#define WOS_FAILOVER_H

#include "wos_cache.h"

typedef struct wos_failover wos_failover;

/** What wos_failover_opts.note is told. */
typedef enum {
    WOS_FAILOVER_DOWN,          /**< the shared store failed: first report in this server */
    WOS_FAILOVER_DOWN_AGAIN,    /**< ... and in this process, reported elsewhere already */
    WOS_FAILOVER_UP,            /**< it answers again: first report in this server */
    WOS_FAILOVER_UP_AGAIN       /**< ... and in this process, reported elsewhere already */
} wos_failover_event;

typedef struct wos_failover_opts {
    int retry_sec;              /**< leave a failed shared store alone this long */
    int report_sec;             /**< report outage and recovery once per server this span */
    /** Told of outage and recovery; @p op is the operation that saw it ("read", ...). */
    void (*note)(void *baton, wos_failover_event ev, const char *op);
    void *note_baton;
    /** The clock (NULL: apr_time_now); tests move it. */
    apr_time_t (*now)(void);
} wos_failover_opts;

/**
 * The failover of @p shared to @p local (NULL: none; each process then acts
 * alone while @p shared fails), allocated in @p p. The stores and options
 * must live as long as @p p. Thread-safe; its health is per process.
 */
wos_rv wos_failover_create(apr_pool_t *p, const wos_cache *shared, const wos_cache *local,
                           const wos_failover_opts *opts, wos_failover **out);

/** The seam to hand to the core: get, set, add and remove with the policy above. */
const wos_cache *wos_failover_cache(const wos_failover *f);

/** Whether the next operation goes to the shared store (not within a retry wait). */
int wos_failover_shared_usable(wos_failover *f);

/**
 * The expiry a network store is given for @p expiry at @p now: whole seconds
 * (at least one; the store subtracts its own clock, hence half a second more),
 * at most 30 days (memcached reads more as a date); 0 when already expired.
 */
apr_time_t wos_failover_shared_expiry(apr_time_t expiry, apr_time_t now);

#endif
