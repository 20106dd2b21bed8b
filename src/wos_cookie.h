/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_cookie.h
 * @brief Reading the Cookie header and writing Set-Cookie, with chunking.
 *
 * A session too large for one cookie is split across <name>.0, <name>.1, ...
 * Reading prefers the unchunked <name>. The SDKs (authkit-nextjs, the Node
 * SDK, authkit-remix) read only the unchunked <name>, so a session is
 * written as one cookie whenever a browser can store it (name and value
 * together up to WOS_COOKIE_MAX_BYTES) and chunked only beyond that.
 */
#ifndef WOS_COOKIE_H
#define WOS_COOKIE_H

#include "wos_common.h"

/** Hard cap on chunks read or written. */
#define WOS_COOKIE_MAX_CHUNKS 16
/** Largest chunk size an operator may configure (bytes of value). */
#define WOS_COOKIE_MAX_CHUNK_SIZE 4000
/** Smallest chunk size an operator may configure. */
#define WOS_COOKIE_MIN_CHUNK_SIZE 512
/** Largest name + value a browser stores in one cookie (RFC 6265 §6.1; Chrome, Firefox). */
#define WOS_COOKIE_MAX_BYTES 4096
/** Default chunk size: value bytes per chunk, when a session needs chunks at all. */
#define WOS_COOKIE_DEFAULT_CHUNK_SIZE 3800

/** What the request carried under one cookie name. */
typedef struct wos_cookie_in {
    const char *value;     /**< the (assembled) value, NULL when absent or unusable:
                                in the header itself when it ends the header, else
                                a copy (or the chunks joined) in the pool */
    int unchunked;         /**< 1 if <name> itself was present */
    int chunks;            /**< how many <name>.N were present (any index), for clean-up */
    int max_index;         /**< highest N seen among <name>.N, -1 if none */
    apr_size_t value_len;  /**< strlen(value) */
} wos_cookie_in;

/**
 * Find @p name in a Cookie header (several headers joined with "; ").
 * A duplicated name (or duplicated chunk) is WOS_EINVAL: ambiguous input is
 * never guessed at. Chunks must be contiguous from 0; a gap, an index at or
 * over WOS_COOKIE_MAX_CHUNKS, or an assembled size over @p max_total is
 * WOS_EINVAL/WOS_ETOOBIG. *in is filled in every case (value NULL on error),
 * so the caller can clear what was there. Absent: WOS_ENOKEY.
 *
 * Parsing follows RFC 6265 §5.2 leniently: pairs split on ';', whitespace
 * around names and values trimmed, one pair of DQUOTEs around a value
 * stripped, segments without '=' or with an empty name ignored. Names match
 * case-sensitively. An index with a leading zero ("<name>.01") is refused as
 * ambiguous; other suffixes ("<name>.x", "<name>2") are other cookies. An empty
 * value counts as absent (an emptied unchunked name leaves the chunks to be
 * read). One pass, no allocation for unrelated cookies; max_index only
 * reports indices below WOS_COOKIE_MAX_CHUNKS.
 */
wos_rv wos_cookie_read(apr_pool_t *p, const char *header, const char *name,
                       apr_size_t max_total, wos_cookie_in *in);

/**
 * All cookie names in a header that start with @p prefix (const char *), in
 * header order, each once.
 */
apr_array_header_t *wos_cookie_names_with_prefix(apr_pool_t *p, const char *header,
                                                 const char *prefix);

typedef struct wos_cookie_attrs {
    const char *path;        /**< default "/" */
    const char *domain;      /**< NULL: host-only */
    const char *same_site;   /**< "Lax", "Strict", "None", or NULL to omit */
    int secure;
    int http_only;
    apr_int64_t max_age;     /**< seconds; < 0 omits Max-Age (a browser-session cookie) */
} wos_cookie_attrs;

/**
 * One Set-Cookie value: `name=value; Path=..; Domain=..; Max-Age=N; Secure;
 * HttpOnly; SameSite=..`. NULL when the name is not an RFC 6265 token, the
 * value has a byte outside cookie-octet, Path (empty) or Domain hold ';',
 * control or non-ASCII characters (Domain also space), or SameSite is not
 * Lax/Strict/None (any case). An empty Domain is treated as none.
 */
char *wos_cookie_format(apr_pool_t *p, const wos_cookie_attrs *a, const char *name,
                        const char *value);

/**
 * One Set-Cookie value that deletes @p name (empty value, Max-Age=0, past
 * Expires); NULL on the same grounds as wos_cookie_format.
 */
char *wos_cookie_format_delete(apr_pool_t *p, const wos_cookie_attrs *a, const char *name);

/**
 * The Set-Cookie values that store @p value under @p name: one cookie when
 * name and value together fit WOS_COOKIE_MAX_BYTES, else <name>.0..N-1 of at
 * most @p chunk_size value bytes each; plus deletions of what @p old held
 * and the new set does not use (the unchunked name, or chunks past N-1).
 * WOS_ETOOBIG if more than WOS_COOKIE_MAX_CHUNKS would be needed.
 * A NULL @p value deletes everything @p old held (@p old may be NULL).
 * WOS_EINVAL (and *set_cookies NULL) for a chunk size outside
 * [WOS_COOKIE_MIN_CHUNK_SIZE, WOS_COOKIE_MAX_CHUNK_SIZE] or anything
 * wos_cookie_format refuses.
 */
wos_rv wos_cookie_store(apr_pool_t *p, const wos_cookie_attrs *a, const char *name,
                        const char *value, apr_size_t chunk_size,
                        const wos_cookie_in *old, apr_array_header_t **set_cookies);

#endif
