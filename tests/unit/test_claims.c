/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_claims.c: the identity variables and headers (src/wos_claims.c):
 * names, order and values against the table in README.md, where each value
 * comes from (session or token, and the fall-backs), absent values left out,
 * sanitising, and which incoming header names count as reserved.
 */
#include "testutil.h"
#include "wos_claims.h"

static apr_array_header_t *strs(const char *const *v, int n)
{
    apr_array_header_t *a = apr_array_make(tp, n + 1, sizeof(const char *));
    int i;

    for (i = 0; i < n; i++)
        APR_ARRAY_PUSH(a, const char *) = v[i];
    return a;
}

static wos_session *full_session(void)
{
    wos_session *s = apr_pcalloc(tp, sizeof(*s));

    s->access_token = "eyJ.token.sig";
    s->refresh_token = "refresh";
    s->organization_id = "org_SESSION";
    s->authentication_method = "GoogleOAuth";
    s->impersonator_email = "admin@example.com";
    s->impersonator_reason = "ticket 7";
    s->user_id = "user_01ADA";
    s->user_email = "ada@example.com";
    s->user_first_name = "Ada";
    s->user_last_name = "Lovelace";
    s->user_email_verified = 1;
    return s;
}

static wos_claims *full_claims(void)
{
    static const char *const roles[] = {"admin", "member"};
    static const char *const perms[] = {"posts:read", "posts:write", "users:manage"};
    static const char *const ents[] = {"sso"};
    static const char *const flags[] = {"beta", "dark-mode"};
    wos_claims *c = apr_pcalloc(tp, sizeof(*c));

    c->sub = "user_01ADA";
    c->sid = "session_01XYZ";
    c->org_id = "org_TOKEN";
    c->role = "admin";
    c->act_sub = "act@example.com";
    c->roles = strs(roles, 2);
    c->permissions = strs(perms, 3);
    c->entitlements = strs(ents, 1);
    c->feature_flags = strs(flags, 2);
    c->exp = 1700000300;
    c->iat = 1700000000;
    return c;
}

static wos_claims *empty_claims(void)
{
    wos_claims *c = apr_pcalloc(tp, sizeof(*c));

    c->sub = "user_01ADA";
    c->roles = strs(NULL, 0);
    c->permissions = strs(NULL, 0);
    c->entitlements = strs(NULL, 0);
    c->feature_flags = strs(NULL, 0);
    return c;
}

/* The value of @p env in @p vars, NULL when it was left out. */
static const char *var(const apr_array_header_t *vars, const char *env)
{
    int i;

    for (i = 0; i < vars->nelts; i++) {
        const wos_identity_var *v = &APR_ARRAY_IDX(vars, i, wos_identity_var);
        if (strcmp(v->env, env) == 0)
            return v->value;
    }
    return NULL;
}

/* README.md's table, in the header's order. */
static const char *const NAMES[][2] = {
    {"WORKOS_USER_ID", "X-WorkOS-User-Id"},
    {"WORKOS_USER_EMAIL", "X-WorkOS-User-Email"},
    {"WORKOS_USER_FIRST_NAME", "X-WorkOS-User-First-Name"},
    {"WORKOS_USER_LAST_NAME", "X-WorkOS-User-Last-Name"},
    {"WORKOS_USER_EMAIL_VERIFIED", "X-WorkOS-User-Email-Verified"},
    {"WORKOS_ORGANIZATION_ID", "X-WorkOS-Organization-Id"},
    {"WORKOS_ROLE", "X-WorkOS-Role"},
    {"WORKOS_ROLES", "X-WorkOS-Roles"},
    {"WORKOS_PERMISSIONS", "X-WorkOS-Permissions"},
    {"WORKOS_ENTITLEMENTS", "X-WorkOS-Entitlements"},
    {"WORKOS_FEATURE_FLAGS", "X-WorkOS-Feature-Flags"},
    {"WORKOS_SESSION_ID", "X-WorkOS-Session-Id"},
    {"WORKOS_AUTHENTICATION_METHOD", "X-WorkOS-Authentication-Method"},
    {"WORKOS_IMPERSONATOR_EMAIL", "X-WorkOS-Impersonator-Email"},
    {"WORKOS_IMPERSONATOR_REASON", "X-WorkOS-Impersonator-Reason"},
    {"WORKOS_ACCESS_TOKEN_EXPIRES", "X-WorkOS-Access-Token-Expires"},
    {"WORKOS_ACCESS_TOKEN", "X-WorkOS-Access-Token"},
};
#define N_NAMES ((int)(sizeof(NAMES) / sizeof(NAMES[0])))

