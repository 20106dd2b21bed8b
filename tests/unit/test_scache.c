/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_scache.c: the verified-session table shared by all processes
 * (src/wos_scache.c), its keyed hash (src/wos_siphash.c), the compact
 * identity it stores (src/wos_idpack.c), and the request path through it
 * (wos_authn_check with a shared cache and no per-process one).
 */
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <apr_proc_mutex.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "testutil.h"
#include "testkeys.h"
#include "memcache.h"
#include "wos_authn.h"
#include "wos_idpack.h"
#include "wos_scache.h"
#include "wos_seal.h"
#include "wos_vcache.h"

static const unsigned char SECRET[WOS_SIPHASH_KEY_LEN] = "0123456789abcdef";

/* ---- SipHash-2-4-128 -------------------------------------------------- */

static void openssl_siphash(const unsigned char *key, const unsigned char *msg, size_t len,
                            unsigned char out[16])
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    size_t size = 16, n = 0;
    OSSL_PARAM params[] = {OSSL_PARAM_size_t(OSSL_MAC_PARAM_SIZE, &size), OSSL_PARAM_END};

    ck_assert_int_eq(EVP_MAC_init(ctx, key, 16, params), 1);
    ck_assert_int_eq(EVP_MAC_update(ctx, msg, len), 1);
    ck_assert_int_eq(EVP_MAC_final(ctx, out, &n, 16), 1);
    ck_assert_uint_eq(n, 16);
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
}

/* The reference vector (key 00..0f, empty message) and OpenSSL as oracle. */
START_TEST(siphash_matches_reference_and_openssl)
{
    static const unsigned char empty_tag[16] = {0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25, 0xa8, 0xe6,
                                                0x6d, 0xf6, 0x72, 0x14, 0xc7, 0x55, 0x02, 0x93};
    unsigned char key[16], msg[300], want[16], got[16];
    wos_siphash h;
    size_t len, cut, i;

    for (i = 0; i < 16; i++)
        key[i] = (unsigned char)i;
    wos_siphash_init(&h, key);
    wos_siphash_final(&h, got);
    ck_assert_mem_eq(got, empty_tag, 16);
    for (i = 0; i < sizeof(msg); i++)
        msg[i] = (unsigned char)(i * 7 + 3);
    for (len = 0; len < sizeof(msg); len += 1 + len / 8) {
        key[len % 16] ^= (unsigned char)len;
        openssl_siphash(key, msg, len, want);
        /* In one piece, and in two at every cut up to 17 bytes in. */
        for (cut = 0; cut <= len && cut <= 17; cut++) {
            wos_siphash_init(&h, key);
            wos_siphash_update(&h, msg, cut);
            wos_siphash_update(&h, msg + cut, len - cut);
            wos_siphash_final(&h, got);
            ck_assert_mem_eq(got, want, 16);
        }
    }
}
END_TEST

/* ---- the table ------------------------------------------------------- */

typedef struct { int held, taken, fail; } fake_lock;

static int fl_lock(void *b)
{
    fake_lock *l = b;
    if (l->fail)
        return 1;
    ck_assert_int_eq(l->held, 0);
    l->held = 1;
    l->taken++;
    return 0;
}

static void fl_unlock(void *b)
{
    fake_lock *l = b;
    ck_assert_int_eq(l->held, 1);
    l->held = 0;
}

static fake_lock FL;

static wos_scache *table(apr_size_t size, apr_size_t entry)
{
    wos_scache_lock lock = {fl_lock, fl_unlock, &FL};
    void *base = apr_palloc(tp, size);
    wos_scache *sc;

    memset(&FL, 0, sizeof(FL));
    memset(base, 0xee, size);           /* format must not rely on zeroed memory */
    ck_assert_int_eq(wos_scache_format(base, size, entry, SECRET), WOS_OK);
    ck_assert_int_eq(wos_scache_attach(tp, base, size, &lock, &sc), WOS_OK);
    return sc;
}

static void key_of(unsigned char key[16], unsigned n)
{
    wos_siphash h;

    wos_siphash_init(&h, SECRET);
    wos_siphash_update(&h, &n, sizeof(n));
    wos_siphash_final(&h, key);
}

static void put_n(wos_scache *sc, unsigned n, apr_int64_t until)
{
    unsigned char k[16];
    char payload[32];

    key_of(k, n);
    snprintf(payload, sizeof(payload), "entry %u", n);
    ck_assert_int_eq(wos_scache_put(sc, k, until, payload, strlen(payload) + 1, 1000), WOS_OK);
}

/* 1: the entry's own payload, 0: a miss. */
static int get_n(wos_scache *sc, unsigned n, apr_int64_t now)
{
    unsigned char k[16];
    char want[32];
    void *data;
    apr_size_t len;
    apr_int64_t until;
    wos_rv rv;

    key_of(k, n);
    rv = wos_scache_get(sc, tp, k, now, &data, &len, &until);
    if (rv == WOS_ENOKEY)
        return 0;
    ck_assert_int_eq(rv, WOS_OK);
    snprintf(want, sizeof(want), "entry %u", n);
    ck_assert_uint_eq(len, strlen(want) + 1);
    ck_assert_str_eq(data, want);
    return 1;
}

