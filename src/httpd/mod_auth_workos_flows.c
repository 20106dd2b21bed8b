/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_workos_flows.c: the endpoints the module serves itself: sign-in
 * start (and sign-up), the callback, logout, organization switch. They run
 * as a quick handler, before any <Location> auth, with the server's (or
 * virtual host's) settings.
 */
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <util_script.h>

#include "mod_auth_workos.h"
#include "wos_json.h"
#include "wos_rand.h"
#include "wos_redirect.h"
#include "wos_seal.h"
#include "wos_signin.h"

#define MAX_PARAM         4096      /* longest code/state/organization_id accepted */

static const char *path_of(const char *uri_or_path)
{
    const char *p;

    if (uri_or_path[0] == '/')
        return uri_or_path;
    p = strstr(uri_or_path, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    return p ? p : "/";
}

/* An absolute URL for a configured path or URL, on this request's host. */
static const char *absolute(request_rec *r, const char *uri_or_path)
{
    if (uri_or_path[0] != '/')
        return uri_or_path;
    return ap_construct_url(r->pool, uri_or_path, r);
}

static int error_page(request_rec *r, int status, const char *title, const char *detail)
{
    r->status = status;
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    ap_set_content_type(r, "text/html; charset=utf-8");
    if (r->header_only)
        return OK;
    ap_rprintf(r, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title></head>"
               "<body><h1>%s</h1><p>%s</p><p><a href=\"/\">Back to the start page</a></p>"
               "</body></html>\n",
               ap_escape_html(r->pool, title), ap_escape_html(r->pool, title),
               ap_escape_html(r->pool, detail ? detail : ""));
    return OK;
}

static int redirect(request_rec *r, const char *location)
{
    apr_table_setn(r->headers_out, "Location", location);
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    return HTTP_MOVED_TEMPORARILY;
}

/* Query parameters; a repeated name is ambiguous and is refused. */
static int read_args(request_rec *r, apr_table_t **args)
{
    apr_table_t *t = apr_table_make(r->pool, 8);
    char *q = r->args ? apr_pstrdup(r->pool, r->args) : NULL, *tok, *last;

    for (tok = q ? apr_strtok(q, "&", &last) : NULL; tok; tok = apr_strtok(NULL, "&", &last)) {
        char *eq = strchr(tok, '=');
        char *k = tok, *v = eq ? eq + 1 : "";
        if (eq)
            *eq = '\0';
        /* Form decoding ('+' is a space); %2F is fine, %00 is refused. */
        if (ap_unescape_urlencoded(k) != OK || ap_unescape_urlencoded(v) != OK)
            return HTTP_BAD_REQUEST;
        if (strlen(v) > MAX_PARAM)
            return HTTP_BAD_REQUEST;
        if (apr_table_get(t, k))
            return HTTP_BAD_REQUEST;
        apr_table_setn(t, k, v);
    }
    *args = t;
    return OK;
}

static void state_cookie_attrs(const wos_dir_cfg *c, wos_cookie_attrs *a)
{
    wos_cookie_attrs session;

    wos_cfg_cookie_attrs(c, &session);
    wos_signin_cookie_attrs(&session, a);
}

/* Set-Cookie, unless formatting refused the value (NULL). */
static void add_set_cookie(request_rec *r, const char *value)
{
    if (value)
        apr_table_addn(r->err_headers_out, "Set-Cookie", value);
}

/* At most WOS_SIGNIN_MAX_COOKIES sign-ins in flight: drop the oldest ones. */
static void bound_state_cookies(request_rec *r, const wos_cookie_attrs *a)
{
    apr_array_header_t *drop = wos_signin_excess(r->pool, wos_cookie_header(r));
    int i;

    for (i = 0; i < drop->nelts; i++)
        add_set_cookie(r, wos_cookie_format_delete(r->pool, a,
                                                   APR_ARRAY_IDX(drop, i, const char *)));
}

int wos_start_login(request_rec *r, const wos_dir_cfg *c, const char *return_to,
                    const char *screen_hint)
{
    wos_api_cfg api;
    wos_authorize_params ap;
    wos_cookie_attrs a;
    wos_signin si;
    const char *target = "/", *sealed;

    if (!c->redirect_uri) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "WOS00501: sign-in needs WorkOSRedirectURI (the callback)");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (return_to && wos_redirect_validate(r->pool, return_to, c->redirect_allow, &target)
                     != WOS_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "WOS00502: return target refused; using /");
        target = "/";
    }
    if (wos_signin_make(r->pool, target, &si) != WOS_OK
        || wos_signin_seal(r->pool, &si, APR_ARRAY_IDX(c->passwords, 0, const char *),
                           apr_time_as_msec(apr_time_now()), &sealed) != WOS_OK)
        return HTTP_INTERNAL_SERVER_ERROR;

    state_cookie_attrs(c, &a);
    bound_state_cookies(r, &a);
    add_set_cookie(r, wos_cookie_format(r->pool, &a, wos_signin_cookie_name(r->pool, si.state),
                                        sealed));

    wos_cfg_api(r, c, &api);
    memset(&ap, 0, sizeof(ap));
    ap.redirect_uri = absolute(r, c->redirect_uri);
    ap.state = si.state;
    ap.code_challenge = wos_pkce_challenge(r->pool, si.code_verifier);
    ap.connection_id = c->connection;
    ap.organization_id = c->organization;
    ap.provider = (c->connection || c->organization) ? NULL : "authkit";
    ap.screen_hint = screen_hint;
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "WOS00503: sending the browser to sign in");
    return redirect(r, wos_api_authorize_url(r->pool, &api, &ap));
}

