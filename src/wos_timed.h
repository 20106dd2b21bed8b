/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_timed.h
 * @brief Calls into a library that has no timeout of its own (mod_socache's
 *        memcache and redis providers on apr-util 1.6 block as long as the
 *        server says nothing), bounded by a deadline.
 *
 * The call runs on a helper thread while the caller waits at most the
 * deadline. A call that overruns is abandoned: the caller goes on, and the
 * thread frees the call's memory whenever the call returns. So the call must
 * touch only memory of its own: each has a pool (wos_timed_pool) that the
 * caller fills before and reads after a call that finished in time.
 */
#ifndef WOS_TIMED_H
#define WOS_TIMED_H

#include "wos_common.h"

/** Per process: how many abandoned calls still run. */
typedef struct wos_timer wos_timer;
typedef struct wos_timed wos_timed;

/** The call, run on the helper thread; @p pool is the call's own. */
typedef apr_status_t wos_timed_fn(void *arg, apr_pool_t *pool);

/**
 * A timer in @p p. Once @p max_abandoned calls are abandoned and still
 * running, further calls are refused at once (the store is hung: no thread
 * more is spent on it).
 */
wos_rv wos_timer_create(apr_pool_t *p, int max_abandoned, wos_timer **out);

/** Abandoned calls still running. */
int wos_timer_abandoned(wos_timer *t);

/** A call with a pool of its own (not a subpool: it may outlive the caller's). */
wos_rv wos_timed_create(wos_timer *t, wos_timed **out);

apr_pool_t *wos_timed_pool(wos_timed *c);

/**
 * Run fn(arg, pool) and wait at most @p timeout_ms. WOS_OK: it returned,
 * *status is its result, and the caller frees the call with
 * wos_timed_destroy once it has read the results. WOS_EUNAVAIL: it did not
 * return in time, or the timer refused it; the call is no longer the
 * caller's (do not touch it or its pool again).
 */
wos_rv wos_timed_run(wos_timed *c, wos_timed_fn *fn, void *arg, long timeout_ms,
                     apr_status_t *status);

void wos_timed_destroy(wos_timed *c);

#endif
