/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_failover.h
 * @brief A shared store (redis, memcache) with a local stand-in while it fails.
 *
 * The policy of the module's shared cache, decided without httpd: every
 * operation goes to the shared store while its circuit breaker
 * (wos_breaker.h, state shared by the server's processes) is closed. A call
 * that fails opens it; while it is open, operations go to the local store (a
 * shmcb of this server, or nothing), so single flight holds at least among
 * the server's own processes, and one caller at a time probes the shared
 * store, whose success closes the breaker again. A failed call is made on
 * the local store too. The breaker tells exactly one caller of each change,
 * so outage and recovery are reported once per server.
 *
 * Both stores are wos_cache seams. They tell a failure by WOS_EUNAVAIL: any
 * other answer (absent, present, too big, bad key) says nothing about the
 * store's health. Without a breaker there is no stand-in: the shared store's
 * answers are the only ones.
 *
 * The result is itself a wos_cache, with the shared store's flags: a get
 * misses unless it found the entry, a set fails unless it stored, an add
 * answers WOS_EBUSY only when the key is held (when no store can take it the
 * caller proceeds alone rather than wait), a remove always succeeds.
 */
#ifndef WOS_FAILOVER_H
#define WOS_FAILOVER_H

#include "wos_breaker.h"
#include "wos_cache.h"

typedef struct wos_failover wos_failover;

/** What wos_failover_opts.note is told. */
typedef enum {
    WOS_FAILOVER_FAILED,        /**< a call to the shared store failed (each one) */
    WOS_FAILOVER_DOWN,          /**< ... and opened the breaker: once per outage and server */
    WOS_FAILOVER_UP,            /**< a probe succeeded: the shared store is used again */
    WOS_FAILOVER_LOCAL          /**< the breaker is open: an operation went to the local store */
} wos_failover_event;

typedef struct wos_failover_opts {
    wos_breaker *breaker;       /**< the shared store's breaker; NULL: no stand-in */
    long open_ms;               /**< how long the breaker stays open before a probe */
    /** Told of failures, outage and recovery; @p op is the operation ("read", ...). */
    void (*note)(void *baton, apr_pool_t *p, wos_failover_event ev, const char *op);
    void *note_baton;
    /** The clock (NULL: apr_time_now); tests move it. */
    apr_time_t (*now)(void);
} wos_failover_opts;

/**
 * The failover of @p shared to @p local (NULL: none; each process then acts
 * alone while @p shared fails), allocated in @p p. The stores, the breaker
 * and the options must live as long as @p p. Thread-safe.
 */
wos_rv wos_failover_create(apr_pool_t *p, const wos_cache *shared, const wos_cache *local,
                           const wos_failover_opts *opts, wos_failover **out);

/** The seam to hand to the core: get, set, add, remove and remove_if as above. */
const wos_cache *wos_failover_cache(const wos_failover *f);

/**
 * The expiry a network store is given for @p expiry at @p now: whole seconds
 * (at least one; the store subtracts its own clock, hence half a second more),
 * at most 30 days (memcached reads more as a date); 0 when already expired.
 */
apr_time_t wos_failover_shared_expiry(apr_time_t expiry, apr_time_t now);

#endif
