/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_json_parse.c: the strict JSON reader (RFC 8259) behind wos_json_parse.
 *
 * Why a reader of our own, next to jansson: jansson reads a character at a
 * time through a stream and decodes UTF-8 per character, which made parsing
 * the session cookie and the token the largest cost of an uncached request.
 * This reader scans strings in runs and builds the same jansson values (the
 * rest of the core uses jansson's types and getters only), with the rules
 * wos_json.h promises: an object at the root, no duplicate keys, depth
 * capped, valid UTF-8, no NUL, integers that fit json_int_t and finite reals,
 * nothing after the value. Errors name the kind and the offset only, never
 * the input.
 *
 * How it is checked: differentially, with jansson's own parser as the oracle
 * (json_loadb with JSON_REJECT_DUPLICATES): both must accept the same texts
 * and build equal values, or both refuse.
 *  - tests/unit/test_json.c, reader_matches_jansson_*: edge cases, mutations
 *    of real documents, and every byte value at every place of a string;
 *  - fuzz/fuzz_session.c (json_differential): the same comparison on every
 *    libFuzzer input, and its corpus is replayed by `make check`
 *    (fuzz/replay; docs/hacking.md says how to fuzz).
 * One difference is deliberate, and both checks allow for it: this reader
 * refuses any raw NUL byte, which jansson skips after a number or literal.
 */
#include <errno.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include "wos_json.h"

typedef struct {
    const unsigned char *start, *s, *end;
    char *scratch;          /* unescaped strings, reused (never longer than the input) */
    int depth;
    const char *why;        /* kind of the first error */
    const unsigned char *at;
} reader;

static json_t *read_value(reader *r);

static json_t *fail(reader *r, const char *why)
{
    if (!r->why) {
        r->why = why;
        r->at = r->s;
    }
    return NULL;
}

static void skip_ws(reader *r)
{
    while (r->s < r->end && (*r->s == ' ' || *r->s == '\n' || *r->s == '\r' || *r->s == '\t'))
        r->s++;
}

/* Length of the UTF-8 sequence at s (RFC 3629: no overlongs, surrogates or
 * code points above U+10FFFF), 0 if invalid or truncated. */
static apr_size_t utf8_len(const unsigned char *s, const unsigned char *end)
{
    unsigned c = s[0];
    apr_size_t n, i;
    unsigned lo = 0x80, hi = 0xBF;

    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    }
    else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    }
    else
        return 0;
    if ((apr_size_t)(end - s) < n || s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

static int hex4(const unsigned char *s, unsigned *out)
{
    unsigned v = 0;
    int i;

    for (i = 0; i < 4; i++) {
        unsigned c = s[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return 0;
        v = v << 4 | d;
    }
    *out = v;
    return 1;
}

static char *put_utf8(char *d, unsigned cp)
{
    if (cp < 0x80)
        *d++ = (char)cp;
    else if (cp < 0x800) {
        *d++ = (char)(0xC0 | cp >> 6);
        *d++ = (char)(0x80 | (cp & 0x3F));
    }
    else if (cp < 0x10000) {
        *d++ = (char)(0xE0 | cp >> 12);
        *d++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *d++ = (char)(0x80 | (cp & 0x3F));
    }
    else {
        *d++ = (char)(0xF0 | cp >> 18);
        *d++ = (char)(0x80 | (cp >> 12 & 0x3F));
        *d++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *d++ = (char)(0x80 | (cp & 0x3F));
    }
    return d;
}

/* One \u escape (r->s just after the 'u'), a surrogate pair as one code point. */
static int read_u_escape(reader *r, unsigned *cp)
{
    unsigned lo;

    if (r->end - r->s < 4 || !hex4(r->s, cp))
        return fail(r, "syntax error"), 0;
    r->s += 4;
    if (*cp >= 0xDC00 && *cp <= 0xDFFF)
        return fail(r, "invalid Unicode escape"), 0;
    if (*cp >= 0xD800 && *cp <= 0xDBFF) {
        if (r->end - r->s < 6 || r->s[0] != '\\' || r->s[1] != 'u' || !hex4(r->s + 2, &lo)
            || lo < 0xDC00 || lo > 0xDFFF)
            return fail(r, "invalid Unicode escape"), 0;
        r->s += 6;
        *cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    if (*cp == 0)
        return fail(r, "NUL character"), 0;
    return 1;
}

#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Any byte of @p v zero (exact as a yes/no answer, not per byte). */
static int has_zero(apr_uint64_t v)
{
    return ((v - ONES) & ~v & HIGHS) != 0;
}

/* Eight bytes with nothing a string must stop at: no quote, backslash,
 * control character or non-ASCII byte. */
static int plain8(apr_uint64_t w)
{
    return !((w & HIGHS) || ((w - 0x20 * ONES) & ~w & HIGHS) || has_zero(w ^ ('"' * ONES))
             || has_zero(w ^ ('\\' * ONES)));
}

/*
 * A string (r->s on the opening quote). Sets *out and *len to the raw input when
 * there is no escape, else to the unescaped copy in the scratch buffer, which
 * the next string overwrites.
 */
static int read_string(reader *r, const char **out, apr_size_t *len)
{
    const unsigned char *run;
    char *d = NULL;

    run = ++r->s;
    for (;;) {
        unsigned char c;
        apr_uint64_t w;

        /* Tokens make most of the bytes: skip plain runs a word at a time. */
        while (r->end - r->s >= 8 && (memcpy(&w, r->s, 8), plain8(w)))
            r->s += 8;
        while (r->s < r->end && *r->s >= 0x20 && *r->s < 0x80 && *r->s != '"' && *r->s != '\\')
            r->s++;
        if (r->s >= r->end)
            return fail(r, "truncated"), 0;
        c = *r->s;
        if (c == '"')
            break;
        if (c >= 0x80) {
            apr_size_t n = utf8_len(r->s, r->end);
            if (!n)
                return fail(r, "invalid UTF-8"), 0;
            r->s += n;
            continue;
        }
        if (c < 0x20)
            return fail(r, c ? "control character in string" : "NUL character"), 0;
        /* A backslash: from here on the string is built in the scratch buffer. */
        if (!d)
            d = r->scratch;
        memcpy(d, run, (apr_size_t)(r->s - run));
        d += r->s - run;
        if (r->end - r->s < 2)
            return fail(r, "truncated"), 0;
        r->s += 2;
        switch (r->s[-1]) {
        case '"': *d++ = '"'; break;
        case '\\': *d++ = '\\'; break;
        case '/': *d++ = '/'; break;
        case 'b': *d++ = '\b'; break;
        case 'f': *d++ = '\f'; break;
        case 'n': *d++ = '\n'; break;
        case 'r': *d++ = '\r'; break;
        case 't': *d++ = '\t'; break;
        case 'u': {
            unsigned cp;
            if (!read_u_escape(r, &cp))
                return 0;
            d = put_utf8(d, cp);
            break;
        }
        default:
            r->s--;
            return fail(r, "syntax error"), 0;
        }
        run = r->s;
    }
    if (d) {
        memcpy(d, run, (apr_size_t)(r->s - run));
        d += r->s - run;
        *out = r->scratch;
        *len = (apr_size_t)(d - r->scratch);
    }
    else {
        *out = (const char *)run;
        *len = (apr_size_t)(r->s - run);
    }
    r->s++;     /* the closing quote */
    return 1;
}

static int is_digit(const unsigned char *s, const unsigned char *end)
{
    return s < end && *s >= '0' && *s <= '9';
}

/* The number grammar exactly; then strtoll/strtod on a NUL-terminated copy. */
static json_t *read_number(reader *r)
{
    const unsigned char *b = r->s;
    int real = 0;
    char buf[64], *copy, *e;
    apr_size_t n;
    json_t *v;

    if (r->s < r->end && *r->s == '-')
        r->s++;
    if (!is_digit(r->s, r->end))
        return fail(r, "syntax error");
    if (*r->s == '0')
        r->s++;
    else
        while (is_digit(r->s, r->end))
            r->s++;
    if (r->s < r->end && *r->s == '.') {
        real = 1;
        if (!is_digit(++r->s, r->end))
            return fail(r, "syntax error");
        while (is_digit(r->s, r->end))
            r->s++;
    }
    if (r->s < r->end && (*r->s == 'e' || *r->s == 'E')) {
        real = 1;
        r->s++;
        if (r->s < r->end && (*r->s == '+' || *r->s == '-'))
            r->s++;
        if (!is_digit(r->s, r->end))
            return fail(r, "syntax error");
        while (is_digit(r->s, r->end))
            r->s++;
    }
    n = (apr_size_t)(r->s - b);
    copy = n < sizeof(buf) ? buf : malloc(n + 1);
    if (!copy)
        return fail(r, "out of memory");
    memcpy(copy, b, n);
    copy[n] = '\0';
    errno = 0;
    if (!real) {
        long long i = strtoll(copy, &e, 10);
        v = errno == ERANGE
            ? NULL : json_integer((json_int_t)i);
    }
    else {
        /* strtod follows LC_NUMERIC, which another module may have changed. */
        const char *point = localeconv()->decimal_point;
        char *dot = strchr(copy, '.');
        double d;

        if (dot && point && point[0] && point[0] != '.' && !point[1])
            *dot = point[0];
        d = strtod(copy, &e);
        v = errno == ERANGE && (d > 1 || d < -1) ? NULL : json_real(d);
    }
    if (copy != buf)
        free(copy);
    if (!v) {
        r->s = b;
        return fail(r, "number out of range");
    }
    return v;
}

static json_t *read_literal(reader *r, const char *word, apr_size_t n, json_t *v)
{
    if ((apr_size_t)(r->end - r->s) < n || memcmp(r->s, word, n) != 0)
        return fail(r, "syntax error");
    r->s += n;
    return v;
}

static json_t *read_object(reader *r)
{
    json_t *o = json_object(), *v;
    const char *key;
    apr_size_t klen;

    if (!o)
        return fail(r, "out of memory");
    r->s++;
    skip_ws(r);
    if (r->s < r->end && *r->s == '}') {
        r->s++;
        return o;
    }
    for (;;) {
        char *k;

        if (r->s >= r->end || *r->s != '"')
            goto bad;
        if (!read_string(r, &key, &klen))
            goto out;       /* (never holds a NUL: raw and \u0000 are refused) */
        skip_ws(r);
        if (r->s >= r->end || *r->s != ':')
            goto bad;
        if (json_object_getn(o, key, klen)) {
            r->s--;
            fail(r, "duplicate key");
            goto out;
        }
        /* The key may sit in the scratch buffer, which the value can reuse. */
        k = NULL;
        if (key == r->scratch) {
            if (!(k = malloc(klen + 1))) {
                fail(r, "out of memory");
                goto out;
            }
            memcpy(k, key, klen);
        }
        r->s++;
        v = read_value(r);
        if (v && json_object_setn_new_nocheck(o, k ? k : key, klen, v) != 0)
            fail(r, "out of memory");
        free(k);
        if (r->why)
            goto out;
        skip_ws(r);
        if (r->s < r->end && *r->s == ',') {
            r->s++;
            skip_ws(r);
            continue;
        }
        if (r->s < r->end && *r->s == '}') {
            r->s++;
            return o;
        }
        goto bad;
    }
bad:
    fail(r, r->s >= r->end ? "truncated" : "syntax error");
out:
    json_decref(o);
    return NULL;
}

static json_t *read_array(reader *r)
{
    json_t *a = json_array(), *v;

    if (!a)
        return fail(r, "out of memory");
    r->s++;
    skip_ws(r);
    if (r->s < r->end && *r->s == ']') {
        r->s++;
        return a;
    }
    for (;;) {
        v = read_value(r);
        if (!v || json_array_append_new(a, v) != 0)
            break;
        skip_ws(r);
        if (r->s < r->end && *r->s == ',') {
            r->s++;
            continue;
        }
        if (r->s < r->end && *r->s == ']') {
            r->s++;
            return a;
        }
        fail(r, r->s >= r->end ? "truncated" : "syntax error");
        break;
    }
    fail(r, "out of memory");   /* keeps the first reason when there is one */
    json_decref(a);
    return NULL;
}

static json_t *read_value(reader *r)
{
    json_t *v;

    skip_ws(r);
    if (r->s >= r->end)
        return fail(r, "truncated");
    switch (*r->s) {
    case '{':
    case '[':
        if (++r->depth > WOS_JSON_MAX_DEPTH)
            return fail(r, "nested too deeply");
        v = *r->s == '{' ? read_object(r) : read_array(r);
        r->depth--;
        return v;
    case '"': {
        const char *s;
        apr_size_t n;
        if (!read_string(r, &s, &n))
            return NULL;
        /* Checked above: valid UTF-8, and no NUL since \u0000 is refused. */
        v = json_stringn_nocheck(s, n);
        return v ? v : fail(r, "out of memory");
    }
    case 't':
        return read_literal(r, "true", 4, json_true());
    case 'f':
        return read_literal(r, "false", 5, json_false());
    case 'n':
        return read_literal(r, "null", 4, json_null());
    default:
        return read_number(r);
    }
}

wos_rv wos_json_parse(apr_pool_t *p, const char *text, apr_size_t len,
                      json_t **out, const char **err)
{
    reader r;
    json_t *v;

    *out = NULL;
    if (!text || len == 0) {
        *err = "empty JSON document";
        return WOS_EINVAL;
    }
    memset(&r, 0, sizeof(r));
    r.start = r.s = (const unsigned char *)text;
    r.end = r.s + len;
    skip_ws(&r);
    if (r.s >= r.end || *r.s != '{') {
        *err = "JSON root is not an object";
        return WOS_EINVAL;
    }
    r.scratch = apr_palloc(p, len);
    v = read_value(&r);
    if (v) {
        skip_ws(&r);
        if (r.s < r.end) {
            json_decref(v);
            v = fail(&r, "trailing data");
        }
    }
    if (!v) {
        *err = r.why == NULL ? "syntax error"
             : !strcmp(r.why, "nested too deeply") ? "JSON nested too deeply"
             : apr_psprintf(p, "invalid JSON at offset %" APR_SIZE_T_FMT ": %s",
                            (apr_size_t)(r.at - r.start), r.why);
        return WOS_EINVAL;
    }
    *out = wos_json_pool_own(p, v);
    return WOS_OK;
}
