/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_session.h
 * @brief The session payload, in the exact JSON shape the WorkOS Node SDK seals.
 *
 * {"organizationId"?, "user":{camelCase user}, "accessToken", "refreshToken",
 *  "authenticationMethod"?, "impersonator"?:{"email","reason"}}
 *
 * Optional fields that are JSON null read as absent (NULL). The known user
 * fields are type-checked (string, string-or-null, boolean, object) in both
 * directions; unknown keys are ignored at the top level and kept in `user`.
 */
#ifndef WOS_SESSION_H
#define WOS_SESSION_H

#include <jansson.h>
#include "wos_common.h"

typedef struct wos_session {
    const char *access_token;            /**< required */
    const char *refresh_token;           /**< required */
    const char *organization_id;         /**< NULL when absent */
    const char *authentication_method;   /**< NULL when absent */
    const char *impersonator_email;      /**< NULL when not impersonating */
    const char *impersonator_reason;     /**< NULL when absent */
    const char *user_id;                 /**< required: user.id */
    const char *user_email;
    const char *user_first_name;
    const char *user_last_name;
    int user_email_verified;             /**< 1, 0, or -1 when absent */
    json_t *user;                        /**< the whole camelCase user object (pool-owned);
                                              what serialize writes, so its "id" must
                                              equal user_id. NULL: built from the fields */
    json_t *api_user;                    /**< the user object as the API sent it (snake_case,
                                              what the Ruby and Python SDKs seal), or NULL */
} wos_session;

/** The names a user object's fields go by in one SDK's payload. */
typedef struct wos_user_names {
    const char *first_name, *last_name, *email_verified;
} wos_user_names;

/** camelCase (the Node SDK's session) and snake_case (the API's, Ruby's, Python's). */
extern const wos_user_names wos_user_names_camel, wos_user_names_snake;

/**
 * The struct's view of a user object: `id` required and non-empty, email and
 * names optional strings, the verified flag an optional boolean.
 * @return WOS_OK, or WOS_EINVAL with *err saying which field.
 */
wos_rv wos_session_read_user(apr_pool_t *p, const json_t *user, const wos_user_names *names,
                             wos_session *s, const char **err);

/** A user object made from the struct's fields, with @p names' field names (caller owns). */
json_t *wos_session_user_from_fields(const wos_session *s, const wos_user_names *names);

/** {"email", "reason": string|null} of the impersonator (caller owns), or NULL. */
json_t *wos_session_impersonator_json(const wos_session *s);

/** Largest session JSON accepted (bytes). */
#define WOS_SESSION_MAX_SIZE (48 * 1024)

/**
 * Parse an unsealed cookie payload. accessToken, refreshToken and user.id
 * must be strings; any present field of the wrong type is WOS_EINVAL.
 */
wos_rv wos_session_parse(apr_pool_t *p, const char *json, apr_size_t len,
                         wos_session **out, const char **err);

/**
 * Build a session from a 200 answer of POST /user_management/authenticate
 * (snake_case), converting `user` as the SDK's deserializeUser does (its key
 * order; name and externalId null and metadata {} when absent; unmapped keys
 * dropped). Like the SDK, organizationId is the access token's org_id (read,
 * not verified); only a token whose payload cannot be read falls back to the
 * answer's organization_id. Over 4 * WOS_SESSION_MAX_SIZE: WOS_ETOOBIG.
 */
wos_rv wos_session_from_auth_response(apr_pool_t *p, const char *json, apr_size_t len,
                                      wos_session **out, const char **err);

/**
 * Serialise in the Node SDK's shape (what wos_seal then seals): keys in the
 * order sealSessionDataFromAuthenticationResponse writes them, absent ones
 * left out, impersonator.reason null when unknown. NULL when a required field
 * is missing or empty, a string is not UTF-8, `user`'s id is not user_id, or
 * the result would exceed WOS_SESSION_MAX_SIZE (it could not be read back).
 */
char *wos_session_serialize(apr_pool_t *p, const wos_session *s);

#endif
