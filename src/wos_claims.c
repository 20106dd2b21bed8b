/*
 * wos_claims.c: the identity handed to CGI/PHP (WORKOS_* variables) and to
 * proxied backends (X-WorkOS-* headers), and the incoming header names the
 * module scrubs so that a client can never supply that identity itself.
 */
#include <string.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "wos_claims.h"

char *wos_sanitize_value(apr_pool_t *p, const char *v)
{
    char *out = apr_pstrdup(p, v ? v : ""), *c;

    for (c = out; *c; c++) {
        unsigned char u = (unsigned char)*c;
        if (u < 0x20 || u == 0x7f)
            *c = ' ';
    }
    return out;
}

/* WORKOS_USER_ID -> X-WorkOS-User-Id: drop WORKOS_, capitalise each word, join with '-'. */
static const char *header_name(apr_pool_t *p, const char *env)
{
    const char *src = env + sizeof("WORKOS_") - 1;
    char *h = apr_pstrcat(p, "X-WorkOS-", src, NULL);
    char *c = h + sizeof("X-WorkOS-") - 1;
    int start = 1;

    for (; *c; c++) {
        if (*c == '_') {
            *c = '-';
            start = 1;
            continue;
        }
        *c = start ? (char)apr_toupper(*c) : (char)apr_tolower(*c);
        start = 0;
    }
    return h;
}

/* Add one variable when @p value is present (lists: when non-empty). */
static void add(apr_pool_t *p, apr_array_header_t *vars, const char *env, const char *value)
{
    wos_identity_var *v;

    if (!value || !*value)
        return;
    v = apr_array_push(vars);
    v->env = env;
    v->header = header_name(p, env);
    v->value = wos_sanitize_value(p, value);
}

static const char *list(apr_pool_t *p, const apr_array_header_t *arr)
{
    return arr && arr->nelts ? wos_join(p, arr, ",") : NULL;
}

static void add_user(apr_pool_t *p, apr_array_header_t *vars, const wos_session *s,
                     const wos_claims *c)
{
    add(p, vars, "WORKOS_USER_ID", s && s->user_id ? s->user_id : c ? c->sub : NULL);
    if (!s)
        return;
    add(p, vars, "WORKOS_USER_EMAIL", s->user_email);
    add(p, vars, "WORKOS_USER_FIRST_NAME", s->user_first_name);
    add(p, vars, "WORKOS_USER_LAST_NAME", s->user_last_name);
    if (s->user_email_verified >= 0)
        add(p, vars, "WORKOS_USER_EMAIL_VERIFIED", s->user_email_verified ? "true" : "false");
}

/* What only the verified token says: organization context and authorisation. */
static void add_token_claims(apr_pool_t *p, apr_array_header_t *vars, const wos_session *s,
                             const wos_claims *c)
{
    const char *org = c && c->org_id ? c->org_id : s ? s->organization_id : NULL;

    add(p, vars, "WORKOS_ORGANIZATION_ID", org);
    if (!c)
        return;
    add(p, vars, "WORKOS_ROLE", c->role);
    add(p, vars, "WORKOS_ROLES", list(p, c->roles));
    add(p, vars, "WORKOS_PERMISSIONS", list(p, c->permissions));
    add(p, vars, "WORKOS_ENTITLEMENTS", list(p, c->entitlements));
    add(p, vars, "WORKOS_FEATURE_FLAGS", list(p, c->feature_flags));
    add(p, vars, "WORKOS_SESSION_ID", c->sid);
}

static void add_session(apr_pool_t *p, apr_array_header_t *vars, const wos_session *s,
                        const wos_claims *c, int with_token)
{
    const char *imp = s && s->impersonator_email ? s->impersonator_email
                    : c ? c->act_sub : NULL;

    add(p, vars, "WORKOS_AUTHENTICATION_METHOD", s ? s->authentication_method : NULL);
    add(p, vars, "WORKOS_IMPERSONATOR_EMAIL", imp);
    add(p, vars, "WORKOS_IMPERSONATOR_REASON", s ? s->impersonator_reason : NULL);
    if (c && c->exp > 0)
        add(p, vars, "WORKOS_ACCESS_TOKEN_EXPIRES",
            apr_psprintf(p, "%" APR_INT64_T_FMT, c->exp));
    if (with_token)
        add(p, vars, "WORKOS_ACCESS_TOKEN", s ? s->access_token : NULL);
}

apr_array_header_t *wos_identity_vars(apr_pool_t *p, const wos_session *s,
                                      const wos_claims *c, int with_token)
{
    apr_array_header_t *vars = apr_array_make(p, 18, sizeof(wos_identity_var));

    add_user(p, vars, s, c);
    add_token_claims(p, vars, s, c);
    add_session(p, vars, s, c, with_token);
    return vars;
}

/* Lowercase with '_' as '-', so that every spelling compares alike. */
static int name_is(const char *name, const char *canon, int prefix)
{
    for (; *canon; name++, canon++) {
        char c = (char)apr_tolower(*name == '_' ? '-' : *name);
        if (!*name || c != *canon)
            return 0;
    }
    return prefix || !*name;
}

int wos_header_is_reserved(const char *name)
{
    if (!name)
        return 0;
    return name_is(name, "x-workos-", 1) || name_is(name, "x-workos", 0)
        || name_is(name, "workos-", 1) || name_is(name, "remote-user", 0)
        || name_is(name, "auth-type", 0);
}
