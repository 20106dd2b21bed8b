/*
 * mod_auth_workos_identity.c: handing the identity on (environment for
 * CGI/PHP/SSI, headers for proxied backends) and removing forged copies of
 * it from what clients send.
 */
#include <strings.h>
#include <apr_strings.h>

#include "mod_auth_workos.h"

wos_req *wos_req_state(request_rec *r)
{
    wos_req *st = ap_get_module_config(r->request_config, &auth_workos_module);

    if (!st) {
        /* Subrequests and internal redirects reuse the main request's result. */
        request_rec *m = r->main ? r->main : r->prev;
        wos_req *ms = m ? ap_get_module_config(m->request_config, &auth_workos_module) : NULL;
        st = apr_pcalloc(r->pool, sizeof(*st));
        if (ms && ms->done && ms->claims)
            *st = *ms;
        ap_set_module_config(r->request_config, &auth_workos_module, st);
    }
    return st;
}

static int collect_reserved(void *baton, const char *key, const char *value)
{
    apr_array_header_t *names = baton;
    (void)value;
    if (wos_header_is_reserved(key))
        APR_ARRAY_PUSH(names, const char *) = key;
    return 1;
}

/* HTTP_* variables made from such headers (by an SSI or CGI parent request). */
static int collect_reserved_http(void *baton, const char *key, const char *value)
{
    apr_array_header_t *names = baton;
    (void)value;
    if (strncasecmp(key, "HTTP_", 5) == 0 && wos_header_is_reserved(key + 5))
        APR_ARRAY_PUSH(names, const char *) = key;
    return 1;
}

/* Remove entries of @p t that @p collect picks; @p tag names the log line. */
static int scrub(request_rec *r, apr_table_t *t, apr_table_do_callback_fn_t *collect,
                 const char *tag, const char *what)
{
    apr_array_header_t *names = apr_array_make(r->pool, 2, sizeof(const char *));
    int i;

    apr_table_do(collect, names, t, NULL);
    for (i = 0; i < names->nelts; i++) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "%s: removed %s %s", tag, what,
                      APR_ARRAY_IDX(names, i, const char *));
        apr_table_unset(t, APR_ARRAY_IDX(names, i, const char *));
    }
    return names->nelts;
}

int wos_scrub_headers(request_rec *r)
{
    int n = scrub(r, r->headers_in, collect_reserved, "WOS00201", "client-supplied header");

    /* A subrequest inherits its parent's variables, where the parent (an SSI
     * page, say) may already have turned the forged headers into HTTP_*. */
    if (r->main)
        n += scrub(r, r->subprocess_env, collect_reserved_http, "WOS00204",
                   "inherited variable");
    return n;
}

/* 1 if something in @p t is named like the identity (rare: checked before scrubbing). */
static int holds_reserved(const apr_table_t *t)
{
    const apr_array_header_t *a = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)a->elts;
    int i;

    for (i = 0; i < a->nelts; i++) {
        if (e[i].key && wos_header_is_reserved(e[i].key))
            return 1;
    }
    return 0;
}

/*
 * The identity is the module's alone: entries named like it that another
 * module set before authentication (SetEnvIf, a header added after the
 * scrub) are removed first, so that the module's own can simply be appended.
 */
static void make_room(request_rec *r, int pass)
{
    if ((pass & WOS_PASS_ENV) && holds_reserved(r->subprocess_env))
        scrub(r, r->subprocess_env, collect_reserved, "WOS00202", "earlier variable");
    if ((pass & WOS_PASS_HEADERS) && holds_reserved(r->headers_in))
        scrub(r, r->headers_in, collect_reserved, "WOS00203",
              "header added after the scrub:");
}

void wos_export_identity(request_rec *r, const wos_dir_cfg *c, const wos_req *st)
{
    int pass = wos_cfg_int(c->pass_claims, WOS_PASS_ENV);
    int token = wos_cfg_int(c->pass_token, 0);
    const apr_array_header_t *vars = st->identity;
    int i;

    if (!pass)
        return;
    if (!vars) {
        vars = wos_identity_vars(r->pool, st->session, st->claims, token);
    }
    else if (token) {
        /* The cache's list is shared: the token goes on a copy of the array. */
        apr_array_header_t *copy = apr_array_copy(r->pool, vars);
        wos_identity_add_token(r->pool, copy, st->session);
        vars = copy;
    }
    make_room(r, pass);
    for (i = 0; i < vars->nelts; i++) {
        const wos_identity_var *v = &APR_ARRAY_IDX(vars, i, wos_identity_var);
        if (pass & WOS_PASS_ENV)
            apr_table_addn(r->subprocess_env, v->env, v->value);
        if (pass & WOS_PASS_HEADERS)
            apr_table_addn(r->headers_in, v->header, v->value);
    }
    wos_claims_export(r, c, st, pass);
    if (token && (pass & WOS_PASS_HEADERS))
        apr_table_setn(r->headers_in, "Authorization",
                       apr_pstrcat(r->pool, "Bearer ",
                                   wos_sanitize_value(r->pool, st->session->access_token),
                                   NULL));
}
