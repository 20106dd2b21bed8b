/*
 * wos_refresh.c: single-flight refresh over the shared cache.
 * Entries, keyed by a hash of the refresh token and organization:
 *   "wos:rf:<h>:lock"  a refresh in progress (a random value: its holder);
 *   "wos:rf:<h>:res"   "ok\n<sealed answer>" for WOS_REFRESH_RESULT_TTL seconds;
 *   "wos:rf:<h>:err"   "err\n<error>\n<description>" for as long.
 * Success and failure live apart so that a late failure (a caller that lost a
 * race across servers) never hides a success; readers look at "res" first.
 */
#include <string.h>
#include <apr_strings.h>

#include "wos_rand.h"
#include "wos_refresh.h"
#include "wos_seal.h"

#define POLL_MS 20
#define RESULT_MAX (256 * 1024)

typedef struct flight {
    const char *id;            /* hash of token and organization: not secret */
    const char *res, *err, *lock;
    const char *token;
    const char *holder;        /* our lock value once we took it */
} flight;

static void flight_init(apr_pool_t *p, flight *f, const char *token, const char *org)
{
    const char *id = apr_pstrcat(p, token, "|", org ? org : "", NULL);

    f->id = wos_sha256_hex(p, id, strlen(id));
    f->res = apr_pstrcat(p, "wos:rf:", f->id, ":res", NULL);
    f->err = apr_pstrcat(p, "wos:rf:", f->id, ":err", NULL);
    f->lock = apr_pstrcat(p, "wos:rf:", f->id, ":lock", NULL);
    f->token = token;
    f->holder = NULL;
}

static void note(const wos_refresh_ctx *ctx, apr_pool_t *p, const flight *f,
                 wos_refresh_note what, const char *msg)
{
    if (ctx->note)
        ctx->note(ctx->note_baton, what,
                  apr_psprintf(p, "refresh %.12s: %s", f->id, msg));
}

/* The result is sealed under a key only holders of the old refresh token know. */
static apr_array_header_t *result_password(apr_pool_t *p, const char *token)
{
    apr_array_header_t *pw = apr_array_make(p, 1, sizeof(const char *));
    const char *k = apr_pstrcat(p, "wos-refresh-result|", token, NULL);
    APR_ARRAY_PUSH(pw, const char *) = wos_sha256_hex(p, k, strlen(k));
    return pw;
}

static void store_result(apr_pool_t *p, const wos_refresh_ctx *ctx, const flight *f,
                         wos_rv rv, const wos_auth_result *r)
{
    apr_time_t exp = apr_time_now() + apr_time_from_sec(WOS_REFRESH_RESULT_TTL);
    const char *val = NULL, *sealed;
    apr_array_header_t *pw = result_password(p, f->token);

    if (rv == WOS_OK) {
        if (wos_seal(p, APR_ARRAY_IDX(pw, 0, const char *), r->raw_json,
                     strlen(r->raw_json), WOS_REFRESH_RESULT_TTL,
                     apr_time_as_msec(apr_time_now()), &sealed) != WOS_OK)
            return;
        val = apr_pstrcat(p, "ok\n", sealed, NULL);
        ctx->cache->set(ctx->cache, p, f->res, val, strlen(val), exp);
        return;
    }
    val = apr_pstrcat(p, "err\n", r->error ? r->error : "unknown", "\n",
                      r->error_description ? r->error_description : "", NULL);
    ctx->cache->set(ctx->cache, p, f->err, val, strlen(val), exp);
}

/* A stored success, unsealed into @p p (the value is read into @p tmp).
 * WOS_ENOKEY when there is none, or none that opens with this token. */
static wos_rv load_ok(apr_pool_t *p, apr_pool_t *tmp, const wos_refresh_ctx *ctx,
                      const flight *f, wos_auth_result *r)
{
    const char *err = NULL;
    char *val, *json;
    apr_size_t len, jlen;
    int idx;

    if (ctx->cache->get(ctx->cache, tmp, f->res, RESULT_MAX, &val, &len) != WOS_OK
        || len < 3 || memcmp(val, "ok\n", 3) != 0)
        return WOS_ENOKEY;
    if (wos_unseal(p, val + 3, len - 3, result_password(tmp, f->token),
                   apr_time_as_msec(apr_time_now()), &json, &jlen, &idx, &err) != WOS_OK
        || wos_session_from_auth_response(p, json, jlen, &r->session, &err) != WOS_OK)
        return WOS_ENOKEY;
    r->raw_json = json;
    r->http_status = 200;
    r->error = r->error_description = NULL;
    return WOS_OK;
}

