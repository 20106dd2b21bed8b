/*
 * mod_auth_workos_claim.c: custom claims (WorkOSPassClaim) handed on as
 * WORKOS_CLAIM_<NAME> / X-WorkOS-Claim-<Name>, the source of the identity
 * (WORKOS_AUTH_SOURCE=bearer), and `Require workos-claim <claim> <value>...`.
 * The names are in the module's namespace (WORKOS_*, X-WorkOS-*), so the
 * request scrub removes forged copies of them like the rest.
 */
#include <apr_strings.h>
#include <ap_provider.h>
#include <mod_auth.h>

#include "mod_auth_workos.h"
#include "wos_custom.h"

/* Appended: wos_export_identity made room (forged look-alikes are gone). */
static void add_one(request_rec *r, int pass, const char *env, const char *header,
                    const char *value)
{
    if (pass & WOS_PASS_ENV)
        apr_table_addn(r->subprocess_env, env, value);
    if (pass & WOS_PASS_HEADERS)
        apr_table_addn(r->headers_in, header, value);
}

void wos_claims_export(request_rec *r, const wos_dir_cfg *c, const wos_req *st, int pass)
{
    apr_array_header_t *vars, *skipped;
    int i;

    if (st->bearer)
        add_one(r, pass, "WORKOS_AUTH_SOURCE", "X-WorkOS-Auth-Source", "bearer");
    if (!c->apis.claims || !st->claims)
        return;
    skipped = apr_array_make(r->pool, 1, sizeof(const char *));
    vars = wos_custom_vars(r->pool, st->claims->payload, c->apis.claims, skipped);
    for (i = 0; i < vars->nelts; i++) {
        const wos_identity_var *v = &APR_ARRAY_IDX(vars, i, wos_identity_var);
        add_one(r, pass, v->env, v->header, v->value);
    }
    if (skipped->nelts)
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "WOS01610: WorkOSPassClaim: not passed "
                      "(an object, null or nested array): %s",
                      wos_join(r->pool, skipped, " "));
}

/* --- Require workos-claim <claim> <value>... ------------------------------ */

typedef struct { const char *claim; apr_array_header_t *values; } claim_require;

static const char *parse_claim(cmd_parms *cmd, const char *line, const void **parsed)
{
    claim_require *req = apr_pcalloc(cmd->pool, sizeof(*req));
    wos_custom_claim probe;
    const char *w, *err = NULL;

    req->claim = ap_getword_conf(cmd->pool, &line);
    if (!*req->claim || wos_custom_claim_make(cmd->pool, req->claim, &probe, &err) != WOS_OK)
        return apr_psprintf(cmd->pool, "Require workos-claim: %s", err ? err
                            : "a claim name and at least one value are required");
    req->values = apr_array_make(cmd->pool, 4, sizeof(const char *));
    while (*line && *(w = ap_getword_conf(cmd->pool, &line)))
        APR_ARRAY_PUSH(req->values, const char *) = w;
    if (req->values->nelts == 0)
        return apr_psprintf(cmd->pool, "Require workos-claim %s: at least one value is "
                            "required", req->claim);
    *parsed = req;
    return NULL;
}

static authz_status check_claim(request_rec *r, const char *line, const void *parsed)
{
    const claim_require *req = parsed;
    wos_req *st;
    int ok;

    (void)line;
    if (!r->user)
        return AUTHZ_DENIED_NO_USER;
    st = wos_req_state(r);
    if (!st->claims)
        return AUTHZ_DENIED;
    ok = wos_custom_match(r->pool, st->claims->payload, req->claim, req->values);
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "WOS01611: Require workos-claim %s %s: %s "
                  "for %s", req->claim, wos_join(r->pool, req->values, " "),
                  ok ? "granted" : "denied", r->user);
    return ok ? AUTHZ_GRANTED : AUTHZ_DENIED;
}

static const authz_provider claim_provider = {check_claim, parse_claim};

void wos_register_claim_provider(apr_pool_t *p)
{
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "workos-claim", AUTHZ_PROVIDER_VERSION,
                              &claim_provider, AP_AUTH_INTERNAL_PER_CONF);
}
