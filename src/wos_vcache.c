/*
 * wos_vcache.c: the per-process verified-session cache. Each entry owns an
 * unmanaged pool with deep copies, read-only once cached. A reader takes a
 * reference for its request's pool instead of copying (copies cost more
 * than the rest of a cache hit); an evicted entry is freed when its last
 * reader's pool ends.
 */
#include <string.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <openssl/evp.h>

#include "wos_algs.h"
#include "wos_claims.h"
#include "wos_vcache.h"

typedef struct vc_entry vc_entry;
struct vc_entry {
    unsigned char key[WOS_VCACHE_KEY_LEN];
    apr_pool_t *pool;
    apr_int64_t valid_until;
    wos_session *session;
    wos_claims *claims;
    const apr_array_header_t *identity;  /* wos_identity_vars() without the token */
    int refs;                       /* readers' pools holding it (under the lock) */
    int dropped;                    /* out of the index: freed with the last reader */
    vc_entry *prev, *next;          /* LRU list: head is the most recent */
};

struct wos_vcache {
    apr_thread_mutex_t *mu;
    apr_hash_t *index;
    vc_entry *head, *tail;
    int count, capacity;
};

/* Runs after every reader's pool (subpools of the cache's, or ended before it). */
static apr_status_t vcache_cleanup(void *data)
{
    wos_vcache *vc = data;
    vc_entry *e = vc->head, *next;

    for (; e; e = next) {
        next = e->next;
        apr_pool_destroy(e->pool);
    }
    vc->head = vc->tail = NULL;
    return APR_SUCCESS;
}

