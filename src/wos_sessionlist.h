/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_sessionlist.h
 * @brief A user's WorkOS sessions: list them, revoke one, and the JSON the
 *        sessions endpoint (WorkOSSessionsURI) answers with.
 *
 * GET {base}/user_management/users/{user_id}/sessions and POST
 * {base}/user_management/sessions/revoke {"session_id"}, both with the API
 * key as a bearer token. Outcomes as in wos_api.h: WOS_OK, WOS_EUNAVAIL
 * (retryable: 408, 429, 5xx, no answer), WOS_EUPSTREAM (refused: other
 * 4xx, 401 being our own API key), WOS_EINVAL (nothing sent).
 */
#ifndef WOS_SESSIONLIST_H
#define WOS_SESSIONLIST_H

#include "wos_api.h"

/** Pages of 100 sessions read at most (a user with more sees the newest). */
#define WOS_SESSIONLIST_MAX_PAGES 5
#define WOS_SESSIONLIST_PAGE 100
/** Largest answer accepted per page. */
#define WOS_SESSIONLIST_MAX_BODY (512 * 1024)

typedef struct wos_user_session {
    const char *id;
    const char *created_at, *expires_at;    /**< ISO 8601 as WorkOS writes them */
    const char *ip_address, *user_agent;    /**< NULL when WorkOS has none */
    const char *auth_method;
} wos_user_session;

/**
 * Parse one page of the list into @p into (wos_user_session), active ones
 * only (status "active"; an entry without status counts as active), and
 * its list_metadata.after into *after (NULL: last page). WOS_EINVAL for
 * anything that is not such a page; entries without an id are skipped.
 */
wos_rv wos_sessionlist_parse(apr_pool_t *p, const char *json, apr_size_t len,
                             apr_array_header_t *into, const char **after);

/** The active sessions of @p user_id, newest first as WorkOS orders them. */
wos_rv wos_sessionlist_fetch(apr_pool_t *p, const wos_api_cfg *c, const char *user_id,
                             apr_array_header_t **out, long *retry_after, const char **err);

/** Revoke @p session_id (a 404, a session gone meanwhile, counts as done). */
wos_rv wos_sessionlist_revoke(apr_pool_t *p, const wos_api_cfg *c, const char *session_id,
                              long *retry_after, const char **err);

/** The entry of @p id in @p list, or NULL. */
const wos_user_session *wos_sessionlist_find(const apr_array_header_t *list, const char *id);

/**
 * {"sessions":[{"id","createdAt","expiresAt","ipAddress","userAgent",
 * "authMethod","current"}]} with current true for @p current_sid.
 */
char *wos_sessionlist_json(apr_pool_t *p, const apr_array_header_t *list,
                           const char *current_sid);

/**
 * {"revoked":[ids],"signedOut":bool} (with "error" first when @p error is
 * set: some were revoked before a call failed).
 */
char *wos_sessionlist_revoked_json(apr_pool_t *p, const apr_array_header_t *ids,
                                   int signed_out, const char *error);

#endif
