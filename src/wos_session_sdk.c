/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_session_sdk.c: the Ruby and Python SDKs' session payload. Both keep
 * the authenticate answer's own names and its user object as it came, so
 * this file maps nothing: it checks types on the way in, and on the way out
 * writes the keys in the SDKs' order, in each SDK's JSON style.
 */
#include <stdlib.h>
#include <string.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "wos_json.h"
#include "wos_session_sdk.h"

static wos_rv need(apr_pool_t *p, const json_t *o, const char *key, const char **out)
{
    wos_rv rv = wos_json_get_string(p, o, key, 0, out);
    return rv == WOS_OK && **out ? WOS_OK : WOS_EINVAL;
}

static wos_rv maybe(apr_pool_t *p, const json_t *o, const char *key, const char **out)
{
    wos_rv rv = wos_json_get_string(p, o, key, 1, out);
    if (rv == WOS_ENOKEY)
        *out = NULL;
    return rv == WOS_ENOKEY ? WOS_OK : rv;
}

/* The API's snake_case user object, as the Ruby and Python SDKs seal it. */
static wos_rv read_user(apr_pool_t *p, json_t *user, wos_session *s, const char **err)
{
    wos_rv rv = wos_session_read_user(p, user, &wos_user_names_snake, s, err);

    if (rv == WOS_OK)
        s->api_user = user;
    return rv;
}

/* Absent, null, "null" (how Ruby 5/6 wrote none), or {"email", "reason"?}. */
static wos_rv read_impersonator(apr_pool_t *p, const json_t *root, wos_session *s,
                                const char **err)
{
    const json_t *imp = json_object_get(root, "impersonator");

    if (!imp || json_is_null(imp)
        || (json_is_string(imp) && !strcmp(json_string_value(imp), "null")))
        return WOS_OK;
    if (!json_is_object(imp) || need(p, imp, "email", &s->impersonator_email) != WOS_OK
        || maybe(p, imp, "reason", &s->impersonator_reason) != WOS_OK) {
        *err = "impersonator is malformed";
        return WOS_EINVAL;
    }
    return WOS_OK;
}

wos_rv wos_session_parse_sdk(apr_pool_t *p, const char *json, apr_size_t len,
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
    if ((rv = wos_json_parse(p, json, len, &root, err)) != WOS_OK)
        return rv;
    if (need(p, root, "access_token", &s->access_token) != WOS_OK
        || need(p, root, "refresh_token", &s->refresh_token) != WOS_OK
        || maybe(p, root, "organization_id", &s->organization_id) != WOS_OK) {
        *err = "access or refresh token missing, or a field has the wrong type";
        return WOS_EINVAL;
    }
    if (wos_json_get_object(root, "user", &user) != WOS_OK) {
        *err = "user missing or not an object";
        return WOS_EINVAL;
    }
    if ((rv = read_user(p, user, s, err)) != WOS_OK
        || (rv = read_impersonator(p, root, s, err)) != WOS_OK)
        return rv;
    *out = s;
    return WOS_OK;
}

/* 0 when jansson refused the value (not UTF-8) or there was none. */
static int put(json_t *o, const char *key, json_t *v)
{
    return v && json_object_set_new(o, key, v) == 0;
}

static int put_str(json_t *o, const char *key, const char *v)
{
    return !v || put(o, key, json_string(v));
}

/* The API's user object: the one kept, else one from the struct's fields. */
static json_t *user_json(const wos_session *s)
{
    if (s->api_user) {
        const char *id = json_string_value(json_object_get(s->api_user, "id"));
        return id && !strcmp(id, s->user_id) ? json_incref(s->api_user) : NULL;
    }
    return wos_session_user_from_fields(s, &wos_user_names_snake);
}

/* json.dumps writes \\uXXXX escapes in lowercase hex; jansson in uppercase. */
static void lowercase_escapes(char *s)
{
    for (; *s; s++) {
        if (*s != '\\')
            continue;
        if (s[1] == 'u') {
            int i;
            for (i = 2; i < 6 && s[i]; i++)
                s[i] = (char)apr_tolower(s[i]);
        }
        if (s[1])
            s++;        /* the escaped character is never the start of another escape */
    }
}

char *wos_session_serialize_sdk(apr_pool_t *p, const wos_session *s, wos_sdk_json style)
{
    /* JSON.generate is compact; json.dumps separates with ", " and ": ". */
    size_t flags = style == WOS_SDK_JSON_PYTHON ? JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER
                                                : JSON_COMPACT | JSON_PRESERVE_ORDER;
    json_t *o;
    char *text, *copy;
    int ok;

    if (!s || !s->access_token || !*s->access_token || !s->refresh_token
        || !*s->refresh_token || !s->user_id || !*s->user_id || !(o = json_object()))
        return NULL;
    ok = put_str(o, "access_token", s->access_token)
         && put_str(o, "refresh_token", s->refresh_token)
         && put(o, "user", user_json(s))
         && (!s->impersonator_email
             || put(o, "impersonator", wos_session_impersonator_json(s)));
    text = ok ? json_dumps(o, flags) : NULL;
    json_decref(o);
    if (!text)
        return NULL;
    copy = strlen(text) <= WOS_SESSION_MAX_SIZE ? apr_pstrdup(p, text) : NULL;
    free(text);
    if (copy && style == WOS_SDK_JSON_PYTHON)
        lowercase_escapes(copy);
    return copy;
}
