/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_session_sdk.h
 * @brief The session payload in the shape the Ruby and Python SDKs seal.
 *
 * {"access_token", "refresh_token", "user", "impersonator"?}: snake_case,
 * `user` the API's own user object. Ruby writes compact JSON with raw UTF-8
 * (JSON.generate); Python writes json.dumps' defaults (", " and ": ",
 * non-ASCII escaped). The module always writes `user` (Python's refresh
 * needs it) and reads a session only when it has one with an `id`: that is
 * the identity the access token's `sub` is checked against.
 */
#ifndef WOS_SESSION_SDK_H
#define WOS_SESSION_SDK_H

#include "wos_session.h"

/** Which SDK's JSON style to write. */
typedef enum { WOS_SDK_JSON_RUBY, WOS_SDK_JSON_PYTHON } wos_sdk_json;

/**
 * Parse an unsealed Ruby or Python payload. access_token, refresh_token and
 * user.id must be non-empty strings; user's email, first_name, last_name
 * (string or null) and email_verified (boolean) are type-checked;
 * impersonator may be absent, null, the string "null" (Ruby 5/6) or
 * {"email", "reason"?}; organization_id (Ruby 5/6) is read when present.
 * (*out)->api_user keeps the user object, so a re-seal writes it unchanged.
 */
wos_rv wos_session_parse_sdk(apr_pool_t *p, const char *json, apr_size_t len,
                             wos_session **out, const char **err);

/**
 * Serialise for @p style; `user` is s->api_user when known, else built from
 * the struct's fields under the API's names. NULL on the same grounds as
 * wos_session_serialize.
 */
char *wos_session_serialize_sdk(apr_pool_t *p, const wos_session *s, wos_sdk_json style);

#endif
