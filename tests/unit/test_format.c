/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_format.c: the Ruby and Python SDKs' sealed sessions (wos_seal_ruby,
 * wos_seal_fernet, wos_session_sdk) and the dispatch by format (wos_format).
 * The vectors in tests/vectors/sdk were made by Ruby's openssl and Debian's
 * python3-cryptography following the SDKs' code (make_ruby.rb,
 * make_python.py), and checked there against the SDKs' own readers.
 */
#include <jansson.h>

#include "testutil.h"
#include "wos_authn.h"
#include "wos_b64.h"
#include "wos_format.h"
#include "wos_seal_fernet.h"
#include "wos_seal_ruby.h"
#include "wos_session_sdk.h"
#include "wos_vcache.h"

static const char *FERNET_KEY = "xSnq3oQ1v5WZBq0Vt2c8mN7yJ5e9kLpA4rT6uI8oP0s=";
static const char *RUBY_PW = "a-ruby-cookie-password-of-32-bytes-or-more";

typedef wos_rv unseal_fn(apr_pool_t *, const char *, apr_size_t, const apr_array_header_t *,
                         char **, apr_size_t *, int *, const char **);

static apr_array_header_t *pw_list(apr_pool_t *p, const json_t *arr)
{
    apr_array_header_t *a = apr_array_make(p, 2, sizeof(const char *));
    size_t i;
    json_t *v;

    json_array_foreach(arr, i, v)
        APR_ARRAY_PUSH(a, const char *) = apr_pstrdup(p, json_string_value(v));
    return a;
}

static apr_array_header_t *one(apr_pool_t *p, const char *pw)
{
    apr_array_header_t *a = apr_array_make(p, 2, sizeof(const char *));
    APR_ARRAY_PUSH(a, const char *) = pw;
    return a;
}

static json_t *vectors(const char *file)
{
    apr_size_t len;
    char *text = wos_read_vector(tp, file, &len);
    json_error_t e;
    json_t *v;

    ck_assert_msg(text != NULL, "missing vector file %s", file);
    v = json_loadb(text, len, 0, &e);
    ck_assert_msg(json_is_array(v) && json_array_size(v) >= 10, "bad vector file %s", file);
    return v;
}

/* Every vector: accepted with its exact payload, or refused for its reason. */
static void run_vectors(const char *file, unseal_fn *unseal)
{
    json_t *all = vectors(file), *v;
    size_t i;

    json_array_foreach(all, i, v) {
        const char *name = json_string_value(json_object_get(v, "name"));
        const char *cookie = json_string_value(json_object_get(v, "cookie"));
        const char *payload = json_string_value(json_object_get(v, "payload"));
        const char *refused = json_string_value(json_object_get(v, "refused"));
        const char *err = NULL;
        char *out;
        apr_size_t outlen;
        int idx;
        wos_rv rv = unseal(tp, cookie, strlen(cookie), pw_list(tp, json_object_get(v, "passwords")),
                           &out, &outlen, &idx, &err);

        if (payload) {
            ck_assert_msg(rv == WOS_OK, "%s: %s (%s)", name, wos_strerror(rv), err);
            ck_assert_msg(outlen == strlen(payload) && !memcmp(out, payload, outlen),
                          "%s: payload differs", name);
            ck_assert_int_eq(idx, strstr(name, "rotated") || !strcmp(name, "legacy_v6") ? 1 : 0);
        }
        else {
            ck_assert_msg(rv != WOS_OK, "%s: accepted", name);
            ck_assert_msg(out == NULL && idx == -1, "%s: output on failure", name);
            if (!strcmp(refused, "mac"))
                ck_assert_msg(rv == WOS_EMAC, "%s: %s, not mac", name, wos_strerror(rv));
            else if (!strcmp(refused, "invalid"))
                ck_assert_msg(rv == WOS_EINVAL, "%s: %s, not invalid", name, wos_strerror(rv));
        }
    }
    json_decref(all);
}

START_TEST(ruby_vectors)
{
    run_vectors("sdk/ruby.json", wos_ruby_unseal);
}
END_TEST

START_TEST(python_vectors)
{
    run_vectors("sdk/python.json", wos_fernet_unseal);
}
END_TEST

/* The vectors' sessions through the format layer: fields the module uses. */
static wos_session *open_vector(wos_format f, const char *file, const char *want, wos_rv *rv)
{
    json_t *all = vectors(file), *v;
    wos_session *s = NULL;
    const char *err;
    size_t i;

    *rv = WOS_ENOKEY;
    json_array_foreach(all, i, v) {
        if (strcmp(json_string_value(json_object_get(v, "name")), want))
            continue;
        *rv = wos_format_open(tp, f, json_string_value(json_object_get(v, "cookie")),
                              pw_list(tp, json_object_get(v, "passwords")), &s, &err);
    }
    json_decref(all);
    return s;
}

