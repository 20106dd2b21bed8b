/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_workos_pages.c: the module's own error pages, as httpd error
 * responses. A flow or a hook notes which page a request deserves and
 * returns the status; httpd then runs its error handling, so that an
 * operator's ErrorDocument wins (and sees WORKOS_ERROR and
 * WORKOS_ERROR_DESCRIPTION), and otherwise the insert_error_filter hook
 * here replaces httpd's stock body with the page (HTML, or JSON for clients
 * that ask for it). Refusals of Require workos-* lines are collected while
 * authorization runs and become the 403 page (and one info line) only when
 * the request is really refused. The wording is src/wos_pages.c's.
 */
#include <apr_strings.h>
#include <apr_uri.h>
#include <http_core.h>
#include <http_protocol.h>
#include <mod_core.h>
#include <util_filter.h>

#include "mod_auth_workos.h"
#include "wos_api.h"
#include "wos_pages.h"

#define FILTER_NAME "WOS_PAGE"

/** What a request noted for its error page (on its wos_req). */
struct wos_page_note {
    request_rec *r;                     /* whose: subrequests copy the pointer */
    int kind;                           /* wos_page_kind, or -1: only refusals so far */
    const char *detail;
    const char *target;                 /* where the person was going, if known */
    apr_array_header_t *refusals;       /* const char *: failed Require lines, in words */
    apr_array_header_t *log;            /* const char *: the same, as configured */
    apr_array_header_t *orgs;           /* const char *: organizations those lines name */
};

static struct wos_page_note *note_of(request_rec *r, int create)
{
    wos_req *st = create ? wos_req_state(r)
                         : ap_get_module_config(r->request_config, &auth_workos_module);

    if (!st)
        return NULL;
    if ((!st->page || st->page->r != r) && create) {
        st->page = apr_pcalloc(r->pool, sizeof(*st->page));
        st->page->r = r;
        st->page->kind = -1;
    }
    return st->page && st->page->r == r ? st->page : NULL;
}

int wos_page_error(request_rec *r, wos_page_kind kind, const char *detail, const char *target)
{
    struct wos_page_note *n = note_of(r, 1);

    n->kind = kind;
    n->detail = detail;
    n->target = target;
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    return wos_page_def_of(kind)->status;
}

void wos_page_note_refusal(request_rec *r, const char *provider,
                           const apr_array_header_t *values)
{
    struct wos_page_note *n = note_of(r, 1);
    const char *words = wos_page_requirement(r->pool, provider, values);
    int i;

    if (!n->refusals) {
        n->refusals = apr_array_make(r->pool, 2, sizeof(const char *));
        n->log = apr_array_make(r->pool, 2, sizeof(const char *));
        n->orgs = apr_array_make(r->pool, 2, sizeof(const char *));
    }
    if (words)
        APR_ARRAY_PUSH(n->refusals, const char *) = words;
    APR_ARRAY_PUSH(n->log, const char *) = apr_pstrcat(r->pool, "Require ", provider, " ",
                                                       wos_join(r->pool, values, " "), NULL);
    for (i = 0; !strcmp(provider, "workos-org") && i < values->nelts; i++)
        APR_ARRAY_PUSH(n->orgs, const char *) = APR_ARRAY_IDX(values, i, const char *);
}

/* The kind a request's note stands for at @p status, or -1: none of ours. */
static int kind_at(const struct wos_page_note *n, int status)
{
    if (!n)
        return -1;
    if (n->kind >= 0)
        return wos_page_def_of(n->kind)->status == status ? n->kind : -1;
    if (n->refusals && (status == HTTP_FORBIDDEN || status == HTTP_UNAUTHORIZED))
        return WOS_PAGE_FORBIDDEN;
    return -1;
}

/* A configured endpoint (path or URL), with ?return_to= the target. */
static const char *with_target(request_rec *r, const char *endpoint, const char *target)
{
    if (!endpoint)
        return NULL;
    if (!target)
        return endpoint;
    return apr_pstrcat(r->pool, endpoint, strchr(endpoint, '?') ? "&" : "?", "return_to=",
                       wos_url_encode(r->pool, target), NULL);
}

/* Back: the referring page when it is on this site, else the home page. */
static const char *back_of(request_rec *r)
{
    const char *ref = apr_table_get(r->headers_in, "Referer");
    const char *host = apr_table_get(r->headers_in, "Host");
    apr_uri_t u;

    if (ref && host && apr_uri_parse(r->pool, ref, &u) == APR_SUCCESS && u.hostinfo
        && !strcasecmp(u.hostinfo, host) && u.path && u.path[0] == '/')
        return apr_uri_unparse(r->pool, &u, APR_URI_UNP_OMITSITEPART);
    return "/";
}

/* Organizations to offer: those the failed lines name, but the current one. */
static const apr_array_header_t *offer(request_rec *r, const struct wos_page_note *n,
                                       const wos_claims *cl)
{
    apr_array_header_t *out = apr_array_make(r->pool, 2, sizeof(const char *));
    int i;

    for (i = 0; n->orgs && i < n->orgs->nelts; i++) {
        const char *o = APR_ARRAY_IDX(n->orgs, i, const char *);
        if ((!cl || !cl->org_id || strcmp(o, cl->org_id)) && !wos_array_contains(out, o))
            APR_ARRAY_PUSH(out, const char *) = o;
    }
    return out;
}

