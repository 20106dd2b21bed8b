/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_api.c: the WorkOS User Management calls (authenticate, JWKS) and the
 * browser URLs (authorize, logout), plus the classification of answers into
 * success, retryable and terminal (docs/workos-protocol.md section 3).
 */
#include <string.h>
#include <apr_strings.h>

#include "wos_api.h"
#include "wos_json.h"
#include "wos_jwks.h"

/* ---- URLs ---------------------------------------------------------------- */

static int is_unreserved(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')
        || ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

char *wos_url_encode(apr_pool_t *p, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *in = (const unsigned char *)(s ? s : "");
    char *out = apr_palloc(p, strlen((const char *)in) * 3 + 1), *w = out;

    for (; *in; in++) {
        if (is_unreserved(*in)) {
            *w++ = (char)*in;
            continue;
        }
        *w++ = '%';
        *w++ = hex[*in >> 4];
        *w++ = hex[*in & 0x0f];
    }
    *w = '\0';
    return out;
}

static int present(const char *s)
{
    return s && *s;
}

/* {base}{path}, tolerating a trailing slash on the configured base. */
static char *api_url(apr_pool_t *p, const wos_api_cfg *c, const char *path)
{
    apr_size_t n = strlen(c->base_url);

    while (n && c->base_url[n - 1] == '/')
        n--;
    return apr_pstrcat(p, apr_pstrmemdup(p, c->base_url, n), path, NULL);
}

/* Append "key=<encoded value>" when the value is set. */
static void query_add(apr_array_header_t *q, const char *key, const char *val)
{
    if (val)
        APR_ARRAY_PUSH(q, const char *) =
            apr_pstrcat(q->pool, key, "=", wos_url_encode(q->pool, val), NULL);
}

/* A connection goes straight to its SSO provider (no AuthKit); otherwise
 * provider=authkit, scoped to the organization when there is one (as
 * authkit-nextjs sends them: both). */
static void authorize_target(apr_array_header_t *q, const wos_authorize_params *a)
{
    const char *provider = present(a->provider) ? a->provider : "authkit";
    const char *org = present(a->organization_id) ? a->organization_id : NULL;

    if (present(a->connection_id)) {
        query_add(q, "connection_id", a->connection_id);
        query_add(q, "organization_id", org);
        return;
    }
    query_add(q, "provider", provider);
    query_add(q, "organization_id", org);
    /* screen_hint is an AuthKit parameter; other providers reject it. */
    if (present(a->screen_hint) && strcmp(provider, "authkit") == 0)
        query_add(q, "screen_hint", a->screen_hint);
}

char *wos_api_authorize_url(apr_pool_t *p, const wos_api_cfg *c, const wos_authorize_params *a)
{
    apr_array_header_t *q;

    if (!c || !a || !present(c->base_url) || !present(c->client_id)
        || !present(a->redirect_uri) || !present(a->state))
        return NULL;
    q = apr_array_make(p, 10, sizeof(const char *));
    query_add(q, "client_id", c->client_id);
    query_add(q, "redirect_uri", a->redirect_uri);
    query_add(q, "response_type", "code");
    query_add(q, "state", a->state);
    if (present(a->code_challenge)) {
        query_add(q, "code_challenge", a->code_challenge);
        query_add(q, "code_challenge_method", "S256");
    }
    authorize_target(q, a);
    if (present(a->login_hint))
        query_add(q, "login_hint", a->login_hint);
    if (present(a->prompt))
        query_add(q, "prompt", a->prompt);
    return apr_pstrcat(p, api_url(p, c, "/user_management/authorize?"),
                       wos_join(p, q, "&"), NULL);
}

char *wos_api_logout_url(apr_pool_t *p, const wos_api_cfg *c, const char *session_id,
                         const char *return_to)
{
    apr_array_header_t *q;

    if (!c || !present(c->base_url) || !present(session_id))
        return NULL;
    q = apr_array_make(p, 2, sizeof(const char *));
    query_add(q, "session_id", session_id);
    query_add(q, "return_to", return_to);
    return apr_pstrcat(p, api_url(p, c, "/user_management/sessions/logout?"),
                       wos_join(p, q, "&"), NULL);
}

char *wos_api_url(apr_pool_t *p, const wos_api_cfg *c, const char *path)
{
    return api_url(p, c, path);
}

/* ---- classification ------------------------------------------------------ */

/* At most @p max bytes, printable ASCII only: safe in a log line. */
static const char *sanitize(apr_pool_t *p, const char *s, apr_size_t max)
{
    apr_size_t n = strlen(s), i;
    char *out;

    if (n > max)
        n = max;
    out = apr_pstrmemdup(p, s, n);
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)out[i];
        if (ch < 0x20 || ch > 0x7e)
            out[i] = '?';
    }
    return out;
}

/* The first of two keys that holds a non-empty string, sanitised. */
static const char *either_string(apr_pool_t *p, const json_t *o, const char *k1,
                                 const char *k2, apr_size_t max)
{
    const char *v = NULL;

    if (wos_json_get_string(p, o, k1, 1, &v) != WOS_OK || !*v)
        if (wos_json_get_string(p, o, k2, 1, &v) != WOS_OK || !*v)
            return NULL;
    return sanitize(p, v, max);
}