START_TEST(sessions_of_vectors)
{
    wos_rv rv;
    wos_session *s = open_vector(WOS_FORMAT_RUBY, "sdk/ruby.json", "impersonator", &rv);

    ck_assert_int_eq(rv, WOS_OK);
    ck_assert_str_eq(s->user_id, "user_01HSDKVECTORS");
    ck_assert_str_eq(s->user_email, "ada@example.com");
    ck_assert_str_eq(s->user_first_name, "Ada");
    ck_assert_int_eq(s->user_email_verified, 1);
    ck_assert_str_eq(s->refresh_token, "rt_01HREFRESH");
    ck_assert_str_eq(s->impersonator_email, "admin@example.com");
    ck_assert_str_eq(s->impersonator_reason, "support");

    s = open_vector(WOS_FORMAT_RUBY, "sdk/ruby.json", "legacy_v6_rack_escaped", &rv);
    ck_assert_int_eq(rv, WOS_OK);
    ck_assert_str_eq(s->organization_id, "org_01HLEGACY");
    ck_assert_ptr_null(s->impersonator_email);         /* "null" as Ruby 5/6 wrote it */

    s = open_vector(WOS_FORMAT_PYTHON, "sdk/python.json", "unicode", &rv);
    ck_assert_int_eq(rv, WOS_OK);
    ck_assert_str_eq(s->user_first_name, "Zo\xc3\xab");

    /* Python writes user {} when unknown: no identity to check the token against. */
    s = open_vector(WOS_FORMAT_PYTHON, "sdk/python.json", "user_empty_object", &rv);
    ck_assert_int_eq(rv, WOS_EINVAL);
    ck_assert_ptr_null(s);

    /* A cookie of one format is nothing in another. */
    open_vector(WOS_FORMAT_NODE, "sdk/ruby.json", "session", &rv);
    ck_assert_int_ne(rv, WOS_OK);
    open_vector(WOS_FORMAT_PYTHON, "sdk/ruby.json", "session", &rv);
    ck_assert_int_ne(rv, WOS_OK);
}
END_TEST

static wos_session *sample(apr_pool_t *p, int with_api_user)
{
    wos_session *s = apr_pcalloc(p, sizeof(*s));
    json_error_t e;

    s->access_token = "eyJ.e30.sig";
    s->refresh_token = "rt_1";
    s->user_id = "user_1";
    s->user_email = "zoe@example.com";
    s->user_first_name = "Zo\xc3\xab";
    s->user_email_verified = 1;
    s->impersonator_email = "admin@example.com";
    if (with_api_user)
        s->api_user = json_loads("{\"object\":\"user\",\"id\":\"user_1\",\"email\":"
                                 "\"zoe@example.com\",\"first_name\":\"Zo\\u00eb\","
                                 "\"custom_field\":42}", 0, &e);
    return s;
}

/* Each SDK's JSON style, keys in its order, user as the API sent it. */
START_TEST(payload_shapes)
{
    wos_session *s = sample(tp, 1);
    const char *ruby = wos_session_serialize_sdk(tp, s, WOS_SDK_JSON_RUBY);
    const char *py = wos_session_serialize_sdk(tp, s, WOS_SDK_JSON_PYTHON);

    ck_assert_str_eq(ruby, "{\"access_token\":\"eyJ.e30.sig\",\"refresh_token\":\"rt_1\","
                     "\"user\":{\"object\":\"user\",\"id\":\"user_1\",\"email\":"
                     "\"zoe@example.com\",\"first_name\":\"Zo\xc3\xab\",\"custom_field\":42},"
                     "\"impersonator\":{\"email\":\"admin@example.com\",\"reason\":null}}");
    ck_assert_str_eq(py, "{\"access_token\": \"eyJ.e30.sig\", \"refresh_token\": \"rt_1\", "
                     "\"user\": {\"object\": \"user\", \"id\": \"user_1\", \"email\": "
                     "\"zoe@example.com\", \"first_name\": \"Zo\\u00eb\", \"custom_field\": 42}, "
                     "\"impersonator\": {\"email\": \"admin@example.com\", \"reason\": null}}");
    json_decref(s->api_user);
    /* Without the API's object: one from the fields, under the API's names. */
    s = sample(tp, 0);
    s->impersonator_email = NULL;
    ck_assert_str_eq(wos_session_serialize_sdk(tp, s, WOS_SDK_JSON_RUBY),
                     "{\"access_token\":\"eyJ.e30.sig\",\"refresh_token\":\"rt_1\",\"user\":"
                     "{\"object\":\"user\",\"id\":\"user_1\",\"email\":\"zoe@example.com\","
                     "\"email_verified\":true,\"first_name\":\"Zo\xc3\xab\"}}");
    s->refresh_token = "";
    ck_assert_ptr_null(wos_session_serialize_sdk(tp, s, WOS_SDK_JSON_PYTHON));
}
END_TEST

