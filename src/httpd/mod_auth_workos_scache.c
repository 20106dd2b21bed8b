/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_workos_scache.c: the verified-session cache shared by all
 * processes of a server (the table is src/wos_scache.c). The parent makes
 * an anonymous shared memory segment and a global mutex in post_config;
 * children inherit the mapping and reopen the mutex. Each configuration
 * generation (start or graceful restart) gets a segment, a mutex and a hash
 * key of its own: children of an older generation finish with theirs, and
 * nothing one generation verified can be read under another's settings.
 */
#include <apr_shm.h>
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <util_mutex.h>

#include "mod_auth_workos.h"
#include "wos_rand.h"
#include "wos_scache.h"

/* One generation's segment, lock and table (in pconf). */
typedef struct scache_state {
    apr_shm_t *shm;
    apr_global_mutex_t *mutex;
    wos_scache *table;
    apr_size_t bytes, entry;
} scache_state;

static int lock_cb(void *baton)
{
    scache_state *st = baton;
    return apr_global_mutex_lock(st->mutex) == APR_SUCCESS ? 0 : 1;
}

static void unlock_cb(void *baton)
{
    scache_state *st = baton;
    apr_global_mutex_unlock(st->mutex);
}

int wos_scache_pre_config(apr_pool_t *pconf)
{
    return ap_mutex_register(pconf, WOS_SCACHE_MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0)
           == APR_SUCCESS ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

/* The segment, formatted with a fresh hash key, and its mutex. */
static int create_segment(apr_pool_t *pconf, server_rec *s, scache_state *st,
                          const unsigned char *key)
{
    wos_scache_lock lock = {lock_cb, unlock_cb, st};
    apr_status_t rv = apr_shm_create(&st->shm, st->bytes, NULL, pconf);

    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, rv, s,
                     "WOS02001: cannot have %" APR_SIZE_T_FMT " bytes of shared memory "
                     "for the session cache: lower WorkOSSessionCacheSize or raise the "
                     "memory limit (ulimit -v)", st->bytes);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    rv = ap_global_mutex_create(&st->mutex, NULL, WOS_SCACHE_MUTEX_TYPE, NULL, s, pconf, 0);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "WOS02002: cannot create the session cache's mutex (%s)",
                     WOS_SCACHE_MUTEX_TYPE);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (wos_scache_format(apr_shm_baseaddr_get(st->shm), st->bytes, st->entry, key) != WOS_OK
        || wos_scache_attach(pconf, apr_shm_baseaddr_get(st->shm), st->bytes, &lock,
                             &st->table) != WOS_OK) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "WOS02003: cannot lay out the session cache in %" APR_SIZE_T_FMT
                     " bytes", st->bytes);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

int wos_scache_post_config(apr_pool_t *pconf, server_rec *s)
{
    scache_state *st = apr_pcalloc(pconf, sizeof(*st));
    unsigned char *key = apr_palloc(pconf, WOS_SIPHASH_KEY_LEN);
    server_rec *v;
    int rc;

    /* The hash key: per-process caches too key with it, shared cache or not. */
    if (wos_rand_bytes(key, WOS_SIPHASH_KEY_LEN) != WOS_OK) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "WOS02004: no random bytes for the session caches' hash key");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    wos_cfg_scache_size(wos_scfg(s), &st->bytes, &st->entry);
    if (st->bytes && (rc = create_segment(pconf, s, st, key)) != OK)
        return rc;
    if (st->table)
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                     "WOS02005: shared session cache: %" APR_SIZE_T_FMT " bytes, %u "
                     "entries of %" APR_SIZE_T_FMT " bytes", st->bytes,
                     wos_scache_capacity(st->bytes, st->entry), st->entry);
    for (v = s; v; v = v->next) {
        wos_scfg(v)->scache_state = st;
        wos_scfg(v)->hash_key = key;
    }
    return OK;
}

