/**
 * @file wos_ratelimit.h
 * @brief A fixed-window call counter in the shared cache, per subject.
 *
 * Each window holds @p limit slots, each an entry added with the cache's
 * add (atomic under shmcb's mutex): a caller that adds one has a call, a
 * caller that finds all taken has none. So it holds across worker processes
 * (and, with redis or memcache, across servers, where a racy add can let
 * one or two more through). Subjects are hashed: keys are never secrets.
 */
#ifndef WOS_RATELIMIT_H
#define WOS_RATELIMIT_H

#include "wos_cache.h"

/** Largest limit accepted (each call costs up to this many cache adds). */
#define WOS_RATELIMIT_MAX 100

/**
 * Take one of @p limit calls for @p subject in the @p window-second window
 * that @p now (seconds) falls in. WOS_OK: taken (also when the cache cannot
 * be written: an outage of our own store does not stop users); WOS_ELIMIT:
 * none left, *retry_after = seconds until the window ends (at least 1).
 * @p limit 0 (or less) means no limit.
 */
wos_rv wos_ratelimit_take(const wos_cache *c, apr_pool_t *p, const char *subject,
                          int limit, int window, apr_int64_t now, long *retry_after);

#endif
