/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_json.c: the strict JSON layer (src/wos_json.c): what wos_json_parse
 * refuses (duplicates, depth, non-object roots, empty input, trailing data,
 * bad UTF-8, NUL), that its errors never quote the input, the typed getters
 * on the right type / wrong type / absent / null, and pool ownership.
 */
#include "testutil.h"
#include "wos_json.h"

/* Parse a C string; on failure check that *err is set and *out is NULL. */
static wos_rv parse(const char *text, json_t **out, const char **err)
{
    wos_rv rv;

    *err = NULL;
    rv = wos_json_parse(tp, text, strlen(text), out, err);
    if (rv != WOS_OK) {
        ck_assert_ptr_null(*out);
        ck_assert_ptr_nonnull(*err);
    }
    return rv;
}

static wos_rv parse_rv(const char *text)
{
    json_t *v;
    const char *err;

    return parse(text, &v, &err);
}

static json_t *parse_ok(const char *text)
{
    json_t *v;
    const char *err;

    ck_assert_int_eq(parse(text, &v, &err), WOS_OK);
    ck_assert_ptr_nonnull(v);
    return v;
}

/* --- documents built for the depth tests ----------------------------------- */

static const char *repeat(const char *unit, int n)
{
    apr_size_t ulen = strlen(unit);
    char *s = apr_palloc(tp, ulen * (apr_size_t)n + 1), *d = s;
    int i;

    for (i = 0; i < n; i++, d += ulen)
        memcpy(d, unit, ulen);
    *d = '\0';
    return s;
}

/* @p n nested objects: {"a":{"a":...{"a":1}...}} (the root is level 1). */
static const char *nested_objects(int n)
{
    return apr_pstrcat(tp, repeat("{\"a\":", n), "1", repeat("}", n), NULL);
}

/* "[[[1]]]" with @p n arrays. */
static const char *nested_arrays(int n)
{
    return apr_pstrcat(tp, repeat("[", n), "1", repeat("]", n), NULL);
}

/* --- parse: structure ------------------------------------------------------- */

START_TEST(plain_object_parses)
{
    json_t *v = parse_ok("{\"a\":1,\"b\":[true,null],\"c\":{\"d\":\"e\"}}\n");

    ck_assert(json_is_object(v));
    ck_assert_uint_eq(json_object_size(v), 3);
}
END_TEST

START_TEST(duplicate_keys_rejected)
{
    ck_assert_int_eq(parse_rv("{\"a\":1,\"a\":2}"), WOS_EINVAL);
    ck_assert_int_eq(parse_rv("{\"a\":1,\"a\":1}"), WOS_EINVAL);
    ck_assert_int_eq(parse_rv("{\"o\":{\"k\":true,\"k\":false}}"), WOS_EINVAL);
    ck_assert_int_eq(parse_rv("{\"l\":[{\"k\":1,\"k\":2}]}"), WOS_EINVAL);
    /* the same key spelled with an escape */
    ck_assert_int_eq(parse_rv("{\"sub\":\"a\",\"s\\u0075b\":\"b\"}"), WOS_EINVAL);
    /* the same name in two different objects is fine */
    parse_ok("{\"a\":1,\"b\":{\"a\":2}}");
}
END_TEST

START_TEST(depth_cap_objects)
{
    ck_assert_int_eq(parse_rv(nested_objects(WOS_JSON_MAX_DEPTH)), WOS_OK);
    ck_assert_int_eq(parse_rv(nested_objects(WOS_JSON_MAX_DEPTH + 1)), WOS_EINVAL);
    ck_assert_int_eq(parse_rv(nested_objects(5000)), WOS_EINVAL);
}
END_TEST

