/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_http.c: bounded HTTP GET/POST over libcurl's easy interface.
 *
 * One easy handle per call, obtained from call_acquire() and given back with
 * call_release(): from and to the process's idle handles when the caller
 * has them (connections to WorkOS stay open between calls), else made and
 * freed. The handle and its header list are owned by a pool cleanup, so
 * nothing leaks even if a caller's pool is cleared early.
 */
#include <string.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <apr_date.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "wos_http.h"

#ifndef WOS_VERSION
#define WOS_VERSION "0.1.0"   /* the build passes the configured version */
#endif
#define WOS_HTTP_USER_AGENT "mod_auth_workos/" WOS_VERSION
/* Header lines longer than this are not ours to read (ours are short). */
#define WOS_HTTP_MAX_HEADER_LINE 1024

/* The body as it arrives, capped at max. */
typedef struct body_buf {
    apr_pool_t *p;
    char *data;
    apr_size_t len, cap, max;
    int too_big;
} body_buf;

/* The headers we keep from the final response. */
typedef struct head_info {
    apr_pool_t *p;
    const char *content_type;
    long retry_after_sec;
} head_info;

/* Everything one request needs; freed by call_cleanup. */
struct wos_http_handles {
    apr_thread_mutex_t *mu;
    CURL **idle;
    int n, max;
};

static apr_status_t handles_cleanup(void *data)
{
    wos_http_handles *hs = data;

    while (hs->n > 0)
        curl_easy_cleanup(hs->idle[--hs->n]);
    return APR_SUCCESS;
}

wos_rv wos_http_handles_create(apr_pool_t *p, int max, wos_http_handles **out)
{
    wos_http_handles *hs = apr_pcalloc(p, sizeof(*hs));

    if (apr_thread_mutex_create(&hs->mu, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS)
        return WOS_ECRYPTO;
    hs->max = max > 0 ? max : 1;
    hs->idle = apr_pcalloc(p, sizeof(CURL *) * (apr_size_t)hs->max);
    apr_pool_cleanup_register(p, hs, handles_cleanup, apr_pool_cleanup_null);
    *out = hs;
    return WOS_OK;
}

static CURL *handle_take(wos_http_handles *hs)
{
    CURL *h = NULL;

    if (hs) {
        apr_thread_mutex_lock(hs->mu);
        if (hs->n > 0)
            h = hs->idle[--hs->n];
        apr_thread_mutex_unlock(hs->mu);
    }
    return h ? h : curl_easy_init();
}

/* Keep it for the next call (options reset, connections kept), or free it. */
static void handle_give(wos_http_handles *hs, CURL *h)
{
    if (hs) {
        curl_easy_reset(h);
        apr_thread_mutex_lock(hs->mu);
        if (hs->n < hs->max) {
            hs->idle[hs->n++] = h;
            h = NULL;
        }
        apr_thread_mutex_unlock(hs->mu);
    }
    if (h)
        curl_easy_cleanup(h);
}

typedef struct http_call {
    wos_http_handles *handles;
    CURL *h;
    struct curl_slist *hdrs;
    body_buf body;
    head_info head;
} http_call;

wos_rv wos_http_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? WOS_OK : WOS_ECRYPTO;
}

void wos_http_global_cleanup(void)
{
    curl_global_cleanup();
}

static apr_status_t call_cleanup(void *data)
{
    http_call *c = data;

    if (c->h)
        handle_give(c->handles, c->h);
    if (c->hdrs)
        curl_slist_free_all(c->hdrs);
    c->h = NULL;
    c->hdrs = NULL;
    return APR_SUCCESS;
}

static http_call *call_acquire(apr_pool_t *p, wos_http_handles *hs)
{
    http_call *c = apr_pcalloc(p, sizeof(*c));

    c->handles = hs;
    c->h = handle_take(hs);
    if (!c->h)
        return NULL;
    apr_pool_cleanup_register(p, c, call_cleanup, apr_pool_cleanup_null);
    return c;
}

static void call_release(apr_pool_t *p, http_call *c)
{
    apr_pool_cleanup_run(p, c, call_cleanup);
}

/* ---- response callbacks ------------------------------------------------ */

