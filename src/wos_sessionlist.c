/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_sessionlist.c: the list and revoke calls of WorkOS's session
 * management, and the sessions endpoint's JSON (built with jansson, so
 * whatever a user agent string holds is escaped).
 */
#include <string.h>
#include <apr_strings.h>

#include "wos_json.h"
#include "wos_sessionlist.h"

/* ---- parsing ---------------------------------------------------------------- */

static const char *opt_string(apr_pool_t *p, const json_t *o, const char *key)
{
    const char *v = NULL;
    return wos_json_get_string(p, o, key, 1, &v) == WOS_OK ? v : NULL;
}

static void take_entry(apr_pool_t *p, const json_t *e, apr_array_header_t *into)
{
    const char *status = opt_string(p, e, "status");
    wos_user_session *s;

    if (!json_is_object(e) || !opt_string(p, e, "id") || (status && strcmp(status, "active")))
        return;
    s = apr_array_push(into);
    s->id = opt_string(p, e, "id");
    s->created_at = opt_string(p, e, "created_at");
    s->expires_at = opt_string(p, e, "expires_at");
    s->ip_address = opt_string(p, e, "ip_address");
    s->user_agent = opt_string(p, e, "user_agent");
    s->auth_method = opt_string(p, e, "auth_method");
}

wos_rv wos_sessionlist_parse(apr_pool_t *p, const char *json, apr_size_t len,
                             apr_array_header_t *into, const char **after)
{
    json_t *doc, *data, *meta = NULL;
    const char *err;
    size_t i;

    *after = NULL;
    if (wos_json_parse(p, json, len, &doc, &err) != WOS_OK || !json_is_object(doc))
        return WOS_EINVAL;
    data = json_object_get(doc, "data");
    if (!json_is_array(data))
        return WOS_EINVAL;
    for (i = 0; i < json_array_size(data); i++)
        take_entry(p, json_array_get(data, i), into);
    if (wos_json_get_object(doc, "list_metadata", &meta) == WOS_OK && meta)
        *after = opt_string(p, meta, "after");
    if (*after && !**after)
        *after = NULL;
    return WOS_OK;
}

/* ---- calls ------------------------------------------------------------------ */

static int cfg_ok(const wos_api_cfg *c)
{
    return c && c->base_url && *c->base_url && c->api_key && *c->api_key;
}

/* 2xx: OK; 408, 429, 5xx, anything else not 4xx: retryable; 4xx: refused. */
static wos_rv classify(apr_pool_t *p, const wos_http_response *r, long *retry_after,
                       const char *what, const char **err)
{
    if (r->status >= 200 && r->status < 300)
        return WOS_OK;
    *err = apr_psprintf(p, "%s answered HTTP %ld%s", what, r->status,
                        r->status == 401 ? " (is WorkOSAPIKey right?)" : "");
    *retry_after = r->retry_after_sec;
    if (r->status >= 400 && r->status < 500 && r->status != 408 && r->status != 429)
        return WOS_EUPSTREAM;
    return WOS_EUNAVAIL;
}

static wos_rv call(apr_pool_t *p, const wos_api_cfg *c, const char *url, const char *json,
                   wos_http_response **resp, long *retry_after, const char *what,
                   const char **err)
{
    wos_http_opts o = c->http;
    wos_rv rv;

    o.max_response = WOS_SESSIONLIST_MAX_BODY;
    rv = wos_http_call_bearer(p, &o, url, json, c->api_key, resp, err);
    if (rv == WOS_EINVAL)
        return rv;
    if (rv != WOS_OK)
        return WOS_EUNAVAIL;
    return classify(p, *resp, retry_after, what, err);
}

static const char *page_url(apr_pool_t *p, const wos_api_cfg *c, const char *user_id,
                            const char *after)
{
    const char *path = apr_psprintf(p, "/user_management/users/%s/sessions?limit=%d",
                                    wos_url_encode(p, user_id), WOS_SESSIONLIST_PAGE);

    if (after)
        path = apr_pstrcat(p, path, "&after=", wos_url_encode(p, after), NULL);
    return wos_api_url(p, c, path);
}