START_TEST(depth_cap_arrays)
{
    const char *ok = apr_pstrcat(tp, "{\"a\":", nested_arrays(WOS_JSON_MAX_DEPTH - 1), "}", NULL);
    const char *deep = apr_pstrcat(tp, "{\"a\":", nested_arrays(WOS_JSON_MAX_DEPTH), "}", NULL);
    const char *huge = apr_pstrcat(tp, "{\"a\":", nested_arrays(100000), "}", NULL);

    ck_assert_int_eq(parse_rv(ok), WOS_OK);
    ck_assert_int_eq(parse_rv(deep), WOS_EINVAL);
    ck_assert_int_eq(parse_rv(huge), WOS_EINVAL);
    /* mixed: an object inside arrays, 17 levels in all */
    ck_assert_int_eq(parse_rv(apr_pstrcat(tp, "{\"a\":", repeat("[", 14), "{\"b\":[1]}",
                                          repeat("]", 14), "}", NULL)), WOS_EINVAL);
    ck_assert_int_eq(parse_rv(apr_pstrcat(tp, "{\"a\":", repeat("[", 13), "{\"b\":[1]}",
                                          repeat("]", 13), "}", NULL)), WOS_OK);
}
END_TEST

/* Depth is the deepest branch, not the number of containers. */
START_TEST(depth_is_per_branch)
{
    const char *branch = nested_arrays(WOS_JSON_MAX_DEPTH - 1);

    ck_assert_int_eq(parse_rv(apr_pstrcat(tp, "{\"a\":", branch, ",\"b\":", branch, ",\"c\":",
                                          branch, "}", NULL)), WOS_OK);
}
END_TEST

/* Brackets inside strings are not nesting, either way. */
START_TEST(depth_tricks_in_strings)
{
    const char *v;
    json_t *o;

    o = parse_ok(apr_pstrcat(tp, "{\"s\":\"", repeat("[", 40), "\"}", NULL));
    ck_assert_int_eq(wos_json_get_string(tp, o, "s", 0, &v), WOS_OK);
    ck_assert_str_eq(v, repeat("[", 40));
    parse_ok(apr_pstrcat(tp, "{\"", repeat("{", 40), "\":1}", NULL));
    /* an escaped quote does not end the string */
    o = parse_ok(apr_pstrcat(tp, "{\"s\":\"\\\"", repeat("[", 40), "\"}", NULL));
    ck_assert_int_eq(wos_json_get_string(tp, o, "s", 0, &v), WOS_OK);
    ck_assert_str_eq(v, apr_pstrcat(tp, "\"", repeat("[", 40), NULL));
    /* closers in a string must not pay for real nesting later on */
    ck_assert_int_eq(parse_rv(apr_pstrcat(tp, "{\"s\":\"", repeat("]", 40), "\",\"t\":\"",
                                          repeat("}", 40), "\",\"a\":",
                                          nested_arrays(WOS_JSON_MAX_DEPTH), "}", NULL)),
                     WOS_EINVAL);
    /* an escaped backslash does end the string: what follows is real nesting */
    ck_assert_int_eq(parse_rv(apr_pstrcat(tp, "{\"s\":\"\\\\\",\"a\":",
                                          nested_arrays(WOS_JSON_MAX_DEPTH), "}", NULL)),
                     WOS_EINVAL);
}
END_TEST

