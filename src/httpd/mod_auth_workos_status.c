/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_workos_status.c: counters shared by every child, and the
 * `SetHandler workos-status` page that shows them as JSON or in the
 * Prometheus text format.
 *
 * The counters live in one anonymous shared memory segment made by the parent
 * the first time post_config runs and kept in the process pool, so children
 * inherit it, graceful restarts keep counting, and nothing is left behind in
 * /dev/shm or in System V IPC when httpd stops.
 */
#include <apr_atomic.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <http_protocol.h>

#include "mod_auth_workos.h"

#define SHM_KEY "mod_auth_workos:status"

/* Names and help, in the order of wos_stat. `label` groups lines under one metric. */
static const struct {
    const char *json;           /* key in the JSON answer */
    const char *metric;         /* Prometheus metric name */
    const char *label;          /* label for the metric, or NULL */
    const char *help;
} STATS[WOS_STAT_COUNT] = {
    [WOS_STAT_AUTHENTICATED] = {"authenticated", "workos_requests_total",
                                "outcome=\"authenticated\"",
                                "Requests under AuthType WorkOS, by the authentication outcome."},
    [WOS_STAT_ANONYMOUS] = {"anonymous", "workos_requests_total", "outcome=\"anonymous\"", NULL},
    [WOS_STAT_INVALID] = {"invalid", "workos_requests_total", "outcome=\"invalid\"", NULL},
    [WOS_STAT_ENDED] = {"ended", "workos_requests_total", "outcome=\"ended\"", NULL},
    [WOS_STAT_UNAVAILABLE] = {"unavailable", "workos_requests_total", "outcome=\"unavailable\"",
                              NULL},
    [WOS_STAT_NOKEYS] = {"no_keys", "workos_requests_total", "outcome=\"no_keys\"", NULL},
    [WOS_STAT_DENIED] = {"denied", "workos_denied_total", NULL,
                         "Signed-in requests refused by Require (401 or 403)."},
    [WOS_STAT_CACHE_HITS] = {"cache_hits", "workos_session_cache_hits_total", NULL,
                             "Authenticated requests answered by the verified-session cache."},
    [WOS_STAT_REFRESHED] = {"refreshed", "workos_refreshed_total", NULL,
                            "Requests whose expiring session was refreshed (own or shared)."},
    [WOS_STAT_REFRESH_CALLS] = {"refresh_calls", "workos_refresh_calls_total", NULL,
                                "Refresh calls made to WorkOS."},
    [WOS_STAT_REFRESH_FAILED_GRANT] = {"refresh_failed_invalid_grant",
                                       "workos_refresh_failed_total", "reason=\"invalid_grant\"",
                                       "Refreshes that failed, by reason."},
    [WOS_STAT_REFRESH_FAILED_REJECTED] = {"refresh_failed_rejected",
                                          "workos_refresh_failed_total", "reason=\"rejected\"",
                                          NULL},
    [WOS_STAT_REFRESH_FAILED_UNAVAILABLE] = {"refresh_failed_unavailable",
                                             "workos_refresh_failed_total",
                                             "reason=\"unavailable\"", NULL},
    [WOS_STAT_REFRESH_FAILED_REFUSED] = {"refresh_failed_module_refused",
                                         "workos_refresh_failed_total",
                                         "reason=\"module_refused\"", NULL},
    [WOS_STAT_JWKS_FETCHES] = {"jwks_fetches", "workos_jwks_fetches_total", NULL,
                               "JWKS fetches from WorkOS (failed ones included)."},
    [WOS_STAT_JWKS_FAILURES] = {"jwks_fetch_failures", "workos_jwks_fetch_failures_total", NULL,
                                "JWKS fetches that failed or returned no usable key."},
    [WOS_STAT_SIGN_INS] = {"sign_ins", "workos_sign_ins_total", NULL,
                           "Completed sign-ins (callbacks that set a session)."},
    [WOS_STAT_SIGN_IN_FAILURES] = {"sign_in_failures", "workos_sign_in_failures_total", NULL,
                                   "Callbacks refused (bad state, code exchange failed, ...)."},
    [WOS_STAT_SIGN_OUTS] = {"sign_outs", "workos_sign_outs_total", NULL, "Sign-outs."},
    [WOS_STAT_ORG_SWITCHES] = {"org_switches", "workos_org_switches_total", NULL,
                               "Completed organization switches."},
    [WOS_STAT_CACHE_FAILURES] = {"shared_cache_failures", "workos_shared_cache_failures_total",
                                 NULL, "Calls to the shared cache that failed or timed out."},
    [WOS_STAT_CACHE_OUTAGES] = {"shared_cache_outages", "workos_shared_cache_outages_total",
                                NULL, "Times the shared cache was found down (the circuit "
                                      "breaker opened)."},
    [WOS_STAT_CACHE_LOCAL] = {"shared_cache_local_calls",
                              "workos_shared_cache_local_calls_total", NULL,
                              "Cache calls served by the local cache while the shared one "
                              "was down."},
    [WOS_STAT_IDLE_ENDED] = {"idle_timeouts", "workos_idle_timeouts_total", NULL,
                             "Sessions ended by WorkOSInactivityTimeout."},
    [WOS_STAT_SESSIONS_REVOKED] = {"sessions_revoked", "workos_sessions_revoked_total", NULL,
                                   "Sessions revoked through WorkOSSessionsURI."},
};

