/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_json.h
 * @brief Strict JSON parsing on top of jansson.
 *
 * Every document from outside (cookies, tokens, WorkOS answers) is parsed
 * here: duplicate keys rejected, nesting depth capped, and the typed getters
 * treat a wrong type as invalid input, never as a crash. Parsed values are
 * released with the pool they were parsed into.
 */
#ifndef WOS_JSON_H
#define WOS_JSON_H

#include <jansson.h>
#include "wos_common.h"

/** Deepest nesting accepted (objects and arrays). */
#define WOS_JSON_MAX_DEPTH 16

/**
 * Parse @p len bytes of @p text. The root must be an object. The value is
 * decref'd when @p p is cleared. On failure *err says why (no input echoed).
 */
wos_rv wos_json_parse(apr_pool_t *p, const char *text, apr_size_t len,
                      json_t **out, const char **err);

/** Tie a jansson value's lifetime to @p p (decref on cleanup); returns @p v. */
json_t *wos_json_pool_own(apr_pool_t *p, json_t *v);

/** Serialise compactly (no spaces, keys in insertion order) into @p p. */
char *wos_json_dump(apr_pool_t *p, const json_t *v);

/**
 * Typed getters. Each returns WOS_OK with the value, WOS_ENOKEY when the key
 * is absent (or JSON null, when @p null_ok is set for the string getter), and
 * WOS_EINVAL when the key is present with another type.
 */
wos_rv wos_json_get_string(apr_pool_t *p, const json_t *obj, const char *key,
                           int null_ok, const char **out);
wos_rv wos_json_get_bool(const json_t *obj, const char *key, int *out);
/** A JSON number (integer or real) that is finite; returned as a double. */
wos_rv wos_json_get_number(const json_t *obj, const char *key, double *out);
wos_rv wos_json_get_object(const json_t *obj, const char *key, json_t **out);
/** An array whose every element is a string; copied into @p p as const char *. */
wos_rv wos_json_get_string_array(apr_pool_t *p, const json_t *obj, const char *key,
                                 apr_array_header_t **out);

#endif
