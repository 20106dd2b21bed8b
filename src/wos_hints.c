/*
 * wos_hints.c: sign-in hints from a link's query, checked one by one. They
 * end up URL-encoded in the authorize URL; the checks keep them to what
 * AuthKit understands, so a crafted link cannot smuggle anything else.
 */
#include <string.h>
#include <apr_lib.h>

#include "wos_hints.h"

static wos_rv no(const char **err, const char *why)
{
    *err = why;
    return WOS_EINVAL;
}

static wos_rv login_hint(const char *v, const char **err)
{
    const unsigned char *c;

    if (!*v || strlen(v) > WOS_HINT_LOGIN_MAX)
        return no(err, "login_hint must have 1 to 320 characters");
    for (c = (const unsigned char *)v; *c; c++)
        if (*c <= 0x20 || *c == 0x7f)
            return no(err, "login_hint must not hold spaces or control characters");
    return WOS_OK;
}

static wos_rv organization(const char *v, const char **err)
{
    const char *c;

    if (strncmp(v, "org_", 4) || !v[4] || strlen(v) > WOS_HINT_ORG_MAX)
        return no(err, "organization_id must be an organization ID (org_...)");
    for (c = v + 4; *c; c++)
        if (!apr_isalnum(*c))
            return no(err, "organization_id must be org_ followed by letters and digits");
    return WOS_OK;
}

static wos_rv screen(const char *v, const char **err)
{
    return strcmp(v, "sign-up") && strcmp(v, "sign-in")
           ? no(err, "screen_hint must be sign-up or sign-in") : WOS_OK;
}

static wos_rv prompt(const char *v, const char **err)
{
    return strcmp(v, "login") ? no(err, "prompt must be login") : WOS_OK;
}

wos_rv wos_hints_take(wos_login_hints *h, const char *name, const char *value,
                      const char **err)
{
    static const struct {
        const char *name;
        wos_rv (*check)(const char *, const char **);
        apr_size_t offset;
    } hints[] = {
        {"login_hint", login_hint, APR_OFFSETOF(wos_login_hints, login_hint)},
        {"organization_id", organization, APR_OFFSETOF(wos_login_hints, organization_id)},
        {"screen_hint", screen, APR_OFFSETOF(wos_login_hints, screen_hint)},
        {"prompt", prompt, APR_OFFSETOF(wos_login_hints, prompt)},
    };
    apr_size_t i;

    for (i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
        if (strcmp(name, hints[i].name))
            continue;
        if (hints[i].check(value, err) != WOS_OK)
            return WOS_EINVAL;
        *(const char **)((char *)h + hints[i].offset) = value;
        return WOS_OK;
    }
    return WOS_ENOKEY;
}
