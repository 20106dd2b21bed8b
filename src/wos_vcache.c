/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_vcache.c: the per-process verified-session cache. Each entry owns an
 * unmanaged pool with deep copies, read-only once cached. A reader takes a
 * reference for its request's pool instead of copying (copies cost more
 * than the rest of a cache hit); an evicted entry is freed when its last
 * reader's pool ends. An entry stored with its cookie is also found by the
 * cookie itself: its last bytes (the seal's MAC, random) pick it, and the
 * whole cookie and the settings, compared exactly, accept it.
 *
 * A hit takes the lock once, briefly: references are atomic counts (the
 * index holds one), so a reader's pool lets go without the lock, and the
 * cookie is compared after it, on the reader's own reference.
 */
#include <string.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include "wos_claims.h"
#include "wos_vcache.h"

/* The exact index's key: the cookie's length and last bytes. */
#define VC_TAIL_BYTES 16
typedef struct vc_tail {
    apr_uint64_t len;
    unsigned char last[VC_TAIL_BYTES];
} vc_tail;

typedef struct vc_entry vc_entry;
struct vc_entry {
    unsigned char key[WOS_VCACHE_KEY_LEN];
    apr_pool_t *pool;
    apr_int64_t valid_until;
    wos_session *session;
    wos_claims *claims;
    const apr_array_header_t *identity;  /* wos_identity_vars() without the token */
    apr_uint32_t refs;              /* atomic: the index's one, and a reader pool's each */
    vc_entry *prev, *next;          /* LRU list: head is the most recent */
    apr_int64_t used_at;            /* the second of its last move to the head */
    vc_tail tail;                   /* its key in by_tail (when cookie is set) */
    const char *cookie;             /* the verified cookie, or NULL */
    apr_size_t cookie_len;
    wos_vcache_settings settings;   /* what it was verified under (own strings) */
};

struct wos_vcache {
    apr_thread_mutex_t *mu;
    apr_pool_t *tables;             /* the two tables' own: see wos_vcache_create */
    apr_hash_t *index;
    apr_hash_t *by_tail;            /* vc_tail -> the newest entry with that tail */
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
    apr_pool_destroy(vc->tables);
    return APR_SUCCESS;
}

/*
 * A tail's slot in by_tail, from its last eight bytes: no keyed hash needed.
 * Only verified cookies are stored, and their last bytes are a MAC made with
 * a secret: random, and not the client's to choose (no chains to flood).
 */
static unsigned int tail_hash(const char *key, apr_ssize_t *klen)
{
    const vc_tail *t = (const vc_tail *)key;
    apr_uint64_t h;

    (void)klen;
    memcpy(&h, t->last + VC_TAIL_BYTES - sizeof(h), sizeof(h));
    h = (h ^ t->len) * 0x9e3779b97f4a7c15ULL;  /* base64 text: mixed into every bit */
    return (unsigned int)(h >> 32);
}

/*
 * The tables grow while requests run, under the cache's lock only: they take
 * from a pool of their own, never from @p p (httpd's pchild), which other
 * objects and modules use under no common lock. Its parent is APR's global
 * pool, so that it outlives @p p's subpools (readers) and goes in the cleanup.
 */
wos_rv wos_vcache_create(apr_pool_t *p, int capacity, wos_vcache **out)
{
    wos_vcache *vc = apr_pcalloc(p, sizeof(*vc));

    if (apr_thread_mutex_create(&vc->mu, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS
        || apr_pool_create(&vc->tables, NULL) != APR_SUCCESS)
        return WOS_ECRYPTO;
    vc->index = apr_hash_make(vc->tables);
    vc->by_tail = apr_hash_make_custom(vc->tables, tail_hash);
    vc->capacity = capacity > 0 ? capacity : 1;
    apr_pool_cleanup_register(p, vc, vcache_cleanup, apr_pool_cleanup_null);
    *out = vc;
    return WOS_OK;
}

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

/*
 * The one place that says which settings key an entry: every field of
 * wos_vcache_settings goes in, strings with their NUL so no two sets read
 * alike. A setting added to the struct must be added here and to
 * same_numbers() (the memo).
 */
static void hash_settings(wos_siphash *h, const wos_vcache_settings *s)
{
    const char *client = or_empty(s->client_id), *base = or_empty(s->base_url);
    apr_uint64_t v[6] = {(apr_uint32_t)s->skew, (apr_uint32_t)s->refresh_before,
                         (apr_uint32_t)s->format, (apr_uint32_t)s->token_max_age,
                         (apr_uint64_t)(apr_uintptr_t)s->passwords,
                         (apr_uint64_t)(apr_uintptr_t)s->issuers};

    wos_siphash_update(h, client, strlen(client) + 1);
    wos_siphash_update(h, base, strlen(base) + 1);
    wos_siphash_update(h, v, sizeof(v));
}

wos_rv wos_vcache_key(const char *cookie, const wos_vcache_settings *settings,
                      unsigned char key[WOS_VCACHE_KEY_LEN])
{
    wos_siphash h;

    if (!settings->hash_key)
        return WOS_ECRYPTO;
    wos_siphash_init(&h, settings->hash_key);
    hash_settings(&h, settings);
    wos_siphash_update(&h, cookie, strlen(cookie));
    wos_siphash_final(&h, key);
    return WOS_OK;
}

static int same_numbers(const wos_vcache_settings *a, const wos_vcache_settings *b)
{
    return a->skew == b->skew && a->refresh_before == b->refresh_before
           && a->format == b->format && a->token_max_age == b->token_max_age
           && a->passwords == b->passwords && a->issuers == b->issuers
           && a->hash_key == b->hash_key;
}


static void tail_of(const char *cookie, apr_size_t len, vc_tail *t)
{
    apr_size_t n = len < VC_TAIL_BYTES ? len : VC_TAIL_BYTES;

    memset(t, 0, sizeof(*t));
    t->len = len;
    memcpy(t->last, cookie + len - n, n);
}

int wos_vcache_settings_same(const wos_vcache_settings *a, const wos_vcache_settings *b)
{
    return same_numbers(a, b) && !strcmp(or_empty(a->client_id), or_empty(b->client_id))
           && !strcmp(or_empty(a->base_url), or_empty(b->base_url));
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

/* One reference less; the last one frees the entry. */
static void unref(vc_entry *e)
{
    if (__atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) == 0)
        apr_pool_destroy(e->pool);
}

static void drop(wos_vcache *vc, vc_entry *e)
{
    unlink_entry(vc, e);
    apr_hash_set(vc->index, e->key, WOS_VCACHE_KEY_LEN, NULL);
    if (e->cookie && apr_hash_get(vc->by_tail, &e->tail, sizeof(e->tail)) == e)
        apr_hash_set(vc->by_tail, &e->tail, sizeof(e->tail), NULL);
    __atomic_store_n(&vc->count, vc->count - 1, __ATOMIC_RELAXED);   /* read unlocked */
    unref(e);
}

static apr_status_t release(void *data)
{
    unref(data);
    return APR_SUCCESS;
}

/*
 * A live entry to a reader (under the lock): referenced, and moved to the
 * front on its first read of a second only. A move writes to two other
 * entries, which with many sessions taken in turn are cold in the CPU's caches.
 */
static void take(wos_vcache *vc, vc_entry *e, apr_int64_t now)
{
    if (e->used_at != now) {
        e->used_at = now;
        unlink_entry(vc, e);
        push_front(vc, e);
    }
    __atomic_add_fetch(&e->refs, 1, __ATOMIC_RELAXED);
}

/* The reader's reference ends with its pool (after the lock). */
static void hand_out(vc_entry *e, apr_pool_t *rp, wos_session **s, wos_claims **c,
                     const apr_array_header_t **identity)
{
    apr_pool_cleanup_register(rp, e, release, apr_pool_cleanup_null);
    *s = e->session;
    *c = e->claims;
    if (identity)
        *identity = e->identity;
}

/* The live entry under @p k of @p table, referenced for the caller; an expired one goes. */
static vc_entry *find_live(wos_vcache *vc, apr_hash_t *table, const void *k, apr_ssize_t klen,
                           apr_int64_t now)
{
    vc_entry *e;

    apr_thread_mutex_lock(vc->mu);
    e = apr_hash_get(table, k, klen);
    if (e && now >= e->valid_until) {
        drop(vc, e);
        e = NULL;
    }
    if (e)
        take(vc, e, now);
    apr_thread_mutex_unlock(vc->mu);
    return e;
}

wos_rv wos_vcache_get(wos_vcache *vc, apr_pool_t *rp, const unsigned char *key,
                      apr_int64_t now, wos_session **s, wos_claims **c,
                      const apr_array_header_t **identity)
{
    vc_entry *e = find_live(vc, vc->index, key, WOS_VCACHE_KEY_LEN, now);

    if (!e)
        return WOS_ENOKEY;
    hand_out(e, rp, s, c, identity);
    return WOS_OK;
}

wos_rv wos_vcache_get_cookie(wos_vcache *vc, apr_pool_t *rp, const char *cookie,
                             apr_size_t len, const wos_vcache_settings *settings,
                             apr_int64_t now, wos_session **s, wos_claims **c,
                             const apr_array_header_t **identity)
{
    vc_tail t;
    vc_entry *e;

    tail_of(cookie, len, &t);
    if (!(e = find_live(vc, vc->by_tail, &t, sizeof(t), now)))
        return WOS_ENOKEY;
    /* The cookie and settings are read-only: compared on our reference. */
    if (e->cookie_len != len || memcmp(e->cookie, cookie, len) != 0
        || !wos_vcache_settings_same(&e->settings, settings)) {
        unref(e);
        return WOS_ENOKEY;
    }
    hand_out(e, rp, s, c, identity);
    return WOS_OK;
}

/* A new entry with its own copies, made outside the lock; NULL when expired. */
static vc_entry *make_entry(const unsigned char *key, const char *cookie,
                            const wos_vcache_settings *settings, apr_int64_t valid_until,
                            const wos_session *s, const wos_claims *c)
{
    apr_pool_t *ep;
    vc_entry *e;

    if (valid_until <= wos_now_sec()
        || apr_pool_create_unmanaged_ex(&ep, NULL, NULL) != APR_SUCCESS)
        return NULL;
    e = apr_pcalloc(ep, sizeof(*e));
    memcpy(e->key, key, WOS_VCACHE_KEY_LEN);
    e->pool = ep;
    e->valid_until = valid_until;
    e->session = dup_session(ep, s);
    e->claims = dup_claims(ep, c);
    e->identity = wos_identity_vars(ep, e->session, e->claims, 0);
    if (cookie && settings) {
        e->cookie_len = strlen(cookie);
        e->cookie = apr_pstrmemdup(ep, cookie, e->cookie_len);
        tail_of(e->cookie, e->cookie_len, &e->tail);
        e->settings = *settings;
        e->settings.client_id = sdup(ep, settings->client_id);
        e->settings.base_url = sdup(ep, settings->base_url);
    }
    return e;
}

/* Insert @p e, evicting the least recently used when @p evict; 0: no room. */
static int insert(wos_vcache *vc, vc_entry *e, int evict)
{
    vc_entry *old;

    apr_thread_mutex_lock(vc->mu);
    old = apr_hash_get(vc->index, e->key, WOS_VCACHE_KEY_LEN);
    if (old)
        drop(vc, old);
    if (!evict && vc->count >= vc->capacity) {
        apr_thread_mutex_unlock(vc->mu);
        return 0;
    }
    while (vc->count >= vc->capacity && vc->tail)
        drop(vc, vc->tail);
    e->refs = 1;                    /* the index's */
    push_front(vc, e);
    apr_hash_set(vc->index, e->key, WOS_VCACHE_KEY_LEN, e);
    if (e->cookie)
        apr_hash_set(vc->by_tail, &e->tail, sizeof(e->tail), e);
    __atomic_store_n(&vc->count, vc->count + 1, __ATOMIC_RELAXED);
    apr_thread_mutex_unlock(vc->mu);
    return 1;
}

void wos_vcache_put_cookie(wos_vcache *vc, const unsigned char *key, const char *cookie,
                           const wos_vcache_settings *settings, apr_int64_t valid_until,
                           const wos_session *s, const wos_claims *c)
{
    vc_entry *e = make_entry(key, cookie, settings, valid_until, s, c);

    if (e)
        insert(vc, e, 1);
}

void wos_vcache_put(wos_vcache *vc, const unsigned char *key, apr_int64_t valid_until,
                    const wos_session *s, const wos_claims *c)
{
    wos_vcache_put_cookie(vc, key, NULL, NULL, valid_until, s, c);
}

void wos_vcache_offer(wos_vcache *vc, const unsigned char *key, const char *cookie,
                      const wos_vcache_settings *settings, apr_int64_t valid_until,
                      const wos_session *s, const wos_claims *c)
{
    vc_entry *e;

    if (wos_vcache_count(vc) >= vc->capacity)
        return;             /* the common case when full: no copies made */
    e = make_entry(key, cookie, settings, valid_until, s, c);
    if (e && !insert(vc, e, 0))
        apr_pool_destroy(e->pool);
}

/* Read without the lock: wos_vcache_offer asks on every shared-cache hit, and
 * insert() checks again under it. */
int wos_vcache_count(wos_vcache *vc)
{
    return __atomic_load_n(&vc->count, __ATOMIC_RELAXED);
}
