/*
 * wos_refresh.c: single-flight refresh over the shared cache.
 * Entry "wos:rf:<h>:lock" marks a refresh in progress; "wos:rf:<h>:res" holds
 * its outcome for WOS_REFRESH_RESULT_TTL seconds: "ok\n<sealed answer>" or
 * "err\n<error>\n<description>".
 */
#include <string.h>
#include <apr_strings.h>

#include "wos_refresh.h"
#include "wos_seal.h"

#define POLL_MS 20

static const char *entry_key(apr_pool_t *p, const char *token, const char *org,
                             const char *what)
{
    const char *id = apr_pstrcat(p, token, "|", org ? org : "", NULL);
    return apr_pstrcat(p, "wos:rf:", wos_sha256_hex(p, id, strlen(id)), ":", what, NULL);
}

/* The result is sealed under a key only holders of the old refresh token know. */
static apr_array_header_t *result_password(apr_pool_t *p, const char *token)
{
    apr_array_header_t *pw = apr_array_make(p, 1, sizeof(const char *));
    const char *k = apr_pstrcat(p, "wos-refresh-result|", token, NULL);
    APR_ARRAY_PUSH(pw, const char *) = wos_sha256_hex(p, k, strlen(k));
    return pw;
}

static void store_result(apr_pool_t *p, const wos_refresh_ctx *ctx, const char *key,
                         const char *token, wos_rv rv, const wos_auth_result *r)
{
    apr_time_t exp = apr_time_now() + apr_time_from_sec(WOS_REFRESH_RESULT_TTL);
    const char *val = NULL, *sealed;
    apr_array_header_t *pw = result_password(p, token);

    if (rv == WOS_OK) {
        if (wos_seal(p, APR_ARRAY_IDX(pw, 0, const char *), r->raw_json,
                     strlen(r->raw_json), WOS_REFRESH_RESULT_TTL,
                     apr_time_as_msec(apr_time_now()), &sealed) != WOS_OK)
            return;
        val = apr_pstrcat(p, "ok\n", sealed, NULL);
    }
    else {
        val = apr_pstrcat(p, "err\n", r->error ? r->error : "unknown", "\n",
                          r->error_description ? r->error_description : "", NULL);
    }
    ctx->cache->set(ctx->cache, p, key, val, strlen(val), exp);
}

/* WOS_ENOKEY when no result is stored yet. */
static wos_rv load_result(apr_pool_t *p, const wos_refresh_ctx *ctx, const char *key,
                          const char *token, wos_auth_result *r, const char **err)
{
    char *val, *json, *nl;
    apr_size_t len, jlen;
    int idx;
    wos_rv rv;

    rv = ctx->cache->get(ctx->cache, p, key, 256 * 1024, &val, &len);
    if (rv != WOS_OK)
        return WOS_ENOKEY;
    if (strncmp(val, "err\n", 4) == 0) {
        r->error = val + 4;
        nl = strchr(r->error, '\n');
        if (nl) {
            *nl = '\0';
            r->error_description = nl + 1;
        }
        *err = "refresh failed (result shared by a concurrent request)";
        return WOS_EUPSTREAM;
    }
    if (strncmp(val, "ok\n", 3) != 0)
        return WOS_ENOKEY;
    rv = wos_unseal(p, val + 3, len - 3, result_password(p, token),
                    apr_time_as_msec(apr_time_now()), &json, &jlen, &idx, err);
    if (rv != WOS_OK)
        return WOS_ENOKEY;
    rv = wos_session_from_auth_response(p, json, jlen, &r->session, err);
    if (rv != WOS_OK)
        return WOS_ENOKEY;
    r->raw_json = json;
    r->http_status = 200;
    return WOS_OK;
}

wos_rv wos_refresh(apr_pool_t *p, const wos_refresh_ctx *ctx, const char *refresh_token,
                   const char *organization_id, wos_auth_result **out, int *called,
                   const char **err)
{
    const char *res_key = entry_key(p, refresh_token, organization_id, "res");
    const char *lock_key = entry_key(p, refresh_token, organization_id, "lock");
    long wait_ms = ctx->api->http.timeout_ms + 2000;
    apr_time_t deadline = apr_time_now() + apr_time_from_msec(wait_ms);
    wos_auth_result *r = apr_pcalloc(p, sizeof(*r));
    wos_rv rv;

    *out = r;
    *called = 0;
    r->retry_after_sec = -1;
    rv = load_result(p, ctx, res_key, refresh_token, r, err);
    if (rv != WOS_ENOKEY)
        return rv;

    if (ctx->cache->add(ctx->cache, p, lock_key, "1", 1, deadline) == WOS_OK) {
        wos_auth_result *fresh;

        *called = 1;
        wos_refresh_call_fn *call = ctx->call ? ctx->call : wos_api_refresh;

        fresh = NULL;
        rv = call(p, ctx->api, refresh_token, organization_id, ctx->ip_address,
                  ctx->user_agent, &fresh, err);
        if (fresh)                /* WOS_EINVAL (nothing sent) leaves no answer */
            *out = fresh;
        else if (rv == WOS_OK || rv == WOS_EUPSTREAM)
            rv = WOS_EINVAL;      /* no answer to share: store nothing */
        if (rv == WOS_OK || rv == WOS_EUPSTREAM)
            store_result(p, ctx, res_key, refresh_token, rv, *out);
        ctx->cache->remove(ctx->cache, p, lock_key);
        return rv;
    }

    /* Someone else is refreshing this token: wait for their answer, or until
     * their lock is gone without one (their refresh failed, retryably). */
    while (apr_time_now() < deadline) {
        char *lock;
        apr_size_t llen;

        apr_sleep(apr_time_from_msec(POLL_MS));
        rv = load_result(p, ctx, res_key, refresh_token, r, err);
        if (rv != WOS_ENOKEY)
            return rv;
        if (ctx->cache->get(ctx->cache, p, lock_key, 16, &lock, &llen) != WOS_OK)
            break;
    }
    *err = "a concurrent refresh of this session did not succeed";
    r->retry_after_sec = 1;
    return WOS_EUNAVAIL;
}