static wos_scache_stats stats(wos_scache *sc)
{
    wos_scache_stats st;
    ck_assert_int_eq(wos_scache_stats_get(sc, &st), WOS_OK);
    return st;
}

START_TEST(table_hits_misses_and_replaces)
{
    wos_scache *sc = table(64 * 1024, 256);
    unsigned char k[16];
    void *data;
    apr_size_t len;

    ck_assert_uint_ge(stats(sc).capacity, 200);
    put_n(sc, 1, 2000);
    put_n(sc, 2, 2000);
    ck_assert_int_eq(get_n(sc, 1, 1000), 1);
    ck_assert_int_eq(get_n(sc, 2, 1000), 1);
    ck_assert_int_eq(get_n(sc, 3, 1000), 0);
    /* A key differing in one byte (in the bucket's bytes or not) misses. */
    key_of(k, 1);
    k[15] ^= 1;
    ck_assert_int_eq(wos_scache_get(sc, tp, k, 1000, &data, &len, NULL), WOS_ENOKEY);
    k[15] ^= 1;
    k[0] ^= 1;
    ck_assert_int_eq(wos_scache_get(sc, tp, k, 1000, &data, &len, NULL), WOS_ENOKEY);
    /* The same key again replaces (one entry, the new payload). */
    key_of(k, 1);
    ck_assert_int_eq(wos_scache_put(sc, k, 3000, "new", 4, 1000), WOS_OK);
    ck_assert_int_eq(wos_scache_get(sc, tp, k, 2500, &data, &len, NULL), WOS_OK);
    ck_assert_str_eq(data, "new");
    ck_assert_uint_eq(stats(sc).entries, 2);
    ck_assert_uint_eq(stats(sc).hits, 3);
    ck_assert_uint_eq(stats(sc).misses, 3);
    ck_assert_int_eq(wos_scache_verify(sc, tp), WOS_OK);
    ck_assert_int_eq(FL.held, 0);
}
END_TEST

/* No entry outlives its valid_until; expired ones free their slot. */
START_TEST(table_expiry)
{
    wos_scache *sc = table(64 * 1024, 256);
    unsigned char k[16];

    put_n(sc, 1, 1010);
    ck_assert_int_eq(get_n(sc, 1, 1009), 1);
    ck_assert_int_eq(get_n(sc, 1, 1010), 0);
    ck_assert_uint_eq(stats(sc).entries, 0);
    ck_assert_uint_eq(stats(sc).expired, 1);
    /* Expired before it is stored: refused. */
    key_of(k, 2);
    ck_assert_int_eq(wos_scache_put(sc, k, 1000, "x", 1, 1000), WOS_EINVAL);
    ck_assert_int_eq(get_n(sc, 2, 999), 0);
    ck_assert_int_eq(wos_scache_verify(sc, tp), WOS_OK);
}
END_TEST

/*
 * Full: the least recently used goes first. A read counts as a use once the
 * entry's last use is WOS_SCACHE_RECENCY_SEC old: reads take no lock, and
 * only such a read takes it, to move the entry to the front.
 */
START_TEST(table_evicts_least_recently_used)
{
    wos_scache *sc = table(16 * 1024, 256);
    unsigned cap = (unsigned)stats(sc).capacity, i;
    apr_int64_t later = 1000 + WOS_SCACHE_RECENCY_SEC;

    ck_assert_uint_ge(cap, WOS_SCACHE_MIN_ENTRIES);
    for (i = 0; i < cap; i++)
        put_n(sc, i, 5000);
    ck_assert_uint_eq(stats(sc).entries, cap);
    ck_assert_int_eq(get_n(sc, 0, later), 1);       /* 0 is now the newest */
    ck_assert_int_eq(get_n(sc, 1, 1000), 1);        /* too recent to move: 1 stays oldest */
    put_n(sc, cap, 5000);                           /* evicts 1, the oldest */
    ck_assert_int_eq(get_n(sc, 1, 1000), 0);
    ck_assert_int_eq(get_n(sc, 0, 1000), 1);
    ck_assert_int_eq(get_n(sc, cap, 1000), 1);
    for (i = 2; i < cap; i++)
        ck_assert_int_eq(get_n(sc, i, 1000), 1);
    ck_assert_uint_eq(stats(sc).evictions, 1);
    ck_assert_uint_eq(stats(sc).entries, cap);
    /* Many more: the table stays whole and full. */
    for (i = 0; i < 10 * cap; i++)
        put_n(sc, 1000 + i, 5000);
    ck_assert_uint_eq(stats(sc).entries, cap);
    ck_assert_int_eq(get_n(sc, 1000 + 10 * cap - 1, 1000), 1);
    ck_assert_int_eq(get_n(sc, 1000, 1000), 0);
    ck_assert_int_eq(wos_scache_verify(sc, tp), WOS_OK);
}
END_TEST

/*
 * Lookups take no lock: every process reads the table at once. The lock is
 * for writers, and for the read that moves an entry to the front (once per
 * WOS_SCACHE_RECENCY_SEC) or frees an expired one.
 */
