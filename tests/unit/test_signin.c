/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_signin.c: the sign-in state of src/wos_signin.c: made, sealed into
 * its cookie, opened once by the callback, and the cookies in flight bounded.
 */
#include "testutil.h"
#include "wos_seal.h"
#include "wos_signin.h"

#define PW1 "a-cookie-password-of-at-least-32-characters"
#define PW2 "another-cookie-password-of-32-characters-or-more"
#define NOW 1767225600000LL         /* ms */

static apr_array_header_t *passwords(const char *first, const char *second)
{
    apr_array_header_t *a = apr_array_make(tp, 2, sizeof(const char *));

    APR_ARRAY_PUSH(a, const char *) = first;
    if (second)
        APR_ARRAY_PUSH(a, const char *) = second;
    return a;
}

/* A made and sealed sign-in returning to @p target. */
static const char *sealed_signin(const char *target, const char *password, wos_signin *si)
{
    const char *sealed = NULL;

    ck_assert_int_eq(wos_signin_make(tp, target, si), WOS_OK);
    ck_assert_int_eq(wos_signin_seal(tp, si, password, NOW, &sealed), WOS_OK);
    return sealed;
}

START_TEST(make_is_random)
{
    wos_signin a, b;

    ck_assert_int_eq(wos_signin_make(tp, "/app", &a), WOS_OK);
    ck_assert_int_eq(wos_signin_make(tp, NULL, &b), WOS_OK);
    ck_assert_uint_ge(strlen(a.state), 43);             /* 32 bytes, base64url */
    ck_assert_uint_ge(strlen(a.code_verifier), 43);
    ck_assert_str_ne(a.state, b.state);
    ck_assert_str_ne(a.state, a.code_verifier);
    ck_assert_str_eq(a.return_path, "/app");
    ck_assert_str_eq(b.return_path, "/");
}
END_TEST

START_TEST(seal_then_open)
{
    wos_signin si, got;
    const char *sealed = sealed_signin("/reports?q=1", PW1, &si), *err = "unset";

    ck_assert_int_eq(wos_signin_open(tp, sealed, si.state, passwords(PW1, NULL), NOW + 1000,
                                     &got, &err), WOS_OK);
    ck_assert_ptr_null(err);
    ck_assert_str_eq(got.state, si.state);
    ck_assert_str_eq(got.code_verifier, si.code_verifier);
    ck_assert_str_eq(got.return_path, "/reports?q=1");
}
END_TEST

/* The Node SDK's members, as JSON inside the seal. */
START_TEST(sealed_members_are_the_sdks)
{
    wos_signin si;
    const char *sealed = sealed_signin("/x", PW1, &si);
    char *json;
    apr_size_t len;
    int idx;

    ck_assert_int_eq(wos_unseal(tp, sealed, strlen(sealed), passwords(PW1, NULL), NOW, &json,
                                &len, &idx, NULL), WOS_OK);
    ck_assert_str_eq(json, apr_psprintf(tp, "{\"state\":\"%s\",\"codeVerifier\":\"%s\","
                                        "\"returnPathname\":\"/x\"}", si.state,
                                        si.code_verifier));
}
END_TEST

START_TEST(open_refuses_another_state)
{
    wos_signin si, other, got;
    const char *sealed = sealed_signin("/", PW1, &si), *err = NULL;

    ck_assert_int_eq(wos_signin_make(tp, "/", &other), WOS_OK);
    ck_assert_int_eq(wos_signin_open(tp, sealed, other.state, passwords(PW1, NULL), NOW, &got,
                                     &err), WOS_EDENIED);
    ck_assert_ptr_nonnull(err);
}
END_TEST

/* Sealed for WOS_SIGNIN_TTL: good just before (within the seal's skew), not after. */
START_TEST(open_refuses_expired)
{
    wos_signin si, got;
    const char *sealed = sealed_signin("/", PW1, &si);
    apr_int64_t end = NOW + (apr_int64_t)(WOS_SIGNIN_TTL + WOS_SEAL_SKEW_SEC) * 1000;

    ck_assert_int_eq(wos_signin_open(tp, sealed, si.state, passwords(PW1, NULL), end - 1,
                                     &got, NULL), WOS_OK);
    ck_assert_int_eq(wos_signin_open(tp, sealed, si.state, passwords(PW1, NULL), end, &got,
                                     NULL), WOS_EEXPIRED);
}
END_TEST

START_TEST(open_with_a_rotated_password)
{
    wos_signin si, got;
    const char *sealed = sealed_signin("/", PW1, &si);

    ck_assert_int_eq(wos_signin_open(tp, sealed, si.state, passwords(PW2, PW1), NOW, &got,
                                     NULL), WOS_OK);
    ck_assert_int_eq(wos_signin_open(tp, sealed, si.state, passwords(PW2, NULL), NOW, &got,
                                     NULL), WOS_EMAC);
}
END_TEST

START_TEST(open_refuses_tampering)
{
    wos_signin si, got;
    const char *sealed = sealed_signin("/", PW1, &si);
    char *bad = apr_pstrdup(tp, sealed);
    apr_size_t mid = strlen(bad) / 2;

    bad[mid] = bad[mid] == 'A' ? 'B' : 'A';
    ck_assert_int_ne(wos_signin_open(tp, bad, si.state, passwords(PW1, NULL), NOW, &got, NULL),
                     WOS_OK);
}
END_TEST