wos_rv wos_sessionlist_fetch(apr_pool_t *p, const wos_api_cfg *c, const char *user_id,
                             apr_array_header_t **out, long *retry_after, const char **err)
{
    const char *after = NULL;
    wos_http_response *resp;
    int page = 0;
    wos_rv rv;

    *err = NULL;
    *retry_after = -1;
    *out = apr_array_make(p, 8, sizeof(wos_user_session));
    if (!cfg_ok(c) || !user_id || !*user_id) {
        *err = "sessions list: missing configuration or user id";
        return WOS_EINVAL;
    }
    do {
        rv = call(p, c, page_url(p, c, user_id, after), NULL, &resp, retry_after,
                  "sessions list", err);
        if (rv != WOS_OK)
            return rv;
        if (wos_sessionlist_parse(p, resp->body, resp->len, *out, &after) != WOS_OK) {
            *err = "sessions list: the answer is not a list of sessions";
            return WOS_EUNAVAIL;
        }
    } while (after && ++page < WOS_SESSIONLIST_MAX_PAGES);
    return WOS_OK;
}

wos_rv wos_sessionlist_revoke(apr_pool_t *p, const wos_api_cfg *c, const char *session_id,
                              long *retry_after, const char **err)
{
    json_t *body = wos_json_pool_own(p, json_object());
    wos_http_response *resp = NULL;
    const char *json;
    wos_rv rv;

    *err = NULL;
    *retry_after = -1;
    if (!cfg_ok(c) || !session_id || !*session_id || !body
        || json_object_set_new(body, "session_id", json_string(session_id)) != 0
        || !(json = wos_json_dump(p, body))) {
        *err = "session revoke: missing configuration or session id";
        return WOS_EINVAL;
    }
    rv = call(p, c, wos_api_url(p, c, "/user_management/sessions/revoke"), json, &resp,
              retry_after, "session revoke", err);
    return rv == WOS_EUPSTREAM && resp && resp->status == 404 ? WOS_OK : rv;
}

/* ---- the endpoint's answer ---------------------------------------------------- */

const wos_user_session *wos_sessionlist_find(const apr_array_header_t *list, const char *id)
{
    int i;

    for (i = 0; list && id && i < list->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(list, i, wos_user_session).id, id) == 0)
            return &APR_ARRAY_IDX(list, i, wos_user_session);
    return NULL;
}

static json_t *str_or_null(const char *s)
{
    json_t *v = s ? json_string(s) : NULL;
    return v ? v : json_null();
}

char *wos_sessionlist_json(apr_pool_t *p, const apr_array_header_t *list,
                           const char *current_sid)
{
    json_t *doc = wos_json_pool_own(p, json_object()), *arr = json_array();
    int i;

    for (i = 0; list && i < list->nelts; i++) {
        const wos_user_session *s = &APR_ARRAY_IDX(list, i, wos_user_session);
        json_t *o = json_object();

        json_object_set_new(o, "id", str_or_null(s->id));
        json_object_set_new(o, "createdAt", str_or_null(s->created_at));
        json_object_set_new(o, "expiresAt", str_or_null(s->expires_at));
        json_object_set_new(o, "ipAddress", str_or_null(s->ip_address));
        json_object_set_new(o, "userAgent", str_or_null(s->user_agent));
        json_object_set_new(o, "authMethod", str_or_null(s->auth_method));
        json_object_set_new(o, "current",
                            json_boolean(current_sid && !strcmp(s->id, current_sid)));
        json_array_append_new(arr, o);
    }
    json_object_set_new(doc, "sessions", arr);
    return wos_json_dump(p, doc);
}

char *wos_sessionlist_revoked_json(apr_pool_t *p, const apr_array_header_t *ids,
                                   int signed_out, const char *error)
{
    json_t *doc = wos_json_pool_own(p, json_object()), *arr = json_array();
    int i;

    if (error)
        json_object_set_new(doc, "error", json_string(error));
    for (i = 0; ids && i < ids->nelts; i++)
        json_array_append_new(arr, str_or_null(APR_ARRAY_IDX(ids, i, const char *)));
    json_object_set_new(doc, "revoked", arr);
    json_object_set_new(doc, "signedOut", json_boolean(signed_out));
    return wos_json_dump(p, doc);
}
