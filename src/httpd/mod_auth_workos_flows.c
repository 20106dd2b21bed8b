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
#include "wos_hints.h"
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

static int redirect(request_rec *r, const char *location)
{
    apr_table_setn(r->headers_out, "Location", location);
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    return HTTP_MOVED_TEMPORARILY;
}

/* Query parameters; a repeated name is ambiguous and is refused. */
static int parse_args(request_rec *r, const char *query, apr_table_t **args)
{
    apr_table_t *t = apr_table_make(r->pool, 8);
    char *q = query ? apr_pstrdup(r->pool, query) : NULL, *tok, *last;

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

static int read_args(request_rec *r, apr_table_t **args)
{
    return parse_args(r, r->args, args);
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

static int start_login(request_rec *r, const wos_dir_cfg *c, const char *return_to,
                       const wos_login_hints *h)
{
    wos_api_cfg api;
    wos_authorize_params ap;
    wos_cookie_attrs a;
    wos_signin si;
    const char *target = "/", *sealed, *elsewhere;

    if (!c->redirect_uri) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "WOS00501: sign-in needs WorkOSRedirectURI (the callback)");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if ((elsewhere = wos_signin_elsewhere(r, c)) != NULL)
        return redirect(r, elsewhere);      /* its state cookie must be the callback's */
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
    ap.organization_id = h->organization_id ? h->organization_id : c->organization;
    ap.provider = "authkit";      /* with an organization too; a connection drops it */
    ap.screen_hint = h->screen_hint;
    ap.login_hint = h->login_hint;
    ap.prompt = h->prompt;
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "WOS00503: sending the browser to sign in");
    return redirect(r, wos_api_authorize_url(r->pool, &api, &ap));
}

int wos_start_login(request_rec *r, const wos_dir_cfg *c, const char *return_to,
                    const char *screen_hint)
{
    wos_login_hints h = {screen_hint, NULL, NULL, NULL};
    return start_login(r, c, return_to, &h);
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

/* A state is good once: remember it (with its target, for a reload of the
 * callback) until it would have expired anyway. */
static int first_use(request_rec *r, const char *state, const char *target)
{
    wos_srv_cfg *s = wos_scfg(r->server);

    return s->cache.add(&s->cache, r->pool, wos_signin_used_key(r->pool, state), target,
                        strlen(target), apr_time_now() + apr_time_from_sec(WOS_SIGNIN_TTL))
           == WOS_OK;
}

/* The target of a state used already, or NULL. */
static const char *used_target(request_rec *r, const char *state)
{
    wos_srv_cfg *s = wos_scfg(r->server);
    char *v;
    apr_size_t len;

    if (s->cache.get(&s->cache, r->pool, wos_signin_used_key(r->pool, state), MAX_PARAM, &v, &len) != WOS_OK
        || len == 0 || v[0] != '/')
        return NULL;
    return v;
}

/* A callback used already: its target, if the browser is signed in; else a page. */
static int replayed(request_rec *r, const wos_dir_cfg *c, const char *target)
{
    wos_cookie_in cin;
    wos_authn_in in;
    wos_api_cfg api;
    wos_session *s;
    wos_claims *cl;
    const char *err;

    wos_read_session_cookie(r, c, &cin);
    wos_fill_authn_in(r, c, &in, &api);
    in.cookie = cin.value;
    if (wos_authn_peek(r->pool, &in, &s, &cl, &err) == WOS_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "WOS01503: callback used again by a "
                      "signed-in browser: on to its target");
        return redirect(r, absolute(r, target));
    }
    return wos_page_error(r, WOS_PAGE_STATE_REPLAYED, NULL, target);
}

/* No sign-in cookie at all: cookies refused, or sign-in began on another host. */
static int no_state_cookies(request_rec *r)
{
    const char *hdr = wos_cookie_header(r);
    return !hdr || wos_cookie_names_with_prefix(r->pool, hdr, WOS_SIGNIN_COOKIE_PREFIX)->nelts == 0;
}

/* Where sign-in finishes, for the page (@p for_log 0) or the log line (1). */
static const char *host_hint(request_rec *r, const wos_dir_cfg *c, int for_log)
{
    const char *here = absolute(r, "/");

    if (for_log)
        return apr_psprintf(r->pool, " (the browser sent no sign-in cookie to %s: sign-in "
                            "started on another host name than this one, or cookies are "
                            "blocked)", ap_escape_logitem(r->pool, here));
    return apr_pstrcat(r->pool, "Sign-in finishes at ", here, ": open the site at that "
                       "address (not another name for it, such as 127.0.0.1 or localhost), "
                       "then sign in again.", NULL);
}

