/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_session.c: the session payload (src/wos_session.c). The known answers
 * in tests/vectors/session/ were made by the WorkOS Node SDK itself
 * (make.mjs): an authenticate answer in, the JSON the SDK sealed out. Also:
 * what the cookie reader refuses (missing and wrong-typed fields, size), the
 * snake->camel conversion details, and parse(serialize(x)) == x.
 */
#include <apr_base64.h>
#include "testutil.h"
#include "wos_json.h"
#include "wos_session.h"

/*
 * Whether the text must match byte for byte: in "unicode" jansson writes the
 * escape \u001F where JSON.stringify writes \u001f (the same string), so
 * there only values and key order are compared.
 */
static const struct { const char *name; int bytes; } VECTORS[] = {
    {"full", 1}, {"minimal", 1}, {"nulls", 1}, {"org_from_token", 1},
    {"org_absent_in_token", 1}, {"unicode", 0},
};
#define N_VECTORS ((int)(sizeof(VECTORS) / sizeof(VECTORS[0])))

/* A JWT whose payload is @p claims (header and signature do not matter here). */
static const char *jwt_with(const char *claims)
{
    static const char hdr[] = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9";
    char *b64 = apr_palloc(tp, apr_base64_encode_len((int)strlen(claims)));
    char *c;

    apr_base64_encode(b64, claims, (int)strlen(claims));
    for (c = b64; *c; c++)          /* base64 -> base64url, unpadded */
        *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
    while (c > b64 && c[-1] == '=')
        *--c = '\0';
    return apr_pstrcat(tp, hdr, ".", b64, ".c2ln", NULL);
}

static wos_rv parse_str(const char *json, wos_session **s)
{
    const char *err = NULL;
    wos_rv rv = wos_session_parse(tp, json, strlen(json), s, &err);

    if (rv != WOS_OK) {
        ck_assert_ptr_null(*s);
        ck_assert_ptr_nonnull(err);
    }
    return rv;
}

static wos_session *parse_ok(const char *json)
{
    wos_session *s = NULL;

    ck_assert_int_eq(parse_str(json, &s), WOS_OK);
    ck_assert_ptr_nonnull(s);
    return s;
}

static wos_rv from_auth(const char *json, wos_session **s)
{
    const char *err = NULL;
    wos_rv rv = wos_session_from_auth_response(tp, json, strlen(json), s, &err);

    if (rv != WOS_OK) {
        ck_assert_ptr_null(*s);
        ck_assert_ptr_nonnull(err);
    }
    return rv;
}

static json_t *must_parse(const char *text)
{
    json_t *v;
    const char *err;

    ck_assert_int_eq(wos_json_parse(tp, text, strlen(text), &v, &err), WOS_OK);
    return v;
}

/* Equal values with object keys in the same order, at every level. */
static int same_order(const json_t *a, const json_t *b)
{
    if (json_is_object(a) && json_is_object(b)) {
        void *ia = json_object_iter((json_t *)a), *ib = json_object_iter((json_t *)b);
        for (; ia && ib; ia = json_object_iter_next((json_t *)a, ia),
                         ib = json_object_iter_next((json_t *)b, ib)) {
            if (strcmp(json_object_iter_key(ia), json_object_iter_key(ib)) != 0
                || !same_order(json_object_iter_value(ia), json_object_iter_value(ib)))
                return 0;
        }
        return !ia && !ib;
    }
    if (json_is_array(a) && json_is_array(b)) {
        size_t i;
        if (json_array_size(a) != json_array_size(b))
            return 0;
        for (i = 0; i < json_array_size(a); i++) {
            if (!same_order(json_array_get(a, i), json_array_get(b, i)))
                return 0;
        }
        return 1;
    }
    return json_equal((json_t *)a, (json_t *)b);
}

static const char *vector(const char *name, const char *kind)
{
    const char *text = wos_read_vector(tp, apr_pstrcat(tp, "session/", name, ".", kind,
                                                       ".json", NULL), NULL);
    ck_assert_msg(text != NULL, "missing vector %s.%s.json", name, kind);
    return text;
}

/* --- the SDK's own answers ------------------------------------------------ */

