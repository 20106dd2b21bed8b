/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_api.c: the WorkOS client (src/wos_api.c) and the HTTP layer
 * (src/wos_http.c). Classification of every status class and both error
 * body shapes (plus malformed and huge ones), URL encoding, the authorize
 * and logout URLs parsed back with libcurl's own URL parser, and real
 * requests against a small HTTP server this file runs on 127.0.0.1 in a
 * thread (stopped at the end of each test).
 *
 * Expected encodings are written by hand from RFC 3986 and the ASCII/UTF-8
 * tables, and decoding in the checks is done by libcurl, not by the code
 * under test.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* strcasestr */
#endif
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <curl/curl.h>
#include <apr_date.h>

#include "testutil.h"
#include "wos_api.h"
#include "wos_json.h"
#include "wos_jwks.h"

/* ======================================================================== */
/* A loopback HTTP/1.1 server: canned answers, records the first request.    */
/* ======================================================================== */

#define SRV_MAX_ANSWERS 4
#define SRV_REQ_MAX (2 * 1024 * 1024)

typedef struct srv {
    int lfd;
    int port;
    pthread_t th;
    atomic_int stop;
    /* scenario: answer i goes to connection i (the last one repeats) */
    const char *answer[SRV_MAX_ANSWERS];
    apr_size_t answer_len[SRV_MAX_ANSWERS];
    int nanswers;
    int delay_ms;           /* wait this long before answering */
    /* recorded */
    atomic_int conns;
    char *req;              /* the first request, head and body */
    apr_size_t req_len;
    const char *req_body;   /* points into req */
} srv;

static void srv_sleep(srv *s, int ms)
{
    while (ms > 0 && !atomic_load(&s->stop)) {
        usleep(20 * 1000);
        ms -= 20;
    }
}

static long content_length(const char *head)
{
    const char *h = strcasestr(head, "\r\nContent-Length:");
    return h ? atol(h + 17) : 0;
}

/* Read one request: the head, then Content-Length bytes of body. */
static apr_size_t srv_read(int fd, char *buf, apr_size_t cap, const char **body)
{
    apr_size_t n = 0;
    char *end = NULL;
    ssize_t r;

    *body = NULL;
    while (n < cap - 1 && (r = recv(fd, buf + n, cap - 1 - n, 0)) > 0) {
        n += (apr_size_t)r;
        buf[n] = '\0';
        if (!end && (end = strstr(buf, "\r\n\r\n")))
            *body = end + 4;
        if (end && n >= (apr_size_t)(end + 4 - buf) + (apr_size_t)content_length(buf))
            break;
    }
    buf[n] = '\0';
    return n;
}

