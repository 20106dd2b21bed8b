/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_cookie.c: the Cookie header in, Set-Cookie out, and chunking across
 * <name>.0 .. <name>.N-1 for sessions larger than one cookie.
 *
 * Reading is one pass over the header that allocates nothing for cookies it
 * is not looking for (headers can be 64 KB and more). The value asked for is
 * copied only when it does not end the header (a session cookie is some KB,
 * read on every request). Writing refuses any name, value or attribute that
 * could smuggle another attribute or header into Set-Cookie.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1           /* strchrnul, where configure found it */
#endif
#include <string.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "wos_cookie.h"

static const char EPOCH_EXPIRES[] = "Thu, 01 Jan 1970 00:00:00 GMT";

/* One name=value pair, as pointers into the header (not NUL-terminated). */
typedef struct {
    const char *name, *value;
    apr_size_t nlen, vlen;
} cookie_pair;

static int is_ws(char c)
{
    return c == ' ' || c == '\t';
}

/* Trim spaces/tabs from both ends of [*s, *s + *len). */
static void trim(const char **s, apr_size_t *len)
{
    while (*len && is_ws(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len && is_ws((*s)[*len - 1]))
        (*len)--;
}

/* The ';' that ends the pair at @p s, or its NUL: one pass over a long value. */
static const char *pair_end(const char *s)
{
#ifdef HAVE_STRCHRNUL
    return strchrnul(s, ';');
#else
    const char *end = strchr(s, ';');
    return end ? end : s + strlen(s);
#endif
}

/*
 * The next pair from *cur (advanced past it). Returns 0 at the end of the
 * header. *usable is 0 for segments without '=' or with an empty name, which
 * RFC 6265 §5.2 says to ignore.
 */
static int next_pair(const char **cur, cookie_pair *pr, int *usable)
{
    const char *s = *cur, *end, *eq;
    apr_size_t len;

    if (!*s)
        return 0;
    end = pair_end(s);
    len = (apr_size_t)(end - s);
    *cur = *end ? end + 1 : end;
    eq = memchr(s, '=', len);
    *usable = 0;
    if (!eq)
        return 1;
    pr->name = s;
    pr->nlen = (apr_size_t)(eq - s);
    pr->value = eq + 1;
    pr->vlen = len - pr->nlen - 1;
    trim(&pr->name, &pr->nlen);
    trim(&pr->value, &pr->vlen);
    if (pr->vlen >= 2 && pr->value[0] == '"' && pr->value[pr->vlen - 1] == '"') {
        pr->value++;
        pr->vlen -= 2;
    }
    *usable = pr->nlen > 0;
    return 1;
}

/* What one scan gathered about one cookie name. */
typedef struct {
    cookie_pair whole;                      /* <name> itself */
    cookie_pair part[WOS_COOKIE_MAX_CHUNKS];
    int have_part[WOS_COOKIE_MAX_CHUNKS];
    wos_rv whole_rv, parts_rv;              /* first problem with each kind */
} cookie_scan;

/*
 * The chunk index of "<name>.<digits>": -1 when @p pr is no chunk of @p name,
 * -2 when it is one with an index we refuse (leading zero, too large).
 */
static int chunk_index(const cookie_pair *pr, const char *name, apr_size_t len)
{
    const char *d = pr->name + len + 1;
    apr_size_t n = pr->nlen - len - 1, i;
    int idx = 0;

    if (pr->nlen < len + 2 || memcmp(pr->name, name, len) != 0 || pr->name[len] != '.')
        return -1;
    for (i = 0; i < n; i++) {
        if (d[i] < '0' || d[i] > '9')
            return -1;
    }
    if (n > 1 && d[0] == '0')
        return -2;      /* "01" and "1" would name the same chunk to some readers */
    for (i = 0; i < n; i++) {
        idx = idx * 10 + (d[i] - '0');
        if (idx >= WOS_COOKIE_MAX_CHUNKS)
            return -2;
    }
    return idx;
}

/* Record one chunk; an out-of-range or repeated index taints the chunk set. */
static void note_chunk(cookie_scan *sc, wos_cookie_in *in, const cookie_pair *pr, int idx)
{
    in->chunks++;
    if (idx < 0) {
        sc->parts_rv = WOS_EINVAL;
        return;
    }
    if (sc->have_part[idx]) {
        sc->parts_rv = WOS_EINVAL;
        return;
    }
    sc->have_part[idx] = 1;
    sc->part[idx] = *pr;
    if (idx > in->max_index)
        in->max_index = idx;
}

static void scan(const char *header, const char *name, cookie_scan *sc, wos_cookie_in *in)
{
    apr_size_t len = strlen(name);
    const char *cur = header;
    cookie_pair pr;
    int usable, idx;

    while (next_pair(&cur, &pr, &usable)) {
        if (!usable || pr.nlen < len || pr.name[0] != name[0])
            continue;
        if (pr.nlen == len && memcmp(pr.name, name, len) == 0) {
            if (in->unchunked)
                sc->whole_rv = WOS_EINVAL;     /* duplicate: which one is real? */
            in->unchunked = 1;
            sc->whole = pr;
        }
        else if ((idx = chunk_index(&pr, name, len)) != -1)
            note_chunk(sc, in, &pr, idx);
    }
}

/* Join chunks 0..max_index; every one of them must be there, once. */
static wos_rv assemble(apr_pool_t *p, const cookie_scan *sc, const wos_cookie_in *in,
                       apr_size_t max_total, const char **out, apr_size_t *out_len)
{
    apr_size_t total = 0;
    char *buf, *w;
    int i;

    if (sc->parts_rv != WOS_OK)
        return sc->parts_rv;
    if (in->chunks != in->max_index + 1)
        return WOS_EINVAL;                          /* a gap */
    for (i = 0; i <= in->max_index; i++) {
        total += sc->part[i].vlen;
        if (total > max_total)
            return WOS_ETOOBIG;
    }
    w = buf = apr_palloc(p, total + 1);
    for (i = 0; i <= in->max_index; i++) {
        memcpy(w, sc->part[i].value, sc->part[i].vlen);
        w += sc->part[i].vlen;
    }
    *w = '\0';
    *out = buf;
    *out_len = total;
    return WOS_OK;
}

wos_rv wos_cookie_read(apr_pool_t *p, const char *header, const char *name,
                       apr_size_t max_total, wos_cookie_in *in)
{
    cookie_scan sc;
    const char *value = NULL;
    apr_size_t len = 0;
    wos_rv rv;

    memset(in, 0, sizeof(*in));
    in->max_index = -1;
    if (!header || !name || !*name)
        return WOS_ENOKEY;
    memset(&sc, 0, sizeof(sc));
    scan(header, name, &sc, in);
    if (in->unchunked && (sc.whole.vlen || sc.whole_rv != WOS_OK)) {
        /* The unchunked name wins; stale chunks beside it are only cleaned up. */
        rv = sc.whole_rv;
        if (rv == WOS_OK && sc.whole.vlen > max_total)
            rv = WOS_ETOOBIG;
        len = sc.whole.vlen;
        if (rv == WOS_OK)   /* ending the header, it is a string already */
            value = sc.whole.value[len] ? apr_pstrmemdup(p, sc.whole.value, len)
                                        : sc.whole.value;
    }
    else if (in->chunks || sc.parts_rv != WOS_OK)
        rv = assemble(p, &sc, in, max_total, &value, &len);
    else
        return WOS_ENOKEY;
    if (rv != WOS_OK)
        return rv;
    if (!*value)
        return WOS_ENOKEY;      /* "name=" is what a deleted cookie leaves behind */
    in->value = value;
    in->value_len = len;
    return WOS_OK;
}

apr_array_header_t *wos_cookie_names_with_prefix(apr_pool_t *p, const char *header,
                                                 const char *prefix)
{
    apr_array_header_t *names = apr_array_make(p, 4, sizeof(const char *));
    apr_hash_t *seen = apr_hash_make(p);
    apr_size_t plen;
    const char *cur = header ? header : "";
    cookie_pair pr;
    int usable;

    prefix = prefix ? prefix : "";
    plen = strlen(prefix);
    while (next_pair(&cur, &pr, &usable)) {
        if (!usable || pr.nlen < plen || memcmp(pr.name, prefix, plen) != 0
            || apr_hash_get(seen, pr.name, (apr_ssize_t)pr.nlen))
            continue;
        apr_hash_set(seen, pr.name, (apr_ssize_t)pr.nlen, "");
        APR_ARRAY_PUSH(names, const char *) = apr_pstrmemdup(p, pr.name, pr.nlen);
    }
    return names;
}

/* RFC 6265 §4.1.1 cookie-name: an RFC 2616 token. */
static int valid_name(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", c))
            return 0;
    }
    return 1;
}