/* A stored terminal failure, copied into @p p. */
static wos_rv load_err(apr_pool_t *p, apr_pool_t *tmp, const wos_refresh_ctx *ctx,
                       const flight *f, wos_auth_result *r, const char **err)
{
    char *val, *nl;
    apr_size_t len;

    if (ctx->cache->get(ctx->cache, tmp, f->err, 4096, &val, &len) != WOS_OK
        || len < 4 || memcmp(val, "err\n", 4) != 0)
        return WOS_ENOKEY;
    val = apr_pstrmemdup(p, val + 4, len - 4);
    nl = strchr(val, '\n');
    if (nl) {
        *nl = '\0';
        r->error_description = nl + 1;
    }
    r->error = val;
    *err = "refresh failed (result shared by a concurrent request)";
    return WOS_EUPSTREAM;
}

/* What a concurrent caller left: WOS_OK, WOS_EUPSTREAM, or WOS_ENOKEY (nothing). */
static wos_rv load_shared(apr_pool_t *p, apr_pool_t *tmp, const wos_refresh_ctx *ctx,
                          const flight *f, wos_auth_result *r, const char **err)
{
    if (load_ok(p, tmp, ctx, f, r) == WOS_OK)
        return WOS_OK;
    return load_err(p, tmp, ctx, f, r, err);
}

/* Whether the lock entry holds @p value (WOS_ENOKEY: there is no lock). */
static wos_rv lock_holds(apr_pool_t *tmp, const wos_refresh_ctx *ctx, const flight *f,
                         const char *value)
{
    char *v;
    apr_size_t len;

    if (ctx->cache->get(ctx->cache, tmp, f->lock, 64, &v, &len) != WOS_OK)
        return WOS_ENOKEY;
    return value && len == strlen(value) && memcmp(v, value, len) == 0 ? WOS_OK : WOS_EBUSY;
}

/*
 * Take the lock: WOS_OK when this caller is to call WorkOS. With a racy add
 * the caller whose value is still there after WOS_REFRESH_CONFIRM_MS goes;
 * a caller whose value was overwritten waits for the other one. A lock that
 * vanished (the cache failed) does not stop us: the refresh goes on alone.
 */
static wos_rv take_lock(apr_pool_t *p, apr_pool_t *tmp, const wos_refresh_ctx *ctx,
                        flight *f, apr_time_t until)
{
    const char *nonce;

    if (wos_rand_token(p, 12, &nonce) != WOS_OK)
        return WOS_ECRYPTO;
    if (ctx->cache->add(ctx->cache, tmp, f->lock, nonce, strlen(nonce), until) != WOS_OK)
        return WOS_EBUSY;
    f->holder = nonce;
    if (!(ctx->cache->flags & WOS_CACHE_RACY_ADD))
        return WOS_OK;
    apr_sleep(apr_time_from_msec(WOS_REFRESH_CONFIRM_MS));
    if (lock_holds(tmp, ctx, f, nonce) == WOS_EBUSY) {
        f->holder = NULL;
        note(ctx, p, f, WOS_REFRESH_NOTE_LOST_LOCK,
             "another request took the lock in the same moment; waiting for its result");
        return WOS_EBUSY;
    }
    return WOS_OK;
}

/* Remove the lock if it is still ours (a later holder's stays). */
static void release_lock(apr_pool_t *tmp, const wos_refresh_ctx *ctx, const flight *f)
{
    if (f->holder && lock_holds(tmp, ctx, f, f->holder) == WOS_OK)
        ctx->cache->remove(ctx->cache, tmp, f->lock);
}

/* WorkOS refuses a spent refresh token with invalid_grant. */
static int spent(wos_rv rv, const wos_auth_result *r)
{
    return rv == WOS_EUPSTREAM && r && r->error && strcmp(r->error, "invalid_grant") == 0;
}

/* Refused as spent: did a concurrent caller (another server) win with it? */
static wos_rv recover(apr_pool_t *p, apr_pool_t *tmp, const wos_refresh_ctx *ctx,
                      const flight *f, wos_auth_result **out)
{
    long wait_ms = (ctx->cache->flags & WOS_CACHE_RACY_ADD) ? WOS_REFRESH_RECOVER_MS : 0;
    apr_time_t deadline = apr_time_now() + apr_time_from_msec(wait_ms);
    wos_auth_result *r = apr_pcalloc(p, sizeof(*r));

    r->retry_after_sec = -1;
    for (;;) {
        apr_pool_clear(tmp);
        if (load_ok(p, tmp, ctx, f, r) == WOS_OK) {
            *out = r;
            note(ctx, p, f, WOS_REFRESH_NOTE_RECOVERED,
                 "WorkOS refused the refresh token as spent; a concurrent refresh "
                 "(another server or process) won with it, and its result is used");
            return WOS_OK;
        }
        if (apr_time_now() >= deadline)
            break;
        apr_sleep(apr_time_from_msec(POLL_MS));
    }
    if (wait_ms)
        note(ctx, p, f, WOS_REFRESH_NOTE_UNRECOVERED,
             apr_psprintf(p, "WorkOS refused the refresh token as spent and no concurrent "
                          "result appeared within %ld ms", wait_ms));
    return WOS_ENOKEY;
}

