/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_workos_cache.c: the shared cache, offered to src/ as a wos_cache.
 * One instance for the whole server (made in post_config, reopened in each
 * child; signing keys are carried across restarts). The store is either the
 * module's own redis (WorkOSCache redis:..., src/wos_redis.c) or a mod_socache
 * provider, guarded by a registered global mutex when the provider is not
 * multi-process safe (shmcb).
 *
 * A store several servers share (the module's redis; redis or memcache
 * through mod_socache) is used through src/wos_failover.c: behind a circuit
 * breaker (src/wos_breaker.c) whose state all processes of the server share,
 * a call that fails or runs out of WorkOSCacheTimeout opens it, and for
 * WOS_BREAKER_OPEN_MS every process uses a local shmcb instead, then one
 * request probes the store. mod_socache's network providers have no timeout
 * of their own, so their calls run on a helper thread bounded by the timeout
 * (src/wos_timed.c). Their add is a check and a store, which src/ is told
 * with WOS_CACHE_RACY_ADD; the module's redis adds atomically. This file
 * makes each store a wos_cache, and logs and counts what the failover says.
 */
#include <apr_atomic.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <ap_provider.h>
#include <ap_mpm.h>
#include <http_core.h>
#include <mpm_common.h>
#include <util_mutex.h>

#include "mod_auth_workos.h"
#include "wos_algs.h"
#include "wos_breaker.h"
#include "wos_failover.h"
#include "wos_redis.h"
#include "wos_timed.h"

/* Bounded calls a process leaves hanging on a hung store before it stops trying. */
#define WOS_CACHE_MAX_HUNG 4
#define BREAKER_SHM_KEY "mod_auth_workos:breaker"
/* The latest shared-store failure of a request, for the failover's notes (pool userdata). */
#define WHY_KEY "mod_auth_workos:cache-why"

typedef struct store {
    const char *name;                   /* the provider's name */
    const ap_socache_provider_t *provider;
    ap_socache_instance_t *inst;
    apr_global_mutex_t *mutex;          /* only for providers that are not MP-safe */
} store;

/* The stores of one cache: one per server, shared by its virtual hosts. */
typedef struct wos_cache_state cache_state;

/* One store as a wos_cache: its answers as they are (WOS_EUNAVAIL: it failed). */
typedef struct op op;
typedef wos_rv op_runner(cache_state *cs, const struct store *st, apr_pool_t *p, op *o);
typedef struct door {
    wos_cache seam;                     /* baton: this door */
    cache_state *cs;
    const store *st;
    op_runner *run;
} door;

struct wos_cache_state {
    server_rec *s;
    store primary;                      /* a mod_socache provider (not with redis_cfg) */
    int shared;                         /* a network store several servers may share */
    const char *spec;                   /* as configured, for log lines */
    store local;                        /* shmcb while the shared store is down, or none */
    wos_redis_cfg *redis_cfg;           /* WorkOSCache redis:, else NULL */
    wos_redis *redis;                   /* this process's connections to it */
    wos_breaker *breaker;               /* shared stores: in memory all processes share */
    wos_timer *timer;                   /* this process's bounded mod_socache calls */
    long timeout_ms;                    /* WorkOSCacheTimeout */
    door shared_door, local_door;       /* the stores as wos_caches */
    wos_failover *failover;             /* the seam src/ is given */
    cache_state *keys;                  /* the signing keys' own store, or NULL */
};

/* One cache operation, whichever store carries it out. */
typedef enum { OP_GET, OP_SET, OP_ADD, OP_REMOVE, OP_REMOVE_IF } op_kind;

struct op {
    op_kind kind;
    const char *key;
    const char *val;                    /* SET, ADD, REMOVE_IF */
    apr_size_t len;
    apr_time_t expiry;                  /* SET, ADD */
    apr_size_t max_len;                 /* GET */
    char *out;                          /* GET: the value (NUL-terminated) */
    apr_size_t out_len;
    const char *why;                    /* a failure, for the log */
};

static void lock(const store *st)
{
    if (st->mutex)
        apr_global_mutex_lock(st->mutex);
}

