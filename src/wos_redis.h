/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_redis.h
 * @brief The module's own redis store (hiredis): a wos_cache shared by
 *        several servers whose add is atomic (SET NX PX) and whose remove_if
 *        compares and deletes in one step (a Lua script), so the refresh lock
 *        is exact and released only by its holder.
 *
 * Every connect and every command is bounded by the configured timeout, so a
 * store that accepts connections and then says nothing (a paused process, a
 * network that drops packets) costs one timeout, and the caller decides what
 * to do next (the module's circuit breaker, wos_breaker.h). Connections are
 * kept per process and reused; one that failed is dropped, and the next call
 * connects again, to the next host of the list after a failure.
 */
#ifndef WOS_REDIS_H
#define WOS_REDIS_H

#include "wos_cache.h"

#define WOS_REDIS_DEFAULT_PORT 6379
/** WorkOSCacheTimeout's default: connect and each command (ms). */
#define WOS_REDIS_DEFAULT_TIMEOUT_MS 200

typedef struct wos_redis wos_redis;

typedef struct wos_redis_host {
    const char *host;
    int port;
} wos_redis_host;

typedef struct wos_redis_cfg {
    const apr_array_header_t *hosts; /**< wos_redis_host: used in order, the next after a failure */
    long timeout_ms;                 /**< connect and each command */
    const char *username;            /**< AUTH username password (redis 6 ACL), or NULL */
    const char *password;            /**< AUTH password, or NULL: no AUTH */
    int tls;                         /**< TLS (only where wos_redis_tls_available()) */
    const char *ca_file;             /**< TLS: CA bundle, NULL: the system's */
} wos_redis_cfg;

/**
 * Parse "host[:port][,host[:port]...]" (an IPv6 address in brackets) into
 * wos_redis_host entries. WOS_EINVAL with @p err saying what is wrong.
 */
wos_rv wos_redis_parse_hosts(apr_pool_t *p, const char *list, apr_array_header_t **hosts,
                             const char **err);

/** Whether this build can speak TLS to redis (hiredis_ssl was found). */
int wos_redis_tls_available(void);

/**
 * A store for this process, living in @p p (its connections are closed with
 * it). Nothing is connected yet: the first call connects.
 */
wos_rv wos_redis_create(apr_pool_t *p, const wos_redis_cfg *cfg, wos_redis **out,
                        const char **err);

/** The wos_cache to hand to the core (get answers WOS_EUNAVAIL when the store fails). */
const wos_cache *wos_redis_cache(wos_redis *r);

/** The last failure of this process's store ("host:port: timed out", ...), copied into @p p. */
const char *wos_redis_last_error(wos_redis *r, apr_pool_t *p);

#endif
