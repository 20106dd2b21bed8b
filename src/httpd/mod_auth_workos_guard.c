/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_workos_guard.c: what endpoints that change a session (the
 * organization switch, the forced refresh) need so that another site cannot
 * trigger them and one session cannot spend the environment's API quota:
 * a same-origin check, the form body of a POST, and the per-session cap on
 * calls to WorkOS (counted in the shared cache, so across processes).
 */
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <util_script.h>

#include "mod_auth_workos.h"
#include "wos_ratelimit.h"

#define FORM_MAX 8192       /* bytes of form body read */

/* This request's own origin, scheme://host[:port], as a browser writes it. */
const char *wos_guard_own_origin(request_rec *r)
{
    char *u = ap_construct_url(r->pool, "/", r);
    u[strlen(u) - 1] = '\0';
    return u;
}

/*
 * Sent by this site's own pages: Origin (every browser sends it on POST)
 * equal to ours, or, without Origin, Sec-Fetch-Site: same-origin. Neither
 * header (a non-browser client), "null", or another site: refused.
 */
int wos_guard_same_origin(request_rec *r)
{
    const char *origin = apr_table_get(r->headers_in, "Origin");
    const char *site = apr_table_get(r->headers_in, "Sec-Fetch-Site");

    if (site && strcmp(site, "same-origin") != 0)
        return 0;
    if (origin)
        return strcasecmp(origin, wos_guard_own_origin(r)) == 0;
    return site != NULL;
}

/* An application/x-www-form-urlencoded body (bounded); repeated names refused. */
int wos_guard_read_form(request_rec *r, apr_table_t **form)
{
    apr_array_header_t *pairs = NULL;
    apr_table_t *t = apr_table_make(r->pool, 4);
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    int i;

    *form = t;
    if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0)
        return r->remaining > 0 || apr_table_get(r->headers_in, "Transfer-Encoding")
               ? HTTP_UNSUPPORTED_MEDIA_TYPE : OK;
    if (ap_parse_form_data(r, NULL, &pairs, 16, FORM_MAX) != OK)
        return HTTP_BAD_REQUEST;
    for (i = 0; pairs && i < pairs->nelts; i++) {
        ap_form_pair_t *f = &APR_ARRAY_IDX(pairs, i, ap_form_pair_t);
        apr_off_t len;
        apr_size_t size;
        char *v;

        apr_brigade_length(f->value, 1, &len);
        if (len > FORM_MAX || apr_table_get(t, f->name))
            return HTTP_BAD_REQUEST;
        size = (apr_size_t)len;
        v = apr_palloc(r->pool, size + 1);
        apr_brigade_flatten(f->value, v, &size);
        v[size] = '\0';
        if (strlen(v) != size)
            return HTTP_BAD_REQUEST;        /* %00 */
        apr_table_setn(t, f->name, v);
    }
    return OK;
}

typedef struct {
    request_rec *r;
    const wos_dir_cfg *c;
} gate_baton;

static wos_rv gate(void *baton, const char *subject, long *retry_after)
{
    gate_baton *g = baton;
    int limit = wos_cfg_call_limit(g->c), window = wos_cfg_call_window(g->c);
    wos_rv rv;

    rv = wos_ratelimit_take(&wos_scfg(g->r->server)->cache, g->r->pool, subject, limit,
                            window, wos_now_sec(), retry_after);
    if (rv != WOS_OK)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, g->r, "WOS01630: session %s reached "
                      "WorkOSSessionCallLimit (%d calls to WorkOS in %d s): no call made",
                      wos_short_hash(g->r->pool, subject), limit, window);
    return rv;
}

/* Count this request's call to WorkOS (if it makes one) against its session. */
void wos_guard_gate(request_rec *r, const wos_dir_cfg *c, wos_refresh_ctx *rc)
{
    gate_baton *g = apr_palloc(r->pool, sizeof(*g));

    g->r = r;
    g->c = c;
    rc->gate = gate;
    rc->gate_baton = g;
}
