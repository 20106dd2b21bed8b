/**
 * @file wos_common.h
 * @brief Result codes and small helpers shared by the whole core.
 *
 * The core (everything in src/) never includes httpd headers: it depends on
 * APR, OpenSSL, jansson and curl only, so it is unit-tested without a server.
 */
#ifndef WOS_COMMON_H
#define WOS_COMMON_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

/** Result of every core operation that can fail. */
typedef enum {
    WOS_OK = 0,
    WOS_EINVAL,     /**< malformed input (bad format, wrong type, bad encoding) */
    WOS_ETOOBIG,    /**< input over a documented size cap, rejected before any work */
    WOS_EMAC,       /**< integrity check failed (no password/key verifies it) */
    WOS_EEXPIRED,   /**< well-formed and authentic, but past its expiry */
    WOS_ENOTYET,    /**< not valid yet (nbf/iat in the future beyond skew) */
    WOS_ENOKEY,     /**< no key with that kid */
    WOS_EDENIED,    /**< a policy rejected it (alg, header, issuer, redirect target) */
    WOS_EUPSTREAM,  /**< upstream said no for good (4xx, invalid_grant, ...) */
    WOS_EUNAVAIL,   /**< upstream unreachable or retryable (timeout, 429, 408, 5xx) */
    WOS_ECRYPTO,    /**< an internal crypto or library failure */
    WOS_EBUSY,      /**< a concurrent operation holds the lock; try the result later */
    WOS_ELIMIT      /**< a rate limit refused it; no call was made */
} wos_rv;

/** A short constant name for a result code ("ok", "invalid", "mac", ...). */
const char *wos_strerror(wos_rv rv);

/** Constant-time equality of two byte strings; different lengths compare unequal. */
int wos_ct_equal(const void *a, apr_size_t alen, const void *b, apr_size_t blen);

/** Constant-time equality of two NUL-terminated strings (either may be NULL: unequal). */
int wos_ct_streq(const char *a, const char *b);

/** Lowercase hex of @p len bytes, allocated in @p p. */
char *wos_hex(apr_pool_t *p, const unsigned char *buf, apr_size_t len);

/** SHA-256 of @p data as lowercase hex (64 chars): cache keys, log hashes. */
char *wos_sha256_hex(apr_pool_t *p, const void *data, apr_size_t len);

/** The first 12 hex chars of the SHA-256: a short, non-secret tag for log lines. */
char *wos_short_hash(apr_pool_t *p, const char *s);

/** Join an array of const char * with @p sep (NULL array: ""). */
char *wos_join(apr_pool_t *p, const apr_array_header_t *arr, const char *sep);

/** 1 if @p arr (of const char *) contains @p s (exact match). */
int wos_array_contains(const apr_array_header_t *arr, const char *s);

/** Current time in whole seconds since the epoch. */
apr_int64_t wos_now_sec(void);

#endif
