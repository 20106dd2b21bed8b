/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_session.c: the session payload in the WorkOS Node SDK's shape.
 *
 * Two readers share one table of user fields: the authenticate answer
 * (snake_case, converted the way the SDK's deserializeUser does) and the
 * unsealed cookie (camelCase, as the SDK sealed it). Every field the table
 * names is type-checked on the way in, so a wrong type is an error, never a
 * surprise further on.
 */
#include <string.h>
#include <apr_strings.h>

#include "wos_b64.h"
#include "wos_json.h"
#include "wos_session.h"

/* The JSON types a field may hold. */
#define T_STR  0x01
#define T_BOOL 0x02
#define T_OBJ  0x04
#define T_NULL 0x08

/* What the SDK writes when the answer lacks the key (`x ?? default`). */
typedef enum { DFLT_NONE, DFLT_NULL, DFLT_OBJECT } user_default;

typedef struct {
    const char *snake;      /* key in the authenticate answer */
    const char *camel;      /* key the SDK seals */
    unsigned types;
    user_default dflt;
} user_field;

/* deserializeUser (@workos-inc/node 11), in its key order. */
static const user_field USER_FIELDS[] = {
    {"object",              "object",            T_STR,          DFLT_NONE},
    {"id",                  "id",                T_STR,          DFLT_NONE},
    {"email",               "email",             T_STR | T_NULL, DFLT_NONE},
    {"email_verified",      "emailVerified",     T_BOOL,         DFLT_NONE},
    {"name",                "name",              T_STR | T_NULL, DFLT_NULL},
    {"first_name",          "firstName",         T_STR | T_NULL, DFLT_NONE},
    {"profile_picture_url", "profilePictureUrl", T_STR | T_NULL, DFLT_NONE},
    {"last_name",           "lastName",          T_STR | T_NULL, DFLT_NONE},
    {"last_sign_in_at",     "lastSignInAt",      T_STR | T_NULL, DFLT_NONE},
    {"locale",              "locale",            T_STR | T_NULL, DFLT_NONE},
    {"created_at",          "createdAt",         T_STR,          DFLT_NONE},
    {"updated_at",          "updatedAt",         T_STR,          DFLT_NONE},
    {"external_id",         "externalId",        T_STR | T_NULL, DFLT_NULL},
    {"metadata",            "metadata",          T_OBJ | T_NULL, DFLT_OBJECT},
};
#define N_USER_FIELDS (sizeof(USER_FIELDS) / sizeof(USER_FIELDS[0]))

/* Largest authenticate answer read (it may carry provider tokens the session drops). */
#define AUTH_RESPONSE_MAX_SIZE (4 * WOS_SESSION_MAX_SIZE)

static int type_ok(const json_t *v, unsigned types)
{
    return ((types & T_STR) && json_is_string(v))
        || ((types & T_BOOL) && json_is_boolean(v))
        || ((types & T_OBJ) && json_is_object(v))
        || ((types & T_NULL) && json_is_null(v));
}

/* Check every known field of a user object under the snake or camel names. */
static wos_rv check_user(const json_t *user, int camel, const char **err)
{
    apr_size_t i;

    for (i = 0; i < N_USER_FIELDS; i++) {
        const user_field *f = &USER_FIELDS[i];
        const json_t *v = json_object_get(user, camel ? f->camel : f->snake);
        if (v && !type_ok(v, f->types)) {
            *err = "a user field has the wrong type";
            return WOS_EINVAL;
        }
    }
    return WOS_OK;
}

/* An optional string: absent and null are both "not there" (*out NULL). */
static wos_rv opt_string(apr_pool_t *p, const json_t *o, const char *key, const char **out)
{
    wos_rv rv = wos_json_get_string(p, o, key, 1, out);
    return rv == WOS_ENOKEY ? WOS_OK : rv;
}

/* A required, non-empty string. */
static wos_rv req_string(apr_pool_t *p, const json_t *o, const char *key, const char **out)
{
    wos_rv rv = wos_json_get_string(p, o, key, 0, out);
    if (rv == WOS_OK && !**out)
        return WOS_EINVAL;
    return rv == WOS_ENOKEY ? WOS_EINVAL : rv;
}

const wos_user_names wos_user_names_camel = {"firstName", "lastName", "emailVerified"};
const wos_user_names wos_user_names_snake = {"first_name", "last_name", "email_verified"};

wos_rv wos_session_read_user(apr_pool_t *p, const json_t *user, const wos_user_names *names,
                             wos_session *s, const char **err)
{
    wos_rv rv;

    if (req_string(p, user, "id", &s->user_id) != WOS_OK
        || opt_string(p, user, "email", &s->user_email) != WOS_OK
        || opt_string(p, user, names->first_name, &s->user_first_name) != WOS_OK
        || opt_string(p, user, names->last_name, &s->user_last_name) != WOS_OK) {
        *err = "user.id missing, or a user field has the wrong type";
        return WOS_EINVAL;
    }
    s->user_email_verified = -1;
    rv = wos_json_get_bool(user, names->email_verified, &s->user_email_verified);
    if (rv != WOS_OK && rv != WOS_ENOKEY) {
        *err = apr_psprintf(p, "user.%s is not a boolean", names->email_verified);
        return WOS_EINVAL;
    }
    return WOS_OK;
}

/* The struct's view of a (type-checked, camelCase) user object. */
static wos_rv read_user(apr_pool_t *p, json_t *user, wos_session *s, const char **err)
{
    wos_rv rv = check_user(user, 1, err);

    if (rv == WOS_OK)
        rv = wos_session_read_user(p, user, &wos_user_names_camel, s, err);
    if (rv == WOS_OK)
        s->user = user;
    return rv;
}

/* {"email": string, "reason"?: string|null}; absent or null means none. */
static wos_rv read_impersonator(apr_pool_t *p, const json_t *o, wos_session *s,
                                const char **err)
{
    const json_t *imp = json_object_get(o, "impersonator");

    if (!imp || json_is_null(imp))
        return WOS_OK;
    if (!json_is_object(imp)
        || req_string(p, imp, "email", &s->impersonator_email) != WOS_OK
        || opt_string(p, imp, "reason", &s->impersonator_reason) != WOS_OK) {
        *err = "impersonator is malformed";
        return WOS_EINVAL;
    }
    return WOS_OK;
}

/* The fields both readers share under the same names: tokens, impersonator. */
static wos_rv read_tokens(apr_pool_t *p, const json_t *o, const char *at, const char *rt,
                          wos_session *s, const char **err)
{
    if (req_string(p, o, at, &s->access_token) != WOS_OK
        || req_string(p, o, rt, &s->refresh_token) != WOS_OK) {
        *err = "access or refresh token missing or not a string";
        return WOS_EINVAL;
    }
    return read_impersonator(p, o, s, err);
}

wos_rv wos_session_parse(apr_pool_t *p, const char *json, apr_size_t len,
                         wos_session **out, const char **err)
{
    wos_session *s = apr_pcalloc(p, sizeof(*s));
    json_t *root, *user;
    wos_rv rv;

    *out = NULL;
    if (len > WOS_SESSION_MAX_SIZE) {
        *err = "session payload too large";
        return WOS_ETOOBIG;
    }
    rv = wos_json_parse(p, json, len, &root, err);
    if (rv != WOS_OK)
        return rv;
    rv = read_tokens(p, root, "accessToken", "refreshToken", s, err);
    if (rv != WOS_OK)
        return rv;
    if (opt_string(p, root, "organizationId", &s->organization_id) != WOS_OK
        || opt_string(p, root, "authenticationMethod", &s->authentication_method) != WOS_OK) {
        *err = "organizationId or authenticationMethod is not a string";
        return WOS_EINVAL;
    }
    if (wos_json_get_object(root, "user", &user) != WOS_OK) {
        *err = "user missing or not an object";
        return WOS_EINVAL;
    }
    rv = read_user(p, user, s, err);
    if (rv == WOS_OK)
        *out = s;
    return rv;
}

/* deserializeUser: camelCase keys in the SDK's order, the SDK's defaults. */
static json_t *camel_user(apr_pool_t *p, const json_t *snake)
{
    json_t *user = wos_json_pool_own(p, json_object());
    apr_size_t i;

    for (i = 0; i < N_USER_FIELDS; i++) {
        const user_field *f = &USER_FIELDS[i];
        json_t *v = json_object_get(snake, f->snake);

        if (f->dflt == DFLT_OBJECT && (!v || json_is_null(v)))
            json_object_set_new(user, f->camel, json_object());
        else if (f->dflt == DFLT_NULL && !v)
            json_object_set_new(user, f->camel, json_null());
        else if (v)
            json_object_set(user, f->camel, v);
    }
    return user;
}

/*
 * The SDK seals organizationId = the access token's org_id (decoded, not
 * verified: the token came straight from WorkOS and is verified at every use).
 * Returns WOS_EINVAL when the payload cannot be read, so the caller can fall
 * back to the answer's organization_id; a token without org_id gives NULL.
 */
static wos_rv token_org(apr_pool_t *p, const char *token, const char **org)
{
    const char *dot1 = strchr(token, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    unsigned char *raw;
    apr_size_t rawlen;
    const char *why;
    json_t *claims;

    *org = NULL;
    if (!dot2
        || wos_b64url_decode(p, dot1 + 1, (apr_size_t)(dot2 - dot1 - 1), &raw, &rawlen) != WOS_OK
        || wos_json_parse(p, (const char *)raw, rawlen, &claims, &why) != WOS_OK
        || opt_string(p, claims, "org_id", org) != WOS_OK)
        return WOS_EINVAL;
    return WOS_OK;
}

wos_rv wos_session_from_auth_response(apr_pool_t *p, const char *json, apr_size_t len,
                                      wos_session **out, const char **err)
{
    wos_session *s = apr_pcalloc(p, sizeof(*s));
    const char *answer_org;
    json_t *root, *snake;
    wos_rv rv;

    *out = NULL;
    if (len > AUTH_RESPONSE_MAX_SIZE) {
        *err = "authenticate answer too large";
        return WOS_ETOOBIG;
    }
    rv = wos_json_parse(p, json, len, &root, err);
    if (rv != WOS_OK)
        return rv;
    rv = read_tokens(p, root, "access_token", "refresh_token", s, err);
    if (rv != WOS_OK)
        return rv;
    if (opt_string(p, root, "organization_id", &answer_org) != WOS_OK
        || opt_string(p, root, "authentication_method", &s->authentication_method) != WOS_OK) {
        *err = "organization_id or authentication_method is not a string";
        return WOS_EINVAL;
    }
    if (wos_json_get_object(root, "user", &snake) != WOS_OK) {
        *err = "user missing or not an object";
        return WOS_EINVAL;
    }
    rv = check_user(snake, 0, err);
    if (rv != WOS_OK)
        return rv;
    if (token_org(p, s->access_token, &s->organization_id) != WOS_OK)
        s->organization_id = answer_org;
    rv = read_user(p, camel_user(p, snake), s, err);
    s->api_user = snake;
    if (rv == WOS_OK)
        *out = s;
    return rv;
}

/* Set @p key to a string (skipped when NULL); 0 if jansson refused it (bad UTF-8). */
static int put_string(json_t *o, const char *key, const char *v)
{
    return !v || json_object_set_new(o, key, json_string(v)) == 0;
}

json_t *wos_session_user_from_fields(const wos_session *s, const wos_user_names *names)
{
    json_t *u = json_object();
    int ok = u && put_string(u, "object", "user") && put_string(u, "id", s->user_id)
             && put_string(u, "email", s->user_email);

    if (ok && s->user_email_verified >= 0)
        ok = json_object_set_new(u, names->email_verified,
                                 json_boolean(s->user_email_verified)) == 0;
    ok = ok && put_string(u, names->first_name, s->user_first_name)
            && put_string(u, names->last_name, s->user_last_name);
    if (!ok) {
        json_decref(u);
        return NULL;
    }
    return u;
}

json_t *wos_session_impersonator_json(const wos_session *s)
{
    json_t *imp = json_object();

    if (!imp || !put_string(imp, "email", s->impersonator_email)
        || json_object_set_new(imp, "reason", s->impersonator_reason
                               ? json_string(s->impersonator_reason) : json_null()) != 0) {
        json_decref(imp);
        return NULL;
    }
    return imp;
}

/* The user to write: the kept object (which must agree on the id), else one from fields. */
static json_t *user_json(const wos_session *s)
{
    const char *id;

    if (!s->user)
        return wos_session_user_from_fields(s, &wos_user_names_camel);
    id = json_string_value(json_object_get(s->user, "id"));
    if (!id || strcmp(id, s->user_id) != 0)
        return NULL;
    return json_incref(s->user);
}

/* Set @p key to a new value (0 if there is none or jansson refused it). */
static int put_new(json_t *o, const char *key, json_t *v)
{
    return v && json_object_set_new(o, key, v) == 0;   /* set_new frees v on failure */
}

/* sealSessionDataFromAuthenticationResponse's key order; absent keys left out. */
static json_t *session_json(const wos_session *s)
{
    json_t *o = json_object();
    int ok = o && put_string(o, "organizationId", s->organization_id)
             && put_new(o, "user", user_json(s))
             && put_string(o, "accessToken", s->access_token)
             && put_string(o, "refreshToken", s->refresh_token)
             && put_string(o, "authenticationMethod", s->authentication_method)
             && (!s->impersonator_email
                 || put_new(o, "impersonator", wos_session_impersonator_json(s)));

    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

char *wos_session_serialize(apr_pool_t *p, const wos_session *s)
{
    json_t *o;
    char *text;

    if (!s || !s->access_token || !*s->access_token || !s->refresh_token
        || !*s->refresh_token || !s->user_id || !*s->user_id)
        return NULL;
    o = session_json(s);
    if (!o)
        return NULL;
    text = wos_json_dump(p, o);
    json_decref(o);
    /* A payload we could not read back would only fail later, in a browser. */
    if (text && strlen(text) > WOS_SESSION_MAX_SIZE)
        return NULL;
    return text;
}