static void unlock(const store *st)
{
    if (st->mutex)
        apr_global_mutex_unlock(st->mutex);
}

/* The provider calls (caller holds the store's mutex). */
static apr_status_t st_get(const store *st, server_rec *s, apr_pool_t *p, const char *key,
                           unsigned char *buf, unsigned int *n)
{
    return st->provider->retrieve(st->inst, s, (const unsigned char *)key,
                                  (unsigned int)strlen(key), buf, n, p);
}

static apr_status_t st_put(const store *st, server_rec *s, apr_pool_t *p, const char *key,
                           const char *val, apr_size_t len, apr_time_t expiry)
{
    return st->provider->store(st->inst, s, (const unsigned char *)key,
                               (unsigned int)strlen(key), expiry,
                               (unsigned char *)val, (unsigned int)len, p);
}

static apr_status_t st_remove(const store *st, server_rec *s, apr_pool_t *p, const char *key)
{
    return st->provider->remove(st->inst, s, (const unsigned char *)key,
                                (unsigned int)strlen(key), p);
}

/* Store if absent: APR_SUCCESS (stored), APR_EEXIST, or the failure. */
static apr_status_t st_add(const store *st, server_rec *s, apr_pool_t *p, const char *key,
                           const char *val, apr_size_t len, apr_time_t expiry)
{
    unsigned char probe[256];
    unsigned int n = sizeof(probe);
    apr_status_t rv = st_get(st, s, p, key, probe, &n);

    if (rv == APR_SUCCESS || rv == APR_ENOMEM || rv == APR_ENOSPC)
        return APR_EEXIST;              /* present (maybe larger than the probe) */
    return rv == APR_NOTFOUND ? st_put(st, s, p, key, val, len, expiry) : rv;
}

/* Remove only while it holds @p val (atomic under the mutex, not across servers). */
static apr_status_t st_remove_if(const store *st, server_rec *s, apr_pool_t *p,
                                 const char *key, const char *val, apr_size_t len)
{
    unsigned char probe[256];
    unsigned int n = sizeof(probe);
    apr_status_t rv = st_get(st, s, p, key, probe, &n);

    if (rv == APR_ENOMEM || rv == APR_ENOSPC || (rv == APR_SUCCESS
                                                 && (n != len || memcmp(probe, val, len))))
        return APR_EEXIST;              /* someone else's value */
    return rv == APR_SUCCESS ? st_remove(st, s, p, key) : rv;
}

/* Answers that say nothing about the store's health: absent, too big, bad key. */
static int benign(apr_status_t st)
{
    return st == APR_SUCCESS || st == APR_NOTFOUND || st == APR_ENOMEM
        || st == APR_ENOSPC || st == APR_EINVAL || st == APR_EEXIST;
}

static wos_rv from_apr(apr_status_t st)
{
    return st == APR_SUCCESS  ? WOS_OK
         : st == APR_NOTFOUND ? WOS_ENOKEY
         : st == APR_EEXIST   ? WOS_EBUSY
         : benign(st)         ? WOS_ETOOBIG
                              : WOS_EUNAVAIL;
}

/* One operation on a mod_socache store, under its mutex; the value into @p p. */
static wos_rv store_op(const store *st, server_rec *s, apr_pool_t *p, op *o)
{
    unsigned int n = (unsigned int)o->max_len;
    unsigned char *buf = NULL;
    apr_status_t rv = APR_EGENERAL;

    if (o->kind == OP_GET)
        buf = apr_palloc(p, o->max_len + 1);
    lock(st);
    switch (o->kind) {
    case OP_GET:       rv = st_get(st, s, p, o->key, buf, &n); break;
    case OP_SET:       rv = st_put(st, s, p, o->key, o->val, o->len, o->expiry); break;
    case OP_ADD:       rv = st_add(st, s, p, o->key, o->val, o->len, o->expiry); break;
    case OP_REMOVE:    rv = st_remove(st, s, p, o->key); break;
    case OP_REMOVE_IF: rv = st_remove_if(st, s, p, o->key, o->val, o->len); break;
    }
    unlock(st);
    if (rv == APR_SUCCESS && buf) {
        buf[n] = '\0';
        o->out = (char *)buf;
        o->out_len = n;
    }
    if (!benign(rv))
        o->why = apr_psprintf(p, "%pm", &rv);
    return from_apr(rv);
}