START_TEST(sdk_vector_from_auth_response)
{
    const char *name = VECTORS[_i].name;
    const char *expected = vector(name, "session"), *got;
    wos_session *s = NULL;

    ck_assert_int_eq(from_auth(vector(name, "response"), &s), WOS_OK);
    got = wos_session_serialize(tp, s);
    ck_assert_ptr_nonnull(got);
    ck_assert_msg(json_equal(must_parse(got), must_parse(expected)), "%s: values differ", name);
    ck_assert_msg(same_order(must_parse(got), must_parse(expected)), "%s: key order", name);
    if (VECTORS[_i].bytes)
        ck_assert_str_eq(got, expected);
}
END_TEST

START_TEST(sdk_vector_parse_round_trip)
{
    const char *text = vector(VECTORS[_i].name, "session");
    const char *again = wos_session_serialize(tp, parse_ok(text));

    ck_assert_ptr_nonnull(again);
    ck_assert(same_order(must_parse(again), must_parse(text)));
    if (VECTORS[_i].bytes)
        ck_assert_str_eq(again, text);
}
END_TEST

/* Fields read out of the SDK's JSON, against the inputs make.mjs used. */
START_TEST(sdk_vector_fields)
{
    wos_session *s = parse_ok(vector("full", "session"));

    ck_assert_str_eq(s->user_id, "user_01ADA");
    ck_assert_str_eq(s->user_email, "ada@example.com");
    ck_assert_str_eq(s->user_first_name, "Ada");
    ck_assert_str_eq(s->user_last_name, "Lovelace");
    ck_assert_int_eq(s->user_email_verified, 1);
    ck_assert_str_eq(s->organization_id, "org_01ACME");
    ck_assert_str_eq(s->authentication_method, "GoogleOAuth");
    ck_assert_str_eq(s->impersonator_email, "admin@example.com");
    ck_assert_str_eq(s->impersonator_reason, "support ticket 7");
    ck_assert_str_eq(s->refresh_token, "refresh_01FULL");
    ck_assert_ptr_nonnull(strstr(s->access_token, "."));
    ck_assert_str_eq(json_string_value(json_object_get(s->user, "locale")), "en-GB");

    s = parse_ok(vector("minimal", "session"));
    ck_assert_int_eq(s->user_email_verified, 0);
    ck_assert_ptr_null(s->user_first_name);
    ck_assert_ptr_null(s->organization_id);
    ck_assert_ptr_null(s->impersonator_email);

    s = parse_ok(vector("nulls", "session"));
    ck_assert_str_eq(s->impersonator_email, "root@example.com");
    ck_assert_ptr_null(s->impersonator_reason);
}
END_TEST

/* --- snake_case -> camelCase -------------------------------------------- */

static const char *answer(const char *user, const char *extra)
{
    return apr_pstrcat(tp, "{\"user\":", user, ",\"access_token\":\"at\",",
                       "\"refresh_token\":\"rt\"", extra, "}", NULL);
}

START_TEST(camel_conversion)
{
    wos_session *s = NULL;
    const char *user = "{\"id\":\"user_1\",\"first_name\":\"Grace\",\"last_name\":\"Hopper\","
                       "\"email_verified\":false,\"profile_picture_url\":\"https://p\","
                       "\"firstName\":\"camel ignored\",\"other\":1}";

    ck_assert_int_eq(from_auth(answer(user, ""), &s), WOS_OK);
    ck_assert_str_eq(s->user_first_name, "Grace");
    ck_assert_str_eq(s->user_last_name, "Hopper");
    ck_assert_int_eq(s->user_email_verified, 0);
    /* Mapped keys in the SDK's order, its defaults, unmapped keys dropped. */
    ck_assert_str_eq(wos_json_dump(tp, s->user),
                     "{\"id\":\"user_1\",\"emailVerified\":false,\"name\":null,"
                     "\"firstName\":\"Grace\",\"profilePictureUrl\":\"https://p\","
                     "\"lastName\":\"Hopper\",\"externalId\":null,\"metadata\":{}}");
}
END_TEST

START_TEST(org_falls_back_for_opaque_token)
{
    wos_session *s = NULL;

    /* "at" is no JWT: the answer's organization_id is all there is. */
    ck_assert_int_eq(from_auth(answer("{\"id\":\"u\"}", ",\"organization_id\":\"org_A\""), &s),
                     WOS_OK);
    ck_assert_str_eq(s->organization_id, "org_A");
}
END_TEST