START_TEST(root_must_be_object)
{
    const char *roots[] = {"[]", "[{\"a\":1}]", "\"str\"", "1", "-1.5", "null", "true", "false"};
    apr_size_t i;

    for (i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
        ck_assert_msg(parse_rv(roots[i]) == WOS_EINVAL, "root %s accepted", roots[i]);
    parse_ok("{}");
}
END_TEST

START_TEST(empty_input_rejected)
{
    json_t *v = (json_t *)1;
    const char *err = NULL;

    ck_assert_int_eq(wos_json_parse(tp, "{}", 0, &v, &err), WOS_EINVAL);
    ck_assert_ptr_null(v);
    ck_assert_ptr_nonnull(err);
    err = NULL;
    ck_assert_int_eq(wos_json_parse(tp, NULL, 0, &v, &err), WOS_EINVAL);
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(parse_rv(" \n\t"), WOS_EINVAL);
    ck_assert_int_eq(parse_rv("{"), WOS_EINVAL);
}
END_TEST

START_TEST(trailing_garbage_rejected)
{
    const char *docs[] = {"{}x", "{}{}", "{\"a\":1},", "{}]", "{} // comment", "{}\"",
                          "{\"a\":1}\n{\"a\":2}"};
    apr_size_t i;

    for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
        ck_assert_msg(parse_rv(docs[i]) == WOS_EINVAL, "trailing data %lu accepted",
                      (unsigned long)i);
    parse_ok("{} \r\n\t");
}
END_TEST

/* Only the first len bytes count: the rest of the buffer is not read. */
START_TEST(length_is_respected)
{
    json_t *v;
    const char *err, *text = "{\"a\":1}garbage";

    ck_assert_int_eq(wos_json_parse(tp, text, 7, &v, &err), WOS_OK);
    ck_assert_int_eq(wos_json_parse(tp, text, 6, &v, &err), WOS_EINVAL);
}
END_TEST

START_TEST(invalid_utf8_rejected)
{
    const char *docs[] = {
        "{\"a\":\"\xff\"}",              /* never valid */
        "{\"a\":\"\xc0\xaf\"}",          /* overlong '/' */
        "{\"a\":\"\xed\xa0\x80\"}",      /* UTF-16 surrogate */
        "{\"a\":\"\xe2\x82\"}",          /* truncated sequence */
        "{\"a\":\"\x80\"}",              /* stray continuation byte */
        "{\"\xfe\":1}",                  /* in a key */
        "{\"a\":\"ok\xe0\x80\x80\"}",     /* overlong NUL after valid text */
    };
    apr_size_t i;
    const char *v;
    json_t *o;

    for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
        ck_assert_msg(parse_rv(docs[i]) == WOS_EINVAL, "invalid UTF-8 %lu accepted",
                      (unsigned long)i);
    o = parse_ok("{\"a\":\"caf\xc3\xa9 \\u00e9\"}");
    ck_assert_int_eq(wos_json_get_string(tp, o, "a", 0, &v), WOS_OK);
    ck_assert_str_eq(v, "caf\xc3\xa9 \xc3\xa9");
}
END_TEST

START_TEST(nul_rejected_in_text)
{
    json_t *v;
    const char *err;
    static const char raw_in_string[] = "{\"a\":\"x\0y\"}";
    static const char raw_outside[] = "{\"a\":1}\0";

    ck_assert_int_eq(parse_rv("{\"a\":\"x\\u0000y\"}"), WOS_EINVAL);
    ck_assert_int_eq(parse_rv("{\"a\\u0000b\":1}"), WOS_EINVAL);
    ck_assert_int_eq(wos_json_parse(tp, raw_in_string, sizeof(raw_in_string) - 1, &v, &err),
                     WOS_EINVAL);
    ck_assert_int_eq(wos_json_parse(tp, raw_outside, sizeof(raw_outside) - 1, &v, &err),
                     WOS_EINVAL);
}
END_TEST

START_TEST(huge_number_rejected)
{
    ck_assert_int_eq(parse_rv("{\"n\":1e999}"), WOS_EINVAL);
    ck_assert_int_eq(parse_rv("{\"n\":-1e999}"), WOS_EINVAL);
    ck_assert_int_eq(parse_rv("{\"n\":NaN}"), WOS_EINVAL);
    ck_assert_int_eq(parse_rv("{\"n\":Infinity}"), WOS_EINVAL);
}
END_TEST

/* --- the reader against jansson's own parser, as an oracle ------------------ */

/* Deepest nesting of a parsed value (the root object is 1). */
static int depth_of(const json_t *v)
{
    int best = 0, d;

    if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach((json_t *)v, k, e)
            if ((d = depth_of(e)) > best)
                best = d;
        return best + 1;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
            if ((d = depth_of(e)) > best)
                best = d;
        return best + 1;
    }
    return 0;
}