/* cookie-octet: printable ASCII except space, DQUOTE, comma, semicolon, backslash. */
static int valid_value(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == ',' || c == ';' || c == '\\')
            return 0;
    }
    return 1;
}

/* Path/Domain value: any ASCII character except controls and ';' (§4.1.1). */
static int valid_attr(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c >= 0x7f || c == ';')
            return 0;
    }
    return 1;
}

/* The canonical spelling of a SameSite value, NULL if there is none. */
static const char *same_site_value(const char *v)
{
    static const char *const known[] = {"Lax", "Strict", "None"};
    apr_size_t i;

    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcasecmp(v, known[i]) == 0)
            return known[i];
    }
    return NULL;
}

/* "; Path=..; Domain=.." then "; Max-Age" part, "; Secure; HttpOnly; SameSite=..". */
static char *attributes(apr_pool_t *p, const wos_cookie_attrs *a, const char *age)
{
    const char *path = a->path ? a->path : "/";
    const char *domain = a->domain && *a->domain ? a->domain : NULL;
    const char *ss = a->same_site ? same_site_value(a->same_site) : NULL;

    if (!valid_attr(path) || !*path || (domain && (!valid_attr(domain) || strchr(domain, ' ')))
        || (a->same_site && !ss))
        return NULL;
    return apr_pstrcat(p, "; Path=", path, domain ? "; Domain=" : "", domain ? domain : "",
                       age, a->secure ? "; Secure" : "", a->http_only ? "; HttpOnly" : "",
                       ss ? "; SameSite=" : "", ss ? ss : "", NULL);
}