START_TEST(table_lookups_take_no_lock)
{
    wos_scache *sc = table(64 * 1024, 256);
    apr_int64_t later = 1000 + WOS_SCACHE_RECENCY_SEC;
    int taken, i;

    put_n(sc, 1, 2000);
    taken = FL.taken;
    for (i = 0; i < 10; i++)
        ck_assert_int_eq(get_n(sc, 1, 1000 + i), 1);
    ck_assert_int_eq(get_n(sc, 2, 1000), 0);
    ck_assert_int_eq(FL.taken, taken);
    ck_assert_int_eq(get_n(sc, 1, later), 1);       /* moves to the front: locks */
    ck_assert_int_eq(FL.taken, taken + 1);
    ck_assert_int_eq(get_n(sc, 1, later + 1), 1);   /* recent again */
    ck_assert_int_eq(FL.taken, taken + 1);
    /* Due a move but the lock cannot be had: the copy read without it is a hit. */
    FL.fail = 1;
    ck_assert_int_eq(get_n(sc, 1, later + WOS_SCACHE_RECENCY_SEC), 1);
    FL.fail = 0;
    ck_assert_int_eq(get_n(sc, 1, 2000), 0);        /* expired: freed under the lock */
    ck_assert_int_eq(FL.taken, taken + 2);
    ck_assert_uint_eq(stats(sc).hits, 13);
    ck_assert_uint_eq(stats(sc).misses, 2);
    ck_assert_uint_eq(stats(sc).entries, 0);
    ck_assert_int_eq(FL.held, 0);
}
END_TEST

START_TEST(table_sizes)
{
    unsigned char k[16];
    char big[1024];
    wos_scache *sc = table(64 * 1024, 256);
    void *base = apr_pcalloc(tp, 4096);
    wos_scache_lock lock = {fl_lock, fl_unlock, &FL};

    /* A payload larger than a slot is refused and counted. */
    memset(big, 'x', sizeof(big));
    key_of(k, 1);
    ck_assert_uint_eq(wos_scache_payload_max(sc), 256 - 48);    /* the slot's header */
    ck_assert_int_eq(wos_scache_put(sc, k, 5000, big, 209, 1000), WOS_ETOOBIG);
    ck_assert_int_eq(wos_scache_put(sc, k, 5000, big, 208, 1000), WOS_OK);
    ck_assert_uint_eq(stats(sc).too_large, 1);
    /* Regions too small, odd slot sizes, and attaching to what is not a table. */
    ck_assert_int_eq(wos_scache_format(base, 4096, 512, SECRET), WOS_EINVAL);
    ck_assert_int_eq(wos_scache_format(base, 64 * 1024, 100, SECRET), WOS_EINVAL);
    ck_assert_int_eq(wos_scache_format(base, 64 * 1024, 260, SECRET), WOS_EINVAL);
    ck_assert_int_eq(wos_scache_attach(tp, base, 4096, &lock, &sc), WOS_EINVAL);
    ck_assert_uint_eq(wos_scache_capacity(100, 512), 0);
    /* Capacity grows with the size: about size / (entry + 4). */
    ck_assert_uint_ge(wos_scache_capacity(16 * 1024 * 1024, 512), 32000);
    ck_assert_uint_le(wos_scache_capacity(16 * 1024 * 1024, 512), 16 * 1024 * 1024 / 512);
}
END_TEST

/* Four processes writing and reading at once through a process mutex. */
typedef struct { apr_proc_mutex_t *mu; } proc_lock;

static int pl_lock(void *b)
{
    return apr_proc_mutex_lock(((proc_lock *)b)->mu) == APR_SUCCESS ? 0 : 1;
}

static void pl_unlock(void *b)
{
    apr_proc_mutex_unlock(((proc_lock *)b)->mu);
}

#define WRITERS 4
#define OPS 4000
#define KEYSPACE 600

/* A child's work: every hit must carry the payload of its own key. */
static int writer(wos_scache *sc, unsigned seed)
{
    apr_pool_t *p;
    unsigned i, n;

    apr_pool_create(&p, NULL);
    for (i = 0; i < OPS; i++) {
        n = (seed * 7919u + i * 104729u) % KEYSPACE;
        if (i % 3 == 0)
            put_n(sc, n, 5000);
        else if (get_n(sc, n, 1000) < 0)
            return 1;
        if (i % 256 == 0)
            apr_pool_clear(p);
    }
    return 0;
}

START_TEST(table_concurrent_writers_across_processes)
{
    apr_size_t size = 64 * 1024;        /* fewer slots than keys: evictions too */
    void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    proc_lock pl;
    wos_scache_lock lock = {pl_lock, pl_unlock, &pl};
    wos_scache *sc;
    pid_t pids[WRITERS];
    int i, status;
    wos_scache_stats st;

    ck_assert_ptr_ne(base, MAP_FAILED);
    ck_assert_int_eq(apr_proc_mutex_create(&pl.mu, NULL, APR_LOCK_DEFAULT, tp), APR_SUCCESS);
    ck_assert_int_eq(wos_scache_format(base, size, 256, SECRET), WOS_OK);
    ck_assert_int_eq(wos_scache_attach(tp, base, size, &lock, &sc), WOS_OK);
    for (i = 0; i < WRITERS; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0)
            _exit(writer(sc, (unsigned)i + 1));
    }
    for (i = 0; i < WRITERS; i++) {
        ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
        ck_assert(WIFEXITED(status));
        ck_assert_int_eq(WEXITSTATUS(status), 0);
    }
    ck_assert_int_eq(wos_scache_verify(sc, tp), WOS_OK);
    st = stats(sc);
    ck_assert_uint_eq(st.stores, WRITERS * ((OPS + 2) / 3));
    ck_assert_uint_eq(st.hits + st.misses, WRITERS * (OPS - (OPS + 2) / 3));
    ck_assert_uint_gt(st.hits, 0);
    ck_assert_uint_gt(st.evictions, 0);
    ck_assert_uint_eq(st.entries, st.capacity);
    munmap(base, size);
}
END_TEST

