/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_workos_idle.c: WorkOSInactivityTimeout. Each authenticated
 * request of a cookie session records its activity (src/wos_activity.c);
 * a session idle for the timeout is ended like a session WorkOS refused:
 * its WorkOS session revoked, its cookie deleted, browsers sent to sign in
 * (back to the page they asked for), API clients answered 401.
 */
#include <apr_strings.h>
#include <http_core.h>

#include "mod_auth_workos.h"
#include "wos_sessionlist.h"

void wos_idle_child_init(apr_pool_t *pchild, server_rec *s)
{
    wos_activity *a = NULL;
    server_rec *v;

    if (wos_activity_create(pchild, WOS_ACTIVITY_SLOTS, &a) != WOS_OK)
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "WOS02100: cannot create the table of session activity; each request "
                     "then asks the shared cache");
    for (v = s; v; v = v->next)
        wos_scfg(v)->activity = a;
}

static void activity_in(request_rec *r, const char *sid, apr_int64_t iat, int timeout,
                        wos_activity_in *in)
{
    wos_srv_cfg *s = wos_scfg(r->server);

    in->cache = &s->cache;
    in->memo = s->activity;
    in->sid = sid;
    in->iat = iat;
    in->timeout = timeout;
    in->now = apr_time_now();
}

/* Revoke at WorkOS, so that the refresh token in any copy of the cookie is void. */
static void revoke_at_workos(request_rec *r, const wos_dir_cfg *c, const char *sid)
{
    wos_api_cfg api;
    const char *err = NULL;
    long retry_after;

    wos_cfg_api(r, c, &api);
    if (wos_sessionlist_revoke(r->pool, &api, sid, &retry_after, &err) != WOS_OK)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "WOS02103: session %s ended for "
                      "inactivity here, but WorkOS did not revoke it: %s",
                      wos_short_hash(r->pool, sid), err ? err : "-");
}

int wos_idle_check(request_rec *r, const wos_dir_cfg *c, wos_authn_out *out)
{
    int timeout = wos_cfg_idle_timeout(c);
    wos_activity_verdict v;
    wos_activity_in in;
    apr_time_t idle = 0;

    if (timeout <= 0 || out->outcome != WOS_AUTHN_OK || !out->claims || !out->claims->sid)
        return 0;
    /* The token the request came with: a refresh just now is no sign of activity. */
    activity_in(r, out->claims->sid, out->presented_iat, timeout, &in);
    v = wos_activity_touch(r->pool, &in, &idle, NULL);
    if (v == WOS_ACTIVITY_ALIVE)
        return 0;
    if (v == WOS_ACTIVITY_IDLE) {
        wos_activity_end(r->pool, &in);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "WOS02101: session %s of %s ended: no "
                      "request for %" APR_TIME_T_FMT " s (WorkOSInactivityTimeout %d)",
                      wos_short_hash(r->pool, in.sid), out->session->user_id,
                      apr_time_sec(idle), timeout);
        wos_stat_inc(r->server, WOS_STAT_IDLE_ENDED);
        revoke_at_workos(r, c, in.sid);
    }
    else {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "WOS02102: session %s was ended here "
                      "before (inactivity or revoked): refused", wos_short_hash(r->pool, in.sid));
    }
    out->outcome = WOS_AUTHN_ENDED;
    out->new_cookie = NULL;
    out->error = "inactivity_timeout";
    out->reason = "ended by WorkOSInactivityTimeout";
    return 1;
}

void wos_idle_mark_ended(request_rec *r, const wos_dir_cfg *c, const char *sid)
{
    int timeout = wos_cfg_idle_timeout(c);
    wos_activity_in in;

    if (timeout <= 0)
        return;
    activity_in(r, sid, 0, timeout, &in);
    wos_activity_end(r->pool, &in);
}
