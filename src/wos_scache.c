/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_scache.c: the shared verified-session table (see wos_scache.h).
 * Slots are named by 1-based indexes (0: none) so the region means the
 * same in every process. Each slot is in one bucket chain (or the free
 * list, through the same link) and in the LRU list, newest at the head.
 *
 * Lookups read without the lock, as a sequence lock's readers: the header's
 * seq is odd while a writer changes a chain or a slot's key, expiry or
 * payload, and a lookup that saw it odd or changed asks again under the
 * lock. The LRU links are read and written under the lock only, so moving
 * an entry to the front does not disturb readers. Fields a lookup reads
 * before trusting them (links, lengths, times) are loaded once, atomically.
 */
#include <string.h>

#include "wos_scache.h"

#define SC_MAGIC   0x574f5353u      /* "WOSS" */
#define SC_VERSION 2u
#define SC_ALIGN   64
/* Slots a lookup follows at most without the lock (chains hold one or two). */
#define SC_PEEK_STEPS 64

/* Cache lines of their own (the region starts page-aligned in the server). */
typedef union sc_seq_line {
    apr_uint32_t seq;               /* read by every lookup, written by writers only */
    unsigned char line[SC_ALIGN];
} sc_seq_line;

typedef union sc_count_line {
    struct {
        apr_uint64_t hits, misses, too_large;   /* counted without the lock (atomic adds) */
    } n;
    unsigned char line[SC_ALIGN];
} sc_count_line;

typedef struct sc_header {
    sc_seq_line seq;
    sc_count_line counts;
    apr_uint32_t magic, version;
    apr_uint64_t size;
    apr_uint32_t entry_size, capacity, nbuckets;
    apr_uint32_t used;              /* slots ever handed out: the rest are untouched */
    apr_uint32_t free_head, lru_head, lru_tail, count;
    unsigned char secret[WOS_SIPHASH_KEY_LEN];
    apr_uint64_t stores, evictions, expired;
} sc_header;