/*
 * Readers without the lock never see an entry half written: writers keep
 * rewriting a few keys with payloads of changing length and content, and
 * push them out of a table that holds fewer, so slots change key under the
 * readers. Every hit must be one whole payload written for its own key.
 */
#define TORN_KEYS 40
#define TORN_ROUNDS 100000

/* Version @p v of key @p n's payload: a header, then bytes only it writes. */
static apr_size_t torn_payload(char *buf, unsigned n, unsigned v)
{
    apr_size_t len = 32 + (v * 37u + n) % 180, i;
    int h = snprintf(buf, 32, "%u/%u/%u|", n, v, (unsigned)len);

    for (i = (apr_size_t)h; i < len; i++)
        buf[i] = (char)('a' + (n * 31u + v * 7u + i) % 26);
    return len;
}

static int torn_check(const char *data, apr_size_t len, unsigned n)
{
    char want[256];
    unsigned kn, v, wl;

    if (sscanf(data, "%u/%u/%u|", &kn, &v, &wl) != 3 || kn != n || wl != len)
        return 0;
    return torn_payload(want, n, v) == len && memcmp(want, data, len) == 0;
}

static int torn_writer(wos_scache *sc, unsigned seed)
{
    char buf[256];
    unsigned char k[16];
    unsigned i, n;

    for (i = 0; i < TORN_ROUNDS; i++) {
        n = (seed + i * 7u) % TORN_KEYS;
        key_of(k, n);
        if (wos_scache_put(sc, k, 5000, buf, torn_payload(buf, n, seed * TORN_ROUNDS + i),
                           1000) != WOS_OK)
            return 1;
    }
    return 0;
}

/* Exit status: 0 when every hit was whole and some were hits, 1 otherwise. */
static int torn_reader(wos_scache *sc, unsigned seed)
{
    apr_pool_t *p;
    unsigned char k[16];
    unsigned i, n, hits = 0;
    void *data;
    apr_size_t len;

    apr_pool_create(&p, NULL);
    for (i = 0; i < 3 * TORN_ROUNDS; i++) {
        n = (seed * 13u + i) % TORN_KEYS;
        key_of(k, n);
        if (wos_scache_get(sc, p, k, 1000, &data, &len, NULL) == WOS_OK) {
            if (!torn_check(data, len, n))
                return 1;
            hits++;
        }
        if (i % 256 == 0)
            apr_pool_clear(p);
    }
    return hits > 0 ? 0 : 1;
}

START_TEST(table_readers_never_see_a_torn_entry)
{
    apr_size_t size = 16 * 1024;        /* about 24 slots of 512 for 40 keys */
    void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    proc_lock pl;
    wos_scache_lock lock = {pl_lock, pl_unlock, &pl};
    wos_scache *sc;
    pid_t pids[4];
    int i, status;

    ck_assert_ptr_ne(base, MAP_FAILED);
    ck_assert_int_eq(apr_proc_mutex_create(&pl.mu, NULL, APR_LOCK_DEFAULT, tp), APR_SUCCESS);
    ck_assert_int_eq(wos_scache_format(base, size, 512, SECRET), WOS_OK);
    ck_assert_int_eq(wos_scache_attach(tp, base, size, &lock, &sc), WOS_OK);
    ck_assert_uint_lt(stats(sc).capacity, TORN_KEYS);
    for (i = 0; i < 4; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0)
            _exit(i < 2 ? torn_writer(sc, (unsigned)i + 1) : torn_reader(sc, (unsigned)i));
    }
    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
        ck_assert(WIFEXITED(status));
        ck_assert_msg(WEXITSTATUS(status) == 0, "%s %d failed",
                      i < 2 ? "writer" : "reader", i);
    }
    ck_assert_int_eq(wos_scache_verify(sc, tp), WOS_OK);
    munmap(base, size);
}
END_TEST

/* ---- the compact identity -------------------------------------------- */

static apr_array_header_t *list(const char *a, const char *b)
{
    apr_array_header_t *l = apr_array_make(tp, 2, sizeof(const char *));
    if (a)
        APR_ARRAY_PUSH(l, const char *) = a;
    if (b)
        APR_ARRAY_PUSH(l, const char *) = b;
    return l;
}

