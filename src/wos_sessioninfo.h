/**
 * @file wos_sessioninfo.h
 * @brief The session endpoint's answer (WorkOSSessionInfoURI), as JSON.
 *
 * {"user":{"id","email","firstName","lastName","emailVerified",
 *  "profilePictureUrl"},"organizationId","role","roles","permissions",
 *  "entitlements","featureFlags","sessionId","impersonator":{"email",
 *  "reason"},"accessTokenExpiresAt"[,"accessToken"]}
 *
 * Every key is always there (null when unknown, [] for an empty list), so
 * a page can read the answer without checking for keys. Lists and the
 * organization come from the verified token (organization: the session's
 * when the token has none); user fields from the session.
 * accessTokenExpiresAt is the token's exp (seconds since the epoch).
 */
#ifndef WOS_SESSIONINFO_H
#define WOS_SESSIONINFO_H

#include "wos_jwt.h"
#include "wos_session.h"

/** The answer for @p s and its verified @p c; the access token only with @p with_token. */
char *wos_sessioninfo_json(apr_pool_t *p, const wos_session *s, const wos_claims *c,
                           int with_token);

/** The answer when there is no usable session (with a 401). */
#define WOS_SESSIONINFO_UNAUTHENTICATED "{\"error\":\"unauthenticated\"}"

#endif
