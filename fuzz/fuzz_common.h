/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_common.h: what every harness shares: APR set up once, a fresh pool
 * per input, exact-size copies of the input, and an oracle check that
 * aborts (so libFuzzer and the replay both report it as a crash).
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <apr_pools.h>

/* The entry points libFuzzer (or fuzz/replay_main.c) calls. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken promise of the code under test: report and abort. */
#define FUZZ_ASSERT(cond, what)                                               \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "fuzz oracle failed: %s [%s] at %s:%d\n", (what), \
                    #cond, __FILE__, __LINE__);                               \
            abort();                                                          \
        }                                                                     \
    } while (0)

/* apr_initialize once per process (idempotent). */
void fuzz_init(void);

/* A long-lived pool for what a harness sets up once (keys, lists). */
apr_pool_t *fuzz_global_pool(void);

/*
 * A fresh pool for one input. Until fuzz_pool_end, every apr_palloc from it
 * (or from its sub-pools) is a separate malloc of the exact size, so that
 * AddressSanitizer sees an overflow of a pool buffer, which APR's block
 * allocator would otherwise hide. fuzz_pool_end destroys the pool (running
 * its cleanups) and only then frees those buffers, as APR would.
 */
apr_pool_t *fuzz_pool_begin(void);
void fuzz_pool_end(apr_pool_t *p);

/*
 * @p size bytes of @p data in a malloc'd buffer of exactly that size (no
 * terminator: reading past the end is an error ASan reports). Free with free().
 */
char *fuzz_copy(const uint8_t *data, size_t size);

/* The same bytes with a NUL after them, for APIs that take C strings. */
char *fuzz_cstr(const uint8_t *data, size_t size);

#endif
