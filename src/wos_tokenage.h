/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_tokenage.h
 * @brief WorkOSTokenMaxAge: how long an access token is used before it is
 *        exchanged for a fresh one, whatever its own expiry says.
 *
 * A refresh is where WorkOS says whether a session still stands (revoked
 * sessions are refused) and what its roles and permissions are now, so the
 * age of the token in use bounds how stale either can be.
 */
#ifndef WOS_TOKENAGE_H
#define WOS_TOKENAGE_H

#include "wos_jwt.h"

/** No limit (WorkOSTokenMaxAge off). */
#define WOS_TOKENAGE_OFF 0

/**
 * Until when (seconds) @p c may be used under @p max_age: its iat plus
 * @p max_age; INT64_MAX when @p max_age is WOS_TOKENAGE_OFF (or less), and 0
 * (due now) for a token without iat, whose age is unknown.
 */
apr_int64_t wos_tokenage_until(const wos_claims *c, int max_age);

/** Whether @p c is due for a refresh at @p now because of its age. */
int wos_tokenage_due(const wos_claims *c, int max_age, apr_int64_t now);

#endif
