/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_keys.h
 * @brief The JWKS as the request path sees it: shared by all processes,
 *        parsed once per generation in each, refetched under a throttle.
 *
 * The document lives in the shared cache (one fetch serves every process);
 * each process keeps the parsed keys of the generation it last saw and only
 * consults the shared cache when that copy expires or a token names a kid it
 * does not know.
 */
#ifndef WOS_KEYS_H
#define WOS_KEYS_H

#include "wos_api.h"
#include "wos_cache.h"
#include "wos_jwks.h"

/** Minimum interval between unknown-kid refetches, across all processes. */
#define WOS_KEYS_REFETCH_INTERVAL 60

typedef struct wos_keystore wos_keystore;

/**
 * The signing-key document in the shared cache: key
 * WOS_KEYS_DOC_PREFIX <client hash> WOS_KEYS_DOC_SUFFIX, value
 * "<expiry in microseconds>\n<JWKS JSON>". The module carries these across
 * a restart of a process-local cache.
 */
#define WOS_KEYS_DOC_PREFIX "wos:jwks:"
#define WOS_KEYS_DOC_SUFFIX ":doc"

/** Whether @p key (@p len bytes, not NUL-terminated) names a signing-key document. */
int wos_keys_is_doc_key(const char *key, apr_size_t len);

/**
 * The expiry of the document @p val (@p len bytes) and where its JSON starts;
 * WOS_EINVAL when it is not in the format above. @p json may be NULL.
 */
wos_rv wos_keys_doc_parse(const char *val, apr_size_t len, apr_time_t *expiry,
                          const char **json);

/** A per-process store, allocated in @p p (thread-safe). */
wos_rv wos_keystore_create(apr_pool_t *p, wos_keystore **out);

/** How a document is fetched (wos_api_fetch_jwks unless a test replaces it). */
typedef wos_rv wos_jwks_fetch_fn(apr_pool_t *p, const wos_api_cfg *c, const char **doc,
                                 apr_size_t *len, const char **err);

typedef struct wos_keys_ctx {
    const wos_cache *cache;
    const wos_api_cfg *api;
    int ttl_sec;               /**< how long a fetched document is used */
    wos_jwks_fetch_fn *fetch;  /**< NULL: wos_api_fetch_jwks */
    /** Told of every fetch from WorkOS and its result (WOS_OK or why not), or NULL. */
    void (*fetched)(void *baton, wos_rv rv);
    void *fetched_baton;
} wos_keys_ctx;

/**
 * The keys to verify a token with. When @p want_kid is not NULL and not in
 * the current set, look for a newer generation in the shared cache, then
 * refetch (at most once per WOS_KEYS_REFETCH_INTERVAL across processes).
 * The returned set stays valid until @p rp is cleared. WOS_EUNAVAIL when no
 * usable key can be had; *refetched tells whether this call fetched.
 */
wos_rv wos_keystore_get(wos_keystore *ks, apr_pool_t *rp, const wos_keys_ctx *ctx,
                        const char *want_kid, const wos_jwks **out, int *fetched,
                        const char **err);

#endif
