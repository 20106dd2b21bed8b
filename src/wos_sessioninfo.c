/*
 * wos_sessioninfo.c: the session endpoint's JSON. Built with jansson, so
 * every string is escaped as JSON requires, whatever the token holds.
 */
#include "wos_json.h"
#include "wos_sessioninfo.h"

/* null also for a string jansson refuses (not UTF-8): the key is always there. */
static json_t *str_or_null(const char *s)
{
    json_t *v = s ? json_string(s) : NULL;

    return v ? v : json_null();
}

static json_t *list(const apr_array_header_t *a)
{
    json_t *arr = json_array();
    int i;

    for (i = 0; a && i < a->nelts; i++)
        json_array_append_new(arr, json_string(APR_ARRAY_IDX(a, i, const char *)));
    return arr;
}

/* A string field of the SDK's user object, when the session kept it. */
static json_t *user_field(const wos_session *s, const char *key)
{
    json_t *v = s->user ? json_object_get(s->user, key) : NULL;

    return json_is_string(v) ? json_incref(v) : json_null();
}

static json_t *user(const wos_session *s, const wos_claims *c)
{
    json_t *u = json_object();

    json_object_set_new(u, "id", str_or_null(s->user_id ? s->user_id : c->sub));
    json_object_set_new(u, "email", str_or_null(s->user_email));
    json_object_set_new(u, "firstName", str_or_null(s->user_first_name));
    json_object_set_new(u, "lastName", str_or_null(s->user_last_name));
    json_object_set_new(u, "emailVerified", s->user_email_verified < 0 ? json_null()
                                            : json_boolean(s->user_email_verified));
    json_object_set_new(u, "profilePictureUrl", user_field(s, "profilePictureUrl"));
    return u;
}

static json_t *impersonator(const wos_session *s, const wos_claims *c)
{
    const char *email = s->impersonator_email ? s->impersonator_email : c->act_sub;
    json_t *o;

    if (!email)
        return json_null();
    o = json_object();
    json_object_set_new(o, "email", json_string(email));
    json_object_set_new(o, "reason", str_or_null(s->impersonator_reason));
    return o;
}

char *wos_sessioninfo_json(apr_pool_t *p, const wos_session *s, const wos_claims *c,
                           int with_token)
{
    json_t *o = wos_json_pool_own(p, json_object());

    json_object_set_new(o, "user", user(s, c));
    json_object_set_new(o, "organizationId",
                        str_or_null(c->org_id ? c->org_id : s->organization_id));
    json_object_set_new(o, "role", str_or_null(c->role));
    json_object_set_new(o, "roles", list(c->roles));
    json_object_set_new(o, "permissions", list(c->permissions));
    json_object_set_new(o, "entitlements", list(c->entitlements));
    json_object_set_new(o, "featureFlags", list(c->feature_flags));
    json_object_set_new(o, "sessionId", str_or_null(c->sid));
    json_object_set_new(o, "impersonator", impersonator(s, c));
    json_object_set_new(o, "accessTokenExpiresAt", json_integer((json_int_t)c->exp));
    if (with_token)
        json_object_set_new(o, "accessToken", str_or_null(s->access_token));
    return wos_json_dump(p, o);
}
