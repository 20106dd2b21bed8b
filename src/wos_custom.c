/*
 * wos_custom.c: custom claims out of a verified token payload. The payload
 * is parsed again only where custom claims are configured.
 */
#include <stdlib.h>
#include <string.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "wos_custom.h"
#include "wos_json.h"

wos_rv wos_custom_claim_make(apr_pool_t *p, const char *claim, wos_custom_claim *out,
                             const char **err)
{
    apr_size_t n = claim ? strlen(claim) : 0, i;
    char *env, *hdr, *h;
    int word_start = 1;

    if (n == 0 || n > WOS_CUSTOM_NAME_MAX) {
        *err = "a claim name must have 1 to 128 characters";
        return WOS_EINVAL;
    }
    env = apr_palloc(p, n + sizeof("WORKOS_CLAIM_"));
    hdr = apr_palloc(p, n + sizeof("X-WorkOS-Claim-"));
    strcpy(env, "WORKOS_CLAIM_");
    strcpy(hdr, "X-WorkOS-Claim-");
    h = hdr + strlen(hdr);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)claim[i];
        if (c <= 0x20 || c == 0x7f) {
            *err = "a claim name must not hold spaces or control characters";
            return WOS_EINVAL;
        }
        c = apr_isalnum(c) && c < 0x80 ? (unsigned char)apr_toupper(c) : '_';
        env[sizeof("WORKOS_CLAIM_") - 1 + i] = (char)c;
        *h++ = c == '_' ? '-' : word_start ? (char)c : (char)apr_tolower(c);
        word_start = c == '_';
    }
    env[sizeof("WORKOS_CLAIM_") - 1 + n] = '\0';
    *h = '\0';
    out->claim = claim;
    out->env = env;
    out->header = hdr;
    return WOS_OK;
}

/* A scalar as text; NULL for anything that is not passed. */
static const char *scalar(apr_pool_t *p, const json_t *v)
{
    if (json_is_string(v))
        return apr_pstrmemdup(p, json_string_value(v), json_string_length(v));
    if (json_is_true(v))
        return "true";
    if (json_is_false(v))
        return "false";
    if (json_is_integer(v))
        return apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)json_integer_value(v));
    if (json_is_real(v)) {
        char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
        const char *out = s ? apr_pstrdup(p, s) : NULL;
        free(s);
        return out;
    }
    return NULL;
}

static wos_rv value_of(apr_pool_t *p, const json_t *v, const char **value,
                       apr_array_header_t **items)
{
    apr_array_header_t *a;
    size_t i;
    json_t *e;

    if (!json_is_array(v)) {
        const char *s = scalar(p, v);
        if (!s)
            return WOS_EINVAL;
        *value = s;
        if (items)
            *items = NULL;
        return WOS_OK;
    }
    a = apr_array_make(p, (int)json_array_size(v) + 1, sizeof(const char *));
    json_array_foreach(v, i, e) {
        const char *s = scalar(p, e);
        if (!s)
            return WOS_EINVAL;
        APR_ARRAY_PUSH(a, const char *) = s;
    }
    *value = wos_join(p, a, ",");
    if (items)
        *items = a;
    return WOS_OK;
}

static wos_rv lookup(apr_pool_t *p, const json_t *pay, const char *claim, const char **value,
                     apr_array_header_t **items)
{
    const json_t *v = pay ? json_object_get(pay, claim) : NULL;

    if (!v || json_is_null(v))
        return WOS_ENOKEY;
    return value_of(p, v, value, items);
}

static json_t *parse(apr_pool_t *p, const char *payload)
{
    json_t *pay = NULL;
    const char *err;

    if (!payload || wos_json_parse(p, payload, strlen(payload), &pay, &err) != WOS_OK)
        return NULL;
    return pay;
}

wos_rv wos_custom_value(apr_pool_t *p, const char *payload, const char *claim,
                        const char **value, apr_array_header_t **items)
{
    return lookup(p, parse(p, payload), claim, value, items);
}

apr_array_header_t *wos_custom_vars(apr_pool_t *p, const char *payload,
                                    const apr_array_header_t *claims,
                                    apr_array_header_t *skipped)
{
    apr_array_header_t *vars = apr_array_make(p, claims->nelts, sizeof(wos_identity_var));
    json_t *pay = parse(p, payload);
    int i;

    for (i = 0; pay && i < claims->nelts; i++) {
        const wos_custom_claim *c = &APR_ARRAY_IDX(claims, i, wos_custom_claim);
        const char *v;
        wos_rv rv = lookup(p, pay, c->claim, &v, NULL);
        wos_identity_var *out;

        if (rv == WOS_EINVAL && skipped)
            APR_ARRAY_PUSH(skipped, const char *) = c->claim;
        if (rv != WOS_OK || !*v)
            continue;
        out = apr_array_push(vars);
        out->env = c->env;
        out->header = c->header;
        out->value = wos_sanitize_value(p, v);
    }
    return vars;
}

int wos_custom_match(apr_pool_t *p, const char *payload, const char *claim,
                     const apr_array_header_t *values)
{
    apr_array_header_t *items;
    const char *v;
    int i;

    if (wos_custom_value(p, payload, claim, &v, &items) != WOS_OK)
        return 0;
    for (i = 0; i < values->nelts; i++) {
        const char *want = APR_ARRAY_IDX(values, i, const char *);
        if (items ? wos_array_contains(items, want) : strcmp(v, want) == 0)
            return 1;
    }
    return 0;
}
