/*
 * mod_auth_workos_identity.c: handing the identity on (environment for
 * CGI/PHP/SSI, headers for proxied backends) and removing forged copies of
 * it from what clients send.
 */
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

int wos_scrub_headers(request_rec *r)
{
    apr_array_header_t *names = apr_array_make(r->pool, 2, sizeof(const char *));
    int i;

    apr_table_do(collect_reserved, names, r->headers_in, NULL);
    for (i = 0; i < names->nelts; i++) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "WOS00201: removed client-supplied header %s",
                      APR_ARRAY_IDX(names, i, const char *));
        apr_table_unset(r->headers_in, APR_ARRAY_IDX(names, i, const char *));
    }
    return names->nelts;
}

void wos_export_identity(request_rec *r, const wos_dir_cfg *c, const wos_req *st)
{
    int pass = wos_cfg_int(c->pass_claims, WOS_PASS_ENV);
    int token = wos_cfg_int(c->pass_token, 0);
    apr_array_header_t *vars;
    int i;

    if (!pass)
        return;
    vars = wos_identity_vars(r->pool, st->session, st->claims, token);
    for (i = 0; i < vars->nelts; i++) {
        const wos_identity_var *v = &APR_ARRAY_IDX(vars, i, wos_identity_var);
        if (pass & WOS_PASS_ENV)
            apr_table_setn(r->subprocess_env, v->env, v->value);
        if (pass & WOS_PASS_HEADERS)
            apr_table_setn(r->headers_in, v->header, v->value);
    }
    if (token && (pass & WOS_PASS_HEADERS))
        apr_table_setn(r->headers_in, "Authorization",
                       apr_pstrcat(r->pool, "Bearer ",
                                   wos_sanitize_value(r->pool, st->session->access_token),
                                   NULL));
}
