/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_format.c: one row per SDK: how its cookie is sealed and opened, the
 * shape of its payload, and which passwords it takes.
 */
#include <string.h>
#include <apr_strings.h>

#include "wos_format.h"
#include "wos_seal.h"
#include "wos_seal_fernet.h"
#include "wos_seal_ruby.h"
#include "wos_session_sdk.h"

typedef wos_rv seal_fn(apr_pool_t *p, const char *password, const wos_session *s,
                       apr_int64_t ttl_sec, const char **out);
typedef wos_rv unseal_fn(apr_pool_t *p, const char *cookie, apr_size_t len,
                         const apr_array_header_t *passwords, char **out,
                         apr_size_t *outlen, int *pw_index, const char **err);
typedef wos_rv parse_fn(apr_pool_t *p, const char *json, apr_size_t len,
                        wos_session **out, const char **err);

static wos_rv seal_node(apr_pool_t *p, const char *password, const wos_session *s,
                        apr_int64_t ttl_sec, const char **out)
{
    const char *json = wos_session_serialize(p, s);

    return json ? wos_seal(p, password, json, strlen(json), ttl_sec,
                           apr_time_as_msec(apr_time_now()), out) : WOS_EINVAL;
}

static wos_rv unseal_node(apr_pool_t *p, const char *cookie, apr_size_t len,
                          const apr_array_header_t *passwords, char **out,
                          apr_size_t *outlen, int *pw_index, const char **err)
{
    return wos_unseal(p, cookie, len, passwords, apr_time_as_msec(apr_time_now()), out,
                      outlen, pw_index, err);
}

/* Rack percent-encodes `+ / =` when it sets a cookie, and decodes them when it reads. */
static wos_rv seal_ruby(apr_pool_t *p, const char *password, const wos_session *s,
                        apr_int64_t ttl_sec, const char **out)
{
    const char *json = wos_session_serialize_sdk(p, s, WOS_SDK_JSON_RUBY), *sealed;
    wos_rv rv = json ? wos_ruby_seal(p, password, json, strlen(json), &sealed) : WOS_EINVAL;

    (void)ttl_sec;
    *out = rv == WOS_OK ? wos_rack_escape(p, sealed) : NULL;
    return rv;
}

static wos_rv seal_python(apr_pool_t *p, const char *password, const wos_session *s,
                          apr_int64_t ttl_sec, const char **out)
{
    const char *json = wos_session_serialize_sdk(p, s, WOS_SDK_JSON_PYTHON);

    (void)ttl_sec;
    return json ? wos_fernet_seal(p, password, json, strlen(json), wos_now_sec(), out)
                : WOS_EINVAL;
}

static const char *rule_length(const char *password)
{
    return password && strlen(password) >= WOS_SEAL_MIN_PASSWORD ? NULL
           : "must be at least 32 characters long";
}

static const char *rule_fernet(const char *password)
{
    return wos_fernet_key_check(password) == WOS_OK ? NULL
           : "must be a Fernet key, as the Python SDK uses the cookie password: 32 bytes "
             "in url-safe base64, 44 characters ending in '=' (make one with "
             "`openssl rand -base64 32` or Fernet.generate_key()); a passphrase does not work";
}

static const char *rule_ruby(const char *password)
{
    return password && strlen(password) >= WOS_RUBY_MIN_PASSWORD ? NULL
           : "must be at least 32 bytes long, as the Ruby SDK requires (8.0.1 and later)";
}

static const struct {
    const char *name;
    seal_fn *seal;
    unseal_fn *unseal;
    parse_fn *parse;
    const char *(*rule)(const char *password);
} FORMATS[WOS_FORMAT_COUNT] = {
    [WOS_FORMAT_NODE]   = {"node", seal_node, unseal_node, wos_session_parse, rule_length},
    [WOS_FORMAT_RUBY]   = {"ruby", seal_ruby, wos_ruby_unseal, wos_session_parse_sdk,
                           rule_ruby},
    [WOS_FORMAT_PYTHON] = {"python", seal_python, wos_fernet_unseal, wos_session_parse_sdk,
                           rule_fernet},
};

static int known(wos_format f)
{
    return (unsigned)f < WOS_FORMAT_COUNT;
}

wos_rv wos_format_by_name(const char *name, wos_format *out)
{
    int f;

    for (f = 0; name && f < WOS_FORMAT_COUNT; f++) {
        if (!strcasecmp(name, FORMATS[f].name)) {
            *out = (wos_format)f;
            return WOS_OK;
        }
    }
    return WOS_EINVAL;
}

const char *wos_format_name(wos_format f)
{
    return known(f) ? FORMATS[f].name : "?";
}

const char *wos_format_password_rule(wos_format f, const char *password)
{
    return known(f) ? FORMATS[f].rule(password) : "unknown session format";
}

wos_rv wos_format_seal(apr_pool_t *p, wos_format f, const char *password,
                       const wos_session *s, apr_int64_t ttl_sec, const char **out)
{
    *out = NULL;
    return known(f) ? FORMATS[f].seal(p, password, s, ttl_sec, out) : WOS_EINVAL;
}

wos_rv wos_format_open(apr_pool_t *p, wos_format f, const char *cookie,
                       const apr_array_header_t *passwords, wos_session **s,
                       const char **err)
{
    char *json;
    apr_size_t len;
    int idx;
    wos_rv rv;

    *s = NULL;
    if (!known(f)) {
        *err = "unknown session format";
        return WOS_ECRYPTO;
    }
    rv = FORMATS[f].unseal(p, cookie, strlen(cookie), passwords, &json, &len, &idx, err);
    return rv == WOS_OK ? FORMATS[f].parse(p, json, len, s, err) : rv;
}
