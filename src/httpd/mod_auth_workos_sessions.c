/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_workos_sessions.c: WorkOSSessionsURI, "your sessions". GET
 * answers the signed-in user's active WorkOS sessions as JSON, the current
 * one marked; POST revoke=<session id> revokes one of them (checked against
 * that list, so never another user's), revoke=others all but the current
 * one. POSTs only from this site (the organization switch's same-origin
 * check). Both count against the session's WorkOSSessionCallLimit: a POST
 * in the switch's own count, a GET in a count of its own (so that listing
 * cannot use up what revoking needs). A quick handler, like the sign-in endpoints: it
 * runs with the server's (or virtual host's) settings. Errors are JSON.
 */
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>

#include "mod_auth_workos.h"
#include "wos_sessionlist.h"

#define REVOKE_OTHERS "others"
#define MAX_SESSION_ID 128

typedef struct call {
    request_rec *r;
    const wos_dir_cfg *c;
    wos_api_cfg api;
    wos_authn_out out;
    wos_cookie_in cin;
    apr_array_header_t *list;           /* wos_user_session */
} call;

static int send_error(request_rec *r, int status, const char *code)
{
    return wos_send_json(r, status, apr_psprintf(r->pool, "{\"error\":\"%s\"}", code));
}

static int retry_later(request_rec *r, int status, const char *code, long retry_after)
{
    apr_table_setn(r->err_headers_out, "Retry-After",
                   apr_psprintf(r->pool, "%ld", retry_after > 0 ? retry_after : 5));
    return send_error(r, status, code);
}

static int is_sessions(request_rec *r, const wos_dir_cfg *c)
{
    return c->sessions.uri && r->parsed_uri.path && !strcmp(r->parsed_uri.path, c->sessions.uri);
}

/* A "revoke" parameter in the query string (a GET must not revoke). */
static int query_revokes(request_rec *r)
{
    char *q = r->args ? apr_pstrdup(r->pool, r->args) : NULL, *tok, *last;

    for (tok = q ? apr_strtok(q, "&", &last) : NULL; tok; tok = apr_strtok(NULL, "&", &last))
        if (!strncmp(tok, "revoke", 6) && (tok[6] == '=' || !tok[6]))
            return 1;
    return 0;
}

/* The session behind the cookie (refreshed, idle-checked, the cookie kept up to date). */
static wos_authn_outcome authenticate(call *k)
{
    wos_authn_in in;

    wos_fill_authn_in(k->r, k->c, &in, &k->api);
    if (wos_read_session_cookie(k->r, k->c, &k->cin) == WOS_OK)
        in.cookie = k->cin.value;
    wos_authn_check(k->r->pool, &in, &k->out);
    wos_idle_check(k->r, k->c, &k->out);
    wos_stat_authn(k->r, &k->out);
    if (k->out.new_cookie)
        wos_store_session_cookie(k->r, k->c, k->out.new_cookie, &k->cin);
    else if (k->out.outcome == WOS_AUTHN_INVALID || k->out.outcome == WOS_AUTHN_ENDED)
        wos_store_session_cookie(k->r, k->c, NULL, &k->cin);
    return k->out.outcome;
}

/* The session's cap on calls to WorkOS: the organization switch's gate,
 * counted by the session id (a POST) or by "list:" and the session id (a GET). */
static int take_call(call *k, int listing, long *retry_after)
{
    const char *sid = k->out.claims->sid;
    wos_refresh_ctx rc;

    memset(&rc, 0, sizeof(rc));
    wos_guard_gate(k->r, k->c, &rc);
    return rc.gate(rc.gate_baton, listing ? apr_pstrcat(k->r->pool, "list:", sid, NULL) : sid,
                   retry_after) == WOS_OK;
}

/* A failed call to WorkOS as an answer: 503 to retry, 502 when refused. */
static int upstream_failed(call *k, wos_rv rv, long retry_after, const char *err)
{
    request_rec *r = k->r;

    ap_log_rerror(APLOG_MARK, rv == WOS_EUPSTREAM ? APLOG_ERR : APLOG_WARNING, 0, r,
                  "WOS02111: sessions endpoint: %s", err ? err : wos_strerror(rv));
    if (rv == WOS_EUNAVAIL)
        return retry_later(r, HTTP_SERVICE_UNAVAILABLE, "unavailable", retry_after);
    return send_error(r, rv == WOS_EUPSTREAM ? HTTP_BAD_GATEWAY : HTTP_INTERNAL_SERVER_ERROR,
                      "upstream_refused");
}

static wos_rv revoke_one(call *k, const char *sid, apr_array_header_t *done, long *retry_after,
                         const char **err)
{
    wos_rv rv = wos_sessionlist_revoke(k->r->pool, &k->api, sid, retry_after, err);

    if (rv != WOS_OK)
        return rv;
    APR_ARRAY_PUSH(done, const char *) = sid;
    wos_idle_mark_ended(k->r, k->c, sid);
    wos_stat_inc(k->r->server, WOS_STAT_SESSIONS_REVOKED);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, k->r, "WOS02112: %s revoked session %s%s",
                  k->out.session->user_id, wos_short_hash(k->r->pool, sid),
                  strcmp(sid, k->out.claims->sid) ? "" : " (the current one: signed out)");
    return WOS_OK;
}