START_TEST(org_from_token_claim)
{
    wos_session *s = NULL;
    const char *tok = jwt_with("{\"sub\":\"u\",\"org_id\":\"org_TOKEN\"}");
    const char *json = apr_pstrcat(tp, "{\"user\":{\"id\":\"u\"},\"access_token\":\"", tok,
                                   "\",\"refresh_token\":\"rt\",\"organization_id\":\"org_X\"}",
                                   NULL);

    ck_assert_int_eq(from_auth(json, &s), WOS_OK);
    ck_assert_str_eq(s->organization_id, "org_TOKEN");
}
END_TEST

START_TEST(auth_response_rejects)
{
    static const char *const bad[] = {
        "{\"access_token\":\"at\",\"refresh_token\":\"rt\"}",                    /* no user */
        "{\"user\":[],\"access_token\":\"at\",\"refresh_token\":\"rt\"}",
        "{\"user\":{},\"access_token\":\"at\",\"refresh_token\":\"rt\"}",         /* no id */
        "{\"user\":{\"id\":\"u\"},\"refresh_token\":\"rt\"}",                    /* no token */
        "{\"user\":{\"id\":\"u\"},\"access_token\":\"at\"}",
        "{\"user\":{\"id\":\"u\"},\"access_token\":1,\"refresh_token\":\"rt\"}",
        "{\"user\":{\"id\":\"u\",\"email_verified\":\"yes\"},\"access_token\":\"a\","
            "\"refresh_token\":\"r\"}",
        "{\"user\":{\"id\":\"u\",\"created_at\":null},\"access_token\":\"a\","
            "\"refresh_token\":\"r\"}",
        "{\"user\":{\"id\":\"u\",\"metadata\":[]},\"access_token\":\"a\","
            "\"refresh_token\":\"r\"}",
        "{\"user\":{\"id\":\"u\"},\"access_token\":\"a\",\"refresh_token\":\"r\","
            "\"organization_id\":5}",
        "{\"user\":{\"id\":\"u\"},\"access_token\":\"a\",\"refresh_token\":\"r\","
            "\"impersonator\":{\"reason\":\"x\"}}",
        "[1]", "nonsense",
    };
    wos_session *s;
    apr_size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        s = NULL;
        ck_assert_msg(from_auth(bad[i], &s) == WOS_EINVAL, "accepted case %u", (unsigned)i);
    }
}
END_TEST

START_TEST(auth_response_too_big)
{
    apr_size_t n = 4 * WOS_SESSION_MAX_SIZE + 1;
    char *big = apr_palloc(tp, n + 1);
    wos_session *s = NULL;
    const char *err = NULL;

    memset(big, ' ', n);
    big[n] = '\0';
    ck_assert_int_eq(wos_session_from_auth_response(tp, big, n, &s, &err), WOS_ETOOBIG);
    ck_assert_ptr_null(s);
}
END_TEST

/* --- the cookie payload ------------------------------------------------- */

static const char *payload(const char *user, const char *extra)
{
    return apr_pstrcat(tp, "{\"user\":", user, ",\"accessToken\":\"at\",",
                       "\"refreshToken\":\"rt\"", extra, "}", NULL);
}

START_TEST(parse_minimal_and_nulls)
{
    wos_session *s = parse_ok(payload("{\"id\":\"u\",\"firstName\":null}",
                                      ",\"organizationId\":null,\"impersonator\":null,"
                                      "\"authenticationMethod\":null,\"unknown\":[1]"));

    ck_assert_str_eq(s->user_id, "u");
    ck_assert_str_eq(s->access_token, "at");
    ck_assert_str_eq(s->refresh_token, "rt");
    ck_assert_ptr_null(s->user_first_name);
    ck_assert_ptr_null(s->user_email);
    ck_assert_ptr_null(s->organization_id);
    ck_assert_ptr_null(s->authentication_method);
    ck_assert_ptr_null(s->impersonator_email);
    ck_assert_int_eq(s->user_email_verified, -1);
}
END_TEST

START_TEST(parse_nested_impersonator)
{
    wos_session *s = parse_ok(payload("{\"id\":\"u\"}",
                                      ",\"impersonator\":{\"email\":\"boss@example.com\","
                                      "\"reason\":\"audit\"}"));

    ck_assert_str_eq(s->impersonator_email, "boss@example.com");
    ck_assert_str_eq(s->impersonator_reason, "audit");
}
END_TEST