static int handle_callback(request_rec *r, const wos_dir_cfg *c)
{
    apr_table_t *args;
    const char *state, *code, *error, *target, *sealed, *err = NULL;
    wos_signin si;
    wos_api_cfg api;
    wos_auth_result *res;
    wos_cookie_in old;
    wos_rv rv;

    if (read_args(r, &args) != OK)
        return wos_page_error(r, WOS_PAGE_MALFORMED, NULL, NULL);
    state = apr_table_get(args, "state");
    code = apr_table_get(args, "code");
    error = apr_table_get(args, "error");
    if (!state || !*state || !open_state(r, c, state, &si)) {
        /* Used already (reload, Back): a signed-in browser just goes on. */
        if (state && *state && (target = used_target(r, state)) != NULL)
            return replayed(r, c, target);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "WOS00504: callback with a missing, expired or forged state%s",
                      no_state_cookies(r) ? host_hint(r, c, 1) : "");
        return wos_page_error(r, WOS_PAGE_STATE_UNKNOWN,
                              no_state_cookies(r) ? host_hint(r, c, 0) : NULL, NULL);
    }
    target = si.return_path;
    if (!first_use(r, state, target)) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "WOS00505: callback state replayed");
        return replayed(r, c, target);
    }
    if (error) {
        const char *desc = apr_table_get(args, "error_description");
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "WOS00506: sign-in returned error %s",
                      ap_escape_logitem(r->pool, error));
        return wos_page_error(r, strcmp(error, "access_denied") ? WOS_PAGE_PROVIDER_ERROR
                                                                : WOS_PAGE_CANCELLED,
                              apr_pstrcat(r->pool, "WorkOS said: ",
                                          desc && *desc ? desc : error, NULL), target);
    }
    if (!code || !*code)
        return wos_page_error(r, WOS_PAGE_MALFORMED, "No sign-in code came back.", target);

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
        return wos_page_error(r, unavailable ? WOS_PAGE_UNAVAILABLE : WOS_PAGE_EXCHANGE_FAILED,
                              NULL, target);
    }
    if (wos_format_seal(r->pool, wos_cfg_format(c),
                        APR_ARRAY_IDX(c->passwords, 0, const char *), res->session, 0,
                        &sealed) != WOS_OK)
        return HTTP_INTERNAL_SERVER_ERROR;
    /* A new session replaces whatever the browser had (never reuse a pre-login one). */
    wos_read_session_cookie(r, c, &old);
    wos_store_session_cookie(r, c, sealed, &old);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "WOS00509: signed in %s",
                  res->session->user_id);
    wos_stat_inc(r->server, WOS_STAT_SIGN_INS);
    /* Relative to the site (a path), so that behind a TLS-terminating proxy the
     * browser stays on the scheme and host it used; an allowed absolute target
     * is sent as it is. */
    return redirect(r, target);
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
    apr_table_t *args;
    const char *asked = read_args(r, &args) == OK ? apr_table_get(args, "return_to") : NULL;

    wos_read_session_cookie(r, c, &cin);
    wos_fill_authn_in(r, c, &in, &api);
    in.cookie = cin.value;
    wos_store_session_cookie(r, c, NULL, &cin);
    if (cin.value)
        wos_stat_inc(r->server, WOS_STAT_SIGN_OUTS);
    /* return_to under the sign-in redirect policy, else the configured place. */
    if (asked && wos_redirect_validate(r->pool, asked, c->redirect_allow, &back) == WOS_OK)
        back = absolute(r, back);
    else {
        if (asked)
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "WOS01641: logout return_to refused; "
                          "using WorkOSLogoutReturnTo");
        back = absolute(r, c->logout_return_to ? c->logout_return_to : "/");
    }
    if (wos_authn_peek(r->pool, &in, &s, &cl, &err) == WOS_OK && cl && cl->sid) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "WOS00510: signed out %s", s->user_id);
        return redirect(r, wos_api_logout_url(r->pool, &api, cl->sid, back));
    }
    return redirect(r, back);
}

/* A form submitted by a browser (wos_is_browser is for GET navigations). */
static int wants_html(request_rec *r)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");
    return accept && ap_strcasestr(accept, "text/html") != NULL;
}

/* The switch needs the user at AuthKit first (SSO, MFA enrollment): where
 * WorkOS says, else AuthKit scoped to that organization (as the SDK does). */
