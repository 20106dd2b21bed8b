/* SPDX-License-Identifier: Apache-2.0 */
/* test_backend.c: header encodings and the Cookie header a backend gets (src/wos_backend.c). */
#include "testutil.h"
#include "wos_backend.h"

static const char *enc(wos_hdrenc e, const char *env, const char *v)
{
    return wos_hdrenc_value(tp, e, env, v);
}

START_TEST(utf8_is_unchanged)
{
    const char *v = "M\xc3\xbcller";
    ck_assert_ptr_eq(enc(WOS_HDRENC_UTF8, "WORKOS_USER_LAST_NAME", v), v);
}
END_TEST

START_TEST(latin1_transcodes_and_replaces)
{
    const char *ascii = "Ada";
    ck_assert_str_eq(enc(WOS_HDRENC_LATIN1, "WORKOS_USER_LAST_NAME", "M\xc3\xbcller"),
                     "M\xfcller");
    ck_assert_ptr_eq(enc(WOS_HDRENC_LATIN1, "WORKOS_USER_FIRST_NAME", ascii), ascii);
    /* U+00FF is the last Latin-1 character; U+0141 (L with stroke), an emoji are not. */
    ck_assert_str_eq(enc(WOS_HDRENC_LATIN1, "X", "\xc3\xbf\xc5\x81\xf0\x9f\x98\x80."), "\xff?" "?.");
    /* Malformed: a lone continuation byte, a cut sequence, an overlong '/', a surrogate. */
    ck_assert_str_eq(enc(WOS_HDRENC_LATIN1, "X", "a\x80z"), "a?z");
    ck_assert_str_eq(enc(WOS_HDRENC_LATIN1, "X", "a\xc3"), "a?");
    ck_assert_str_eq(enc(WOS_HDRENC_LATIN1, "X", "\xc0\xaf"), "??");
    ck_assert_str_eq(enc(WOS_HDRENC_LATIN1, "X", "\xed\xa0\x80"), "???");
    ck_assert_str_eq(enc(WOS_HDRENC_LATIN1, "X", "\xf5\x80\x80\x80"), "????");
}
END_TEST

START_TEST(base64url_for_free_text_only)
{
    const char *id = "user_01";
    ck_assert_str_eq(enc(WOS_HDRENC_BASE64URL, "WORKOS_USER_LAST_NAME", "M\xc3\xbcller"),
                     "TcO8bGxlcg");
    ck_assert_str_eq(enc(WOS_HDRENC_BASE64URL, "WORKOS_USER_EMAIL", "a@b.c"), "YUBiLmM");
    ck_assert_ptr_eq(enc(WOS_HDRENC_BASE64URL, "WORKOS_USER_ID", id), id);
    ck_assert(wos_hdrenc_is_text("WORKOS_IMPERSONATOR_REASON"));
    ck_assert(wos_hdrenc_is_text("WORKOS_CLAIM_DEPARTMENT"));
    ck_assert(!wos_hdrenc_is_text("WORKOS_ACCESS_TOKEN"));
    ck_assert(!wos_hdrenc_is_text("WORKOS_PERMISSIONS"));
}
END_TEST

static const char *strip(const char *h)
{
    return wos_cookie_strip(tp, h, "wos-session", "wos-auth-verifier-");
}

START_TEST(strip_removes_session_chunks_and_state)
{
    const char *h = "a=1; b=2";
    ck_assert_ptr_eq(strip(h), h);
    ck_assert_str_eq(strip("a=1; wos-session=x; b=2"), "a=1; b=2");
    ck_assert_str_eq(strip("wos-session.0=x;wos-session.1=y; theme=dark"), "theme=dark");
    ck_assert_str_eq(strip("wos-auth-verifier-abc=s; lang=en; wos-session=z"), "lang=en");
    ck_assert_ptr_null(strip("wos-session=x; wos-session.12=y; wos-auth-verifier-q=1"));
    /* Names that only look alike stay: another suffix, a prefix of ours, case. */
    ck_assert_str_eq(strip("wos-session.x=1; wos-session2=2; wos-sessio=3; WOS-SESSION=4; "
                           "wos-session.=5"),
                     "wos-session.x=1; wos-session2=2; wos-sessio=3; WOS-SESSION=4; "
                     "wos-session.=5");
    /* Values with '=' and spaces around names survive as they were. */
    ck_assert_str_eq(strip(" k = v=w ;  wos-session = s ; z=\"q\""), "k = v=w ; z=\"q\"");
    ck_assert_str_eq(strip("a=1;; wos-session=x"), "a=1");
}
END_TEST

static Suite *backend_suite(void)
{
    Suite *s = suite_create("backend");
    TCase *tc = wos_tcase("backend");

    tcase_add_test(tc, utf8_is_unchanged);
    tcase_add_test(tc, latin1_transcodes_and_replaces);
    tcase_add_test(tc, base64url_for_free_text_only);
    tcase_add_test(tc, strip_removes_session_chunks_and_state);
    suite_add_tcase(s, tc);
    return s;
}

WOS_TEST_MAIN(backend_suite)
