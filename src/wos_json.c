/* SPDX-License-Identifier: Apache-2.0 */
/* wos_json.c: typed getters, pool ownership and dumping over jansson (the
 * reader is wos_json_parse.c). */
#include <math.h>
#include <string.h>
#include <apr_strings.h>

#include "wos_json.h"

static apr_status_t json_cleanup(void *data)
{
    json_decref((json_t *)data);
    return APR_SUCCESS;
}

json_t *wos_json_pool_own(apr_pool_t *p, json_t *v)
{
    if (v)
        apr_pool_cleanup_register(p, v, json_cleanup, apr_pool_cleanup_null);
    return v;
}

char *wos_json_dump(apr_pool_t *p, const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    char *r;

    if (!s)
        return NULL;
    r = apr_pstrdup(p, s);
    free(s);
    return r;
}

wos_rv wos_json_get_string(apr_pool_t *p, const json_t *obj, const char *key,
                           int null_ok, const char **out)
{
    json_t *v = json_object_get(obj, key);

    *out = NULL;
    if (!v || (null_ok && json_is_null(v)))
        return WOS_ENOKEY;
    if (!json_is_string(v))
        return WOS_EINVAL;
    /* Embedded NULs would let two different values compare equal as C strings. */
    if (strlen(json_string_value(v)) != json_string_length(v))
        return WOS_EINVAL;
    *out = apr_pstrmemdup(p, json_string_value(v), json_string_length(v));
    return WOS_OK;
}

wos_rv wos_json_get_bool(const json_t *obj, const char *key, int *out)
{
    json_t *v = json_object_get(obj, key);

    if (!v)
        return WOS_ENOKEY;
    if (!json_is_boolean(v))
        return WOS_EINVAL;
    *out = json_is_true(v);
    return WOS_OK;
}

wos_rv wos_json_get_number(const json_t *obj, const char *key, double *out)
{
    json_t *v = json_object_get(obj, key);
    double d;

    if (!v)
        return WOS_ENOKEY;
    if (!json_is_number(v))
        return WOS_EINVAL;
    d = json_number_value(v);
    if (!isfinite(d))
        return WOS_EINVAL;
    *out = d;
    return WOS_OK;
}

wos_rv wos_json_get_object(const json_t *obj, const char *key, json_t **out)
{
    json_t *v = json_object_get(obj, key);

    *out = NULL;
    if (!v)
        return WOS_ENOKEY;
    if (!json_is_object(v))
        return WOS_EINVAL;
    *out = v;
    return WOS_OK;
}

wos_rv wos_json_get_string_array(apr_pool_t *p, const json_t *obj, const char *key,
                                 apr_array_header_t **out)
{
    json_t *v = json_object_get(obj, key), *e;
    size_t i;

    *out = NULL;
    if (!v)
        return WOS_ENOKEY;
    if (!json_is_array(v))
        return WOS_EINVAL;
    *out = apr_array_make(p, (int)json_array_size(v) + 1, sizeof(const char *));
    json_array_foreach(v, i, e) {
        if (!json_is_string(e) || strlen(json_string_value(e)) != json_string_length(e)) {
            *out = NULL;   /* no half-filled list for a caller that ignores rv */
            return WOS_EINVAL;
        }
        APR_ARRAY_PUSH(*out, const char *) =
            apr_pstrmemdup(p, json_string_value(e), json_string_length(e));
    }
    return WOS_OK;
}
