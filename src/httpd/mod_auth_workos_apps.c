/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_workos_apps.c: what applications behind the module need besides
 * the identity: CORS preflights let through to them, the module's cookies
 * kept from them, and header values in an encoding they can read.
 */
#include <apr_strings.h>
#include <http_protocol.h>

#include "mod_auth_workos.h"
#include "wos_backend.h"
#include "wos_signin.h"

/* A CORS preflight: browsers send it without cookies, before the real call. */
static int is_preflight(request_rec *r)
{
    return r->method_number == M_OPTIONS && apr_table_get(r->headers_in, "Origin")
           && apr_table_get(r->headers_in, "Access-Control-Request-Method");
}

/*
 * access_checker_ex, after mod_authz_core's: it has already granted what
 * needs no user and refused what no user could pass (Require ip, say); what
 * is left needs a user, which a preflight never has. With WorkOSPreflight
 * pass the app answers it (OK skips authentication and Require).
 */
int wos_preflight_access(request_rec *r)
{
    if (!is_preflight(r) || !wos_is_workos(r)
        || wos_cfg_preflight(wos_dcfg(r)) != WOS_PREFLIGHT_PASS)
        return DECLINED;
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  "WOS01903: CORS preflight passed to the application (WorkOSPreflight pass)");
    return OK;
}

/* WorkOSStripCookies On: the session (and its chunks) and sign-in state
 * cookies stay with the module; the app gets the others. */
void wos_strip_cookies(request_rec *r, const wos_dir_cfg *c)
{
    const char *hdr, *left;

    if (!wos_cfg_strip_cookies(c) || !(hdr = wos_cookie_header(r)))
        return;
    left = wos_cookie_strip(r->pool, hdr, wos_cfg_cookie_name(c), WOS_SIGNIN_COOKIE_PREFIX);
    if (left == hdr)
        return;
    apr_table_unset(r->headers_in, "Cookie");
    if (left)
        apr_table_setn(r->headers_in, "Cookie", left);
    ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r,
                  "WOS01904: the module's cookies removed from the request (WorkOSStripCookies)");
}

const char *wos_header_value(request_rec *r, const wos_dir_cfg *c, const char *env,
                             const char *value)
{
    return wos_hdrenc_value(r->pool, wos_cfg_header_encoding(c), env,
                            value);
}
