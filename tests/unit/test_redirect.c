/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_redirect.c: wos_redirect_validate against the payload lists in
 * tests/vectors/redirect (bad.txt must be refused, good.txt accepted, with the
 * origins of allow.txt allow-listed), plus the edges a list cannot express:
 * the empty string, the length cap, and odd allow-list entries.
 * Each payload is its own loop-test iteration, so a failure names its line.
 */
#include "testutil.h"
#include <apr_lib.h>
#include "wos_redirect.h"

#define BAD_FILE   "redirect/bad.txt"
#define GOOD_FILE  "redirect/good.txt"
#define ALLOW_FILE "redirect/allow.txt"

/* --- the vector file format (documented at the top of bad.txt) ------------ */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)apr_tolower(c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* Undo the escapes \t \r \n \\ \xHH of one line; 0 on any other escape. */
static int unescape_line(apr_pool_t *p, const char *in, apr_size_t n,
                         char **out, apr_size_t *outlen)
{
    char *o = apr_palloc(p, n + 1);
    apr_size_t i, k = 0;

    for (i = 0; i < n; i++) {
        if (in[i] != '\\') {
            o[k++] = in[i];
            continue;
        }
        if (++i >= n)
            return 0;
        switch (in[i]) {
        case 't': o[k++] = '\t'; break;
        case 'r': o[k++] = '\r'; break;
        case 'n': o[k++] = '\n'; break;
        case '\\': o[k++] = '\\'; break;
        case 'x':
            if (i + 2 >= n || hexval(in[i + 1]) < 0 || hexval(in[i + 2]) < 0)
                return 0;
            o[k++] = (char)(hexval(in[i + 1]) * 16 + hexval(in[i + 2]));
            i += 2;
            break;
        default:
            return 0;
        }
    }
    o[k] = '\0';
    *out = o;
    *outlen = k;
    return 1;
}

/* The next payload line at *cur (comments and empty lines skipped): its
 * start, length without the line end, and its line number. 0 at the end. */
static int next_line(const char **cur, int *lineno, const char **start, apr_size_t *len)
{
    while (**cur) {
        const char *s = *cur, *nl = strchr(s, '\n');
        apr_size_t n = nl ? (apr_size_t)(nl - s) : strlen(s);

        *cur = nl ? nl + 1 : s + n;
        ++*lineno;
        if (n > 0 && s[n - 1] == '\r')
            n--;
        if (n == 0 || s[0] == '#')
            continue;
        *start = s;
        *len = n;
        return 1;
    }
    return 0;
}

/* Payload number @p idx of @p file, decoded; fails the test when unreadable. */
static const char *payload(const char *file, int idx, int *lineno, apr_size_t *len)
{
    const char *cur = wos_read_vector(tp, file, NULL), *s;
    apr_size_t n;
    char *out;
    int i = 0;

    ck_assert_msg(cur != NULL, "cannot read %s", file);
    *lineno = 0;
    while (next_line(&cur, lineno, &s, &n)) {
        if (i++ < idx)
            continue;
        ck_assert_msg(unescape_line(tp, s, n, &out, len), "%s:%d: bad escape", file, *lineno);
        return out;
    }
    ck_abort_msg("%s has no payload %d", file, idx);
    return NULL;
}

/* Number of payloads in @p file (called while the suite is built). */
static int count_payloads(const char *file)
{
    apr_pool_t *p;
    const char *cur, *s;
    apr_size_t n;
    int lineno = 0, count = 0;

    apr_initialize();
    apr_pool_create(&p, NULL);
    cur = wos_read_vector(p, file, NULL);
    while (cur && next_line(&cur, &lineno, &s, &n))
        count++;
    apr_pool_destroy(p);
    apr_terminate();
    return count;
}

static apr_array_header_t *allow_list(void)
{
    apr_array_header_t *a = apr_array_make(tp, 4, sizeof(const char *));
    apr_size_t len;
    int i, lineno;

    for (i = 0; i < count_payloads(ALLOW_FILE); i++)
        APR_ARRAY_PUSH(a, const char *) = payload(ALLOW_FILE, i, &lineno, &len);
    ck_assert_int_ge(a->nelts, 1);
    return a;
}

static apr_array_header_t *origins(const char *o1, const char *o2, const char *o3)
{
    apr_array_header_t *a = apr_array_make(tp, 3, sizeof(const char *));
    APR_ARRAY_PUSH(a, const char *) = o1;
    if (o2)
        APR_ARRAY_PUSH(a, const char *) = o2;
    if (o3)
        APR_ARRAY_PUSH(a, const char *) = o3;
    return a;
}

static wos_rv check(const char *target, const apr_array_header_t *allow)
{
    const char *out = "unset";
    wos_rv rv = wos_redirect_validate(tp, target, allow, &out);

    if (rv == WOS_OK)
        ck_assert_ptr_eq(out, target);   /* returned unchanged, not a copy */
    else
        ck_assert_ptr_null(out);
    return rv;
}

/* --- the lists ------------------------------------------------------------ */

START_TEST(bad_payload_rejected)
{
    int lineno;
    apr_size_t len;
    const char *t = payload(BAD_FILE, _i, &lineno, &len);

    ck_assert_msg(strlen(t) == len, "bad.txt:%d holds a raw NUL", lineno);
    ck_assert_msg(check(t, allow_list()) == WOS_EDENIED, "bad.txt:%d was accepted", lineno);
}
END_TEST

START_TEST(good_payload_accepted)
{
    int lineno;
    apr_size_t len;
    const char *t = payload(GOOD_FILE, _i, &lineno, &len);

    ck_assert_msg(strlen(t) == len, "good.txt:%d holds a raw NUL", lineno);
    ck_assert_msg(check(t, allow_list()) == WOS_OK, "good.txt:%d was refused", lineno);
}
END_TEST

START_TEST(lists_are_long_enough)
{
    ck_assert_int_ge(count_payloads(BAD_FILE), 80);
    ck_assert_int_ge(count_payloads(GOOD_FILE), 20);
    ck_assert_int_ge(count_payloads(ALLOW_FILE), 1);
}
END_TEST

/* The files are ASCII, so Python can read them as documented. */
START_TEST(files_are_ascii)
{
    const char *files[] = {BAD_FILE, GOOD_FILE, ALLOW_FILE};
    apr_size_t i, k, len;

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        const char *text = wos_read_vector(tp, files[i], &len);
        ck_assert_msg(text != NULL, "cannot read %s", files[i]);
        for (k = 0; k < len; k++)
            ck_assert_msg((unsigned char)text[k] < 0x80, "%s: byte %lu is not ASCII",
                          files[i], (unsigned long)k);
    }
}
END_TEST