static void full_identity(wos_session *s, wos_claims *c)
{
    memset(s, 0, sizeof(*s));
    memset(c, 0, sizeof(*c));
    s->access_token = "at-secret";
    s->refresh_token = "rt-secret";
    s->organization_id = "org_01";
    s->authentication_method = "SSO";
    s->impersonator_email = "admin@example.com";
    s->impersonator_reason = "";
    s->user_id = "user_01";
    s->user_email = "ada@example.com";
    s->user_first_name = "Ada";
    s->user_last_name = NULL;
    s->user_email_verified = 0;
    c->sub = "user_01";
    c->sid = "sid_01";
    c->org_id = "org_01";
    c->role = "admin";
    c->iss = "https://api.workos.com";
    c->jti = "jti_01";
    c->act_sub = NULL;
    c->roles = list("admin", "member");
    c->permissions = list("posts:read", NULL);
    c->entitlements = list(NULL, NULL);
    c->feature_flags = list("beta", "gamma");
    c->exp = 1900000000;
    c->iat = 1899999700;
    c->nbf = 0;
}

static void assert_list(const apr_array_header_t *a, const apr_array_header_t *b)
{
    int i;
    ck_assert_int_eq(a->nelts, b->nelts);
    for (i = 0; i < a->nelts; i++)
        ck_assert_str_eq(APR_ARRAY_IDX(a, i, const char *), APR_ARRAY_IDX(b, i, const char *));
}

START_TEST(idpack_round_trip_without_tokens)
{
    wos_session s, *s2;
    wos_claims c, *c2;
    void *data;
    apr_size_t len;

    full_identity(&s, &c);
    ck_assert_int_eq(wos_idpack(tp, &s, &c, 512, &data, &len), WOS_OK);
    ck_assert_ptr_null(memmem(data, len, "secret", 6));      /* no token kept */
    ck_assert_int_eq(wos_idunpack(tp, data, len, &s2, &c2), WOS_OK);
    ck_assert_ptr_null(s2->access_token);
    ck_assert_ptr_null(s2->refresh_token);
    ck_assert_ptr_null(s2->user);
    ck_assert_str_eq(s2->organization_id, "org_01");
    ck_assert_str_eq(s2->authentication_method, "SSO");
    ck_assert_str_eq(s2->impersonator_email, "admin@example.com");
    ck_assert_str_eq(s2->impersonator_reason, "");
    ck_assert_str_eq(s2->user_id, "user_01");
    ck_assert_str_eq(s2->user_email, "ada@example.com");
    ck_assert_str_eq(s2->user_first_name, "Ada");
    ck_assert_ptr_null(s2->user_last_name);
    ck_assert_int_eq(s2->user_email_verified, 0);
    ck_assert_str_eq(c2->sub, "user_01");
    ck_assert_str_eq(c2->sid, "sid_01");
    ck_assert_str_eq(c2->org_id, "org_01");
    ck_assert_str_eq(c2->role, "admin");
    ck_assert_str_eq(c2->iss, "https://api.workos.com");
    ck_assert_str_eq(c2->jti, "jti_01");
    ck_assert_ptr_null(c2->act_sub);
    assert_list(c2->roles, c.roles);
    assert_list(c2->permissions, c.permissions);
    assert_list(c2->entitlements, c.entitlements);
    assert_list(c2->feature_flags, c.feature_flags);
    ck_assert_int_eq(c2->exp, c.exp);
    ck_assert_int_eq(c2->iat, c.iat);
    ck_assert_int_eq(c2->nbf, 0);
    /* Too small a slot, and bytes cut short. */
    ck_assert_int_eq(wos_idpack(tp, &s, &c, len - 1, &data, &len), WOS_ETOOBIG);
    ck_assert_int_eq(wos_idpack(tp, &s, &c, 512, &data, &len), WOS_OK);
    ck_assert_int_eq(wos_idunpack(tp, data, len - 1, &s2, &c2), WOS_EINVAL);
}
END_TEST

/* ---- keys: every setting, the cookie's bytes and the hash key ---------- */

static const int PASSWORDS = 1, ISSUERS = 2;
static const unsigned char OTHER_SECRET[16] = "fedcba9876543210";

START_TEST(each_setting_misses)
{
    wos_scache *sc = table(64 * 1024, 512);
    wos_vcache_settings fp = {"client_A", "https://api.example", 60, 60, &PASSWORDS,
                              &ISSUERS, 0, SECRET};
    wos_vcache_settings v[8];
    unsigned char k[16];
    void *data;
    apr_size_t len;
    int i;

    ck_assert_int_eq(wos_vcache_key("cookie-1", &fp, k), WOS_OK);
    ck_assert_int_eq(wos_scache_put(sc, k, 5000, "v", 2, 1000), WOS_OK);
    ck_assert_int_eq(wos_scache_get(sc, tp, k, 1000, &data, &len, NULL), WOS_OK);
    for (i = 0; i < 8; i++)
        v[i] = fp;
    v[0].client_id = "client_B";
    v[1].base_url = "https://api.example/";
    v[2].skew = 61;
    v[3].refresh_before = 59;
    v[4].passwords = &ISSUERS;                  /* a changed password list */
    v[5].issuers = &PASSWORDS;                  /* a changed issuer list */
    v[6].hash_key = OTHER_SECRET;               /* another server or generation */
    for (i = 0; i < 7; i++) {
        ck_assert_int_eq(wos_vcache_key("cookie-1", &v[i], k), WOS_OK);
        ck_assert_int_eq(wos_scache_get(sc, tp, k, 1000, &data, &len, NULL), WOS_ENOKEY);
    }
    /* One byte more or different in the cookie. */
    ck_assert_int_eq(wos_vcache_key("cookie-1 ", &fp, k), WOS_OK);
    ck_assert_int_eq(wos_scache_get(sc, tp, k, 1000, &data, &len, NULL), WOS_ENOKEY);
    ck_assert_int_eq(wos_vcache_key("cookie-2", &fp, k), WOS_OK);
    ck_assert_int_eq(wos_scache_get(sc, tp, k, 1000, &data, &len, NULL), WOS_ENOKEY);
    /* No hash key, no key at all (never a shared all-zero one). */
    v[7].hash_key = NULL;
    ck_assert_int_eq(wos_vcache_key("cookie-1", &v[7], k), WOS_ECRYPTO);
}
END_TEST