/* Who is refused, what failed, and the ways on (switch, back, sign out). */
static void refusal_parts(request_rec *r, const struct wos_page_note *n, const wos_dir_cfg *c,
                          wos_page *pg)
{
    wos_req *st = ap_get_module_config(r->request_config, &auth_workos_module);
    const wos_claims *cl = st ? st->claims : NULL;

    pg->user = r->user;
    if (st && st->session && st->session->user_email)
        pg->user = st->session->user_email;
    pg->org = cl ? cl->org_id : NULL;
    pg->role = cl ? cl->role : NULL;
    pg->requirements = n->refusals;
    pg->switch_href = c->switch_org_uri;
    pg->switch_orgs = offer(r, n, cl);
    pg->return_to = r->unparsed_uri;
    pg->back_href = back_of(r);
    pg->sign_out_href = c->logout_uri;
}

/* The page for request @p r (the one refused) as kind @p kind. */
static void build(request_rec *r, const struct wos_page_note *n, int kind, wos_page *pg)
{
    const wos_dir_cfg *c = wos_dcfg(r);
    const char *target = n->target ? n->target : r->unparsed_uri;

    memset(pg, 0, sizeof(*pg));
    pg->kind = (wos_page_kind)kind;
    pg->detail = n->detail;
    switch (kind) {
    case WOS_PAGE_FORBIDDEN:
        refusal_parts(r, n, c, pg);
        break;
    case WOS_PAGE_SWITCH_REFUSED:
    case WOS_PAGE_BAD_REQUEST:
        pg->back_href = back_of(r);
        pg->sign_out_href = kind == WOS_PAGE_SWITCH_REFUSED ? c->logout_uri : NULL;
        break;
    default:
        /* Without a sign-in endpoint, the page itself starts sign-in. Trying
         * again after an outage is signing in again, or reloading the page. */
        pg->sign_in_href = c->login_uri ? with_target(r, c->login_uri, n->target) : target;
        if (kind == WOS_PAGE_UNAVAILABLE || (!c->login_uri && strcmp(target, "/")))
            pg->back_href = "/";
        break;
    }
}

typedef struct { const char *body; const char *type; int sent; } page_ctx;

/* Replaces httpd's stock error body with ours. */
static apr_status_t page_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    page_ctx *ctx = f->ctx;
    apr_bucket_brigade *out;

    if (ctx->sent) {
        apr_brigade_cleanup(bb);
        return APR_SUCCESS;
    }
    ctx->sent = 1;
    apr_brigade_cleanup(bb);
    ap_set_content_type(f->r, ctx->type);
    apr_table_unset(f->r->headers_out, "Content-Length");
    out = apr_brigade_create(f->r->pool, f->c->bucket_alloc);
    APR_BRIGADE_INSERT_TAIL(out, apr_bucket_immortal_create(ctx->body, strlen(ctx->body),
                                                            f->c->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(out, apr_bucket_eos_create(f->c->bucket_alloc));
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, out);
}

/* insert_error_filter: our page, unless the operator has an ErrorDocument for it. */
static void insert_page(request_rec *r)
{
    struct wos_page_note *n = note_of(r, 0);
    int kind = kind_at(n, r->status);
    page_ctx *ctx;
    wos_page pg;

    if (kind < 0 || ap_response_code_string(r, ap_index_of_response(r->status)))
        return;
    build(r, n, kind, &pg);
    ctx = apr_pcalloc(r->pool, sizeof(*ctx));
    if (wos_page_wants_json(apr_table_get(r->headers_in, "Accept"))) {
        ctx->body = wos_page_json(r->pool, &pg);
        ctx->type = "application/json";
    }
    else {
        ctx->body = wos_page_html(r->pool, &pg);
        ctx->type = "text/html; charset=utf-8";
    }
    ap_add_output_filter(FILTER_NAME, ctx, r, r->connection);
}

/* The request that was refused, for an ErrorDocument's request; NULL otherwise. */
static request_rec *refused_origin(request_rec *r, struct wos_page_note **n, int *kind)
{
    request_rec *o;

    for (o = r->prev; o; o = o->prev) {
        *n = note_of(o, 0);
        *kind = kind_at(*n, o->status);
        if (*kind >= 0)
            return o;
    }
    return NULL;
}

/* fixups: an ErrorDocument's request learns what happened. */
static int error_document_env(request_rec *r)
{
    struct wos_page_note *n;
    request_rec *o;
    wos_page pg;
    int kind;

    if (!r->prev || r->main || !(o = refused_origin(r, &n, &kind)))
        return DECLINED;
    build(o, n, kind, &pg);
    apr_table_setn(r->subprocess_env, "WORKOS_ERROR", wos_page_def_of(kind)->error);
    apr_table_setn(r->subprocess_env, "WORKOS_ERROR_DESCRIPTION",
                   wos_html_escape(r->pool, wos_page_description(r->pool, &pg)));
    return DECLINED;
}

/* log_transaction: one info line per request refused by Require workos-*. */
static int log_refusal(request_rec *r)
{
    struct wos_page_note *n;

    while (r->prev)
        r = r->prev;
    n = note_of(r, 0);
    if (!n || kind_at(n, r->status) != WOS_PAGE_FORBIDDEN
        || !APLOG_R_IS_LEVEL(r, APLOG_INFO))
        return DECLINED;
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "WOS01501: %s refused %s: %s not met", r->user ? r->user : "-",
                  ap_escape_logitem(r->pool, r->uri), wos_join(r->pool, n->log, ", "));
    return DECLINED;
}

void wos_pages_register_hooks(void)
{
    ap_register_output_filter(FILTER_NAME, page_filter, NULL, AP_FTYPE_RESOURCE);
    ap_hook_insert_error_filter(insert_page, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_fixups(error_document_env, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_log_transaction(log_refusal, NULL, NULL, APR_HOOK_MIDDLE);
}