/* A seal of another payload (a session, say) is not a sign-in state. */
START_TEST(open_refuses_missing_members)
{
    static const char *docs[] = {
        "{\"state\":\"s\",\"codeVerifier\":\"v\"}",
        "{\"state\":\"s\",\"returnPathname\":\"/\"}",
        "{\"codeVerifier\":\"v\",\"returnPathname\":\"/\"}",
        "{\"state\":\"s\",\"codeVerifier\":1,\"returnPathname\":\"/\"}",
    };
    const char *sealed, *err = NULL;
    wos_signin got;

    ck_assert_int_eq(wos_seal(tp, PW1, docs[_i], strlen(docs[_i]), 600, NOW, &sealed), WOS_OK);
    ck_assert_int_ne(wos_signin_open(tp, sealed, "s", passwords(PW1, NULL), NOW, &got, &err),
                     WOS_OK);
    ck_assert_ptr_nonnull(err);
}
END_TEST

START_TEST(cookie_name_from_the_state)
{
    const char *a = wos_signin_cookie_name(tp, "state-one");

    ck_assert_str_eq(a, wos_signin_cookie_name(tp, "state-one"));
    ck_assert_str_ne(a, wos_signin_cookie_name(tp, "state-two"));
    ck_assert_int_eq(strncmp(a, WOS_SIGNIN_COOKIE_PREFIX, strlen(WOS_SIGNIN_COOKIE_PREFIX)), 0);
    ck_assert_uint_eq(strlen(a), strlen(WOS_SIGNIN_COOKIE_PREFIX) + 16);
    ck_assert_ptr_null(strstr(a, "state-one"));
}
END_TEST

START_TEST(cookie_attrs)
{
    wos_cookie_attrs base = { "/app", "example.com", "Strict", 1, 1, 34560000 }, a;

    wos_signin_cookie_attrs(&base, &a);
    ck_assert_str_eq(a.path, "/");
    ck_assert_str_eq(a.same_site, "Lax");
    ck_assert_int_eq(a.max_age, WOS_SIGNIN_TTL);
    ck_assert_str_eq(a.domain, "example.com");
    ck_assert_int_eq(a.secure, 1);
    ck_assert_int_eq(a.http_only, 1);
}
END_TEST

/* A Cookie header with @p n state cookies (s0 ... s<n-1>) among others. */
static const char *header_with(int n)
{
    const char *h = "wos-session=abc";
    int i;

    for (i = 0; i < n; i++)
        h = apr_psprintf(tp, "%s; " WOS_SIGNIN_COOKIE_PREFIX "s%d=v; other%d=x", h, i, i);
    return h;
}

/* One more may be set: below the bound nothing is dropped, above it the oldest. */
START_TEST(excess_drops_the_oldest)
{
    int n = _i, want = n - (WOS_SIGNIN_MAX_COOKIES - 1), i;
    apr_array_header_t *drop = wos_signin_excess(tp, header_with(n));

    if (want < 0)
        want = 0;
    ck_assert_int_eq(drop->nelts, want);
    for (i = 0; i < drop->nelts; i++)
        ck_assert_str_eq(APR_ARRAY_IDX(drop, i, const char *),
                         apr_psprintf(tp, WOS_SIGNIN_COOKIE_PREFIX "s%d", i));
}
END_TEST

/* A flood of state cookies is not answered with a flood of deletions. */
START_TEST(excess_is_capped)
{
    apr_array_header_t *drop = wos_signin_excess(tp, header_with(200));

    ck_assert_int_eq(drop->nelts, 4 * WOS_SIGNIN_MAX_COOKIES);
    ck_assert_int_eq(wos_signin_excess(tp, NULL)->nelts, 0);
    ck_assert_int_eq(wos_signin_excess(tp, "a=b; c=d")->nelts, 0);
}
END_TEST

START_TEST(used_key_hides_the_state)
{
    const char *k = wos_signin_used_key(tp, "secret-state");

    ck_assert_ptr_null(strstr(k, "secret-state"));
    ck_assert_str_eq(k, wos_signin_used_key(tp, "secret-state"));
    ck_assert_str_ne(k, wos_signin_used_key(tp, "secret-statf"));
}
END_TEST

static Suite *signin_suite(void)
{
    Suite *s = suite_create("signin");
    TCase *ts = wos_tcase("state");
    TCase *tc = wos_tcase("cookies");

    tcase_add_test(ts, make_is_random);
    tcase_add_test(ts, seal_then_open);
    tcase_add_test(ts, sealed_members_are_the_sdks);
    tcase_add_test(ts, open_refuses_another_state);
    tcase_add_test(ts, open_refuses_expired);
    tcase_add_test(ts, open_with_a_rotated_password);
    tcase_add_test(ts, open_refuses_tampering);
    tcase_add_loop_test(ts, open_refuses_missing_members, 0, 4);
    tcase_add_test(ts, used_key_hides_the_state);
    suite_add_tcase(s, ts);
    tcase_add_test(tc, cookie_name_from_the_state);
    tcase_add_test(tc, cookie_attrs);
    tcase_add_loop_test(tc, excess_drops_the_oldest, 0, 2 * WOS_SIGNIN_MAX_COOKIES + 2);
    tcase_add_test(tc, excess_is_capped);
    suite_add_tcase(s, tc);
    return s;
}

WOS_TEST_MAIN(signin_suite)