START_TEST(names_and_order)
{
    apr_array_header_t *vars = wos_identity_vars(tp, full_session(), full_claims(), 1);
    int i;

    ck_assert_int_eq(vars->nelts, N_NAMES);
    for (i = 0; i < N_NAMES; i++) {
        const wos_identity_var *v = &APR_ARRAY_IDX(vars, i, wos_identity_var);
        ck_assert_str_eq(v->env, NAMES[i][0]);
        ck_assert_str_eq(v->header, NAMES[i][1]);
    }
}
END_TEST

START_TEST(values)
{
    apr_array_header_t *v = wos_identity_vars(tp, full_session(), full_claims(), 1);

    ck_assert_str_eq(var(v, "WORKOS_USER_ID"), "user_01ADA");
    ck_assert_str_eq(var(v, "WORKOS_USER_EMAIL"), "ada@example.com");
    ck_assert_str_eq(var(v, "WORKOS_USER_FIRST_NAME"), "Ada");
    ck_assert_str_eq(var(v, "WORKOS_USER_LAST_NAME"), "Lovelace");
    ck_assert_str_eq(var(v, "WORKOS_USER_EMAIL_VERIFIED"), "true");
    ck_assert_str_eq(var(v, "WORKOS_ORGANIZATION_ID"), "org_TOKEN");
    ck_assert_str_eq(var(v, "WORKOS_ROLE"), "admin");
    ck_assert_str_eq(var(v, "WORKOS_ROLES"), "admin,member");
    ck_assert_str_eq(var(v, "WORKOS_PERMISSIONS"), "posts:read,posts:write,users:manage");
    ck_assert_str_eq(var(v, "WORKOS_ENTITLEMENTS"), "sso");
    ck_assert_str_eq(var(v, "WORKOS_FEATURE_FLAGS"), "beta,dark-mode");
    ck_assert_str_eq(var(v, "WORKOS_SESSION_ID"), "session_01XYZ");
    ck_assert_str_eq(var(v, "WORKOS_AUTHENTICATION_METHOD"), "GoogleOAuth");
    ck_assert_str_eq(var(v, "WORKOS_IMPERSONATOR_EMAIL"), "admin@example.com");
    ck_assert_str_eq(var(v, "WORKOS_IMPERSONATOR_REASON"), "ticket 7");
    ck_assert_str_eq(var(v, "WORKOS_ACCESS_TOKEN_EXPIRES"), "1700000300");
    ck_assert_str_eq(var(v, "WORKOS_ACCESS_TOKEN"), "eyJ.token.sig");
}
END_TEST

START_TEST(token_only_when_asked)
{
    apr_array_header_t *v = wos_identity_vars(tp, full_session(), full_claims(), 0);

    ck_assert_int_eq(v->nelts, N_NAMES - 1);
    ck_assert_ptr_null(var(v, "WORKOS_ACCESS_TOKEN"));
    ck_assert_str_eq(var(v, "WORKOS_ACCESS_TOKEN_EXPIRES"), "1700000300");
}
END_TEST

START_TEST(absent_values_left_out)
{
    wos_session *s = apr_pcalloc(tp, sizeof(*s));
    apr_array_header_t *v;

    s->user_id = "user_1";
    s->access_token = "t";
    s->refresh_token = "r";
    s->user_email_verified = -1;
    s->user_first_name = "";
    v = wos_identity_vars(tp, s, empty_claims(), 0);
    ck_assert_int_eq(v->nelts, 1);
    ck_assert_str_eq(var(v, "WORKOS_USER_ID"), "user_1");
}
END_TEST

START_TEST(email_verified_false)
{
    wos_session *s = full_session();

    s->user_email_verified = 0;
    ck_assert_str_eq(var(wos_identity_vars(tp, s, full_claims(), 0),
                         "WORKOS_USER_EMAIL_VERIFIED"), "false");
}
END_TEST

