/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_scache.c: the shared verified-session table (see wos_scache.h).
 * Slots are named by 1-based indexes (0: none) so the region means the
 * same in every process. Each slot is in one bucket chain (or the free
 * list, through the same link) and in the LRU list, newest at the head.
 */
#include <string.h>

#include "wos_scache.h"

#define SC_MAGIC   0x574f5353u      /* "WOSS" */
#define SC_VERSION 1u
#define SC_ALIGN   64

typedef struct sc_header {
    apr_uint32_t magic, version;
    apr_uint64_t size;
    apr_uint32_t entry_size, capacity, nbuckets;
    apr_uint32_t used;              /* slots ever handed out: the rest are untouched */
    apr_uint32_t free_head, lru_head, lru_tail, count;
    unsigned char secret[WOS_SIPHASH_KEY_LEN];
    apr_uint64_t hits, misses, stores, evictions, expired, too_large;
} sc_header;

typedef struct sc_slot {
    unsigned char key[WOS_SCACHE_KEY_LEN];
    apr_int64_t valid_until;
    apr_uint32_t chain;             /* next in the bucket, or in the free list */
    apr_uint32_t older, newer;      /* LRU neighbours */
    apr_uint32_t len;               /* payload bytes, after the slot header */
} sc_slot;

struct wos_scache {
    sc_header *h;
    apr_uint32_t *buckets;
    unsigned char *slots;
    apr_uint32_t capacity, mask, entry_size;    /* fixed at format: kept privately */
    wos_scache_lock lock;
};

static apr_size_t align_up(apr_size_t n)
{
    return (n + SC_ALIGN - 1) & ~(apr_size_t)(SC_ALIGN - 1);
}

static apr_uint32_t pow2_floor(apr_uint64_t n)
{
    apr_uint32_t b = 1;

    while ((apr_uint64_t)b * 2 <= n && b < 0x80000000u)
        b *= 2;
    return b;
}

/* Buckets: a power of two between half the slots and the slots (load 1 to 2). */
static apr_uint32_t buckets_for(apr_size_t size, apr_size_t entry_size)
{
    apr_size_t room = size - align_up(sizeof(sc_header));
    return pow2_floor(room / (entry_size + sizeof(apr_uint32_t)));
}

static apr_size_t slots_offset(apr_uint32_t nbuckets)
{
    return align_up(sizeof(sc_header)) + align_up((apr_size_t)nbuckets * sizeof(apr_uint32_t));
}

apr_uint32_t wos_scache_capacity(apr_size_t size, apr_size_t entry_size)
{
    apr_size_t off;
    apr_uint64_t n;

    if (entry_size < WOS_SCACHE_MIN_ENTRY || entry_size > WOS_SCACHE_MAX_ENTRY
        || size < align_up(sizeof(sc_header)) + entry_size + sizeof(apr_uint32_t))
        return 0;
    off = slots_offset(buckets_for(size, entry_size));
    n = size > off ? (size - off) / entry_size : 0;
    return n > 0xfffffff0u ? 0xfffffff0u : (apr_uint32_t)n;
}

wos_rv wos_scache_format(void *base, apr_size_t size, apr_size_t entry_size,
                         const unsigned char secret[WOS_SIPHASH_KEY_LEN])
{
    apr_uint32_t cap = wos_scache_capacity(size, entry_size);
    apr_uint32_t nb;
    sc_header *h = base;

    if (cap < WOS_SCACHE_MIN_ENTRIES || entry_size % 8)
        return WOS_EINVAL;
    nb = buckets_for(size, entry_size);
    memset(h, 0, slots_offset(nb));     /* header and buckets; slots stay untouched */
    h->size = size;
    h->entry_size = (apr_uint32_t)entry_size;
    h->capacity = cap;
    h->nbuckets = nb;
    memcpy(h->secret, secret, WOS_SIPHASH_KEY_LEN);
    h->version = SC_VERSION;
    h->magic = SC_MAGIC;
    return WOS_OK;
}

wos_rv wos_scache_attach(apr_pool_t *p, void *base, apr_size_t size,
                         const wos_scache_lock *lock, wos_scache **out)
{
    sc_header *h = base;
    wos_scache *sc;

    if (!h || h->magic != SC_MAGIC || h->version != SC_VERSION || h->size != size
        || h->capacity != wos_scache_capacity(size, h->entry_size)
        || h->nbuckets != buckets_for(size, h->entry_size))
        return WOS_EINVAL;
    sc = apr_pcalloc(p, sizeof(*sc));
    sc->h = h;
    sc->buckets = (apr_uint32_t *)((char *)base + align_up(sizeof(sc_header)));
    sc->slots = (unsigned char *)base + slots_offset(h->nbuckets);
    sc->capacity = h->capacity;
    sc->mask = h->nbuckets - 1;
    sc->entry_size = h->entry_size;
    sc->lock = *lock;
    *out = sc;
    return WOS_OK;
}

