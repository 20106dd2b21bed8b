/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_breaker.h
 * @brief A circuit breaker for a store several servers share (the module's
 *        redis, or redis and memcache through mod_socache).
 *
 * After a call to the store fails or times out, the breaker opens: for
 * open_ms, callers leave the store alone and use their local store instead,
 * so no request waits on a dead store longer than one timeout. Then one
 * caller at a time probes it (every open_ms while it keeps failing); the
 * probe's success closes the breaker.
 *
 * The state is two 32-bit words changed with atomic operations only, so it
 * may live in memory shared by every process of a server: one failure spares
 * all of them the wait, and each change of state is reported to exactly one
 * caller, which logs it once for the whole server.
 */
#ifndef WOS_BREAKER_H
#define WOS_BREAKER_H

#include <apr_atomic.h>

#include "wos_common.h"

/** How long the breaker stays open before a probe (ms). */
#define WOS_BREAKER_OPEN_MS 5000

typedef struct wos_breaker {
    volatile apr_uint32_t open;       /**< 0 closed, 1 open */
    volatile apr_uint32_t retry_at;   /**< open: when the next probe may go (ms clock, wraps) */
} wos_breaker;

/** Where a call goes. */
typedef enum {
    WOS_BREAKER_SHARED,   /**< closed: the shared store */
    WOS_BREAKER_PROBE,    /**< open, and this caller probes the shared store */
    WOS_BREAKER_LOCAL     /**< open: the local store */
} wos_breaker_route;

/** What a report changed (seen by one caller only). */
typedef enum {
    WOS_BREAKER_SAME,
    WOS_BREAKER_OPENED,   /**< the store is considered down from now on */
    WOS_BREAKER_CLOSED    /**< a probe succeeded: the store is used again */
} wos_breaker_change;

/** A closed breaker (zeroed memory is one too). */
void wos_breaker_init(wos_breaker *b);

/** Where the call about to be made goes, at time @p now. */
wos_breaker_route wos_breaker_route_call(wos_breaker *b, apr_time_t now, long open_ms);

/**
 * The outcome of a call made on @p route: @p ok 0 when it failed or timed
 * out. A failure opens the breaker (or keeps it open for another open_ms);
 * only a probe's success closes it, so a call that began before an outage
 * and ends well cannot hide it.
 */
wos_breaker_change wos_breaker_report(wos_breaker *b, wos_breaker_route route, int ok,
                                      apr_time_t now, long open_ms);

/** Whether the breaker is open now. */
int wos_breaker_is_open(wos_breaker *b);

#endif
