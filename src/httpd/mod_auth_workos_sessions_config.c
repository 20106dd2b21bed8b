/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_workos_sessions_config.c: the directives of server-side session
 * management, checked as they are read so that configtest names the one
 * that is wrong.
 */
#include <stdlib.h>
#include <apr_strings.h>
#include <http_core.h>

#include "mod_auth_workos.h"

#define SCFG(m) (&((wos_dir_cfg *)(m))->sessions)
#define MAX_SECONDS (86400L * 30)

void wos_sessions_init(wos_sessions_cfg *s)
{
    memset(s, 0, sizeof(*s));
    s->token_max_age = WOS_UNSET;
    s->idle_timeout = WOS_UNSET;
}

#define MERGE(f, unset) out->f = add->f != (unset) ? add->f : base->f

void wos_sessions_merge(const wos_sessions_cfg *base, const wos_sessions_cfg *add,
                        wos_sessions_cfg *out)
{
    MERGE(token_max_age, WOS_UNSET);
    MERGE(idle_timeout, WOS_UNSET);
    MERGE(uri, NULL);
}

/* Off (0), or whole seconds from 1 to 30 days. */
static const char *seconds_or_off(cmd_parms *cmd, const char *arg, int *out)
{
    char *end;
    long v;

    if (!strcasecmp(arg, "off")) {
        *out = 0;
        return NULL;
    }
    v = strtol(arg, &end, 10);
    if (!*arg || *end || v < 0 || v > MAX_SECONDS)
        return apr_psprintf(cmd->pool, "%s: '%s' is neither Off nor a number of seconds from "
                            "1 to %ld", cmd->cmd->name, arg, MAX_SECONDS);
    *out = (int)v;
    return NULL;
}

const char *wos_set_token_max_age(cmd_parms *cmd, void *m, const char *arg)
{
    return seconds_or_off(cmd, arg, &SCFG(m)->token_max_age);
}

const char *wos_set_idle_timeout(cmd_parms *cmd, void *m, const char *arg)
{
    return seconds_or_off(cmd, arg, &SCFG(m)->idle_timeout);
}

const char *wos_set_sessions_uri(cmd_parms *cmd, void *m, const char *arg)
{
    if (arg[0] != '/' || arg[1] == '/' || strchr(arg, '?') || strchr(arg, '#'))
        return apr_psprintf(cmd->pool, "WorkOSSessionsURI: '%s' must be a path starting "
                            "with / (no query)", arg);
    SCFG(m)->uri = arg;
    return NULL;
}