/* Both accept the same documents, and build the same values from them. */
static void same_as_jansson(const char *text, apr_size_t len)
{
    json_error_t jerr;
    json_t *want = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr), *got = NULL;
    const char *err = NULL;
    wos_rv rv;

    if (want && (!json_is_object(want) || depth_of(want) > WOS_JSON_MAX_DEPTH)) {
        json_decref(want);
        want = NULL;
    }
    rv = wos_json_parse(tp, text, len, &got, &err);
    ck_assert_msg((rv == WOS_OK) == (want != NULL),
                  "reader %s, jansson %s (%s), on %zu bytes: %.*s", wos_strerror(rv),
                  want ? "accepts" : "refuses", want ? "" : jerr.text, (size_t)len,
                  (int)(len > 300 ? 300 : len), text);
    if (want) {
        char *a = json_dumps(want, JSON_COMPACT | JSON_ENSURE_ASCII);
        char *b = json_dumps(got, JSON_COMPACT | JSON_ENSURE_ASCII);
        ck_assert_str_eq(b, a);
        free(a);
        free(b);
        json_decref(want);
    }
    else {
        ck_assert_ptr_nonnull(err);
    }
}

static const char *const ORACLE_DOCS[] = {
    "{}", " {} ", "{\"a\":1}", "{\"a\":-0}", "{\"a\":0.5e-3}", "{\"a\":1E+2}", "{\"a\":01}",
    "{\"a\":1.}", "{\"a\":.5}", "{\"a\":-}", "{\"a\":1e}", "{\"a\":+1}", "{\"a\":1e400}",
    "{\"a\":1e-400}", "{\"a\":9223372036854775807}", "{\"a\":9223372036854775808}",
    "{\"a\":-9223372036854775808}", "{\"a\":-9223372036854775809}",
    "{\"a\":123456789012345678901234567890.5}",
    "{\"a\":\"\\u00e9\\u20ac\\ud83d\\ude00\"}", "{\"a\":\"\\ud83d\"}", "{\"a\":\"\\ude00\"}",
    "{\"a\":\"\\ud83d\\u0041\"}", "{\"a\":\"\\u0000\"}", "{\"\\u0000\":1}", "{\"a\":\"\\x\"}",
    "{\"a\":\"\\uZZZZ\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"tab\there\"}", "{\"a\":\"\x7f\"}",
    "{\"a\":\"\xc3\xa9\"}", "{\"a\":\"\xc3\"}", "{\"a\":\"\xe0\x80\x80\"}", "{\"a\":\"\xed\xa0\x80\"}",
    "{\"a\":\"\xf4\x90\x80\x80\"}", "{\"a\":\"\xf0\x9f\x98\x80\"}", "{\"a\":\"\xc0\xaf\"}",
    "{\"a\":\"\xff\"}", "{\"a\":true,\"b\":false,\"c\":null}", "{\"a\":tru}", "{\"a\":nul}",
    "{\"a\":[]}", "{\"a\":[1,]}", "{\"a\":[,1]}", "{\"a\":[1 2]}", "{\"a\":{}}", "{\"a\":{},}",
    "{\"a\":1,\"a\":2}", "{\"a\":1,\"b\":{\"a\":2}}", "{\"a\"1}", "{\"a\":}", "{a:1}", "{'a':1}",
    "{\"a\":1}}", "{\"a\":1", "{\"a\":\"x", "{\"a\":\"x\\", "[]", "[{}]", "\"x\"", "1", "null",
    "{\"\":\"\"}", "{\"a\\\"b\":\"c\\\\d\\/e\\b\\f\\n\\r\\t\"}", "{\"k\\u00e9\":1,\"k\xc3\xa9\":2}",
    "{\"a\":[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]}", "{\"a\":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}",
    "\xef\xbb\xbf{}", "{}\n", "{}\x00", "{\"a\":1}/", "{\"a\":\"\\\"}\"}", "{\"a\" : [ 1 , { } ] }",
};

START_TEST(reader_matches_jansson_on_edge_cases)
{
    apr_size_t i;

    for (i = 0; i < sizeof(ORACLE_DOCS) / sizeof(ORACLE_DOCS[0]); i++)
        same_as_jansson(ORACLE_DOCS[i], strlen(ORACLE_DOCS[i]));
    same_as_jansson("{\"a\":\"x\0y\"}", 11);    /* a raw NUL inside a string */
}
END_TEST

