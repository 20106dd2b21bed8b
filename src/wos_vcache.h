/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_vcache.h
 * @brief Per-process cache of verified sessions.
 *
 * Keyed by a keyed hash (SipHash-2-4, 128 bits, wos_siphash.h) of the whole
 * cookie value and of the settings it was verified under, a hit skips the unseal and the RSA verification and hands
 * back the parsed claims. An entry never outlives its access token's expiry
 * (minus the refresh window), and a different cookie is a different key.
 * Bounded (least recently used entries go first, recency counted to the
 * second) and thread-safe.
 */
#ifndef WOS_VCACHE_H
#define WOS_VCACHE_H

#include "wos_jwt.h"
#include "wos_session.h"
#include "wos_siphash.h"

#define WOS_VCACHE_KEY_LEN WOS_SIPHASH_TAG_LEN

typedef struct wos_vcache wos_vcache;

/** A cache of at most @p capacity sessions, living as long as @p p. */
wos_rv wos_vcache_create(apr_pool_t *p, int capacity, wos_vcache **out);

/**
 * The settings a cached verification holds for: a hit needs every one of
 * them equal to the ones it was verified under.
 */
typedef struct wos_vcache_settings {
    const char *client_id, *base_url;   /**< NULL counts as "" */
    int skew, refresh_before;
    const void *passwords, *issuers;    /**< the configuration's own lists, by address */
    int format;                         /**< wos_format: the same bytes are another
                                             session in another format */
    /** Not a setting: the hash's secret key (WOS_SIPHASH_KEY_LEN bytes), the
     *  same in every process of a server (the shared cache's). NULL: no key. */
    const unsigned char *hash_key;
    int token_max_age;                  /**< WorkOSTokenMaxAge (bounds an entry's life) */
} wos_vcache_settings;

/**
 * 1 if a decision made under @p a holds under @p b: the same settings the
 * cache keys on (strings by value, NULL as "", the lists by address).
 */
int wos_vcache_settings_same(const wos_vcache_settings *a, const wos_vcache_settings *b);

/**
 * The key of @p cookie verified under @p settings. Anything but WOS_OK means
 * there is no key: the caller must not use the cache (an unset key would
 * make every cookie the same entry).
 */
wos_rv wos_vcache_key(const char *cookie, const wos_vcache_settings *settings,
                      unsigned char key[WOS_VCACHE_KEY_LEN]);

/**
 * The last settings and cookie one connection presented, with their key: a
 * keep-alive client sends the same cookie under the same settings again and
 * again, and comparing them costs far less than hashing them. Zeroed to
 * start; one connection's requests run one at a time, so it needs no lock.
 */
typedef struct wos_vcache_memo {
    wos_vcache_settings settings;   /**< its strings point into input */
    char *input;                    /**< client id, NUL, base URL, NUL, cookie */
    apr_size_t len, cap;
    unsigned char key[WOS_VCACHE_KEY_LEN];
} wos_vcache_memo;

/** Inputs longer than this are not remembered (the copy would cost too much). */
#define WOS_VCACHE_MEMO_MAX 65536

/**
 * wos_vcache_key() through @p m (NULL: no memo): the remembered key when the
 * settings and the cookie are the last ones (byte for byte), else the key
 * computed and remembered in memory from @p mp (the connection's pool;
 * at most about twice WOS_VCACHE_MEMO_MAX over the connection's life).
 */
wos_rv wos_vcache_key_memo(wos_vcache_memo *m, apr_pool_t *mp,
                           const char *cookie, const wos_vcache_settings *settings,
                           unsigned char key[WOS_VCACHE_KEY_LEN]);

/**
 * The cached session and claims when @p key is cached and still valid at
 * @p now (seconds); WOS_ENOKEY otherwise. They are the cache's own,
 * read-only, and held for @p rp: an entry evicted meanwhile is freed when
 * @p rp ends (which must be before the cache's pool ends). The session's
 * `user` JSON is not kept (NULL): the request path does not need it.
 * @p identity (may be NULL) receives wos_identity_vars() of the entry, made
 * once when it was cached, without the access token.
 */
wos_rv wos_vcache_get(wos_vcache *vc, apr_pool_t *rp, const unsigned char *key,
                      apr_int64_t now, wos_session **s, wos_claims **c,
                      const apr_array_header_t **identity);

/**
 * As wos_vcache_get(), found by the cookie itself instead of its key: the
 * entry stored with these exact cookie bytes under these exact settings
 * (wos_vcache_put_cookie()). Costs a comparison of the cookie, not a hash
 * of it: the request path asks this first. @p len is strlen(@p cookie).
 */
wos_rv wos_vcache_get_cookie(wos_vcache *vc, apr_pool_t *rp, const char *cookie,
                             apr_size_t len, const wos_vcache_settings *settings,
                             apr_int64_t now, wos_session **s, wos_claims **c,
                             const apr_array_header_t **identity);

/** Remember a verified session until @p valid_until (seconds). */
void wos_vcache_put(wos_vcache *vc, const unsigned char *key, apr_int64_t valid_until,
                    const wos_session *s, const wos_claims *c);

/**
 * wos_vcache_put(), also keeping a copy of @p cookie and @p settings so
 * that wos_vcache_get_cookie() finds the entry (NULL: by key only).
 */
void wos_vcache_put_cookie(wos_vcache *vc, const unsigned char *key, const char *cookie,
                           const wos_vcache_settings *settings, apr_int64_t valid_until,
                           const wos_session *s, const wos_claims *c);

/**
 * As wos_vcache_put_cookie(), but only into free room: never evicts. For entries
 * found in the shared cache: when more sessions are active than this cache
 * holds, copying each one in would push out another and cost more than it
 * saves (the shared cache answers them all).
 */
void wos_vcache_offer(wos_vcache *vc, const unsigned char *key, const char *cookie,
                      const wos_vcache_settings *settings, apr_int64_t valid_until,
                      const wos_session *s, const wos_claims *c);

/** Entries held now (for tests and status). */
int wos_vcache_count(wos_vcache *vc);

#endif