START_TEST(organization_fallback)
{
    wos_claims *c = full_claims();

    c->org_id = NULL;
    ck_assert_str_eq(var(wos_identity_vars(tp, full_session(), c, 0),
                         "WORKOS_ORGANIZATION_ID"), "org_SESSION");
}
END_TEST

START_TEST(impersonator_fallback)
{
    wos_session *s = full_session();
    apr_array_header_t *v;

    s->impersonator_email = NULL;
    s->impersonator_reason = NULL;
    v = wos_identity_vars(tp, s, full_claims(), 0);
    ck_assert_str_eq(var(v, "WORKOS_IMPERSONATOR_EMAIL"), "act@example.com");
    ck_assert_ptr_null(var(v, "WORKOS_IMPERSONATOR_REASON"));
    v = wos_identity_vars(tp, s, empty_claims(), 0);
    ck_assert_ptr_null(var(v, "WORKOS_IMPERSONATOR_EMAIL"));
}
END_TEST

START_TEST(values_sanitised)
{
    static const char *const odd[] = {"a,b", "x\r\nSet-Cookie: y"};
    wos_session *s = full_session();
    wos_claims *c = full_claims();
    apr_array_header_t *v;
    int i;

    s->user_first_name = "Ada\r\nX-WorkOS-Role: admin";
    s->user_last_name = "Love\x01lace\x7f\t\x1f";
    s->impersonator_reason = "caf\xc3\xa9 \xe2\x80\x94";   /* UTF-8 is kept */
    c->role = "\nadmin";
    c->permissions = strs(odd, 2);
    v = wos_identity_vars(tp, s, c, 1);
    ck_assert_str_eq(var(v, "WORKOS_USER_FIRST_NAME"), "Ada  X-WorkOS-Role: admin");
    ck_assert_str_eq(var(v, "WORKOS_USER_LAST_NAME"), "Love lace   ");
    ck_assert_str_eq(var(v, "WORKOS_IMPERSONATOR_REASON"), "caf\xc3\xa9 \xe2\x80\x94");
    ck_assert_str_eq(var(v, "WORKOS_ROLE"), " admin");
    ck_assert_str_eq(var(v, "WORKOS_PERMISSIONS"), "a,b,x  Set-Cookie: y");
    for (i = 0; i < v->nelts; i++) {
        const char *val = APR_ARRAY_IDX(v, i, wos_identity_var).value, *c2;
        for (c2 = val; *c2; c2++)
            ck_assert((unsigned char)*c2 >= 0x20 && (unsigned char)*c2 != 0x7f);
    }
}
END_TEST

/* Every control character at every place of values of every length up to
 * five words, beside bytes that are not (space, '~', UTF-8): found exactly. */
START_TEST(control_characters_found_anywhere)
{
    static const unsigned char fill[] = {' ', '~', 'a', 0x80, 0x9f, 0xc3, 0xff};
    wos_session *s = full_session();
    wos_claims *c = full_claims();
    char buf[48], want[48];
    apr_pool_t *sp;
    int len, at, b, f;

    ck_assert_int_eq(apr_pool_create(&sp, tp), APR_SUCCESS);
    for (len = 1; len <= 40; len++) {
        for (f = 0; f < (int)sizeof(fill); f++) {
            memset(buf, fill[f], (size_t)len);
            buf[len] = '\0';
            s->user_email = buf;
            ck_assert_str_eq(var(wos_identity_vars(sp, s, c, 0), "WORKOS_USER_EMAIL"), buf);
            for (at = 0; at < len; at++) {
                for (b = 1; b <= 0x7f; b++) {
                    if (b >= 0x20 && b != 0x7f)
                        continue;
                    buf[at] = (char)b;
                    memcpy(want, buf, (size_t)len + 1);
                    want[at] = ' ';
                    ck_assert_str_eq(var(wos_identity_vars(sp, s, c, 0), "WORKOS_USER_EMAIL"),
                                     want);
                    buf[at] = (char)fill[f];
                    apr_pool_clear(sp);
                }
            }
        }
    }
}
END_TEST

