/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_redirect.c: validation of return_to targets against open redirects.
 *
 * Policy (fail closed; the accepted string is returned unchanged):
 * - The raw target is printable ASCII without space, '"', '<', '>', '`' or
 *   '\\'; every '%' starts a valid escape. Non-ASCII must arrive
 *   percent-encoded (as location.pathname gives it).
 * - It is either a path ("/" then anything but '/' or '\\'), or an http(s)
 *   URL "scheme://host[:port]" with no userinfo whose origin is allow-listed,
 *   followed by nothing or by '/', '?' or '#'. "?x", "#x" and "x" are refused.
 * - The path has no empty segment ("//" anywhere, so no "/.//x" or
 *   "/a//x") and no dot segment ("." or "..", also before a ';' param as in
 *   "..;"): a normaliser downstream could otherwise turn "/.//evil" or
 *   "/a/..//evil" into "//evil". Query and fragment are not structural.
 * - The same structural checks run again on the form decoded once, which
 *   must also have no control character, no backslash, no space right after
 *   the leading '/', no percent-escape left in its path (double encoding), and
 *   only well-formed UTF-8 outside the blocks that hold invisible or
 *   space-like characters and look-alikes of '/', '\\', '.' or ':' (fullwidth
 *   forms, ideographic full stop, division and fraction slash, ...).
 */
#include <string.h>
#include <strings.h>
#include <apr_escape.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "wos_redirect.h"

/* --- character classes --------------------------------------------------- */

/* Raw form: visible ASCII that may stand unencoded in a Location value. */
static int raw_chars_ok(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x21 || c > 0x7e || strchr("\"<>\\`", c))
            return 0;
    }
    return 1;
}

/* Unicode ranges refused after decoding: invisible, space-like, bidi
 * controls, and blocks with look-alikes of URL delimiters. */
static const struct { apr_uint32_t lo, hi; } denied_cp[] = {
    {0x0080, 0x00A0},   /* C1 controls (NEL), no-break space */
    {0x00AD, 0x00AD},   /* soft hyphen */
    {0x0334, 0x0338},   /* combining overlays, incl. short/long solidus */
    {0x061C, 0x061C},   /* Arabic letter mark (bidi) */
    {0x1680, 0x1680},   /* Ogham space mark */
    {0x180E, 0x180E},   /* Mongolian vowel separator */
    {0x2000, 0x2BFF},   /* spaces, zero-widths, bidi, LS/PS, U+2024 one dot leader,
                           U+2044 fraction slash, U+2100 a/c, U+2215 division slash,
                           U+2488 "1.", U+29F8 big solidus, ... */
    {0x2E00, 0x2E7F},   /* supplemental punctuation */
    {0x3000, 0x303F},   /* ideographic space and full stop (U+3002) */
    {0xE000, 0xF8FF},   /* private use */
    {0xFDD0, 0xFDEF},   /* non-characters */
    {0xFE00, 0xFE6F},   /* variation selectors, vertical and small forms (U+FE52, U+FE68) */
    {0xFEFF, 0xFEFF},   /* zero-width no-break space (BOM) */
    {0xFF00, 0xFFFF},   /* fullwidth forms (U+FF0E, U+FF0F, U+FF1A, U+FF3C), U+FF61, specials */
    {0xE0000, 0x10FFFF} /* tags, variation selectors supplement, private use planes */
};

static int cp_denied(apr_uint32_t cp)
{
    apr_size_t i;

    for (i = 0; i < sizeof(denied_cp) / sizeof(denied_cp[0]); i++)
        if (cp >= denied_cp[i].lo && cp <= denied_cp[i].hi)
            return 1;
    return 0;
}

/* Length of the well-formed UTF-8 sequence at @p s (lead byte >= 0x80), with
 * its code point in *cp; 0 for overlongs, surrogates, stray or truncated bytes. */