/* A session-shaped document, mutated many times (fixed seed: reproducible). */
START_TEST(reader_matches_jansson_on_mutations)
{
    static const char seed[] =
        "{\"organizationId\":\"org_01H\",\"user\":{\"object\":\"user\",\"id\":\"user_01\","
        "\"email\":\"ada@example.com\",\"emailVerified\":true,\"firstName\":\"Ad\\u00e9\","
        "\"lastName\":null,\"metadata\":{\"n\":[1,2.5,-3e2,\"\\ud83d\\ude00\"]}},"
        "\"accessToken\":\"eyJhbGciOiJSUzI1NiJ9.e30.c2ln\",\"refreshToken\":\"r\\/t\\n\","
        "\"impersonator\":{\"email\":\"x@y\",\"reason\":\"caf\xc3\xa9\"}}";
    static const char alphabet[] = "{}[]\",:\\u0123456789abcdefABCDEF-+.eE \t\n\xc3\xa9\xed\xf0\x80";
    apr_uint32_t x = 2463534242u;
    char buf[sizeof(seed) + 64];
    int i, j;

    for (i = 0; i < 20000; i++) {
        apr_size_t len = sizeof(seed) - 1;
        memcpy(buf, seed, len);
        for (j = 0; j < 1 + i % 3; j++) {
            apr_size_t at;
            char c;
            x ^= x << 13; x ^= x >> 17; x ^= x << 5;
            at = x % len;
            c = alphabet[(x >> 16) % (sizeof(alphabet) - 1)];
            switch ((x >> 8) % 3) {
            case 0: buf[at] = c; break;                                  /* replace */
            case 1: memmove(buf + at + 1, buf + at, len - at); buf[at] = c; len++; break;
            default: memmove(buf + at, buf + at + 1, len - at - 1); len--; break;
            }
        }
        same_as_jansson(buf, len);
    }
}
END_TEST

/*
 * Strings are scanned eight bytes at a time: every byte value at every offset
 * of a long string, alone and as the lead of a two-byte sequence, in a key
 * and in a value, must be read exactly as jansson reads it.
 */
START_TEST(reader_matches_jansson_byte_by_byte)
{
    static const char *const follow[] = { NULL, "\xa9", "\"", "\\n" };
    char doc[64], str[24];
    int at, b, f, in_key;

    for (in_key = 0; in_key < 2; in_key++) {
        const char *pre = in_key ? "{\"" : "{\"k\":\"", *post = in_key ? "\":1}" : "\"}";
        apr_size_t pl = strlen(pre), sl = strlen(post);
        for (at = 0; at < (int)sizeof(str); at++) {
            for (b = 0; b < 256; b++) {
                for (f = 0; f < 4; f++) {
                    memset(str, 'a', sizeof(str));
                    str[at] = (char)b;
                    if (follow[f] && at + strlen(follow[f]) < sizeof(str))
                        memcpy(str + at + 1, follow[f], strlen(follow[f]));
                    memcpy(doc, pre, pl);
                    memcpy(doc + pl, str, sizeof(str));
                    memcpy(doc + pl + sizeof(str), post, sl);
                    same_as_jansson(doc, pl + sizeof(str) + sl);
                }
            }
        }
    }
}
END_TEST

/* Errors may reach a log: they must not quote the document. */
START_TEST(errors_do_not_echo_input)
{
    const char *docs[] = {
        "{\"password\":\"hunter2\",\"password\":\"hunter2\"}",
        "{\"a\":hunter2}",
        "{\"a\":1}hunter2",
        "{\"hunter2\" 1}",
        "{\"a\":\"hunter2",
        "[\"hunter2\"]",
    };
    apr_size_t i;

    for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        json_t *v;
        const char *err;

        ck_assert_int_eq(parse(docs[i], &v, &err), WOS_EINVAL);
        ck_assert_msg(!strstr(err, "hunter") && !strstr(err, "password"),
                      "error %lu quotes the input", (unsigned long)i);
    }
}
END_TEST

