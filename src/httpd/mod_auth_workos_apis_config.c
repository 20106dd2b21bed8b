/*
 * mod_auth_workos_apis_config.c: the directives of bearer tokens, the
 * session endpoint, custom claims and the per-session call limit; checked
 * as they are read, so that configtest names the one that is wrong.
 */
#include <stdlib.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_uri.h>
#include <http_core.h>

#include "mod_auth_workos.h"
#include "wos_custom.h"
#include "wos_ratelimit.h"

#define ACFG(m) (&((wos_dir_cfg *)(m))->apis)

void wos_apis_init(wos_apis_cfg *a)
{
    memset(a, 0, sizeof(*a));
    a->accept_bearer = WOS_UNSET;
    a->info_token = WOS_UNSET;
    a->call_limit = WOS_UNSET;
    a->call_window = WOS_UNSET;
}

#define MERGE(f, unset) out->f = add->f != (unset) ? add->f : base->f

void wos_apis_merge(const wos_apis_cfg *base, const wos_apis_cfg *add, wos_apis_cfg *out)
{
    MERGE(accept_bearer, WOS_UNSET);
    MERGE(info_uri, NULL);
    MERGE(info_token, WOS_UNSET);
    MERGE(info_origins, NULL);
    MERGE(claims, NULL);
    MERGE(call_limit, WOS_UNSET);
    MERGE(call_window, WOS_UNSET);
}

const char *wos_set_accept_bearer(cmd_parms *cmd, void *m, int on)
{
    ACFG(m)->accept_bearer = on;
    return NULL;
}

const char *wos_set_info_uri(cmd_parms *cmd, void *m, const char *arg)
{
    if (arg[0] != '/' || arg[1] == '/')
        return apr_psprintf(cmd->pool, "WorkOSSessionInfoURI: '%s' must be a path starting "
                            "with /", arg);
    ACFG(m)->info_uri = arg;
    return NULL;
}

const char *wos_set_info_token(cmd_parms *cmd, void *m, int on)
{
    ACFG(m)->info_token = on;
    return NULL;
}

/* An exact origin: scheme://host[:port], nothing after it (browsers send no path). */
static const char *check_origin(cmd_parms *cmd, const char *o)
{
    apr_uri_t u;

    if ((strncmp(o, "https://", 8) && strncmp(o, "http://", 7))
        || apr_uri_parse(cmd->temp_pool, o, &u) != APR_SUCCESS || !u.hostname
        || u.user || u.password || u.query || u.fragment || (u.path && *u.path)
        || o[strlen(o) - 1] == '/')
        return apr_psprintf(cmd->pool, "%s: '%s' is not an origin (scheme://host[:port], "
                            "lower case, no path)", cmd->cmd->name, o);
    for (; *o; o++)
        if (apr_isupper(*o))
            return apr_psprintf(cmd->pool, "%s: write origins in lower case, as browsers "
                                "send them", cmd->cmd->name);
    return NULL;
}

const char *wos_set_info_origins(cmd_parms *cmd, void *m, int argc, char *const argv[])
{
    apr_array_header_t *a = apr_array_make(cmd->pool, argc, sizeof(const char *));
    int i;

    if (argc < 1)
        return "WorkOSSessionInfoOrigins: at least one origin is required";
    for (i = 0; i < argc; i++) {
        const char *err = strcmp(argv[i], "*") ? check_origin(cmd, argv[i])
                        : "WorkOSSessionInfoOrigins: '*' is not allowed with credentials; "
                          "list the origins";
        if (err)
            return err;
        APR_ARRAY_PUSH(a, const char *) = argv[i];
    }
    ACFG(m)->info_origins = a;
    return NULL;
}

/* Claim names; two that would make the same variable are refused. */
const char *wos_set_pass_claim(cmd_parms *cmd, void *m, int argc, char *const argv[])
{
    apr_array_header_t *a = apr_array_make(cmd->pool, argc, sizeof(wos_custom_claim));
    int i, j;

    if (argc < 1)
        return "WorkOSPassClaim: at least one claim name is required";
    for (i = 0; i < argc; i++) {
        wos_custom_claim *c = apr_array_push(a);
        const char *err = NULL;

        if (wos_custom_claim_make(cmd->pool, argv[i], c, &err) != WOS_OK)
            return apr_psprintf(cmd->pool, "WorkOSPassClaim: '%s': %s", argv[i], err);
        for (j = 0; j < i; j++)
            if (!strcmp(APR_ARRAY_IDX(a, j, wos_custom_claim).env, c->env))
                return apr_psprintf(cmd->pool, "WorkOSPassClaim: '%s' and '%s' would both "
                                    "be %s", APR_ARRAY_IDX(a, j, wos_custom_claim).claim,
                                    argv[i], c->env);
    }
    ACFG(m)->claims = a;
    return NULL;
}

const char *wos_set_call_limit(cmd_parms *cmd, void *m, const char *n, const char *secs)
{
    char *end;
    long v = strtol(n, &end, 10), w = WOS_CALL_WINDOW_DEFAULT;

    if (!*n || *end || v < 0 || v > WOS_RATELIMIT_MAX)
        return apr_psprintf(cmd->pool, "WorkOSSessionCallLimit: '%s' is not a number from 0 "
                            "to %d", n, WOS_RATELIMIT_MAX);
    if (secs) {
        w = strtol(secs, &end, 10);
        if (!*secs || *end || w < 1 || w > 86400)
            return apr_psprintf(cmd->pool, "WorkOSSessionCallLimit: window '%s' is not a "
                                "number of seconds from 1 to 86400", secs);
    }
    ACFG(m)->call_limit = (int)v;
    ACFG(m)->call_window = (int)w;
    return NULL;
}

void wos_apis_register_hooks(apr_pool_t *p)
{
    wos_bearer_register_hooks();
    wos_sessioninfo_register_hooks();
    wos_register_claim_provider(p);
}
