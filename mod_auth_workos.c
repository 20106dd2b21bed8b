/*
 * mod_auth_workos.c: the module record, its hooks, and AuthType WorkOS.
 * The decision itself is wos_authn_check (src/wos_authn.c); this file turns
 * a request into its inputs and its outcome into an HTTP answer.
 */
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <mod_auth.h>

#define WOS_MODULE_FILE
#include "mod_auth_workos.h"
#include "wos_cookie.h"
#include "wos_http.h"
#include "wos_seal.h"

static int is_workos(request_rec *r)
{
    const char *t = ap_auth_type(r);
    return t && !strcasecmp(t, WOS_AUTH_TYPE);
}

typedef struct { apr_pool_t *p; const char *acc; } cookie_acc;

static int add_cookie(void *baton, const char *key, const char *value)
{
    cookie_acc *a = baton;
    (void)key;
    a->acc = a->acc ? apr_pstrcat(a->p, a->acc, "; ", value, NULL) : value;
    return 1;
}

/* Browsers may send several Cookie headers (HTTP/2); read them as one. */
const char *wos_cookie_header(request_rec *r)
{
    cookie_acc a = {r->pool, NULL};
    apr_table_do(add_cookie, &a, r->headers_in, "Cookie", NULL);
    return a.acc;
}

void wos_set_cookies(request_rec *r, const apr_array_header_t *set_cookies)
{
    int i;
    for (i = 0; set_cookies && i < set_cookies->nelts; i++)
        apr_table_addn(r->err_headers_out, "Set-Cookie",
                       APR_ARRAY_IDX(set_cookies, i, const char *));
}

/* Store (or, with value NULL, delete) the session cookie and its chunks. */
void wos_store_session_cookie(request_rec *r, const wos_dir_cfg *c, const char *value,
                              const wos_cookie_in *old)
{
    wos_cookie_attrs a;
    apr_array_header_t *sc = NULL;
    wos_cookie_in none = {NULL, 0, 0, -1};

    wos_cfg_cookie_attrs(c, &a);
    if (wos_cookie_store(r->pool, &a, wos_cfg_cookie_name(c), value,
                         (apr_size_t)wos_cfg_int(c->cookie_chunk_size,
                                                 WOS_COOKIE_DEFAULT_CHUNK_SIZE),
                         old ? old : &none, &sc) != WOS_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "WOS00101: session too large for %d cookies; raise "
                      "WorkOSCookieChunkSize or reduce the session's claims",
                      WOS_COOKIE_MAX_CHUNKS);
        return;
    }
    wos_set_cookies(r, sc);
}

/*
 * The connection's memo of its last settings and cookie, and their cache
 * key. Only on connections of their own (HTTP/1.x): their requests run one
 * after another, which the unlocked memo needs.
 */
static wos_vcache_memo *conn_memo(conn_rec *c)
{
    wos_vcache_memo *m;

    if (c->master)
        return NULL;
    m = ap_get_module_config(c->conn_config, &auth_workos_module);
    if (!m) {
        m = apr_pcalloc(c->pool, sizeof(*m));
        ap_set_module_config(c->conn_config, &auth_workos_module, m);
    }
    return m;
}

void wos_fill_authn_in(request_rec *r, const wos_dir_cfg *c, wos_authn_in *in,
                       wos_api_cfg *api)
{
    wos_srv_cfg *s = wos_scfg(r->server);

    memset(in, 0, sizeof(*in));
    wos_cfg_api(r, c, api);
    in->passwords = c->passwords;
    in->keystore = s->keys;
    in->keys.cache = &s->keys_cache;
    in->keys.api = api;
    in->keys.ttl_sec = wos_cfg_int(c->jwks_ttl, 3600);
    in->keys.fetched = wos_stat_jwks_fetched;
    in->keys.fetched_baton = r->server;
    in->refresh.cache = &s->cache;
    in->refresh.api = api;
    in->refresh.ip_address = r->useragent_ip;
    in->refresh.user_agent = apr_table_get(r->headers_in, "User-Agent");
    in->refresh.note = wos_refresh_note_log;
    in->refresh.note_baton = r;
    in->jwt.skew_sec = wos_cfg_int(c->clock_skew, 60);
    in->jwt.issuers = c->issuers;
    in->refresh_before = wos_cfg_int(c->refresh_before, 60);
    /* A cached verification holds only for the settings it was made under. */
    in->vcache = s->vcache;
    in->settings.client_id = api->client_id;
    in->settings.base_url = api->base_url;
    in->settings.skew = in->jwt.skew_sec;
    in->settings.refresh_before = in->refresh_before;
    in->settings.passwords = c->passwords;
    in->settings.issuers = c->issuers;
    in->memo = conn_memo(r->connection);
    in->memo_pool = r->connection->pool;
}

