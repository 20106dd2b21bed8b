/**
 * @file wos_vcache.h
 * @brief Per-process cache of verified sessions.
 *
 * Keyed by SHA-256 of the whole cookie value (and of the settings it was
 * verified under), a hit skips the unseal and the RSA verification and hands
 * back the parsed claims. An entry never outlives its access token's expiry
 * (minus the refresh window), and a different cookie is a different key.
 * Bounded (least recently used entries go first) and thread-safe.
 */
#ifndef WOS_VCACHE_H
#define WOS_VCACHE_H

#include "wos_jwt.h"
#include "wos_session.h"

#define WOS_VCACHE_KEY_LEN 32

typedef struct wos_vcache wos_vcache;

/** A cache of at most @p capacity sessions, living as long as @p p. */
wos_rv wos_vcache_create(apr_pool_t *p, int capacity, wos_vcache **out);

/**
 * The key of @p cookie verified under settings @p fingerprint. Anything but
 * WOS_OK means there is no key: the caller must not use the cache (an unset
 * key would make every cookie the same entry).
 */
wos_rv wos_vcache_key(const wos_vcache *vc, const char *cookie, const char *fingerprint,
                      unsigned char key[WOS_VCACHE_KEY_LEN]);

/**
 * Copies of the session and claims into @p rp when @p key is cached and
 * still valid at @p now (seconds); WOS_ENOKEY otherwise. The session's
 * `user` JSON is not kept (NULL): the request path does not need it.
 */
wos_rv wos_vcache_get(wos_vcache *vc, apr_pool_t *rp, const unsigned char *key,
                      apr_int64_t now, wos_session **s, wos_claims **c);

/** Remember a verified session until @p valid_until (seconds). */
void wos_vcache_put(wos_vcache *vc, const unsigned char *key, apr_int64_t valid_until,
                    const wos_session *s, const wos_claims *c);

/** Entries held now (for tests and status). */
int wos_vcache_count(wos_vcache *vc);

#endif
