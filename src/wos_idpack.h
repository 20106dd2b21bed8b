/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_idpack.h
 * @brief A verified session's identity as a compact byte string.
 *
 * What the shared session cache keeps of a verified session: the session's
 * and the claims' strings and lists and the token's times, not the tokens
 * themselves, nor the user JSON (what a request needs after verification).
 * Unpacking points into the bytes it is given (no copies of the strings).
 */
#ifndef WOS_IDPACK_H
#define WOS_IDPACK_H

#include "wos_jwt.h"
#include "wos_scache.h"
#include "wos_session.h"

/**
 * @p s and @p c as at most @p max bytes, in @p p. WOS_ETOOBIG when they
 * take more (the caller does not share that session).
 */
wos_rv wos_idpack(apr_pool_t *p, const wos_session *s, const wos_claims *c,
                  apr_size_t max, void **out, apr_size_t *len);

/**
 * The session (without access_token, refresh_token and user: NULL) and the
 * claims packed in @p data, which must outlive them. WOS_EINVAL when the
 * bytes are not a pack.
 */
wos_rv wos_idunpack(apr_pool_t *p, void *data, apr_size_t len, wos_session **s,
                    wos_claims **c);

/**
 * The session and claims @p sc holds under @p key at @p now (unpacked into
 * @p p, tokens NULL), and until when; WOS_ENOKEY (or the table's error) else.
 */
wos_rv wos_scache_get_session(wos_scache *sc, apr_pool_t *p, const unsigned char *key,
                              apr_int64_t now, wos_session **s, wos_claims **c,
                              apr_int64_t *valid_until);

/** Share a verified session under @p key until @p valid_until (pack in @p p). */
wos_rv wos_scache_put_session(wos_scache *sc, apr_pool_t *p, const unsigned char *key,
                              apr_int64_t valid_until, const wos_session *s,
                              const wos_claims *c);

#endif
