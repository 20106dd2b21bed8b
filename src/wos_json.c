/* wos_json.c: strict parsing (duplicates, depth) and typed getters over jansson. */
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

/* Iterative depth check: jansson's own limit (2048) is far too generous. */
static int json_depth_ok(const json_t *v, int depth)
{
    if (depth > WOS_JSON_MAX_DEPTH)
        return 0;
    if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach((json_t *)v, k, e) {
            if ((json_is_object(e) || json_is_array(e)) && !json_depth_ok(e, depth + 1))
                return 0;
        }
    }
    else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            if ((json_is_object(e) || json_is_array(e)) && !json_depth_ok(e, depth + 1))
                return 0;
        }
    }
    return 1;
}

/* A cheap pre-scan bounds recursion before jansson builds anything. */
static int text_depth_ok(const char *text, apr_size_t len)
{
    int depth = 0, in_str = 0, esc = 0;
    apr_size_t i;

    for (i = 0; i < len; i++) {
        char c = text[i];
        if (in_str) {
            if (esc)
                esc = 0;
            else if (c == '\\')
                esc = 1;
            else if (c == '"')
                in_str = 0;
            continue;
        }
        if (c == '"')
            in_str = 1;
        else if (c == '{' || c == '[') {
            if (++depth > WOS_JSON_MAX_DEPTH)
                return 0;
        }
        else if (c == '}' || c == ']')
            depth--;
    }
    return 1;
}

/* jansson's own text quotes the input near the error ("near 'hunter2'"):
 * name the kind of error only, so no input reaches a log. */
static const char *json_error_kind(const json_error_t *e)
{
    switch (json_error_code(e)) {
    case json_error_invalid_utf8:
        return "invalid UTF-8";
    case json_error_premature_end_of_input:
        return "truncated";
    case json_error_end_of_input_expected:
        return "trailing data";
    case json_error_null_character:
    case json_error_null_byte_in_key:
        return "NUL character";
    case json_error_duplicate_key:
        return "duplicate key";
    case json_error_numeric_overflow:
        return "number out of range";
    default:
        return "syntax error";
    }
}

wos_rv wos_json_parse(apr_pool_t *p, const char *text, apr_size_t len,
                      json_t **out, const char **err)
{
    json_error_t jerr;
    json_t *v;

    *out = NULL;
    if (!text || len == 0) {
        *err = "empty JSON document";
        return WOS_EINVAL;
    }
    if (!text_depth_ok(text, len)) {
        *err = "JSON nested too deeply";
        return WOS_EINVAL;
    }
    v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!v) {
        *err = apr_psprintf(p, "invalid JSON at offset %d: %s", jerr.position,
                            json_error_kind(&jerr));
        return WOS_EINVAL;
    }
    if (!json_is_object(v) || !json_depth_ok(v, 1)) {
        json_decref(v);
        *err = "JSON root is not an object, or nested too deeply";
        return WOS_EINVAL;
    }
    *out = wos_json_pool_own(p, v);
    return WOS_OK;
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
