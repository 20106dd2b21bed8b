/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_workos.c: the module record, its hooks, and the registration of
 * its providers. Each hook's work is in src/httpd/ (the glue) and the logic
 * behind it in src/ (the core, no httpd types).
 */
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_auth.h>

#define WOS_MODULE_FILE
#include "mod_auth_workos.h"
#include "wos_http.h"

static int wos_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    int rc = wos_cache_pre_config(pconf);
    return rc == OK ? wos_scache_pre_config(pconf) : rc;
}

static int wos_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                           server_rec *s)
{
    /* httpd reads its configuration twice at start-up; set up once, for real. */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG)
        return OK;
    if (wos_http_global_init() != WOS_OK) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "WOS00109: cannot initialise libcurl");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (wos_status_post_config(pconf, s) != OK)
        return HTTP_INTERNAL_SERVER_ERROR;
    wos_insert_filter_post_config(s);
    if (wos_scache_post_config(pconf, s) != OK)
        return HTTP_INTERNAL_SERVER_ERROR;
    return wos_cache_post_config(pconf, s);
}

static void wos_child_init(apr_pool_t *pchild, server_rec *s)
{
    wos_cache_child_init(pchild, s);
    wos_scache_child_init(pchild, s);
}

static void wos_register_hooks(apr_pool_t *p)
{
    /* Preflights are let through only where mod_authz_core found that Require needs a user. */
    static const char *const after_authz_core[] = {"mod_authz_core.c", NULL};

    ap_hook_pre_config(wos_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(wos_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(wos_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_quick_handler(wos_flow_handler, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_post_perdir_config(wos_post_perdir, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_check_access_ex(wos_preflight_access, after_authz_core, NULL, APR_HOOK_LAST,
                            AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_check_authn(wos_check_authn, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_fixups(wos_fixups, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_note_auth_failure(wos_note_auth_failure, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_insert_filter(wos_insert_filter, NULL, NULL, APR_HOOK_LAST);
    wos_register_authz_providers(p);
    wos_status_register_hooks();
    wos_check_register_hooks();
    wos_bearer_register_hooks();
    wos_sessioninfo_register_hooks();
    wos_register_claim_provider(p);
    wos_pages_register_hooks();
    wos_scache_register_hooks();
    ap_hook_child_init(wos_idle_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    wos_sessions_endpoint_register_hooks();
}

AP_DECLARE_MODULE(auth_workos) = {
    STANDARD20_MODULE_STUFF,
    wos_create_dir_cfg,
    wos_merge_dir_cfg,
    wos_create_srv_cfg,
    wos_merge_srv_cfg,
    wos_cmds,
    wos_register_hooks,
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
    AP_MODULE_FLAG_ALWAYS_MERGE
#endif
};