/* Each entry breaks exactly one rule. */
START_TEST(parse_rejects)
{
    const char *bad[] = {
        "{\"accessToken\":\"at\",\"refreshToken\":\"rt\"}",
        "{\"user\":{\"id\":\"u\"},\"refreshToken\":\"rt\"}",
        "{\"user\":{\"id\":\"u\"},\"accessToken\":\"at\"}",
        payload("{}", ""),
        payload("\"u\"", ""),
        payload("null", ""),
        payload("{\"id\":7}", ""),
        payload("{\"id\":\"\"}", ""),
        payload("{\"id\":\"u\",\"email\":5}", ""),
        payload("{\"id\":\"u\",\"emailVerified\":\"true\"}", ""),
        payload("{\"id\":\"u\",\"emailVerified\":null}", ""),
        payload("{\"id\":\"u\",\"firstName\":{}}", ""),
        payload("{\"id\":\"u\",\"lastName\":[]}", ""),
        payload("{\"id\":\"u\",\"createdAt\":1}", ""),
        payload("{\"id\":\"u\",\"metadata\":\"x\"}", ""),
        payload("{\"id\":\"u\",\"object\":null}", ""),
        payload("{\"id\":\"u\"}", ",\"organizationId\":7"),
        payload("{\"id\":\"u\"}", ",\"authenticationMethod\":true"),
        payload("{\"id\":\"u\"}", ",\"impersonator\":\"boss\""),
        payload("{\"id\":\"u\"}", ",\"impersonator\":{}"),
        payload("{\"id\":\"u\"}", ",\"impersonator\":{\"email\":1}"),
        payload("{\"id\":\"u\"}", ",\"impersonator\":{\"email\":\"e\",\"reason\":2}"),
        "{\"user\":{\"id\":\"u\"},\"accessToken\":\"\",\"refreshToken\":\"rt\"}",
        "{\"user\":{\"id\":\"u\"},\"accessToken\":1,\"refreshToken\":\"rt\"}",
        "{\"user\":{\"id\":\"u\"},\"accessToken\":\"at\",\"refreshToken\":null}",
        "{\"user\":{\"id\":\"u\"},\"accessToken\":\"a\\u0000b\",\"refreshToken\":\"rt\"}",
        "[]", "", "{", "{\"user\":{\"id\":\"u\"},\"user\":{\"id\":\"v\"}}",
    };
    wos_session *s;
    apr_size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        s = NULL;
        ck_assert_msg(parse_str(bad[i], &s) == WOS_EINVAL, "accepted case %u", (unsigned)i);
    }
}
END_TEST

START_TEST(parse_too_big)
{
    apr_size_t n = WOS_SESSION_MAX_SIZE + 1;
    char *big = apr_palloc(tp, n + 1);
    wos_session *s = NULL;

    memset(big, ' ', n);
    big[n] = '\0';
    ck_assert_int_eq(parse_str(big, &s), WOS_ETOOBIG);
}
END_TEST

/* --- serialising -------------------------------------------------------- */

static wos_session *sample(void)
{
    wos_session *s = apr_pcalloc(tp, sizeof(*s));

    s->access_token = "at.x.y";
    s->refresh_token = "rt";
    s->user_id = "user_9";
    s->user_email = "nine@example.com";
    s->user_first_name = "Nine";
    s->user_last_name = "Lives";
    s->user_email_verified = 1;
    s->organization_id = "org_9";
    s->authentication_method = "Passkey";
    s->impersonator_email = "imp@example.com";
    s->impersonator_reason = "why \"not\"";
    return s;
}

