/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_workos_cache.c: the shared cache through httpd's mod_socache.
 * One instance for the whole server (made in post_config, reopened in each
 * child; signing keys are carried across restarts), guarded by a registered
 * global mutex when the provider is not multi-process safe (shmcb), and
 * offered to src/ as a wos_cache.
 *
 * A provider that is multi-process safe on its own (redis, memcache) is a
 * store several servers share. Its add is a check and a store (mod_socache
 * has no atomic add), which src/ is told with WOS_CACHE_RACY_ADD. When such a
 * store fails, src/wos_failover.c decides: this process uses a local shmcb for
 * WOS_CACHE_RETRY_SEC and then tries the shared store again, so the server
 * keeps single flight among its own processes; the outage is logged once per
 * server. This file only makes each store a wos_cache and logs.
 */
#include <apr_atomic.h>
#include <apr_strings.h>
#include <ap_provider.h>
#include <ap_mpm.h>
#include <http_core.h>
#include <mpm_common.h>
#include <util_mutex.h>

#include "mod_auth_workos.h"
#include "wos_algs.h"
#include "wos_failover.h"

/* How long a process leaves a failed shared store alone (apr's own retry is 5 s). */
#define WOS_CACHE_RETRY_SEC 5
/* Outage and recovery are each logged at most once per server in this span. */
#define WOS_CACHE_REPORT_SEC 60

/*
 * One mod_socache instance as a wos_cache. Under the failover (raw) its
 * answers say whether it failed (WOS_EUNAVAIL); used directly, a failure is
 * a miss, and an add that cannot be made lets the caller proceed alone.
 */
typedef struct store {
    wos_cache seam;                     /* baton: this store */
    server_rec *s;
    const char *name;                   /* the provider's name */
    const ap_socache_provider_t *provider;
    ap_socache_instance_t *inst;
    apr_global_mutex_t *mutex;          /* only for providers that are not MP-safe */
    int raw;                            /* answers for wos_failover */
    volatile apr_uint32_t last_failure; /* apr_status_t of the latest failure, for logs */
} store;

/* The baton of the wos_cache: one per server, shared by its virtual hosts. */
typedef struct wos_cache_state cache_state;
struct wos_cache_state {
    server_rec *s;
    store primary;
    int shared;                         /* primary is MP-safe itself: a network store */
    const char *spec;                   /* as configured, for log lines */
    store local;                        /* shmcb while the shared store fails, or none */
    wos_failover *failover;             /* shared only */
    cache_state *keys;                  /* the signing keys' own store, or NULL */
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

/* Store if absent: APR_SUCCESS (stored), APR_EEXIST, or the failure. */
static apr_status_t st_add(const store *st, server_rec *s, apr_pool_t *p, const char *key,
                           const char *val, apr_size_t len, apr_time_t expiry)
{
    unsigned char probe[256];
    unsigned int n = sizeof(probe);
    apr_status_t rv;

    lock(st);
    rv = st_get(st, s, p, key, probe, &n);
    if (rv == APR_SUCCESS || rv == APR_ENOMEM || rv == APR_ENOSPC)
        rv = APR_EEXIST;                /* present (maybe larger than the probe) */
    else if (rv == APR_NOTFOUND)
        rv = st_put(st, s, p, key, val, len, expiry);
    unlock(st);
    return rv;
}

/* A provider's answer as the seam's; only WOS_EUNAVAIL says the store failed. */
static wos_rv answer(store *st, apr_status_t rv)
{
    switch (rv) {
    case APR_SUCCESS:  return WOS_OK;
    case APR_NOTFOUND: return WOS_ENOKEY;
    case APR_EEXIST:   return WOS_EBUSY;
    case APR_ENOMEM:
    case APR_ENOSPC:   return WOS_ETOOBIG;
    case APR_EINVAL:   return WOS_EINVAL;
    default:
        apr_atomic_set32(&st->last_failure, (apr_uint32_t)rv);
        return WOS_EUNAVAIL;
    }
}

static wos_rv s_get(const wos_cache *c, apr_pool_t *p, const char *key,
                    apr_size_t max_len, char **val, apr_size_t *len)
{
    store *st = c->baton;
    unsigned int n = (unsigned int)max_len;
    unsigned char *buf = apr_palloc(p, max_len + 1);
    apr_status_t rv;
    wos_rv out;

    lock(st);
    rv = st_get(st, st->s, p, key, buf, &n);
    unlock(st);
    out = answer(st, rv);
    if (out != WOS_OK)
        return st->raw ? out : WOS_ENOKEY;
    buf[n] = '\0';
    *val = (char *)buf;
    *len = n;
    return WOS_OK;
}

static wos_rv s_set(const wos_cache *c, apr_pool_t *p, const char *key,
                    const char *val, apr_size_t len, apr_time_t expiry)
{
    store *st = c->baton;
    apr_status_t rv;

    lock(st);
    rv = st_put(st, st->s, p, key, val, len, expiry);
    unlock(st);
    if (rv == APR_SUCCESS)
        return WOS_OK;
    answer(st, rv);
    if (!st->raw)
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, st->s,
                     "WOS00401: shared cache (%s) could not store an entry of %lu bytes",
                     st->provider->name, (unsigned long)len);
    return WOS_EUNAVAIL;
}

