/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_redirect.c: wos_redirect_validate (src/wos_redirect.h).
 *
 * Input: one line, the target, checked with the origins of
 * tests/vectors/redirect/allow.txt allow-listed; or several lines, where all
 * but the last are the allow-list (so the origin parser sees operator input
 * too) and the last is the target.
 *
 * Oracle, for every accepted target, by means independent of the validator:
 * it is returned unchanged; it has no byte outside visible ASCII and no
 * backslash; it is a path that does not start with "//" or "/\\", or an
 * http(s) URL without userinfo whose scheme, host and port (apr_uri_parse)
 * match an allow-listed origin; and the same holds after one decoding.
 */
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_uri.h>

#include "fuzz_common.h"
#include "wos_redirect.h"

static const char *const default_allow[] = {
    "https://app.example.com", "https://app.example.com:8443/", "http://localhost:8080",
    "HTTPS://Admin.Example.COM",
};

/* One decoding of %XX (malformed escapes kept as they are); NULL if it yields NUL. */
static char *decode_once(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, strlen(s) + 1), *w = out;

    for (; *s; s++) {
        if (s[0] == '%' && apr_isxdigit(s[1]) && apr_isxdigit(s[2])) {
            char hex[3] = { s[1], s[2], 0 };
            *w = (char)strtol(hex, NULL, 16);
            if (!*w)
                return NULL;
            w++;
            s += 2;
        }
        else
            *w++ = *s;
    }
    *w = '\0';
    return out;
}

/* scheme, lower-cased host and effective port of an absolute http(s) URL. */
static int origin_of(apr_pool_t *p, const char *url, const char **scheme, const char **host,
                     apr_port_t *port)
{
    apr_uri_t u;

    if (apr_uri_parse(p, url, &u) != APR_SUCCESS || !u.scheme || !u.hostname)
        return 0;
    if (strcasecmp(u.scheme, "http") && strcasecmp(u.scheme, "https"))
        return 0;
    *scheme = apr_pstrdup(p, u.scheme);
    *host = apr_pstrdup(p, u.hostname);
    for (char *h = (char *)*host; *h; h++)
        *h = (char)apr_tolower(*h);
    *port = u.port_str ? u.port : apr_uri_port_of_scheme(u.scheme);
    return u.user == NULL && u.password == NULL;
}

static void check_accepted(apr_pool_t *p, const char *t, const apr_array_header_t *allow,
                           const char *form)
{
    const char *s, *h;
    apr_port_t port;
    int i, found = 0;

    for (s = t; *s; s++) {
        unsigned char c = (unsigned char)*s;
        FUZZ_ASSERT(c >= 0x20 && c != 0x7f && c != '\\', form);
    }
    if (t[0] == '/') {
        FUZZ_ASSERT(t[1] != '/' && t[1] != '\\', form);
        return;
    }
    FUZZ_ASSERT(origin_of(p, t, &s, &h, &port), form);
    for (i = 0; i < allow->nelts && !found; i++) {
        const char *as, *ah;
        apr_port_t ap;
        if (origin_of(p, APR_ARRAY_IDX(allow, i, const char *), &as, &ah, &ap))
            found = !strcasecmp(as, s) && !strcmp(ah, h) && ap == port;
    }
    FUZZ_ASSERT(found, form);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool_begin();
    char *in = fuzz_cstr(data, size), *target = in, *nl;
    apr_array_header_t *allow = apr_array_make(p, 4, sizeof(const char *));
    const char *out = NULL, *dec;
    size_t i;

    while ((nl = strchr(target, '\n')) != NULL) {
        *nl = '\0';
        APR_ARRAY_PUSH(allow, const char *) = target;
        target = nl + 1;
    }
    if (allow->nelts == 0) {
        for (i = 0; i < sizeof(default_allow) / sizeof(default_allow[0]); i++)
            APR_ARRAY_PUSH(allow, const char *) = default_allow[i];
    }
    if (wos_redirect_validate(p, target, allow, &out) == WOS_OK) {
        FUZZ_ASSERT(out == target, "accepted target returned unchanged");
        for (const char *s = target; *s; s++)
            FUZZ_ASSERT((unsigned char)*s > 0x20 && (unsigned char)*s < 0x7f,
                        "accepted target is visible ASCII");
        FUZZ_ASSERT(strlen(target) <= WOS_REDIRECT_MAX_LEN, "accepted target within the cap");
        check_accepted(p, target, allow, "accepted target is same-site or allow-listed");
        dec = decode_once(p, target);
        FUZZ_ASSERT(dec != NULL, "accepted target decodes without NUL");
        check_accepted(p, dec, allow, "decoded target is same-site or allow-listed");
    }
    else
        FUZZ_ASSERT(out == NULL, "refused target leaves *out NULL");
    free(in);
    fuzz_pool_end(p);
    return 0;
}