/* --- typed getters ----------------------------------------------------------- */

static const char *DOC =
    "{\"s\":\"str\",\"e\":\"\",\"n\":null,\"i\":42,\"neg\":-7,\"r\":1.5,\"exp\":2.5e3,"
    "\"big\":1700000000123,\"t\":true,\"f\":false,\"o\":{\"k\":\"v\"},"
    "\"arr\":[\"a\",\"b\",\"c\"],\"earr\":[],\"mixed\":[\"a\",1],\"nested\":[\"a\",[\"b\"]],"
    "\"nullel\":[\"a\",null],\"objel\":[{}],\"sq\":\"[\\\"x\\\"]\"}";

START_TEST(get_string)
{
    json_t *o = parse_ok(DOC);
    const char *wrong[] = {"i", "r", "t", "o", "arr"};
    const char *v;
    apr_size_t k;

    ck_assert_int_eq(wos_json_get_string(tp, o, "s", 0, &v), WOS_OK);
    ck_assert_str_eq(v, "str");
    ck_assert_int_eq(wos_json_get_string(tp, o, "e", 0, &v), WOS_OK);
    ck_assert_str_eq(v, "");
    ck_assert_int_eq(wos_json_get_string(tp, o, "sq", 0, &v), WOS_OK);
    ck_assert_str_eq(v, "[\"x\"]");
    ck_assert_int_eq(wos_json_get_string(tp, o, "absent", 0, &v), WOS_ENOKEY);
    ck_assert_ptr_null(v);
    ck_assert_int_eq(wos_json_get_string(tp, o, "n", 1, &v), WOS_ENOKEY);
    ck_assert_ptr_null(v);
    ck_assert_int_eq(wos_json_get_string(tp, o, "n", 0, &v), WOS_EINVAL);
    ck_assert_ptr_null(v);
    for (k = 0; k < sizeof(wrong) / sizeof(wrong[0]); k++) {
        v = "unset";
        ck_assert_int_eq(wos_json_get_string(tp, o, wrong[k], 0, &v), WOS_EINVAL);
        ck_assert_ptr_null(v);
    }
}
END_TEST

/* The value is a pool copy: it outlives the document's own reference. */
START_TEST(get_string_copies)
{
    json_t *o = json_pack("{s:s}", "k", "value");
    const char *v;

    ck_assert_int_eq(wos_json_get_string(tp, o, "k", 0, &v), WOS_OK);
    json_decref(o);
    ck_assert_str_eq(v, "value");
}
END_TEST

/* A NUL inside a string would make "admin\0x" compare equal to "admin". */
START_TEST(get_string_rejects_embedded_nul)
{
    json_t *o = wos_json_pool_own(tp, json_object());
    const char *v = "unset";

    json_object_set_new(o, "k", json_stringn("admin\0x", 7));
    json_object_set_new(o, "tail", json_stringn("admin\0", 6));
    ck_assert_int_eq(wos_json_get_string(tp, o, "k", 0, &v), WOS_EINVAL);
    ck_assert_ptr_null(v);
    ck_assert_int_eq(wos_json_get_string(tp, o, "tail", 1, &v), WOS_EINVAL);
}
END_TEST

START_TEST(get_bool)
{
    json_t *o = parse_ok(DOC);
    const char *wrong[] = {"s", "i", "n", "o", "arr", "e"};
    int b = -1;
    apr_size_t k;

    ck_assert_int_eq(wos_json_get_bool(o, "t", &b), WOS_OK);
    ck_assert_int_eq(b, 1);
    ck_assert_int_eq(wos_json_get_bool(o, "f", &b), WOS_OK);
    ck_assert_int_eq(b, 0);
    ck_assert_int_eq(wos_json_get_bool(o, "absent", &b), WOS_ENOKEY);
    for (k = 0; k < sizeof(wrong) / sizeof(wrong[0]); k++)
        ck_assert_int_eq(wos_json_get_bool(o, wrong[k], &b), WOS_EINVAL);
}
END_TEST

