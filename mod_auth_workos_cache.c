/*
 * mod_auth_workos_cache.c: the shared cache through httpd's mod_socache.
 * One instance for the whole server (made in post_config, reopened in each
 * child), guarded by a registered global mutex when the provider is not
 * multi-process safe (shmcb), and offered to src/ as a wos_cache.
 */
#include <apr_strings.h>
#include <ap_provider.h>
#include <ap_mpm.h>
#include <mpm_common.h>
#include <util_mutex.h>

#include "mod_auth_workos.h"

static void cache_lock(const wos_srv_cfg *s)
{
    if (s->cache_mutex)
        apr_global_mutex_lock(s->cache_mutex);
}

static void cache_unlock(const wos_srv_cfg *s)
{
    if (s->cache_mutex)
        apr_global_mutex_unlock(s->cache_mutex);
}

/* The baton is the main server; its config holds the instance. */
static wos_srv_cfg *cache_cfg(const wos_cache *c, server_rec **s)
{
    *s = c->baton;
    return wos_scfg(*s);
}

static wos_rv c_get(const wos_cache *c, apr_pool_t *p, const char *key,
                    apr_size_t max_len, char **val, apr_size_t *len)
{
    server_rec *s;
    wos_srv_cfg *sc = cache_cfg(c, &s);
    unsigned int n = (unsigned int)max_len;
    unsigned char *buf = apr_palloc(p, max_len + 1);
    apr_status_t st;

    if (!sc->cache_inst)
        return WOS_ENOKEY;
    cache_lock(sc);
    st = sc->cache_provider->retrieve(sc->cache_inst, s, (const unsigned char *)key,
                                      (unsigned int)strlen(key), buf, &n, p);
    cache_unlock(sc);
    if (st != APR_SUCCESS)
        return WOS_ENOKEY;
    buf[n] = '\0';
    *val = (char *)buf;
    *len = n;
    return WOS_OK;
}

static apr_status_t store_locked(wos_srv_cfg *sc, server_rec *s, apr_pool_t *p,
                                 const char *key, const char *val, apr_size_t len,
                                 apr_time_t expiry)
{
    return sc->cache_provider->store(sc->cache_inst, s, (const unsigned char *)key,
                                     (unsigned int)strlen(key), expiry,
                                     (unsigned char *)val, (unsigned int)len, p);
}

static wos_rv c_set(const wos_cache *c, apr_pool_t *p, const char *key,
                    const char *val, apr_size_t len, apr_time_t expiry)
{
    server_rec *s;
    wos_srv_cfg *sc = cache_cfg(c, &s);
    apr_status_t st;

    if (!sc->cache_inst)
        return WOS_EUNAVAIL;
    cache_lock(sc);
    st = store_locked(sc, s, p, key, val, len, expiry);
    cache_unlock(sc);
    if (st != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, st, s,
                     "WOS00401: shared cache (%s) could not store an entry of %lu bytes",
                     sc->cache_provider->name, (unsigned long)len);
        return WOS_EUNAVAIL;
    }
    return WOS_OK;
}

/* Check-and-store under the mutex; without one (redis, memcache) a window remains. */
static wos_rv c_add(const wos_cache *c, apr_pool_t *p, const char *key,
                    const char *val, apr_size_t len, apr_time_t expiry)
{
    server_rec *s;
    wos_srv_cfg *sc = cache_cfg(c, &s);
    unsigned char probe[256];
    unsigned int n = sizeof(probe);
    apr_status_t st;
    wos_rv rv = WOS_EBUSY;

    if (!sc->cache_inst)
        return WOS_OK;     /* no cache: every process acts alone */
    cache_lock(sc);
    st = sc->cache_provider->retrieve(sc->cache_inst, s, (const unsigned char *)key,
                                      (unsigned int)strlen(key), probe, &n, p);
    if (st != APR_SUCCESS) {
        st = store_locked(sc, s, p, key, val, len, expiry);
        rv = WOS_OK;       /* even if the store failed: proceed rather than wait forever */
    }
    cache_unlock(sc);
    return rv;
}

static wos_rv c_remove(const wos_cache *c, apr_pool_t *p, const char *key)
{
    server_rec *s;
    wos_srv_cfg *sc = cache_cfg(c, &s);

    if (!sc->cache_inst)
        return WOS_OK;
    cache_lock(sc);
    sc->cache_provider->remove(sc->cache_inst, s, (const unsigned char *)key,
                               (unsigned int)strlen(key), p);
    cache_unlock(sc);
    return WOS_OK;
}