void wos_scache_child_init(apr_pool_t *pchild, server_rec *s)
{
    scache_state *st = wos_scfg(s)->scache_state;
    apr_status_t rv;
    server_rec *v;

    if (!st || !st->table)
        return;
    rv = apr_global_mutex_child_init(&st->mutex, apr_global_mutex_lockfile(st->mutex),
                                     pchild);
    if (rv != APR_SUCCESS) {
        /* Not used without its lock: this child verifies on its own. */
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "WOS02006: cannot reopen the session cache's mutex in this child");
        return;
    }
    for (v = s; v; v = v->next)
        wos_scfg(v)->scache = st->table;
}

/* configtest never runs post_config: ask for the segment here, and give it back. */
static int scache_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                               server_rec *s)
{
    apr_size_t bytes, entry;
    apr_shm_t *shm;
    apr_status_t rv;

    (void)pconf;
    (void)plog;
    wos_cfg_scache_size(wos_scfg(s), &bytes, &entry);
    if (!bytes)
        return OK;
    rv = apr_shm_create(&shm, bytes, NULL, ptemp);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_ERR, rv, NULL,
                     "WOS02001: cannot have %" APR_SIZE_T_FMT " bytes of shared memory "
                     "for the session cache: lower WorkOSSessionCacheSize or raise the "
                     "memory limit (ulimit -v)", bytes);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_shm_destroy(shm);
    return OK;
}

/* The shared table's figures on the status page: name, Prometheus type, help. */
static const struct {
    const char *name, *type, *help;
    apr_size_t off;
} FIGURES[] = {
#define F(n, t, h) {#n, t, h, APR_OFFSETOF(wos_scache_stats, n)}
    F(bytes, "gauge", "Size of the shared session cache's segment."),
    F(capacity, "gauge", "Sessions the shared session cache holds at most."),
    F(entries, "gauge", "Sessions the shared session cache holds now."),
    F(hits, "counter", "Lookups the shared session cache answered."),
    F(misses, "counter", "Lookups it could not answer (new, evicted or expired)."),
    F(stores, "counter", "Verified sessions stored."),
    F(evictions, "counter", "Live sessions pushed out to make room: raise the size."),
    F(expired, "counter", "Sessions dropped because their token expired."),
    F(too_large, "counter", "Sessions too large for an entry (kept per process only)."),
#undef F
};
#define N_FIGURES (sizeof(FIGURES) / sizeof(FIGURES[0]))

static apr_uint64_t figure(const wos_scache_stats *st, apr_size_t i)
{
    return *(const apr_uint64_t *)((const char *)st + FIGURES[i].off);
}

/* The status page's part: ",\"shared_session_cache\":{...}" or Prometheus lines. */
void wos_scache_status(request_rec *r, int prometheus)
{
    wos_scache *t = wos_scfg(r->server)->scache;
    wos_scache_stats st;
    apr_size_t i;

    memset(&st, 0, sizeof(st));
    if (t)
        wos_scache_stats_get(t, &st);
    if (!prometheus)
        ap_rputs(",\"shared_session_cache\":{", r);
    for (i = 0; i < N_FIGURES; i++) {
        const char *suffix = strcmp(FIGURES[i].type, "counter") ? "" : "_total";
        if (prometheus)
            ap_rprintf(r, "# HELP workos_shared_session_cache_%s%s %s\n"
                       "# TYPE workos_shared_session_cache_%s%s %s\n"
                       "workos_shared_session_cache_%s%s %" APR_UINT64_T_FMT "\n",
                       FIGURES[i].name, suffix, FIGURES[i].help, FIGURES[i].name, suffix,
                       FIGURES[i].type, FIGURES[i].name, suffix, figure(&st, i));
        else
            ap_rprintf(r, "%s\"%s\":%" APR_UINT64_T_FMT, i ? "," : "", FIGURES[i].name,
                       figure(&st, i));
    }
    if (!prometheus)
        ap_rputs("}", r);
}

void wos_scache_register_hooks(void)
{
    ap_hook_check_config(scache_check_config, NULL, NULL, APR_HOOK_MIDDLE);
}