static void body_grow(body_buf *b, apr_size_t need)
{
    apr_size_t cap = b->cap ? b->cap : 1024;
    char *n;

    while (cap < need)
        cap *= 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    n = apr_palloc(b->p, cap);
    if (b->len)
        memcpy(n, b->data, b->len);
    b->data = n;
    b->cap = cap;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    body_buf *b = userdata;
    apr_size_t n = size * nmemb;

    if (n > b->max - b->len) {
        b->too_big = 1;
        return 0;   /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (b->len + n + 1 > b->cap)
        body_grow(b, b->len + n + 1);
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    return n;
}

/* Retry-After: delta-seconds or an HTTP-date, clamped; -1 when neither. */
static long parse_retry_after(const char *v)
{
    apr_time_t when;
    apr_int64_t delta;
    const char *d = v;

    if (*d >= '0' && *d <= '9') {
        while (*d >= '0' && *d <= '9')
            d++;
        if (*d)
            return -1;
        /* More than 4 digits is past the clamp anyway; avoids overflow. */
        if (d - v > 4)
            return WOS_HTTP_MAX_RETRY_AFTER;
        delta = apr_atoi64(v);
    }
    else {
        when = apr_date_parse_http(v);
        if (when == APR_DATE_BAD)
            return -1;
        delta = (apr_int64_t)apr_time_sec(when) - wos_now_sec();
    }
    if (delta < 0)
        return 0;
    return delta > WOS_HTTP_MAX_RETRY_AFTER ? WOS_HTTP_MAX_RETRY_AFTER : (long)delta;
}

/* A header value without surrounding whitespace; NULL if it holds controls. */
static const char *header_value(apr_pool_t *p, const char *s, apr_size_t n)
{
    apr_size_t i;

    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == '\r' || s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return NULL;
    }
    return apr_pstrmemdup(p, s, n);
}

static int header_is(const char *line, apr_size_t n, const char *name)
{
    apr_size_t k = strlen(name);
    return n > k && strncasecmp(line, name, k) == 0 && line[k] == ':';
}

static size_t on_header(char *line, size_t size, size_t nitems, void *userdata)
{
    head_info *h = userdata;
    apr_size_t n = size * nitems;
    const char *v;

    if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        /* A new status line (after a 1xx): forget the interim headers. */
        h->content_type = NULL;
        h->retry_after_sec = -1;
        return n;
    }
    if (n > WOS_HTTP_MAX_HEADER_LINE)
        return n;
    if (header_is(line, n, "Content-Type")) {
        v = header_value(h->p, line + 13, n - 13);
        h->content_type = (v && strlen(v) <= WOS_HTTP_MAX_CONTENT_TYPE) ? v : NULL;
    }
    else if (header_is(line, n, "Retry-After")) {
        v = header_value(h->p, line + 12, n - 12);
        h->retry_after_sec = v ? parse_retry_after(v) : -1;
    }
    return n;
}

/* ---- request setup ------------------------------------------------------ */

static long opt_or(long v, long dflt)
{
    return v > 0 ? v : dflt;
}

/* Each header appended to c->hdrs as it is made, so that a failure frees them all. */
static int set_headers(http_call *c, int is_post, const char *bearer)
{
    const char *lines[4];
    char *auth = bearer ? apr_pstrcat(c->body.p, "Authorization: Bearer ", bearer, NULL)
                        : NULL;
    struct curl_slist *l;
    int i, n = 0, ok = 1;

    lines[n++] = "Accept: application/json";
    if (auth)
        lines[n++] = auth;
    if (is_post) {
        lines[n++] = "Content-Type: application/json";
        lines[n++] = "Expect:";     /* no 100-continue round trip for small bodies */
    }
    for (i = 0; ok && i < n; i++) {
        l = curl_slist_append(c->hdrs, lines[i]);
        ok = l != NULL;
        c->hdrs = ok ? l : c->hdrs;
    }
    if (auth)
        OPENSSL_cleanse(auth, strlen(auth));     /* curl keeps its own copy */
    return ok && curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->hdrs) == CURLE_OK;
}

/* The policy every request shares. 0 if any option is refused (fail closed). */
static int set_common(http_call *c, const wos_http_opts *o, const char *url)
{
    CURL *h = c->h;
    int ok = 1;

    ok = ok && curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK;
    ok = ok && curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
    ok = ok && curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
    ok = ok && curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") == CURLE_OK;
    ok = ok && curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK;
    ok = ok && curl_easy_setopt(h, CURLOPT_MAXREDIRS, 0L) == CURLE_OK;
    ok = ok && curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                                opt_or(o->connect_timeout_ms, WOS_HTTP_DEFAULT_CONNECT_MS)) == CURLE_OK;
    ok = ok && curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                                opt_or(o->timeout_ms, WOS_HTTP_DEFAULT_TIMEOUT_MS)) == CURLE_OK;
    ok = ok && curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK;
    ok = ok && curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK;
    if (o->ca_file)
        ok = ok && curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file) == CURLE_OK;
    ok = ok && curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->body.max) == CURLE_OK;
    ok = ok && curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK;
    ok = ok && curl_easy_setopt(h, CURLOPT_WRITEDATA, &c->body) == CURLE_OK;
    ok = ok && curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK;
    ok = ok && curl_easy_setopt(h, CURLOPT_HEADERDATA, &c->head) == CURLE_OK;
    ok = ok && curl_easy_setopt(h, CURLOPT_USERAGENT, WOS_HTTP_USER_AGENT) == CURLE_OK;
    return ok;
}