int wos_status_post_config(apr_pool_t *pconf, server_rec *s)
{
    apr_pool_t *pp = s->process->pool;
    apr_shm_t *shm = NULL;
    void *data = NULL;
    apr_uint64_t *counters;
    apr_status_t rv;
    server_rec *v;

    (void)pconf;
    apr_pool_userdata_get(&data, SHM_KEY, pp);
    shm = data;
    if (!shm) {
        rv = apr_shm_create(&shm, sizeof(apr_uint64_t) * WOS_STAT_COUNT, NULL, pp);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                         "WOS00601: cannot create the shared memory for the status counters");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        memset(apr_shm_baseaddr_get(shm), 0, sizeof(apr_uint64_t) * WOS_STAT_COUNT);
        apr_pool_userdata_set(shm, SHM_KEY, apr_pool_cleanup_null, pp);
    }
    counters = apr_shm_baseaddr_get(shm);
    for (v = s; v; v = v->next)
        wos_scfg(v)->stats = counters;
    return OK;
}

void wos_stat_inc(server_rec *s, wos_stat which)
{
    apr_uint64_t *c = wos_scfg(s)->stats;

    if (c && which >= 0 && which < WOS_STAT_COUNT)
        apr_atomic_inc64(&c[which]);
}

/* What a refresh attempt did, as the core reports it (sessions and org switches). */
void wos_stat_refresh(server_rec *s, const wos_authn_out *out)
{
    static const wos_stat failed[] = {
        [WOS_REFRESH_FAILED_GRANT] = WOS_STAT_REFRESH_FAILED_GRANT,
        [WOS_REFRESH_FAILED_REJECTED] = WOS_STAT_REFRESH_FAILED_REJECTED,
        [WOS_REFRESH_FAILED_UNAVAILABLE] = WOS_STAT_REFRESH_FAILED_UNAVAILABLE,
        [WOS_REFRESH_FAILED_REFUSED] = WOS_STAT_REFRESH_FAILED_REFUSED,
    };

    if (out->upstream_called)
        wos_stat_inc(s, WOS_STAT_REFRESH_CALLS);
    if (out->refresh_failed != WOS_REFRESH_NOT_FAILED)
        wos_stat_inc(s, failed[out->refresh_failed]);
}