int wos_cache_pre_config(apr_pool_t *pconf)
{
    return ap_mutex_register(pconf, WOS_MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0) == APR_SUCCESS
               ? OK : 500;
}

static apr_status_t cache_destroy(void *data)
{
    server_rec *s = data;
    wos_srv_cfg *sc = wos_scfg(s);

    if (sc->cache_inst)
        sc->cache_provider->destroy(sc->cache_inst, s);
    sc->cache_inst = NULL;
    return APR_SUCCESS;
}

int wos_cache_post_config(apr_pool_t *pconf, server_rec *s)
{
    wos_srv_cfg *sc = wos_scfg(s);
    struct ap_socache_hints hints = {64, 4096, 600};
    const char *name = sc->cache_name ? sc->cache_name : "shmcb";
    const char *err;
    apr_status_t st;
    server_rec *v;

    sc->cache_provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                                            AP_SOCACHE_PROVIDER_VERSION);
    if (!sc->cache_provider) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "WOS00402: WorkOSCache: no mod_socache provider '%s' is loaded "
                     "(load mod_socache_%s)", name, name);
        return 500;
    }
    err = sc->cache_provider->create(&sc->cache_inst, sc->cache_args, pconf, pconf);
    if (err) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "WOS00403: WorkOSCache %s: %s",
                     sc->cache_spec ? sc->cache_spec : name, err);
        return 500;
    }
    if (sc->cache_provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE) {
        st = ap_global_mutex_create(&sc->cache_mutex, NULL, WOS_MUTEX_TYPE, NULL, s, pconf, 0);
        if (st != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, st, s,
                         "WOS00404: cannot create the shared cache mutex");
            return 500;
        }
    }
    st = sc->cache_provider->init(sc->cache_inst, "auth_workos", &hints, s, pconf);
    if (st != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, st, s,
                     "WOS00405: cannot initialise the shared cache (%s)", name);
        return 500;
    }
    apr_pool_cleanup_register(pconf, s, cache_destroy, apr_pool_cleanup_null);
    sc->cache.baton = s;
    sc->cache.get = c_get;
    sc->cache.set = c_set;
    sc->cache.add = c_add;
    sc->cache.remove = c_remove;

    /* Virtual hosts share the main server's cache. */
    for (v = s->next; v; v = v->next) {
        wos_srv_cfg *vc = wos_scfg(v);
        vc->cache_provider = sc->cache_provider;
        vc->cache_inst = sc->cache_inst;
        vc->cache_mutex = sc->cache_mutex;
        vc->cache = sc->cache;
    }
    return OK;
}

void wos_cache_child_init(apr_pool_t *pchild, server_rec *s)
{
    wos_srv_cfg *sc = wos_scfg(s);
    wos_keystore *ks = NULL;
    server_rec *v;

    if (sc->cache_mutex) {
        const char *fname = apr_global_mutex_lockfile(sc->cache_mutex);
        apr_status_t st = apr_global_mutex_child_init(&sc->cache_mutex, fname, pchild);
        if (st != APR_SUCCESS)
            ap_log_error(APLOG_MARK, APLOG_CRIT, st, s,
                         "WOS00406: cannot reopen the shared cache mutex in this child");
    }
    wos_vcache *sessions = NULL;
    wos_http_handles *handles = NULL;
    int size = sc->session_cache_size == WOS_UNSET ? WOS_DEFAULT_SESSION_CACHE
                                                   : sc->session_cache_size;

    if (wos_keystore_create(pchild, &ks) != WOS_OK)
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "WOS00407: cannot create the key store");
    if (size > 0 && wos_vcache_create(pchild, size, &sessions) != WOS_OK)
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "WOS00408: cannot create the verified-session cache");
    if (wos_http_handles_create(pchild, 8, &handles) != WOS_OK)
        handles = NULL;        /* calls then make their own handles */
    for (v = s; v; v = v->next) {
        wos_srv_cfg *vc = wos_scfg(v);
        vc->cache_mutex = sc->cache_mutex;
        vc->keys = ks;
        vc->vcache = sessions;
        vc->http_handles = handles;
    }
}