static void srv_send_all(int fd, const char *d, apr_size_t len)
{
    while (len > 0) {
        ssize_t w = send(fd, d, len, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        d += w;
        len -= (apr_size_t)w;
    }
}

static void srv_serve(srv *s, int fd, int idx)
{
    char *buf = malloc(SRV_REQ_MAX);
    const char *body;
    apr_size_t n;
    struct timeval tv = {2, 0};
    int a = idx < s->nanswers ? idx : s->nanswers - 1;

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    n = srv_read(fd, buf, SRV_REQ_MAX, &body);
    if (idx == 0) {
        s->req = buf;
        s->req_len = n;
        s->req_body = body;
    }
    else
        free(buf);
    srv_sleep(s, s->delay_ms);
    if (!atomic_load(&s->stop) && a >= 0)
        srv_send_all(fd, s->answer[a], s->answer_len[a]);
    shutdown(fd, SHUT_WR);
    close(fd);
}

static void *srv_main(void *arg)
{
    srv *s = arg;
    struct pollfd pf;

    pf.fd = s->lfd;
    pf.events = POLLIN;
    while (!atomic_load(&s->stop)) {
        int fd;
        if (poll(&pf, 1, 20) <= 0)
            continue;
        fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        srv_serve(s, fd, atomic_fetch_add(&s->conns, 1));
    }
    return NULL;
}

/* Bind 127.0.0.1:0; return the fd and the port. */
static int bind_loopback(int *port)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    ck_assert_int_ge(fd, 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static srv *srv_new(void)
{
    srv *s = apr_pcalloc(tp, sizeof(*s));
    atomic_init(&s->stop, 0);
    atomic_init(&s->conns, 0);
    return s;
}

static void srv_answer(srv *s, const char *raw, apr_size_t len)
{
    ck_assert_int_lt(s->nanswers, SRV_MAX_ANSWERS);
    s->answer[s->nanswers] = raw;
    s->answer_len[s->nanswers++] = len;
}

/* A complete answer with Content-Length and the given extra header lines. */
static void srv_answer_full(srv *s, int status, const char *headers, const char *body)
{
    const char *raw = apr_psprintf(tp, "HTTP/1.1 %d X\r\nContent-Length: %" APR_SIZE_T_FMT
                                   "\r\nConnection: close\r\n%s\r\n%s",
                                   status, strlen(body), headers ? headers : "", body);
    srv_answer(s, raw, strlen(raw));
}

static void srv_start(srv *s)
{
    s->lfd = bind_loopback(&s->port);
    ck_assert_int_eq(listen(s->lfd, 8), 0);
    ck_assert_int_eq(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void srv_stop(srv *s)
{
    atomic_store(&s->stop, 1);
    pthread_join(s->th, NULL);
    close(s->lfd);
    if (s->req) {
        /* keep a pool copy; the buffer was malloc'd by the server thread */
        char *copy = apr_pstrmemdup(tp, s->req, s->req_len);
        if (s->req_body)
            s->req_body = copy + (s->req_body - s->req);
        free(s->req);
        s->req = copy;
    }
}

static const char *srv_url(srv *s, const char *path)
{
    return apr_psprintf(tp, "http://127.0.0.1:%d%s", s->port, path);
}

/* The value of request header @p name in the recorded request, or NULL. */
static const char *req_header(srv *s, const char *name)
{
    const char *h = strcasestr(s->req, apr_pstrcat(tp, "\r\n", name, ":", NULL));
    const char *e;

    if (!h)
        return NULL;
    h += strlen(name) + 3;
    while (*h == ' ')
        h++;
    e = strstr(h, "\r\n");
    return apr_pstrmemdup(tp, h, (apr_size_t)(e - h));
}

static wos_http_opts quick_opts(void)
{
    wos_http_opts o = {2000, 5000, NULL, 4096};
    return o;
}

static void net_setup(void)
{
    /* The server is on loopback: no proxy from the environment may intercept. */
    unsetenv("http_proxy");
    unsetenv("HTTP_PROXY");
    unsetenv("https_proxy");
    unsetenv("HTTPS_PROXY");
    unsetenv("all_proxy");
    unsetenv("ALL_PROXY");
    ck_assert_int_eq(wos_http_global_init(), WOS_OK);
}

static void net_teardown(void)
{
    wos_http_global_cleanup();
}

/* ======================================================================== */
/* Classification                                                           */
/* ======================================================================== */

static const char *AUTH_OK =
    "{\"user\":{\"object\":\"user\",\"id\":\"user_01HXYZ\",\"email\":\"ada@example.com\","
    "\"email_verified\":true,\"first_name\":\"Ada\",\"last_name\":\"Lovelace\","
    "\"profile_picture_url\":null,\"last_sign_in_at\":\"2024-05-01T10:00:00.000Z\","
    "\"created_at\":\"2024-01-01T00:00:00.000Z\",\"updated_at\":\"2024-05-01T10:00:00.000Z\","
    "\"external_id\":null,\"metadata\":{}},"
    "\"organization_id\":\"org_01ABC\",\"access_token\":\"aaa.bbb.ccc\","
    "\"refresh_token\":\"rt_SECRET_1\",\"authentication_method\":\"Password\"}";

static wos_http_response *resp_make(long status, const char *body, long retry_after)
{
    wos_http_response *r = apr_pcalloc(tp, sizeof(*r));

    r->status = status;
    r->body = apr_pstrdup(tp, body);
    r->len = strlen(body);
    r->retry_after_sec = retry_after;
    return r;
}

static wos_rv classify(long status, const char *body, long retry_after, wos_auth_result *r,
                       const char **err)
{
    wos_rv rv;

    *err = NULL;
    rv = wos_api_classify(tp, resp_make(status, body, retry_after), r, err);
    ck_assert_int_eq(r->http_status, status);
    if (rv != WOS_OK) {
        ck_assert_ptr_nonnull(*err);
        ck_assert_ptr_nonnull(r->error);
        ck_assert_ptr_null(r->session);
        ck_assert_ptr_null(r->raw_json);
    }
    return rv;
}

/* Bounded and printable: what every error field must be. */
static void assert_clean(const char *s, apr_size_t max)
{
    apr_size_t i;

    if (!s)
        return;
    ck_assert_uint_le(strlen(s), max);
    for (i = 0; s[i]; i++)
        ck_assert_msg(s[i] >= 0x20 && s[i] <= 0x7e, "byte 0x%02x at %u",
                      (unsigned char)s[i], (unsigned)i);
}

START_TEST(classify_200_session)
{
    wos_auth_result r;
    const char *err;

    ck_assert_int_eq(classify(200, AUTH_OK, -1, &r, &err), WOS_OK);
    ck_assert_ptr_nonnull(r.session);
    ck_assert_str_eq(r.session->user_id, "user_01HXYZ");
    ck_assert_str_eq(r.session->refresh_token, "rt_SECRET_1");
    ck_assert_str_eq(r.raw_json, AUTH_OK);
    ck_assert_ptr_null(r.error);
    ck_assert_int_eq(r.retry_after_sec, -1);
}
END_TEST

START_TEST(classify_200_not_a_session)
{
    static const char *bodies[] = {
        "{\"hello\":\"world\"}", "<html>captive portal</html>", "",
        "{\"user\":{\"id\":\"u\"},\"access_token\":\"a.b.c\"}",   /* no refresh_token */
        "{\"access_token\":\"a.b.c\",\"refresh_token\":\"SECRET_RT\"}",  /* no user */
        "[1,2,3]",
    };
    wos_auth_result r;
    const char *err;
    unsigned i;

    for (i = 0; i < sizeof(bodies) / sizeof(*bodies); i++) {
        ck_assert_int_eq(classify(200, bodies[i], 9, &r, &err), WOS_EUNAVAIL);
        ck_assert_str_eq(r.error, "invalid_response");
        ck_assert_int_eq(r.retry_after_sec, 9);
        ck_assert_ptr_null(strstr(err, "SECRET"));
    }
}
END_TEST

START_TEST(classify_400_oauth_style)
{
    wos_auth_result r;
    const char *err;

    ck_assert_int_eq(classify(400, "{\"error\":\"invalid_grant\","
                                   "\"error_description\":\"Invalid refresh token.\"}",
                              30, &r, &err), WOS_EUPSTREAM);
    ck_assert_str_eq(r.error, "invalid_grant");
    ck_assert_str_eq(r.error_description, "Invalid refresh token.");
    ck_assert_int_eq(r.retry_after_sec, -1);    /* terminal: no retry hint */
    ck_assert_ptr_nonnull(strstr(err, "400"));
    ck_assert_ptr_nonnull(strstr(err, "invalid_grant"));

    ck_assert_int_eq(classify(400, "{\"error\":\"sso_required\","
                                   "\"error_description\":\"User must sign in with SSO.\"}",
                              -1, &r, &err), WOS_EUPSTREAM);
    ck_assert_str_eq(r.error, "sso_required");
}
END_TEST

START_TEST(classify_403_code_style)
{
    wos_auth_result r;
    const char *err;

    ck_assert_int_eq(classify(403, "{\"code\":\"mfa_enrollment\",\"message\":\"Enroll MFA.\","
                                   "\"pending_authentication_token\":\"PENDING_SECRET\","
                                   "\"user\":{\"id\":\"user_1\"}}", -1, &r, &err),
                     WOS_EUPSTREAM);
    ck_assert_str_eq(r.error, "mfa_enrollment");
    ck_assert_str_eq(r.error_description, "Enroll MFA.");
    ck_assert_ptr_null(strstr(err, "PENDING_SECRET"));
    ck_assert_ptr_null(strstr(err, "Enroll MFA."));   /* the log line names the code only */

    ck_assert_int_eq(classify(403, "{\"code\":\"organization_selection_required\","
                                   "\"message\":\"Pick one.\",\"authkit_redirect_url\":"
                                   "\"https://x.authkit.app/\"}", -1, &r, &err),
                     WOS_EUPSTREAM);
    ck_assert_str_eq(r.error, "organization_selection_required");
}
END_TEST

START_TEST(classify_401_bad_api_key)
{
    wos_auth_result r;
    const char *err;

    ck_assert_int_eq(classify(401, "{\"error\":\"invalid_client\",\"error_description\":"
                                   "\"Invalid client secret.\"}", 5, &r, &err), WOS_EUPSTREAM);
    ck_assert_str_eq(r.error, "unauthorized");
    ck_assert_str_eq(r.error_description, "Invalid client secret.");
    ck_assert_int_eq(r.retry_after_sec, -1);
    ck_assert_ptr_nonnull(strstr(err, "401"));

    ck_assert_int_eq(classify(401, "", -1, &r, &err), WOS_EUPSTREAM);
    ck_assert_str_eq(r.error, "unauthorized");
    ck_assert_ptr_null(r.error_description);
}
END_TEST

START_TEST(classify_other_4xx_terminal)
{
    static const long statuses[] = {400, 402, 404, 405, 409, 410, 413, 418, 422, 499};
    wos_auth_result r;
    const char *err;
    unsigned i;

    for (i = 0; i < sizeof(statuses) / sizeof(*statuses); i++) {
        ck_assert_int_eq(classify(statuses[i], "", 12, &r, &err), WOS_EUPSTREAM);
        ck_assert_str_eq(r.error, apr_psprintf(tp, "http_%ld", statuses[i]));
        ck_assert_int_eq(r.retry_after_sec, -1);
    }
}
END_TEST

/* Whose problem a refusal is: only WorkOS's verdicts on the session or the
 * user count against it; a refusal of the module (401, invalid_client, a
 * proxy's bare 4xx, an unknown error) never does. */
START_TEST(refusal_kinds)
{
    static const struct { long status; const char *body; wos_refusal want; } cases[] = {
        {400, "{\"error\":\"invalid_grant\",\"error_description\":\"x\"}", WOS_REFUSAL_SESSION},
        {403, "{\"code\":\"organization_membership_not_found\"}", WOS_REFUSAL_SESSION},
        {403, "{\"code\":\"email_verification_required\"}", WOS_REFUSAL_SESSION},
        {400, "{\"error\":\"sso_required\"}", WOS_REFUSAL_INTERACTION},
        {403, "{\"code\":\"mfa_enrollment\"}", WOS_REFUSAL_INTERACTION},
        {400, "{\"code\":\"mfa_enrollment\"}", WOS_REFUSAL_INTERACTION},  /* by body, not 403 */
        {401, "{\"error\":\"invalid_grant\"}", WOS_REFUSAL_CLIENT},        /* 401: the API key */
        {401, "", WOS_REFUSAL_CLIENT},
        {400, "{\"error\":\"invalid_client\"}", WOS_REFUSAL_CLIENT},
        {400, "{\"error\":\"unauthorized_client\"}", WOS_REFUSAL_CLIENT},
        {400, "{\"error\":\"invalid_request\"}", WOS_REFUSAL_CLIENT},
        {403, "<html>Request blocked</html>", WOS_REFUSAL_CLIENT},     /* a WAF */
        {404, "", WOS_REFUSAL_CLIENT},
        {422, "{\"code\":\"something_new\"}", WOS_REFUSAL_CLIENT},
    };
    wos_auth_result r;
    const char *err;
    unsigned i;

    for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        ck_assert_int_eq(classify(cases[i].status, cases[i].body, -1, &r, &err), WOS_EUPSTREAM);
        ck_assert_msg(wos_api_refusal(r.error) == cases[i].want, "case %u (%s): %d", i, r.error,
                      (int)wos_api_refusal(r.error));
    }
    ck_assert_int_eq(wos_api_refusal(NULL), WOS_REFUSAL_CLIENT);
}
END_TEST

/* authkit_redirect_url is kept only as a plain http(s) URL a Location can carry. */
START_TEST(classify_authkit_redirect_url)
{
    wos_auth_result r;
    const char *err;
    char *huge = apr_palloc(tp, WOS_API_MAX_REDIRECT_LEN + 2);

    ck_assert_int_eq(classify(400, "{\"error\":\"sso_required\",\"authkit_redirect_url\":"
                                   "\"https://acme.authkit.app/sso?x=1&y=2\"}", -1, &r, &err),
                     WOS_EUPSTREAM);
    ck_assert_str_eq(r.authkit_redirect_url, "https://acme.authkit.app/sso?x=1&y=2");
    ck_assert_int_eq(classify(403, "{\"code\":\"mfa_enrollment\"}", -1, &r, &err),
                     WOS_EUPSTREAM);
    ck_assert_ptr_null(r.authkit_redirect_url);
    ck_assert_int_eq(classify(400, "{\"error\":\"sso_required\",\"authkit_redirect_url\":"
                                   "\"javascript:alert(1)\"}", -1, &r, &err), WOS_EUPSTREAM);
    ck_assert_ptr_null(r.authkit_redirect_url);
    ck_assert_int_eq(classify(400, "{\"error\":\"sso_required\",\"authkit_redirect_url\":"
                                   "\"https://a/\\r\\nSet-Cookie: x=1\"}", -1, &r, &err),
                     WOS_EUPSTREAM);
    ck_assert_ptr_null(r.authkit_redirect_url);
    memset(huge, 'a', WOS_API_MAX_REDIRECT_LEN + 1);
    memcpy(huge, "https://", 8);
    huge[WOS_API_MAX_REDIRECT_LEN + 1] = '\0';
    ck_assert_int_eq(classify(400, apr_psprintf(tp, "{\"error\":\"sso_required\","
                                                "\"authkit_redirect_url\":\"%s\"}", huge),
                              -1, &r, &err), WOS_EUPSTREAM);
    ck_assert_ptr_null(r.authkit_redirect_url);
}
END_TEST

START_TEST(classify_retryable)
{
    static const long statuses[] = {408, 429, 500, 502, 503, 504, 599};
    wos_auth_result r;
    const char *err;
    unsigned i;

    for (i = 0; i < sizeof(statuses) / sizeof(*statuses); i++) {
        ck_assert_int_eq(classify(statuses[i], "<html>busy</html>", 17, &r, &err),
                         WOS_EUNAVAIL);
        ck_assert_str_eq(r.error, apr_psprintf(tp, "http_%ld", statuses[i]));
        ck_assert_int_eq(r.retry_after_sec, 17);
    }
    /* an error body on a retryable status is still read, and still retryable */
    ck_assert_int_eq(classify(429, "{\"code\":\"rate_limit_exceeded\",\"message\":\"Slow down\"}",
                              -1, &r, &err), WOS_EUNAVAIL);
    ck_assert_str_eq(r.error, "rate_limit_exceeded");
    ck_assert_int_eq(r.retry_after_sec, -1);
}
END_TEST

START_TEST(classify_unexpected_status)
{
    static const long statuses[] = {100, 201, 204, 301, 302, 304, 600, 0};
    wos_auth_result r;
    const char *err;
    unsigned i;

    for (i = 0; i < sizeof(statuses) / sizeof(*statuses); i++)
        ck_assert_int_eq(classify(statuses[i], "", -1, &r, &err), WOS_EUNAVAIL);
}
END_TEST

START_TEST(classify_transport_error)
{
    wos_auth_result r;
    const char *err = NULL;

    ck_assert_int_eq(wos_api_classify(tp, NULL, &r, &err), WOS_EUNAVAIL);
    ck_assert_int_eq(r.http_status, 0);
    ck_assert_str_eq(r.error, "transport_error");
    ck_assert_ptr_nonnull(err);
}
END_TEST

START_TEST(classify_malformed_error_bodies)
{
    static const char *bodies[] = {
        "not json", "[\"invalid_grant\"]", "{\"error\":42}", "{\"error\":\"\"}",
        "{\"error\":null}", "{\"error\":\"invalid_grant\"", "{\"error\":{\"x\":1}}",
        "{\"error\":\"a\",\"error\":\"b\"}",                 /* duplicate keys */
        "{\"error\":\"inv\\u0000alid_grant\"}",              /* embedded NUL */
        "{\"a\":[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]],\"error\":\"invalid_grant\"}",
        "{\"error\":\"invalid_grant\"} trailing",
        "\xff\xfe{\"error\":\"x\"}",
    };
    wos_auth_result r;
    const char *err;
    unsigned i;

    for (i = 0; i < sizeof(bodies) / sizeof(*bodies); i++) {
        ck_assert_int_eq(classify(400, bodies[i], -1, &r, &err), WOS_EUPSTREAM);
        ck_assert_msg(strcmp(r.error, "http_400") == 0, "body %u gave error %s", i, r.error);
        ck_assert_ptr_null(r.error_description);
    }
    /* a wrong-typed `error` falls back to `code`; wrong-typed text fields are dropped */
    ck_assert_int_eq(classify(403, "{\"error\":7,\"code\":\"mfa_challenge\",\"message\":[1]}",
                              -1, &r, &err), WOS_EUPSTREAM);
    ck_assert_str_eq(r.error, "mfa_challenge");
    ck_assert_ptr_null(r.error_description);
}
END_TEST

static char *filled(apr_size_t n, char c)
{
    char *s = apr_palloc(tp, n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

START_TEST(classify_huge_and_dirty_fields)
{
    wos_auth_result r;
    const char *err;
    const char *body = apr_psprintf(tp, "{\"error\":\"%s\",\"error_description\":\"%s\"}",
                                    filled(5000, 'E'), filled(40000, 'd'));

    ck_assert_int_eq(classify(400, body, -1, &r, &err), WOS_EUPSTREAM);
    ck_assert_uint_eq(strlen(r.error), WOS_API_MAX_ERROR_LEN);
    ck_assert_uint_eq(strlen(r.error_description), WOS_API_MAX_DESCRIPTION_LEN);
    ck_assert_uint_lt(strlen(err), 200);
    assert_clean(r.error, WOS_API_MAX_ERROR_LEN);

    /* controls (log injection) and non-ASCII become '?' */
    ck_assert_int_eq(classify(400, "{\"error\":\"bad\\r\\nX-Injected: 1\","
                                   "\"error_description\":\"caf\xc3\xa9\\u001b[31m\\t\x7f\"}",
                              -1, &r, &err), WOS_EUPSTREAM);
    ck_assert_str_eq(r.error, "bad??X-Injected: 1");
    ck_assert_str_eq(r.error_description, "caf??\?[31m??");
    assert_clean(err, 200);
}
END_TEST

START_TEST(classify_huge_error_body)
{
    wos_auth_result r;
    const char *err;
    /* valid JSON with an error field, but over the cap: not parsed at all */
    const char *body = apr_psprintf(tp, "{\"error\":\"invalid_grant\",\"pad\":\"%s\"}",
                                    filled(WOS_API_MAX_ERROR_BODY, 'p'));

    ck_assert_int_eq(classify(400, body, -1, &r, &err), WOS_EUPSTREAM);
    ck_assert_str_eq(r.error, "http_400");
    ck_assert_int_eq(classify(503, body, 3, &r, &err), WOS_EUNAVAIL);
    ck_assert_str_eq(r.error, "http_503");
    ck_assert_int_eq(r.retry_after_sec, 3);
}
END_TEST

/* ======================================================================== */
/* URL encoding and the browser URLs                                        */
/* ======================================================================== */

START_TEST(url_encode_reserved)
{
    /* RFC 3986 gen-delims and sub-delims, '%' and space: hex from the ASCII table */
    ck_assert_str_eq(wos_url_encode(tp, ":/?#[]@"), "%3A%2F%3F%23%5B%5D%40");
    ck_assert_str_eq(wos_url_encode(tp, "!$&'()*+,;="), "%21%24%26%27%28%29%2A%2B%2C%3B%3D");
    ck_assert_str_eq(wos_url_encode(tp, "a b%c"), "a%20b%25c");
    ck_assert_str_eq(wos_url_encode(tp, "\"<>\\^`{|}"), "%22%3C%3E%5C%5E%60%7B%7C%7D");
    ck_assert_str_eq(wos_url_encode(tp, "\x01\x1f\x7f\n"), "%01%1F%7F%0A");
}
END_TEST

START_TEST(url_encode_unreserved_kept)
{
    const char *u = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    ck_assert_str_eq(wos_url_encode(tp, u), u);
}
END_TEST

START_TEST(url_encode_utf8)
{
    /* U+00E9 = C3 A9; U+65E5 U+672C = E6 97 A5, E6 9C AC; U+1F600 = F0 9F 98 80 */
    ck_assert_str_eq(wos_url_encode(tp, "caf\xc3\xa9"), "caf%C3%A9");
    ck_assert_str_eq(wos_url_encode(tp, "\xe6\x97\xa5\xe6\x9c\xac"), "%E6%97%A5%E6%9C%AC");
    ck_assert_str_eq(wos_url_encode(tp, "\xf0\x9f\x98\x80"), "%F0%9F%98%80");
    /* invalid UTF-8 is just bytes */
    ck_assert_str_eq(wos_url_encode(tp, "\xff\xfe"), "%FF%FE");
}
END_TEST

START_TEST(url_encode_empty)
{
    ck_assert_str_eq(wos_url_encode(tp, ""), "");
    ck_assert_str_eq(wos_url_encode(tp, NULL), "");
}
END_TEST

/* Every byte 1..255 survives a round trip through libcurl's decoder. */
START_TEST(url_encode_round_trip)
{
    char in[256], *dec;
    const char *enc, *c;
    int i, outlen = 0;

    for (i = 1; i < 256; i++)
        in[i - 1] = (char)i;
    in[255] = '\0';
    enc = wos_url_encode(tp, in);
    for (c = enc; *c; c++) {
        if (*c == '%') {
            ck_assert(strchr("0123456789ABCDEF", c[1]) && c[1]);
            ck_assert(strchr("0123456789ABCDEF", c[2]) && c[2]);
            c += 2;
        }
        else
            ck_assert(strchr("-._~", *c) || (*c >= '0' && *c <= '9')
                      || (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z'));
    }
    dec = curl_easy_unescape(NULL, enc, 0, &outlen);
    ck_assert_ptr_nonnull(dec);
    ck_assert_int_eq(outlen, 255);
    ck_assert_mem_eq(dec, in, 255);
    curl_free(dec);
}
END_TEST

typedef struct url_parts {
    char *scheme, *host, *port, *path;
    apr_array_header_t *keys, *vals;   /* decoded, in order */
} url_parts;

/* Split @p url with libcurl's URL parser and decode the query with libcurl. */
static url_parts *parse_url(const char *url)
{
    url_parts *u = apr_pcalloc(tp, sizeof(*u));
    CURLU *h = curl_url();
    char *q = NULL, *part, *last, *tmp;

    ck_assert_int_eq(curl_url_set(h, CURLUPART_URL, url, 0), CURLUE_OK);
    ck_assert_int_eq(curl_url_get(h, CURLUPART_SCHEME, &tmp, 0), CURLUE_OK);
    u->scheme = apr_pstrdup(tp, tmp), curl_free(tmp);
    ck_assert_int_eq(curl_url_get(h, CURLUPART_HOST, &tmp, 0), CURLUE_OK);
    u->host = apr_pstrdup(tp, tmp), curl_free(tmp);
    if (curl_url_get(h, CURLUPART_PORT, &tmp, 0) == CURLUE_OK)
        u->port = apr_pstrdup(tp, tmp), curl_free(tmp);
    ck_assert_int_eq(curl_url_get(h, CURLUPART_PATH, &tmp, 0), CURLUE_OK);
    u->path = apr_pstrdup(tp, tmp), curl_free(tmp);
    ck_assert_int_eq(curl_url_get(h, CURLUPART_QUERY, &q, 0), CURLUE_OK);
    u->keys = apr_array_make(tp, 8, sizeof(char *));
    u->vals = apr_array_make(tp, 8, sizeof(char *));
    for (part = apr_strtok(apr_pstrdup(tp, q), "&", &last); part;
         part = apr_strtok(NULL, "&", &last)) {
        char *eq = strchr(part, '='), *d;
        int n;
        ck_assert_ptr_nonnull(eq);
        *eq = '\0';
        ck_assert_ptr_null(strpbrk(eq + 1, "=+ "));  /* strictly encoded values */
        APR_ARRAY_PUSH(u->keys, char *) = part;
        d = curl_easy_unescape(NULL, eq + 1, 0, &n);
        APR_ARRAY_PUSH(u->vals, char *) = apr_pstrmemdup(tp, d, (apr_size_t)n);
        curl_free(d);
    }
    curl_free(q);
    curl_url_cleanup(h);
    return u;
}

/* Assert the query is exactly these key/value pairs, in order (NULL-terminated). */
static void assert_query(const url_parts *u, const char *const *kv)
{
    int i;

    for (i = 0; kv[2 * i]; i++) {
        ck_assert_int_lt(i, u->keys->nelts);
        ck_assert_str_eq(APR_ARRAY_IDX(u->keys, i, char *), kv[2 * i]);
        ck_assert_str_eq(APR_ARRAY_IDX(u->vals, i, char *), kv[2 * i + 1]);
    }
    ck_assert_int_eq(u->keys->nelts, i);
}

static wos_api_cfg test_cfg(const char *base)
{
    wos_api_cfg c;

    memset(&c, 0, sizeof(c));
    c.base_url = base;
    c.client_id = "client_01ABC";
    c.api_key = "sk_test_SECRETKEY";
    c.http = quick_opts();
    return c;
}

START_TEST(authorize_url_authkit)
{
    wos_api_cfg c = test_cfg("https://api.workos.com");
    wos_authorize_params a;
    url_parts *u;
    static const char *const want[] = {
        "client_id", "client_01ABC",
        "redirect_uri", "https://app.example.com/callback?x=1&y=a b",
        "response_type", "code",
        "state", "Fe26.2*1*ab/cd+ef==~2",
        "code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method", "S256",
        "provider", "authkit",
        "screen_hint", "sign-up",
        "login_hint", "ada+test@example.com",
        NULL};

    memset(&a, 0, sizeof(a));
    a.redirect_uri = want[3];
    a.state = want[7];
    a.code_challenge = want[9];
    a.screen_hint = "sign-up";
    a.login_hint = want[17];
    u = parse_url(wos_api_authorize_url(tp, &c, &a));
    ck_assert_str_eq(u->scheme, "https");
    ck_assert_str_eq(u->host, "api.workos.com");
    ck_assert_str_eq(u->path, "/user_management/authorize");
    assert_query(u, want);
}
END_TEST

START_TEST(authorize_url_connection_or_org)
{
    wos_api_cfg c = test_cfg("https://auth.example.com/");   /* trailing slash tolerated */
    wos_authorize_params a;
    url_parts *u;
    static const char *const want_conn[] = {
        "client_id", "client_01ABC", "redirect_uri", "https://app/cb",
        "response_type", "code", "state", "s1", "connection_id", "conn_01&x=y", NULL};
    /* An organization keeps AuthKit (provider and organization, as authkit-nextjs
     * sends them); a connection is SSO only, without AuthKit. */
    static const char *const want_org[] = {
        "client_id", "client_01ABC", "redirect_uri", "https://app/cb",
        "response_type", "code", "state", "s1", "provider", "authkit",
        "organization_id", "org_01", "screen_hint", "sign-up", NULL};
    static const char *const want_both[] = {
        "client_id", "client_01ABC", "redirect_uri", "https://app/cb",
        "response_type", "code", "state", "s1", "connection_id", "conn_01",
        "organization_id", "org_01", NULL};

    memset(&a, 0, sizeof(a));
    a.redirect_uri = "https://app/cb";
    a.state = "s1";
    a.screen_hint = "sign-up";          /* AuthKit only: dropped here */
    a.connection_id = "conn_01&x=y";
    u = parse_url(wos_api_authorize_url(tp, &c, &a));
    ck_assert_str_eq(u->host, "auth.example.com");
    ck_assert_str_eq(u->path, "/user_management/authorize");
    assert_query(u, want_conn);

    a.connection_id = NULL;
    a.organization_id = "org_01";
    assert_query(parse_url(wos_api_authorize_url(tp, &c, &a)), want_org);
    a.connection_id = "conn_01";
    assert_query(parse_url(wos_api_authorize_url(tp, &c, &a)), want_both);
}
END_TEST

START_TEST(authorize_url_other_provider_and_minimal)
{
    wos_api_cfg c = test_cfg("https://api.workos.com");
    wos_authorize_params a;
    static const char *const want[] = {
        "client_id", "client_01ABC", "redirect_uri", "https://app/cb",
        "response_type", "code", "state", "s", "provider", "GoogleOAuth", NULL};

    memset(&a, 0, sizeof(a));
    a.redirect_uri = "https://app/cb";
    a.state = "s";
    a.provider = "GoogleOAuth";
    a.screen_hint = "sign-up";
    assert_query(parse_url(wos_api_authorize_url(tp, &c, &a)), want);
}
END_TEST

START_TEST(authorize_url_requires_values)
{
    wos_api_cfg c = test_cfg("https://api.workos.com");
    wos_authorize_params a;

    memset(&a, 0, sizeof(a));
    a.redirect_uri = "https://app/cb";
    ck_assert_ptr_null(wos_api_authorize_url(tp, &c, &a));      /* no state */
    a.state = "";
    ck_assert_ptr_null(wos_api_authorize_url(tp, &c, &a));
    a.state = "s";
    a.redirect_uri = NULL;
    ck_assert_ptr_null(wos_api_authorize_url(tp, &c, &a));
    a.redirect_uri = "https://app/cb";
    c.client_id = NULL;
    ck_assert_ptr_null(wos_api_authorize_url(tp, &c, &a));
    c.client_id = "client_01ABC";
    c.base_url = NULL;
    ck_assert_ptr_null(wos_api_authorize_url(tp, &c, &a));
    c.base_url = "https://api.workos.com";
    ck_assert_ptr_nonnull(wos_api_authorize_url(tp, &c, &a));
}
END_TEST

START_TEST(logout_url)
{
    wos_api_cfg c = test_cfg("https://api.workos.com");
    static const char *const want[] = {
        "session_id", "session_01 X", "return_to", "https://app.example.com/bye?a=1&b=\xc3\xa9",
        NULL};
    static const char *const want_no_return[] = {"session_id", "session_01", NULL};
    url_parts *u = parse_url(wos_api_logout_url(tp, &c, want[1], want[3]));

    ck_assert_str_eq(u->path, "/user_management/sessions/logout");
    assert_query(u, want);
    assert_query(parse_url(wos_api_logout_url(tp, &c, "session_01", NULL)), want_no_return);
    ck_assert_ptr_null(wos_api_logout_url(tp, &c, NULL, "https://x/"));
    ck_assert_ptr_null(wos_api_logout_url(tp, &c, "", "https://x/"));
}
END_TEST

/* ======================================================================== */
/* The HTTP client against the loopback server                              */
/* ======================================================================== */

/* A keep-alive server: answers every request on a connection, counts accepts. */
typedef struct ka_srv {
    int lfd, port;
    pthread_t th;
    atomic_int stop, conns, requests;
} ka_srv;

static void *ka_main(void *arg)
{
    ka_srv *s = arg;
    static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
    struct pollfd pf = {s->lfd, POLLIN, 0};

    while (!atomic_load(&s->stop)) {
        char buf[4096];
        int fd;

        if (poll(&pf, 1, 20) <= 0 || (fd = accept(s->lfd, NULL, NULL)) < 0)
            continue;
        atomic_fetch_add(&s->conns, 1);
        for (int idle = 0; idle < 25;) {    /* one GET per read; close after 500 ms idle */
            struct pollfd cf = {fd, POLLIN, 0};
            ssize_t n;

            if (poll(&cf, 1, 20) <= 0) {
                if (atomic_load(&s->stop))
                    break;
                idle++;
                continue;
            }
            idle = 0;
            if ((n = read(fd, buf, sizeof(buf))) <= 0)
                break;
            atomic_fetch_add(&s->requests, 1);
            srv_send_all(fd, answer, sizeof(answer) - 1);
        }
        close(fd);
    }
    return NULL;
}

/* With the process's idle handles, consecutive GETs share one connection;
 * without them, each call opens its own. */
START_TEST(http_handles_reuse_connections)
{
    ka_srv *s = apr_pcalloc(tp, sizeof(*s));
    wos_http_handles *hs;
    wos_http_opts o = quick_opts();
    wos_http_response *r;
    const char *err = NULL, *url;
    int i;

    s->lfd = bind_loopback(&s->port);
    ck_assert_int_eq(listen(s->lfd, 8), 0);
    ck_assert_int_eq(pthread_create(&s->th, NULL, ka_main, s), 0);
    url = apr_psprintf(tp, "http://127.0.0.1:%d/sso/jwks/x", s->port);

    ck_assert_int_eq(wos_http_handles_create(tp, 2, &hs), WOS_OK);
    o.handles = hs;
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(wos_http_get(tp, &o, url, &r, &err), WOS_OK);
        ck_assert_int_eq(r->status, 200);
    }
    ck_assert_int_eq(atomic_load(&s->requests), 3);
    ck_assert_int_eq(atomic_load(&s->conns), 1);

    o.handles = NULL;
    for (i = 0; i < 2; i++)
        ck_assert_int_eq(wos_http_get(tp, &o, url, &r, &err), WOS_OK);
    ck_assert_int_eq(atomic_load(&s->conns), 3);

    atomic_store(&s->stop, 1);
    pthread_join(s->th, NULL);
    close(s->lfd);
}
END_TEST

START_TEST(http_get_200)
{
    srv *s = srv_new();
    wos_http_opts o = quick_opts();
    wos_http_response *r;
    const char *err = NULL, *ua;

    srv_answer_full(s, 200, "Content-Type: application/json; charset=utf-8\r\n",
                    "{\"keys\":[]}");
    srv_start(s);
    ck_assert_int_eq(wos_http_get(tp, &o, srv_url(s, "/sso/jwks/x"), &r, &err), WOS_OK);
    srv_stop(s);
    ck_assert_int_eq(r->status, 200);
    ck_assert_uint_eq(r->len, 11);
    ck_assert_str_eq(r->body, "{\"keys\":[]}");
    ck_assert_int_eq(r->body[r->len], '\0');
    ck_assert_str_eq(r->content_type, "application/json; charset=utf-8");
    ck_assert_int_eq(r->retry_after_sec, -1);
    ck_assert_int_eq(atomic_load(&s->conns), 1);
    ck_assert(strncmp(s->req, "GET /sso/jwks/x HTTP/1.1\r\n", 26) == 0);
    ck_assert_str_eq(req_header(s, "Accept"), "application/json");
    ua = req_header(s, "User-Agent");
    ck_assert(strncmp(ua, "mod_auth_workos/", 16) == 0 && ua[16] >= '0' && ua[16] <= '9');
#ifdef WOS_VERSION
    ck_assert_str_eq(ua, "mod_auth_workos/" WOS_VERSION);
#endif
}
END_TEST

START_TEST(http_empty_body)
{
    srv *s = srv_new();
    wos_http_opts o = quick_opts();
    wos_http_response *r;
    const char *err = NULL;

    srv_answer_full(s, 204, NULL, "");
    srv_start(s);
    ck_assert_int_eq(wos_http_get(tp, &o, srv_url(s, "/"), &r, &err), WOS_OK);
    srv_stop(s);
    ck_assert_int_eq(r->status, 204);
    ck_assert_ptr_nonnull(r->body);
    ck_assert_str_eq(r->body, "");
    ck_assert_uint_eq(r->len, 0);
    ck_assert_ptr_null(r->content_type);
}
END_TEST

/* Body at exactly the cap is fine; one byte more is WOS_ETOOBIG. */
static wos_rv get_sized(apr_size_t body_len, apr_size_t cap, int with_length)
{
    srv *s = srv_new();
    wos_http_opts o = quick_opts();
    wos_http_response *r = NULL;
    const char *err = NULL, *raw;
    wos_rv rv;

    o.max_response = cap;
    if (with_length)
        srv_answer_full(s, 200, NULL, filled(body_len, 'x'));
    else {
        /* no Content-Length: the size is only known while reading */
        raw = apr_pstrcat(tp, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n",
                          filled(body_len, 'x'), NULL);
        srv_answer(s, raw, strlen(raw));
    }
    srv_start(s);
    rv = wos_http_get(tp, &o, srv_url(s, "/big"), &r, &err);
    srv_stop(s);
    if (rv == WOS_OK) {
        ck_assert_uint_eq(r->len, body_len);
        ck_assert_uint_eq(strlen(r->body), body_len);
    }
    else {
        ck_assert_ptr_null(r);
        ck_assert_ptr_nonnull(err);
    }
    return rv;
}

START_TEST(http_size_cap)
{
    ck_assert_int_eq(get_sized(4096, 4096, 1), WOS_OK);
    ck_assert_int_eq(get_sized(4097, 4096, 1), WOS_ETOOBIG);
    ck_assert_int_eq(get_sized(4096, 4096, 0), WOS_OK);
    ck_assert_int_eq(get_sized(4097, 4096, 0), WOS_ETOOBIG);
    ck_assert_int_eq(get_sized(3 * 1024 * 1024, 4096, 0), WOS_ETOOBIG);
    /* 0 means the default cap, never "unbounded" */
    ck_assert_int_eq(get_sized(WOS_HTTP_DEFAULT_MAX_RESPONSE, 0, 0), WOS_OK);
    ck_assert_int_eq(get_sized(WOS_HTTP_DEFAULT_MAX_RESPONSE + 1, 0, 0), WOS_ETOOBIG);
}
END_TEST

START_TEST(http_timeout)
{
    srv *s = srv_new();
    wos_http_opts o = quick_opts();
    wos_http_response *r = NULL;
    const char *err = NULL;
    apr_time_t t0;

    o.timeout_ms = 300;
    s->delay_ms = 5000;
    srv_answer_full(s, 200, NULL, "{}");
    srv_start(s);
    t0 = apr_time_now();
    ck_assert_int_eq(wos_http_get(tp, &o, srv_url(s, "/slow?token=QSECRET"), &r, &err),
                     WOS_EUNAVAIL);
    ck_assert_int_lt(apr_time_as_msec(apr_time_now() - t0), 2500);
    srv_stop(s);
    ck_assert_ptr_null(r);
    ck_assert_ptr_nonnull(strstr(err, "curl error 28"));     /* CURLE_OPERATION_TIMEDOUT */
    ck_assert_ptr_null(strstr(err, "QSECRET"));
    ck_assert_ptr_null(strstr(err, "/slow"));
}
END_TEST

START_TEST(http_connection_refused)
{
    wos_http_opts o = quick_opts();
    wos_http_response *r = NULL;
    const char *err = NULL;
    int port, fd = bind_loopback(&port);     /* bound, never listening */

    ck_assert_int_eq(wos_http_post_json(tp, &o, apr_psprintf(tp, "http://127.0.0.1:%d/a?k=QSECRET",
                                                             port),
                                        "{\"client_secret\":\"BSECRET\"}", &r, &err),
                     WOS_EUNAVAIL);
    close(fd);
    ck_assert_ptr_null(r);
    ck_assert_ptr_nonnull(strstr(err, "curl error 7"));      /* CURLE_COULDNT_CONNECT */
    ck_assert_ptr_null(strstr(err, "QSECRET"));
    ck_assert_ptr_null(strstr(err, "BSECRET"));
}
END_TEST

START_TEST(http_redirect_not_followed)
{
    srv *s = srv_new();
    wos_http_opts o = quick_opts();
    wos_http_response *r;
    const char *err = NULL;

    srv_start(s);
    srv_answer_full(s, 302, apr_psprintf(tp, "Location: http://127.0.0.1:%d/next\r\n", s->port),
                    "moved");
    srv_answer_full(s, 200, NULL, "followed");
    ck_assert_int_eq(wos_http_get(tp, &o, srv_url(s, "/first"), &r, &err), WOS_OK);
    usleep(100 * 1000);
    srv_stop(s);
    ck_assert_int_eq(r->status, 302);
    ck_assert_str_eq(r->body, "moved");
    ck_assert_int_eq(atomic_load(&s->conns), 1);
}
END_TEST

START_TEST(http_other_schemes_refused)
{
    srv *s = srv_new();
    wos_http_opts o = quick_opts();
    wos_http_response *r = NULL;
    const char *err = NULL;

    srv_answer_full(s, 200, NULL, "{}");
    srv_start(s);
    ck_assert_int_eq(wos_http_get(tp, &o, "file:///etc/passwd", &r, &err), WOS_EINVAL);
    ck_assert_ptr_null(r);
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(wos_http_get(tp, &o, apr_psprintf(tp, "ftp://127.0.0.1:%d/x", s->port),
                                  &r, &err), WOS_EINVAL);
    ck_assert_int_eq(wos_http_get(tp, &o, apr_psprintf(tp, "gopher://127.0.0.1:%d/x", s->port),
                                  &r, &err), WOS_EINVAL);
    ck_assert_int_eq(wos_http_post_json(tp, &o, apr_psprintf(tp, "dict://127.0.0.1:%d/x",
                                                             s->port), "{}", &r, &err),
                     WOS_EINVAL);
    ck_assert_int_eq(wos_http_get(tp, &o, "", &r, &err), WOS_EINVAL);
    ck_assert_int_eq(wos_http_get(tp, &o, NULL, &r, &err), WOS_EINVAL);
    usleep(100 * 1000);
    srv_stop(s);
    ck_assert_int_eq(atomic_load(&s->conns), 0);    /* nothing reached the server */
}
END_TEST

static long retry_after_of(const char *header_line)
{
    srv *s = srv_new();
    wos_http_opts o = quick_opts();
    wos_http_response *r;
    const char *err = NULL;

    srv_answer_full(s, 429, header_line, "{}");
    srv_start(s);
    ck_assert_int_eq(wos_http_get(tp, &o, srv_url(s, "/"), &r, &err), WOS_OK);
    srv_stop(s);
    ck_assert_int_eq(r->status, 429);
    return r->retry_after_sec;
}

START_TEST(http_retry_after)
{
    char date[APR_RFC822_DATE_LEN];
    long v;

    ck_assert_int_eq(retry_after_of("Retry-After: 7\r\n"), 7);
    ck_assert_int_eq(retry_after_of("retry-after:0\r\n"), 0);
    ck_assert_int_eq(retry_after_of("Retry-After: 3600\r\n"), 3600);
    ck_assert_int_eq(retry_after_of("Retry-After: 3601\r\n"), 3600);
    ck_assert_int_eq(retry_after_of("Retry-After: 99999999999999999999999\r\n"), 3600);
    ck_assert_int_eq(retry_after_of("Retry-After: soon\r\n"), -1);
    ck_assert_int_eq(retry_after_of("Retry-After: -5\r\n"), -1);
    ck_assert_int_eq(retry_after_of("Retry-After: 5s\r\n"), -1);
    ck_assert_int_eq(retry_after_of(NULL), -1);
    /* an HTTP-date two minutes ahead, one in the past, one far ahead */
    apr_rfc822_date(date, apr_time_now() + apr_time_from_sec(120));
    v = retry_after_of(apr_psprintf(tp, "Retry-After: %s\r\n", date));
    ck_assert_int_ge(v, 115);
    ck_assert_int_le(v, 120);
    ck_assert_int_eq(retry_after_of("Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n"), 0);
    apr_rfc822_date(date, apr_time_now() + apr_time_from_sec(86400));
    ck_assert_int_eq(retry_after_of(apr_psprintf(tp, "Retry-After: %s\r\n", date)), 3600);
}
END_TEST

START_TEST(http_post_body_received)
{
    srv *s = srv_new();
    wos_http_opts o = quick_opts();
    wos_http_response *r;
    const char *err = NULL;
    /* over 1 MiB, so curl would otherwise send "Expect: 100-continue" */
    const char *json = apr_psprintf(tp, "{\"grant_type\":\"refresh_token\",\"x\":\"%s\","
                                        "\"u\":\"caf\xc3\xa9 \\\"q\\\"\"}",
                                    filled(1100 * 1024, 'z'));

    srv_answer_full(s, 200, NULL, "{\"ok\":true}");
    srv_start(s);
    ck_assert_int_eq(wos_http_post_json(tp, &o, srv_url(s, "/user_management/authenticate"),
                                        json, &r, &err), WOS_OK);
    srv_stop(s);
    ck_assert_int_eq(r->status, 200);
    ck_assert_str_eq(r->body, "{\"ok\":true}");
    ck_assert(strncmp(s->req, "POST /user_management/authenticate HTTP/1.1\r\n", 45) == 0);
    ck_assert_str_eq(req_header(s, "Content-Type"), "application/json");
    ck_assert_str_eq(req_header(s, "Accept"), "application/json");
    ck_assert_ptr_null(req_header(s, "Expect"));
    ck_assert_ptr_nonnull(s->req_body);
    ck_assert_str_eq(s->req_body, json);
}
END_TEST

/* ======================================================================== */
/* The API calls end to end                                                 */
/* ======================================================================== */

static json_t *sent_json(srv *s)
{
    json_t *doc = NULL;
    const char *err;

    ck_assert_ptr_nonnull(s->req_body);
    ck_assert_int_eq(wos_json_parse(tp, s->req_body, strlen(s->req_body), &doc, &err), WOS_OK);
    return doc;
}

static const char *sent_field(json_t *doc, const char *key)
{
    json_t *v = json_object_get(doc, key);
    return v && json_is_string(v) ? json_string_value(v) : NULL;
}

START_TEST(api_refresh_terminal)
{
    srv *s = srv_new();
    wos_api_cfg c;
    wos_auth_result *r = NULL;
    const char *err = NULL;
    json_t *doc;

    srv_answer_full(s, 400, "Content-Type: application/json\r\n",
                    "{\"error\":\"invalid_grant\",\"error_description\":\"Invalid refresh token.\"}");
    srv_start(s);
    c = test_cfg(srv_url(s, ""));
    ck_assert_int_eq(wos_api_refresh(tp, &c, "rt_SECRET_\"quoted\"", "org_02", "203.0.113.9",
                                     "Mozilla/5.0 (X11)", &r, &err), WOS_EUPSTREAM);
    srv_stop(s);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->http_status, 400);
    ck_assert_str_eq(r->error, "invalid_grant");
    ck_assert_ptr_null(strstr(err, "SECRET"));
    ck_assert(strncmp(s->req, "POST /user_management/authenticate HTTP/1.1\r\n", 45) == 0);
    doc = sent_json(s);
    ck_assert_str_eq(sent_field(doc, "grant_type"), "refresh_token");
    ck_assert_str_eq(sent_field(doc, "client_id"), "client_01ABC");
    ck_assert_str_eq(sent_field(doc, "client_secret"), "sk_test_SECRETKEY");
    ck_assert_str_eq(sent_field(doc, "refresh_token"), "rt_SECRET_\"quoted\"");
    ck_assert_str_eq(sent_field(doc, "organization_id"), "org_02");
    ck_assert_str_eq(sent_field(doc, "ip_address"), "203.0.113.9");
    ck_assert_str_eq(sent_field(doc, "user_agent"), "Mozilla/5.0 (X11)");
    ck_assert_uint_eq(json_object_size(doc), 7);
}
END_TEST

START_TEST(api_code_success)
{
    srv *s = srv_new();
    wos_api_cfg c;
    wos_auth_result *r = NULL;
    const char *err = NULL;
    json_t *doc;

    srv_answer_full(s, 200, "Content-Type: application/json\r\n", AUTH_OK);
    srv_start(s);
    c = test_cfg(srv_url(s, ""));
    c.http.max_response = 0;   /* the default cap */
    ck_assert_int_eq(wos_api_authenticate_code(tp, &c, "code_01&x", "verifier-123", NULL,
                                               "", &r, &err), WOS_OK);
    srv_stop(s);
    ck_assert_int_eq(r->http_status, 200);
    ck_assert_ptr_nonnull(r->session);
    ck_assert_str_eq(r->session->user_id, "user_01HXYZ");
    ck_assert_str_eq(r->raw_json, AUTH_OK);
    doc = sent_json(s);
    ck_assert_str_eq(sent_field(doc, "grant_type"), "authorization_code");
    ck_assert_str_eq(sent_field(doc, "code"), "code_01&x");
    ck_assert_str_eq(sent_field(doc, "code_verifier"), "verifier-123");
    ck_assert_ptr_null(json_object_get(doc, "ip_address"));
    ck_assert_ptr_null(json_object_get(doc, "user_agent"));
    ck_assert_ptr_null(json_object_get(doc, "organization_id"));
    ck_assert_uint_eq(json_object_size(doc), 5);
}
END_TEST

START_TEST(api_retryable_with_retry_after)
{
    srv *s = srv_new();
    wos_api_cfg c;
    wos_auth_result *r = NULL;
    const char *err = NULL;

    srv_answer_full(s, 503, "Retry-After: 42\r\n", "<html>down</html>");
    srv_start(s);
    c = test_cfg(srv_url(s, "/"));
    ck_assert_int_eq(wos_api_refresh(tp, &c, "rt_1", NULL, NULL, NULL, &r, &err), WOS_EUNAVAIL);
    srv_stop(s);
    ck_assert_int_eq(r->http_status, 503);
    ck_assert_str_eq(r->error, "http_503");
    ck_assert_int_eq(r->retry_after_sec, 42);
    ck_assert(strncmp(s->req, "POST /user_management/authenticate ", 35) == 0);
}
END_TEST

START_TEST(api_transport_failures)
{
    srv *s = srv_new();
    wos_api_cfg c;
    wos_auth_result *r = NULL;
    const char *err = NULL;
    int port, fd = bind_loopback(&port);

    c = test_cfg(apr_psprintf(tp, "http://127.0.0.1:%d", port));
    ck_assert_int_eq(wos_api_refresh(tp, &c, "rt_SECRET", NULL, NULL, NULL, &r, &err),
                     WOS_EUNAVAIL);
    close(fd);
    ck_assert_int_eq(r->http_status, 0);
    ck_assert_str_eq(r->error, "transport_error");
    ck_assert_ptr_null(strstr(err, "SECRET"));

    /* an answer over the cap: retryable, not a verdict */
    srv_answer_full(s, 200, NULL, filled(8192, ' '));
    srv_start(s);
    c = test_cfg(srv_url(s, ""));
    ck_assert_int_eq(wos_api_refresh(tp, &c, "rt_1", NULL, NULL, NULL, &r, &err), WOS_EUNAVAIL);
    srv_stop(s);
    ck_assert_str_eq(r->error, "response_too_large");
}
END_TEST

START_TEST(api_invalid_arguments)
{
    srv *s = srv_new();
    wos_api_cfg c;
    wos_auth_result *r = NULL;
    const char *err = NULL;
    json_t *doc;

    srv_answer_full(s, 400, NULL, "{\"error\":\"invalid_grant\"}");
    srv_start(s);
    c = test_cfg(srv_url(s, ""));
    ck_assert_int_eq(wos_api_authenticate_code(tp, &c, "bad\xff", NULL, NULL, NULL, &r, &err),
                     WOS_EINVAL);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(wos_api_authenticate_code(tp, &c, "", NULL, NULL, NULL, &r, &err),
                     WOS_EINVAL);
    ck_assert_int_eq(wos_api_refresh(tp, &c, NULL, NULL, NULL, NULL, &r, &err), WOS_EINVAL);
    ck_assert_int_eq(wos_api_refresh(tp, &c, "rt", "org\xc3", NULL, NULL, &r, &err), WOS_EINVAL);
    c.api_key = NULL;
    ck_assert_int_eq(wos_api_refresh(tp, &c, "rt", NULL, NULL, NULL, &r, &err), WOS_EINVAL);
    c.api_key = "sk";
    c.base_url = "file:///tmp";
    ck_assert_int_eq(wos_api_refresh(tp, &c, "rt", NULL, NULL, NULL, &r, &err), WOS_EINVAL);
    usleep(100 * 1000);
    ck_assert_int_eq(atomic_load(&s->conns), 0);    /* none of these sent anything */

    /* a user agent that is not UTF-8, or too long, is left out, not refused */
    c = test_cfg(srv_url(s, ""));
    ck_assert_int_eq(wos_api_refresh(tp, &c, "rt", NULL, NULL, "UA\xff", &r, &err),
                     WOS_EUPSTREAM);
    srv_stop(s);
    doc = sent_json(s);
    ck_assert_ptr_null(json_object_get(doc, "user_agent"));
    ck_assert_str_eq(sent_field(doc, "refresh_token"), "rt");
}
END_TEST

START_TEST(api_long_user_agent_dropped)
{
    srv *s = srv_new();
    wos_api_cfg c;
    wos_auth_result *r = NULL;
    const char *err = NULL;

    srv_answer_full(s, 400, NULL, "{}");
    srv_start(s);
    c = test_cfg(srv_url(s, ""));
    ck_assert_int_eq(wos_api_refresh(tp, &c, "rt", NULL, NULL,
                                     filled(WOS_API_MAX_USER_AGENT + 1, 'u'), &r, &err),
                     WOS_EUPSTREAM);
    srv_stop(s);
    ck_assert_ptr_null(json_object_get(sent_json(s), "user_agent"));
}
END_TEST

START_TEST(api_jwks_fetch)
{
    srv *s = srv_new();
    wos_api_cfg c;
    const char *doc = NULL, *err = NULL;
    apr_size_t len = 0;

    srv_answer_full(s, 200, NULL, "{\"keys\":[{\"kid\":\"k1\"}]}");
    srv_answer_full(s, 404, NULL, "{\"message\":\"Not Found\"}");
    srv_answer(s, apr_pstrcat(tp, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n",
                              filled(WOS_JWKS_MAX_SIZE + 1, ' '), NULL),
               strlen("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n") + WOS_JWKS_MAX_SIZE + 1);
    srv_start(s);
    c = test_cfg(srv_url(s, ""));
    c.client_id = "client_01/..?x";
    c.http.max_response = 16;   /* the JWKS cap replaces the general one */
    ck_assert_int_eq(wos_api_fetch_jwks(tp, &c, &doc, &len, &err), WOS_OK);
    ck_assert_str_eq(doc, "{\"keys\":[{\"kid\":\"k1\"}]}");
    ck_assert_uint_eq(len, strlen(doc));
    ck_assert_int_eq(wos_api_fetch_jwks(tp, &c, &doc, &len, &err), WOS_EUNAVAIL);
    ck_assert_ptr_null(doc);
    ck_assert_ptr_nonnull(strstr(err, "404"));
    ck_assert_int_eq(wos_api_fetch_jwks(tp, &c, &doc, &len, &err), WOS_EUNAVAIL);
    ck_assert_ptr_null(doc);
    srv_stop(s);
    ck_assert(strncmp(s->req, "GET /sso/jwks/client_01%2F..%3Fx HTTP/1.1\r\n", 43) == 0);
    c.client_id = NULL;
    ck_assert_int_eq(wos_api_fetch_jwks(tp, &c, &doc, &len, &err), WOS_EINVAL);
}
END_TEST

/* ======================================================================== */

static TCase *net_tcase(const char *name)
{
    TCase *tc = wos_tcase(name);
    tcase_add_checked_fixture(tc, net_setup, net_teardown);
    return tc;
}

static Suite *api_suite(void)
{
    Suite *s = suite_create("api");
    TCase *tc = wos_tcase("classify");

    tcase_add_test(tc, classify_200_session);
    tcase_add_test(tc, classify_200_not_a_session);
    tcase_add_test(tc, classify_400_oauth_style);
    tcase_add_test(tc, classify_403_code_style);
    tcase_add_test(tc, classify_401_bad_api_key);
    tcase_add_test(tc, classify_other_4xx_terminal);
    tcase_add_test(tc, classify_retryable);
    tcase_add_test(tc, classify_unexpected_status);
    tcase_add_test(tc, classify_transport_error);
    tcase_add_test(tc, classify_malformed_error_bodies);
    tcase_add_test(tc, classify_huge_and_dirty_fields);
    tcase_add_test(tc, classify_huge_error_body);
    tcase_add_test(tc, refusal_kinds);
    tcase_add_test(tc, classify_authkit_redirect_url);
    suite_add_tcase(s, tc);

    tc = wos_tcase("urls");
    tcase_add_test(tc, url_encode_reserved);
    tcase_add_test(tc, url_encode_unreserved_kept);
    tcase_add_test(tc, url_encode_utf8);
    tcase_add_test(tc, url_encode_empty);
    tcase_add_test(tc, url_encode_round_trip);
    tcase_add_test(tc, authorize_url_authkit);
    tcase_add_test(tc, authorize_url_connection_or_org);
    tcase_add_test(tc, authorize_url_other_provider_and_minimal);
    tcase_add_test(tc, authorize_url_requires_values);
    tcase_add_test(tc, logout_url);
    suite_add_tcase(s, tc);

    tc = net_tcase("http");
    tcase_add_test(tc, http_get_200);
    tcase_add_test(tc, http_handles_reuse_connections);
    tcase_add_test(tc, http_empty_body);
    tcase_add_test(tc, http_size_cap);
    tcase_add_test(tc, http_timeout);
    tcase_add_test(tc, http_connection_refused);
    tcase_add_test(tc, http_redirect_not_followed);
    tcase_add_test(tc, http_other_schemes_refused);
    tcase_add_test(tc, http_retry_after);
    tcase_add_test(tc, http_post_body_received);
    suite_add_tcase(s, tc);

    tc = net_tcase("api");
    tcase_add_test(tc, api_refresh_terminal);
    tcase_add_test(tc, api_code_success);
    tcase_add_test(tc, api_retryable_with_retry_after);
    tcase_add_test(tc, api_transport_failures);
    tcase_add_test(tc, api_invalid_arguments);
    tcase_add_test(tc, api_long_user_agent_dropped);
    tcase_add_test(tc, api_jwks_fetch);
    suite_add_tcase(s, tc);
    return s;
}

WOS_TEST_MAIN(api_suite)