START_TEST(get_number)
{
    json_t *o = parse_ok(DOC);
    const char *wrong[] = {"s", "t", "n", "o", "arr"};
    double d = 0;
    apr_size_t k;

    ck_assert_int_eq(wos_json_get_number(o, "i", &d), WOS_OK);
    ck_assert(d == 42.0);
    ck_assert_int_eq(wos_json_get_number(o, "neg", &d), WOS_OK);
    ck_assert(d == -7.0);
    ck_assert_int_eq(wos_json_get_number(o, "r", &d), WOS_OK);
    ck_assert(d == 1.5);
    ck_assert_int_eq(wos_json_get_number(o, "exp", &d), WOS_OK);
    ck_assert(d == 2500.0);
    ck_assert_int_eq(wos_json_get_number(o, "big", &d), WOS_OK);
    ck_assert(d == 1700000000123.0);
    ck_assert_int_eq(wos_json_get_number(o, "absent", &d), WOS_ENOKEY);
    for (k = 0; k < sizeof(wrong) / sizeof(wrong[0]); k++)
        ck_assert_int_eq(wos_json_get_number(o, wrong[k], &d), WOS_EINVAL);
}
END_TEST

START_TEST(get_object)
{
    json_t *o = parse_ok(DOC), *sub = (json_t *)1;
    const char *wrong[] = {"s", "i", "t", "n", "arr", "earr"};
    const char *v;
    apr_size_t k;

    ck_assert_int_eq(wos_json_get_object(o, "o", &sub), WOS_OK);
    ck_assert_int_eq(wos_json_get_string(tp, sub, "k", 0, &v), WOS_OK);
    ck_assert_str_eq(v, "v");
    ck_assert_int_eq(wos_json_get_object(o, "absent", &sub), WOS_ENOKEY);
    ck_assert_ptr_null(sub);
    for (k = 0; k < sizeof(wrong) / sizeof(wrong[0]); k++) {
        sub = (json_t *)1;
        ck_assert_int_eq(wos_json_get_object(o, wrong[k], &sub), WOS_EINVAL);
        ck_assert_ptr_null(sub);
    }
}
END_TEST

START_TEST(get_string_array)
{
    json_t *o = parse_ok(DOC);
    const char *bad[] = {"mixed", "nested", "nullel", "objel", "s", "i", "o", "n", "t"};
    apr_array_header_t *a;
    apr_size_t k;

    ck_assert_int_eq(wos_json_get_string_array(tp, o, "arr", &a), WOS_OK);
    ck_assert_int_eq(a->nelts, 3);
    ck_assert_str_eq(APR_ARRAY_IDX(a, 0, const char *), "a");
    ck_assert_str_eq(APR_ARRAY_IDX(a, 1, const char *), "b");
    ck_assert_str_eq(APR_ARRAY_IDX(a, 2, const char *), "c");
    ck_assert_int_eq(wos_json_get_string_array(tp, o, "earr", &a), WOS_OK);
    ck_assert_int_eq(a->nelts, 0);
    ck_assert_int_eq(wos_json_get_string_array(tp, o, "absent", &a), WOS_ENOKEY);
    ck_assert_ptr_null(a);
    for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        ck_assert_msg(wos_json_get_string_array(tp, o, bad[k], &a) == WOS_EINVAL,
                      "\"%s\" accepted as a string array", bad[k]);
        ck_assert_ptr_null(a);
    }
}
END_TEST

START_TEST(get_string_array_rejects_embedded_nul)
{
    json_t *o = wos_json_pool_own(tp, json_object()), *arr = json_array();
    apr_array_header_t *a;

    json_array_append_new(arr, json_string("ok"));
    json_array_append_new(arr, json_stringn("a\0b", 3));
    json_object_set_new(o, "l", arr);
    ck_assert_int_eq(wos_json_get_string_array(tp, o, "l", &a), WOS_EINVAL);
    ck_assert_ptr_null(a);
}
END_TEST