/* What the module seals, it opens; the user object survives unchanged. */
START_TEST(round_trips)
{
    static const struct { wos_format f; const char *pw; } cases[] = {
        {WOS_FORMAT_NODE, "a-node-cookie-password-at-least-32-characters"},
        {WOS_FORMAT_RUBY, "a-ruby-cookie-password-of-32-bytes-or-more"},
        {WOS_FORMAT_PYTHON, "xSnq3oQ1v5WZBq0Vt2c8mN7yJ5e9kLpA4rT6uI8oP0s="},
    };
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        wos_session *s = sample(tp, 1), *back;
        const char *cookie, *err = NULL;

        ck_assert_int_eq(wos_format_seal(tp, cases[i].f, cases[i].pw, s, 0, &cookie), WOS_OK);
        ck_assert_int_eq(wos_format_open(tp, cases[i].f, cookie, one(tp, cases[i].pw), &back,
                                         &err), WOS_OK);
        ck_assert_str_eq(back->user_id, "user_1");
        ck_assert_str_eq(back->user_first_name, "Zo\xc3\xab");
        ck_assert_str_eq(back->impersonator_email, "admin@example.com");
        if (cases[i].f != WOS_FORMAT_NODE)
            ck_assert_int_eq(json_integer_value(json_object_get(back->api_user,
                                                                "custom_field")), 42);
        json_decref(s->api_user);
    }
}
END_TEST

/* Ruby cookies are written as Rack writes them: no raw `+ / =` for Rack to misread. */
START_TEST(ruby_cookie_is_rack_escaped)
{
    wos_session *s = sample(tp, 0);
    const char *cookie, *err;
    wos_session *back;
    int k;

    for (k = 0; k < 20; k++) {
        ck_assert_int_eq(wos_format_seal(tp, WOS_FORMAT_RUBY, RUBY_PW, s, 0, &cookie), WOS_OK);
        ck_assert_ptr_null(strpbrk(cookie, "+/="));
        ck_assert_int_eq(wos_format_open(tp, WOS_FORMAT_RUBY, cookie, one(tp, RUBY_PW), &back,
                                         &err), WOS_OK);
    }
    ck_assert_str_eq(wos_rack_escape(tp, "a+b/c=="), "a%2Bb%2Fc%3D%3D");
}
END_TEST

/* The first 17 bytes of a Fernet token: version and big-endian seconds. */
START_TEST(fernet_layout)
{
    const char *tok;
    unsigned char *raw;
    apr_size_t n;

    ck_assert_int_eq(wos_fernet_seal(tp, FERNET_KEY, "{}", 2, 0x0102030405LL, &tok), WOS_OK);
    ck_assert_int_eq(wos_b64pad_decode(tp, tok, strlen(tok), 1, &raw, &n), WOS_OK);
    ck_assert_uint_eq(n, 1 + 8 + 16 + 16 + 32);
    ck_assert_uint_eq(raw[0], 0x80);
    ck_assert_mem_eq(raw + 1, "\0\0\0\x01\x02\x03\x04\x05", 8);
    ck_assert_int_eq(strlen(tok) % 4, 0);
}
END_TEST

START_TEST(fernet_keys)
{
    apr_array_header_t *bad = one(tp, "a passphrase of more than thirty-two characters");
    const char *tok, *err = NULL;
    char *out;
    apr_size_t n;
    int idx;

    ck_assert_int_eq(wos_fernet_key_check(FERNET_KEY), WOS_OK);
    /* `openssl rand -base64 32` (standard alphabet) works, as in Python. */
    ck_assert_int_eq(wos_fernet_key_check("+/nq3oQ1v5WZBq0Vt2c8mN7yJ5e9kLpA4rT6uI8oP0s="), WOS_OK);
    ck_assert_int_eq(wos_fernet_key_check("xSnq3oQ1v5WZBq0Vt2c8mN7yJ5e9kLpA4rT6uI8oP0s"), WOS_EINVAL);
    ck_assert_int_eq(wos_fernet_key_check("xSnq3oQ1v5WZBq0Vt2c8mN7yJ5e9kLpA4rT6uI8oP0=="), WOS_EINVAL);
    ck_assert_int_eq(wos_fernet_key_check("xSnq3oQ1v5WZBq0Vt2c8mN7yJ5e9kLpA4rT6uI8oP0 ="), WOS_EINVAL);
    ck_assert_int_eq(wos_fernet_key_check(NULL), WOS_EINVAL);
    ck_assert_ptr_nonnull(wos_format_password_rule(WOS_FORMAT_PYTHON, "x"));
    ck_assert_ptr_null(wos_format_password_rule(WOS_FORMAT_PYTHON, FERNET_KEY));
    ck_assert_ptr_nonnull(wos_format_password_rule(WOS_FORMAT_RUBY, "31-bytes-is-one-short-of-enough"));
    ck_assert_ptr_null(wos_format_password_rule(WOS_FORMAT_RUBY, RUBY_PW));
    ck_assert_int_eq(wos_fernet_seal(tp, bad->elts ? APR_ARRAY_IDX(bad, 0, const char *) : "",
                                     "{}", 2, 1, &tok), WOS_EINVAL);
    /* A password that is not a key: the configuration's fault, not the cookie's. */
    ck_assert_int_eq(wos_fernet_seal(tp, FERNET_KEY, "{}", 2, 1, &tok), WOS_OK);
    ck_assert_int_eq(wos_fernet_unseal(tp, tok, strlen(tok), bad, &out, &n, &idx, &err),
                     WOS_ECRYPTO);
}
END_TEST

