/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_keys.c: the JWKS keystore. One document in the shared cache serves
 * every process; each process parses a generation once and keeps it (with a
 * reference count, since threads may still verify with a superseded one).
 */
#include <string.h>
#include <stdlib.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "wos_keys.h"

typedef struct key_gen {
    apr_pool_t *pool;          /* unmanaged: owns the parsed set and its EVP_PKEYs */
    wos_jwks *set;
    char *hash;                /* sha256 of the document */
    apr_time_t expires;        /* shared with every process: fetched_at + ttl */
    int refs;
    int retired;
} key_gen;

/* One client's current generation (a server may serve several clients). */
typedef struct key_slot {
    key_gen *cur;
} key_slot;

struct wos_keystore {
    apr_pool_t *pool;          /* the slots' own: see wos_keystore_create */
    apr_thread_mutex_t *mu;
    apr_hash_t *slots;         /* cache id (base URL + client) -> key_slot */
};

typedef struct gen_ref {
    wos_keystore *ks;
    key_gen *g;
} gen_ref;

static void gen_destroy(key_gen *g)
{
    apr_pool_destroy(g->pool);
}

static apr_status_t keystore_cleanup(void *data)
{
    wos_keystore *ks = data;
    apr_hash_index_t *hi;

    for (hi = apr_hash_first(NULL, ks->slots); hi; hi = apr_hash_next(hi)) {
        key_slot *slot = apr_hash_this_val(hi);
        if (slot->cur && slot->cur->refs == 0)
            gen_destroy(slot->cur);
        slot->cur = NULL;
    }
    apr_pool_destroy(ks->pool);
    return APR_SUCCESS;
}

/*
 * Slots are made while requests run, under the store's lock only: they take
 * from a pool of their own, never from @p p (httpd's pchild), which other
 * objects and modules use under no common lock. Its parent is APR's global
 * pool, so that it outlives @p p's subpools (borrowers) and goes in the cleanup.
 */