/* Asking a non-object for a key finds nothing rather than crashing. */
START_TEST(getters_on_non_object)
{
    json_t *arr = wos_json_pool_own(tp, json_pack("[s]", "x"));
    const char *s;
    double d;
    int b;
    json_t *sub;
    apr_array_header_t *a;

    ck_assert_int_eq(wos_json_get_string(tp, arr, "x", 0, &s), WOS_ENOKEY);
    ck_assert_int_eq(wos_json_get_number(arr, "x", &d), WOS_ENOKEY);
    ck_assert_int_eq(wos_json_get_bool(arr, "x", &b), WOS_ENOKEY);
    ck_assert_int_eq(wos_json_get_object(arr, "x", &sub), WOS_ENOKEY);
    ck_assert_int_eq(wos_json_get_string_array(tp, arr, "x", &a), WOS_ENOKEY);
}
END_TEST

/* --- ownership and serialisation ---------------------------------------------- */

START_TEST(pool_own_releases_on_clear)
{
    apr_pool_t *sub;
    json_t *v = json_object();

    apr_pool_create(&sub, tp);
    json_incref(v);                        /* our own reference, to watch the count */
    ck_assert_ptr_eq(wos_json_pool_own(sub, v), v);
    ck_assert_uint_eq(v->refcount, 2);
    apr_pool_destroy(sub);
    ck_assert_uint_eq(v->refcount, 1);
    json_decref(v);
    ck_assert_ptr_null(wos_json_pool_own(tp, NULL));
}
END_TEST

START_TEST(dump_compact_in_order)
{
    json_t *o = wos_json_pool_own(tp, json_object()), *back;
    const char *err, *s;

    json_object_set_new(o, "z", json_integer(1));
    json_object_set_new(o, "a", json_pack("[b,n,s]", 1, "x y"));
    json_object_set_new(o, "m", json_object());
    s = wos_json_dump(tp, o);
    ck_assert_str_eq(s, "{\"z\":1,\"a\":[true,null,\"x y\"],\"m\":{}}");
    ck_assert_int_eq(wos_json_parse(tp, s, strlen(s), &back, &err), WOS_OK);
    ck_assert(json_equal(back, o));
    ck_assert_ptr_null(wos_json_dump(tp, NULL));
}
END_TEST

static Suite *json_suite(void)
{
    Suite *s = suite_create("json");
    TCase *p = wos_tcase("parse"), *g = wos_tcase("getters"), *m = wos_tcase("misc");

    tcase_add_test(p, plain_object_parses);
    tcase_add_test(p, duplicate_keys_rejected);
    tcase_add_test(p, depth_cap_objects);
    tcase_add_test(p, depth_cap_arrays);
    tcase_add_test(p, depth_is_per_branch);
    tcase_add_test(p, depth_tricks_in_strings);
    tcase_add_test(p, root_must_be_object);
    tcase_add_test(p, empty_input_rejected);
    tcase_add_test(p, trailing_garbage_rejected);
    tcase_add_test(p, length_is_respected);
    tcase_add_test(p, invalid_utf8_rejected);
    tcase_add_test(p, nul_rejected_in_text);
    tcase_add_test(p, huge_number_rejected);
    tcase_add_test(p, errors_do_not_echo_input);
    tcase_add_test(p, reader_matches_jansson_on_edge_cases);
    tcase_add_test(p, reader_matches_jansson_on_mutations);
    tcase_add_test(p, reader_matches_jansson_byte_by_byte);
    tcase_add_test(g, get_string);
    tcase_add_test(g, get_string_copies);
    tcase_add_test(g, get_string_rejects_embedded_nul);
    tcase_add_test(g, get_bool);
    tcase_add_test(g, get_number);
    tcase_add_test(g, get_object);
    tcase_add_test(g, get_string_array);
    tcase_add_test(g, get_string_array_rejects_embedded_nul);
    tcase_add_test(g, getters_on_non_object);
    tcase_add_test(m, pool_own_releases_on_clear);
    tcase_add_test(m, dump_compact_in_order);
    suite_add_tcase(s, p);
    suite_add_tcase(s, g);
    suite_add_tcase(s, m);
    return s;
}

WOS_TEST_MAIN(json_suite)
