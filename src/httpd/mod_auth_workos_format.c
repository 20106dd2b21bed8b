/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_workos_format.c: WorkOSSessionFormat's start-up check that every
 * password a scope seals or opens its cookie with is one that scope's SDK
 * accepts (a Fernet key for python, 32 bytes and more for ruby), so that
 * `apachectl configtest` says so, rather than a request failing later.
 */
#include <apr_hash.h>
#include <apr_strings.h>
#include <http_core.h>

#include "mod_auth_workos.h"

/* One scope: the section's own settings over its server's. 1 when a password is refused. */
static int check_scope(apr_pool_t *p, apr_hash_t *told, const wos_dir_cfg *base,
                       const wos_dir_cfg *sec, const char *where)
{
    wos_format f = wos_cfg_format(sec && sec->session_format != WOS_UNSET ? sec : base);
    const apr_array_header_t *pw = sec && sec->passwords ? sec->passwords : base->passwords;
    int i, bad = 0;

    for (i = 0; pw && i < pw->nelts; i++) {
        const char *rule = wos_format_password_rule(f, APR_ARRAY_IDX(pw, i, const char *));
        const char *msg;

        if (!rule)
            continue;
        bad = 1;
        msg = apr_psprintf(p, "WOS01701: WorkOSCookiePassword %d (%s) for "
                           "WorkOSSessionFormat %s %s", i + 1, where, wos_format_name(f), rule);
        if (!apr_hash_get(told, msg, APR_HASH_KEY_STRING)) {
            apr_hash_set(told, msg, APR_HASH_KEY_STRING, msg);
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_ERR, 0, NULL, "%s", msg);
        }
    }
    return bad;
}

/* The <Directory> or <Location> sections of one server, over its defaults. */
static int check_sections(apr_pool_t *p, apr_hash_t *told, const wos_dir_cfg *base,
                          const apr_array_header_t *secs)
{
    int i, bad = 0;

    for (i = 0; secs && i < secs->nelts; i++) {
        ap_conf_vector_t *v = APR_ARRAY_IDX(secs, i, ap_conf_vector_t *);
        const wos_dir_cfg *sec = ap_get_module_config(v, &auth_workos_module);
        const core_dir_config *cd = ap_get_core_module_config(v);

        if (sec && (sec->passwords || sec->session_format != WOS_UNSET))
            bad |= check_scope(p, told, base, sec, cd && cd->d ? cd->d : "a section");
    }
    return bad;
}

int wos_format_check(apr_pool_t *ptemp, server_rec *main_server)
{
    apr_hash_t *told = apr_hash_make(ptemp);
    server_rec *s;
    int bad = 0;

    for (s = main_server; s; s = s->next) {
        const wos_dir_cfg *base = ap_get_module_config(s->lookup_defaults, &auth_workos_module);
        const core_server_config *core = ap_get_core_module_config(s->module_config);
        const char *where = s->defn_name ? apr_psprintf(ptemp, "virtual host at %s:%u",
                                                        s->defn_name, s->defn_line_number)
                                         : "server";
        if (!base)
            continue;
        bad |= check_scope(ptemp, told, base, NULL, where);
        bad |= check_sections(ptemp, told, base, core->sec_dir);
        bad |= check_sections(ptemp, told, base, core->sec_url);
    }
    return bad;
}
