/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_api.h
 * @brief The WorkOS User Management API as the module uses it.
 *
 * Request bodies are built with jansson, never by pasting strings. Answers
 * are classified into three outcomes: WOS_OK (a session), WOS_EUNAVAIL
 * (retryable: keep the session and try later) and WOS_EUPSTREAM (refused:
 * wos_api_refusal tells whether that is the session's end or the module's
 * own problem).
 * WOS_EINVAL means bad arguments or configuration: nothing was sent.
 */
#ifndef WOS_API_H
#define WOS_API_H

#include "wos_common.h"
#include "wos_http.h"
#include "wos_session.h"

typedef struct wos_api_cfg {
    const char *base_url;      /**< e.g. "https://api.workos.com", no trailing slash */
    const char *client_id;
    const char *api_key;       /**< sent as client_secret; never logged */
    wos_http_opts http;
} wos_api_cfg;

/** Longest `error` kept from an answer (bytes; longer is cut). */
#define WOS_API_MAX_ERROR_LEN 64
/** Longest `error_description` kept from an answer (bytes; longer is cut). */
#define WOS_API_MAX_DESCRIPTION_LEN 256
/** Longest `authkit_redirect_url` kept (a longer one is dropped, not cut). */
#define WOS_API_MAX_REDIRECT_LEN 2048
/** Longest error body parsed for error fields; a larger one is not read. */
#define WOS_API_MAX_ERROR_BODY (64 * 1024)
/** A longer user agent is not sent to WorkOS (it is only advisory). */
#define WOS_API_MAX_USER_AGENT 1024

/**
 * What came back from POST /user_management/authenticate.
 *
 * `error` is WorkOS's `error` (OAuth style) or `code` (code style) when the
 * answer has one, else one of our own: "unauthorized" (401: a bad API key),
 * "http_<status>" (no usable error field), "invalid_response" (a 200 that is
 * not a valid session), "response_too_large", "transport_error" (no answer).
 * `error` and `error_description` are bounded and hold printable ASCII only
 * (anything else becomes '?').
 */
typedef struct wos_auth_result {
    wos_session *session;      /**< on success */
    const char *authkit_redirect_url; /**< with sso_required/mfa_enrollment, when given */
    const char *raw_json;      /**< on success: the answer, for the shared refresh-result cache */
    long http_status;          /**< 0 when no answer came */
    const char *error;         /**< "invalid_grant", "mfa_enrollment", "sso_required", ... */
    const char *error_description;
    long retry_after_sec;      /**< retryable failures: seconds, or -1 */
} wos_auth_result;

/** Whose problem a refusal (WOS_EUPSTREAM) is. */
typedef enum {
    WOS_REFUSAL_SESSION,       /**< the session is over: invalid_grant, ... (sign in again) */
    WOS_REFUSAL_INTERACTION,   /**< the user must act first: sso_required, mfa_enrollment */
    WOS_REFUSAL_CLIENT         /**< WorkOS refuses the module: 401, invalid_client, a 4xx
                                    without a WorkOS error (a proxy, a WAF), ... */
} wos_refusal;

/**
 * Whose problem the refusal with @p error (wos_auth_result.error) is. Only
 * what WorkOS names as the session's or the user's problem counts against
 * the session; everything else (401 "unauthorized", "invalid_client",
 * "invalid_request", "http_<status>", unknown codes) is the module's own
 * (an operator's) problem, never a reason to end a session.
 */
wos_refusal wos_api_refusal(const char *error);

/**
 * Classify an authenticate answer: WOS_OK for 200 with a valid session,
 * WOS_EUNAVAIL for retryable outcomes (408, 429, 5xx, transport errors, and
 * a 200 that is not a valid session or any other non-4xx status such as a
 * 3xx), WOS_EUPSTREAM for refusals (400 invalid_grant / sso_required,
 * 403 {"code":...}, other 4xx, and 401, a bad API key: wos_api_refusal of
 * the error says whose). Fills @p r (zeroed
 * first); retry_after_sec is set only for retryable outcomes. @p resp NULL
 * is a transport error. On failure *err is a log line naming the status and
 * the sanitised error code, never a token or the body.
 */
wos_rv wos_api_classify(apr_pool_t *p, const wos_http_response *resp, wos_auth_result *r,
                        const char **err);

/**
 * grant_type=authorization_code with the PKCE verifier (may be NULL).
 * @p ip_address and @p user_agent are optional (NULL or "" leaves them out;
 * a user agent that is not UTF-8 or is longer than WOS_API_MAX_USER_AGENT is
 * left out too). *out is always set unless WOS_EINVAL is returned; the
 * result is that of wos_api_classify, or WOS_EUNAVAIL with error
 * "transport_error"/"response_too_large" when no usable answer came.
 */
wos_rv wos_api_authenticate_code(apr_pool_t *p, const wos_api_cfg *c, const char *code,
                                 const char *code_verifier, const char *ip_address,
                                 const char *user_agent, wos_auth_result **out,
                                 const char **err);

/** grant_type=refresh_token, optionally switching to @p organization_id (same rules). */
wos_rv wos_api_refresh(apr_pool_t *p, const wos_api_cfg *c, const char *refresh_token,
                       const char *organization_id, const char *ip_address,
                       const char *user_agent, wos_auth_result **out, const char **err);

/**
 * GET {base}/sso/jwks/{url-encoded client_id}, at most WOS_JWKS_MAX_SIZE
 * bytes; the body on a 200, WOS_EUNAVAIL otherwise (also when too large),
 * WOS_EINVAL when base_url/client_id is missing or the URL is unusable.
 */
wos_rv wos_api_fetch_jwks(apr_pool_t *p, const wos_api_cfg *c, const char **doc,
                          apr_size_t *len, const char **err);

typedef struct wos_authorize_params {
    const char *redirect_uri;
    const char *state;
    const char *code_challenge;  /**< S256 */
    const char *provider;        /**< default "authkit"; not sent with a connection */
    const char *connection_id;
    const char *organization_id;
    const char *screen_hint;     /**< "sign-up" or NULL */
    const char *login_hint;
    const char *prompt;          /**< "login" or NULL */
} wos_authorize_params;

/**
 * {base}/user_management/authorize?... with every value URL-encoded:
 * client_id, redirect_uri, response_type=code, state, code_challenge and
 * code_challenge_method=S256 (when a challenge is given), then either
 * connection_id (and organization_id when set: SSO only, no AuthKit) or
 * provider (default "authkit") and organization_id when set, then
 * screen_hint (only with provider=authkit), login_hint and prompt.
 * NULL when base_url, client_id, redirect_uri or state is missing or empty.
 */
char *wos_api_authorize_url(apr_pool_t *p, const wos_api_cfg *c, const wos_authorize_params *a);

/**
 * {base}/user_management/sessions/logout?session_id=..&return_to=..
 * (return_to left out when NULL). NULL when base_url or session_id is missing.
 */
char *wos_api_logout_url(apr_pool_t *p, const wos_api_cfg *c, const char *session_id,
                         const char *return_to);

/** {base}{path} (a trailing slash of the configured base tolerated). */
char *wos_api_url(apr_pool_t *p, const wos_api_cfg *c, const char *path);

/**
 * Query component encoding: RFC 3986 unreserved characters (A-Z a-z 0-9
 * - . _ ~) kept, every other byte as %XX (uppercase hex; space is %20).
 * NULL encodes as "".
 */
char *wos_url_encode(apr_pool_t *p, const char *s);

#endif