/* The sign-in the state cookie for @p state holds; the cookie is deleted. */
static int open_state(request_rec *r, const wos_dir_cfg *c, const char *state,
                      wos_signin *si)
{
    const char *hdr = wos_cookie_header(r), *name = wos_signin_cookie_name(r->pool, state);
    const char *err;
    wos_cookie_in in;
    wos_cookie_attrs a;

    memset(&in, 0, sizeof(in));
    if (!hdr || wos_cookie_read(r->pool, hdr, name, WOS_SIGNIN_MAX_COOKIE, &in) != WOS_OK
        || !in.value)
        return 0;
    state_cookie_attrs(c, &a);
    add_set_cookie(r, wos_cookie_format_delete(r->pool, &a, name));
    if (wos_signin_open(r->pool, in.value, state, c->passwords,
                        apr_time_as_msec(apr_time_now()), si, &err) != WOS_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "WOS00901: state cookie refused: %s",
                      err ? err : "-");
        return 0;
    }
    return 1;
}

/* A state is good once: remember it until it would have expired anyway. */
static int first_use(request_rec *r, const char *state)
{
    wos_srv_cfg *s = wos_scfg(r->server);

    return s->cache.add(&s->cache, r->pool, wos_signin_used_key(r->pool, state), "1", 1,
                        apr_time_now() + apr_time_from_sec(WOS_SIGNIN_TTL)) == WOS_OK;
}