const unsigned char *wos_scache_secret(const wos_scache *sc)
{
    return sc->h->secret;
}

apr_size_t wos_scache_payload_max(const wos_scache *sc)
{
    return sc->entry_size - sizeof(sc_slot);
}

/* ---- links (all under the lock) ---------------------------------------- */

static sc_slot *slot(const wos_scache *sc, apr_uint32_t ref)
{
    return (sc_slot *)(sc->slots + (apr_size_t)(ref - 1) * sc->entry_size);
}

static int valid_ref(const wos_scache *sc, apr_uint32_t ref)
{
    return ref >= 1 && ref <= sc->capacity;
}

/* The key's first 8 bytes are already uniformly random (a PRF's output). */
static apr_uint32_t *bucket(const wos_scache *sc, const unsigned char *key)
{
    apr_uint64_t v;

    memcpy(&v, key, sizeof(v));
    return &sc->buckets[v & sc->mask];
}

/* The link that points at @p key's slot (its bucket or a predecessor), or NULL. */
static apr_uint32_t *find(const wos_scache *sc, const unsigned char *key)
{
    apr_uint32_t *link = bucket(sc, key), steps = 0;

    while (valid_ref(sc, *link) && steps++ < sc->capacity) {
        sc_slot *e = slot(sc, *link);
        if (memcmp(e->key, key, WOS_SCACHE_KEY_LEN) == 0)
            return link;
        link = &e->chain;
    }
    return NULL;
}

static void lru_unlink(wos_scache *sc, apr_uint32_t ref)
{
    sc_slot *e = slot(sc, ref);

    if (e->newer) slot(sc, e->newer)->older = e->older; else sc->h->lru_head = e->older;
    if (e->older) slot(sc, e->older)->newer = e->newer; else sc->h->lru_tail = e->newer;
    e->older = e->newer = 0;
}

static void lru_push(wos_scache *sc, apr_uint32_t ref)
{
    sc_slot *e = slot(sc, ref);

    e->newer = 0;
    e->older = sc->h->lru_head;
    if (e->older)
        slot(sc, e->older)->newer = ref;
    sc->h->lru_head = ref;
    if (!sc->h->lru_tail)
        sc->h->lru_tail = ref;
}

/* Out of its chain (through @p link) and the LRU list, onto the free list. */
static void release(wos_scache *sc, apr_uint32_t *link)
{
    apr_uint32_t ref = *link;
    sc_slot *e = slot(sc, ref);

    *link = e->chain;
    lru_unlink(sc, ref);
    e->chain = sc->h->free_head;
    sc->h->free_head = ref;
    sc->h->count--;
}

/* A slot to fill: a freed one, a never used one, or the least recently used. */
static apr_uint32_t take_slot(wos_scache *sc, apr_int64_t now)
{
    sc_header *h = sc->h;
    apr_uint32_t ref;

    if (!h->free_head && h->used < sc->capacity)
        return ++h->used;
    if (!h->free_head && valid_ref(sc, h->lru_tail)) {
        sc_slot *old = slot(sc, h->lru_tail);
        apr_uint32_t *link = find(sc, old->key);
        if (!link)
            return 0;               /* inconsistent: store nothing */
        if (old->valid_until <= now) h->expired++; else h->evictions++;
        release(sc, link);
    }
    ref = h->free_head;
    if (!valid_ref(sc, ref))
        return 0;
    h->free_head = slot(sc, ref)->chain;
    return ref;
}

/* ---- operations ------------------------------------------------------- */

wos_rv wos_scache_get(wos_scache *sc, apr_pool_t *p, const unsigned char *key,
                      apr_int64_t now, void **data, apr_size_t *len,
                      apr_int64_t *valid_until)
{
    void *buf = apr_palloc(p, wos_scache_payload_max(sc));
    apr_uint32_t *link;
    wos_rv rv = WOS_ENOKEY;

    if (sc->lock.lock(sc->lock.baton) != 0)
        return WOS_EBUSY;
    link = find(sc, key);
    if (link && (slot(sc, *link)->valid_until <= now
                 || slot(sc, *link)->len > wos_scache_payload_max(sc))) {
        release(sc, link);          /* expired (or not a length a put writes) */
        sc->h->expired++;
    }
    else if (link) {
        apr_uint32_t ref = *link;
        sc_slot *e = slot(sc, ref);
        lru_unlink(sc, ref);
        lru_push(sc, ref);
        *len = e->len;
        memcpy(buf, e + 1, e->len);
        if (valid_until)
            *valid_until = e->valid_until;
        sc->h->hits++;
        rv = WOS_OK;
    }
    if (rv != WOS_OK)
        sc->h->misses++;
    sc->lock.unlock(sc->lock.baton);
    if (rv == WOS_OK)
        *data = buf;
    return rv;
}

