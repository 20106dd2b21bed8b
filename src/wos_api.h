/**
 * @file wos_api.h
 * @brief The WorkOS User Management API as the module uses it.
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

/** What came back from POST /user_management/authenticate. */
typedef struct wos_auth_result {
    wos_session *session;      /**< on success */
    const char *raw_json;      /**< on success: the answer, for the shared refresh-result cache */
    long http_status;          /**< 0 when no answer came */
    const char *error;         /**< "invalid_grant", "mfa_enrollment", "sso_required", ... */
    const char *error_description;
    long retry_after_sec;      /**< retryable failures: seconds, or -1 */
} wos_auth_result;

/**
 * Classify an authenticate answer: WOS_OK for 200 with a valid session,
 * WOS_EUNAVAIL for retryable outcomes (408, 429, 5xx, transport errors),
 * WOS_EUPSTREAM for terminal ones (400 invalid_grant / sso_required, 403
 * {"code":...}, other 4xx, and 401, a bad API key). Fills @p r.
 */
wos_rv wos_api_classify(apr_pool_t *p, const wos_http_response *resp, wos_auth_result *r,
                        const char **err);

/** grant_type=authorization_code with the PKCE verifier (may be NULL). */
wos_rv wos_api_authenticate_code(apr_pool_t *p, const wos_api_cfg *c, const char *code,
                                 const char *code_verifier, const char *ip_address,
                                 const char *user_agent, wos_auth_result **out,
                                 const char **err);

/** grant_type=refresh_token, optionally switching to @p organization_id. */
wos_rv wos_api_refresh(apr_pool_t *p, const wos_api_cfg *c, const char *refresh_token,
                       const char *organization_id, const char *ip_address,
                       const char *user_agent, wos_auth_result **out, const char **err);

/** GET {base}/sso/jwks/{client_id}; the body on a 200 (WOS_EUNAVAIL otherwise). */
wos_rv wos_api_fetch_jwks(apr_pool_t *p, const wos_api_cfg *c, const char **doc,
                          apr_size_t *len, const char **err);

typedef struct wos_authorize_params {
    const char *redirect_uri;
    const char *state;
    const char *code_challenge;  /**< S256 */
    const char *provider;        /**< "authkit" unless connection/organization is set */
    const char *connection_id;
    const char *organization_id;
    const char *screen_hint;     /**< "sign-up" or NULL */
    const char *login_hint;
} wos_authorize_params;

/** {base}/user_management/authorize?... with every value URL-encoded. */
char *wos_api_authorize_url(apr_pool_t *p, const wos_api_cfg *c, const wos_authorize_params *a);

/** {base}/user_management/sessions/logout?session_id=..&return_to=.. */
char *wos_api_logout_url(apr_pool_t *p, const wos_api_cfg *c, const char *session_id,
                         const char *return_to);

/** application/x-www-form-urlencoded / query component encoding. */
char *wos_url_encode(apr_pool_t *p, const char *s);

#endif
