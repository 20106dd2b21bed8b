/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_http.h
 * @brief The one place that talks HTTP (libcurl): bounded, verified, quiet.
 *
 * Every request: http and https only (redirects are never followed), TLS
 * peer and host verified, no signals, explicit connect and total timeouts,
 * the body capped at max_response, `Accept: application/json` and
 * `User-Agent: mod_auth_workos/<version>`. Error strings name the curl
 * failure but never the URL's query, a header value or a body.
 *
 * Handles: one curl easy handle per call for now. Getting and releasing the
 * handle are two private functions in wos_http.c, so a later change can keep
 * handles (per thread, reset with curl_easy_reset) without touching callers.
 */
#ifndef WOS_HTTP_H
#define WOS_HTTP_H

#include "wos_common.h"

/** Connect timeout used when wos_http_opts.connect_timeout_ms is 0 or less. */
#define WOS_HTTP_DEFAULT_CONNECT_MS 5000
/** Total timeout used when wos_http_opts.timeout_ms is 0 or less. */
#define WOS_HTTP_DEFAULT_TIMEOUT_MS 10000
/** Body cap used when wos_http_opts.max_response is 0 (never unbounded). */
#define WOS_HTTP_DEFAULT_MAX_RESPONSE (64 * 1024)
/** Retry-After values are clamped to [0, this] seconds. */
#define WOS_HTTP_MAX_RETRY_AFTER 3600
/** Content-Type values longer than this are dropped (NULL). */
#define WOS_HTTP_MAX_CONTENT_TYPE 256

/** Idle curl handles kept per process, so calls reuse connections (and TLS sessions). */
typedef struct wos_http_handles wos_http_handles;

/** A thread-safe keeper of at most @p max idle handles, freed with @p p. */
wos_rv wos_http_handles_create(apr_pool_t *p, int max, wos_http_handles **out);

typedef struct wos_http_opts {
    long connect_timeout_ms;   /**< connect timeout; <= 0: WOS_HTTP_DEFAULT_CONNECT_MS */
    long timeout_ms;           /**< total timeout; <= 0: WOS_HTTP_DEFAULT_TIMEOUT_MS */
    const char *ca_file;       /**< NULL: the system trust store */
    apr_size_t max_response;   /**< a larger body is an error (WOS_ETOOBIG); 0: the default */
    wos_http_handles *handles; /**< NULL: a new handle (and connection) per call */
} wos_http_opts;

typedef struct wos_http_response {
    long status;
    char *body;                /**< NUL-terminated, never NULL ("" when empty) */
    apr_size_t len;
    const char *content_type;  /**< may be NULL */
    long retry_after_sec;      /**< from Retry-After (delta-seconds or HTTP-date),
                                    clamped to [0, 3600]; -1 if absent or unparsable */
} wos_http_response;

/** Once per process, before threads: curl_global_init. */
wos_rv wos_http_global_init(void);
void wos_http_global_cleanup(void);

/**
 * GET @p url. Only http and https are allowed (also on redirects, which are
 * not followed), TLS peers are verified, signals are not used. Any HTTP
 * status is WOS_OK with (*out)->status set. Failures:
 * - WOS_EUNAVAIL: transport failure or timeout (no usable answer);
 * - WOS_ETOOBIG: the body is larger than max_response;
 * - WOS_EINVAL: a missing/malformed URL or a scheme other than http/https
 *   (nothing was sent).
 * *out is NULL on failure.
 */
wos_rv wos_http_get(apr_pool_t *p, const wos_http_opts *o, const char *url,
                    wos_http_response **out, const char **err);

/** POST a JSON body (Content-Type: application/json), same rules as wos_http_get. */
wos_rv wos_http_post_json(apr_pool_t *p, const wos_http_opts *o, const char *url,
                          const char *json, wos_http_response **out, const char **err);

/**
 * GET (@p json NULL) or POST @p json with `Authorization: Bearer <bearer>`
 * (the API key of the management endpoints; never logged), same rules.
 */
wos_rv wos_http_call_bearer(apr_pool_t *p, const wos_http_opts *o, const char *url,
                            const char *json, const char *bearer, wos_http_response **out,
                            const char **err);

#endif