static int switch_needs_user(request_rec *r, const wos_dir_cfg *c, const char *org,
                             const wos_authn_out *out, apr_table_t *args)
{
    wos_dir_cfg scoped = *c;

    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "WOS01402: organization switch needs the user at AuthKit (%s): sending the "
                  "browser %s", out->error ? out->error : "-",
                  out->redirect_url ? "to WorkOS's authkit_redirect_url"
                                    : "to sign in with the organization");
    if (out->redirect_url)
        return redirect(r, out->redirect_url);
    scoped.organization = org;
    scoped.connection = NULL;
    return wos_start_login(r, &scoped, return_target(r, c, args), NULL);
}

static int handle_switch_org(request_rec *r, const wos_dir_cfg *c)
{
    apr_table_t *args;
    const char *org;
    wos_cookie_in cin;
    wos_authn_in in;
    wos_authn_out out;
    wos_api_cfg api;

    /* A POST form of this site only: another site must not switch a visitor. */
    if (!wos_guard_same_origin(r)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "WOS01642: organization switch refused: "
                      "not from this site (Origin / Sec-Fetch-Site)");
        return wos_page_error(r, WOS_PAGE_CROSS_SITE, NULL, NULL);
    }
    if (wos_guard_read_form(r, &args) != OK)
        return wos_page_error(r, WOS_PAGE_BAD_REQUEST, NULL, NULL);
    org = apr_table_get(args, "organization_id");
    if (!org || !*org || strlen(org) > 128)
        return wos_page_error(r, WOS_PAGE_BAD_REQUEST, "organization_id is required.", NULL);
    wos_read_session_cookie(r, c, &cin);
    wos_fill_authn_in(r, c, &in, &api);
    in.cookie = cin.value;
    in.switch_org = org;
    wos_guard_gate(r, c, &in.refresh);
    wos_authn_check(r->pool, &in, &out);
    if (wos_idle_check(r, c, &out)) {
        /* Idle for WorkOSInactivityTimeout: ended, not switched. */
        wos_store_session_cookie(r, c, NULL, &cin);
        return wants_html(r) ? wos_start_login(r, c, apr_table_get(args, "return_to"), NULL)
                             : HTTP_UNAUTHORIZED;
    }
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
        if (out.interaction)
            return switch_needs_user(r, c, org, &out, args);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "WOS00512: organization switch refused: %s",
                      out.error ? out.error : "-");
        return wos_page_error(r, WOS_PAGE_SWITCH_REFUSED, NULL, NULL);
    case WOS_AUTHN_RETRY:
    case WOS_AUTHN_NOKEYS:
        if (out.limited) {
            apr_table_setn(r->err_headers_out, "Retry-After",
                           apr_psprintf(r->pool, "%ld", out.retry_after));
            return wos_page_error(r, WOS_PAGE_TOO_MANY, NULL, NULL);
        }
        apr_table_setn(r->err_headers_out, "Retry-After", "5");
        return wos_page_error(r, WOS_PAGE_UNAVAILABLE, NULL, NULL);
    default:
        /* Signed out meanwhile: sign in, then back to the page of the form. */
        if (wants_html(r))
            return wos_start_login(r, c, apr_table_get(args, "return_to"), NULL);
        return HTTP_UNAUTHORIZED;
    }
}

typedef struct { wos_login_hints *h; request_rec *r; const char *bad; } hint_walk;

static int take_hint(void *baton, const char *name, const char *value)
{
    hint_walk *w = baton;
    const char *err = NULL;

    if (wos_hints_take(w->h, name, value, &err) == WOS_EINVAL) {
        w->bad = err;
        return 0;
    }
    return 1;
}

static int handle_login(request_rec *r, const wos_dir_cfg *c, const char *hint)
{
    apr_table_t *args;
    wos_login_hints h = {NULL, NULL, NULL, NULL};
    hint_walk w = {&h, r, NULL};

    if (read_args(r, &args) != OK)
        return wos_page_error(r, WOS_PAGE_BAD_REQUEST, NULL, NULL);
    apr_table_do(take_hint, &w, args, NULL);
    if (w.bad) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "WOS01640: sign-in link refused: %s", w.bad);
        return wos_page_error(r, WOS_PAGE_BAD_REQUEST, w.bad, NULL);
    }
    if (hint)
        h.screen_hint = hint;      /* WorkOSSignUpURI */
    return start_login(r, c, return_target(r, c, args), &h);
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
    if (r->method_number != (which == WOS_EP_SWITCH_ORG ? M_POST : M_GET)) {
        /* the 405's Allow header; the switch changes the session: POST only */
        ap_allow_methods(r, REPLACE_ALLOW, which == WOS_EP_SWITCH_ORG ? "POST" : "GET", NULL);
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
