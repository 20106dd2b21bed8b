/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_workos_request.c: request helpers every glue file uses: the
 * Cookie header, Set-Cookie, the session cookie, the inputs of one
 * authentication, and the settings without which nothing can be decided.
 * It calls no other glue file but the configuration's getters.
 */
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>

#include "mod_auth_workos.h"
#include "wos_cookie.h"
#include "wos_seal.h"

/*
 * Asked by several hooks of each request: the answer is kept for the per-dir
 * configuration it was found under (a fast internal redirect changes that).
 */
int wos_is_workos(request_rec *r)
{
    const wos_req *st = ap_get_module_config(r->request_config, &auth_workos_module);
    const char *t;

    if (st && st->workos_dir == r->per_dir_config)
        return 1;
    t = ap_auth_type(r);
    /* The docs' spelling is compared first: case folding only for others. */
    if (!t || (strcmp(t, WOS_AUTH_TYPE) && strcasecmp(t, WOS_AUTH_TYPE)))
        return 0;
    wos_req_state(r)->workos_dir = r->per_dir_config;
    return 1;
}

/*
 * Top-level navigations can follow a redirect to sign in; XHR, fetch(),
 * htmx and API clients cannot, and frames must not (AuthKit refuses to be
 * framed): they get a 401.
 */
int wos_is_browser(request_rec *r)
{
    const char *xrw = apr_table_get(r->headers_in, "X-Requested-With");
    const char *mode = apr_table_get(r->headers_in, "Sec-Fetch-Mode");
    const char *dest = apr_table_get(r->headers_in, "Sec-Fetch-Dest");
    const char *accept = apr_table_get(r->headers_in, "Accept");

    if (r->method_number != M_GET)      /* HEAD is M_GET with header_only */
        return 0;
    if ((xrw && !strcasecmp(xrw, "XMLHttpRequest")) || apr_table_get(r->headers_in, "HX-Request"))
        return 0;
    if ((mode && strcasecmp(mode, "navigate")) || (dest && strcasecmp(dest, "document")))
        return 0;
    return accept && ap_strcasestr(accept, "text/html") != NULL;
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

/*
 * Set-Cookie goes in err_headers_out (kept on errors and redirects). On an
 * Upgrade request it also goes in headers_out: mod_proxy sends the 101 as an
 * interim response, with headers_out only (keeping the Set-Cookie found
 * there when it reads the backend's headers).
 */
void wos_set_cookies(request_rec *r, const apr_array_header_t *set_cookies)
{
    int upgrade = apr_table_get(r->headers_in, "Upgrade") != NULL;
    int i;

    for (i = 0; set_cookies && i < set_cookies->nelts; i++) {
        const char *sc = APR_ARRAY_IDX(set_cookies, i, const char *);
        apr_table_addn(r->err_headers_out, "Set-Cookie", sc);
        if (upgrade)
            apr_table_addn(r->headers_out, "Set-Cookie", sc);
    }
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
                         (apr_size_t)wos_cfg_cookie_chunk_size(c),
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

/* The settings a decision is made under (and a cached one is keyed on). */
void wos_authn_settings(const wos_dir_cfg *c, wos_vcache_settings *s)
{
    s->client_id = c->client_id;
    s->base_url = wos_cfg_base_url(c);
    s->skew = wos_cfg_clock_skew(c);
    s->refresh_before = wos_cfg_refresh_before(c);
    s->passwords = c->passwords;
    s->format = (int)wos_cfg_format(c);
    s->issuers = c->issuers;
    s->token_max_age = wos_cfg_token_max_age(c);
}

void wos_fill_authn_in(request_rec *r, const wos_dir_cfg *c, wos_authn_in *in,
                       wos_api_cfg *api)
{
    wos_srv_cfg *s = wos_scfg(r->server);

    memset(in, 0, sizeof(*in));
    wos_cfg_api(r, c, api);
    in->passwords = c->passwords;
    in->format = wos_cfg_format(c);
    in->keystore = s->keys;
    in->keys.cache = &s->keys_cache;
    in->keys.api = api;
    in->keys.ttl_sec = wos_cfg_jwks_ttl(c);
    in->keys.fetched = wos_stat_jwks_fetched;
    in->keys.fetched_baton = r->server;
    in->refresh.cache = &s->cache;
    in->refresh.api = api;
    in->refresh.ip_address = r->useragent_ip;
    in->refresh.user_agent = apr_table_get(r->headers_in, "User-Agent");
    in->refresh.note = wos_refresh_note_log;
    in->refresh.note_baton = r;
    in->jwt.skew_sec = wos_cfg_clock_skew(c);
    in->jwt.issuers = c->issuers;
    in->refresh_before = wos_cfg_refresh_before(c);
    in->token_max_age = wos_cfg_token_max_age(c);
    /* A cached verification holds only for the settings it was made under. */
    in->vcache = s->vcache;
    wos_authn_settings(c, &in->settings);
    in->settings.hash_key = s->hash_key;
    in->scache = s->scache;
    in->need_token = wos_cfg_pass_token(c);
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

/* The module's state of @p r (made on first use). */
wos_req *wos_req_state(request_rec *r)
{
    wos_req *st = ap_get_module_config(r->request_config, &auth_workos_module);

    if (!st) {
        /* Subrequests and internal redirects reuse the main request's result. */
        request_rec *m = r->main ? r->main : r->prev;
        wos_req *ms = m ? ap_get_module_config(m->request_config, &auth_workos_module) : NULL;
        st = apr_pcalloc(r->pool, sizeof(*st));
        if (ms && ms->done && ms->claims) {
            *st = *ms;
            st->exported = 0;       /* this request_rec's tables are its own */
            st->workos_dir = NULL;  /* and so is its configuration */
        }
        ap_set_module_config(r->request_config, &auth_workos_module, st);
    }
    return st;
}

/* A JSON answer of the module's own endpoints (the body left out for HEAD). */
int wos_send_json(request_rec *r, int status, const char *body)
{
    r->status = status;
    ap_set_content_type(r, "application/json");
    if (!r->header_only)
        ap_rputs(body, r);
    return OK;
}
