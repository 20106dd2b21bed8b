/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_failover.c: the shared cache's failover policy (see wos_failover.h).
 * Its health is the breaker's, which all processes of the server share;
 * this file only routes each operation and reads the outcome.
 */
#include <string.h>

#include "wos_failover.h"

/* memcached reads a lifetime above 30 days as an absolute time. */
#define SHARED_MAX_LIFETIME apr_time_from_sec(30 * 86400)

struct wos_failover {
    wos_cache seam;                     /* what callers see; baton = this */
    const wos_cache *shared;
    const wos_cache *local;             /* or NULL */
    wos_failover_opts opts;
};

/* One operation, whichever store carries it out. */
typedef enum { OP_GET, OP_SET, OP_ADD, OP_REMOVE, OP_REMOVE_IF } op_kind;
static const char *const OP_NAME[] = {"read", "store", "add", "remove", "remove"};

typedef struct op {
    op_kind kind;
    const char *key;
    const char *val;                    /* SET, ADD, REMOVE_IF */
    apr_size_t len;
    apr_time_t expiry;                  /* SET, ADD */
    apr_size_t max_len;                 /* GET */
    char *out;                          /* GET: the value */
    apr_size_t out_len;
} op;

static apr_time_t now(const wos_failover *f)
{
    return f->opts.now ? f->opts.now() : apr_time_now();
}

static void note(const wos_failover *f, apr_pool_t *p, wos_failover_event ev, op_kind kind)
{
    if (f->opts.note)
        f->opts.note(f->opts.note_baton, p, ev, OP_NAME[kind]);
}

static wos_rv call(const wos_cache *c, apr_pool_t *p, op *o)
{
    switch (o->kind) {
    case OP_GET:    return c->get(c, p, o->key, o->max_len, &o->out, &o->out_len);
    case OP_SET:    return c->set(c, p, o->key, o->val, o->len, o->expiry);
    case OP_ADD:    return c->add(c, p, o->key, o->val, o->len, o->expiry);
    case OP_REMOVE: return c->remove(c, p, o->key);
    default:
        return c->remove_if ? c->remove_if(c, p, o->key, o->val, o->len)
                            : c->remove(c, p, o->key);
    }
}

/* The local store, or what its absence means (a process acting alone). */
static wos_rv local_op(const wos_failover *f, apr_pool_t *p, op *o)
{
    static const wos_rv without[] = {
        [OP_GET] = WOS_ENOKEY, [OP_SET] = WOS_EUNAVAIL, [OP_ADD] = WOS_OK,
        [OP_REMOVE] = WOS_OK, [OP_REMOVE_IF] = WOS_OK,
    };

    return f->local ? call(f->local, p, o) : without[o->kind];
}

/* What a shared call's outcome means for the breaker and the reports. */
static void outcome(const wos_failover *f, apr_pool_t *p, wos_breaker_route route, op_kind kind,
                    int ok)
{
    wos_breaker_change ch = wos_breaker_report(f->opts.breaker, route, ok, now(f),
                                               f->opts.open_ms);

    if (!ok)
        note(f, p, WOS_FAILOVER_FAILED, kind);
    if (ch == WOS_BREAKER_OPENED)
        note(f, p, WOS_FAILOVER_DOWN, kind);
    else if (ch == WOS_BREAKER_CLOSED)
        note(f, p, WOS_FAILOVER_UP, kind);
}

/* The shared store while the breaker lets it, else (and after a failure) the local one. */
static wos_rv run(const wos_failover *f, apr_pool_t *p, op *o)
{
    wos_breaker_route route;
    wos_rv rv;

    if (!f->opts.breaker)
        return call(f->shared, p, o);
    route = wos_breaker_route_call(f->opts.breaker, now(f), f->opts.open_ms);
    if (route == WOS_BREAKER_LOCAL) {
        note(f, p, WOS_FAILOVER_LOCAL, o->kind);
        return local_op(f, p, o);
    }
    rv = call(f->shared, p, o);
    outcome(f, p, route, o->kind, rv != WOS_EUNAVAIL);
    return rv == WOS_EUNAVAIL ? local_op(f, p, o) : rv;
}

static wos_rv fo_get(const wos_cache *c, apr_pool_t *p, const char *key,
                     apr_size_t max_len, char **val, apr_size_t *len)
{
    op o = {OP_GET, key, NULL, 0, 0, max_len, NULL, 0};

    if (run(c->baton, p, &o) != WOS_OK)
        return WOS_ENOKEY;
    *val = o.out;
    *len = o.out_len;
    return WOS_OK;
}

static wos_rv fo_set(const wos_cache *c, apr_pool_t *p, const char *key,
                     const char *val, apr_size_t len, apr_time_t expiry)
{
    op o = {OP_SET, key, val, len, expiry, 0, NULL, 0};

    return run(c->baton, p, &o) == WOS_OK ? WOS_OK : WOS_EUNAVAIL;
}

/* When no store can take it, the caller proceeds alone rather than wait forever. */
static wos_rv fo_add(const wos_cache *c, apr_pool_t *p, const char *key,
                     const char *val, apr_size_t len, apr_time_t expiry)
{
    op o = {OP_ADD, key, val, len, expiry, 0, NULL, 0};

    return run(c->baton, p, &o) == WOS_EBUSY ? WOS_EBUSY : WOS_OK;
}

static wos_rv fo_remove(const wos_cache *c, apr_pool_t *p, const char *key)
{
    op o = {OP_REMOVE, key, NULL, 0, 0, 0, NULL, 0};

    run(c->baton, p, &o);
    return WOS_OK;
}

static wos_rv fo_remove_if(const wos_cache *c, apr_pool_t *p, const char *key,
                           const char *val, apr_size_t len)
{
    op o = {OP_REMOVE_IF, key, val, len, 0, 0, NULL, 0};

    return run(c->baton, p, &o);
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

wos_rv wos_failover_create(apr_pool_t *p, const wos_cache *shared, const wos_cache *local,
                           const wos_failover_opts *opts, wos_failover **out)
{
    wos_failover *f;

    if (!shared || !opts || (opts->breaker && opts->open_ms <= 0))
        return WOS_EINVAL;
    f = apr_pcalloc(p, sizeof(*f));
    f->shared = shared;
    f->local = local;
    f->opts = *opts;
    f->seam.baton = f;
    f->seam.flags = shared->flags;
    f->seam.get = fo_get;
    f->seam.set = fo_set;
    f->seam.add = fo_add;
    f->seam.remove = fo_remove;
    f->seam.remove_if = fo_remove_if;
    *out = f;
    return WOS_OK;
}

const wos_cache *wos_failover_cache(const wos_failover *f)
{
    return &f->seam;
}
