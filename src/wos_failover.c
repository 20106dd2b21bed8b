/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_failover.c: the shared cache's failover policy (see wos_failover.h).
 * The health is two atomics of this process: down, and when to retry.
 */
#include <string.h>
#include <apr_atomic.h>
#include <apr_strings.h>

#include "wos_failover.h"

/* memcached reads a lifetime above 30 days as an absolute time. */
#define SHARED_MAX_LIFETIME apr_time_from_sec(30 * 86400)
#define REPORT_KEY "wos:shared-cache:"

struct wos_failover {
    wos_cache seam;                     /* what callers see; baton = this */
    const wos_cache *shared;
    const wos_cache *local;             /* or NULL */
    wos_failover_opts opts;
    volatile apr_uint32_t down;         /* 1 after a failure, until one succeeds */
    volatile apr_uint32_t retry_at;     /* seconds: try the shared store again */
};

static apr_time_t now(const wos_failover *f)
{
    return f->opts.now ? f->opts.now() : apr_time_now();
}

static apr_uint32_t now_sec(const wos_failover *f)
{
    return (apr_uint32_t)apr_time_sec(now(f));
}

static void note(const wos_failover *f, wos_failover_event ev, const char *op)
{
    if (f->opts.note)
        f->opts.note(f->opts.note_baton, ev, op);
}

/* Whether this process reports for the server: the local store's add elects one. */
static int first_reporter(const wos_failover *f, apr_pool_t *p, const char *what)
{
    apr_time_t until = now(f) + apr_time_from_sec(f->opts.report_sec);

    if (!f->local)
        return 1;                       /* no local store: each process reports */
    return f->local->add(f->local, p, apr_pstrcat(p, REPORT_KEY, what, NULL), "1", 1,
                         until) == WOS_OK;
}

int wos_failover_shared_usable(wos_failover *f)
{
    return !apr_atomic_read32(&f->down) || now_sec(f) >= apr_atomic_read32(&f->retry_at);
}

static void shared_failed(wos_failover *f, apr_pool_t *p, const char *op)
{
    apr_atomic_set32(&f->retry_at, now_sec(f) + (apr_uint32_t)f->opts.retry_sec);
    if (apr_atomic_xchg32(&f->down, 1))
        return;                         /* this process knew already */
    note(f, first_reporter(f, p, "down") ? WOS_FAILOVER_DOWN : WOS_FAILOVER_DOWN_AGAIN, op);
}

static void shared_worked(wos_failover *f, apr_pool_t *p, const char *op)
{
    if (!apr_atomic_read32(&f->down) || apr_atomic_cas32(&f->down, 0, 1) != 1)
        return;
    note(f, first_reporter(f, p, "up") ? WOS_FAILOVER_UP : WOS_FAILOVER_UP_AGAIN, op);
}

apr_time_t wos_failover_shared_expiry(apr_time_t expiry, apr_time_t now)
{
    apr_time_t left = expiry - now, secs;

    if (left <= 0)
        return 0;
    if (left > SHARED_MAX_LIFETIME)
        left = SHARED_MAX_LIFETIME;
    secs = (left + APR_USEC_PER_SEC - 1) / APR_USEC_PER_SEC;
    return now + apr_time_from_sec(secs) + apr_time_from_msec(500);
}

static apr_time_t shared_expiry(const wos_failover *f, apr_time_t expiry)
{
    return wos_failover_shared_expiry(expiry, now(f));
}

static wos_rv fo_get(const wos_cache *c, apr_pool_t *p, const char *key,
                     apr_size_t max_len, char **val, apr_size_t *len)
{
    wos_failover *f = c->baton;
    wos_rv rv = WOS_EUNAVAIL;

    if (wos_failover_shared_usable(f)) {
        rv = f->shared->get(f->shared, p, key, max_len, val, len);
        if (rv == WOS_OK)
            shared_worked(f, p, "read");
        else if (rv == WOS_EUNAVAIL)
            shared_failed(f, p, "read");
    }
    if (rv == WOS_EUNAVAIL && f->local)
        rv = f->local->get(f->local, p, key, max_len, val, len);
    return rv == WOS_OK ? WOS_OK : WOS_ENOKEY;
}

static wos_rv fo_set(const wos_cache *c, apr_pool_t *p, const char *key,
                     const char *val, apr_size_t len, apr_time_t expiry)
{
    wos_failover *f = c->baton;

    if (wos_failover_shared_usable(f)) {
        apr_time_t e = shared_expiry(f, expiry);
        if (!e)
            return WOS_OK;              /* expired already: nothing to keep */
        if (f->shared->set(f->shared, p, key, val, len, e) == WOS_OK) {
            shared_worked(f, p, "store");
            return WOS_OK;
        }
        shared_failed(f, p, "store");
    }
    if (!f->local)
        return WOS_EUNAVAIL;
    return f->local->set(f->local, p, key, val, len, expiry) == WOS_OK ? WOS_OK
                                                                       : WOS_EUNAVAIL;
}

/* When no store can take it, the caller proceeds alone rather than wait forever. */
static wos_rv fo_add(const wos_cache *c, apr_pool_t *p, const char *key,
                     const char *val, apr_size_t len, apr_time_t expiry)
{
    wos_failover *f = c->baton;
    wos_rv rv;

    if (wos_failover_shared_usable(f)) {
        apr_time_t e = shared_expiry(f, expiry);
        if (!e)
            return WOS_OK;
        rv = f->shared->add(f->shared, p, key, val, len, e);
        if (rv == WOS_OK || rv == WOS_EBUSY) {
            shared_worked(f, p, "add");
            return rv;
        }
        shared_failed(f, p, "add");
    }
    if (!f->local)
        return WOS_OK;
    return f->local->add(f->local, p, key, val, len, expiry) == WOS_EBUSY ? WOS_EBUSY : WOS_OK;
}

/* Removed where it may be: from the local store too when the shared one fails. */
static wos_rv fo_remove(const wos_cache *c, apr_pool_t *p, const char *key)
{
    wos_failover *f = c->baton;

    if (wos_failover_shared_usable(f)) {
        if (f->shared->remove(f->shared, p, key) != WOS_EUNAVAIL)
            return WOS_OK;
        shared_failed(f, p, "remove");
    }
    if (f->local)
        f->local->remove(f->local, p, key);
    return WOS_OK;
}

wos_rv wos_failover_create(apr_pool_t *p, const wos_cache *shared, const wos_cache *local,
                           const wos_failover_opts *opts, wos_failover **out)
{
    wos_failover *f;

    if (!shared || !opts || opts->retry_sec < 0 || opts->report_sec < 0)
        return WOS_EINVAL;
    f = apr_pcalloc(p, sizeof(*f));
    f->shared = shared;
    f->local = local;
    f->opts = *opts;
    f->seam.baton = f;
    f->seam.flags = WOS_CACHE_RACY_ADD;
    f->seam.get = fo_get;
    f->seam.set = fo_set;
    f->seam.add = fo_add;
    f->seam.remove = fo_remove;
    *out = f;
    return WOS_OK;
}

const wos_cache *wos_failover_cache(const wos_failover *f)
{
    return &f->seam;
}