START_TEST(line_format_decodes)
{
    char *out;
    apr_size_t n;
    const char *in = "/a\\tb\\x41\\\\\\x00z";

    ck_assert(unescape_line(tp, in, strlen(in), &out, &n));
    ck_assert_uint_eq(n, 8);
    ck_assert_int_eq(memcmp(out, "/a\tbA\\\0z", 8), 0);
    ck_assert(!unescape_line(tp, "\\q", 2, &out, &n));
    ck_assert(!unescape_line(tp, "\\x4", 3, &out, &n));
    ck_assert(!unescape_line(tp, "\\xg0", 4, &out, &n));
    ck_assert(!unescape_line(tp, "a\\", 2, &out, &n));
}
END_TEST

/* --- edges ------------------------------------------------------------------ */

START_TEST(empty_and_null_rejected)
{
    const char *out = "unset";

    ck_assert_int_eq(check("", allow_list()), WOS_EDENIED);
    ck_assert_int_eq(wos_redirect_validate(tp, NULL, NULL, &out), WOS_EDENIED);
    ck_assert_ptr_null(out);
}
END_TEST

static char *long_target(const char *prefix, apr_size_t total)
{
    apr_size_t plen = strlen(prefix);
    char *s = apr_palloc(tp, total + 1);

    memcpy(s, prefix, plen);
    memset(s + plen, 'a', total - plen);
    s[total] = '\0';
    return s;
}

START_TEST(length_cap)
{
    apr_array_header_t *allow = allow_list();

    ck_assert_int_eq(check(long_target("/", WOS_REDIRECT_MAX_LEN), allow), WOS_OK);
    ck_assert_int_eq(check(long_target("/", WOS_REDIRECT_MAX_LEN + 1), allow), WOS_EDENIED);
    ck_assert_int_eq(check(long_target("https://app.example.com/", WOS_REDIRECT_MAX_LEN), allow),
                     WOS_OK);
    ck_assert_int_eq(check(long_target("https://app.example.com/", WOS_REDIRECT_MAX_LEN + 1),
                           allow), WOS_EDENIED);
    ck_assert_int_eq(check(long_target("/", 100000), allow), WOS_EDENIED);
}
END_TEST

START_TEST(no_allow_list_means_paths_only)
{
    apr_array_header_t *empty = apr_array_make(tp, 1, sizeof(const char *));

    ck_assert_int_eq(check("/app?x=1", NULL), WOS_OK);
    ck_assert_int_eq(check("https://app.example.com/", NULL), WOS_EDENIED);
    ck_assert_int_eq(check("/app?x=1", empty), WOS_OK);
    ck_assert_int_eq(check("https://app.example.com/", empty), WOS_EDENIED);
}
END_TEST

