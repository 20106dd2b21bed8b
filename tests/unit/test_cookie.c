/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_cookie.c: the Cookie header reader, Set-Cookie formatting and chunked
 * storage (src/wos_cookie.c): RFC 6265 parsing edge cases, ambiguous input
 * (duplicates, gaps, odd indices) refused, huge headers, attribute injection
 * refused, and the store/delete sets for growing and shrinking sessions.
 */
#include "testutil.h"
#include "wos_cookie.h"

#define NAME "wos-session"
#define BIG ((apr_size_t)1 << 20)

static wos_rv rd(const char *header, wos_cookie_in *in)
{
    wos_rv rv = wos_cookie_read(tp, header, NAME, BIG, in);

    if (rv != WOS_OK)
        ck_assert_ptr_null(in->value);
    return rv;
}

/* The value read for NAME, or NULL when the read was not WOS_OK. */
static const char *value_of(const char *header)
{
    wos_cookie_in in;
    return rd(header, &in) == WOS_OK ? in.value : NULL;
}

/* --- reading ------------------------------------------------------------ */

START_TEST(read_absent)
{
    static const char *const headers[] = {
        "", ";;;", " ; ; ", "=", "==", "=wos-session", NAME, "a=1; " NAME "; b=2",
        NAME "2=x", "x" NAME "=y", NAME "x=1", "WOS-SESSION=a", NAME ".=1", NAME ".x=1",
        NAME ".0a=1", NAME ".-1=1", NAME ".0.1=1", NAME "=", NAME "=\"\"",
    };
    wos_cookie_in in;
    apr_size_t i;

    for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++)
        ck_assert_msg(rd(headers[i], &in) == WOS_ENOKEY, "header %u", (unsigned)i);
    ck_assert_int_eq(wos_cookie_read(tp, NULL, NAME, BIG, &in), WOS_ENOKEY);
    ck_assert_int_eq(rd("", &in), WOS_ENOKEY);
    ck_assert_int_eq(in.unchunked, 0);
    ck_assert_int_eq(in.chunks, 0);
    ck_assert_int_eq(in.max_index, -1);
}
END_TEST

START_TEST(read_simple_forms)
{
    ck_assert_str_eq(value_of(NAME "=abc"), "abc");
    ck_assert_str_eq(value_of("a=1; " NAME "=abc; b=2"), "abc");
    ck_assert_str_eq(value_of("a=1;" NAME "=abc;b=2"), "abc");            /* no space */
    ck_assert_str_eq(value_of("  a=1 ;\t" NAME " =  abc \t; "), "abc");  /* whitespace */
    ck_assert_str_eq(value_of(NAME "=\"abc\""), "abc");                  /* DQUOTEs */
    ck_assert_str_eq(value_of(NAME "=\""), "\"");                        /* lone quote kept */
    ck_assert_str_eq(value_of(NAME "=a=b=c"), "a=b=c");
    ck_assert_str_eq(value_of("junk; =x; " NAME "=v; ;"), "v");
}
END_TEST

/* A value that ends the header is read where it is; any other is a copy. */
START_TEST(read_value_in_place_or_copied)
{
    static const char last[] = "a=1; " NAME "=abc";
    static const char *const others[] = {
        NAME "=abc; b=2", NAME "=abc;", NAME "=abc ", NAME "=\"abc\"",
    };
    wos_cookie_in in;
    apr_size_t i;

    ck_assert_int_eq(rd(last, &in), WOS_OK);
    ck_assert_ptr_eq(in.value, last + sizeof(last) - 4);
    ck_assert_uint_eq(in.value_len, 3);
    for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        const char *h = others[i];
        ck_assert_int_eq(rd(h, &in), WOS_OK);
        ck_assert_str_eq(in.value, "abc");
        ck_assert_uint_eq(in.value_len, 3);
        ck_assert_msg(in.value < h || in.value >= h + strlen(h), "header %u", (unsigned)i);
    }
}
END_TEST

