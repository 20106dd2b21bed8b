/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pages.c: the module's own pages (src/wos_pages.c): every kind has a
 * status, a fixed word and wording; outside text is cleaned and escaped;
 * requirements read as words; the JSON body parses; Accept picks JSON.
 */
#include "testutil.h"
#include <jansson.h>
#include "wos_pages.h"

static apr_array_header_t *list(const char *a, const char *b, const char *c)
{
    apr_array_header_t *v = apr_array_make(tp, 3, sizeof(const char *));
    const char *all[] = {a, b, c};
    int i;

    for (i = 0; i < 3; i++)
        if (all[i])
            APR_ARRAY_PUSH(v, const char *) = all[i];
    return v;
}

START_TEST(every_kind_is_complete)
{
    int k;

    for (k = 0; k < WOS_PAGE_COUNT; k++) {
        const wos_page_def *d = wos_page_def_of((wos_page_kind)k);
        ck_assert_msg(d->status >= 400 && d->status < 600, "kind %d", k);
        ck_assert_msg(d->error && strspn(d->error, "abcdefghijklmnopqrstuvwxyz_")
                                  == strlen(d->error), "kind %d: %s", k, d->error);
        ck_assert_msg(d->title && *d->title && d->message && *d->message, "kind %d", k);
        /* Second person: the message speaks to the reader. */
        ck_assert_msg(strstr(d->message, "You ") || strstr(d->message, "you")
                      || strstr(d->message, "Your "), "kind %d: %s", k, d->message);
    }
    ck_assert_int_eq(wos_page_def_of(WOS_PAGE_FORBIDDEN)->status, 403);
    ck_assert_int_eq(wos_page_def_of(WOS_PAGE_UNAVAILABLE)->status, 503);
    ck_assert_str_eq(wos_page_def_of(WOS_PAGE_CANCELLED)->error, "sign_in_cancelled");
    /* Out of range: a harmless page, never a read past the table. */
    ck_assert_str_eq(wos_page_def_of(WOS_PAGE_COUNT)->error, "invalid_request");
}
END_TEST