/* Settings without which nothing can be decided: a 500 and a line that says which. */
int wos_check_config(request_rec *r, const wos_dir_cfg *c)
{
    const char *missing = !c->client_id ? "WorkOSClientID"
                        : !c->passwords ? "WorkOSCookiePassword"
                        : !c->api_key ? "WorkOSAPIKey" : NULL;
    if (missing) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "WOS00102: AuthType WorkOS at %s needs %s", r->uri, missing);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!wos_scfg(r->server)->keys)
        return HTTP_INTERNAL_SERVER_ERROR;
    return OK;
}

/* The session cookie (assembled from chunks); *cin says what was there. */
wos_rv wos_read_session_cookie(request_rec *r, const wos_dir_cfg *c, wos_cookie_in *cin)
{
    const char *hdr = wos_cookie_header(r);

    memset(cin, 0, sizeof(*cin));
    cin->max_index = -1;
    if (!hdr)
        return WOS_ENOKEY;
    return wos_cookie_read(r->pool, hdr, wos_cfg_cookie_name(c), WOS_SEAL_MAX_INPUT, cin);
}

/* Read, check and (when refreshed) re-set the session. */
static void run_authn(request_rec *r, const wos_dir_cfg *c, wos_authn_out *out,
                      wos_cookie_in *cin)
{
    wos_authn_in in;
    wos_api_cfg api;
    wos_rv rv;

    wos_fill_authn_in(r, c, &in, &api);
    rv = wos_read_session_cookie(r, c, cin);
    if (rv != WOS_OK && rv != WOS_ENOKEY) {
        memset(out, 0, sizeof(*out));
        out->outcome = WOS_AUTHN_INVALID;
        out->reason = apr_psprintf(r->pool, "session cookie unreadable: %s", wos_strerror(rv));
        return;
    }
    in.cookie = cin->value;
    wos_authn_check(r->pool, &in, out);
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

/* Identity for this request: r->user, the claims for Require, variables. */
static void establish(request_rec *r, const wos_dir_cfg *c, wos_req *st)
{
    r->user = (char *)(wos_cfg_int(c->remote_user, WOS_USER_EMAIL) == WOS_USER_ID
                       || !st->session->user_email ? st->session->user_id
                                                  : st->session->user_email);
    r->ap_auth_type = (char *)WOS_AUTH_TYPE;
    wos_export_identity(r, c, st);
    apr_table_setn(r->err_headers_out, "Cache-Control", "private, no-store");
    apr_table_mergen(r->err_headers_out, "Vary", "Cookie");
}

static int unavailable(request_rec *r, long retry_after)
{
    apr_table_setn(r->err_headers_out, "Retry-After",
                   apr_psprintf(r->pool, "%ld", retry_after > 0 ? retry_after : 5));
    return HTTP_SERVICE_UNAVAILABLE;
}

/* The 401 challenge: the scheme, and the realm from AuthName. */
static void challenge(request_rec *r)
{
    apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                   apr_psprintf(r->pool, "WorkOS realm=\"%s\"",
                                ap_auth_name(r) ? ap_auth_name(r) : "WorkOS"));
}

/* No session: sign in, or 401/403, as configured and as the client can follow. */
static int unauthenticated(request_rec *r, const wos_dir_cfg *c)
{
    int action = wos_cfg_int(c->unauth_action, WOS_UNAUTH_LOGIN);

    if (action == WOS_UNAUTH_403) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "WOS00111: no usable session: 403 (WorkOSUnauthAction 403)");
        return HTTP_FORBIDDEN;
    }
    if (action == WOS_UNAUTH_LOGIN && wos_is_browser(r))
        return wos_start_login(r, c, r->unparsed_uri, NULL);
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "WOS00110: no usable session: 401 (%s)",
                  action == WOS_UNAUTH_LOGIN ? "not a browser navigation, so no sign-in "
                                               "redirect" : "WorkOSUnauthAction 401");
    challenge(r);
    return HTTP_UNAUTHORIZED;
}

