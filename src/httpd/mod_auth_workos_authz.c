/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_workos_authz.c: `Require workos-*` providers. Each takes one or
 * more values; any of them grants. <RequireAll> expresses "all of".
 */
#include <apr_lib.h>
#include <apr_strings.h>
#include <ap_provider.h>
#include <mod_auth.h>

#include "mod_auth_workos.h"

typedef enum { Z_ROLE, Z_PERMISSION, Z_ORG, Z_ENTITLEMENT, Z_FEATURE_FLAG } wos_authz_kind;

/*
 * Values as WorkOS writes them: organization IDs are org_ and letters or
 * digits; slugs (roles, permissions such as posts:read, entitlements, flags)
 * are letters, digits and - _ . : /. Anything else is a typo that would
 * never match (a comma-separated list, quotes, an expression), so configtest
 * says so instead of denying everyone at request time.
 */
static const char *bad_value(cmd_parms *cmd, wos_authz_kind kind, const char *name,
                             const char *v)
{
    const char *c;

    if (kind == Z_ORG) {
        if (strncmp(v, "org_", 4) || !v[4])
            return apr_psprintf(cmd->pool, "Require %s: '%s' is not an organization ID "
                                "(org_...)", name, v);
        for (c = v + 4; *c; c++)
            if (!apr_isalnum(*c))
                return apr_psprintf(cmd->pool, "Require %s: '%s' is not an organization ID "
                                    "(org_ followed by letters and digits)", name, v);
        return NULL;
    }
    for (c = v; *c; c++) {
        if (apr_isalnum(*c) || strchr("-_.:/", *c))
            continue;
        return apr_psprintf(cmd->pool, "Require %s: '%s' has a '%c'; values are separated "
                            "by spaces and use letters, digits and - _ . : / only", name, v,
                            *c);
    }
    return NULL;
}

static const char *parse_values(cmd_parms *cmd, wos_authz_kind kind, const char *name,
                                const char *require_line, const void **parsed)
{
    apr_array_header_t *vals = apr_array_make(cmd->pool, 4, sizeof(const char *));
    const char *line = require_line, *w, *err;

    while (*line && *(w = ap_getword_conf(cmd->pool, &line))) {
        if ((err = bad_value(cmd, kind, name, w)) != NULL)
            return err;
        APR_ARRAY_PUSH(vals, const char *) = w;
    }
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

/* What the session holds for @p kind, for the debug line (claims, never secrets). */
static const char *held(request_rec *r, wos_authz_kind kind, const wos_claims *c)
{
    const char *role = c->role ? c->role : "-";
    switch (kind) {
    case Z_ROLE:
        return apr_psprintf(r->pool, "role %s, roles [%s]", role,
                            wos_join(r->pool, c->roles, " "));
    case Z_PERMISSION:
        return apr_psprintf(r->pool, "permissions [%s]", wos_join(r->pool, c->permissions, " "));
    case Z_ORG:
        return apr_psprintf(r->pool, "org_id %s", c->org_id ? c->org_id : "-");
    case Z_ENTITLEMENT:
        return apr_psprintf(r->pool, "entitlements [%s]",
                            wos_join(r->pool, c->entitlements, " "));
    case Z_FEATURE_FLAG:
        return apr_psprintf(r->pool, "feature_flags [%s]",
                            wos_join(r->pool, c->feature_flags, " "));
    }
    return "-";
}

static authz_status check(request_rec *r, wos_authz_kind kind, const char *name,
                          const void *parsed)
{
    wos_req *st;
    int ok;

    if (!r->user)
        return AUTHZ_DENIED_NO_USER;
    st = wos_req_state(r);
    if (!st->claims) {
        /* Authenticated by something else: no WorkOS claims to grant on. */
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "WOS00301: Require workos-*: %s has no WorkOS session", r->user);
        return AUTHZ_DENIED;
    }
    ok = matches(kind, st->claims, st->session, parsed);
    if (APLOG_R_IS_LEVEL(r, APLOG_DEBUG))
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "WOS00302: Require %s %s: %s for %s (%s)", name,
                      wos_join(r->pool, parsed, " "), ok ? "granted" : "denied", r->user,
                      held(r, kind, st->claims));
    if (!ok)
        wos_page_note_refusal(r, name, parsed);   /* the 403 page, if it comes to that */
    return ok ? AUTHZ_GRANTED : AUTHZ_DENIED;
}

/* One check and one parser per provider; they differ only in what they compare. */
#define PROVIDER(id, kind, name)                                                     \
    static authz_status check_##id(request_rec *r, const char *line,                 \
                                   const void *parsed)                               \
    {                                                                                \
        (void)line;                                                                  \
        return check(r, kind, name, parsed);                                         \
    }                                                                                \
    static const char *parse_##id(cmd_parms *cmd, const char *line,                  \
                                  const void **parsed)                               \
    {                                                                                \
        return parse_values(cmd, kind, name, line, parsed);                          \
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