static int handle_callback(request_rec *r, const wos_dir_cfg *c)
{
    apr_table_t *args;
    const char *state, *code, *error, *sealed, *json, *err = NULL;
    wos_signin si;
    wos_api_cfg api;
    wos_auth_result *res;
    wos_cookie_in old;
    wos_rv rv;

    if (read_args(r, &args) != OK)
        return error_page(r, HTTP_BAD_REQUEST, "Sign-in failed",
                          "The sign-in response was malformed.");
    state = apr_table_get(args, "state");
    code = apr_table_get(args, "code");
    error = apr_table_get(args, "error");
    if (!state || !*state || !open_state(r, c, state, &si)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "WOS00504: callback with a missing, expired or forged state");
        return error_page(r, HTTP_BAD_REQUEST, "Sign-in failed",
                          "This sign-in attempt is unknown or has expired. Please sign in again.");
    }
    if (!first_use(r, state)) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "WOS00505: callback state replayed");
        return error_page(r, HTTP_BAD_REQUEST, "Sign-in failed",
                          "This sign-in response was already used.");
    }
    if (error) {
        const char *desc = apr_table_get(args, "error_description");
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "WOS00506: sign-in returned error %s",
                      ap_escape_logitem(r->pool, error));
        return error_page(r, HTTP_UNAUTHORIZED, "Sign-in was not completed",
                          desc && *desc ? desc : error);
    }
    if (!code || !*code)
        return error_page(r, HTTP_BAD_REQUEST, "Sign-in failed", "No code was returned.");

    wos_cfg_api(r, c, &api);
    rv = wos_api_authenticate_code(r->pool, &api, code, si.code_verifier, r->useragent_ip,
                                   apr_table_get(r->headers_in, "User-Agent"), &res, &err);
    if (rv != WOS_OK) {
        int unavailable = rv == WOS_EUNAVAIL;
        ap_log_rerror(APLOG_MARK, unavailable ? APLOG_WARNING : APLOG_INFO, 0, r,
                      "WOS00507: code exchange failed: %s (%s)",
                      res && res->error ? res->error : wos_strerror(rv), err ? err : "-");
        if (res && res->http_status == 401)
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                          "WOS00508: WorkOS refused the API key: check WorkOSAPIKey");
        return error_page(r, unavailable ? HTTP_SERVICE_UNAVAILABLE : HTTP_UNAUTHORIZED,
                          "Sign-in failed",
                          unavailable ? "The sign-in service is unavailable. Please try again."
                                      : "The sign-in could not be completed. Please try again.");
    }
    json = wos_session_serialize(r->pool, res->session);
    if (!json || wos_seal(r->pool, APR_ARRAY_IDX(c->passwords, 0, const char *), json,
                          strlen(json), 0, apr_time_as_msec(apr_time_now()), &sealed) != WOS_OK)
        return HTTP_INTERNAL_SERVER_ERROR;
    /* A new session replaces whatever the browser had (never reuse a pre-login one). */
    wos_read_session_cookie(r, c, &old);
    wos_store_session_cookie(r, c, sealed, &old);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "WOS00509: signed in %s",
                  res->session->user_id);
    wos_stat_inc(r->server, WOS_STAT_SIGN_INS);
    return redirect(r, absolute(r, si.return_path));
}

static const char *return_target(request_rec *r, const wos_dir_cfg *c, apr_table_t *args)
{
    const char *t = apr_table_get(args, "return_to"), *ok;
    if (t && wos_redirect_validate(r->pool, t, c->redirect_allow, &ok) == WOS_OK)
        return ok;
    return "/";
}

static int handle_logout(request_rec *r, const wos_dir_cfg *c)
{
    const char *err, *back;
    wos_cookie_in cin;
    wos_authn_in in;
    wos_api_cfg api;
    wos_session *s = NULL;
    wos_claims *cl = NULL;

    wos_read_session_cookie(r, c, &cin);
    wos_fill_authn_in(r, c, &in, &api);
    in.cookie = cin.value;
    wos_store_session_cookie(r, c, NULL, &cin);
    if (cin.value)
        wos_stat_inc(r->server, WOS_STAT_SIGN_OUTS);
    back = absolute(r, c->logout_return_to ? c->logout_return_to : "/");
    if (wos_authn_peek(r->pool, &in, &s, &cl, &err) == WOS_OK && cl && cl->sid) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "WOS00510: signed out %s", s->user_id);
        return redirect(r, wos_api_logout_url(r->pool, &api, cl->sid, back));
    }
    return redirect(r, back);
}

static int handle_switch_org(request_rec *r, const wos_dir_cfg *c)
{
    apr_table_t *args;
    const char *org;
    wos_cookie_in cin;
    wos_authn_in in;
    wos_authn_out out;
    wos_api_cfg api;

    if (read_args(r, &args) != OK)
        return error_page(r, HTTP_BAD_REQUEST, "Bad request", "Malformed parameters.");
    org = apr_table_get(args, "organization_id");
    if (!org || !*org || strlen(org) > 128)
        return error_page(r, HTTP_BAD_REQUEST, "Bad request", "organization_id is required.");
    wos_read_session_cookie(r, c, &cin);
    wos_fill_authn_in(r, c, &in, &api);
    in.cookie = cin.value;
    in.switch_org = org;
    wos_authn_check(r->pool, &in, &out);
    wos_stat_refresh(r->server, &out);
    if (out.new_cookie)
        wos_store_session_cookie(r, c, out.new_cookie, &cin);
    switch (out.outcome) {
    case WOS_AUTHN_OK:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "WOS00511: %s switched organization",
                      out.session->user_id);
        wos_stat_inc(r->server, WOS_STAT_ORG_SWITCHES);
        return redirect(r, absolute(r, return_target(r, c, args)));
    case WOS_AUTHN_ENDED:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "WOS00512: organization switch refused: %s",
                      out.error ? out.error : "-");
        return error_page(r, HTTP_FORBIDDEN, "Organization switch refused",
                          "You are not a member of that organization, or it requires "
                          "another sign-in method.");
    case WOS_AUTHN_RETRY:
    case WOS_AUTHN_NOKEYS:
        apr_table_setn(r->err_headers_out, "Retry-After", "5");
        return error_page(r, HTTP_SERVICE_UNAVAILABLE, "Try again",
                          "The sign-in service is unavailable.");
    default:
        if (wos_is_browser(r))
            return wos_start_login(r, c, r->unparsed_uri, NULL);
        return HTTP_UNAUTHORIZED;
    }
}