START_TEST(escape_and_clean)
{
    ck_assert_str_eq(wos_html_escape(tp, "<a href=\"x\">'&'</a>"),
                     "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    ck_assert_str_eq(wos_html_escape(tp, NULL), "");
    ck_assert_str_eq(wos_html_escape(tp, "caf\xc3\xa9"), "caf\xc3\xa9");
    ck_assert_str_eq(wos_page_clean(tp, "a\r\nb\x7f\xc3\xa9\tc"), "a??b????c");
    ck_assert_int_eq(strlen(wos_page_clean(tp, apr_psprintf(tp, "%0999d", 7))),
                     WOS_PAGE_MAX_DETAIL);
    ck_assert_ptr_null(wos_page_clean(tp, NULL));
}
END_TEST

START_TEST(requirements_in_words)
{
    ck_assert_str_eq(wos_page_requirement(tp, "workos-role", list("admin", NULL, NULL)),
                     "the role admin");
    ck_assert_str_eq(wos_page_requirement(tp, "workos-permission",
                                          list("posts:read", "posts:write", NULL)),
                     "one of the permissions posts:read or posts:write");
    ck_assert_str_eq(wos_page_requirement(tp, "workos-feature-flag", list("a", "b", "c")),
                     "one of the feature flags a, b or c");
    ck_assert_str_eq(wos_page_requirement(tp, "workos-org", list("org_1", NULL, NULL)),
                     "membership of the organization org_1");
    ck_assert_ptr_null(wos_page_requirement(tp, "valid-user", list("x", NULL, NULL)));
    ck_assert_ptr_null(wos_page_requirement(tp, "workos-role", list(NULL, NULL, NULL)));
}
END_TEST

START_TEST(html_escapes_everything_from_outside)
{
    wos_page pg = {0};
    char *h;

    pg.kind = WOS_PAGE_PROVIDER_ERROR;
    pg.detail = "<script>alert(1)</script>\r\nSet-Cookie: x";
    pg.sign_in_href = "/auth/login?return_to=%2Fa&b=\"c\"";
    h = wos_page_html(tp, &pg);
    ck_assert_ptr_null(strstr(h, "<script>"));
    ck_assert_ptr_nonnull(strstr(h, "&lt;script&gt;alert(1)&lt;/script&gt;??Set-Cookie: x"));
    ck_assert_ptr_nonnull(strstr(h, "href=\"/auth/login?return_to=%2Fa&amp;b=&quot;c&quot;\""));
    ck_assert_ptr_nonnull(strstr(h, ">Sign in again</a>"));
    ck_assert_ptr_null(strstr(h, "wos-sign-out"));      /* not given, not shown */
    ck_assert_ptr_nonnull(strstr(h, "<title>Sign-in was not completed</title>"));
}
END_TEST

START_TEST(forbidden_page_says_who_and_why)
{
    wos_page pg = {0};
    char *h;

    pg.kind = WOS_PAGE_FORBIDDEN;
    pg.user = "grace@example.com";
    pg.role = "member";
    pg.requirements = list("the role admin", NULL, NULL);
    pg.switch_href = "/auth/switch-organization";
    pg.return_to = "/admin/?a=1&b=2";
    pg.switch_orgs = list("org_A", NULL, NULL);
    pg.back_href = "/app/";
    pg.sign_out_href = "/auth/logout";
    h = wos_page_html(tp, &pg);
    ck_assert_ptr_nonnull(strstr(h, "<td id=\"wos-user\">grace@example.com</td>"));
    ck_assert_ptr_nonnull(strstr(h, "<td id=\"wos-org\">no organization</td>"));
    ck_assert_ptr_nonnull(strstr(h, "<td id=\"wos-role\">member</td>"));
    ck_assert_ptr_nonnull(strstr(h, "<li>the role admin</li>"));
    ck_assert_ptr_nonnull(strstr(h, "<form method=\"post\" action=\"/auth/switch-organization\">"
                                    "<input type=\"hidden\" name=\"organization_id\" "
                                    "value=\"org_A\"><input type=\"hidden\" name=\"return_to\" "
                                    "value=\"/admin/?a=1&amp;b=2\">"));
    ck_assert_ptr_nonnull(strstr(h, "id=\"wos-back\" href=\"/app/\""));
    ck_assert_ptr_nonnull(strstr(h, "id=\"wos-sign-out\" href=\"/auth/logout\""));
    ck_assert_str_eq(wos_page_description(tp, &pg),
                     "You are signed in, but your account does not have what this page "
                     "requires. This page requires the role admin.");
}
END_TEST

START_TEST(json_body)
{
    wos_page pg = {0};
    json_error_t e;
    json_t *o;
    char *j;

    pg.kind = WOS_PAGE_CANCELLED;
    pg.detail = "The user said \"no\"\n";
    j = wos_page_json(tp, &pg);
    o = json_loads(j, 0, &e);
    ck_assert_ptr_nonnull(o);
    ck_assert_str_eq(json_string_value(json_object_get(o, "error")), "sign_in_cancelled");
    ck_assert_str_eq(json_string_value(json_object_get(o, "error_description")),
                     "You cancelled sign-in, or you are not allowed to sign in here. "
                     "The user said \"no\"?");
    ck_assert_int_eq(json_object_size(o), 2);
    json_decref(o);
}
END_TEST

START_TEST(accept_header)
{
    ck_assert(wos_page_wants_json("application/json"));
    ck_assert(wos_page_wants_json("application/json; charset=utf-8"));
    ck_assert(wos_page_wants_json("text/plain, APPLICATION/JSON;q=0.9"));
    ck_assert(!wos_page_wants_json("text/html,application/xhtml+xml,application/json;q=0.9"));
    ck_assert(!wos_page_wants_json("*/*"));
    ck_assert(!wos_page_wants_json("application/jsonx"));
    ck_assert(!wos_page_wants_json(NULL));
    ck_assert(!wos_page_wants_json(""));
}
END_TEST

static Suite *pages_suite(void)
{
    Suite *su = suite_create("pages");
    TCase *tc = wos_tcase("pages");

    tcase_add_test(tc, every_kind_is_complete);
    tcase_add_test(tc, escape_and_clean);
    tcase_add_test(tc, requirements_in_words);
    tcase_add_test(tc, html_escapes_everything_from_outside);
    tcase_add_test(tc, forbidden_page_says_who_and_why);
    tcase_add_test(tc, json_body);
    tcase_add_test(tc, accept_header);
    suite_add_tcase(su, tc);
    return su;
}

WOS_TEST_MAIN(pages_suite)