START_TEST(sanitize_value)
{
    char all[33];
    int i;

    for (i = 1; i < 32; i++)
        all[i - 1] = (char)i;
    all[31] = 0x7f;
    all[32] = '\0';
    ck_assert_str_eq(wos_sanitize_value(tp, all), "                                ");
    ck_assert_str_eq(wos_sanitize_value(tp, "plain ~!@#$%^&*()"), "plain ~!@#$%^&*()");
    ck_assert_str_eq(wos_sanitize_value(tp, "\xf0\x9f\x99\x82"), "\xf0\x9f\x99\x82");
    ck_assert_str_eq(wos_sanitize_value(tp, ""), "");
    ck_assert_str_eq(wos_sanitize_value(tp, NULL), "");
}
END_TEST

START_TEST(without_claims_or_session)
{
    apr_array_header_t *v = wos_identity_vars(tp, full_session(), NULL, 0);

    ck_assert_str_eq(var(v, "WORKOS_USER_ID"), "user_01ADA");
    ck_assert_str_eq(var(v, "WORKOS_ORGANIZATION_ID"), "org_SESSION");
    ck_assert_ptr_null(var(v, "WORKOS_ROLE"));
    v = wos_identity_vars(tp, NULL, full_claims(), 1);
    ck_assert_str_eq(var(v, "WORKOS_USER_ID"), "user_01ADA");
    ck_assert_str_eq(var(v, "WORKOS_IMPERSONATOR_EMAIL"), "act@example.com");
    ck_assert_ptr_null(var(v, "WORKOS_ACCESS_TOKEN"));
    ck_assert_int_eq(wos_identity_vars(tp, NULL, NULL, 1)->nelts, 0);
}
END_TEST

/* --- reserved header names ------------------------------------------------- */

START_TEST(reserved_names)
{
    static const char *const yes[] = {
        "X-WorkOS-User-Id", "x-workos-user-id", "X_WORKOS_USER_ID", "x-WoRkOs_uSeR-iD",
        "X-WorkOS-", "X-WorkOS-Made-Up-Later", "x_workos_", "X-WorkOS", "x_workos",
        "WORKOS_USER_ID", "workos-user-id", "Workos_Access_Token", "WORKOS_ANYTHING",
        "REMOTE_USER", "remote-user", "Remote_User", "AUTH_TYPE", "auth-type", "Auth_Type",
    };
    apr_array_header_t *v = wos_identity_vars(tp, full_session(), full_claims(), 1);
    apr_size_t i;
    int k;

    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        ck_assert_msg(wos_header_is_reserved(yes[i]), "%s not reserved", yes[i]);
    /* Everything the module itself sets. */
    for (k = 0; k < v->nelts; k++) {
        ck_assert(wos_header_is_reserved(APR_ARRAY_IDX(v, k, wos_identity_var).header));
        ck_assert(wos_header_is_reserved(APR_ARRAY_IDX(v, k, wos_identity_var).env));
    }
}
END_TEST

START_TEST(not_reserved_names)
{
    static const char *const no[] = {
        "X-Forwarded-For", "Authorization", "Cookie", "X-WorkOSx", "X-WorkOSUser",
        "X-Work-OS-User-Id", "XX-WorkOS-User-Id", "X-Remote-User", "Remote-User-Name",
        "Remote User", "Auth-Types", "AuthType", "WORKOS", "WorkOSUser", "HTTP_WORKOS_USER_ID",
        "", "X", "x-",
    };
    apr_size_t i;

    for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        ck_assert_msg(!wos_header_is_reserved(no[i]), "%s reserved", no[i]);
    ck_assert(!wos_header_is_reserved(NULL));
}
END_TEST

static Suite *claims_suite(void)
{
    Suite *su = suite_create("claims");
    TCase *tc = wos_tcase("identity");

    tcase_add_test(tc, names_and_order);
    tcase_add_test(tc, values);
    tcase_add_test(tc, token_only_when_asked);
    tcase_add_test(tc, absent_values_left_out);
    tcase_add_test(tc, email_verified_false);
    tcase_add_test(tc, organization_fallback);
    tcase_add_test(tc, impersonator_fallback);
    tcase_add_test(tc, values_sanitised);
    tcase_add_test(tc, sanitize_value);
    tcase_add_test(tc, control_characters_found_anywhere);
    tcase_add_test(tc, without_claims_or_session);
    suite_add_tcase(su, tc);

    tc = wos_tcase("reserved");
    tcase_add_test(tc, reserved_names);
    tcase_add_test(tc, not_reserved_names);
    suite_add_tcase(su, tc);
    return su;
}

WOS_TEST_MAIN(claims_suite)
