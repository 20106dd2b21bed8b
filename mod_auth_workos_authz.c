/*
 * mod_auth_workos_authz.c: `Require workos-*` providers. Each takes one or
 * more values; any of them grants. <RequireAll> expresses "all of".
 */
#include <apr_strings.h>
#include <ap_provider.h>
#include <mod_auth.h>

#include "mod_auth_workos.h"

typedef enum { Z_ROLE, Z_PERMISSION, Z_ORG, Z_ENTITLEMENT, Z_FEATURE_FLAG } wos_authz_kind;

static const char *parse_values(cmd_parms *cmd, const char *name,
                                const char *require_line, const void **parsed)
{
    apr_array_header_t *vals = apr_array_make(cmd->pool, 4, sizeof(const char *));
    const char *line = require_line, *w;

    while (*line && *(w = ap_getword_conf(cmd->pool, &line)))
        APR_ARRAY_PUSH(vals, const char *) = w;
    if (vals->nelts == 0)
        return apr_psprintf(cmd->pool, "Require %s: at least one value is required", name);
    *parsed = vals;
    return NULL;
}

static int any_in(const apr_array_header_t *want, const apr_array_header_t *have)
{
    int i;
    for (i = 0; i < want->nelts; i++)
        if (wos_array_contains(have, APR_ARRAY_IDX(want, i, const char *)))
            return 1;
    return 0;
}

static int matches(wos_authz_kind kind, const wos_claims *c, const wos_session *s,
                   const apr_array_header_t *want)
{
    int i;

    switch (kind) {
    case Z_ROLE:
        for (i = 0; i < want->nelts; i++)
            if (c->role && !strcmp(c->role, APR_ARRAY_IDX(want, i, const char *)))
                return 1;
        return any_in(want, c->roles);
    case Z_PERMISSION:
        return any_in(want, c->permissions);
    case Z_ORG:
        for (i = 0; i < want->nelts; i++)
            if (c->org_id && !strcmp(c->org_id, APR_ARRAY_IDX(want, i, const char *)))
                return 1;
        return 0;
    case Z_ENTITLEMENT:
        return any_in(want, c->entitlements);
    case Z_FEATURE_FLAG:
        return any_in(want, c->feature_flags);
    }
    return 0;
}

static authz_status check(request_rec *r, wos_authz_kind kind, const void *parsed)
{
    wos_req *st;

    if (!r->user)
        return AUTHZ_DENIED_NO_USER;
    st = wos_req_state(r);
    if (!st->claims) {
        /* Authenticated by something else: no WorkOS claims to grant on. */
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "WOS00301: Require workos-*: %s has no WorkOS session", r->user);
        return AUTHZ_DENIED;
    }
    return matches(kind, st->claims, st->session, parsed) ? AUTHZ_GRANTED : AUTHZ_DENIED;
}

/* One check and one parser per provider; they differ only in what they compare. */
#define PROVIDER(id, kind, name)                                                     \
    static authz_status check_##id(request_rec *r, const char *line,                 \
                                   const void *parsed)                               \
    {                                                                                \
        (void)line;                                                                  \
        return check(r, kind, parsed);                                               \
    }                                                                                \
    static const char *parse_##id(cmd_parms *cmd, const char *line,                  \
                                  const void **parsed)                               \
    {                                                                                \
        return parse_values(cmd, name, line, parsed);                                \
    }                                                                                \
    static const authz_provider p_##id = {check_##id, parse_##id};

PROVIDER(role, Z_ROLE, "workos-role")
PROVIDER(permission, Z_PERMISSION, "workos-permission")
PROVIDER(org, Z_ORG, "workos-org")
PROVIDER(entitlement, Z_ENTITLEMENT, "workos-entitlement")
PROVIDER(feature_flag, Z_FEATURE_FLAG, "workos-feature-flag")

void wos_register_authz_providers(apr_pool_t *p)
{
    static const struct { const char *name; const authz_provider *prov; } all[] = {
        {"workos-role", &p_role},
        {"workos-permission", &p_permission},
        {"workos-org", &p_org},
        {"workos-entitlement", &p_entitlement},
        {"workos-feature-flag", &p_feature_flag},
    };
    size_t i;

    for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, all[i].name,
                                  AUTHZ_PROVIDER_VERSION, all[i].prov,
                                  AP_AUTH_INTERNAL_PER_CONF);
}
