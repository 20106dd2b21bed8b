/**
 * @file wos_refresh.h
 * @brief Refresh with single flight: refresh tokens are single use, browsers
 *        send many requests at once, and every worker process may see them.
 *
 * One caller per refresh token takes a lock entry in the shared cache and
 * calls WorkOS; the others wait and reuse the stored result. Entries are
 * keyed by a hash of the refresh token, and the result is sealed with a key
 * derived from that token, so the cache holds nothing usable without it.
 *
 * Where the cache's add is not atomic (WOS_CACHE_RACY_ADD: redis, memcache
 * shared by several servers) the lock holds a random value, and a holder
 * calls only if the lock still holds its value WOS_REFRESH_CONFIRM_MS later;
 * two callers still both call when one took longer than that between its
 * check and its store. The one WorkOS then refuses (invalid_grant: the token
 * is spent) takes the other's result if it appears within
 * WOS_REFRESH_RECOVER_MS, and fails as before if it does not.
 */
#ifndef WOS_REFRESH_H
#define WOS_REFRESH_H

#include "wos_api.h"
#include "wos_cache.h"

/** How long a refresh result stays available to concurrent requests (s). */
#define WOS_REFRESH_RESULT_TTL 60

/** Racy add: how long a taken lock must keep this caller's value (ms). */
#define WOS_REFRESH_CONFIRM_MS 30

/** Racy add: how long a refused caller waits for a concurrent result (ms). */
#define WOS_REFRESH_RECOVER_MS 2000

/** What wos_refresh tells the log about (nothing secret in the text). */
typedef enum {
    WOS_REFRESH_NOTE_LOST_LOCK,   /**< another caller overwrote our lock: we wait */
    WOS_REFRESH_NOTE_RECOVERED,   /**< refused as spent; a concurrent result used */
    WOS_REFRESH_NOTE_UNRECOVERED  /**< refused as spent; no concurrent result came */
} wos_refresh_note;

typedef void wos_refresh_note_fn(void *baton, wos_refresh_note what, const char *msg);

/** How WorkOS is called (wos_api_refresh unless a test replaces it). */
typedef wos_rv wos_refresh_call_fn(apr_pool_t *p, const wos_api_cfg *c,
                                   const char *refresh_token, const char *organization_id,
                                   const char *ip_address, const char *user_agent,
                                   wos_auth_result **out, const char **err);

typedef struct wos_refresh_ctx {
    const wos_cache *cache;
    const wos_api_cfg *api;
    const char *ip_address;    /**< may be NULL */
    const char *user_agent;    /**< may be NULL */
    wos_refresh_call_fn *call; /**< NULL: wos_api_refresh */
    wos_refresh_note_fn *note; /**< NULL: nothing is told */
    void *note_baton;
    /** Asked by the one caller about to call WorkOS (not by those that share
     *  its result): anything but WOS_OK means no call, WOS_ELIMIT returned
     *  with (*out)->retry_after_sec. NULL: always called. */
    wos_rv (*gate)(void *baton, const char *subject, long *retry_after);
    void *gate_baton;
    const char *gate_subject;  /**< what the gate counts by (the session id) */
} wos_refresh_ctx;

/**
 * Refresh @p refresh_token (optionally into @p organization_id). WOS_OK with
 * (*out)->session; WOS_EUPSTREAM for a terminal failure ((*out)->error says
 * which); WOS_EUNAVAIL for a retryable one ((*out)->retry_after_sec);
 * WOS_ELIMIT when the gate refused the call.
 * *called is 1 when this call went to WorkOS itself (also when it then used
 * a concurrent caller's result).
 */
wos_rv wos_refresh(apr_pool_t *p, const wos_refresh_ctx *ctx, const char *refresh_token,
                   const char *organization_id, wos_auth_result **out, int *called,
                   const char **err);

#endif