/* revoke=<id> (one of the user's, maybe the current one) or revoke=others. */
static int handle_revoke(call *k, const char *what)
{
    apr_array_header_t *done = apr_array_make(k->r->pool, 4, sizeof(const char *));
    const char *current = k->out.claims->sid, *err = NULL;
    int i, others = !strcmp(what, REVOKE_OTHERS), signed_out = 0;
    long retry_after = -1;
    wos_rv rv = WOS_OK;

    if (!others && !wos_sessionlist_find(k->list, what)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, k->r, "WOS02113: sessions endpoint: %s "
                      "asked to revoke a session that is not one of theirs (%s)",
                      k->out.session->user_id, wos_short_hash(k->r->pool, what));
        return send_error(k->r, HTTP_NOT_FOUND, "session_not_found");
    }
    for (i = 0; rv == WOS_OK && i < k->list->nelts; i++) {
        const char *id = APR_ARRAY_IDX(k->list, i, wos_user_session).id;
        if (others ? strcmp(id, current) != 0 : strcmp(id, what) == 0)
            rv = revoke_one(k, id, done, &retry_after, &err);
    }
    if (!others && !strcmp(what, current) && rv == WOS_OK) {
        wos_store_session_cookie(k->r, k->c, NULL, &k->cin);
        signed_out = 1;
    }
    if (rv == WOS_OK)
        return wos_send_json(k->r, HTTP_OK, wos_sessionlist_revoked_json(k->r->pool, done,
                                                                     signed_out, NULL));
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, k->r, "WOS02114: sessions endpoint: revoke "
                  "failed after %d revoked: %s", done->nelts, err ? err : wos_strerror(rv));
    if (rv == WOS_EUNAVAIL)
        apr_table_setn(k->r->err_headers_out, "Retry-After",
                       apr_psprintf(k->r->pool, "%ld", retry_after > 0 ? retry_after : 5));
    return wos_send_json(k->r, rv == WOS_EUNAVAIL ? HTTP_SERVICE_UNAVAILABLE : HTTP_BAD_GATEWAY,
                     wos_sessionlist_revoked_json(k->r->pool, done, 0,
                                                  rv == WOS_EUNAVAIL ? "unavailable"
                                                                     : "upstream_refused"));
}

/* Signed in, within the call limit, and the list fetched: then list or revoke. */
static int serve(call *k, const char *what)
{
    const char *err = NULL;
    long retry_after = -1;
    wos_rv rv;

    switch (authenticate(k)) {
    case WOS_AUTHN_OK:
        break;
    case WOS_AUTHN_RETRY:
    case WOS_AUTHN_NOKEYS:
        return retry_later(k->r, HTTP_SERVICE_UNAVAILABLE, "unavailable", k->out.retry_after);
    default:
        return send_error(k->r, HTTP_UNAUTHORIZED, "unauthenticated");
    }
    if (!k->out.claims || !k->out.claims->sid)
        return send_error(k->r, HTTP_CONFLICT, "no_session_id");
    if (!take_call(k, what == NULL, &retry_after))
        return retry_later(k->r, HTTP_TOO_MANY_REQUESTS, "rate_limited", retry_after);
    rv = wos_sessionlist_fetch(k->r->pool, &k->api, k->out.session->user_id, &k->list,
                               &retry_after, &err);
    if (rv != WOS_OK)
        return upstream_failed(k, rv, retry_after, err);
    if (!what)
        return wos_send_json(k->r, HTTP_OK, wos_sessionlist_json(k->r->pool, k->list,
                                                             k->out.claims->sid));
    return handle_revoke(k, what);
}

/* POST: revoke=<id>|others from this site's pages only. */
static int read_revoke(request_rec *r, const char **what)
{
    apr_table_t *form;

    if (!wos_guard_same_origin(r)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "WOS02110: sessions endpoint: POST "
                      "refused: not from this site (Origin / Sec-Fetch-Site)");
        return send_error(r, HTTP_FORBIDDEN, "cross_site_request");
    }
    if (wos_guard_read_form(r, &form) != OK)
        return send_error(r, HTTP_BAD_REQUEST, "bad_request");
    *what = apr_table_get(form, "revoke");
    if (!*what || !**what || strlen(*what) > MAX_SESSION_ID)
        return send_error(r, HTTP_BAD_REQUEST, "revoke_required");
    return DECLINED;
}

/* quick_handler: the sessions endpoint. */
static int sessions_handler(request_rec *r, int lookup_uri)
{
    wos_dir_cfg *c = wos_dcfg(r);
    const char *what = NULL;
    call k;
    int rv;

    if (lookup_uri || !c || !is_sessions(r, c))
        return DECLINED;
    wos_scrub_headers(r);
    if (wos_check_config(r, c) != OK)
        return HTTP_INTERNAL_SERVER_ERROR;
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    apr_table_mergen(r->err_headers_out, "Vary", "Cookie");
    if (r->method_number != M_GET && r->method_number != M_POST) {
        ap_allow_methods(r, REPLACE_ALLOW, "GET", "POST", NULL);
        return send_error(r, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed");
    }
    if (r->method_number == M_GET && query_revokes(r)) {
        apr_table_setn(r->err_headers_out, "Allow", "POST");
        return send_error(r, HTTP_METHOD_NOT_ALLOWED, "revoke_needs_post");
    }
    if (r->method_number == M_POST && (rv = read_revoke(r, &what)) != DECLINED)
        return rv;
    memset(&k, 0, sizeof(k));
    k.r = r;
    k.c = c;
    return serve(&k, what);
}

void wos_sessions_endpoint_register_hooks(void)
{
    ap_hook_quick_handler(sessions_handler, NULL, NULL, APR_HOOK_FIRST);
}
