/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_pages.c: the wording, escaping and layout of the module's own pages
 * (see wos_pages.h). One table holds every page's status, fixed word and
 * wording; the rest assembles them.
 */
#include <strings.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "wos_json.h"
#include "wos_pages.h"

static const wos_page_def pages[WOS_PAGE_COUNT] = {
    [WOS_PAGE_STATE_UNKNOWN] = {400, "state_unknown", "This sign-in link has expired",
        "You followed a sign-in link this server does not know: it is older than ten "
        "minutes, or sign-in started at another address than the one it finished at."},
    [WOS_PAGE_STATE_REPLAYED] = {400, "state_replayed", "This sign-in link was already used",
        "You opened a sign-in link that was used once already; each works only once."},
    [WOS_PAGE_CANCELLED] = {401, "sign_in_cancelled", "Sign-in was cancelled",
        "You cancelled sign-in, or you are not allowed to sign in here."},
    [WOS_PAGE_PROVIDER_ERROR] = {401, "sign_in_error", "Sign-in was not completed",
        "The sign-in page sent you back without signing you in."},
    [WOS_PAGE_MALFORMED] = {400, "invalid_callback", "Sign-in failed",
        "The sign-in page sent you back with an answer this server cannot read."},
    [WOS_PAGE_EXCHANGE_FAILED] = {401, "sign_in_failed", "Sign-in failed",
        "Your sign-in could not be completed."},
    [WOS_PAGE_UNAVAILABLE] = {503, "temporarily_unavailable", "Sign-in is unavailable",
        "The sign-in service is unavailable right now; you can try again in a moment."},
    [WOS_PAGE_SWITCH_REFUSED] = {403, "organization_switch_refused",
        "Organization switch refused",
        "You are not a member of that organization, or it requires you to sign in "
        "another way."},
    [WOS_PAGE_BAD_REQUEST] = {400, "invalid_request", "Bad request",
        "The link you followed is malformed."},
    [WOS_PAGE_CROSS_SITE] = {403, "cross_site_request", "Request refused",
        "You can only do this from this site's own pages. Go back and use the "
        "button there."},
    [WOS_PAGE_TOO_MANY] = {429, "too_many_requests", "Please wait a minute",
        "You made many changes to your session in a short time. Wait a minute, then try "
        "again."},
    [WOS_PAGE_LOGIN_REQUIRED] = {401, "login_required", "Sign-in required",
        "You need to sign in to see this page."},
    [WOS_PAGE_LOGIN_REQUIRED_403] = {403, "login_required", "Sign-in required",
        "You need to sign in to see this page."},
    [WOS_PAGE_FORBIDDEN] = {403, "forbidden", "You do not have access to this page",
        "You are signed in, but your account does not have what this page requires."},
};

/* Words for each Require provider: one value, several values. */
static const struct { const char *provider, *one, *any; } requirement_words[] = {
    {"workos-role", "the role", "one of the roles"},
    {"workos-permission", "the permission", "one of the permissions"},
    {"workos-org", "membership of the organization", "membership of one of the organizations"},
    {"workos-entitlement", "the entitlement", "one of the entitlements"},
    {"workos-feature-flag", "the feature flag", "one of the feature flags"},
};

static const char STYLE[] =
    "body{font-family:system-ui,-apple-system,sans-serif;max-width:40rem;margin:3rem auto;"
    "padding:0 1rem;color:#1f2328;line-height:1.5}h1{font-size:1.5rem;margin-bottom:.5rem}"
    ".detail{color:#57606a}table{border-collapse:collapse;margin:1rem 0}"
    "th,td{text-align:left;padding:.2rem 1rem .2rem 0}th{color:#57606a;font-weight:500}"
    ".actions{margin-top:1.5rem}.actions a,.actions button{margin-right:1rem}"
    "a.primary,button{font:inherit;padding:.35rem .9rem;border:1px solid #1f6feb;"
    "border-radius:6px;background:#1f6feb;color:#fff;text-decoration:none;cursor:pointer}"
    "form{display:inline}";