typedef struct sc_slot {
    unsigned char key[WOS_SCACHE_KEY_LEN];
    apr_int64_t valid_until;
    apr_uint32_t chain;             /* next in the bucket, or in the free list */
    apr_uint32_t older, newer;      /* LRU neighbours */
    apr_uint32_t len;               /* payload bytes, after the slot header */
    apr_int64_t used_at;            /* when last moved to the front (seconds) */
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

/* ---- the sequence count ------------------------------------------------ */

/* A writer (holding the lock) starts changing what lookups read. */
static void seq_write_begin(wos_scache *sc)
{
    apr_uint32_t s = __atomic_load_n(&sc->h->seq.seq, __ATOMIC_RELAXED);

    if (!(s & 1))           /* odd: a writer died mid-change; it stays odd */
        __atomic_store_n(&sc->h->seq.seq, s + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

static void seq_write_end(wos_scache *sc)
{
    apr_uint32_t s = __atomic_load_n(&sc->h->seq.seq, __ATOMIC_RELAXED);

    __atomic_store_n(&sc->h->seq.seq, s + 1, __ATOMIC_RELEASE);
}

static void count(apr_uint64_t *counter)
{
    __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
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

/*
 * The lookup without the lock: WOS_OK with the payload copied (*move: it is
 * due to go to the front), WOS_ENOKEY for a miss no writer disturbed, and
 * WOS_EBUSY when it must be asked again under the lock (a writer was busy,
 * or the entry is expired, which only the lock may free).
 */
static wos_rv peek(wos_scache *sc, const unsigned char *key, apr_int64_t now, void *buf,
                   apr_size_t *len, apr_int64_t *valid_until, int *move)
{
    apr_uint32_t seq = __atomic_load_n(&sc->h->seq.seq, __ATOMIC_ACQUIRE);
    apr_uint32_t ref = __atomic_load_n(bucket(sc, key), __ATOMIC_RELAXED), steps = 0;
    wos_rv rv = WOS_ENOKEY;

    if (seq & 1)
        return WOS_EBUSY;
    for (; valid_ref(sc, ref) && steps < SC_PEEK_STEPS; steps++) {
        sc_slot *e = slot(sc, ref);
        if (memcmp(e->key, key, WOS_SCACHE_KEY_LEN) == 0) {
            apr_uint32_t n = __atomic_load_n(&e->len, __ATOMIC_RELAXED);
            apr_int64_t until = __atomic_load_n(&e->valid_until, __ATOMIC_RELAXED);
            if (until <= now || n > wos_scache_payload_max(sc))
                return WOS_EBUSY;
            memcpy(buf, e + 1, n);
            *len = n;
            *valid_until = until;
            *move = now - __atomic_load_n(&e->used_at, __ATOMIC_RELAXED)
                    >= WOS_SCACHE_RECENCY_SEC;
            rv = WOS_OK;
            break;
        }
        ref = __atomic_load_n(&e->chain, __ATOMIC_RELAXED);
    }
    if (steps == SC_PEEK_STEPS)
        return WOS_EBUSY;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return __atomic_load_n(&sc->h->seq.seq, __ATOMIC_RELAXED) == seq ? rv : WOS_EBUSY;
}

/* The lookup under the lock: frees an expired entry, moves a hit to the front. */
static wos_rv get_locked(wos_scache *sc, const unsigned char *key, apr_int64_t now,
                         void *buf, apr_size_t *len, apr_int64_t *valid_until)
{
    apr_uint32_t *link = find(sc, key);

    if (link && (slot(sc, *link)->valid_until <= now
                 || slot(sc, *link)->len > wos_scache_payload_max(sc))) {
        seq_write_begin(sc);
        release(sc, link);          /* expired (or not a length a put writes) */
        seq_write_end(sc);
        sc->h->expired++;
    }
    else if (link) {
        apr_uint32_t ref = *link;
        sc_slot *e = slot(sc, ref);
        lru_unlink(sc, ref);
        lru_push(sc, ref);
        e->used_at = now;
        *len = e->len;
        memcpy(buf, e + 1, e->len);
        *valid_until = e->valid_until;
        return WOS_OK;
    }
    return WOS_ENOKEY;
}

wos_rv wos_scache_get(wos_scache *sc, apr_pool_t *p, const unsigned char *key,
                      apr_int64_t now, void **data, apr_size_t *len,
                      apr_int64_t *valid_until)
{
    void *buf = apr_palloc(p, wos_scache_payload_max(sc));
    apr_int64_t until = 0;
    int move = 0;
    wos_rv rv = peek(sc, key, now, buf, len, &until, &move);

    if (rv == WOS_EBUSY || move) {
        wos_rv locked = WOS_EBUSY;

        if (sc->lock.lock(sc->lock.baton) == 0) {
            locked = get_locked(sc, key, now, buf, len, &until);
            sc->lock.unlock(sc->lock.baton);
        }
        /* A whole copy read without the lock stands when the move cannot be made. */
        if (rv != WOS_OK || locked == WOS_OK)
            rv = locked;
        if (rv == WOS_EBUSY)
            return rv;
    }
    count(rv == WOS_OK ? &sc->h->counts.n.hits : &sc->h->counts.n.misses);
    if (rv == WOS_OK) {
        *data = buf;
        if (valid_until)
            *valid_until = until;
    }
    return rv;
}

wos_rv wos_scache_put(wos_scache *sc, const unsigned char *key, apr_int64_t valid_until,
                      const void *data, apr_size_t len, apr_int64_t now)
{
    apr_uint32_t *link, ref;
    sc_slot *e;

    if (valid_until <= now)
        return WOS_EINVAL;
    if (len > wos_scache_payload_max(sc)) {
        count(&sc->h->counts.n.too_large);
        return WOS_ETOOBIG;
    }
    if (sc->lock.lock(sc->lock.baton) != 0)
        return WOS_EBUSY;
    seq_write_begin(sc);
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
        e->used_at = now;
        lru_push(sc, ref);
        sc->h->stores++;
    }
    seq_write_end(sc);
    sc->lock.unlock(sc->lock.baton);
    return ref ? WOS_OK : WOS_ECRYPTO;
}

void wos_scache_count_too_large(wos_scache *sc)
{
    count(&sc->h->counts.n.too_large);
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
    st->hits = __atomic_load_n(&h->counts.n.hits, __ATOMIC_RELAXED);
    st->misses = __atomic_load_n(&h->counts.n.misses, __ATOMIC_RELAXED);
    st->stores = h->stores;
    st->evictions = h->evictions;
    st->expired = h->expired;
    st->too_large = __atomic_load_n(&h->counts.n.too_large, __ATOMIC_RELAXED);
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
