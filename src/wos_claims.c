/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_claims.c: the identity handed to CGI/PHP (WORKOS_* variables) and to
 * proxied backends (X-WorkOS-* headers), and the incoming header names the
 * module scrubs so that a client can never supply that identity itself.
 */
#include <string.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "wos_claims.h"

/* What no identity value may carry: a control character (below 0x20, or DEL). */
static int is_control(unsigned char u)
{
    return u < 0x20 || u == 0x7f;
}

char *wos_sanitize_value(apr_pool_t *p, const char *v)
{
    char *out = apr_pstrdup(p, v ? v : ""), *c;

    for (c = out; *c; c++) {
        if (is_control((unsigned char)*c))
            *c = ' ';
    }
    return out;
}

/*
 * Whether @p n bytes hold one is_control() picks, eight at a time: the
 * identity is built on every shared-cache hit, and lists (permissions) run
 * long. A word has a byte below k when (x - k*ones) & ~x has a high bit set;
 * 0x7f is the zero byte of x ^ 0x7f*ones. Bytes from 0x80 (UTF-8) never
 * count.
 */
static int has_control(const unsigned char *s, apr_size_t n)
{
    const apr_uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    apr_size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        apr_uint64_t x, d;

        memcpy(&x, s + i, 8);
        d = x ^ (0x7f * ones);
        if ((((x - 0x20 * ones) & ~x) | ((d - ones) & ~d)) & highs)
            return 1;
    }
    for (; i < n; i++) {
        if (is_control(s[i]))
            return 1;
    }
    return 0;
}

/* The value itself when it is clean (the usual case: no copy), else a clean copy. */
static const char *clean(apr_pool_t *p, const char *v)
{
    return has_control((const unsigned char *)v, strlen(v)) ? wos_sanitize_value(p, v) : v;
}

/*
 * Add one variable when @p value is present (lists: when non-empty). The
 * header name is the variable's without WORKOS_, words capitalised, joined
 * with '-', after "X-WorkOS-"; spelled out so that nothing is built per request.
 */
#define add(p, vars, name, header, value) \
    add_var(p, vars, "WORKOS_" name, "X-WorkOS-" header, value)

static void add_var(apr_pool_t *p, apr_array_header_t *vars, const char *env,
                    const char *header, const char *value)
{
    wos_identity_var *v;

    if (!value || !*value)
        return;
    v = apr_array_push(vars);
    v->env = env;
    v->header = header;
    v->value = clean(p, value);
}

static const char *list(apr_pool_t *p, const apr_array_header_t *arr)
{
    return arr && arr->nelts ? wos_join(p, arr, ",") : NULL;
}

static void add_user(apr_pool_t *p, apr_array_header_t *vars, const wos_session *s,
                     const wos_claims *c)
{
    add(p, vars, "USER_ID", "User-Id", s && s->user_id ? s->user_id : c ? c->sub : NULL);
    if (!s)
        return;
    add(p, vars, "USER_EMAIL", "User-Email", s->user_email);
    add(p, vars, "USER_FIRST_NAME", "User-First-Name", s->user_first_name);
    add(p, vars, "USER_LAST_NAME", "User-Last-Name", s->user_last_name);
    if (s->user_email_verified >= 0)
        add(p, vars, "USER_EMAIL_VERIFIED", "User-Email-Verified",
            s->user_email_verified ? "true" : "false");
}

/* What only the verified token says: organization context and authorisation. */
static void add_token_claims(apr_pool_t *p, apr_array_header_t *vars, const wos_session *s,
                             const wos_claims *c)
{
    const char *org = c && c->org_id ? c->org_id : s ? s->organization_id : NULL;

    add(p, vars, "ORGANIZATION_ID", "Organization-Id", org);
    if (!c)
        return;
    add(p, vars, "ROLE", "Role", c->role);
    add(p, vars, "ROLES", "Roles", list(p, c->roles));
    add(p, vars, "PERMISSIONS", "Permissions", list(p, c->permissions));
    add(p, vars, "ENTITLEMENTS", "Entitlements", list(p, c->entitlements));
    add(p, vars, "FEATURE_FLAGS", "Feature-Flags", list(p, c->feature_flags));
    add(p, vars, "SESSION_ID", "Session-Id", c->sid);
}

static void add_session(apr_pool_t *p, apr_array_header_t *vars, const wos_session *s,
                        const wos_claims *c)
{
    const char *imp = s && s->impersonator_email ? s->impersonator_email
                    : c ? c->act_sub : NULL;

    add(p, vars, "AUTHENTICATION_METHOD", "Authentication-Method",
        s ? s->authentication_method : NULL);
    add(p, vars, "IMPERSONATOR_EMAIL", "Impersonator-Email", imp);
    add(p, vars, "IMPERSONATOR_REASON", "Impersonator-Reason", s ? s->impersonator_reason : NULL);
    if (c && c->exp > 0)
        add(p, vars, "ACCESS_TOKEN_EXPIRES", "Access-Token-Expires",
            apr_psprintf(p, "%" APR_INT64_T_FMT, c->exp));
}

void wos_identity_add_token(apr_pool_t *p, apr_array_header_t *vars, const wos_session *s)
{
    add(p, vars, "ACCESS_TOKEN", "Access-Token", s ? s->access_token : NULL);
}

apr_array_header_t *wos_identity_vars(apr_pool_t *p, const wos_session *s,
                                      const wos_claims *c, int with_token)
{
    apr_array_header_t *vars = apr_array_make(p, 18, sizeof(wos_identity_var));

    add_user(p, vars, s, c);
    add_token_claims(p, vars, s, c);
    add_session(p, vars, s, c);
    if (with_token)
        wos_identity_add_token(p, vars, s);
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
    /* Asked of every header of every request: most fail on the first letter,
     * which also picks the one name or prefix to compare. */
    switch (name ? *name : '\0') {
    case 'x': case 'X':
        return name_is(name, "x-workos", 0) || name_is(name, "x-workos-", 1);
    case 'w': case 'W':
        return name_is(name, "workos-", 1);
    case 'r': case 'R':
        return name_is(name, "remote-user", 0);
    case 'a': case 'A':
        return name_is(name, "auth-type", 0);
    default:
        return 0;
    }
}