const wos_page_def *wos_page_def_of(wos_page_kind kind)
{
    return &pages[kind < WOS_PAGE_COUNT ? kind : WOS_PAGE_BAD_REQUEST];
}

const char *wos_page_clean(apr_pool_t *p, const char *s)
{
    apr_size_t i, n;
    char *out;

    if (!s)
        return NULL;
    n = strlen(s);
    if (n > WOS_PAGE_MAX_DETAIL)
        n = WOS_PAGE_MAX_DETAIL;
    out = apr_pstrmemdup(p, s, n);
    for (i = 0; i < n; i++)
        if (out[i] < 0x20 || out[i] > 0x7e)
            out[i] = '?';
    return out;
}

char *wos_html_escape(apr_pool_t *p, const char *s)
{
    static const struct { char c; const char *ref; } refs[] = {
        {'&', "&amp;"}, {'<', "&lt;"}, {'>', "&gt;"}, {'"', "&quot;"}, {'\'', "&#39;"},
    };
    apr_size_t i, k, n = s ? strlen(s) : 0, len = 0;
    char *out, *o;

    for (i = 0; i < n; i++)
        len += strchr("&<>\"'", s[i]) ? 6 : 1;
    o = out = apr_palloc(p, len + 1);
    for (i = 0; i < n; i++) {
        const char *ref = NULL;
        for (k = 0; k < sizeof(refs) / sizeof(refs[0]) && !ref; k++)
            ref = s[i] == refs[k].c ? refs[k].ref : NULL;
        if (ref) {
            strcpy(o, ref);
            o += strlen(ref);
        }
        else
            *o++ = s[i];
    }
    *o = '\0';
    return out;
}

/* "a", "a or b", "a, b or c" */
static const char *either(apr_pool_t *p, const apr_array_header_t *v)
{
    const char *s = APR_ARRAY_IDX(v, 0, const char *);
    int i;

    for (i = 1; i < v->nelts; i++)
        s = apr_pstrcat(p, s, i == v->nelts - 1 ? " or " : ", ",
                        APR_ARRAY_IDX(v, i, const char *), NULL);
    return s;
}

const char *wos_page_requirement(apr_pool_t *p, const char *provider,
                                 const apr_array_header_t *values)
{
    size_t i;

    if (!provider || !values || values->nelts == 0)
        return NULL;
    for (i = 0; i < sizeof(requirement_words) / sizeof(requirement_words[0]); i++)
        if (!strcmp(provider, requirement_words[i].provider))
            return apr_pstrcat(p, values->nelts == 1 ? requirement_words[i].one
                                                     : requirement_words[i].any,
                               " ", either(p, values), NULL);
    return NULL;
}

static int has(const apr_array_header_t *a)
{
    return a && a->nelts > 0;
}

const char *wos_page_description(apr_pool_t *p, const wos_page *pg)
{
    const char *d = wos_page_def_of(pg->kind)->message;

    if (pg->detail && *pg->detail)
        d = apr_pstrcat(p, d, " ", wos_page_clean(p, pg->detail), NULL);
    if (has(pg->requirements))
        d = apr_pstrcat(p, d, " This page requires ", either(p, pg->requirements), ".", NULL);
    return d;
}

/* Who is refused: user, organization, role. */
static const char *who_html(apr_pool_t *p, const wos_page *pg)
{
    if (!pg->user)
        return "";
    return apr_pstrcat(p, "<table><tr><th>Signed in as</th><td id=\"wos-user\">",
                       wos_html_escape(p, pg->user), "</td></tr>"
                       "<tr><th>Organization</th><td id=\"wos-org\">",
                       pg->org ? wos_html_escape(p, pg->org) : "no organization",
                       "</td></tr><tr><th>Role</th><td id=\"wos-role\">",
                       pg->role ? wos_html_escape(p, pg->role) : "none", "</td></tr></table>",
                       NULL);
}