/* A mod_socache call on a helper thread: everything it touches is the call's own. */
typedef struct sc_job {
    const store *st;
    server_rec *s;
    op o;
    wos_rv rv;
} sc_job;

static apr_status_t sc_run(void *arg, apr_pool_t *pool)
{
    sc_job *j = arg;

    j->rv = store_op(j->st, j->s, pool, &j->o);
    return APR_SUCCESS;
}

/* A mod_socache network store, bounded by WorkOSCacheTimeout. */
static wos_rv socache_op(cache_state *cs, apr_pool_t *p, op *o)
{
    wos_timed *call;
    apr_status_t unused;
    sc_job *j;
    wos_rv rv;

    if (!cs->timer || wos_timed_create(cs->timer, &call) != WOS_OK) {
        o->why = "cannot start a bounded call";
        return WOS_EUNAVAIL;
    }
    j = apr_pcalloc(wos_timed_pool(call), sizeof(*j));
    j->st = &cs->primary;
    j->s = cs->s;
    j->o = *o;
    j->o.key = apr_pstrdup(wos_timed_pool(call), o->key);
    j->o.val = o->val ? apr_pmemdup(wos_timed_pool(call), o->val, o->len) : NULL;
    if (wos_timed_run(call, sc_run, j, cs->timeout_ms, &unused) != WOS_OK) {
        o->why = apr_psprintf(p, "no answer within %ld ms", cs->timeout_ms);
        return WOS_EUNAVAIL;
    }
    rv = j->rv;
    o->why = j->o.why ? apr_pstrdup(p, j->o.why) : NULL;
    if (rv == WOS_OK && j->o.out) {
        o->out = apr_pstrmemdup(p, j->o.out, j->o.out_len);
        o->out_len = j->o.out_len;
    }
    wos_timed_destroy(call);
    return rv;
}

/* The module's redis store. */
static wos_rv redis_op(cache_state *cs, apr_pool_t *p, op *o)
{
    const wos_cache *c;
    wos_rv rv = WOS_EUNAVAIL;

    if (!cs->redis) {
        o->why = "no store in this process";
        return rv;
    }
    c = wos_redis_cache(cs->redis);
    switch (o->kind) {
    case OP_GET:       rv = c->get(c, p, o->key, o->max_len, &o->out, &o->out_len); break;
    case OP_SET:       rv = c->set(c, p, o->key, o->val, o->len, o->expiry); break;
    case OP_ADD:       rv = c->add(c, p, o->key, o->val, o->len, o->expiry); break;
    case OP_REMOVE:    rv = c->remove(c, p, o->key); break;
    case OP_REMOVE_IF: rv = c->remove_if(c, p, o->key, o->val, o->len); break;
    }
    if (rv == WOS_EUNAVAIL)
        o->why = wos_redis_last_error(cs->redis, p);
    return rv;
}

/* A mod_socache network store: whole seconds, bounded by WorkOSCacheTimeout. */
static wos_rv run_socache(cache_state *cs, const store *st, apr_pool_t *p, op *o)
{
    op sc = *o;
    wos_rv rv;

    (void)st;
    if (sc.kind == OP_SET || sc.kind == OP_ADD) {
        if (!(sc.expiry = wos_failover_shared_expiry(o->expiry, apr_time_now())))
            return WOS_OK;              /* expired already: nothing to keep */
    }
    rv = socache_op(cs, p, &sc);
    o->out = sc.out;
    o->out_len = sc.out_len;
    o->why = sc.why;
    return rv;
}

static wos_rv run_redis(cache_state *cs, const store *st, apr_pool_t *p, op *o)
{
    (void)st;
    return redis_op(cs, p, o);
}

/* A process-local store (shmcb): used alone, or as the shared store's stand-in. */
static wos_rv run_local(cache_state *cs, const store *st, apr_pool_t *p, op *o)
{
    wos_rv rv = store_op(st, cs->s, p, o);

    if (o->kind == OP_SET && rv != WOS_OK && !cs->shared)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, cs->s,
                     "WOS00401: shared cache (%s) could not store an entry of %lu bytes",
                     st->name, (unsigned long)o->len);
    return rv;
}

