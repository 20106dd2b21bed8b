/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_signin.c: the sign-in state: made at sign-in start, sealed into a
 * cookie named after it, opened once by the callback. See wos_signin.h.
 */
#include <string.h>
#include <apr_strings.h>

#include "wos_json.h"
#include "wos_rand.h"
#include "wos_seal.h"
#include "wos_signin.h"

#define SIGNIN_RANDOM_BYTES 32      /* state and verifier: 256 bits each */
#define SIGNIN_NAME_HEX     16      /* hex digits of the state's hash in the name */

wos_rv wos_signin_make(apr_pool_t *p, const char *return_path, wos_signin *out)
{
    wos_rv rv;

    memset(out, 0, sizeof(*out));
    if ((rv = wos_rand_token(p, SIGNIN_RANDOM_BYTES, &out->state)) != WOS_OK
        || (rv = wos_rand_token(p, SIGNIN_RANDOM_BYTES, &out->code_verifier)) != WOS_OK)
        return rv;
    out->return_path = return_path ? return_path : "/";
    return WOS_OK;
}

const char *wos_signin_cookie_name(apr_pool_t *p, const char *state)
{
    char *h = wos_sha256_hex(p, state, strlen(state));

    h[SIGNIN_NAME_HEX] = '\0';
    return apr_pstrcat(p, WOS_SIGNIN_COOKIE_PREFIX, h, NULL);
}

void wos_signin_cookie_attrs(const wos_cookie_attrs *base, wos_cookie_attrs *out)
{
    *out = *base;
    out->path = "/";
    out->same_site = "Lax";
    out->max_age = WOS_SIGNIN_TTL;
}

wos_rv wos_signin_seal(apr_pool_t *p, const wos_signin *s, const char *password,
                       apr_int64_t now_ms, const char **sealed)
{
    json_t *o = wos_json_pool_own(p, json_object());
    const char *json;

    json_object_set_new(o, "state", json_string(s->state));
    json_object_set_new(o, "codeVerifier", json_string(s->code_verifier));
    json_object_set_new(o, "returnPathname", json_string(s->return_path));
    json = wos_json_dump(p, o);
    if (!json)
        return WOS_ECRYPTO;
    return wos_seal(p, password, json, strlen(json), WOS_SIGNIN_TTL, now_ms, sealed);
}

/* The members of an unsealed state, each a string. */
static wos_rv signin_members(apr_pool_t *p, const json_t *o, wos_signin *out)
{
    wos_rv rv;

    if ((rv = wos_json_get_string(p, o, "state", 0, &out->state)) != WOS_OK
        || (rv = wos_json_get_string(p, o, "codeVerifier", 0, &out->code_verifier)) != WOS_OK
        || (rv = wos_json_get_string(p, o, "returnPathname", 0, &out->return_path)) != WOS_OK)
        return rv;
    return WOS_OK;
}

wos_rv wos_signin_open(apr_pool_t *p, const char *sealed, const char *state,
                       const apr_array_header_t *passwords, apr_int64_t now_ms,
                       wos_signin *out, const char **err)
{
    const char *why = NULL;
    char *json;
    apr_size_t len;
    int idx;
    json_t *o;
    wos_rv rv;

    memset(out, 0, sizeof(*out));
    if ((rv = wos_unseal(p, sealed, strlen(sealed), passwords, now_ms, &json, &len, &idx,
                         &why)) == WOS_OK
        && (rv = wos_json_parse(p, json, len, &o, &why)) == WOS_OK
        && (rv = signin_members(p, o, out)) != WOS_OK)
        why = "a member of the state is missing or not a string";
    if (rv == WOS_OK && !wos_ct_streq(out->state, state)) {
        rv = WOS_EDENIED;
        why = "the cookie holds another state";
    }
    if (err)
        *err = why;
    return rv;
}

apr_array_header_t *wos_signin_excess(apr_pool_t *p, const char *cookie_header)
{
    apr_array_header_t *names = cookie_header
        ? wos_cookie_names_with_prefix(p, cookie_header, WOS_SIGNIN_COOKIE_PREFIX) : NULL;
    int excess = names ? names->nelts - (WOS_SIGNIN_MAX_COOKIES - 1) : 0;

    if (!names)
        return apr_array_make(p, 1, sizeof(const char *));
    if (excess > 4 * WOS_SIGNIN_MAX_COOKIES)
        excess = 4 * WOS_SIGNIN_MAX_COOKIES;
    names->nelts = excess > 0 ? excess : 0;
    return names;
}

const char *wos_signin_used_key(apr_pool_t *p, const char *state)
{
    return apr_pstrcat(p, "wos:state:", wos_sha256_hex(p, state, strlen(state)), NULL);
}