/* ---- the request path: one verification for every process ------------- */

static wos_rv fetch_jwks(apr_pool_t *p, const wos_api_cfg *c, const char **doc,
                         apr_size_t *len, const char **err)
{
    int *fetches = (int *)(void *)c->client_id;     /* see process() */

    (void)err;
    (*fetches)++;
    *doc = wos_tk_jwks(p, wos_tk_rsa2048(), "k1");
    *len = strlen(*doc);
    return WOS_OK;
}

typedef struct {
    wos_api_cfg api;
    int fetches;
    wos_authn_in in;
} process;

/* One "process": its own key store and no cache but the shared table. */
static void process_init(process *pr, wos_scache *sc, const apr_array_header_t *passwords,
                         const unsigned char *secret)
{
    memset(pr, 0, sizeof(*pr));
    pr->api.client_id = (const char *)(void *)&pr->fetches;
    ck_assert_int_eq(wos_keystore_create(tp, &pr->in.keystore), WOS_OK);
    pr->in.passwords = passwords;
    pr->in.keys.cache = wos_memcache_cache(wos_memcache_create(tp));
    pr->in.keys.api = &pr->api;
    pr->in.keys.ttl_sec = 3600;
    pr->in.keys.fetch = fetch_jwks;
    pr->in.jwt.skew_sec = 60;
    pr->in.refresh_before = 30;
    pr->in.scache = sc;
    pr->in.settings.client_id = "client_01";
    pr->in.settings.skew = 60;
    pr->in.settings.refresh_before = 30;
    pr->in.settings.passwords = passwords;
    pr->in.settings.hash_key = secret;
}

static const char *sealed_cookie(const char *password, apr_int64_t exp)
{
    wos_session s;
    const char *json, *sealed = NULL;

    memset(&s, 0, sizeof(s));
    s.access_token = wos_tk_token(tp, wos_tk_rsa2048(), "k1",
                                  wos_tk_claims(tp, "user_01", "sid_01", "org_01", exp));
    s.refresh_token = "rt_0123456789abcdefghijkl";
    s.user_id = "user_01";
    s.user_email = "ada@example.com";
    s.user_email_verified = 1;
    json = wos_session_serialize(tp, &s);
    ck_assert_int_eq(wos_seal(tp, password, json, strlen(json), 0,
                              apr_time_as_msec(apr_time_now()), &sealed), WOS_OK);
    return sealed;
}

#define PW "shared-cache-password-0123456789abcdef"

START_TEST(authn_shares_one_verification)
{
    wos_scache *sc = table(64 * 1024, 512);
    apr_array_header_t *pw = list(PW, NULL), *pw2 = list(PW, NULL);
    process a, b, c;
    wos_authn_out out;
    const char *at;

    process_init(&a, sc, pw, SECRET);
    process_init(&b, sc, pw, SECRET);
    a.in.cookie = b.in.cookie = sealed_cookie(PW, wos_now_sec() + 250)   /* iat: exp - 300 */;
    wos_authn_check(tp, &a.in, &out);
    ck_assert_msg(out.outcome == WOS_AUTHN_OK, "%s", out.reason);
    ck_assert_int_eq(out.cached, 0);
    ck_assert_int_eq(a.fetches, 1);
    at = out.session->access_token;
    /* The other process: answered by the shared table, no key fetched, no token. */
    wos_authn_check(tp, &b.in, &out);
    ck_assert_int_eq(out.outcome, WOS_AUTHN_OK);
    ck_assert_int_eq(out.cached, 1);
    ck_assert_int_eq(out.shared, 1);
    ck_assert_int_eq(b.fetches, 0);
    ck_assert_str_eq(out.session->user_email, "ada@example.com");
    ck_assert_str_eq(out.claims->sid, "sid_01");
    ck_assert_ptr_null(out.session->access_token);
    /* Passing the token on: it comes from the cookie, still no verification. */
    b.in.need_token = 1;
    wos_authn_check(tp, &b.in, &out);
    ck_assert_int_eq(out.shared, 1);
    ck_assert_str_eq(out.session->access_token, at);
    ck_assert_int_eq(b.fetches, 0);
    /* Another password list (equal contents, another configuration): verified anew. */
    process_init(&c, sc, pw2, SECRET);
    c.in.cookie = a.in.cookie;
    wos_authn_check(tp, &c.in, &out);
    ck_assert_int_eq(out.outcome, WOS_AUTHN_OK);
    ck_assert_int_eq(out.cached, 0);
    ck_assert_int_eq(c.fetches, 1);
    ck_assert_uint_eq(stats(sc).entries, 2);
    /* With a process cache: the second request is found by its exact cookie. */
    ck_assert_int_eq(wos_vcache_create(tp, 16, &a.in.vcache), WOS_OK);
    a.in.cookie = sealed_cookie(PW, wos_now_sec() + 250);
    wos_authn_check(tp, &a.in, &out);
    ck_assert_int_eq(out.cached, 0);
    wos_authn_check(tp, &a.in, &out);
    ck_assert_int_eq(out.cached, 1);
    ck_assert_int_eq(out.shared, 0);
    ck_assert_ptr_nonnull(out.identity);
    ck_assert_ptr_nonnull(out.session->access_token);     /* verified here: whole */
    /* A cookie differing in one byte before its last ones is not served. */
    {
        char *bad = apr_pstrdup(tp, a.in.cookie);
        bad[10] = bad[10] == 'A' ? 'B' : 'A';
        a.in.cookie = bad;
        wos_authn_check(tp, &a.in, &out);
        ck_assert_int_eq(out.outcome, WOS_AUTHN_INVALID);
    }
}
END_TEST