static wos_rv door_run(const wos_cache *c, apr_pool_t *p, op *o)
{
    const door *d = c->baton;
    wos_rv rv = d->run(d->cs, d->st, p, o);

    if (rv == WOS_EUNAVAIL)
        apr_pool_userdata_setn(o->why ? o->why : "unknown", WHY_KEY, NULL, p);
    return rv;
}

static wos_rv d_get(const wos_cache *c, apr_pool_t *p, const char *key,
                    apr_size_t max_len, char **val, apr_size_t *len)
{
    op o = {OP_GET, key, NULL, 0, 0, max_len, NULL, 0, NULL};
    wos_rv rv = door_run(c, p, &o);

    if (rv == WOS_OK) {
        *val = o.out;
        *len = o.out_len;
    }
    return rv;
}

static wos_rv d_set(const wos_cache *c, apr_pool_t *p, const char *key,
                    const char *val, apr_size_t len, apr_time_t expiry)
{
    op o = {OP_SET, key, val, len, expiry, 0, NULL, 0, NULL};

    return door_run(c, p, &o);
}

static wos_rv d_add(const wos_cache *c, apr_pool_t *p, const char *key,
                    const char *val, apr_size_t len, apr_time_t expiry)
{
    op o = {OP_ADD, key, val, len, expiry, 0, NULL, 0, NULL};

    return door_run(c, p, &o);
}

static wos_rv d_remove(const wos_cache *c, apr_pool_t *p, const char *key)
{
    op o = {OP_REMOVE, key, NULL, 0, 0, 0, NULL, 0, NULL};

    return door_run(c, p, &o);
}

static wos_rv d_remove_if(const wos_cache *c, apr_pool_t *p, const char *key,
                          const char *val, apr_size_t len)
{
    op o = {OP_REMOVE_IF, key, val, len, 0, 0, NULL, 0, NULL};

    return door_run(c, p, &o);
}

static const wos_cache *door_open(door *d, cache_state *cs, const store *st, op_runner *run,
                                  unsigned flags)
{
    memset(d, 0, sizeof(*d));
    d->cs = cs;
    d->st = st;
    d->run = run;
    d->seam.baton = d;
    d->seam.flags = flags;
    d->seam.get = d_get;
    d->seam.set = d_set;
    d->seam.add = d_add;
    d->seam.remove = d_remove;
    d->seam.remove_if = d_remove_if;
    return &d->seam;
}

/* The failover's reports: each failure at debug, outage and recovery once per server. */
static void failover_note(void *baton, apr_pool_t *p, wos_failover_event ev, const char *op)
{
    cache_state *cs = baton;
    void *why = NULL;

    apr_pool_userdata_get(&why, WHY_KEY, p);
    switch (ev) {
    case WOS_FAILOVER_FAILED:
        wos_stat_inc(cs->s, WOS_STAT_CACHE_FAILURES);
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, cs->s,
                     "WOS01801: shared cache %s: %s failed: %s", cs->spec, op,
                     why ? (const char *)why : "unknown");
        break;
    case WOS_FAILOVER_DOWN:
        wos_stat_inc(cs->s, WOS_STAT_CACHE_OUTAGES);
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, cs->s,
                     "WOS00801: shared cache %s failed (%s: %s); %s until it answers again "
                     "(tried again every %d s)", cs->spec, op,
                     why ? (const char *)why : "unknown",
                     cs->local.inst ? "this server uses its own local cache "
                                      "(single flight among its own processes only)"
                                    : "each process acts alone",
                     WOS_BREAKER_OPEN_MS / 1000);
        break;
    case WOS_FAILOVER_UP:
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, cs->s,
                     "WOS00803: shared cache %s answers again; using it", cs->spec);
        break;
    case WOS_FAILOVER_LOCAL:
        wos_stat_inc(cs->s, WOS_STAT_CACHE_LOCAL);
        break;
    }
}

int wos_cache_pre_config(apr_pool_t *pconf)
{
    return ap_mutex_register(pconf, WOS_MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0) == APR_SUCCESS
               ? OK : 500;
}