START_TEST(read_prefix_names)
{
    wos_cookie_in in;

    ck_assert_str_eq(value_of(NAME "2=two; " NAME "x=x; x" NAME "=q; " NAME "=one"), "one");
    ck_assert_int_eq(wos_cookie_read(tp, NAME "=one; " NAME "2=two", NAME "2", BIG, &in),
                     WOS_OK);
    ck_assert_str_eq(in.value, "two");
    ck_assert_int_eq(wos_cookie_read(tp, NAME "2=two", "wos", BIG, &in), WOS_ENOKEY);
}
END_TEST

START_TEST(read_duplicate_name)
{
    wos_cookie_in in;

    ck_assert_int_eq(rd(NAME "=a; " NAME "=b", &in), WOS_EINVAL);
    ck_assert_int_eq(in.unchunked, 1);
    ck_assert_int_eq(rd(NAME "=a; x=1; " NAME "=a", &in), WOS_EINVAL);   /* even if equal */
}
END_TEST

START_TEST(read_chunks)
{
    wos_cookie_in in;

    ck_assert_int_eq(rd("x=1; " NAME ".1=def; " NAME ".0=abc; " NAME ".2=g", &in), WOS_OK);
    ck_assert_str_eq(in.value, "abcdefg");
    ck_assert_int_eq(in.unchunked, 0);
    ck_assert_int_eq(in.chunks, 3);
    ck_assert_int_eq(in.max_index, 2);
    ck_assert_str_eq(value_of(NAME ".0=\"ab\"; " NAME ".1=cd"), "abcd");
}
END_TEST

START_TEST(read_chunk_gaps_and_duplicates)
{
    wos_cookie_in in;

    ck_assert_int_eq(rd(NAME ".0=a; " NAME ".2=c", &in), WOS_EINVAL);
    ck_assert_int_eq(in.chunks, 2);
    ck_assert_int_eq(in.max_index, 2);       /* so that .0..2 can be cleared */
    ck_assert_int_eq(rd(NAME ".1=b", &in), WOS_EINVAL);
    ck_assert_int_eq(rd(NAME ".0=a; " NAME ".1=b; " NAME ".0=a", &in), WOS_EINVAL);
}
END_TEST

START_TEST(read_chunk_indices)
{
    const char *sixteen = "", *seventeen;
    wos_cookie_in in;
    int i;

    for (i = 0; i < WOS_COOKIE_MAX_CHUNKS; i++)
        sixteen = apr_psprintf(tp, "%s%s" NAME ".%d=%c", sixteen, i ? "; " : "", i, 'a' + i);
    ck_assert_int_eq(rd(sixteen, &in), WOS_OK);
    ck_assert_str_eq(in.value, "abcdefghijklmnop");
    ck_assert_int_eq(in.max_index, 15);
    seventeen = apr_pstrcat(tp, sixteen, "; " NAME ".16=q", NULL);
    ck_assert_int_eq(rd(seventeen, &in), WOS_EINVAL);
    ck_assert_int_eq(rd(NAME ".0=a; " NAME ".99999999999999999999999=b", &in), WOS_EINVAL);
    ck_assert_int_eq(rd(NAME ".0=a; " NAME ".01=b", &in), WOS_EINVAL);   /* not canonical */
    ck_assert_int_eq(rd(NAME ".00=a", &in), WOS_EINVAL);
}
END_TEST

