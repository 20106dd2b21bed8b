/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_workos_check.c: whole-configuration checks, so that
 * `apachectl configtest` (and every start or restart) refuses a configuration
 * that could only fail at request time. Single directives check themselves
 * when they are read (short passwords, unset env: variables, bad URLs,
 * Require values); what needs the whole tree is checked here:
 *
 * - `AuthType WorkOS` with no WorkOSClientID, WorkOSCookiePassword or
 *   WorkOSAPIKey anywhere it could inherit one from (its virtual host, or the
 *   main server, at any level). A setting in an unrelated <Location> still
 *   satisfies this check: merging is decided per request, so the request-time
 *   check (WOS00102) remains for that case;
 * - WorkOSCache naming a mod_socache provider that is not loaded, or
 *   arguments the provider refuses (post_config opens the same cache, and
 *   fails the same way, but `configtest` never runs post_config);
 * - cookie passwords the scope's WorkOSSessionFormat cannot use
 *   (mod_auth_workos_format.c).
 *
 * <IfModule> and <IfDefine> need no handling: httpd evaluates them while
 * reading, and the tree holds only the contents of the active ones.
 */
#include <apr_strings.h>
#include <ap_provider.h>
#include <http_core.h>

#include "mod_auth_workos.h"

/* The settings without which AuthType WorkOS cannot work, as they appear in the tree. */
static const char *const REQUIRED[] = {"WorkOSClientID", "WorkOSCookiePassword", "WorkOSAPIKey"};
#define N_REQUIRED (sizeof(REQUIRED) / sizeof(REQUIRED[0]))

typedef struct {
    int found[N_REQUIRED];
} scope_seen;

static int is_vhost(const ap_directive_t *d)
{
    return !strcasecmp(d->directive, "<VirtualHost");
}

static int is_workos_authtype(apr_pool_t *p, const ap_directive_t *d)
{
    const char *args = d->args ? d->args : "";
    return !strcasecmp(d->directive, "AuthType")
           && !strcasecmp(ap_getword_conf(p, &args), WOS_AUTH_TYPE);
}

/* Which required settings appear under @p d (virtual hosts are scopes of their own). */
static void collect(const ap_directive_t *d, scope_seen *seen)
{
    apr_size_t i;

    for (; d; d = d->next) {
        for (i = 0; i < N_REQUIRED; i++)
            if (!strcasecmp(d->directive, REQUIRED[i]))
                seen->found[i] = 1;
        if (d->first_child && !is_vhost(d))
            collect(d->first_child, seen);
    }
}

/* Every active `AuthType WorkOS` in one scope, checked against what the scope sees. */
static int check_authtypes(apr_pool_t *p, const ap_directive_t *d, const scope_seen *seen)
{
    int bad = 0;
    apr_size_t i;

    for (; d; d = d->next) {
        if (is_workos_authtype(p, d)) {
            for (i = 0; i < N_REQUIRED; i++) {
                if (seen->found[i])
                    continue;
                ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_ERR, 0, NULL,
                             "WOS00701: AuthType WorkOS at %s:%d needs %s, and none is set "
                             "in its server or virtual host", d->filename, d->line_num,
                             REQUIRED[i]);
                bad = 1;
            }
        }
        if (d->first_child && !is_vhost(d))
            bad |= check_authtypes(p, d->first_child, seen);
    }
    return bad;
}

/* Each virtual host (all at the top of the tree) adds to the main scope. */
static int check_vhosts(apr_pool_t *p, const ap_directive_t *d, const scope_seen *main_seen)
{
    int bad = 0;

    for (; d; d = d->next) {
        if (is_vhost(d)) {
            scope_seen vh = *main_seen;
            collect(d->first_child, &vh);
            bad |= check_authtypes(p, d->first_child, &vh);
        }
    }
    return bad;
}

/* The provider is loaded and accepts the arguments (nothing is opened yet). */
static int check_cache(apr_pool_t *ptemp, server_rec *s)
{
    wos_srv_cfg *sc = wos_scfg(s);
    const char *name = sc->cache_name ? sc->cache_name : "shmcb";
    const ap_socache_provider_t *prov;
    ap_socache_instance_t *inst = NULL;
    const char *err;

    if (sc->redis_hosts)
        return 0;               /* the module's own redis: checked when it was read */
    prov = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name, AP_SOCACHE_PROVIDER_VERSION);
    if (!prov) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_ERR, 0, NULL,
                     "WOS00702: WorkOSCache %s: no mod_socache provider '%s' is loaded "
                     "(LoadModule socache_%s_module)", sc->cache_spec ? sc->cache_spec : name,
                     name, name);
        return 1;
    }
    err = prov->create(&inst, sc->cache_args, ptemp, ptemp);
    if (err) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_ERR, 0, NULL,
                     "WOS00703: WorkOSCache %s: %s", sc->cache_spec, err);
        return 1;
    }
    if (inst)
        prov->destroy(inst, s);
    return 0;
}

static int wos_config_check(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                            server_rec *s)
{
    scope_seen main_seen;
    int bad;

    (void)pconf;
    (void)plog;
    memset(&main_seen, 0, sizeof(main_seen));
    collect(ap_conftree, &main_seen);
    bad = check_authtypes(ptemp, ap_conftree, &main_seen);
    bad |= check_vhosts(ptemp, ap_conftree, &main_seen);
    /* Loaded means a cache is opened (post_config), used or not: check it alike. */
    bad |= check_cache(ptemp, s);
    bad |= wos_format_check(ptemp, s);
    return bad ? HTTP_INTERNAL_SERVER_ERROR : OK;
}

void wos_check_register_hooks(void)
{
    ap_hook_check_config(wos_config_check, NULL, NULL, APR_HOOK_MIDDLE);
}
