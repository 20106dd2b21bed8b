/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_activity.c: last activity per session id; see wos_activity.h for the
 * rules. The per-process table makes the common request (a session seen by
 * this process within the last fraction of the timeout) a lookup under a
 * mutex, with no access to the shared cache.
 */
#include <string.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "wos_activity.h"

#define ENDED_VALUE "ended"
#define VALUE_MAX 32

typedef struct slot {
    char sid[WOS_ACTIVITY_SID_MAX + 1];
    apr_time_t known;           /* the latest activity known to be recorded */
} slot;

struct wos_activity {
    apr_thread_mutex_t *mu;
    slot *slots;
    unsigned int n;
};

wos_rv wos_activity_create(apr_pool_t *p, int slots, wos_activity **out)
{
    wos_activity *a = apr_pcalloc(p, sizeof(*a));

    a->n = slots > 0 ? (unsigned int)slots : 1;
    a->slots = apr_pcalloc(p, sizeof(slot) * a->n);
    if (apr_thread_mutex_create(&a->mu, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS)
        return WOS_ECRYPTO;
    *out = a;
    return WOS_OK;
}

static slot *slot_of(wos_activity *a, const char *sid, apr_size_t len)
{
    apr_ssize_t klen = (apr_ssize_t)len;
    return &a->slots[apr_hashfunc_default(sid, &klen) % a->n];
}

/* What this process knows is recorded for @p sid; 0: nothing. */
static apr_time_t memo_get(wos_activity *a, const char *sid)
{
    apr_size_t len = strlen(sid);
    apr_time_t t = 0;
    slot *s;

    if (!a || len > WOS_ACTIVITY_SID_MAX)
        return 0;
    s = slot_of(a, sid, len);
    apr_thread_mutex_lock(a->mu);
    if (strcmp(s->sid, sid) == 0)
        t = s->known;
    apr_thread_mutex_unlock(a->mu);
    return t;
}

static void memo_set(wos_activity *a, const char *sid, apr_time_t known)
{
    apr_size_t len = strlen(sid);
    slot *s;

    if (!a || len > WOS_ACTIVITY_SID_MAX)
        return;
    s = slot_of(a, sid, len);
    apr_thread_mutex_lock(a->mu);
    memcpy(s->sid, sid, len + 1);
    s->known = known;
    apr_thread_mutex_unlock(a->mu);
}

static const char *key_of(apr_pool_t *p, const char *sid)
{
    return apr_pstrcat(p, "wos:act:", wos_sha256_hex(p, sid, strlen(sid)), NULL);
}

static apr_time_t fraction(int timeout)
{
    return apr_time_from_msec((apr_int64_t)timeout * 1000 / WOS_ACTIVITY_FRACTION);
}

/* The shared entry: its time (0 when absent or unreadable); *ended for the marker. */
static apr_time_t shared_get(apr_pool_t *p, const wos_activity_in *in, const char *key,
                             int *ended)
{
    char *v = NULL, *end;
    apr_size_t len = 0;
    apr_int64_t ms;

    *ended = 0;
    if (!in->cache || in->cache->get(in->cache, p, key, VALUE_MAX, &v, &len) != WOS_OK)
        return 0;
    if (strcmp(v, ENDED_VALUE) == 0) {
        *ended = 1;
        return 0;
    }
    ms = apr_strtoi64(v, &end, 10);
    return *end || ms <= 0 ? 0 : apr_time_from_msec(ms);
}

static apr_time_t latest(apr_time_t a, apr_time_t b)
{
    return a > b ? a : b;
}

wos_activity_verdict wos_activity_touch(apr_pool_t *p, const wos_activity_in *in,
                                        apr_time_t *idle_for, int *wrote)
{
    apr_time_t f = fraction(in->timeout), known = memo_get(in->memo, in->sid), recorded;
    const char *key, *val;
    int ended;

    if (idle_for)
        *idle_for = 0;
    if (wrote)
        *wrote = 0;
    if (known && in->now - known < f)
        return WOS_ACTIVITY_ALIVE;          /* the hot path: nothing shared */
    key = key_of(p, in->sid);
    recorded = shared_get(p, in, key, &ended);
    if (ended)
        return WOS_ACTIVITY_ENDED;
    recorded = latest(latest(recorded, known), apr_time_from_sec(in->iat));
    if (idle_for)
        *idle_for = in->now - recorded;
    if (in->now - recorded >= apr_time_from_sec(in->timeout) + f)
        return WOS_ACTIVITY_IDLE;
    if (in->now - recorded >= f && in->cache) {
        val = apr_psprintf(p, "%" APR_INT64_T_FMT, apr_time_as_msec(in->now));
        in->cache->set(in->cache, p, key, val, strlen(val),
                       in->now + 2 * apr_time_from_sec(in->timeout) + apr_time_from_sec(60));
        recorded = in->now;
        if (wrote)
            *wrote = 1;
    }
    memo_set(in->memo, in->sid, recorded);
    return WOS_ACTIVITY_ALIVE;
}

void wos_activity_end(apr_pool_t *p, const wos_activity_in *in)
{
    memo_set(in->memo, in->sid, 0);
    if (in->cache)
        in->cache->set(in->cache, p, key_of(p, in->sid), ENDED_VALUE, strlen(ENDED_VALUE),
                       in->now + apr_time_from_sec(WOS_ACTIVITY_ENDED_TTL));
}