START_TEST(read_prefers_unchunked)
{
    wos_cookie_in in;

    ck_assert_int_eq(rd(NAME ".0=a; " NAME "=whole; " NAME ".1=b", &in), WOS_OK);
    ck_assert_str_eq(in.value, "whole");
    ck_assert_int_eq(in.unchunked, 1);
    ck_assert_int_eq(in.chunks, 2);
    ck_assert_int_eq(in.max_index, 1);
    /* Broken chunks beside it do not matter... */
    ck_assert_str_eq(value_of(NAME ".0=a; " NAME ".0=b; " NAME ".7=c; " NAME "=w"), "w");
    /* ...and an emptied unchunked cookie leaves the chunks to be read. */
    ck_assert_int_eq(rd(NAME "=; " NAME ".0=a; " NAME ".1=b", &in), WOS_OK);
    ck_assert_str_eq(in.value, "ab");
    ck_assert_int_eq(in.unchunked, 1);
}
END_TEST

START_TEST(read_size_cap)
{
    wos_cookie_in in;

    ck_assert_int_eq(wos_cookie_read(tp, NAME "=abcd", NAME, 4, &in), WOS_OK);
    ck_assert_int_eq(wos_cookie_read(tp, NAME "=abcde", NAME, 4, &in), WOS_ETOOBIG);
    ck_assert_ptr_null(in.value);
    ck_assert_int_eq(wos_cookie_read(tp, NAME ".0=ab; " NAME ".1=cd", NAME, 4, &in), WOS_OK);
    ck_assert_int_eq(wos_cookie_read(tp, NAME ".0=ab; " NAME ".1=cde", NAME, 4, &in),
                     WOS_ETOOBIG);
    ck_assert_ptr_null(in.value);
    ck_assert_int_eq(in.chunks, 2);
}
END_TEST

/* @p n unrelated cookies, then ours: a quadratic reader would time out here. */
static const char *huge_header(int n, const char *tail)
{
    static const char unit[] = "c=vvvvvvvvvvvvvvvvvvvvvvvv; ";
    apr_size_t ulen = sizeof(unit) - 1, tlen = strlen(tail);
    char *h = apr_palloc(tp, ulen * (apr_size_t)n + tlen + 1), *w = h;
    int i;

    for (i = 0; i < n; i++, w += ulen)
        memcpy(w, unit, ulen);
    memcpy(w, tail, tlen + 1);
    return h;
}

START_TEST(read_huge_header)
{
    const char *h = huge_header(200000, NAME ".1=y; " NAME ".0=x");   /* ~5.6 MB */
    apr_array_header_t *names;
    wos_cookie_in in;

    ck_assert_int_eq(rd(h, &in), WOS_OK);
    ck_assert_str_eq(in.value, "xy");
    names = wos_cookie_names_with_prefix(tp, h, "c");
    ck_assert_int_eq(names->nelts, 1);
    ck_assert_int_eq(rd(huge_header(200000, ""), &in), WOS_ENOKEY);
}
END_TEST

START_TEST(names_with_prefix)
{
    const char *h = "wos-auth-verifier-a=1; x=2;wos-auth-verifier-b=3; wos-auth-verifier-a=4; "
                    "wos-auth-verifier-c; wos-auth-verifie=5; Wos-auth-verifier-d=6; "
                    " wos-auth-verifier-e =\"7\"";
    apr_array_header_t *n = wos_cookie_names_with_prefix(tp, h, "wos-auth-verifier-");

    ck_assert_int_eq(n->nelts, 3);
    ck_assert_str_eq(APR_ARRAY_IDX(n, 0, const char *), "wos-auth-verifier-a");
    ck_assert_str_eq(APR_ARRAY_IDX(n, 1, const char *), "wos-auth-verifier-b");
    ck_assert_str_eq(APR_ARRAY_IDX(n, 2, const char *), "wos-auth-verifier-e");
    ck_assert_int_eq(wos_cookie_names_with_prefix(tp, "", "w")->nelts, 0);
    ck_assert_int_eq(wos_cookie_names_with_prefix(tp, ";;=1;", "w")->nelts, 0);
    ck_assert_int_eq(wos_cookie_names_with_prefix(tp, NULL, "w")->nelts, 0);
}
END_TEST

/* --- Set-Cookie ----------------------------------------------------------- */

