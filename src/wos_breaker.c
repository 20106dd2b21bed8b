/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_breaker.c: the circuit breaker of a shared store (see wos_breaker.h).
 * Times are kept as a 32-bit millisecond clock and compared by signed
 * difference, so the wrap every 49 days does no harm.
 */
#include "wos_breaker.h"

static apr_uint32_t ms_clock(apr_time_t now)
{
    return (apr_uint32_t)apr_time_as_msec(now);
}

/* Whether @p t has come, on the wrapping clock. */
static int reached(apr_uint32_t now, apr_uint32_t t)
{
    return (apr_int32_t)(now - t) >= 0;
}

void wos_breaker_init(wos_breaker *b)
{
    apr_atomic_set32(&b->open, 0);
    apr_atomic_set32(&b->retry_at, 0);
}

wos_breaker_route wos_breaker_route_call(wos_breaker *b, apr_time_t now, long open_ms)
{
    apr_uint32_t t = ms_clock(now), at;

    if (!apr_atomic_read32(&b->open))
        return WOS_BREAKER_SHARED;
    at = apr_atomic_read32(&b->retry_at);
    /* The one caller that moves retry_at on is the probe; the next may go
     * open_ms later (also when this probe never reports: its process died). */
    if (reached(t, at) && apr_atomic_cas32(&b->retry_at, t + (apr_uint32_t)open_ms, at) == at)
        return WOS_BREAKER_PROBE;
    return WOS_BREAKER_LOCAL;
}

wos_breaker_change wos_breaker_report(wos_breaker *b, wos_breaker_route route, int ok,
                                      apr_time_t now, long open_ms)
{
    if (route == WOS_BREAKER_LOCAL)
        return WOS_BREAKER_SAME;
    if (ok)
        return route == WOS_BREAKER_PROBE && apr_atomic_cas32(&b->open, 0, 1) == 1
                   ? WOS_BREAKER_CLOSED : WOS_BREAKER_SAME;
    apr_atomic_set32(&b->retry_at, ms_clock(now) + (apr_uint32_t)open_ms);
    return apr_atomic_cas32(&b->open, 1, 0) == 0 ? WOS_BREAKER_OPENED : WOS_BREAKER_SAME;
}

int wos_breaker_is_open(wos_breaker *b)
{
    return apr_atomic_read32(&b->open) != 0;
}