/* The hit alone, asked with nothing but what it reads: the cookie, the cache
 * and the settings; after a miss, the rest of a check verifies and remembers.
 * A switch or a forced refresh is never answered by it. */
START_TEST(recall_needs_only_cookie_and_settings)
{
    apr_array_header_t *pw = list(PW, NULL);
    process a;
    wos_authn_out out;
    wos_authn_in hit;

    process_init(&a, NULL, pw, SECRET);
    ck_assert_int_eq(wos_vcache_create(tp, 16, &a.in.vcache), WOS_OK);
    a.in.cookie = sealed_cookie(PW, wos_now_sec() + 250);
    memset(&hit, 0, sizeof(hit));
    hit.cookie = a.in.cookie;
    hit.cookie_len = strlen(a.in.cookie);
    hit.vcache = a.in.vcache;
    hit.settings = a.in.settings;
    ck_assert_int_eq(wos_authn_recall(tp, &hit, &out), 0);       /* not verified yet */
    wos_authn_after_recall(tp, &a.in, &out);                       /* the rest of a check */
    ck_assert_msg(out.outcome == WOS_AUTHN_OK && !out.cached, "%s", out.reason);
    ck_assert_int_eq(wos_authn_recall(tp, &hit, &out), 1);
    ck_assert_int_eq(out.outcome, WOS_AUTHN_OK);
    ck_assert_int_eq(out.cached, 1);
    ck_assert_str_eq(out.session->user_email, "ada@example.com");
    ck_assert_ptr_nonnull(out.identity);
    hit.switch_org = "org_02";
    ck_assert_int_eq(wos_authn_recall(tp, &hit, &out), 0);
    hit.switch_org = NULL;
    hit.force_refresh = 1;
    ck_assert_int_eq(wos_authn_recall(tp, &hit, &out), 0);
    hit.force_refresh = 0;
    hit.settings.skew = 61;
    ck_assert_int_eq(wos_authn_recall(tp, &hit, &out), 0);
    hit.settings = a.in.settings;
    hit.cookie_len = 0;                                          /* length not known */
    ck_assert_int_eq(wos_authn_recall(tp, &hit, &out), 1);
    hit.cookie = "";
    ck_assert_int_eq(wos_authn_recall(tp, &hit, &out), 0);
    ck_assert_int_eq(out.cached, 0);
    ck_assert_ptr_null(out.session);
    ck_assert_int_eq(a.fetches, 1);
}
END_TEST

/* Shared entries go into a process's cache only while it has room. */
START_TEST(offer_never_evicts)
{
    wos_vcache_settings fp = {"client_A", "https://api.example", 60, 60, &PASSWORDS,
                              &ISSUERS, 0, SECRET};
    unsigned char k[3][16];
    wos_session s, *got;
    wos_claims c, *gc;
    wos_vcache *vc;
    int i;

    full_identity(&s, &c);
    ck_assert_int_eq(wos_vcache_create(tp, 2, &vc), WOS_OK);
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(wos_vcache_key(apr_psprintf(tp, "cookie-%d", i), &fp, k[i]), WOS_OK);
    wos_vcache_offer(vc, k[0], NULL, NULL, wos_now_sec() + 60, &s, &c);
    wos_vcache_offer(vc, k[1], NULL, NULL, wos_now_sec() + 60, &s, &c);
    wos_vcache_offer(vc, k[2], NULL, NULL, wos_now_sec() + 60, &s, &c);  /* full */
    ck_assert_int_eq(wos_vcache_count(vc), 2);
    ck_assert_int_eq(wos_vcache_get(vc, tp, k[0], wos_now_sec(), &got, &gc, NULL), WOS_OK);
    ck_assert_int_eq(wos_vcache_get(vc, tp, k[1], wos_now_sec(), &got, &gc, NULL), WOS_OK);
    ck_assert_int_eq(wos_vcache_get(vc, tp, k[2], wos_now_sec(), &got, &gc, NULL),
                     WOS_ENOKEY);
    /* A put (a verification of this process) still evicts. */
    wos_vcache_put(vc, k[2], wos_now_sec() + 60, &s, &c);
    ck_assert_int_eq(wos_vcache_get(vc, tp, k[2], wos_now_sec(), &got, &gc, NULL), WOS_OK);
    ck_assert_int_eq(wos_vcache_count(vc), 2);
}
END_TEST

