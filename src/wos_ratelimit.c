/*
 * wos_ratelimit.c: calls per subject and window, as numbered slots added to
 * the shared cache: "wos:rl:<sha256(subject)>:<window start>:<slot>".
 */
#include <string.h>
#include <apr_strings.h>

#include "wos_ratelimit.h"

wos_rv wos_ratelimit_take(const wos_cache *c, apr_pool_t *p, const char *subject,
                          int limit, int window, apr_int64_t now, long *retry_after)
{
    apr_int64_t start, end;
    const char *base;
    int i;

    if (limit <= 0 || window <= 0 || !c || !c->add)
        return WOS_OK;
    if (limit > WOS_RATELIMIT_MAX)
        limit = WOS_RATELIMIT_MAX;
    start = now - now % window;
    end = start + window;
    base = apr_psprintf(p, "wos:rl:%s:%" APR_INT64_T_FMT ":",
                        wos_sha256_hex(p, subject ? subject : "", subject ? strlen(subject) : 0),
                        start);
    for (i = 0; i < limit; i++) {
        const char *key = apr_psprintf(p, "%s%d", base, i);
        wos_rv rv = c->add(c, p, key, "1", 1, apr_time_from_sec(end + 1));
        if (rv != WOS_EBUSY)
            return WOS_OK;      /* ours, or a cache that cannot count: let it through */
    }
    *retry_after = (long)(end - now) > 0 ? (long)(end - now) : 1;
    return WOS_ELIMIT;
}
