/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_idpack.c: the compact form of a verified identity. Layout: a version
 * byte, the email-verified flag, exp/iat/nbf (8 bytes each, native order:
 * the bytes never leave the machine), then each string of the tables below
 * as a 16-bit length (NONE: NULL) and the bytes with their NUL, then each
 * list as a 16-bit count and its strings. The tables are the one place that
 * says what is kept.
 */
#include <stddef.h>
#include <string.h>

#include "wos_idpack.h"

#define PACK_VERSION 1
#define NONE 0xffffu

static const size_t SESSION_STRINGS[] = {
    offsetof(wos_session, organization_id), offsetof(wos_session, authentication_method),
    offsetof(wos_session, impersonator_email), offsetof(wos_session, impersonator_reason),
    offsetof(wos_session, user_id), offsetof(wos_session, user_email),
    offsetof(wos_session, user_first_name), offsetof(wos_session, user_last_name),
};
static const size_t CLAIM_STRINGS[] = {
    offsetof(wos_claims, sub), offsetof(wos_claims, sid), offsetof(wos_claims, org_id),
    offsetof(wos_claims, role), offsetof(wos_claims, iss), offsetof(wos_claims, jti),
    offsetof(wos_claims, act_sub),
};
static const size_t CLAIM_LISTS[] = {
    offsetof(wos_claims, roles), offsetof(wos_claims, permissions),
    offsetof(wos_claims, entitlements), offsetof(wos_claims, feature_flags),
};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define FIELD(base, off, type) (*(type *)((char *)(base) + (off)))

typedef struct {
    unsigned char *buf;
    apr_size_t len, max;
    int full;
} writer;

static void put(writer *w, const void *data, apr_size_t n)
{
    if (w->full || n > w->max - w->len) {
        w->full = 1;
        return;
    }
    memcpy(w->buf + w->len, data, n);
    w->len += n;
}

static void put_u16(writer *w, apr_uint32_t v)
{
    apr_uint16_t u = (apr_uint16_t)v;
    put(w, &u, sizeof(u));
}

static void put_str(writer *w, const char *s)
{
    apr_size_t n = s ? strlen(s) : 0;

    if (n >= NONE) {
        w->full = 1;
        return;
    }
    put_u16(w, s ? (apr_uint32_t)n : NONE);
    if (s)
        put(w, s, n + 1);
}

static void put_list(writer *w, const apr_array_header_t *a)
{
    int i, n = a ? a->nelts : 0;

    if (n >= (int)NONE) {
        w->full = 1;
        return;
    }
    put_u16(w, (apr_uint32_t)n);
    for (i = 0; i < n; i++)
        put_str(w, APR_ARRAY_IDX(a, i, const char *));
}

wos_rv wos_idpack(apr_pool_t *p, const wos_session *s, const wos_claims *c,
                  apr_size_t max, void **out, apr_size_t *len)
{
    writer w = {apr_palloc(p, max), 0, max, 0};
    unsigned char head[2] = {PACK_VERSION, (unsigned char)(s->user_email_verified + 1)};
    apr_int64_t times[3] = {c->exp, c->iat, c->nbf};
    apr_size_t i;

    put(&w, head, sizeof(head));
    put(&w, times, sizeof(times));
    for (i = 0; i < COUNT(SESSION_STRINGS); i++)
        put_str(&w, FIELD(s, SESSION_STRINGS[i], const char *));
    for (i = 0; i < COUNT(CLAIM_STRINGS); i++)
        put_str(&w, FIELD(c, CLAIM_STRINGS[i], const char *));
    for (i = 0; i < COUNT(CLAIM_LISTS); i++)
        put_list(&w, FIELD(c, CLAIM_LISTS[i], const apr_array_header_t *));
    if (w.full)
        return WOS_ETOOBIG;
    *out = w.buf;
    *len = w.len;
    return WOS_OK;
}

typedef struct {
    char *buf;
    apr_size_t len, at;
    int bad;
} reader;

static void *take(reader *r, apr_size_t n)
{
    void *at = r->buf + r->at;

    if (r->bad || n > r->len - r->at) {
        r->bad = 1;
        return NULL;
    }
    r->at += n;
    return at;
}

static apr_uint32_t take_u16(reader *r)
{
    apr_uint16_t u = 0;
    void *at = take(r, sizeof(u));

    if (at)
        memcpy(&u, at, sizeof(u));
    return u;
}

static const char *take_str(reader *r)
{
    apr_uint32_t n = take_u16(r);
    char *s;

    if (n == NONE || r->bad)
        return NULL;
    s = take(r, (apr_size_t)n + 1);
    if (s && s[n] != '\0')
        r->bad = 1;
    return r->bad ? NULL : s;
}

static apr_array_header_t *take_list(apr_pool_t *p, reader *r)
{
    apr_uint32_t i, n = take_u16(r);
    apr_array_header_t *a = apr_array_make(p, n ? (int)n : 1, sizeof(const char *));

    for (i = 0; i < n && !r->bad; i++) {
        const char *s = take_str(r);
        if (!s)
            r->bad = 1;
        APR_ARRAY_PUSH(a, const char *) = s;
    }
    return a;
}

wos_rv wos_idunpack(apr_pool_t *p, void *data, apr_size_t len, wos_session **s,
                    wos_claims **c)
{
    reader r = {data, len, 0, 0};
    wos_session *ss = apr_pcalloc(p, sizeof(*ss));
    wos_claims *cc = apr_pcalloc(p, sizeof(*cc));
    unsigned char *head = take(&r, 2);
    apr_int64_t times[3];
    void *t = take(&r, sizeof(times));
    apr_size_t i;

    if (!head || !t || head[0] != PACK_VERSION)
        return WOS_EINVAL;
    ss->user_email_verified = (int)head[1] - 1;
    memcpy(times, t, sizeof(times));
    cc->exp = times[0];
    cc->iat = times[1];
    cc->nbf = times[2];
    for (i = 0; i < COUNT(SESSION_STRINGS); i++)
        FIELD(ss, SESSION_STRINGS[i], const char *) = take_str(&r);
    for (i = 0; i < COUNT(CLAIM_STRINGS); i++)
        FIELD(cc, CLAIM_STRINGS[i], const char *) = take_str(&r);
    for (i = 0; i < COUNT(CLAIM_LISTS); i++)
        FIELD(cc, CLAIM_LISTS[i], apr_array_header_t *) = take_list(p, &r);
    if (r.bad || r.at != len || !ss->user_id || !cc->sub)
        return WOS_EINVAL;
    *s = ss;
    *c = cc;
    return WOS_OK;
}

wos_rv wos_scache_get_session(wos_scache *sc, apr_pool_t *p, const unsigned char *key,
                              apr_int64_t now, wos_session **s, wos_claims **c,
                              apr_int64_t *valid_until)
{
    void *data;
    apr_size_t len;
    wos_rv rv = wos_scache_get(sc, p, key, now, &data, &len, valid_until);

    return rv == WOS_OK ? wos_idunpack(p, data, len, s, c) : rv;
}

wos_rv wos_scache_put_session(wos_scache *sc, apr_pool_t *p, const unsigned char *key,
                              apr_int64_t valid_until, const wos_session *s,
                              const wos_claims *c)
{
    void *data;
    apr_size_t len;
    wos_rv rv = wos_idpack(p, s, c, wos_scache_payload_max(sc), &data, &len);

    if (rv == WOS_ETOOBIG)
        wos_scache_count_too_large(sc);
    return rv == WOS_OK ? wos_scache_put(sc, key, valid_until, data, len, wos_now_sec())
                        : rv;
}