/* Where AuthKit asks the browser to go (sso_required, mfa_enrollment): an
 * http(s) URL of printable ASCII without spaces, as a Location header needs. */
static const char *redirect_field(apr_pool_t *p, const json_t *doc)
{
    const char *v = NULL, *c;

    if (wos_json_get_string(p, doc, "authkit_redirect_url", 1, &v) != WOS_OK
        || (strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0)
        || strlen(v) > WOS_API_MAX_REDIRECT_LEN)
        return NULL;
    for (c = v; *c; c++) {
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
            return NULL;
    }
    return v;
}

/* error / error_description (OAuth style) or code / message (code style). */
static void error_fields(apr_pool_t *p, const wos_http_response *resp, wos_auth_result *r)
{
    json_t *doc = NULL;
    const char *jerr;

    if (resp->len && resp->len <= WOS_API_MAX_ERROR_BODY
        && wos_json_parse(p, resp->body, resp->len, &doc, &jerr) == WOS_OK) {
        r->error = either_string(p, doc, "error", "code", WOS_API_MAX_ERROR_LEN);
        r->error_description = either_string(p, doc, "error_description", "message",
                                             WOS_API_MAX_DESCRIPTION_LEN);
        r->authkit_redirect_url = redirect_field(p, doc);
    }
    if (!r->error)
        r->error = apr_psprintf(p, "http_%03ld", resp->status);
}

/* The refusals that are a verdict on the session or the user; the rest are ours. */
static const struct { const char *error; wos_refusal kind; } refusals[] = {
    {"invalid_grant",                         WOS_REFUSAL_SESSION},
    {"organization_membership_not_found",     WOS_REFUSAL_SESSION},
    {"email_verification_required",           WOS_REFUSAL_SESSION},
    {"organization_selection_required",       WOS_REFUSAL_SESSION},
    {"mfa_challenge",                         WOS_REFUSAL_SESSION},
    {"organization_authentication_methods_required", WOS_REFUSAL_SESSION},
    {"sso_required",                          WOS_REFUSAL_INTERACTION},
    {"mfa_enrollment",                        WOS_REFUSAL_INTERACTION},
};

wos_refusal wos_api_refusal(const char *error)
{
    apr_size_t i;

    for (i = 0; error && i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        if (strcmp(error, refusals[i].error) == 0)
            return refusals[i].kind;
    }
    return WOS_REFUSAL_CLIENT;
}

static int is_retryable_status(long s)
{
    return s == 408 || s == 429 || (s >= 500 && s <= 599);
}

static wos_rv classify_ok(apr_pool_t *p, const wos_http_response *resp, wos_auth_result *r,
                          const char **err)
{
    const char *serr = NULL;
    wos_rv rv = wos_session_from_auth_response(p, resp->body, resp->len, &r->session, &serr);

    if (rv == WOS_OK && r->session) {
        r->raw_json = resp->body;
        return WOS_OK;
    }
    /* Possibly a proxy or a truncated answer: not a verdict on the session. */
    r->session = NULL;
    r->error = "invalid_response";
    r->retry_after_sec = resp->retry_after_sec;
    /* Only the result name: a parser message may quote a fragment of a token. */
    *err = apr_psprintf(p, "WorkOS answered 200 without a valid session (%s)",
                        wos_strerror(rv == WOS_OK ? WOS_EINVAL : rv));
    return WOS_EUNAVAIL;
}

static wos_rv classify_failure(apr_pool_t *p, const wos_http_response *resp,
                               wos_auth_result *r, const char **err)
{
    long s = resp->status;

    error_fields(p, resp, r);
    if (s == 401) {
        r->error = "unauthorized";
        *err = "WorkOS rejected the API key (HTTP 401): check the configured API key";
        return WOS_EUPSTREAM;
    }
    if (s >= 400 && s <= 499 && !is_retryable_status(s)) {
        *err = apr_psprintf(p, "WorkOS refused the request (HTTP %ld, %s)", s, r->error);
        return WOS_EUPSTREAM;
    }
    r->retry_after_sec = resp->retry_after_sec;
    *err = apr_psprintf(p, "WorkOS unavailable (HTTP %ld, %s)", s, r->error);
    return WOS_EUNAVAIL;
}

wos_rv wos_api_classify(apr_pool_t *p, const wos_http_response *resp, wos_auth_result *r,
                        const char **err)
{
    memset(r, 0, sizeof(*r));
    r->retry_after_sec = -1;
    *err = NULL;
    if (!resp) {
        r->error = "transport_error";
        *err = "no answer from WorkOS";
        return WOS_EUNAVAIL;
    }
    r->http_status = resp->status;
    if (resp->status == 200)
        return classify_ok(p, resp, r, err);
    return classify_failure(p, resp, r, err);
}

/* ---- authenticate --------------------------------------------------------- */

static int cfg_ok(const wos_api_cfg *c)
{
    return c && present(c->base_url) && present(c->client_id) && present(c->api_key);
}

