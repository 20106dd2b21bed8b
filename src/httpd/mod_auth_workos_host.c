/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_workos_host.c: sign-in must start on the host it finishes on.
 * The state cookie set when sign-in starts goes back only to the host that
 * set it; if WorkOSRedirectURI names another host (localhost while the
 * browser is at 127.0.0.1), the callback never sees it and sign-in always
 * fails. Between loopback names on one port the browser is sent to the
 * callback's host first. Otherwise a redirect could loop (a proxy that
 * rewrites Host makes every request look misplaced), so the mismatch is only
 * logged; the callback's page names it too (mod_auth_workos_flows.c).
 */
#include <apr_strings.h>
#include <apr_uri.h>
#include <http_core.h>
#include <http_protocol.h>

#include "mod_auth_workos.h"

static int is_loopback(const char *host)
{
    apr_size_t n = strlen(host);

    return !strcasecmp(host, "localhost") || !strcmp(host, "::1")
           || !strncmp(host, "127.", 4)
           || (n > 10 && !strcasecmp(host + n - 10, ".localhost"));
}

/* Both hosts under WorkOSCookieDomain: the state cookie reaches either. */
static int cookie_spans(const wos_dir_cfg *c, const char *a, const char *b)
{
    const char *d = c->cookie_domain;
    apr_size_t n;

    if (!d)
        return 0;
    d += *d == '.';
    n = strlen(d);
    return strlen(a) >= n && strlen(b) >= n && !strcasecmp(a + strlen(a) - n, d)
           && !strcasecmp(b + strlen(b) - n, d);
}

/*
 * The URL to send a sign-in start to first (the same path on the callback's
 * host), or NULL to go ahead here.
 */
const char *wos_signin_elsewhere(request_rec *r, const wos_dir_cfg *c)
{
    apr_uri_t cb, here;
    const char *host = apr_table_get(r->headers_in, "Host");
    apr_port_t cb_port, here_port;

    if (!c->redirect_uri || c->redirect_uri[0] == '/' || !host
        || apr_uri_parse(r->pool, c->redirect_uri, &cb) != APR_SUCCESS || !cb.hostname
        || apr_uri_parse(r->pool, apr_pstrcat(r->pool, "//", host, NULL), &here) != APR_SUCCESS
        || !here.hostname)
        return NULL;
    cb_port = cb.port ? cb.port : apr_uri_port_of_scheme(cb.scheme);
    here_port = here.port ? here.port : apr_uri_port_of_scheme(ap_http_scheme(r));
    if ((!strcasecmp(cb.hostname, here.hostname) && cb_port == here_port)
        || cookie_spans(c, cb.hostname, here.hostname))
        return NULL;
    if (!is_loopback(cb.hostname) || !is_loopback(here.hostname) || cb_port != here_port) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "WOS01502: sign-in starts at %s but finishes at %s (WorkOSRedirectURI): "
                      "unless both are the browser's address for this site (a proxy), the "
                      "sign-in cookie set here will not reach the callback",
                      ap_escape_logitem(r->pool, host), cb.hostinfo);
        return NULL;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "WOS01504: sign-in started at %s; sending the browser to %s, where it "
                  "finishes (WorkOSRedirectURI)", ap_escape_logitem(r->pool, host), cb.hostinfo);
    return apr_pstrcat(r->pool, cb.scheme, "://", cb.hostinfo, r->unparsed_uri, NULL);
}
