/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_workos_authn.c: AuthType WorkOS. The decision itself is
 * wos_authn_check (src/wos_authn.c); this file turns a request into its
 * inputs and its outcome into an HTTP answer: identity, sign-in, 401, 503.
 */
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <mod_auth.h>

#include "mod_auth_workos.h"
#include "wos_cookie.h"

/*
 * This process's cached verification of the cookie. Most requests are such
 * hits: they need the cookie and the settings only, not all that a
 * verification needs (wos_fill_authn_in).
 */
static int recall_here(request_rec *r, const wos_dir_cfg *c, const wos_req *st,
                       const wos_cookie_in *cin, wos_authn_out *out)
{
    wos_srv_cfg *s = wos_scfg(r->server);
    wos_authn_in hit = {.cookie = cin->value, .cookie_len = cin->value_len,
                        .vcache = s->vcache, .settings = st->settings,
                        .need_token = wos_cfg_pass_token(c)};

    hit.settings.hash_key = s->hash_key;
    return wos_authn_recall(r->pool, &hit, out);
}

/* Read, check and (when refreshed) re-set the session. */
static void run_authn(request_rec *r, const wos_dir_cfg *c, const wos_req *st,
                      wos_authn_out *out, wos_cookie_in *cin)
{
    wos_authn_in in;
    wos_api_cfg api;
    wos_rv rv;

    rv = wos_read_session_cookie(r, c, cin);
    if (rv != WOS_OK && rv != WOS_ENOKEY) {
        memset(out, 0, sizeof(*out));
        out->outcome = WOS_AUTHN_INVALID;
        out->reason = apr_psprintf(r->pool, "session cookie unreadable: %s", wos_strerror(rv));
        return;
    }
    if (recall_here(r, c, st, cin, out))
        return;
    wos_fill_authn_in(r, c, &in, &api);
    in.cookie = cin->value;
    in.cookie_len = cin->value_len;
    wos_authn_after_recall(r->pool, &in, out);
}

static void log_outcome(request_rec *r, const wos_authn_out *out, const wos_cookie_in *cin)
{
    static const struct { int level; const char *tag; } how[] = {
        [WOS_AUTHN_OK]      = {APLOG_DEBUG,   "WOS00103"},
        [WOS_AUTHN_NONE]    = {APLOG_DEBUG,   "WOS00104"},
        [WOS_AUTHN_INVALID] = {APLOG_INFO,    "WOS00105"},
        [WOS_AUTHN_ENDED]   = {APLOG_INFO,    "WOS00106"},
        [WOS_AUTHN_RETRY]   = {APLOG_WARNING, "WOS00107"},
        [WOS_AUTHN_NOKEYS]  = {APLOG_ERR,     "WOS00108"},
    };
    int level = how[out->outcome].level;

    /* The session's short hash costs a SHA-256 of the cookie: only when logged. */
    if (!APLOG_R_IS_LEVEL(r, level))
        return;
    ap_log_rerror(APLOG_MARK, level, 0, r, "%s: session %s: %s%s", how[out->outcome].tag,
                  cin->value ? wos_short_hash(r->pool, cin->value) : "-",
                  out->reason ? out->reason : "-", out->refreshed ? " (refreshed)" : "");
}

/*
 * REMOTE_USER: the user id, or with WorkOSRemoteUser email the email once
 * WorkOS says it is verified (an SSO provider's unverified email could name
 * someone else's account in Require user or in the app).
 */
static const char *remote_user(request_rec *r, const wos_dir_cfg *c, const wos_session *s)
{
    if (wos_cfg_remote_user(c) != WOS_USER_EMAIL || !s->user_email)
        return s->user_id;
    if (s->user_email_verified == 1)
        return s->user_email;
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "WOS01901: email of %s not verified: "
                  "REMOTE_USER is the user id (WorkOSRemoteUser email)", s->user_id);
    return s->user_id;
}

/* WorkOS refuses the module's own credentials: the operator's to fix, said
 * loudly once a minute (across processes), not once a request. */
static void report_refused(request_rec *r, const wos_authn_out *out)
{
    if (out->refresh_failed != WOS_REFRESH_FAILED_REFUSED || !out->report_due)
        return;
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                  "WOS01401: WorkOS refused the module's refresh call (%s): check "
                  "WorkOSAPIKey and WorkOSClientID, and any proxy or firewall in front of "
                  "WorkOS; sessions are kept and answered 503 meanwhile (said once a minute)",
                  out->error ? out->error : "-");
}

/* What authkit-nextjs sends with authenticated pages. A subrequest's headers
 * never leave (an SSI page including a protected location): the answers that
 * carry its content get them too. */