wos_rv wos_scache_put(wos_scache *sc, const unsigned char *key, apr_int64_t valid_until,
                      const void *data, apr_size_t len, apr_int64_t now)
{
    apr_uint32_t *link, ref;
    sc_slot *e;

    if (valid_until <= now)
        return WOS_EINVAL;
    if (sc->lock.lock(sc->lock.baton) != 0)
        return WOS_EBUSY;
    if (len > wos_scache_payload_max(sc)) {
        sc->h->too_large++;
        sc->lock.unlock(sc->lock.baton);
        return WOS_ETOOBIG;
    }
    link = find(sc, key);
    if (link) {
        ref = *link;
        lru_unlink(sc, ref);
    }
    else if ((ref = take_slot(sc, now)) != 0) {
        apr_uint32_t *b = bucket(sc, key);
        e = slot(sc, ref);
        memcpy(e->key, key, WOS_SCACHE_KEY_LEN);
        e->chain = *b;
        *b = ref;
        sc->h->count++;
    }
    if (ref) {
        e = slot(sc, ref);
        e->valid_until = valid_until;
        e->len = (apr_uint32_t)len;
        memcpy(e + 1, data, len);
        lru_push(sc, ref);
        sc->h->stores++;
    }
    sc->lock.unlock(sc->lock.baton);
    return ref ? WOS_OK : WOS_ECRYPTO;
}

void wos_scache_count_too_large(wos_scache *sc)
{
    if (sc->lock.lock(sc->lock.baton) != 0)
        return;
    sc->h->too_large++;
    sc->lock.unlock(sc->lock.baton);
}

wos_rv wos_scache_stats_get(wos_scache *sc, wos_scache_stats *st)
{
    sc_header *h = sc->h;

    if (sc->lock.lock(sc->lock.baton) != 0)
        return WOS_EBUSY;
    st->bytes = h->size;
    st->entries = h->count;
    st->capacity = sc->capacity;
    st->entry_size = sc->entry_size;
    st->hits = h->hits;
    st->misses = h->misses;
    st->stores = h->stores;
    st->evictions = h->evictions;
    st->expired = h->expired;
    st->too_large = h->too_large;
    sc->lock.unlock(sc->lock.baton);
    return WOS_OK;
}

/* ---- consistency (tests) ---------------------------------------------- */

/* The LRU list, newest to oldest, marking each entry once (1). */
static int verify_lru(wos_scache *sc, unsigned char *mark, apr_uint32_t *n)
{
    apr_uint32_t ref = sc->h->lru_head, prev = 0;

    for (*n = 0; ref; prev = ref, ref = slot(sc, ref)->older, (*n)++) {
        if (!valid_ref(sc, ref) || ref > sc->h->used || mark[ref]
            || slot(sc, ref)->newer != prev)
            return 0;
        mark[ref] = 1;
    }
    return sc->h->lru_tail == prev;
}

/* Every chain holds marked entries of its own bucket, each once (2). */
static int verify_chains(wos_scache *sc, unsigned char *mark, apr_uint32_t *n)
{
    apr_uint32_t b, ref;

    for (*n = 0, b = 0; b <= sc->mask; b++) {
        for (ref = sc->buckets[b]; ref; ref = slot(sc, ref)->chain, (*n)++) {
            if (!valid_ref(sc, ref) || mark[ref] != 1
                || bucket(sc, slot(sc, ref)->key) != &sc->buckets[b])
                return 0;
            mark[ref] = 2;
        }
    }
    return 1;
}

wos_rv wos_scache_verify(wos_scache *sc, apr_pool_t *p)
{
    unsigned char *mark = apr_pcalloc(p, (apr_size_t)sc->capacity + 1);
    apr_uint32_t in_lru = 0, in_chains = 0, nfree = 0, ref;
    int ok;

    if (sc->lock.lock(sc->lock.baton) != 0)
        return WOS_EBUSY;
    ok = sc->h->used <= sc->capacity && verify_lru(sc, mark, &in_lru)
         && verify_chains(sc, mark, &in_chains);
    for (ref = sc->h->free_head; ok && ref; ref = slot(sc, ref)->chain, nfree++)
        ok = valid_ref(sc, ref) && mark[ref] == 0 && (mark[ref] = 3);
    ok = ok && in_lru == sc->h->count && in_chains == sc->h->count
         && nfree + sc->h->count == sc->h->used;
    sc->lock.unlock(sc->lock.baton);
    return ok ? WOS_OK : WOS_EINVAL;
}