static apr_status_t cache_destroy(void *data)
{
    cache_state *cs = data;

    if (cs->local.inst)
        cs->local.provider->destroy(cs->local.inst, cs->s);
    cs->local.inst = NULL;
    if (cs->primary.inst)
        cs->primary.provider->destroy(cs->primary.inst, cs->s);
    cs->primary.inst = NULL;
    return APR_SUCCESS;
}

/*
 * A process-local store (shmcb) goes with its configuration, so a graceful
 * restart would leave the new children without signing keys, which matters
 * when WorkOS cannot be reached just then. The signing-key documents (which
 * carry their own expiry) are copied out when the configuration is cleared
 * and stored into the next one. Only plain memory is kept in the process
 * pool in between: this module's code is unloaded and reloaded meanwhile.
 * Network stores keep their data by themselves.
 */
#define CARRY_USERDATA "mod_auth_workos:carry"

typedef struct {
    const char *key;
    apr_size_t klen;
    const char *val;
    apr_size_t vlen;
    apr_time_t expiry;
} carried;

typedef struct {
    apr_pool_t *pool;           /* a subpool of the process pool, destroyed once used */
    apr_array_header_t *items;  /* carried */
} carry;

static apr_status_t carry_one(ap_socache_instance_t *inst, server_rec *s, void *baton,
                              const unsigned char *id, unsigned int idlen,
                              const unsigned char *data, unsigned int datalen,
                              apr_pool_t *p)
{
    carry *c = baton;
    carried *it;
    apr_time_t expiry;

    (void)inst;
    (void)s;
    (void)p;
    if (!wos_keys_is_doc_key((const char *)id, idlen)
        || wos_keys_doc_parse((const char *)data, datalen, &expiry, NULL) != WOS_OK
        || expiry <= apr_time_now())
        return APR_SUCCESS;
    it = apr_array_push(c->items);
    it->key = apr_pstrmemdup(c->pool, (const char *)id, idlen);
    it->klen = idlen;
    it->val = apr_pmemdup(c->pool, data, datalen);
    it->vlen = datalen;
    it->expiry = expiry;
    return APR_SUCCESS;
}

/* pconf cleanup, run before the store's own (registered after it): copy out. */
static apr_status_t carry_out(void *data)
{
    cache_state *cs = data;
    apr_pool_t *pp;
    carry *c;

    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_EXITING || cs->shared
        || !cs->primary.inst || !cs->primary.provider->iterate)
        return APR_SUCCESS;
    pp = cs->s->process->pool;
    c = apr_pcalloc(pp, sizeof(*c));      /* a few bytes per restart */
    if (apr_pool_create(&c->pool, pp) != APR_SUCCESS)
        return APR_SUCCESS;
    c->items = apr_array_make(c->pool, 4, sizeof(carried));
    lock(&cs->primary);
    cs->primary.provider->iterate(cs->primary.inst, cs->s, c, carry_one, c->pool);
    unlock(&cs->primary);
    apr_pool_userdata_set(c, CARRY_USERDATA, apr_pool_cleanup_null, pp);
    return APR_SUCCESS;
}

/* In post_config, with the new store open: put back what the last one held. */
static void carry_in(cache_state *cs, server_rec *s)
{
    apr_pool_t *pp = s->process->pool;
    void *data = NULL;
    carry *c;
    int i, n = 0;

    apr_pool_userdata_get(&data, CARRY_USERDATA, pp);
    if (!(c = data))
        return;
    apr_pool_userdata_set(NULL, CARRY_USERDATA, apr_pool_cleanup_null, pp);
    for (i = 0; !cs->shared && i < c->items->nelts; i++) {
        const carried *it = &APR_ARRAY_IDX(c->items, i, carried);
        apr_status_t st;
        if (it->expiry <= apr_time_now())
            continue;
        lock(&cs->primary);
        st = st_put(&cs->primary, s, c->pool, it->key, it->val, it->vlen, it->expiry);
        unlock(&cs->primary);
        n += st == APR_SUCCESS;
    }
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s,
                 "WOS00409: %d signing-key document(s) kept across the restart", n);
    apr_pool_destroy(c->pool);
}