static int handle_login(request_rec *r, const wos_dir_cfg *c, const char *hint)
{
    apr_table_t *args;

    if (read_args(r, &args) != OK)
        return error_page(r, HTTP_BAD_REQUEST, "Bad request", "Malformed parameters.");
    return wos_start_login(r, c, return_target(r, c, args), hint);
}

/* The module's endpoints, each configured by a directive (a field of wos_dir_cfg). */
typedef enum {
    WOS_EP_NONE, WOS_EP_CALLBACK, WOS_EP_LOGIN, WOS_EP_SIGNUP, WOS_EP_LOGOUT, WOS_EP_SWITCH_ORG
} wos_endpoint;

static const struct {
    wos_endpoint which;
    apr_size_t offset;              /* the const char * field holding its path or URL */
} endpoints[] = {
    {WOS_EP_CALLBACK, APR_OFFSETOF(wos_dir_cfg, redirect_uri)},
    {WOS_EP_LOGIN, APR_OFFSETOF(wos_dir_cfg, login_uri)},
    {WOS_EP_SIGNUP, APR_OFFSETOF(wos_dir_cfg, signup_uri)},
    {WOS_EP_LOGOUT, APR_OFFSETOF(wos_dir_cfg, logout_uri)},
    {WOS_EP_SWITCH_ORG, APR_OFFSETOF(wos_dir_cfg, switch_org_uri)},
};

/* Which endpoint this request is for, if any (the first configured match). */
static wos_endpoint endpoint_of(const request_rec *r, const wos_dir_cfg *c)
{
    apr_size_t i;

    for (i = 0; r->parsed_uri.path && i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
        const char *configured = *(const char *const *)((const char *)c + endpoints[i].offset);
        if (configured && !strcmp(r->parsed_uri.path, path_of(configured)))
            return endpoints[i].which;
    }
    return WOS_EP_NONE;
}

/* quick_handler: the module's own endpoints, before any <Location> auth. */
int wos_flow_handler(request_rec *r, int lookup_uri)
{
    wos_dir_cfg *c = wos_dcfg(r);
    wos_endpoint which;

    if (lookup_uri || !c)
        return DECLINED;
    which = endpoint_of(r, c);
    if (which == WOS_EP_NONE)
        return DECLINED;
    wos_scrub_headers(r);
    if (wos_check_config(r, c) != OK)
        return HTTP_INTERNAL_SERVER_ERROR;
    if (r->method_number != M_GET) {
        ap_allow_methods(r, REPLACE_ALLOW, "GET", NULL);   /* the 405's Allow header */
        return HTTP_METHOD_NOT_ALLOWED;
    }
    switch (which) {
    case WOS_EP_CALLBACK: {
        int status = handle_callback(r, c);
        if (status != HTTP_MOVED_TEMPORARILY)
            wos_stat_inc(r->server, WOS_STAT_SIGN_IN_FAILURES);
        return status;
    }
    case WOS_EP_LOGIN: return handle_login(r, c, NULL);
    case WOS_EP_SIGNUP: return handle_login(r, c, "sign-up");
    case WOS_EP_LOGOUT: return handle_logout(r, c);
    case WOS_EP_SWITCH_ORG: return handle_switch_org(r, c);
    case WOS_EP_NONE: break;
    }
    return DECLINED;
}