/* Set key to a UTF-8 string; 0 when @p v is not valid UTF-8. */
static int put_string(json_t *o, const char *key, const char *v)
{
    json_t *s = json_stringn(v, strlen(v));
    return s && json_object_set_new(o, key, s) == 0;
}

static int put_optional(json_t *o, const char *key, const char *v)
{
    return !present(v) || put_string(o, key, v);
}

/* The advisory user agent: dropped, not refused, when unusable. */
static void put_user_agent(json_t *o, const char *ua)
{
    if (present(ua) && strlen(ua) <= WOS_API_MAX_USER_AGENT)
        put_string(o, "user_agent", ua);
}

static json_t *body_new(apr_pool_t *p, const wos_api_cfg *c, const char *grant_type)
{
    json_t *o = wos_json_pool_own(p, json_object());

    if (!o || !put_string(o, "grant_type", grant_type) || !put_string(o, "client_id", c->client_id)
        || !put_string(o, "client_secret", c->api_key))
        return NULL;
    return o;
}

static wos_auth_result *transport_result(apr_pool_t *p, const char *error)
{
    wos_auth_result *r = apr_pcalloc(p, sizeof(*r));

    r->error = error;
    r->retry_after_sec = -1;
    return r;
}

/* POST the body and classify whatever comes back. */
static wos_rv authenticate(apr_pool_t *p, const wos_api_cfg *c, const json_t *body,
                           wos_auth_result **out, const char **err)
{
    wos_http_response *resp = NULL;
    const char *json = wos_json_dump(p, body);
    wos_rv rv;

    if (!json) {
        *err = "could not serialise the authenticate request";
        return WOS_EINVAL;
    }
    rv = wos_http_post_json(p, &c->http, api_url(p, c, "/user_management/authenticate"),
                            json, &resp, err);
    if (rv == WOS_EINVAL)
        return rv;
    if (rv != WOS_OK) {
        *out = transport_result(p, rv == WOS_ETOOBIG ? "response_too_large" : "transport_error");
        return WOS_EUNAVAIL;
    }
    *out = apr_pcalloc(p, sizeof(**out));
    return wos_api_classify(p, resp, *out, err);
}

wos_rv wos_api_authenticate_code(apr_pool_t *p, const wos_api_cfg *c, const char *code,
                                 const char *code_verifier, const char *ip_address,
                                 const char *user_agent, wos_auth_result **out,
                                 const char **err)
{
    json_t *b;

    *out = NULL;
    *err = NULL;
    if (!cfg_ok(c) || !present(code)) {
        *err = "authenticate: missing configuration or authorization code";
        return WOS_EINVAL;
    }
    b = body_new(p, c, "authorization_code");
    if (!b || !put_string(b, "code", code) || !put_optional(b, "code_verifier", code_verifier)
        || !put_optional(b, "ip_address", ip_address)) {
        *err = "authenticate: a parameter is not valid UTF-8";
        return WOS_EINVAL;
    }
    put_user_agent(b, user_agent);
    return authenticate(p, c, b, out, err);
}

wos_rv wos_api_refresh(apr_pool_t *p, const wos_api_cfg *c, const char *refresh_token,
                       const char *organization_id, const char *ip_address,
                       const char *user_agent, wos_auth_result **out, const char **err)
{
    json_t *b;

    *out = NULL;
    *err = NULL;
    if (!cfg_ok(c) || !present(refresh_token)) {
        *err = "refresh: missing configuration or refresh token";
        return WOS_EINVAL;
    }
    b = body_new(p, c, "refresh_token");
    if (!b || !put_string(b, "refresh_token", refresh_token)
        || !put_optional(b, "organization_id", organization_id)
        || !put_optional(b, "ip_address", ip_address)) {
        *err = "refresh: a parameter is not valid UTF-8";
        return WOS_EINVAL;
    }
    put_user_agent(b, user_agent);
    return authenticate(p, c, b, out, err);
}

/* ---- JWKS ---------------------------------------------------------------- */

wos_rv wos_api_fetch_jwks(apr_pool_t *p, const wos_api_cfg *c, const char **doc,
                          apr_size_t *len, const char **err)
{
    wos_http_opts o;
    wos_http_response *resp = NULL;
    wos_rv rv;

    *doc = NULL;
    *len = 0;
    *err = NULL;
    if (!c || !present(c->base_url) || !present(c->client_id)) {
        *err = "JWKS: missing base URL or client id";
        return WOS_EINVAL;
    }
    o = c->http;
    o.max_response = WOS_JWKS_MAX_SIZE;
    rv = wos_http_get(p, &o, apr_pstrcat(p, api_url(p, c, "/sso/jwks/"),
                                         wos_url_encode(p, c->client_id), NULL), &resp, err);
    if (rv == WOS_EINVAL)
        return rv;
    if (rv != WOS_OK)
        return WOS_EUNAVAIL;
    if (resp->status != 200) {
        *err = apr_psprintf(p, "JWKS fetch answered HTTP %ld", resp->status);
        return WOS_EUNAVAIL;
    }
    *doc = resp->body;
    *len = resp->len;
    return WOS_OK;
}