/* Create and initialise one store; its mutex when the provider needs one. */
static int store_open(store *st, const char *name, const char *args, const char *mutex_id,
                      apr_pool_t *pconf, server_rec *s)
{
    struct ap_socache_hints hints = {64, 4096, 600};
    const char *err;
    apr_status_t rv;

    err = st->provider->create(&st->inst, args, pconf, pconf);
    if (err) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "WOS00403: WorkOSCache %s: %s", name, err);
        return 500;
    }
    if (st->provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE) {
        rv = ap_global_mutex_create(&st->mutex, NULL, WOS_MUTEX_TYPE, mutex_id, s, pconf, 0);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                         "WOS00404: cannot create the shared cache mutex");
            return 500;
        }
    }
    rv = st->provider->init(st->inst, "auth_workos", &hints, s, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "WOS00405: cannot initialise the shared cache (%s)", name);
        return 500;
    }
    return OK;
}

/* A shared store gets a local shmcb to fall back on, if mod_socache_shmcb is loaded. */
static int open_local(cache_state *cs, apr_pool_t *pconf, server_rec *s)
{
    cs->local.name = "shmcb";
    cs->local.provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, "shmcb",
                                            AP_SOCACHE_PROVIDER_VERSION);
    if (!cs->local.provider) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "WOS00805: WorkOSCache %s: mod_socache_shmcb is not loaded, so while "
                     "the shared cache is unreachable each process acts alone "
                     "(load it for single flight within this server)", cs->spec);
        return OK;
    }
    return store_open(&cs->local, "shmcb (local fallback)", NULL, "local", pconf, s);
}

/*
 * The seam src/ is given: the failover of the shared store (the module's
 * redis or a mod_socache network store) to the local shmcb behind the
 * breaker, or a process-local store alone (no breaker, no stand-in).
 */
static int seam(wos_cache *c, cache_state *cs, apr_pool_t *pconf)
{
    wos_failover_opts o = {cs->shared ? cs->breaker : NULL, WOS_BREAKER_OPEN_MS,
                           failover_note, cs, NULL};
    const wos_cache *shared, *local = NULL;

    if (!cs->shared)
        shared = door_open(&cs->shared_door, cs, &cs->primary, run_local, 0);
    else if (cs->redis_cfg)
        shared = door_open(&cs->shared_door, cs, NULL, run_redis, 0);
    else
        shared = door_open(&cs->shared_door, cs, &cs->primary, run_socache, WOS_CACHE_RACY_ADD);
    if (cs->shared && cs->local.inst)
        local = door_open(&cs->local_door, cs, &cs->local, run_local, 0);
    if (wos_failover_create(pconf, shared, local, &o, &cs->failover) != WOS_OK) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, cs->s,
                     "WOS00410: cannot set up the shared cache %s", cs->spec);
        return 500;
    }
    *c = *wos_failover_cache(cs->failover);
    return OK;
}

/*
 * Signing-key documents get a small shmcb of their own when the cache is
 * process-local: in the main one, a burst of refresh results (kilobytes each)
 * would scroll them out, and a child started later (a graceful restart, a
 * recycled process) would have no keys while WorkOS is unreachable. A
 * network store keeps them with the rest.
 */
static int open_keys_store(apr_pool_t *pconf, server_rec *s, cache_state *main_cs,
                           wos_cache *out)
{
    cache_state *ks;
    int rv;

    if (main_cs->shared) {
        *out = wos_scfg(s)->cache;
        return OK;
    }
    ks = apr_pcalloc(pconf, sizeof(*ks));
    ks->s = s;
    ks->spec = "shmcb (signing keys)";
    ks->primary.name = "shmcb";
    ks->primary.provider = main_cs->primary.provider;
    if (strcmp(main_cs->primary.name, "shmcb") != 0)
        ks->primary.provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, "shmcb",
                                                  AP_SOCACHE_PROVIDER_VERSION);
    if (!ks->primary.provider) {       /* another local provider without shmcb: share it */
        *out = wos_scfg(s)->cache;
        carry_in(main_cs, s);
        apr_pool_cleanup_register(pconf, main_cs, carry_out, apr_pool_cleanup_null);
        return OK;
    }
    if ((rv = store_open(&ks->primary, ks->spec, NULL, "keys", pconf, s)) != OK)
        return rv;
    apr_pool_cleanup_register(pconf, ks, cache_destroy, apr_pool_cleanup_null);
    apr_pool_cleanup_register(pconf, ks, carry_out, apr_pool_cleanup_null);
    carry_in(ks, s);
    main_cs->keys = ks;
    return seam(out, ks, pconf);
}

