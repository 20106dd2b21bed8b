/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_activity.h
 * @brief WorkOSInactivityTimeout: the last activity of each session, kept in
 *        the shared cache so that it holds across processes and servers.
 *
 * The shared entry ("wos:act:<sha256(session id)>") holds the time of the
 * session's last recorded request in milliseconds. It is written at most
 * once per WOS_ACTIVITY_FRACTION of the timeout by each process: a process
 * remembers (in a small table of its own, no shared access) what it last
 * wrote or read, and while that is more recent than the fraction it knows
 * the session is alive without asking the cache. The recorded time lags the
 * real last request by less than the fraction, so a session is ended when
 * the recorded time is at least timeout + fraction old: never before it has
 * been idle for the timeout, at most a fraction later.
 *
 * A missing entry (a new session, or one lost with the cache) is read as the
 * access token's iat: sign-ins and refreshes happen only on requests, so it
 * is a lower bound of the last activity. An ended session leaves a marker
 * for WOS_ACTIVITY_ENDED_TTL seconds, so that a copy of its cookie is refused
 * without ending (and revoking) it again.
 */
#ifndef WOS_ACTIVITY_H
#define WOS_ACTIVITY_H

#include "wos_cache.h"

/** The write interval is the timeout divided by this. */
#define WOS_ACTIVITY_FRACTION 10
/** How long an ended session's marker is kept (s). */
#define WOS_ACTIVITY_ENDED_TTL 86400
/** Session ids longer than this are not remembered per process (WorkOS's are ~34). */
#define WOS_ACTIVITY_SID_MAX 64

typedef struct wos_activity wos_activity;

/** A per-process table of @p slots sessions (a hash; colliding ids replace each other). */
wos_rv wos_activity_create(apr_pool_t *p, int slots, wos_activity **out);

typedef enum {
    WOS_ACTIVITY_ALIVE,    /**< used within the timeout: carry on */
    WOS_ACTIVITY_IDLE,     /**< idle for the timeout: end it now */
    WOS_ACTIVITY_ENDED     /**< ended for inactivity before: refuse, nothing more */
} wos_activity_verdict;

typedef struct wos_activity_in {
    const wos_cache *cache;
    wos_activity *memo;        /**< this process's table, or NULL */
    const char *sid;           /**< the session id (the token's sid) */
    apr_int64_t iat;           /**< the token's iat (s), 0 when absent */
    int timeout;               /**< WorkOSInactivityTimeout (s), > 0 */
    apr_time_t now;
} wos_activity_in;

/**
 * Record a request of the session and say whether it may go on.
 * *idle_for (may be NULL) receives how long the session had been idle by
 * what is recorded (for the log). *wrote (may be NULL) is 1 when this call
 * wrote the shared entry.
 */
wos_activity_verdict wos_activity_touch(apr_pool_t *p, const wos_activity_in *in,
                                        apr_time_t *idle_for, int *wrote);

/** Mark the session ended (shared marker; forgotten in this process's table). */
void wos_activity_end(apr_pool_t *p, const wos_activity_in *in);

#endif