static wos_cookie_attrs full_attrs(void)
{
    wos_cookie_attrs a = {"/", "example.com", "Lax", 1, 1, 3600};
    return a;
}

START_TEST(format_all_attributes)
{
    wos_cookie_attrs a = full_attrs();

    ck_assert_str_eq(wos_cookie_format(tp, &a, NAME, "Fe26.2**abc~2"),
                     NAME "=Fe26.2**abc~2; Path=/; Domain=example.com; Max-Age=3600; "
                     "Secure; HttpOnly; SameSite=Lax");
}
END_TEST

START_TEST(format_defaults_and_omissions)
{
    wos_cookie_attrs a = {NULL, NULL, NULL, 0, 0, -1};

    ck_assert_str_eq(wos_cookie_format(tp, &a, "n", "v"), "n=v; Path=/");
    a.domain = "";
    a.max_age = 0;
    a.same_site = "strict";
    a.path = "/app";
    ck_assert_str_eq(wos_cookie_format(tp, &a, "n", "v"),
                     "n=v; Path=/app; Max-Age=0; SameSite=Strict");
    a.same_site = "NONE";
    a.secure = 1;
    a.max_age = 34560000;
    ck_assert_str_eq(wos_cookie_format(tp, &a, "n", ""),
                     "n=; Path=/app; Max-Age=34560000; Secure; SameSite=None");
}
END_TEST

START_TEST(format_delete)
{
    wos_cookie_attrs a = full_attrs();

    ck_assert_str_eq(wos_cookie_format_delete(tp, &a, NAME ".3"),
                     NAME ".3=; Path=/; Domain=example.com; Max-Age=0; "
                     "Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure; HttpOnly; SameSite=Lax");
    a.max_age = -1;     /* a deletion always expires, whatever the configured age */
    ck_assert_ptr_nonnull(strstr(wos_cookie_format_delete(tp, &a, "n"), "; Max-Age=0; "));
}
END_TEST

/* Each case changes one input of an otherwise valid cookie. */
START_TEST(format_rejects_injection)
{
    static const char *const bad_attr[] = {
        "/;Domain=evil.example", "/\r\nSet-Cookie: x=y", "/\n", "/\r", "/\x01", "/\x7f",
        "/\x1b[0m", "/caf\xc3\xa9", "",
    };
    static const char *const bad_domain[] = {
        "example.com; Secure", "example.com\r\nX: y", "a\nb", "a b", "a\tb", "a\x7f",
    };
    static const char *const bad_value[] = {
        "a;b", "a b", "a\r\nb", "a\nb", "a,b", "a\"b", "a\\b", "\xc3\xa9", "a\tb", "a\x7f",
    };
    static const char *const bad_name[] = {
        "", "a=b", "a;b", "a b", "a\r\n", "a,b", "a\"b", "(a)", "a\x01", "\xc3\xa9",
    };
    wos_cookie_attrs a;
    apr_size_t i;

    for (i = 0; i < sizeof(bad_attr) / sizeof(bad_attr[0]); i++) {
        a = full_attrs();
        a.path = bad_attr[i];
        ck_assert_msg(!wos_cookie_format(tp, &a, "n", "v"), "path %u", (unsigned)i);
        ck_assert_msg(!wos_cookie_format_delete(tp, &a, "n"), "path %u", (unsigned)i);
    }
    for (i = 0; i < sizeof(bad_domain) / sizeof(bad_domain[0]); i++) {
        a = full_attrs();
        a.domain = bad_domain[i];
        ck_assert_msg(!wos_cookie_format(tp, &a, "n", "v"), "domain %u", (unsigned)i);
        ck_assert_msg(!wos_cookie_format_delete(tp, &a, "n"), "domain %u", (unsigned)i);
    }
    a = full_attrs();
    for (i = 0; i < sizeof(bad_value) / sizeof(bad_value[0]); i++)
        ck_assert_msg(!wos_cookie_format(tp, &a, "n", bad_value[i]), "value %u", (unsigned)i);
    for (i = 0; i < sizeof(bad_name) / sizeof(bad_name[0]); i++) {
        ck_assert_msg(!wos_cookie_format(tp, &a, bad_name[i], "v"), "name %u", (unsigned)i);
        ck_assert_msg(!wos_cookie_format_delete(tp, &a, bad_name[i]), "name %u", (unsigned)i);
    }
    ck_assert_ptr_null(wos_cookie_format(tp, &a, NULL, "v"));
    ck_assert_ptr_null(wos_cookie_format(tp, &a, "n", NULL));
    a.same_site = "Lax; Domain=evil.example";
    ck_assert_ptr_null(wos_cookie_format(tp, &a, "n", "v"));
    a.same_site = "Sometimes";
    ck_assert_ptr_null(wos_cookie_format_delete(tp, &a, "n"));
}
END_TEST

