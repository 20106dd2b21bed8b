/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_backend.c: header values a backend can read (UTF-8, Latin-1 or
 * base64url) and the Cookie header without the module's cookies.
 */
#include <string.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "wos_b64.h"
#include "wos_backend.h"

/* Variables whose values are ASCII by construction: never base64url. */
static const char *const ascii_vars[] = {
    "WORKOS_USER_ID", "WORKOS_USER_EMAIL_VERIFIED", "WORKOS_ORGANIZATION_ID",
    "WORKOS_ROLE", "WORKOS_ROLES", "WORKOS_PERMISSIONS", "WORKOS_ENTITLEMENTS",
    "WORKOS_FEATURE_FLAGS", "WORKOS_SESSION_ID", "WORKOS_AUTHENTICATION_METHOD",
    "WORKOS_ACCESS_TOKEN_EXPIRES", "WORKOS_ACCESS_TOKEN", NULL};

int wos_hdrenc_is_text(const char *env)
{
    int i;

    for (i = 0; ascii_vars[i]; i++)
        if (!strcmp(ascii_vars[i], env))
            return 0;
    return 1;
}

static int is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 0;
    return 1;
}

/* The code point at *s (advancing *s), or -1 for a byte that starts none. */
static long utf8_next(const unsigned char **s)
{
    const unsigned char *c = *s;
    int n = c[0] >= 0xF0 && c[0] < 0xF5 ? 3 : c[0] >= 0xE0 ? 2 : c[0] >= 0xC2 ? 1 : -1;
    long cp = n == 3 ? c[0] & 0x07 : n == 2 ? c[0] & 0x0F : c[0] & 0x1F;
    int i;

    *s = c + 1;
    if (c[0] < 0x80)
        return c[0];
    if (n < 0 || c[0] >= 0xF5)
        return -1;
    for (i = 1; i <= n; i++) {
        if ((c[i] & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (c[i] & 0x3F);
    }
    /* Overlong forms and surrogates are not characters. */
    if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)))
        || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
        return -1;
    *s = c + n + 1;
    return cp;
}

static const char *to_latin1(apr_pool_t *p, const char *value)
{
    const unsigned char *s = (const unsigned char *)value;
    char *out = apr_palloc(p, strlen(value) + 1), *o = out;

    while (*s) {
        long cp = utf8_next(&s);
        *o++ = cp >= 0 && cp <= 0xFF ? (char)cp : '?';
    }
    *o = '\0';
    return out;
}

const char *wos_hdrenc_value(apr_pool_t *p, wos_hdrenc enc, const char *env,
                             const char *value)
{
    if (enc == WOS_HDRENC_LATIN1)
        return is_ascii(value) ? value : to_latin1(p, value);
    if (enc == WOS_HDRENC_BASE64URL && wos_hdrenc_is_text(env))
        return wos_b64url_encode(p, (const unsigned char *)value, strlen(value));
    return value;
}

/* 1 if the cookie named [n, n + len) is the module's. */
static int is_ours(const char *n, apr_size_t len, const char *name, const char *prefix)
{
    apr_size_t nl = strlen(name), pl = strlen(prefix), i;

    if (len >= pl && !strncmp(n, prefix, pl))
        return 1;
    if (len < nl || strncmp(n, name, nl))
        return 0;
    if (len == nl)
        return 1;
    if (n[nl] != '.' || len == nl + 1)
        return 0;
    for (i = nl + 1; i < len; i++)
        if (!apr_isdigit(n[i]))
            return 0;
    return 1;
}

const char *wos_cookie_strip(apr_pool_t *p, const char *header, const char *name,
                             const char *prefix)
{
    char *out = apr_palloc(p, strlen(header) + 1), *o = out;
    const char *s = header;
    int removed = 0;

    while (*s) {
        const char *end = strchr(s, ';'), *n = s, *eq;
        apr_size_t seg = end ? (apr_size_t)(end - s) : strlen(s), len;

        while (n < s + seg && (*n == ' ' || *n == '\t'))
            n++;
        eq = memchr(n, '=', (apr_size_t)(s + seg - n));
        len = (apr_size_t)((eq ? eq : s + seg) - n);
        while (len > 0 && (n[len - 1] == ' ' || n[len - 1] == '\t'))
            len--;
        if (len > 0 && is_ours(n, len, name, prefix))
            removed = 1;
        else if (s + seg > n) {
            if (o > out) {
                memcpy(o, "; ", 2);
                o += 2;
            }
            memcpy(o, n, (apr_size_t)(s + seg - n));
            o += s + seg - n;
        }
        s = end ? end + 1 : s + seg;
    }
    *o = '\0';
    if (!removed)
        return header;
    return o > out ? out : NULL;
}