wos_rv wos_keystore_create(apr_pool_t *p, wos_keystore **out)
{
    wos_keystore *ks = apr_pcalloc(p, sizeof(*ks));

    if (apr_thread_mutex_create(&ks->mu, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS
        || apr_pool_create(&ks->pool, NULL) != APR_SUCCESS)
        return WOS_ECRYPTO;
    ks->slots = apr_hash_make(ks->pool);
    apr_pool_cleanup_register(p, ks, keystore_cleanup, apr_pool_cleanup_null);
    *out = ks;
    return WOS_OK;
}

static apr_status_t gen_release(void *data)
{
    gen_ref *ref = data;
    key_gen *g = ref->g;

    apr_thread_mutex_lock(ref->ks->mu);
    if (--g->refs == 0 && g->retired)
        gen_destroy(g);
    apr_thread_mutex_unlock(ref->ks->mu);
    return APR_SUCCESS;
}

/* Hand out the current generation to a request (caller holds the lock). */
static const wos_jwks *gen_borrow(wos_keystore *ks, key_gen *g, apr_pool_t *rp)
{
    gen_ref *ref = apr_palloc(rp, sizeof(*ref));

    ref->ks = ks;
    ref->g = g;
    g->refs++;
    apr_pool_cleanup_register(rp, ref, gen_release, apr_pool_cleanup_null);
    return g->set;
}

/* Make @p g current; the one it replaces goes when its last borrower does. */
static void gen_install(key_slot *slot, key_gen *g)
{
    key_gen *old = slot->cur;

    slot->cur = g;
    if (old) {
        old->retired = 1;
        if (old->refs == 0)
            gen_destroy(old);
    }
}

/* Parse a document into a new generation; no usable key is a failure. */
static wos_rv gen_parse(const char *doc, apr_size_t len, const char *hash,
                        apr_time_t expires, key_gen **out, apr_pool_t *rp,
                        const char **err)
{
    apr_pool_t *gp;
    key_gen *g;
    wos_rv rv;

    if (apr_pool_create_unmanaged_ex(&gp, NULL, NULL) != APR_SUCCESS)
        return WOS_ECRYPTO;
    g = apr_pcalloc(gp, sizeof(*g));
    g->pool = gp;
    g->hash = apr_pstrdup(gp, hash);
    g->expires = expires;
    rv = wos_jwks_parse(gp, doc, len, &g->set, err);
    if (rv == WOS_OK && g->set->keys->nelts == 0) {
        *err = apr_psprintf(rp, "JWKS holds no usable key (%d skipped%s%s)",
                            g->set->skipped->nelts, g->set->skipped->nelts ? ": " : "",
                            wos_join(rp, g->set->skipped, "; "));
        rv = WOS_EINVAL;
    }
    else if (rv != WOS_OK) {
        *err = apr_pstrdup(rp, *err);
    }
    if (rv != WOS_OK) {
        apr_pool_destroy(gp);
        return rv;
    }
    *out = g;
    return WOS_OK;
}

/* Which JWKS: one per API base URL and client. */
static const char *client_id_hash(apr_pool_t *p, const wos_api_cfg *api)
{
    const char *id = apr_pstrcat(p, api->base_url, "|", api->client_id, NULL);
    char *h = wos_sha256_hex(p, id, strlen(id));
    h[32] = '\0';
    return h;
}

static const char *cache_key(apr_pool_t *p, const wos_api_cfg *api, const char *what)
{
    return apr_pstrcat(p, WOS_KEYS_DOC_PREFIX, client_id_hash(p, api), ":", what, NULL);
}

static const char *doc_key(apr_pool_t *p, const wos_api_cfg *api)
{
    return apr_pstrcat(p, WOS_KEYS_DOC_PREFIX, client_id_hash(p, api), WOS_KEYS_DOC_SUFFIX,
                       NULL);
}

int wos_keys_is_doc_key(const char *key, apr_size_t len)
{
    apr_size_t pl = sizeof(WOS_KEYS_DOC_PREFIX) - 1, sl = sizeof(WOS_KEYS_DOC_SUFFIX) - 1;

    return len > pl + sl && !memcmp(key, WOS_KEYS_DOC_PREFIX, pl)
           && !memcmp(key + len - sl, WOS_KEYS_DOC_SUFFIX, sl);
}

wos_rv wos_keys_doc_parse(const char *val, apr_size_t len, apr_time_t *expiry,
                          const char **json)
{
    const char *nl = memchr(val, '\n', len);
    apr_int64_t v = 0;
    const char *d;

    if (!nl || nl == val || nl - val > 19)
        return WOS_EINVAL;
    for (d = val; d < nl; d++) {
        if (*d < '0' || *d > '9')
            return WOS_EINVAL;
        v = v * 10 + (*d - '0');
    }
    *expiry = (apr_time_t)v;
    if (json)
        *json = nl + 1;
    return WOS_OK;
}

/*
 * This client's slot (caller holds the lock), found by base URL and client id
 * as they are (NUL between them): no hashing on every request.
 */
static key_slot *slot_of(wos_keystore *ks, apr_pool_t *rp, const wos_keys_ctx *ctx)
{
    const char *url = ctx->api->base_url ? ctx->api->base_url : "";
    const char *client = ctx->api->client_id ? ctx->api->client_id : "";
    apr_size_t ul = strlen(url), cl = strlen(client);
    char *id = apr_palloc(rp, ul + 1 + cl);
    key_slot *slot;

    memcpy(id, url, ul + 1);
    memcpy(id + ul + 1, client, cl);
    slot = apr_hash_get(ks->slots, id, (apr_ssize_t)(ul + 1 + cl));
    if (!slot) {
        slot = apr_pcalloc(ks->pool, sizeof(*slot));
        apr_hash_set(ks->slots, apr_pmemdup(ks->pool, id, ul + 1 + cl),
                     (apr_ssize_t)(ul + 1 + cl), slot);
    }
    return slot;
}

/* The shared document (see wos_keys.h). */
static wos_rv shared_load(apr_pool_t *rp, const wos_keys_ctx *ctx, const char **doc,
                          apr_size_t *len, apr_time_t *expires)
{
    char *val;
    apr_size_t vlen;
    wos_rv rv;

    rv = ctx->cache->get(ctx->cache, rp, doc_key(rp, ctx->api), WOS_JWKS_MAX_SIZE + 32, &val,
                         &vlen);
    if (rv != WOS_OK)
        return rv;
    if ((rv = wos_keys_doc_parse(val, vlen, expires, doc)) != WOS_OK)
        return rv;
    *len = vlen - (apr_size_t)(*doc - val);
    return WOS_OK;
}

static void shared_store(apr_pool_t *rp, const wos_keys_ctx *ctx, const char *doc,
                         apr_size_t len, apr_time_t expires)
{
    char *val = apr_psprintf(rp, "%" APR_TIME_T_FMT "\n", expires);
    apr_size_t hl = strlen(val);
    char *buf = apr_palloc(rp, hl + len);

    memcpy(buf, val, hl);
    memcpy(buf + hl, doc, len);
    ctx->cache->set(ctx->cache, rp, doc_key(rp, ctx->api), buf, hl + len, expires);
}

/* Adopt a document as current unless it is the generation we already have. */
static wos_rv adopt(wos_keystore *ks, apr_pool_t *rp, const wos_keys_ctx *ctx,
                    const char *doc, apr_size_t len, apr_time_t expires, const char **err)
{
    char *hash = wos_sha256_hex(rp, doc, len);
    key_slot *slot;
    key_gen *g;
    wos_rv rv;

    apr_thread_mutex_lock(ks->mu);
    slot = slot_of(ks, rp, ctx);
    if (slot->cur && strcmp(slot->cur->hash, hash) == 0) {
        slot->cur->expires = expires;
        apr_thread_mutex_unlock(ks->mu);
        return WOS_OK;
    }
    apr_thread_mutex_unlock(ks->mu);

    rv = gen_parse(doc, len, hash, expires, &g, rp, err);
    if (rv != WOS_OK)
        return rv;
    apr_thread_mutex_lock(ks->mu);
    gen_install(slot_of(ks, rp, ctx), g);
    apr_thread_mutex_unlock(ks->mu);
    return WOS_OK;
}

/* Fetch from WorkOS, publish to every process, adopt here. */
static wos_rv fetch(wos_keystore *ks, apr_pool_t *rp, const wos_keys_ctx *ctx,
                    const char **err)
{
    const char *doc;
    apr_size_t len;
    apr_time_t expires;
    key_gen *g;
    wos_rv rv;

    rv = (ctx->fetch ? ctx->fetch : wos_api_fetch_jwks)(rp, ctx->api, &doc, &len, err);
    if (rv == WOS_OK) {
        expires = apr_time_now() + apr_time_from_sec(ctx->ttl_sec);
        rv = gen_parse(doc, len, wos_sha256_hex(rp, doc, len), expires, &g, rp, err);
    }
    if (ctx->fetched)
        ctx->fetched(ctx->fetched_baton, rv);
    if (rv != WOS_OK)
        return WOS_EUNAVAIL;      /* a broken document never replaces working keys */
    shared_store(rp, ctx, doc, len, expires);
    apr_thread_mutex_lock(ks->mu);
    gen_install(slot_of(ks, rp, ctx), g);
    apr_thread_mutex_unlock(ks->mu);
    return WOS_OK;
}

/* Only one process fetches a missing document; the others wait for it. */
static wos_rv fetch_once(wos_keystore *ks, apr_pool_t *rp, const wos_keys_ctx *ctx,
                         int *fetched, const char **err)
{
    const char *lock = cache_key(rp, ctx->api, "fetching");
    apr_time_t wait = apr_time_from_msec(ctx->api->http.timeout_ms + 1000);
    apr_time_t deadline = apr_time_now() + wait;
    wos_rv rv;

    if (ctx->cache->add(ctx->cache, rp, lock, "1", 1, deadline) == WOS_OK) {
        const char *doc;
        apr_size_t len;
        apr_time_t expires;

        /* A fetcher that finished between our look and our lock published
         * first: use its document rather than fetch a second time. */
        if (shared_load(rp, ctx, &doc, &len, &expires) == WOS_OK
            && adopt(ks, rp, ctx, doc, len, expires, err) == WOS_OK) {
            ctx->cache->remove(ctx->cache, rp, lock);
            return WOS_OK;
        }
        rv = fetch(ks, rp, ctx, err);
        ctx->cache->remove(ctx->cache, rp, lock);
        *fetched = 1;
        return rv;
    }
    while (apr_time_now() < deadline) {
        const char *doc;
        char *held;
        apr_size_t len;
        apr_time_t expires;

        apr_sleep(apr_time_from_msec(50));
        if (shared_load(rp, ctx, &doc, &len, &expires) == WOS_OK)
            return adopt(ks, rp, ctx, doc, len, expires, err);
        if (ctx->cache->get(ctx->cache, rp, lock, 16, &held, &len) != WOS_OK)
            break;      /* the fetcher gave up without a document */
    }
    *err = "another process could not fetch the JWKS";
    return WOS_EUNAVAIL;
}

/*
 * The current generation if it is fresh and (when asked) knows @p kid. A kid
 * it lists twice counts as known: refetching cannot help, and the caller
 * refuses it (wos_jwks_ambiguous) without a trip to the shared cache.
 */
static const wos_jwks *current(wos_keystore *ks, apr_pool_t *rp, const wos_keys_ctx *ctx,
                               const char *kid)
{
    const wos_jwks *set = NULL;
    key_slot *slot;

    apr_thread_mutex_lock(ks->mu);
    slot = slot_of(ks, rp, ctx);
    if (slot->cur && apr_time_now() < slot->cur->expires
        && (!kid || wos_jwks_find(slot->cur->set, kid)
            || wos_jwks_ambiguous(slot->cur->set, kid)))
        set = gen_borrow(ks, slot->cur, rp);
    apr_thread_mutex_unlock(ks->mu);
    return set;
}

wos_rv wos_keystore_get(wos_keystore *ks, apr_pool_t *rp, const wos_keys_ctx *ctx,
                        const char *want_kid, const wos_jwks **out, int *fetched,
                        const char **err)
{
    const char *doc;
    apr_size_t len;
    apr_time_t expires;
    wos_rv rv;

    *fetched = 0;
    *err = NULL;
    if ((*out = current(ks, rp, ctx, want_kid)) != NULL)
        return WOS_OK;                               /* the hot path */

    /* Another process may have fetched a newer generation. */
    if (shared_load(rp, ctx, &doc, &len, &expires) == WOS_OK
        && adopt(ks, rp, ctx, doc, len, expires, err) == WOS_OK) {
        if ((*out = current(ks, rp, ctx, want_kid)) != NULL)
            return WOS_OK;
        /* Fresh, but the kid is unknown: refetch under the shared throttle. */
        if (ctx->cache->add(ctx->cache, rp, cache_key(rp, ctx->api, "refetch"), "1", 1,
                            apr_time_now() + apr_time_from_sec(WOS_KEYS_REFETCH_INTERVAL))
            == WOS_OK) {
            *fetched = 1;
            fetch(ks, rp, ctx, err);   /* on failure keep serving the keys we have */
        }
        *out = current(ks, rp, ctx, NULL);
        return *out ? WOS_OK : WOS_EUNAVAIL;
    }

    /* Nothing usable is shared: fetch (one process at a time). */
    rv = fetch_once(ks, rp, ctx, fetched, err);
    if (rv == WOS_OK && (*out = current(ks, rp, ctx, NULL)) != NULL)
        return WOS_OK;
    if (!*err)
        *err = "no usable JWKS";
    return WOS_EUNAVAIL;
}