/* The module's redis: its settings checked now, connected per process (child_init). */
static int open_redis(cache_state *cs, const wos_srv_cfg *sc, apr_pool_t *pconf, server_rec *s)
{
    wos_redis_cfg *rc = apr_pcalloc(pconf, sizeof(*rc));
    const char *err = NULL;
    apr_pool_t *trial;
    wos_redis *r;
    wos_rv rv;

    rc->hosts = sc->redis_hosts;
    rc->timeout_ms = cs->timeout_ms;
    rc->username = sc->cache_username;
    rc->password = sc->cache_password;
    rc->tls = sc->redis_tls;
    rc->ca_file = sc->cache_ca_file;
    if (apr_pool_create(&trial, pconf) != APR_SUCCESS)
        return 500;
    rv = wos_redis_create(trial, rc, &r, &err);     /* connects nothing */
    apr_pool_destroy(trial);
    if (rv != WOS_OK) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "WOS01802: WorkOSCache %s: %s", cs->spec, err);
        return 500;
    }
    cs->redis_cfg = rc;
    return OK;
}

static int open_socache(cache_state *cs, const wos_srv_cfg *sc, apr_pool_t *pconf, server_rec *s)
{
    const char *name = cs->primary.name;
    int rv;

    cs->primary.provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                                              AP_SOCACHE_PROVIDER_VERSION);
    if (!cs->primary.provider) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "WOS00402: WorkOSCache: no mod_socache provider '%s' is loaded "
                     "(load mod_socache_%s)", name, name);
        return 500;
    }
    if ((rv = store_open(&cs->primary, cs->spec, sc->cache_args, NULL, pconf, s)) != OK)
        return rv;
    cs->shared = !(cs->primary.provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE);
    return OK;
}

/* The breaker's state, in memory every process of the server shares (made
 * once, kept in the process pool; closed again by each configuration). */
static int open_breaker(cache_state *cs, server_rec *s)
{
    apr_pool_t *pp = s->process->pool;
    void *data = NULL;
    apr_shm_t *shm;
    apr_status_t rv;

    apr_pool_userdata_get(&data, BREAKER_SHM_KEY, pp);
    if (!(shm = data)) {
        if ((rv = apr_shm_create(&shm, sizeof(wos_breaker), NULL, pp)) != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                         "WOS01803: cannot create the shared memory of the cache's breaker");
            return 500;
        }
        apr_pool_userdata_set(shm, BREAKER_SHM_KEY, apr_pool_cleanup_null, pp);
    }
    cs->breaker = apr_shm_baseaddr_get(shm);
    wos_breaker_init(cs->breaker);
    return OK;
}

int wos_cache_post_config(apr_pool_t *pconf, server_rec *s)
{
    wos_srv_cfg *sc = wos_scfg(s);
    const char *name = sc->cache_name ? sc->cache_name : "shmcb";
    cache_state *cs = apr_pcalloc(pconf, sizeof(*cs));
    server_rec *v;
    int rv;

    cs->s = s;
    cs->spec = sc->cache_spec ? sc->cache_spec : name;
    cs->primary.name = name;
    cs->timeout_ms = wos_cfg_cache_timeout_ms(sc);
    cs->shared = sc->redis_hosts != NULL;
    rv = cs->shared ? open_redis(cs, sc, pconf, s) : open_socache(cs, sc, pconf, s);
    if (rv != OK)
        return rv;
    if (!cs->redis_cfg && (sc->cache_password || sc->cache_username || sc->cache_ca_file))
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "WOS01804: WorkOSCachePassword, WorkOSCacheUsername and "
                     "WorkOSCacheCAFile apply to WorkOSCache redis: and rediss: only; "
                     "ignored with %s", cs->spec);
    apr_pool_cleanup_register(pconf, cs, cache_destroy, apr_pool_cleanup_null);
    if (cs->shared && ((rv = open_local(cs, pconf, s)) != OK || (rv = open_breaker(cs, s)) != OK))
        return rv;
    if ((rv = seam(&sc->cache, cs, pconf)) != OK
        || (rv = open_keys_store(pconf, s, cs, &sc->keys_cache)) != OK)
        return rv;
    sc->stores = cs;

    /* Virtual hosts share the main server's cache. */
    for (v = s->next; v; v = v->next) {
        wos_srv_cfg *vc = wos_scfg(v);
        vc->cache = sc->cache;
        vc->keys_cache = sc->keys_cache;
        vc->stores = cs;
    }
    return OK;
}