static const char *requirements_html(apr_pool_t *p, const wos_page *pg)
{
    const char *s = "";
    int i;

    if (!has(pg->requirements))
        return "";
    for (i = 0; i < pg->requirements->nelts; i++)
        s = apr_pstrcat(p, s, "<li>", wos_html_escape(p, APR_ARRAY_IDX(pg->requirements, i,
                                                                       const char *)),
                        "</li>", NULL);
    return apr_pstrcat(p, "<p>This page requires", pg->requirements->nelts > 1 ? " one of" : "",
                       ":</p><ul id=\"wos-requirements\">", s, "</ul>", NULL);
}

/* POST forms (the switch endpoint takes no GET): one per organization offered. */
static const char *switch_html(apr_pool_t *p, const wos_page *pg)
{
    const char *s = "";
    int i;

    if (!pg->switch_href || !has(pg->switch_orgs))
        return "";
    for (i = 0; i < pg->switch_orgs->nelts; i++) {
        const char *org = wos_html_escape(p, APR_ARRAY_IDX(pg->switch_orgs, i, const char *));
        s = apr_pstrcat(p, s, "<li><form method=\"post\" action=\"",
                        wos_html_escape(p, pg->switch_href), "\">"
                        "<input type=\"hidden\" name=\"organization_id\" value=\"", org, "\">",
                        pg->return_to ? "<input type=\"hidden\" name=\"return_to\" value=\"" : "",
                        pg->return_to ? wos_html_escape(p, pg->return_to) : "",
                        pg->return_to ? "\">" : "",
                        "<button type=\"submit\" class=\"wos-switch\" data-org=\"", org,
                        "\">Switch to organization ", org, "</button></form></li>", NULL);
    }
    return apr_pstrcat(p, "<ul id=\"wos-switch\">", s, "</ul>", NULL);
}

static const char *link_html(apr_pool_t *p, const char *href, const char *id,
                             const char *cls, const char *label)
{
    if (!href)
        return "";
    return apr_pstrcat(p, "<a id=\"", id, "\"", cls ? " class=\"" : "", cls ? cls : "",
                       cls ? "\"" : "", " href=\"", wos_html_escape(p, href), "\">", label,
                       "</a>", NULL);
}

char *wos_page_html(apr_pool_t *p, const wos_page *pg)
{
    const wos_page_def *d = wos_page_def_of(pg->kind);
    const char *title = wos_html_escape(p, d->title);
    const char *detail = pg->detail && *pg->detail
        ? apr_pstrcat(p, "<p class=\"detail\" id=\"wos-detail\">",
                      wos_html_escape(p, wos_page_clean(p, pg->detail)), "</p>", NULL)
        : "";

    return apr_pstrcat(p,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        "<title>", title, "</title><style>", STYLE, "</style></head>\n<body><main>"
        "<h1 id=\"wos-title\">", title, "</h1><p id=\"wos-message\">",
        wos_html_escape(p, d->message), "</p>", detail, who_html(p, pg),
        requirements_html(p, pg), switch_html(p, pg), "<p class=\"actions\">",
        link_html(p, pg->sign_in_href, "wos-sign-in", "primary", "Sign in again"),
        link_html(p, pg->back_href, "wos-back", NULL, "Back"),
        link_html(p, pg->sign_out_href, "wos-sign-out", NULL, "Sign out"),
        "</p></main></body></html>\n", NULL);
}

char *wos_page_json(apr_pool_t *p, const wos_page *pg)
{
    json_t *o = wos_json_pool_own(p, json_object());

    json_object_set_new(o, "error", json_string(wos_page_def_of(pg->kind)->error));
    json_object_set_new(o, "error_description", json_string(wos_page_description(p, pg)));
    return apr_pstrcat(p, wos_json_dump(p, o), "\n", NULL);
}

/* A media range of the header names @p type (parameters and case ignored). */
static int names_type(const char *accept, const char *type)
{
    apr_size_t n = strlen(type);
    const char *s = accept;

    while (s && *s) {
        while (*s == ' ' || *s == ',')
            s++;
        if (!strncasecmp(s, type, n) && strchr(" ;,", s[n] ? s[n] : ','))
            return 1;
        s = strchr(s, ',');
    }
    return 0;
}

int wos_page_wants_json(const char *accept)
{
    return accept && names_type(accept, "application/json") && !names_type(accept, "text/html");
}