static void assert_same(const wos_session *a, const wos_session *b)
{
#define SAME_STR(f) \
    ck_assert_msg(a->f == b->f || (a->f && b->f && !strcmp(a->f, b->f)), #f " differs")
    SAME_STR(access_token);
    SAME_STR(refresh_token);
    SAME_STR(organization_id);
    SAME_STR(authentication_method);
    SAME_STR(impersonator_email);
    SAME_STR(impersonator_reason);
    SAME_STR(user_id);
    SAME_STR(user_email);
    SAME_STR(user_first_name);
    SAME_STR(user_last_name);
#undef SAME_STR
    ck_assert_int_eq(a->user_email_verified, b->user_email_verified);
}

START_TEST(round_trip_from_fields)
{
    wos_session *x = sample(), *y;
    const char *text = wos_session_serialize(tp, x);

    ck_assert_ptr_nonnull(text);
    ck_assert_str_eq(text,
        "{\"organizationId\":\"org_9\",\"user\":{\"object\":\"user\",\"id\":\"user_9\","
        "\"email\":\"nine@example.com\",\"emailVerified\":true,\"firstName\":\"Nine\","
        "\"lastName\":\"Lives\"},\"accessToken\":\"at.x.y\",\"refreshToken\":\"rt\","
        "\"authenticationMethod\":\"Passkey\",\"impersonator\":{\"email\":\"imp@example.com\","
        "\"reason\":\"why \\\"not\\\"\"}}");
    y = parse_ok(text);
    assert_same(x, y);
    /* Again through the kept user object: nothing drifts. */
    ck_assert_str_eq(wos_session_serialize(tp, y), text);
}
END_TEST

START_TEST(round_trip_sparse)
{
    wos_session *x = apr_pcalloc(tp, sizeof(*x)), *y;

    x->access_token = "a";
    x->refresh_token = "r";
    x->user_id = "u";
    x->user_email_verified = -1;
    x->impersonator_email = "i@example.com";     /* reason NULL: written as null */
    y = parse_ok(wos_session_serialize(tp, x));
    assert_same(x, y);
    ck_assert_ptr_null(json_object_get(y->user, "emailVerified"));
}
END_TEST

START_TEST(serialize_refuses)
{
    wos_session *s = sample();

    ck_assert_ptr_null(wos_session_serialize(tp, NULL));
    s->access_token = NULL;
    ck_assert_ptr_null(wos_session_serialize(tp, s));
    s = sample();
    s->refresh_token = "";
    ck_assert_ptr_null(wos_session_serialize(tp, s));
    s = sample();
    s->user_id = NULL;
    ck_assert_ptr_null(wos_session_serialize(tp, s));
    s = sample();
    s->user_last_name = "\xff\xfe";                 /* not UTF-8 */
    ck_assert_ptr_null(wos_session_serialize(tp, s));
    s = sample();
    s->impersonator_reason = "\xc3";
    ck_assert_ptr_null(wos_session_serialize(tp, s));
}
END_TEST

START_TEST(serialize_refuses_user_mismatch)
{
    wos_session *s = parse_ok(payload("{\"id\":\"u\"}", ""));

    ck_assert_ptr_nonnull(wos_session_serialize(tp, s));
    s->user_id = "someone_else";
    ck_assert_ptr_null(wos_session_serialize(tp, s));
}
END_TEST

START_TEST(serialize_refuses_oversize)
{
    wos_session *s = sample();
    char *big = apr_palloc(tp, WOS_SESSION_MAX_SIZE + 1);

    memset(big, 'r', WOS_SESSION_MAX_SIZE);
    big[WOS_SESSION_MAX_SIZE] = '\0';
    s->refresh_token = big;
    ck_assert_ptr_null(wos_session_serialize(tp, s));
    big[WOS_SESSION_MAX_SIZE - 1024] = '\0';
    ck_assert_ptr_nonnull(wos_session_serialize(tp, s));
}
END_TEST

static Suite *session_suite(void)
{
    Suite *su = suite_create("session");
    TCase *tc = wos_tcase("sdk");

    tcase_add_loop_test(tc, sdk_vector_from_auth_response, 0, N_VECTORS);
    tcase_add_loop_test(tc, sdk_vector_parse_round_trip, 0, N_VECTORS);
    tcase_add_test(tc, sdk_vector_fields);
    suite_add_tcase(su, tc);

    tc = wos_tcase("auth_response");
    tcase_add_test(tc, camel_conversion);
    tcase_add_test(tc, org_falls_back_for_opaque_token);
    tcase_add_test(tc, org_from_token_claim);
    tcase_add_test(tc, auth_response_rejects);
    tcase_add_test(tc, auth_response_too_big);
    suite_add_tcase(su, tc);

    tc = wos_tcase("parse");
    tcase_add_test(tc, parse_minimal_and_nulls);
    tcase_add_test(tc, parse_nested_impersonator);
    tcase_add_test(tc, parse_rejects);
    tcase_add_test(tc, parse_too_big);
    suite_add_tcase(su, tc);

    tc = wos_tcase("serialize");
    tcase_add_test(tc, round_trip_from_fields);
    tcase_add_test(tc, round_trip_sparse);
    tcase_add_test(tc, serialize_refuses);
    tcase_add_test(tc, serialize_refuses_user_mismatch);
    tcase_add_test(tc, serialize_refuses_oversize);
    suite_add_tcase(su, tc);
    return su;
}

WOS_TEST_MAIN(session_suite)
