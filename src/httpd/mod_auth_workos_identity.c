/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_workos_identity.c: handing the identity on (environment for
 * CGI/PHP/SSI, headers for proxied backends) and removing forged copies of
 * it from what clients send.
 */
#include <strings.h>
#include <apr_strings.h>

#include "mod_auth_workos.h"

/* The HTTP_* variables made from headers named like the identity. */
static int reserved_http(const char *key)
{
    return strncasecmp(key, "HTTP_", 5) == 0 && wos_header_is_reserved(key + 5);
}

/*
 * Remove the entries of @p t whose name @p pick picks; @p tag names the log
 * line. Asked of every request: nothing is allocated unless one is found.
 */
static int scrub(request_rec *r, apr_table_t *t, int (*pick)(const char *),
                 const char *tag, const char *what)
{
    const apr_array_header_t *a = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)a->elts;
    apr_array_header_t *names = NULL;
    int i;

    for (i = 0; i < a->nelts; i++) {
        if (e[i].key && pick(e[i].key)) {
            if (!names)
                names = apr_array_make(r->pool, 2, sizeof(const char *));
            APR_ARRAY_PUSH(names, const char *) = e[i].key;
        }
    }
    for (i = 0; names && i < names->nelts; i++) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "%s: removed %s %s", tag, what,
                      APR_ARRAY_IDX(names, i, const char *));
        apr_table_unset(t, APR_ARRAY_IDX(names, i, const char *));
    }
    return names ? names->nelts : 0;
}

int wos_scrub_headers(request_rec *r)
{
    int n = scrub(r, r->headers_in, wos_header_is_reserved, "WOS00201",
                  "client-supplied header");

    /* A subrequest inherits its parent's variables, where the parent (an SSI
     * page, say) may already have turned the forged headers into HTTP_*. */
    if (r->main)
        n += scrub(r, r->subprocess_env, reserved_http, "WOS00204", "inherited variable");
    return n;
}

/*
 * The identity is the module's alone: entries named like it that another
 * module set before authentication (SetEnvIf, a header added after the
 * scrub) are removed first, so that the module's own can simply be appended.
 */
static void make_room(request_rec *r, int pass)
{
    if (pass & WOS_PASS_ENV)
        scrub(r, r->subprocess_env, wos_header_is_reserved, "WOS00202", "earlier variable");
    if (pass & WOS_PASS_HEADERS)
        scrub(r, r->headers_in, wos_header_is_reserved, "WOS00203",
              "header added after the scrub:");
}

void wos_export_identity(request_rec *r, const wos_dir_cfg *c, const wos_req *st)
{
    int pass = wos_cfg_pass_claims(c);
    int token = wos_cfg_pass_token(c);
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
            apr_table_addn(r->headers_in, v->header, wos_header_value(r, c, v->env, v->value));
    }
    wos_claims_export(r, c, st, pass);
    if (token && (pass & WOS_PASS_HEADERS))
        apr_table_setn(r->headers_in, "Authorization",
                       apr_pstrcat(r->pool, "Bearer ",
                                   wos_sanitize_value(r->pool, st->session->access_token),
                                   NULL));
}
