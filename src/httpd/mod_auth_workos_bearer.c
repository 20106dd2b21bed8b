/*
 * mod_auth_workos_bearer.c: WorkOSAcceptBearer. A request that carries
 * Authorization: Bearer is decided by that token alone (wos_bearer_check):
 * no cookie is read or written, and a bad token is a 401 with an RFC 6750
 * challenge, never a sign-in redirect nor a fall back to the cookie.
 */
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>

#include "mod_auth_workos.h"
#include "wos_bearer.h"

static int accepts(const wos_dir_cfg *c)
{
    return wos_cfg_int(c->apis.accept_bearer, 0) == 1;
}

/* Authorization with the Bearer scheme, where bearer tokens are accepted. */
int wos_bearer_present(request_rec *r, const wos_dir_cfg *c)
{
    const char *h;

    if (!accepts(c) || !(h = apr_table_get(r->headers_in, "Authorization")))
        return 0;
    return !strncasecmp(h, "Bearer", 6) && (h[6] == ' ' || h[6] == '\0');
}

/* RFC 6750 section 3: the realm, and what was wrong (NULL: no token was sent). */
void wos_bearer_challenge(request_rec *r, const wos_dir_cfg *c, const char *error)
{
    const char *realm = ap_auth_name(r) ? ap_auth_name(r) : "WorkOS";

    (void)c;
    apr_table_addn(r->err_headers_out, "WWW-Authenticate",
                   error ? apr_psprintf(r->pool, "Bearer realm=\"%s\", error=\"%s\"", realm,
                                        error)
                         : apr_psprintf(r->pool, "Bearer realm=\"%s\"", realm));
}

static void log_outcome(request_rec *r, const wos_authn_out *out, const char *token)
{
    static const struct { int level; const char *tag; } how[] = {
        [WOS_AUTHN_OK]      = {APLOG_DEBUG, "WOS01602"},
        [WOS_AUTHN_NONE]    = {APLOG_INFO,  "WOS01603"},
        [WOS_AUTHN_INVALID] = {APLOG_INFO,  "WOS01603"},
        [WOS_AUTHN_ENDED]   = {APLOG_INFO,  "WOS01603"},
        [WOS_AUTHN_RETRY]   = {APLOG_ERR,   "WOS01604"},
        [WOS_AUTHN_NOKEYS]  = {APLOG_ERR,   "WOS01604"},
    };
    int level = how[out->outcome].level;

    if (!APLOG_R_IS_LEVEL(r, level))
        return;
    ap_log_rerror(APLOG_MARK, level, 0, r, "%s: bearer token %s: %s",
                  how[out->outcome].tag, wos_short_hash(r->pool, token),
                  out->reason ? out->reason : "-");
}

static int unauthorized(request_rec *r, const wos_dir_cfg *c, const char *error)
{
    wos_bearer_challenge(r, c, error);
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    return HTTP_UNAUTHORIZED;
}

/* The request's identity from its bearer token: OK (st filled) or an HTTP status. */
int wos_bearer_authenticate(request_rec *r, const wos_dir_cfg *c, wos_req *st)
{
    const char *token = NULL;
    wos_authn_in in;
    wos_authn_out out;
    wos_api_cfg api;

    if (!c->issuers) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "WOS01605: WorkOSAcceptBearer On at %s "
                      "needs WorkOSIssuer: bearer tokens refused", r->uri);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (wos_bearer_parse(apr_table_get(r->headers_in, "Authorization"), &token) != WOS_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "WOS01601: Authorization: Bearer without a well-formed token");
        return unauthorized(r, c, "invalid_request");
    }
    wos_fill_authn_in(r, c, &in, &api);
    wos_bearer_check(r->pool, &in, token, &out);
    log_outcome(r, &out, token);
    wos_stat_authn(r, &out);
    switch (out.outcome) {
    case WOS_AUTHN_OK:
        st->session = out.session;
        st->claims = out.claims;
        st->identity = out.identity;
        st->bearer = 1;
        return OK;
    case WOS_AUTHN_NOKEYS:
        apr_table_setn(r->err_headers_out, "Retry-After", "5");
        return HTTP_SERVICE_UNAVAILABLE;
    default:
        return unauthorized(r, c, out.error ? out.error : "invalid_token");
    }
}

/* --- configtest: WorkOSAcceptBearer On needs WorkOSIssuer -------------------- */

typedef struct { const ap_directive_t *bearer_on; int issuer; } bearer_scope;

static int is_vhost(const ap_directive_t *d)
{
    return !strcasecmp(d->directive, "<VirtualHost");
}

/* What one scope (the main server, or a virtual host with it) holds. */
static void collect(const ap_directive_t *d, bearer_scope *s)
{
    for (; d; d = d->next) {
        if (!strcasecmp(d->directive, "WorkOSIssuer"))
            s->issuer = 1;
        else if (!strcasecmp(d->directive, "WorkOSAcceptBearer") && d->args
                 && !strcasecmp(d->args, "on") && !s->bearer_on)
            s->bearer_on = d;
        if (d->first_child && !is_vhost(d))
            collect(d->first_child, s);
    }
}

static int refuse(const bearer_scope *s)
{
    if (!s->bearer_on || s->issuer)
        return 0;
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_ERR, 0, NULL,
                 "WOS01606: WorkOSAcceptBearer On at %s:%d needs WorkOSIssuer (WorkOS "
                 "access tokens carry no audience: the issuer ties a token to this "
                 "environment), and none is set in its server or virtual host",
                 s->bearer_on->filename, s->bearer_on->line_num);
    return 1;
}

static int bearer_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                               server_rec *s)
{
    bearer_scope main_scope = {NULL, 0};
    const ap_directive_t *d;
    int bad;

    collect(ap_conftree, &main_scope);
    bad = refuse(&main_scope);
    for (d = ap_conftree; d; d = d->next) {
        if (is_vhost(d)) {
            bearer_scope vh = {NULL, main_scope.issuer};
            collect(d->first_child, &vh);
            bad |= refuse(&vh);
        }
    }
    return bad ? HTTP_INTERNAL_SERVER_ERROR : OK;
}

void wos_bearer_register_hooks(void)
{
    ap_hook_check_config(bearer_check_config, NULL, NULL, APR_HOOK_MIDDLE);
}