static int utf8_seq(const unsigned char *s, apr_uint32_t *cp)
{
    static const apr_uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    int n, i;

    if (s[0] >= 0xC0 && s[0] < 0xE0)
        n = 2, *cp = s[0] & 0x1F;
    else if (s[0] >= 0xE0 && s[0] < 0xF0)
        n = 3, *cp = s[0] & 0x0F;
    else if (s[0] >= 0xF0 && s[0] < 0xF8)
        n = 4, *cp = s[0] & 0x07;
    else
        return 0;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (s[i] & 0x3F);
    }
    if (*cp < min[n] || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
        return 0;
    return n;
}

/* Decoded form (@p len bytes): no controls, no backslash, and beyond ASCII
 * only well-formed UTF-8 outside the denied ranges. */
static int decoded_chars_ok(const char *s, apr_size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t i = 0;

    while (i < len) {
        apr_uint32_t cp;
        int n;

        if (u[i] < 0x80) {
            if (u[i] < 0x20 || u[i] == 0x7f || u[i] == '\\')
                return 0;
            i++;
            continue;
        }
        n = utf8_seq(u + i, &cp);
        if (n == 0 || cp_denied(cp))
            return 0;
        i += (apr_size_t)n;
    }
    return 1;
}

/* --- paths ---------------------------------------------------------------- */

/* "." or "..", alone or before a ';' parameter ("..;" is ".." to Tomcat). */
static int dot_segment(const char *seg, apr_size_t len)
{
    apr_size_t n = 0;

    while (n < len && seg[n] == '.')
        n++;
    return (n == 1 || n == 2) && (n == len || seg[n] == ';');
}

/* A percent-escape left after one decoding means the target was encoded twice. */
static int has_escape(const char *s, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i + 2 < len; i++)
        if (s[i] == '%' && apr_isxdigit(s[i + 1]) && apr_isxdigit(s[i + 2]))
            return 1;
    return 0;
}

/* The path part of @p s (which starts with '/'): up to '?', '#' or the end.
 * Every segment but the last is non-empty; none is a dot segment. */
static int path_ok(const char *s, int decoded)
{
    apr_size_t plen = strcspn(s, "?#"), i = 1;

    if (s[1] == '/' || s[1] == '\\' || (decoded && s[1] == ' '))
        return 0;
    if (decoded && has_escape(s, plen))
        return 0;
    while (i <= plen) {
        apr_size_t n = strcspn(s + i, "/?#");
        if (i + n > plen)
            n = plen - i;
        if (dot_segment(s + i, n) || (n == 0 && i + n < plen))
            return 0;
        i += n + 1;
    }
    return 1;
}

/* --- origins -------------------------------------------------------------- */

/* Registered name: dot-separated labels of [A-Za-z0-9_-], none empty, so a
 * leading, doubled or trailing dot is refused. */
static int reg_name_ok(const char *h, apr_size_t len)
{
    apr_size_t i, label = 0;

    if (len == 0 || len > 253)
        return 0;
    for (i = 0; i < len; i++) {
        if (h[i] == '.') {
            if (label == 0)
                return 0;
            label = 0;
        }
        else if (apr_isalnum(h[i]) || h[i] == '-' || h[i] == '_') {
            if (++label > 63)
                return 0;
        }
        else
            return 0;
    }
    return label > 0;
}

/* "[...]" with hex digits, ':' and '.' inside (compared literally, not parsed). */
static int ip6_literal_ok(const char *h, apr_size_t len)
{
    apr_size_t i;

    if (len < 4 || h[0] != '[' || h[len - 1] != ']')
        return 0;
    for (i = 1; i + 1 < len; i++)
        if (!apr_isxdigit(h[i]) && h[i] != ':' && h[i] != '.')
            return 0;
    return 1;
}