static void no_cache(request_rec *r, const char *vary_on)
{
    for (; r; r = r->main) {
        const char *vary = apr_table_get(r->err_headers_out, "Vary");

        apr_table_setn(r->err_headers_out, "Cache-Control", WOS_CACHE_CONTROL_PRIVATE);
        if (!vary || !ap_find_token(r->pool, vary, vary_on))
            apr_table_mergen(r->err_headers_out, "Vary", vary_on);
    }
}

/* Identity for this request: r->user, the claims for Require, variables. */
static void establish(request_rec *r, const wos_dir_cfg *c, wos_req *st)
{
    r->user = (char *)remote_user(r, c, st->session);
    r->ap_auth_type = (char *)WOS_AUTH_TYPE;
    wos_export_identity(r, c, st);
    st->exported = 1;
    no_cache(r, st->bearer ? "Authorization" : "Cookie");
}

/* A decision made under other settings (another client, cookie, password,
 * issuer: an internal redirect into another app) does not hold here. */
static int same_settings(const wos_dir_cfg *c, const wos_req *st)
{
    wos_vcache_settings now;

    wos_authn_settings(c, &now);
    return wos_vcache_settings_same(&now, &st->settings)
           && !strcmp(wos_cfg_cookie_name(c), st->cookie_name);
}

static int unavailable(request_rec *r, long retry_after)
{
    apr_table_setn(r->err_headers_out, "Retry-After",
                   apr_psprintf(r->pool, "%ld", retry_after > 0 ? retry_after : 5));
    return wos_page_error(r, WOS_PAGE_UNAVAILABLE, NULL, r->unparsed_uri);
}

/* The 401 challenge: the scheme, and the realm from AuthName (and Bearer where accepted). */
static void challenge(request_rec *r)
{
    wos_dir_cfg *c = wos_dcfg(r);

    apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                   apr_psprintf(r->pool, "WorkOS realm=\"%s\"",
                                ap_auth_name(r) ? ap_auth_name(r) : "WorkOS"));
    if (wos_cfg_accept_bearer(c) == 1)
        wos_bearer_challenge(r, c, NULL);
}

/* No session: sign in, or 401/403, as configured and as the client can follow. */
static int unauthenticated(request_rec *r, const wos_dir_cfg *c)
{
    wos_unauth_action action = wos_cfg_unauth_action(c);

    if (action == WOS_UNAUTH_403) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "WOS00111: no usable session: 403 (WorkOSUnauthAction 403)");
        return wos_page_error(r, WOS_PAGE_LOGIN_REQUIRED_403, NULL, r->unparsed_uri);
    }
    if (action == WOS_UNAUTH_LOGIN && wos_is_browser(r))
        return wos_start_login(r, c, r->unparsed_uri, NULL);
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "WOS00110: no usable session: 401 (%s)",
                  action == WOS_UNAUTH_LOGIN ? "not a browser navigation, so no sign-in "
                                               "redirect" : "WorkOSUnauthAction 401");
    challenge(r);
    return wos_page_error(r, WOS_PAGE_LOGIN_REQUIRED, NULL, r->unparsed_uri);
}

/* The result of one authentication attempt as an HTTP status (OK = identity set). */
static int authenticate(request_rec *r, const wos_dir_cfg *c, int optional)
{
    wos_req *st = wos_req_state(r);
    const ap_conf_vector_t *dir;
    wos_authn_out out;
    wos_cookie_in cin;

    if (st->done && same_settings(c, st)) {
        /* A subrequest or internal redirect: the main request decided already. */
        if (!st->claims)
            return DECLINED;
        establish(r, c, st);
        return OK;
    }
    if (st->done)
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "WOS01902: %s: settings differ from "
                      "the request it came from: deciding again", r->uri);
    dir = st->workos_dir;
    memset(st, 0, sizeof(*st));
    st->workos_dir = dir;
    st->done = 1;
    wos_authn_settings(c, &st->settings);
    st->cookie_name = wos_cfg_cookie_name(c);
    if (wos_bearer_present(r, c)) {
        /* The token alone decides: no cookie read, none written. */
        int rv = wos_bearer_authenticate(r, c, st);
        if (rv == OK)
            establish(r, c, st);
        return rv;
    }
    run_authn(r, c, st, &out, &cin);
    wos_idle_check(r, c, &out);
    log_outcome(r, &out, &cin);
    report_refused(r, &out);
    wos_stat_authn(r, &out);
    if (out.new_cookie)
        wos_store_session_cookie(r, c, out.new_cookie, &cin);
    else if (out.outcome == WOS_AUTHN_INVALID || out.outcome == WOS_AUTHN_ENDED)
        wos_store_session_cookie(r, c, NULL, &cin);

    switch (out.outcome) {
    case WOS_AUTHN_OK:
        st->session = out.session;
        st->claims = out.claims;
        st->identity = out.identity;
        establish(r, c, st);
        return OK;
    case WOS_AUTHN_RETRY:
    case WOS_AUTHN_NOKEYS:
        return optional ? DECLINED : unavailable(r, out.retry_after);
    default:
        return DECLINED;
    }
}