wos_rv wos_vcache_create(apr_pool_t *p, int capacity, wos_vcache **out)
{
    wos_vcache *vc = apr_pcalloc(p, sizeof(*vc));

    if (apr_thread_mutex_create(&vc->mu, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS)
        return WOS_ECRYPTO;
    vc->index = apr_hash_make(p);
    vc->capacity = capacity > 0 ? capacity : 1;
    apr_pool_cleanup_register(p, vc, vcache_cleanup, apr_pool_cleanup_null);
    *out = vc;
    return WOS_OK;
}

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

/* The settings into a digest: strings with their NUL, so no two sets read alike. */
static int digest_settings(EVP_MD_CTX *md, const wos_vcache_settings *s)
{
    const char *client = or_empty(s->client_id), *base = or_empty(s->base_url);
    apr_uint64_t v[6] = {(apr_uint32_t)s->skew, (apr_uint32_t)s->refresh_before,
                         (apr_uint32_t)s->format, (apr_uint32_t)s->token_max_age,
                         (apr_uint64_t)(apr_uintptr_t)s->passwords,
                         (apr_uint64_t)(apr_uintptr_t)s->issuers};

    return EVP_DigestUpdate(md, client, strlen(client) + 1) == 1
           && EVP_DigestUpdate(md, base, strlen(base) + 1) == 1
           && EVP_DigestUpdate(md, v, sizeof(v)) == 1;
}

wos_rv wos_vcache_key(const char *cookie, const wos_vcache_settings *settings,
                      unsigned char key[WOS_VCACHE_KEY_LEN])
{
    const wos_algs *algs = wos_algs_get();
    EVP_MD_CTX *md = algs ? EVP_MD_CTX_new() : NULL;
    unsigned int n = 0;
    int ok;

    ok = md && EVP_DigestInit_ex2(md, algs->sha256, NULL) == 1
         && digest_settings(md, settings)
         && EVP_DigestUpdate(md, cookie, strlen(cookie)) == 1
         && EVP_DigestFinal_ex(md, key, &n) == 1 && n == WOS_VCACHE_KEY_LEN;
    EVP_MD_CTX_free(md);
    return ok ? WOS_OK : WOS_ECRYPTO;
}

static int same_numbers(const wos_vcache_settings *a, const wos_vcache_settings *b)
{
    return a->skew == b->skew && a->refresh_before == b->refresh_before
           && a->format == b->format && a->token_max_age == b->token_max_age
           && a->passwords == b->passwords && a->issuers == b->issuers;
}

wos_rv wos_vcache_key_memo(wos_vcache_memo *m, apr_pool_t *mp,
                           const char *cookie, const wos_vcache_settings *settings,
                           unsigned char key[WOS_VCACHE_KEY_LEN])
{
    const char *client = or_empty(settings->client_id), *base = or_empty(settings->base_url);
    apr_size_t c1 = strlen(client) + 1, b1 = strlen(base) + 1, cl = strlen(cookie);
    apr_size_t n = c1 + b1 + cl;

    /* Compared with what this same client sent before (the NULs keep the fields apart). */
    if (m && m->len == n && same_numbers(&m->settings, settings)
        && memcmp(m->input, client, c1) == 0 && memcmp(m->input + c1, base, b1) == 0
        && memcmp(m->input + c1 + b1, cookie, cl) == 0) {
        memcpy(key, m->key, WOS_VCACHE_KEY_LEN);
        return WOS_OK;
    }
    if (wos_vcache_key(cookie, settings, key) != WOS_OK) {
        if (m)
            m->len = 0;
        return WOS_ECRYPTO;
    }
    if (!m || !mp || n > WOS_VCACHE_MEMO_MAX)
        return WOS_OK;
    if (n > m->cap) {
        /* Doubling: a client changing cookie sizes costs O(max) in all. */
        m->cap = n > 2 * m->cap ? (n > 1024 ? n : 1024) : 2 * m->cap;
        m->input = apr_palloc(mp, m->cap);
    }
    memcpy(m->input, client, c1);
    memcpy(m->input + c1, base, b1);
    memcpy(m->input + c1 + b1, cookie, cl);
    m->settings = *settings;
    m->settings.client_id = m->input;
    m->settings.base_url = m->input + c1;
    memcpy(m->key, key, WOS_VCACHE_KEY_LEN);
    m->len = n;
    return WOS_OK;
}

static const char *sdup(apr_pool_t *p, const char *s)
{
    return s ? apr_pstrdup(p, s) : NULL;
}

static apr_array_header_t *dup_list(apr_pool_t *p, const apr_array_header_t *a)
{
    apr_array_header_t *c = apr_array_make(p, a ? a->nelts : 0, sizeof(const char *));
    int i;

    for (i = 0; a && i < a->nelts; i++)
        APR_ARRAY_PUSH(c, const char *) = apr_pstrdup(p, APR_ARRAY_IDX(a, i, const char *));
    return c;
}

static wos_session *dup_session(apr_pool_t *p, const wos_session *s)
{
    wos_session *c = apr_pmemdup(p, s, sizeof(*s));

    c->access_token = sdup(p, s->access_token);
    c->refresh_token = sdup(p, s->refresh_token);
    c->organization_id = sdup(p, s->organization_id);
    c->authentication_method = sdup(p, s->authentication_method);
    c->impersonator_email = sdup(p, s->impersonator_email);
    c->impersonator_reason = sdup(p, s->impersonator_reason);
    c->user_id = sdup(p, s->user_id);
    c->user_email = sdup(p, s->user_email);
    c->user_first_name = sdup(p, s->user_first_name);
    c->user_last_name = sdup(p, s->user_last_name);
    c->user = NULL;
    c->api_user = NULL;
    return c;
}

static wos_claims *dup_claims(apr_pool_t *p, const wos_claims *s)
{
    wos_claims *c = apr_pmemdup(p, s, sizeof(*s));

    c->sub = sdup(p, s->sub);
    c->sid = sdup(p, s->sid);
    c->org_id = sdup(p, s->org_id);
    c->role = sdup(p, s->role);
    c->iss = sdup(p, s->iss);
    c->jti = sdup(p, s->jti);
    c->act_sub = sdup(p, s->act_sub);
    c->roles = dup_list(p, s->roles);
    c->permissions = dup_list(p, s->permissions);
    c->entitlements = dup_list(p, s->entitlements);
    c->feature_flags = dup_list(p, s->feature_flags);
    c->payload = sdup(p, s->payload);
    return c;
}

static void unlink_entry(wos_vcache *vc, vc_entry *e)
{
    if (e->prev) e->prev->next = e->next; else vc->head = e->next;
    if (e->next) e->next->prev = e->prev; else vc->tail = e->prev;
    e->prev = e->next = NULL;
}

static void push_front(wos_vcache *vc, vc_entry *e)
{
    e->next = vc->head;
    e->prev = NULL;
    if (vc->head)
        vc->head->prev = e;
    vc->head = e;
    if (!vc->tail)
        vc->tail = e;
}

static void drop(wos_vcache *vc, vc_entry *e)
{
    unlink_entry(vc, e);
    apr_hash_set(vc->index, e->key, WOS_VCACHE_KEY_LEN, NULL);
    vc->count--;
    if (e->refs)
        e->dropped = 1;
    else
        apr_pool_destroy(e->pool);
}

typedef struct {
    wos_vcache *vc;
    vc_entry *e;
} vc_ref;

static apr_status_t release(void *data)
{
    vc_ref *ref = data;
    vc_entry *e = ref->e;
    int last;

    apr_thread_mutex_lock(ref->vc->mu);
    last = --e->refs == 0 && e->dropped;
    apr_thread_mutex_unlock(ref->vc->mu);
    if (last)
        apr_pool_destroy(e->pool);
    return APR_SUCCESS;
}

wos_rv wos_vcache_get(wos_vcache *vc, apr_pool_t *rp, const unsigned char *key,
                      apr_int64_t now, wos_session **s, wos_claims **c,
                      const apr_array_header_t **identity)
{
    vc_entry *e;
    wos_rv rv = WOS_ENOKEY;

    apr_thread_mutex_lock(vc->mu);
    e = apr_hash_get(vc->index, key, WOS_VCACHE_KEY_LEN);
    if (e && now >= e->valid_until) {
        drop(vc, e);
    }
    else if (e) {
        unlink_entry(vc, e);
        push_front(vc, e);
        e->refs++;
        *s = e->session;
        *c = e->claims;
        if (identity)
            *identity = e->identity;
        rv = WOS_OK;
    }
    apr_thread_mutex_unlock(vc->mu);
    if (rv == WOS_OK) {
        vc_ref *ref = apr_palloc(rp, sizeof(*ref));
        ref->vc = vc;
        ref->e = e;
        apr_pool_cleanup_register(rp, ref, release, apr_pool_cleanup_null);
    }
    return rv;
}

void wos_vcache_put(wos_vcache *vc, const unsigned char *key, apr_int64_t valid_until,
                    const wos_session *s, const wos_claims *c)
{
    apr_pool_t *ep;
    vc_entry *e, *old;

    if (valid_until <= wos_now_sec())
        return;
    /* Copies are made outside the lock, in the entry's own pool. */
    if (apr_pool_create_unmanaged_ex(&ep, NULL, NULL) != APR_SUCCESS)
        return;
    e = apr_pcalloc(ep, sizeof(*e));
    memcpy(e->key, key, WOS_VCACHE_KEY_LEN);
    e->pool = ep;
    e->valid_until = valid_until;
    e->session = dup_session(ep, s);
    e->claims = dup_claims(ep, c);
    e->identity = wos_identity_vars(ep, e->session, e->claims, 0);

    apr_thread_mutex_lock(vc->mu);
    old = apr_hash_get(vc->index, key, WOS_VCACHE_KEY_LEN);
    if (old)
        drop(vc, old);
    while (vc->count >= vc->capacity && vc->tail)
        drop(vc, vc->tail);
    push_front(vc, e);
    apr_hash_set(vc->index, e->key, WOS_VCACHE_KEY_LEN, e);
    vc->count++;
    apr_thread_mutex_unlock(vc->mu);
}

int wos_vcache_count(wos_vcache *vc)
{
    int n;

    apr_thread_mutex_lock(vc->mu);
    n = vc->count;
    apr_thread_mutex_unlock(vc->mu);
    return n;
}
