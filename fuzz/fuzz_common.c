/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_common.c: shared set-up for the harnesses, and exact-size pool
 * allocations (see fuzz_common.h).
 *
 * apr_palloc and apr_pcalloc are defined here, so that the core (linked into
 * the same executable) and libapr (through its PLT) call these. For pools
 * under the current input's pool they return a malloc of the exact size;
 * for any other pool they forward to APR's own functions.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <string.h>
#include <apr_general.h>

#include "fuzz_common.h"

typedef void *(*palloc_fn)(apr_pool_t *, apr_size_t);

static apr_pool_t *global_pool;
static apr_pool_t *input_pool;      /* the pool whose allocations are exact */
static void **blocks;               /* malloc'd for input_pool, freed at its end */
static size_t nblocks, capblocks;

static void fuzz_atexit(void)
{
    if (global_pool)
        apr_pool_destroy(global_pool);
    global_pool = NULL;
    apr_terminate();
    free(blocks);
}

void fuzz_init(void)
{
    static int done;

    if (done)
        return;
    done = 1;
    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&global_pool, NULL) != APR_SUCCESS) {
        fprintf(stderr, "fuzz: cannot initialise APR\n");
        abort();
    }
    atexit(fuzz_atexit);
}

apr_pool_t *fuzz_global_pool(void)
{
    fuzz_init();
    return global_pool;
}

/* APR's own apr_palloc, found once. */
static void *real_palloc(apr_pool_t *p, apr_size_t size)
{
    static palloc_fn fn;

    if (!fn) {
        void *sym = dlsym(RTLD_NEXT, "apr_palloc");
        if (!sym) {
            fprintf(stderr, "fuzz: apr_palloc not found\n");
            abort();
        }
        memcpy(&fn, &sym, sizeof(fn));
    }
    return fn(p, size);
}

static int tracked(apr_pool_t *p)
{
    for (; input_pool && p; p = apr_pool_parent_get(p)) {
        if (p == input_pool)
            return 1;
    }
    return 0;
}

void *apr_palloc(apr_pool_t *p, apr_size_t size)
{
    void *mem;

    if (!tracked(p))
        return real_palloc(p, size);
    if (nblocks == capblocks) {
        size_t cap = capblocks ? capblocks * 2 : 1024;
        void **bigger = realloc(blocks, cap * sizeof(*blocks));
        if (!bigger)
            abort();
        blocks = bigger;
        capblocks = cap;
    }
    mem = malloc(size ? size : 1);
    if (!mem)
        abort();
    blocks[nblocks++] = mem;
    return mem;
}

#undef apr_pcalloc
void *apr_pcalloc(apr_pool_t *p, apr_size_t size);
void *apr_pcalloc(apr_pool_t *p, apr_size_t size)
{
    return memset(apr_palloc(p, size), 0, size);
}

apr_pool_t *fuzz_pool_begin(void)
{
    apr_pool_t *p;

    fuzz_init();
    if (apr_pool_create(&p, NULL) != APR_SUCCESS)
        abort();
    input_pool = p;
    return p;
}

void fuzz_pool_end(apr_pool_t *p)
{
    size_t i;

    apr_pool_destroy(p);
    input_pool = NULL;
    for (i = 0; i < nblocks; i++)
        free(blocks[i]);
    nblocks = 0;
}

char *fuzz_copy(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);

    if (!buf)
        abort();
    if (size)
        memcpy(buf, data, size);
    return buf;
}

char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);

    if (!buf)
        abort();
    if (size)
        memcpy(buf, data, size);
    buf[size] = '\0';
    return buf;
}