/* check_authn: AuthType WorkOS. */
int wos_check_authn(request_rec *r)
{
    wos_dir_cfg *c;
    int rv;

    if (!wos_is_workos(r))
        return DECLINED;
    c = wos_dcfg(r);
    if ((rv = wos_check_config(r, c)) != OK)
        return rv;
    rv = authenticate(r, c, 0);
    if (rv == OK || rv != DECLINED)
        return rv;
    if (wos_cfg_unauth_action(c) == WOS_UNAUTH_PASS) {
        /* pass lets anonymous requests through where Require allows them; this
         * Require needs a user, so the answer is a plain 401. */
        challenge(r);
        return wos_page_error(r, WOS_PAGE_LOGIN_REQUIRED, NULL, r->unparsed_uri);
    }
    return unauthenticated(r, c);
}

/*
 * Requests that Require let through without a user still get an identity when
 * they carry a session (WorkOSUnauthAction pass, Require all granted). And
 * where httpd skipped authentication (an internal redirect or subrequest with
 * the same per-directory configuration: a front controller, DirectoryIndex),
 * the identity decided before is exported again under its own names.
 */
int wos_fixups(request_rec *r)
{
    wos_dir_cfg *c;
    wos_req *st;

    if (!wos_is_workos(r))
        return DECLINED;
    st = wos_req_state(r);
    c = wos_dcfg(r);
    if (!st->exported && !(st->done && !st->claims) && !(r->user && !st->claims)
        && wos_check_config(r, c) == OK) {
        /* A bad bearer token is refused even where no user is required. */
        int rv = authenticate(r, c, 1);
        if (rv == HTTP_UNAUTHORIZED)
            return rv;
    }
    /* After the cookie was read, before the handler passes the request on. */
    wos_strip_cookies(r, c);
    return DECLINED;
}

/* httpd asks the AuthType to describe an authorization failure (a 401). */
int wos_note_auth_failure(request_rec *r, const char *auth_type)
{
    if (strcasecmp(auth_type, WOS_AUTH_TYPE))
        return DECLINED;
    if (wos_req_state(r)->bearer)   /* a valid token without what Require asks */
        wos_bearer_challenge(r, wos_dcfg(r), "insufficient_scope");
    else
        challenge(r);
    return OK;
}

/* Before anything reads the request: remove forged identity headers. */
/*
 * Forged identity out before anything reads it. post_perdir_config, not
 * header_parser: httpd runs header_parser for main requests only, and a
 * subrequest (SSI include, mod_dir) into a location of the module would keep
 * the forged headers of an open page that included it.
 */
int wos_post_perdir(request_rec *r)
{
    wos_dir_cfg *c;

    if (!wos_is_workos(r))
        return DECLINED;
    wos_scrub_headers(r);
    /* Where the module passes the token as Authorization, that header is the
     * module's: a client's own must not reach the backend, signed in or not. */
    c = wos_dcfg(r);
    if (wos_cfg_pass_token(c) && (wos_cfg_pass_claims(c) & WOS_PASS_HEADERS)
        && apr_table_get(r->headers_in, "Authorization") && !wos_bearer_present(r, c)) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "WOS00112: removed client-supplied Authorization (WorkOSPassAccessToken)");
        apr_table_unset(r->headers_in, "Authorization");
    }
    return DECLINED;
}

/*
 * insert_filter, last: a page parsed for includes (mod_include) sends its
 * headers with the text before an include, before an included protected
 * location has authenticated. When the request carries the session cookie,
 * such a page is answered as the authenticated content it may hold is.
 */
void wos_insert_filter(request_rec *r)
{
    ap_filter_rec_t *includes = wos_scfg(r->server)->includes;
    wos_dir_cfg *c;
    ap_filter_t *f;
    wos_cookie_in cin;

    if (!includes || r->main)
        return;                    /* no mod_include, or a subrequest */
    c = wos_dcfg(r);
    if (!c || !c->client_id)
        return;                    /* no WorkOS settings here */
    for (f = r->output_filters; f && f->frec != includes; f = f->next)
        ;
    if (f && wos_read_session_cookie(r, c, &cin) != WOS_ENOKEY)
        no_cache(r, "Cookie");
}

/* The filter insert_filter looks for, found once (a name compare per filter
 * and request otherwise). */
void wos_insert_filter_post_config(server_rec *s)
{
    ap_filter_rec_t *includes = ap_get_output_filter_handle("includes");

    for (; s; s = s->next)
        wos_scfg(s)->includes = includes;
}
