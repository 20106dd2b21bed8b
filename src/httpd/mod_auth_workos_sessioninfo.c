/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_workos_sessioninfo.c: WorkOSSessionInfoURI, "who is signed in"
 * for pages without server code (SPAs). GET answers the session as JSON
 * (wos_sessioninfo_json), POST refresh=1 refreshes it first (single flight,
 * within the session's call limit). Same-origin, or CORS with credentials
 * for the origins in WorkOSSessionInfoOrigins. A quick handler, like the
 * sign-in endpoints: it runs with the server's (or virtual host's) settings.
 */
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>

#include "mod_auth_workos.h"
#include "wos_sessioninfo.h"

static int is_info(request_rec *r, const wos_dir_cfg *c)
{
    return c->apis.info_uri && r->parsed_uri.path
           && !strcmp(r->parsed_uri.path, c->apis.info_uri);
}

/* Origin when it is another origin (NULL: same-origin or none). */
static const char *foreign_origin(request_rec *r)
{
    const char *origin = apr_table_get(r->headers_in, "Origin");

    return origin && strcasecmp(origin, wos_guard_own_origin(r)) ? origin : NULL;
}

/* The CORS answer for a listed origin; 0 when @p origin is not listed. */
static int allow_origin(request_rec *r, const wos_dir_cfg *c, const char *origin)
{
    if (!c->apis.info_origins || !wos_array_contains(c->apis.info_origins, origin))
        return 0;
    apr_table_setn(r->err_headers_out, "Access-Control-Allow-Origin", origin);
    apr_table_setn(r->err_headers_out, "Access-Control-Allow-Credentials", "true");
    return 1;
}

static int preflight(request_rec *r)
{
    if (!apr_table_get(r->headers_in, "Access-Control-Request-Method"))
        return wos_send_json(r, HTTP_BAD_REQUEST, "{\"error\":\"not_a_preflight\"}");
    apr_table_setn(r->err_headers_out, "Access-Control-Allow-Methods", "GET, POST");
    apr_table_setn(r->err_headers_out, "Access-Control-Allow-Headers", "Content-Type");
    apr_table_setn(r->err_headers_out, "Access-Control-Max-Age", "600");
    r->status = HTTP_NO_CONTENT;
    return OK;
}

/* refresh=1 as one parameter of the query string. */
static int query_refresh(request_rec *r)
{
    char *q = r->args ? apr_pstrdup(r->pool, r->args) : NULL, *tok, *last;

    for (tok = q ? apr_strtok(q, "&", &last) : NULL; tok; tok = apr_strtok(NULL, "&", &last))
        if (!strcmp(tok, "refresh=1"))
            return 1;
    return 0;
}

/* POST: refresh=1 in the form body or the query asks for a refresh now. */
static int wants_refresh(request_rec *r, int *force)
{
    apr_table_t *form;
    const char *v;
    int rv;

    *force = 0;
    if (r->method_number != M_POST)
        return OK;
    if ((rv = wos_guard_read_form(r, &form)) != OK)
        return rv;
    v = apr_table_get(form, "refresh");
    *force = v ? !strcmp(v, "1") : query_refresh(r);
    return OK;
}

static int answer(request_rec *r, const wos_dir_cfg *c, const wos_authn_out *out)
{
    switch (out->outcome) {
    case WOS_AUTHN_OK:
        return wos_send_json(r, HTTP_OK, wos_sessioninfo_json(r->pool, out->session, out->claims,
                                                          wos_cfg_info_token(c)));
    case WOS_AUTHN_RETRY:
    case WOS_AUTHN_NOKEYS:
        apr_table_setn(r->err_headers_out, "Retry-After",
                       apr_psprintf(r->pool, "%ld", out->retry_after > 0 ? out->retry_after
                                                                         : 5));
        if (out->limited)
            return wos_send_json(r, HTTP_TOO_MANY_REQUESTS, "{\"error\":\"rate_limited\"}");
        return wos_send_json(r, HTTP_SERVICE_UNAVAILABLE, "{\"error\":\"unavailable\"}");
    default:
        return wos_send_json(r, HTTP_UNAUTHORIZED, WOS_SESSIONINFO_UNAUTHENTICATED);
    }
}

static int session_info(request_rec *r, const wos_dir_cfg *c, int force)
{
    wos_cookie_in cin;
    wos_authn_in in;
    wos_authn_out out;
    wos_api_cfg api;

    wos_fill_authn_in(r, c, &in, &api);
    in.vcache = NULL;       /* the answer needs the whole user (profile picture) */
    if (wos_read_session_cookie(r, c, &cin) == WOS_OK)
        in.cookie = cin.value;
    in.force_refresh = force && in.cookie;
    if (in.force_refresh)
        wos_guard_gate(r, c, &in.refresh);
    wos_authn_check(r->pool, &in, &out);
    wos_idle_check(r, c, &out);
    wos_stat_authn(r, &out);
    if (out.new_cookie)
        wos_store_session_cookie(r, c, out.new_cookie, &cin);
    else if (out.outcome == WOS_AUTHN_INVALID || out.outcome == WOS_AUTHN_ENDED)
        wos_store_session_cookie(r, c, NULL, &cin);
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "WOS01620: session endpoint%s: %s",
                  force ? " (refresh)" : "", out.reason ? out.reason : "-");
    return answer(r, c, &out);
}

/* quick_handler: the session endpoint. */
static int sessioninfo_handler(request_rec *r, int lookup_uri)
{
    wos_dir_cfg *c = wos_dcfg(r);
    const char *origin;
    int force, rv;

    if (lookup_uri || !c || !is_info(r, c))
        return DECLINED;
    wos_scrub_headers(r);
    if (wos_check_config(r, c) != OK)
        return HTTP_INTERNAL_SERVER_ERROR;
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    apr_table_mergen(r->err_headers_out, "Vary", "Origin");
    apr_table_mergen(r->err_headers_out, "Vary", "Cookie");
    origin = foreign_origin(r);
    if (origin && !allow_origin(r, c, origin)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "WOS01621: session endpoint: origin %s "
                      "not in WorkOSSessionInfoOrigins", ap_escape_logitem(r->pool, origin));
        return wos_send_json(r, HTTP_FORBIDDEN, "{\"error\":\"origin_not_allowed\"}");
    }
    if (r->method_number == M_OPTIONS && origin)
        return preflight(r);
    if (r->method_number != M_GET && r->method_number != M_POST) {
        ap_allow_methods(r, REPLACE_ALLOW, "GET", "POST", NULL);
        return HTTP_METHOD_NOT_ALLOWED;
    }
    /* A listed origin passed above; otherwise a POST must come from this site. */
    if (r->method_number == M_POST && !origin && !wos_guard_same_origin(r)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "WOS01622: session endpoint: POST "
                      "refused: not from this site (Origin / Sec-Fetch-Site)");
        return wos_send_json(r, HTTP_FORBIDDEN, "{\"error\":\"cross_site_request\"}");
    }
    if ((rv = wants_refresh(r, &force)) != OK)
        return rv;
    return session_info(r, c, force);
}

void wos_sessioninfo_register_hooks(void)
{
    ap_hook_quick_handler(sessioninfo_handler, NULL, NULL, APR_HOOK_FIRST);
}