/* POSTs (code and refresh-token grants) are not idempotent: curl silently
 * resends a request whose reused connection turns out dead, which would spend
 * a single-use token twice. So they always go over a connection of their own. */
static int set_post(http_call *c, const char *json)
{
    return curl_easy_setopt(c->h, CURLOPT_POST, 1L) == CURLE_OK
        && curl_easy_setopt(c->h, CURLOPT_FRESH_CONNECT, 1L) == CURLE_OK
        && curl_easy_setopt(c->h, CURLOPT_FORBID_REUSE, 1L) == CURLE_OK
        && curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(json)) == CURLE_OK
        && curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, json) == CURLE_OK;
}

/* ---- running it --------------------------------------------------------- */

/* Map a curl failure; the reason names the curl error only, never the URL. */
static wos_rv map_error(apr_pool_t *p, const http_call *c, CURLcode cc, const char **err)
{
    if (c->body.too_big || cc == CURLE_FILESIZE_EXCEEDED) {
        *err = apr_psprintf(p, "HTTP response body larger than %" APR_SIZE_T_FMT " bytes",
                            c->body.max);
        return WOS_ETOOBIG;
    }
    if (cc == CURLE_UNSUPPORTED_PROTOCOL || cc == CURLE_URL_MALFORMAT) {
        *err = apr_psprintf(p, "HTTP request refused: %s (only http and https URLs)",
                            curl_easy_strerror(cc));
        return WOS_EINVAL;
    }
    *err = apr_psprintf(p, "HTTP request failed: %s (curl error %d)",
                        curl_easy_strerror(cc), (int)cc);
    return WOS_EUNAVAIL;
}

static wos_http_response *make_response(apr_pool_t *p, http_call *c)
{
    wos_http_response *r = apr_pcalloc(p, sizeof(*r));
    long status = 0;

    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
    r->status = status;
    r->body = c->body.data ? c->body.data : apr_pstrdup(p, "");
    r->body[c->body.len] = '\0';
    r->len = c->body.len;
    r->content_type = c->head.content_type;
    r->retry_after_sec = c->head.retry_after_sec;
    return r;
}

static wos_rv http_request(apr_pool_t *p, const wos_http_opts *o, const char *url,
                           const char *json, const char *bearer, wos_http_response **out,
                           const char **err)
{
    static const wos_http_opts defaults = {0, 0, NULL, 0};
    http_call *c;
    CURLcode cc;
    wos_rv rv = WOS_OK;

    *out = NULL;
    *err = NULL;
    if (!url || !*url) {
        *err = "HTTP request without a URL";
        return WOS_EINVAL;
    }
    o = o ? o : &defaults;
    if (!(c = call_acquire(p, o->handles))) {
        *err = "could not create a curl handle";
        return WOS_ECRYPTO;
    }
    c->body.p = c->head.p = p;
    c->body.max = o->max_response ? o->max_response : WOS_HTTP_DEFAULT_MAX_RESPONSE;
    c->head.retry_after_sec = -1;
    if (!set_common(c, o, url) || !set_headers(c, json != NULL, bearer)
        || (json && !set_post(c, json))) {
        *err = "libcurl refused a required option (too old?)";
        rv = WOS_ECRYPTO;
    }
    else if ((cc = curl_easy_perform(c->h)) != CURLE_OK)
        rv = map_error(p, c, cc, err);
    else
        *out = make_response(p, c);
    call_release(p, c);
    return rv;
}

wos_rv wos_http_get(apr_pool_t *p, const wos_http_opts *o, const char *url,
                    wos_http_response **out, const char **err)
{
    return http_request(p, o, url, NULL, NULL, out, err);
}

wos_rv wos_http_post_json(apr_pool_t *p, const wos_http_opts *o, const char *url,
                          const char *json, wos_http_response **out, const char **err)
{
    if (!json) {
        *out = NULL;
        *err = "HTTP POST without a body";
        return WOS_EINVAL;
    }
    return http_request(p, o, url, json, NULL, out, err);
}

wos_rv wos_http_call_bearer(apr_pool_t *p, const wos_http_opts *o, const char *url,
                            const char *json, const char *bearer, wos_http_response **out,
                            const char **err)
{
    return http_request(p, o, url, json, bearer, out, err);
}