/* Call WorkOS as the lock holder; share the outcome. */
static wos_rv call_upstream(apr_pool_t *p, apr_pool_t *tmp, const wos_refresh_ctx *ctx,
                            const flight *f, const char *organization_id,
                            wos_auth_result **out, const char **err)
{
    wos_refresh_call_fn *call = ctx->call ? ctx->call : wos_api_refresh;
    wos_auth_result *fresh = NULL;
    wos_rv rv;

    rv = call(p, ctx->api, f->token, organization_id, ctx->ip_address, ctx->user_agent,
              &fresh, err);
    if (fresh)                    /* WOS_EINVAL (nothing sent) leaves no answer */
        *out = fresh;
    else if (rv == WOS_OK || rv == WOS_EUPSTREAM)
        rv = WOS_EINVAL;          /* no answer to share: store nothing */
    if (spent(rv, fresh) && recover(p, tmp, ctx, f, out) == WOS_OK) {
        *err = NULL;
        rv = WOS_OK;              /* the winner stored it already */
    }
    else if (rv == WOS_OK || rv == WOS_EUPSTREAM) {
        store_result(p, ctx, f, rv, *out);
    }
    apr_pool_clear(tmp);
    release_lock(tmp, ctx, f);
    return rv;
}

wos_rv wos_refresh(apr_pool_t *p, const wos_refresh_ctx *ctx, const char *refresh_token,
                   const char *organization_id, wos_auth_result **out, int *called,
                   const char **err)
{
    long wait_ms = ctx->api->http.timeout_ms + WOS_REFRESH_CONFIRM_MS
                 + WOS_REFRESH_RECOVER_MS + 2000;
    apr_time_t deadline = apr_time_now() + apr_time_from_msec(wait_ms);
    wos_auth_result *r = apr_pcalloc(p, sizeof(*r));
    apr_pool_t *tmp;
    flight f;
    wos_rv rv;

    *out = r;
    *called = 0;
    r->retry_after_sec = -1;
    if (apr_pool_create(&tmp, p) != APR_SUCCESS) {
        *err = "out of memory";
        return WOS_ECRYPTO;
    }
    flight_init(p, &f, refresh_token, organization_id);
    rv = load_shared(p, tmp, ctx, &f, r, err);
    if (rv != WOS_ENOKEY)
        goto leave;

    rv = take_lock(p, tmp, ctx, &f, deadline);
    if (rv == WOS_OK) {
        /* A holder that finished between our look and our lock stored first. */
        rv = load_shared(p, tmp, ctx, &f, r, err);
        if (rv != WOS_ENOKEY) {
            release_lock(tmp, ctx, &f);
            goto leave;
        }
        if (ctx->gate && ctx->gate(ctx->gate_baton, ctx->gate_subject,
                                   &r->retry_after_sec) != WOS_OK) {
            release_lock(tmp, ctx, &f);
            *err = "the session's limit of calls to WorkOS is reached";
            rv = WOS_ELIMIT;
            goto leave;
        }
        *called = 1;
        rv = call_upstream(p, tmp, ctx, &f, organization_id, out, err);
        goto leave;
    }
    if (rv != WOS_EBUSY) {
        *err = "cannot make a lock value";
        r->retry_after_sec = 1;
        rv = WOS_EUNAVAIL;
        goto leave;
    }

    /* Someone else is refreshing this token: wait for their answer, or until
     * their lock is gone without one (their refresh failed, retryably). */
    while (apr_time_now() < deadline) {
        apr_sleep(apr_time_from_msec(POLL_MS));
        apr_pool_clear(tmp);
        rv = load_shared(p, tmp, ctx, &f, r, err);
        if (rv != WOS_ENOKEY)
            goto leave;
        if (lock_holds(tmp, ctx, &f, NULL) == WOS_ENOKEY) {
            /* The holder stores before it unlocks: look once more. */
            rv = load_shared(p, tmp, ctx, &f, r, err);
            if (rv != WOS_ENOKEY)
                goto leave;
            break;
        }
    }
    *err = "a concurrent refresh of this session did not succeed";
    r->retry_after_sec = 1;
    rv = WOS_EUNAVAIL;
leave:
    apr_pool_destroy(tmp);
    return rv;
}
