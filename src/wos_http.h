/**
 * @file wos_http.h
 * @brief The one place that talks HTTP (libcurl): bounded, verified, quiet.
 */
#ifndef WOS_HTTP_H
#define WOS_HTTP_H

#include "wos_common.h"

typedef struct wos_http_opts {
    long connect_timeout_ms;   /**< connect timeout */
    long timeout_ms;           /**< total timeout */
    const char *ca_file;       /**< NULL: the system trust store */
    apr_size_t max_response;   /**< a larger body is an error (WOS_ETOOBIG) */
} wos_http_opts;

typedef struct wos_http_response {
    long status;
    char *body;                /**< NUL-terminated */
    apr_size_t len;
    const char *content_type;  /**< may be NULL */
    long retry_after_sec;      /**< from Retry-After (delta-seconds), -1 if absent */
} wos_http_response;

/** Once per process, before threads: curl_global_init. */
wos_rv wos_http_global_init(void);
void wos_http_global_cleanup(void);

/**
 * GET @p url. Only http and https are allowed (also on redirects, which are
 * not followed), TLS peers are verified, signals are not used. A transport
 * failure or timeout is WOS_EUNAVAIL; any HTTP status is WOS_OK with
 * (*out)->status set.
 */
wos_rv wos_http_get(apr_pool_t *p, const wos_http_opts *o, const char *url,
                    wos_http_response **out, const char **err);

/** POST a JSON body (Content-Type: application/json), same rules as wos_http_get. */
wos_rv wos_http_post_json(apr_pool_t *p, const wos_http_opts *o, const char *url,
                          const char *json, wos_http_response **out, const char **err);

#endif