/* ":NNNNN" (1..65535) or nothing, which means @p dflt. -1 when malformed. */
static long port_of(const char *s, apr_size_t len, long dflt)
{
    long port = 0;
    apr_size_t i;

    if (len == 0)
        return dflt;
    if (s[0] != ':' || len < 2 || len > 6)
        return -1;
    for (i = 1; i < len; i++) {
        if (!apr_isdigit(s[i]))
            return -1;
        port = port * 10 + (s[i] - '0');
    }
    return port >= 1 && port <= 65535 ? port : -1;
}

/* Host names compare case-insensitively: keep one spelling. */
static void lower(char *s)
{
    for (; *s; s++)
        *s = (char)apr_tolower(*s);
}

/* The canonical origin ("https://host" or "http://host:port", lower case,
 * default port dropped) that @p s starts with; *rest points after it. NULL
 * unless @p s starts with "http://" or "https://" and a plain host[:port]. */
static const char *parse_origin(apr_pool_t *p, const char *s, const char **rest)
{
    int https = !strncasecmp(s, "https://", 8);
    const char *a, *end, *port;
    long dflt = https ? 443 : 80, num;
    apr_size_t hlen;
    char *host;

    if (!https && strncasecmp(s, "http://", 7))
        return NULL;
    a = s + (https ? 8 : 7);
    end = a + strcspn(a, "/?#");
    port = (*a == '[') ? memchr(a, ']', (apr_size_t)(end - a)) : NULL;
    port = port ? port + 1 : a + strcspn(a, ":/?#");
    hlen = (apr_size_t)(port - a);
    if (!(*a == '[' ? ip6_literal_ok(a, hlen) : reg_name_ok(a, hlen)))
        return NULL;
    num = port_of(port, (apr_size_t)(end - port), dflt);
    if (num < 0)
        return NULL;
    host = apr_pstrmemdup(p, a, hlen);
    lower(host);
    *rest = end;
    return num == dflt ? apr_pstrcat(p, https ? "https://" : "http://", host, NULL)
                       : apr_psprintf(p, "%s://%s:%ld", https ? "https" : "http", host, num);
}

/* An allow-list entry is an origin, optionally followed by a single '/'. */
static int origin_allowed(apr_pool_t *p, const char *origin,
                          const apr_array_header_t *allowed)
{
    int i;

    for (i = 0; allowed && i < allowed->nelts; i++) {
        const char *entry = APR_ARRAY_IDX(allowed, i, const char *), *rest;
        const char *o = entry ? parse_origin(p, entry, &rest) : NULL;
        if (o && (!*rest || !strcmp(rest, "/")) && !strcmp(o, origin))
            return 1;
    }
    return 0;
}

/* --- the whole target ----------------------------------------------------- */

/* Structure shared by the raw and the decoded form. */
static int form_ok(apr_pool_t *p, const char *s, int decoded,
                   const apr_array_header_t *allowed)
{
    const char *origin, *rest;

    if (s[0] == '/')
        return path_ok(s, decoded);
    origin = parse_origin(p, s, &rest);
    if (!origin || !origin_allowed(p, origin, allowed))
        return 0;
    return *rest != '/' || path_ok(rest, decoded);
}

wos_rv wos_redirect_validate(apr_pool_t *p, const char *target,
                             const apr_array_header_t *allowed_origins,
                             const char **out)
{
    const char *dec;

    *out = NULL;
    if (!target || !*target || strnlen(target, WOS_REDIRECT_MAX_LEN + 1) > WOS_REDIRECT_MAX_LEN)
        return WOS_EDENIED;
    if (!raw_chars_ok(target) || !form_ok(p, target, 0, allowed_origins))
        return WOS_EDENIED;
    /* Decode once. APR refuses malformed escapes and %00; the strstr says so
     * here too, since a NUL would hide the rest of the decoded form. */
    dec = apr_punescape_url(p, target, NULL, NULL, 0);
    if (!dec || strstr(target, "%00")
        || !decoded_chars_ok(dec, strlen(dec)) || !form_ok(p, dec, 1, allowed_origins))
        return WOS_EDENIED;
    *out = target;
    return WOS_OK;
}