START_TEST(format_names)
{
    wos_format f;

    ck_assert_int_eq(wos_format_by_name("Python", &f), WOS_OK);
    ck_assert_int_eq(f, WOS_FORMAT_PYTHON);
    ck_assert_int_eq(wos_format_by_name("ruby", &f), WOS_OK);
    ck_assert_int_eq(f, WOS_FORMAT_RUBY);
    ck_assert_int_eq(wos_format_by_name("node", &f), WOS_OK);
    ck_assert_int_eq(f, WOS_FORMAT_NODE);
    ck_assert_int_eq(wos_format_by_name("iron", &f), WOS_EINVAL);
    ck_assert_str_eq(wos_format_name(WOS_FORMAT_PYTHON), "python");
}
END_TEST

/* The same cookie under another format is another cache entry. */
START_TEST(cache_key_has_format)
{
    unsigned char a[WOS_VCACHE_KEY_LEN], b[WOS_VCACHE_KEY_LEN], c[WOS_VCACHE_KEY_LEN];
    wos_vcache_settings s;
    wos_vcache_memo m;

    memset(&s, 0, sizeof(s));
    memset(&m, 0, sizeof(m));
    s.client_id = "client_1";
    s.hash_key = (const unsigned char *)"0123456789abcdef";
    ck_assert_int_eq(wos_vcache_key_memo(&m, tp, "cookie", &s, a), WOS_OK);
    s.format = WOS_FORMAT_RUBY;
    ck_assert_int_eq(wos_vcache_key_memo(&m, tp, "cookie", &s, b), WOS_OK);
    ck_assert_int_eq(wos_vcache_key("cookie", &s, c), WOS_OK);
    ck_assert_int_ne(memcmp(a, b, sizeof(a)), 0);
    ck_assert_int_eq(memcmp(b, c, sizeof(b)), 0);
}
END_TEST

/* A password the format cannot use is our configuration's fault: 503, cookie kept. */
START_TEST(unusable_password_is_not_the_sessions_fault)
{
    wos_authn_in in;
    wos_authn_out out;
    const char *cookie;

    ck_assert_int_eq(wos_fernet_seal(tp, FERNET_KEY, "{}", 2, 1, &cookie), WOS_OK);
    memset(&in, 0, sizeof(in));
    in.cookie = cookie;
    in.format = WOS_FORMAT_PYTHON;
    in.passwords = one(tp, RUBY_PW);              /* not a Fernet key */
    wos_authn_check(tp, &in, &out);
    ck_assert_int_eq(out.outcome, WOS_AUTHN_RETRY);
    ck_assert_ptr_null(out.new_cookie);
    in.passwords = one(tp, FERNET_KEY);           /* the cookie's own: now it is the cookie */
    wos_authn_check(tp, &in, &out);
    ck_assert_int_eq(out.outcome, WOS_AUTHN_INVALID);
}
END_TEST

static Suite *format_suite(void)
{
    Suite *su = suite_create("format");
    TCase *tc = wos_tcase("vectors");

    tcase_add_test(tc, ruby_vectors);
    tcase_add_test(tc, python_vectors);
    tcase_add_test(tc, sessions_of_vectors);
    suite_add_tcase(su, tc);
    tc = wos_tcase("writing");
    tcase_add_test(tc, payload_shapes);
    tcase_add_test(tc, round_trips);
    tcase_add_test(tc, ruby_cookie_is_rack_escaped);
    tcase_add_test(tc, fernet_layout);
    suite_add_tcase(su, tc);
    tc = wos_tcase("settings");
    tcase_add_test(tc, fernet_keys);
    tcase_add_test(tc, format_names);
    tcase_add_test(tc, cache_key_has_format);
    tcase_add_test(tc, unusable_password_is_not_the_sessions_fault);
    suite_add_tcase(su, tc);
    return su;
}

WOS_TEST_MAIN(format_suite)