/* The process cache found by the cookie itself: exact bytes, exact settings. */
START_TEST(exact_cookie_lookup)
{
    wos_vcache_settings fp = {"client_A", "https://api.example", 60, 60, &PASSWORDS,
                              &ISSUERS, 0, SECRET};
    wos_vcache_settings v[8];
    const char *cookie = "Fe26.2**aaaaaaaa*bbbbbbbb*cccccccc**dddddddd*MACMACMACMACMACMAC";
    char *twin = apr_pstrdup(tp, cookie);
    unsigned char k[16], k2[16];
    wos_session s, *got;
    wos_claims c, *gc;
    wos_vcache *vc;
    apr_int64_t now = wos_now_sec();
    int i;

    full_identity(&s, &c);
    ck_assert_int_eq(wos_vcache_create(tp, 8, &vc), WOS_OK);
    ck_assert_int_eq(wos_vcache_key(cookie, &fp, k), WOS_OK);
    wos_vcache_put_cookie(vc, k, cookie, &fp, now + 60, &s, &c);
    ck_assert_int_eq(wos_vcache_get_cookie(vc, tp, cookie, strlen(cookie),
                                           &fp, now, &got, &gc, NULL), WOS_OK);
    ck_assert_str_eq(got->user_email, "ada@example.com");
    /* Equal strings at other addresses are the same settings. */
    v[7] = fp;
    v[7].client_id = apr_pstrdup(tp, "client_A");
    ck_assert_int_eq(wos_vcache_get_cookie(vc, tp, cookie, strlen(cookie),
                                           &v[7], now, &got, &gc, NULL),
                     WOS_OK);
    /* Any other setting misses. */
    for (i = 0; i < 7; i++)
        v[i] = fp;
    v[0].client_id = "client_B";
    v[1].base_url = "https://api.example/";
    v[2].skew = 61;
    v[3].refresh_before = 59;
    v[4].passwords = &ISSUERS;
    v[5].issuers = &PASSWORDS;
    v[6].hash_key = OTHER_SECRET;
    for (i = 0; i < 7; i++)
        ck_assert_int_eq(wos_vcache_get_cookie(vc, tp, cookie, strlen(cookie),
                                               &v[i], now, &got, &gc, NULL),
                         WOS_ENOKEY);
    /* The same last bytes and length, one byte different before them: a miss. */
    twin[8] = 'A';
    ck_assert_int_eq(wos_vcache_get_cookie(vc, tp, twin, strlen(twin),
                                           &fp, now, &got, &gc, NULL),
                     WOS_ENOKEY);
    /* Stored too, the twin takes the index; the first stays found by its key,
     * and dropping it leaves the twin's index alone. */
    ck_assert_int_eq(wos_vcache_key(twin, &fp, k2), WOS_OK);
    wos_vcache_put_cookie(vc, k2, twin, &fp, now + 60, &s, &c);
    ck_assert_int_eq(wos_vcache_get_cookie(vc, tp, twin, strlen(twin),
                                           &fp, now, &got, &gc, NULL), WOS_OK);
    ck_assert_int_eq(wos_vcache_get(vc, tp, k, now, &got, &gc, NULL), WOS_OK);
    ck_assert_int_eq(wos_vcache_get(vc, tp, k, now + 60, &got, &gc, NULL), WOS_ENOKEY);
    ck_assert_int_eq(wos_vcache_get_cookie(vc, tp, twin, strlen(twin),
                                           &fp, now, &got, &gc, NULL), WOS_OK);
    /* Never past valid_until. */
    ck_assert_int_eq(wos_vcache_get_cookie(vc, tp, twin, strlen(twin),
                                           &fp, now + 60, &got, &gc, NULL),
                     WOS_ENOKEY);
    ck_assert_int_eq(wos_vcache_count(vc), 0);
    /* Stored by key only: not found by the cookie. */
    wos_vcache_put(vc, k, now + 60, &s, &c);
    ck_assert_int_eq(wos_vcache_get_cookie(vc, tp, cookie, strlen(cookie),
                                           &fp, now, &got, &gc, NULL),
                     WOS_ENOKEY);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("scache");
    TCase *tc = wos_tcase("scache");

    wos_tk_init();
    tcase_add_test(tc, siphash_matches_reference_and_openssl);
    tcase_add_test(tc, table_hits_misses_and_replaces);
    tcase_add_test(tc, table_expiry);
    tcase_add_test(tc, table_evicts_least_recently_used);
    tcase_add_test(tc, table_lookups_take_no_lock);
    tcase_add_test(tc, table_sizes);
    tcase_add_test(tc, table_concurrent_writers_across_processes);
    tcase_add_test(tc, table_readers_never_see_a_torn_entry);
    tcase_add_test(tc, idpack_round_trip_without_tokens);
    tcase_add_test(tc, each_setting_misses);
    tcase_add_test(tc, authn_shares_one_verification);
    tcase_add_test(tc, recall_needs_only_cookie_and_settings);
    tcase_add_test(tc, offer_never_evicts);
    tcase_add_test(tc, exact_cookie_lookup);
    suite_add_tcase(s, tc);
    return s;
}

WOS_TEST_MAIN(suite)