/* The result of one authentication attempt as an HTTP status (OK = identity set). */
static int authenticate(request_rec *r, const wos_dir_cfg *c, int optional)
{
    wos_req *st = wos_req_state(r);
    wos_authn_out out;
    wos_cookie_in cin;

    if (st->done) {
        /* A subrequest or internal redirect: the main request decided already. */
        if (!st->claims)
            return DECLINED;
        establish(r, c, st);
        return OK;
    }
    st->done = 1;
    run_authn(r, c, &out, &cin);
    log_outcome(r, &out, &cin);
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
static int wos_check_authn(request_rec *r)
{
    wos_dir_cfg *c;
    int rv;

    if (!is_workos(r))
        return DECLINED;
    c = wos_dcfg(r);
    if ((rv = wos_check_config(r, c)) != OK)
        return rv;
    rv = authenticate(r, c, 0);
    if (rv == OK || rv != DECLINED)
        return rv;
    if (wos_cfg_int(c->unauth_action, WOS_UNAUTH_LOGIN) == WOS_UNAUTH_PASS) {
        /* pass lets anonymous requests through where Require allows them; this
         * Require needs a user, so the answer is a plain 401. */
        challenge(r);
        return HTTP_UNAUTHORIZED;
    }
    return unauthenticated(r, c);
}

/* Requests that Require let through without a user still get an identity when
 * they carry a session (WorkOSUnauthAction pass, Require all granted). */
static int wos_fixups(request_rec *r)
{
    wos_dir_cfg *c;

    if (!is_workos(r) || r->user || wos_req_state(r)->done)
        return DECLINED;
    c = wos_dcfg(r);
    if (wos_check_config(r, c) != OK)
        return DECLINED;
    authenticate(r, c, 1);
    return DECLINED;
}

/* httpd asks the AuthType to describe an authorization failure (a 401). */
static int wos_note_auth_failure(request_rec *r, const char *auth_type)
{
    if (strcasecmp(auth_type, WOS_AUTH_TYPE))
        return DECLINED;
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
static int wos_post_perdir(request_rec *r)
{
    wos_dir_cfg *c;

    if (!is_workos(r))
        return DECLINED;
    wos_scrub_headers(r);
    /* Where the module passes the token as Authorization, that header is the
     * module's: a client's own must not reach the backend, signed in or not. */
    c = wos_dcfg(r);
    if (wos_cfg_int(c->pass_token, 0) && (wos_cfg_int(c->pass_claims, WOS_PASS_ENV)
                                          & WOS_PASS_HEADERS)
        && apr_table_get(r->headers_in, "Authorization")) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "WOS00112: removed client-supplied Authorization (WorkOSPassAccessToken)");
        apr_table_unset(r->headers_in, "Authorization");
    }
    return DECLINED;
}

static int wos_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    return wos_cache_pre_config(pconf);
}

static int wos_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                           server_rec *s)
{
    /* httpd reads its configuration twice at start-up; set up once, for real. */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG)
        return OK;
    if (wos_http_global_init() != WOS_OK) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "WOS00109: cannot initialise libcurl");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (wos_status_post_config(pconf, s) != OK)
        return HTTP_INTERNAL_SERVER_ERROR;
    return wos_cache_post_config(pconf, s);
}

static void wos_child_init(apr_pool_t *pchild, server_rec *s)
{
    wos_cache_child_init(pchild, s);
}

static void wos_register_hooks(apr_pool_t *p)
{
    ap_hook_pre_config(wos_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(wos_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(wos_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_quick_handler(wos_flow_handler, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_post_perdir_config(wos_post_perdir, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_check_authn(wos_check_authn, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_fixups(wos_fixups, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_note_auth_failure(wos_note_auth_failure, NULL, NULL, APR_HOOK_MIDDLE);
    wos_register_authz_providers(p);
    wos_status_register_hooks();
    wos_check_register_hooks();
}

AP_DECLARE_MODULE(auth_workos) = {
    STANDARD20_MODULE_STUFF,
    wos_create_dir_cfg,
    wos_merge_dir_cfg,
    wos_create_srv_cfg,
    wos_merge_srv_cfg,
    wos_cmds,
    wos_register_hooks,
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
    AP_MODULE_FLAG_ALWAYS_MERGE
#endif
};
