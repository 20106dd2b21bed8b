/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/tablewalk.c: what one lookup in the shared session table costs when
 * the table is larger than the CPU's caches. Fills a table in ordinary memory
 * with N entries (random keys, a payload of a session's size), then looks up
 * random ones and prints the time per lookup, the median of 5 runs. With 100,000
 * sessions each lookup's bucket and slot are waits on memory, which callgrind's
 * instruction counts do not show.
 *
 *   tablewalk [ENTRIES:MEGABYTES ...]      (default 1000:16 10000:16 100000:96)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <apr_general.h>

#include "wos_scache.h"

#define PAYLOAD 600         /* about a session's entry (bench/steps prints it) */
#define LOOKUPS 200000
#define RUNS 5

static int nolock(void *b)
{
    (void)b;
    return 0;
}

static void nounlock(void *b)
{
    (void)b;
}

static double now_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

/* xorshift64: keys and picks that no cache or prefetcher can guess. */
static apr_uint64_t next(apr_uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static int walk(apr_pool_t *p, long entries, long megabytes)
{
    static const unsigned char secret[WOS_SIPHASH_KEY_LEN] = "tablewalk-secret";
    wos_scache_lock lock = {nolock, nounlock, NULL};
    apr_size_t size = (apr_size_t)megabytes << 20;
    unsigned char payload[PAYLOAD], (*keys)[WOS_SCACHE_KEY_LEN];
    apr_uint64_t rng = 0x9e3779b97f4a7c15ULL, sum = 0;
    double ns[RUNS];
    void *region;
    wos_scache *sc;
    apr_pool_t *rp;
    long i;
    int r;

    region = apr_palloc(p, size);
    keys = apr_palloc(p, (apr_size_t)entries * sizeof(*keys));
    memset(payload, 'p', sizeof(payload));
    if (wos_scache_format(region, size, WOS_SCACHE_DEFAULT_ENTRY, secret) != WOS_OK
        || wos_scache_attach(p, region, size, &lock, &sc) != WOS_OK) {
        fprintf(stderr, "tablewalk: %ld MB does not hold a table\n", megabytes);
        return 1;
    }
    for (i = 0; i < entries; i++) {
        apr_uint64_t k[2] = {next(&rng), next(&rng)};
        memcpy(keys[i], k, sizeof(k));
        if (wos_scache_put(sc, keys[i], 2000000000, payload, sizeof(payload), 1000) != WOS_OK) {
            fprintf(stderr, "tablewalk: entry %ld not stored\n", i);
            return 1;
        }
    }
    apr_pool_create(&rp, p);
    for (r = 0; r < RUNS; r++) {
        double t0 = now_ns();
        for (i = 0; i < LOOKUPS; i++) {
            void *data;
            apr_size_t len;
            if (wos_scache_get(sc, rp, keys[next(&rng) % (apr_uint64_t)entries], 1000, &data,
                               &len, NULL) != WOS_OK) {
                fprintf(stderr, "tablewalk: a stored entry was not found\n");
                return 1;
            }
            sum += ((unsigned char *)data)[len - 1];
            if (i % 64 == 63)
                apr_pool_clear(rp);
        }
        ns[r] = (now_ns() - t0) / LOOKUPS;
        apr_pool_clear(rp);
    }
    qsort(ns, RUNS, sizeof(ns[0]), cmp);
    printf("| %ld | %ld MB | %.0f | %.0f to %.0f |\n", entries, megabytes, ns[RUNS / 2], ns[0],
           ns[RUNS - 1]);
    return sum == 0;        /* every payload byte is 'p': never 0, and not optimised out */
}

/* "ENTRIES:MEGABYTES"; 0 when it is not one. */
static int parse(const char *arg, long *entries, long *megabytes)
{
    long e, m;
    char extra;

    if (sscanf(arg, "%ld:%ld%c", &e, &m, &extra) != 2 || e < 1 || m < 1 || m > 65536)
        return 0;
    if (entries)
        *entries = e;
    if (megabytes)
        *megabytes = m;
    return 1;
}

int main(int argc, char **argv)
{
    static const char *const defaults[] = {"1000:16", "10000:16", "100000:96"};
    const char *const *sizes = defaults;
    int n = 3, i, rc = 0;
    apr_pool_t *p;

    if (argc > 1) {
        sizes = (const char *const *)argv + 1;
        n = argc - 1;
    }
    for (i = 0; i < n; i++)
        if (!parse(sizes[i], NULL, NULL)) {
            fprintf(stderr, "usage: tablewalk [ENTRIES:MEGABYTES ...], not '%s'\n", sizes[i]);
            return 2;
        }
    apr_app_initialize(&argc, (const char *const **)&argv, NULL);
    printf("| entries | region | ns per lookup (median of %d runs of %d) | range |\n"
           "|---|---|---|---|\n", RUNS, LOOKUPS);
    for (i = 0; i < n && !rc; i++) {
        long entries = 0, megabytes = 0;
        parse(sizes[i], &entries, &megabytes);
        apr_pool_create(&p, NULL);
        rc = walk(p, entries, megabytes);
        apr_pool_destroy(p);
    }
    apr_terminate();
    return rc;
}