static void reopen_mutex(apr_global_mutex_t **m, apr_pool_t *pchild, server_rec *s)
{
    const char *fname;
    apr_status_t st;

    if (!*m)
        return;
    fname = apr_global_mutex_lockfile(*m);
    st = apr_global_mutex_child_init(m, fname, pchild);
    if (st != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_CRIT, st, s,
                     "WOS00406: cannot reopen the shared cache mutex in this child");
}

static apr_status_t algs_release(void *unused)
{
    (void)unused;
    wos_algs_release();
    return APR_SUCCESS;
}

/* This process's connections to the module's redis, or its bounded mod_socache calls. */
static void child_init_shared(cache_state *cs, apr_pool_t *pchild, server_rec *s)
{
    const char *err = NULL;

    if (cs->redis_cfg && wos_redis_create(pchild, cs->redis_cfg, &cs->redis, &err) != WOS_OK)
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "WOS01805: WorkOSCache %s: cannot set up this process's store (%s); "
                     "it uses the local cache", cs->spec, err);
    if (cs->shared && !cs->redis_cfg)
        wos_timer_create(pchild, WOS_CACHE_MAX_HUNG, &cs->timer);
}

void wos_cache_child_init(apr_pool_t *pchild, server_rec *s)
{
    wos_srv_cfg *sc = wos_scfg(s);
    cache_state *cs = sc->stores;
    wos_keystore *ks = NULL;
    wos_vcache *sessions = NULL;
    wos_http_handles *handles = NULL;
    int size = wos_cfg_session_cache_size(sc);
    server_rec *v;

    if (cs) {
        reopen_mutex(&cs->primary.mutex, pchild, s);
        reopen_mutex(&cs->local.mutex, pchild, s);
        if (cs->keys)
            reopen_mutex(&cs->keys->primary.mutex, pchild, s);
        child_init_shared(cs, pchild, s);
    }

    /* Registered first, so it runs last: after the stores and caches that use them. */
    apr_pool_cleanup_register(pchild, NULL, algs_release, apr_pool_cleanup_null);
    if (wos_keystore_create(pchild, &ks) != WOS_OK)
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "WOS00407: cannot create the key store");
    if (size > 0 && wos_vcache_create(pchild, size, &sessions) != WOS_OK)
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "WOS00408: cannot create the verified-session cache");
    if (wos_http_handles_create(pchild, 8, &handles) != WOS_OK)
        handles = NULL;        /* calls then make their own handles */
    for (v = s; v; v = v->next) {
        wos_srv_cfg *vc = wos_scfg(v);
        vc->keys = ks;
        vc->vcache = sessions;
        vc->http_handles = handles;
    }
}

/* wos_refresh's notes, for the request they concern (baton: request_rec). */
void wos_refresh_note_log(void *baton, wos_refresh_note what, const char *msg)
{
    request_rec *r = baton;

    switch (what) {
    case WOS_REFRESH_NOTE_LOST_LOCK:
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "WOS00810: %s", msg);
        break;
    case WOS_REFRESH_NOTE_RECOVERED:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "WOS00811: %s", msg);
        break;
    case WOS_REFRESH_NOTE_UNRECOVERED:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "WOS00812: %s", msg);
        break;
    }
}