char *wos_cookie_format(apr_pool_t *p, const wos_cookie_attrs *a, const char *name,
                        const char *value)
{
    char *attrs;

    if (!a || !valid_name(name) || !value || !valid_value(value))
        return NULL;
    attrs = attributes(p, a, a->max_age < 0 ? ""
                       : apr_psprintf(p, "; Max-Age=%" APR_INT64_T_FMT, a->max_age));
    return attrs ? apr_pstrcat(p, name, "=", value, attrs, NULL) : NULL;
}

char *wos_cookie_format_delete(apr_pool_t *p, const wos_cookie_attrs *a, const char *name)
{
    char *attrs;

    if (!a || !valid_name(name))
        return NULL;
    attrs = attributes(p, a, apr_pstrcat(p, "; Max-Age=0; Expires=", EPOCH_EXPIRES, NULL));
    return attrs ? apr_pstrcat(p, name, "=", attrs, NULL) : NULL;
}

static const char *chunk_name(apr_pool_t *p, const char *name, int i)
{
    return apr_psprintf(p, "%s.%d", name, i);
}

/* Append one Set-Cookie value; 0 when formatting refused it. */
static int push(apr_array_header_t *out, const char *sc)
{
    if (!sc)
        return 0;
    APR_ARRAY_PUSH(out, const char *) = sc;
    return 1;
}

/* Delete what @p old held that a store of @p used chunks (0: unchunked) leaves over. */
static int delete_stale(apr_pool_t *p, const wos_cookie_attrs *a, const char *name,
                        int keep_whole, int used, const wos_cookie_in *old,
                        apr_array_header_t *out)
{
    int i, ok = 1;

    if (old && old->unchunked && !keep_whole)
        ok = push(out, wos_cookie_format_delete(p, a, name));
    for (i = used; ok && old && i <= old->max_index && i < WOS_COOKIE_MAX_CHUNKS; i++)
        ok = push(out, wos_cookie_format_delete(p, a, chunk_name(p, name, i)));
    return ok;
}

/* Set <name>.0 .. <name>.n-1, each at most @p size bytes of @p value. */
static int store_chunks(apr_pool_t *p, const wos_cookie_attrs *a, const char *name,
                        const char *value, apr_size_t len, apr_size_t size, int n,
                        apr_array_header_t *out)
{
    int i, ok = 1;

    for (i = 0; ok && i < n; i++) {
        apr_size_t off = (apr_size_t)i * size;
        apr_size_t clen = len - off < size ? len - off : size;
        ok = push(out, wos_cookie_format(p, a, chunk_name(p, name, i),
                                         apr_pstrmemdup(p, value + off, clen)));
    }
    return ok;
}

wos_rv wos_cookie_store(apr_pool_t *p, const wos_cookie_attrs *a, const char *name,
                        const char *value, apr_size_t chunk_size,
                        const wos_cookie_in *old, apr_array_header_t **set_cookies)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(const char *));
    apr_size_t len, n;
    int ok;

    *set_cookies = NULL;
    /* Bad attributes are refused even when there would be nothing to send. */
    if (!a || !valid_name(name) || chunk_size < WOS_COOKIE_MIN_CHUNK_SIZE
        || chunk_size > WOS_COOKIE_MAX_CHUNK_SIZE || !attributes(p, a, ""))
        return WOS_EINVAL;
    if (!value)
        ok = delete_stale(p, a, name, 0, 0, old, out);
    else if ((len = strlen(value)) + strlen(name) <= WOS_COOKIE_MAX_BYTES)
        ok = push(out, wos_cookie_format(p, a, name, value))
             && delete_stale(p, a, name, 1, 0, old, out);
    else {
        n = (len + chunk_size - 1) / chunk_size;
        if (n > WOS_COOKIE_MAX_CHUNKS)
            return WOS_ETOOBIG;
        ok = store_chunks(p, a, name, value, len, chunk_size, (int)n, out)
             && delete_stale(p, a, name, 0, (int)n, old, out);
    }
    if (!ok)
        return WOS_EINVAL;
    *set_cookies = out;
    return WOS_OK;
}