/* An allow-list entry that is not a plain origin matches nothing. */
START_TEST(odd_allow_entries_match_nothing)
{
    apr_array_header_t *a = origins("https://app.example.com/path", "https://u@app.example.com",
                                    "app.example.com");

    APR_ARRAY_PUSH(a, const char *) = "https://app.example.com.";
    APR_ARRAY_PUSH(a, const char *) = "https://app.example.com//";
    APR_ARRAY_PUSH(a, const char *) = NULL;
    APR_ARRAY_PUSH(a, const char *) = "";
    ck_assert_int_eq(check("https://app.example.com/", a), WOS_EDENIED);
    ck_assert_int_eq(check("https://app.example.com/path", a), WOS_EDENIED);
    ck_assert_int_eq(check("https://app.example.com./", a), WOS_EDENIED);
    ck_assert_int_eq(check("/still/fine", a), WOS_OK);
}
END_TEST

START_TEST(default_ports_normalised_both_ways)
{
    apr_array_header_t *a = origins("https://app.example.com:443", "http://web.example:80/", NULL);

    ck_assert_int_eq(check("https://app.example.com/", a), WOS_OK);
    ck_assert_int_eq(check("https://app.example.com:443/", a), WOS_OK);
    ck_assert_int_eq(check("http://web.example/", a), WOS_OK);
    ck_assert_int_eq(check("http://web.example:80/x", a), WOS_OK);
    ck_assert_int_eq(check("http://web.example:443/", a), WOS_EDENIED);
    ck_assert_int_eq(check("https://web.example/", a), WOS_EDENIED);
    ck_assert_int_eq(check("http://app.example.com:443/", a), WOS_EDENIED);
}
END_TEST

START_TEST(ipv6_literal_origin)
{
    apr_array_header_t *a = origins("http://[::1]:8080", NULL, NULL);

    ck_assert_int_eq(check("http://[::1]:8080/x", a), WOS_OK);
    ck_assert_int_eq(check("http://[::1]/x", a), WOS_EDENIED);
    ck_assert_int_eq(check("http://[::2]:8080/x", a), WOS_EDENIED);
    ck_assert_int_eq(check("http://[::1]x:8080/", a), WOS_EDENIED);
    ck_assert_int_eq(check("http://[::1:8080/", a), WOS_EDENIED);
    ck_assert_int_eq(check("http://[]:8080/", a), WOS_EDENIED);
}
END_TEST

/* Port 0 or over 65535 is malformed on both sides, so it never matches. */
START_TEST(invalid_ports_never_match)
{
    ck_assert_int_eq(check("https://app.example.com:99999/",
                           origins("https://app.example.com:99999", NULL, NULL)), WOS_EDENIED);
    ck_assert_int_eq(check("https://app.example.com:0/",
                           origins("https://app.example.com:0", NULL, NULL)), WOS_EDENIED);
    ck_assert_int_eq(check("https://app.example.com:65535/",
                           origins("https://app.example.com:65535", NULL, NULL)), WOS_OK);
    ck_assert_int_eq(check("https://app.example.com:1/",
                           origins("https://app.example.com:1", NULL, NULL)), WOS_OK);
}
END_TEST

/* A host label over 63 bytes is not a host name, even if allow-listed verbatim. */
START_TEST(host_label_limit)
{
    char *label63 = long_target("", 63), *label64 = long_target("", 64);
    const char *ok = apr_pstrcat(tp, "https://", label63, ".example", NULL);
    const char *bad = apr_pstrcat(tp, "https://", label64, ".example", NULL);

    ck_assert_int_eq(check(apr_pstrcat(tp, ok, "/", NULL), origins(ok, NULL, NULL)), WOS_OK);
    ck_assert_int_eq(check(apr_pstrcat(tp, bad, "/", NULL), origins(bad, NULL, NULL)),
                     WOS_EDENIED);
}
END_TEST

static Suite *redirect_suite(void)
{
    Suite *s = suite_create("redirect");
    TCase *lists = wos_tcase("lists"), *edges = wos_tcase("edges");

    tcase_add_loop_test(lists, bad_payload_rejected, 0, count_payloads(BAD_FILE));
    tcase_add_loop_test(lists, good_payload_accepted, 0, count_payloads(GOOD_FILE));
    tcase_add_test(lists, lists_are_long_enough);
    tcase_add_test(lists, files_are_ascii);
    tcase_add_test(lists, line_format_decodes);
    tcase_add_test(edges, empty_and_null_rejected);
    tcase_add_test(edges, length_cap);
    tcase_add_test(edges, no_allow_list_means_paths_only);
    tcase_add_test(edges, odd_allow_entries_match_nothing);
    tcase_add_test(edges, default_ports_normalised_both_ways);
    tcase_add_test(edges, ipv6_literal_origin);
    tcase_add_test(edges, invalid_ports_never_match);
    tcase_add_test(edges, host_label_limit);
    suite_add_tcase(s, lists);
    suite_add_tcase(s, edges);
    return s;
}

WOS_TEST_MAIN(redirect_suite)