/* --- storing, with chunks ------------------------------------------------- */

static const wos_cookie_in NONE = {NULL, 0, 0, -1};

static char *filled(apr_size_t n)
{
    char *v = apr_palloc(tp, n + 1);
    apr_size_t i;

    /* A non-repeating pattern, so that a misplaced chunk cannot go unnoticed. */
    for (i = 0; i < n; i++)
        v[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[(i * 7 + i / 64) % 64];
    v[n] = '\0';
    return v;
}

static apr_array_header_t *store(const char *value, apr_size_t chunk, const wos_cookie_in *old)
{
    wos_cookie_attrs a = full_attrs();
    apr_array_header_t *sc = NULL;

    ck_assert_int_eq(wos_cookie_store(tp, &a, NAME, value, chunk, old, &sc), WOS_OK);
    ck_assert_ptr_nonnull(sc);
    return sc;
}

static int is_delete(const char *sc)
{
    return strstr(sc, "; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT") != NULL;
}

/* "name" of a Set-Cookie value. */
static const char *sc_name(const char *sc)
{
    return apr_pstrndup(tp, sc, strcspn(sc, "="));
}

/* The names a store sets (non-deletions) and deletes, each joined with ",". */
static void split(const apr_array_header_t *sc, const char **set, const char **del)
{
    int i;

    *set = *del = "";
    for (i = 0; i < sc->nelts; i++) {
        const char *c = APR_ARRAY_IDX(sc, i, const char *);
        const char **acc = is_delete(c) ? del : set;
        *acc = apr_pstrcat(tp, *acc, **acc ? "," : "", sc_name(c), NULL);
    }
}

/* The Cookie header a browser would send back after applying @p sc. */
static const char *browser_header(const apr_array_header_t *sc)
{
    const char *h = "";
    int i;

    for (i = 0; i < sc->nelts; i++) {
        const char *c = APR_ARRAY_IDX(sc, i, const char *);
        if (!is_delete(c))
            h = apr_pstrcat(tp, h, *h ? "; " : "", apr_pstrndup(tp, c, strcspn(c, ";")), NULL);
    }
    return h;
}

static void assert_reads_back(const apr_array_header_t *sc, const char *value)
{
    wos_cookie_in in;

    ck_assert_int_eq(wos_cookie_read(tp, browser_header(sc), NAME, BIG, &in), WOS_OK);
    ck_assert_str_eq(in.value, value);
    ck_assert_uint_eq(in.value_len, strlen(value));
}

START_TEST(store_small)
{
    const char *set, *del;
    apr_array_header_t *sc = store("abc", 512, &NONE);

    split(sc, &set, &del);
    ck_assert_str_eq(set, NAME);
    ck_assert_str_eq(del, "");
    ck_assert_str_eq(APR_ARRAY_IDX(sc, 0, const char *),
                     NAME "=abc; Path=/; Domain=example.com; Max-Age=3600; Secure; HttpOnly; "
                     "SameSite=Lax");
    /* One cookie while name and value fit the browsers' 4096 bytes, whatever
     * the chunk size (the SDKs read only the unchunked name); one byte more
     * splits into chunks of the chunk size. */
    split(store(filled(WOS_COOKIE_MAX_BYTES - strlen(NAME)), 512, &NONE), &set, &del);
    ck_assert_str_eq(set, NAME);
    split(store(filled(WOS_COOKIE_MAX_BYTES - strlen(NAME) + 1), 2000, &NONE), &set, &del);
    ck_assert_str_eq(set, NAME ".0," NAME ".1," NAME ".2");      /* 2000 + 2000 + 86 */
}
END_TEST

START_TEST(store_grow_unchunked_to_four)
{
    wos_cookie_in old = {NULL, 1, 0, -1};
    const char *v = filled(4 * 1100 - 10), *set, *del;
    apr_array_header_t *sc = store(v, 1100, &old);
    int i;

    split(sc, &set, &del);
    ck_assert_str_eq(set, NAME ".0," NAME ".1," NAME ".2," NAME ".3");
    ck_assert_str_eq(del, NAME);
    for (i = 0; i < 3; i++)      /* full chunks, the rest in the last */
        ck_assert_int_eq(strcspn(APR_ARRAY_IDX(sc, i, const char *), ";"),
                         strlen(NAME ".0=") + 1100);
    assert_reads_back(sc, v);
}
END_TEST

START_TEST(store_shrink_four_to_two_and_one)
{
    wos_cookie_in old = {NULL, 0, 4, 3};
    const char *set, *del;
    apr_array_header_t *sc = store(filled(4200), 2200, &old);

    split(sc, &set, &del);
    ck_assert_str_eq(set, NAME ".0," NAME ".1");
    ck_assert_str_eq(del, NAME ".2," NAME ".3");
    assert_reads_back(sc, filled(4200));

    /* 3800 bytes: one cookie now (it used to take chunks), the chunks deleted. */
    sc = store(filled(3800), 600, &old);
    split(sc, &set, &del);
    ck_assert_str_eq(set, NAME);
    ck_assert_str_eq(del, NAME ".0," NAME ".1," NAME ".2," NAME ".3");
    assert_reads_back(sc, filled(3800));

    sc = store("small", 600, &old);
    split(sc, &set, &del);
    ck_assert_str_eq(set, NAME);
    ck_assert_str_eq(del, NAME ".0," NAME ".1," NAME ".2," NAME ".3");
    assert_reads_back(sc, "small");
}
END_TEST

START_TEST(store_twelve_kilobytes)
{
    wos_cookie_in old = {NULL, 0, 2, 1};
    const char *v = filled(12 * 1024), *set, *del;
    apr_array_header_t *sc = store(v, WOS_COOKIE_DEFAULT_CHUNK_SIZE, &old);

    split(sc, &set, &del);
    ck_assert_str_eq(set, NAME ".0," NAME ".1," NAME ".2," NAME ".3");   /* ceil(12288/3800) */
    ck_assert_str_eq(del, "");
    assert_reads_back(sc, v);
}
END_TEST

START_TEST(store_cap)
{
    wos_cookie_attrs a = full_attrs();
    apr_array_header_t *sc = NULL;
    apr_size_t max = WOS_COOKIE_MAX_CHUNKS * (apr_size_t)WOS_COOKIE_MIN_CHUNK_SIZE;

    sc = store(filled(max), WOS_COOKIE_MIN_CHUNK_SIZE, &NONE);
    ck_assert_int_eq(sc->nelts, WOS_COOKIE_MAX_CHUNKS);
    assert_reads_back(sc, filled(max));
    ck_assert_int_eq(wos_cookie_store(tp, &a, NAME, filled(max + 1), WOS_COOKIE_MIN_CHUNK_SIZE,
                                      &NONE, &sc), WOS_ETOOBIG);
    ck_assert_ptr_null(sc);
}
END_TEST

START_TEST(store_delete_all)
{
    wos_cookie_in old = {NULL, 1, 2, 2};    /* a gap at .1: clear up to the highest */
    const char *set, *del;

    split(store(NULL, 600, &old), &set, &del);
    ck_assert_str_eq(set, "");
    ck_assert_str_eq(del, NAME "," NAME ".0," NAME ".1," NAME ".2");
    ck_assert_int_eq(store(NULL, 600, &NONE)->nelts, 0);
    ck_assert_int_eq(store(NULL, 600, NULL)->nelts, 0);
}
END_TEST

START_TEST(store_rejects)
{
    wos_cookie_attrs a = full_attrs();
    apr_array_header_t *sc;

    ck_assert_int_eq(wos_cookie_store(tp, &a, NAME, "v", WOS_COOKIE_MIN_CHUNK_SIZE - 1, &NONE,
                                      &sc), WOS_EINVAL);
    ck_assert_int_eq(wos_cookie_store(tp, &a, NAME, "v", WOS_COOKIE_MAX_CHUNK_SIZE + 1, &NONE,
                                      &sc), WOS_EINVAL);
    ck_assert_int_eq(wos_cookie_store(tp, &a, NAME, "v;Domain=x", 600, &NONE, &sc), WOS_EINVAL);
    ck_assert_int_eq(wos_cookie_store(tp, &a, "bad name", "v", 600, &NONE, &sc), WOS_EINVAL);
    a.path = "/\r\n";
    ck_assert_int_eq(wos_cookie_store(tp, &a, NAME, NULL, 600, &NONE, &sc), WOS_EINVAL);
    ck_assert_ptr_null(sc);
}
END_TEST

/* What a read reports is exactly what a store needs to clear it. */
START_TEST(read_then_store_clears)
{
    wos_cookie_in in;
    const char *set, *del;

    ck_assert_int_eq(rd(NAME ".0=a; " NAME ".1=b; " NAME ".2=c", &in), WOS_OK);
    split(store("x", 600, &in), &set, &del);
    ck_assert_str_eq(set, NAME);
    ck_assert_str_eq(del, NAME ".0," NAME ".1," NAME ".2");
}
END_TEST

static Suite *cookie_suite(void)
{
    Suite *su = suite_create("cookie");
    TCase *tc = wos_tcase("read");

    tcase_add_test(tc, read_absent);
    tcase_add_test(tc, read_simple_forms);
    tcase_add_test(tc, read_value_in_place_or_copied);
    tcase_add_test(tc, read_prefix_names);
    tcase_add_test(tc, read_duplicate_name);
    tcase_add_test(tc, read_chunks);
    tcase_add_test(tc, read_chunk_gaps_and_duplicates);
    tcase_add_test(tc, read_chunk_indices);
    tcase_add_test(tc, read_prefers_unchunked);
    tcase_add_test(tc, read_size_cap);
    tcase_add_test(tc, read_huge_header);
    tcase_add_test(tc, names_with_prefix);
    suite_add_tcase(su, tc);

    tc = wos_tcase("format");
    tcase_add_test(tc, format_all_attributes);
    tcase_add_test(tc, format_defaults_and_omissions);
    tcase_add_test(tc, format_delete);
    tcase_add_test(tc, format_rejects_injection);
    suite_add_tcase(su, tc);

    tc = wos_tcase("store");
    tcase_add_test(tc, store_small);
    tcase_add_test(tc, store_grow_unchunked_to_four);
    tcase_add_test(tc, store_shrink_four_to_two_and_one);
    tcase_add_test(tc, store_twelve_kilobytes);
    tcase_add_test(tc, store_cap);
    tcase_add_test(tc, store_delete_all);
    tcase_add_test(tc, store_rejects);
    tcase_add_test(tc, read_then_store_clears);
    suite_add_tcase(su, tc);
    return su;
}

WOS_TEST_MAIN(cookie_suite)