void wos_stat_authn(request_rec *r, const wos_authn_out *out)
{
    static const wos_stat outcome[] = {
        [WOS_AUTHN_OK] = WOS_STAT_AUTHENTICATED,
        [WOS_AUTHN_NONE] = WOS_STAT_ANONYMOUS,
        [WOS_AUTHN_INVALID] = WOS_STAT_INVALID,
        [WOS_AUTHN_ENDED] = WOS_STAT_ENDED,
        [WOS_AUTHN_RETRY] = WOS_STAT_UNAVAILABLE,
        [WOS_AUTHN_NOKEYS] = WOS_STAT_NOKEYS,
    };
    server_rec *s = r->server;

    wos_stat_inc(s, outcome[out->outcome]);
    if (out->outcome == WOS_AUTHN_OK && out->cached)
        wos_stat_inc(s, WOS_STAT_CACHE_HITS);
    if (out->outcome == WOS_AUTHN_OK && out->refreshed)
        wos_stat_inc(s, WOS_STAT_REFRESHED);
    wos_stat_refresh(s, out);
}

/* The keystore's report of a JWKS fetch; the baton is the request's server. */
void wos_stat_jwks_fetched(void *baton, wos_rv rv)
{
    wos_stat_inc(baton, WOS_STAT_JWKS_FETCHES);
    if (rv != WOS_OK)
        wos_stat_inc(baton, WOS_STAT_JWKS_FAILURES);
}

/* An error answer about to be sent to a signed-in user: Require refused them.
 * (Counted here, before the answer leaves, so a client that reads the
 * counters right after sees it.) */
static void wos_status_error_answer(request_rec *r)
{
    wos_req *st = ap_get_module_config(r->request_config, &auth_workos_module);

    if (st && st->claims && r->user && !r->main
        && (r->status == HTTP_UNAUTHORIZED || r->status == HTTP_FORBIDDEN))
        wos_stat_inc(r->server, WOS_STAT_DENIED);
}

/* Prometheus when asked by ?format=prometheus or by an Accept for text/plain. */
static int wants_prometheus(request_rec *r)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");

    if (r->args && ap_strstr_c(r->args, "format=json"))
        return 0;
    if (r->args && ap_strstr_c(r->args, "format=prometheus"))
        return 1;
    return accept && (ap_strcasestr(accept, "text/plain")
                      || ap_strcasestr(accept, "application/openmetrics-text"))
           && !ap_strcasestr(accept, "application/json");
}

static int wos_status_handler(request_rec *r)
{
    apr_uint64_t *c, v[WOS_STAT_COUNT];
    int i;

    if (!r->handler || strcmp(r->handler, "workos-status"))
        return DECLINED;
    if (r->method_number != M_GET) {
        ap_allow_methods(r, REPLACE_ALLOW, "GET", NULL);   /* the 405's Allow header */
        return HTTP_METHOD_NOT_ALLOWED;
    }
    c = wos_scfg(r->server)->stats;
    if (!c)
        return HTTP_SERVICE_UNAVAILABLE;
    for (i = 0; i < WOS_STAT_COUNT; i++)
        v[i] = apr_atomic_read64(&c[i]);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (wants_prometheus(r)) {
        ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
        if (r->header_only)
            return OK;
        for (i = 0; i < WOS_STAT_COUNT; i++) {
            if (STATS[i].help)
                ap_rprintf(r, "# HELP %s %s\n# TYPE %s counter\n", STATS[i].metric,
                           STATS[i].help, STATS[i].metric);
            ap_rprintf(r, "%s%s%s%s %" APR_UINT64_T_FMT "\n", STATS[i].metric,
                       STATS[i].label ? "{" : "", STATS[i].label ? STATS[i].label : "",
                       STATS[i].label ? "}" : "", v[i]);
        }
        wos_scache_status(r, 1);
        return OK;
    }
    ap_set_content_type(r, "application/json");
    if (r->header_only)
        return OK;
    ap_rputs("{", r);
    for (i = 0; i < WOS_STAT_COUNT; i++)
        ap_rprintf(r, "%s\"%s\":%" APR_UINT64_T_FMT, i ? "," : "", STATS[i].json, v[i]);
    wos_scache_status(r, 0);
    ap_rputs("}\n", r);
    return OK;
}

void wos_status_register_hooks(void)
{
    ap_hook_handler(wos_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_insert_error_filter(wos_status_error_answer, NULL, NULL, APR_HOOK_MIDDLE);
}