static wos_rv s_add(const wos_cache *c, apr_pool_t *p, const char *key,
                    const char *val, apr_size_t len, apr_time_t expiry)
{
    store *st = c->baton;
    apr_status_t rv = st_add(st, st->s, p, key, val, len, expiry);

    if (rv == APR_SUCCESS || rv == APR_EEXIST)
        return rv == APR_EEXIST ? WOS_EBUSY : WOS_OK;
    answer(st, rv);
    return st->raw ? WOS_EUNAVAIL : WOS_OK;     /* alone: no store can take it */
}

static wos_rv s_remove(const wos_cache *c, apr_pool_t *p, const char *key)
{
    store *st = c->baton;
    apr_status_t rv;
    wos_rv out;

    lock(st);
    rv = st->provider->remove(st->inst, st->s, (const unsigned char *)key,
                              (unsigned int)strlen(key), p);
    unlock(st);
    out = answer(st, rv);
    return st->raw ? out : WOS_OK;
}

/* The store's seam; @p raw: for wos_failover. */
static void store_seam(store *st, server_rec *s, int raw)
{
    st->s = s;
    st->raw = raw;
    memset(&st->seam, 0, sizeof(st->seam));
    st->seam.baton = st;
    st->seam.get = s_get;
    st->seam.set = s_set;
    st->seam.add = s_add;
    st->seam.remove = s_remove;
}

/* wos_failover's reports, once per server (the *_AGAIN ones at debug). */
static void failover_note(void *baton, wos_failover_event ev, const char *op)
{
    cache_state *cs = baton;
    apr_status_t st = (apr_status_t)apr_atomic_read32(&cs->primary.last_failure);

    switch (ev) {
    case WOS_FAILOVER_DOWN:
        ap_log_error(APLOG_MARK, APLOG_WARNING, st, cs->s,
                     "WOS00801: shared cache %s failed (%s); %s until it answers again "
                     "(retried every %d s)", cs->spec, op,
                     cs->local.inst ? "this server uses its own local cache "
                                      "(single flight among its own processes only)"
                                    : "each process acts alone",
                     WOS_CACHE_RETRY_SEC);
        break;
    case WOS_FAILOVER_DOWN_AGAIN:
        ap_log_error(APLOG_MARK, APLOG_DEBUG, st, cs->s,
                     "WOS00802: shared cache %s failed (%s) in this process too",
                     cs->spec, op);
        break;
    case WOS_FAILOVER_UP:
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, cs->s,
                     "WOS00803: shared cache %s answers again; using it", cs->spec);
        break;
    case WOS_FAILOVER_UP_AGAIN:
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, cs->s,
                     "WOS00804: shared cache %s answers again in this process", cs->spec);
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

/* The seam src/ gets: the store itself, or the failover of a shared one. */
static wos_rv seam(wos_cache *c, cache_state *cs, apr_pool_t *pconf)
{
    wos_failover_opts opts = {WOS_CACHE_RETRY_SEC, WOS_CACHE_REPORT_SEC, failover_note, cs,
                              NULL};

    store_seam(&cs->primary, cs->s, cs->shared);
    store_seam(&cs->local, cs->s, 1);
    if (!cs->shared) {
        *c = cs->primary.seam;
        return WOS_OK;
    }
    if (wos_failover_create(pconf, &cs->primary.seam, cs->local.inst ? &cs->local.seam : NULL,
                            &opts, &cs->failover) != WOS_OK)
        return WOS_EINVAL;
    *c = *wos_failover_cache(cs->failover);
    return WOS_OK;
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
    return seam(out, ks, pconf) == WOS_OK ? OK : 500;
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
    apr_pool_cleanup_register(pconf, cs, cache_destroy, apr_pool_cleanup_null);
    if (cs->shared && (rv = open_local(cs, pconf, s)) != OK)
        return rv;
    if (seam(&sc->cache, cs, pconf) != WOS_OK)
        return 500;
    if ((rv = open_keys_store(pconf, s, cs, &sc->keys_cache)) != OK)
        return rv;

    /* Virtual hosts share the main server's cache. */
    sc->stores = cs;
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
