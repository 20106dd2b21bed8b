/* SPDX-License-Identifier: Apache-2.0 */
/*
 * testutil.h: shared scaffolding for the Check unit tests of src/.
 * Each test gets a fresh APR pool `tp` (a checked fixture). Each test binary
 * ends with WOS_TEST_MAIN(suite), which prints "<binary>: N passed, N failed"
 * for tests/unit/run to add up.
 */
#ifndef WOS_TESTUTIL_H
#define WOS_TESTUTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

static apr_pool_t *tp;

static void tp_setup(void)
{
    apr_initialize();
    apr_pool_create(&tp, NULL);
}

static void tp_teardown(void)
{
    apr_pool_destroy(tp);
    tp = NULL;
    apr_terminate();
}

/* A TCase with the pool fixture and a generous timeout (sanitizer builds are slow). */
static inline TCase *wos_tcase(const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, tp_setup, tp_teardown);
    tcase_set_timeout(tc, 60);
    return tc;
}

/* Read a whole file from tests/vectors (NULL when missing); *len gets its size. */
static inline char *wos_read_vector(apr_pool_t *p, const char *rel, apr_size_t *len)
{
    char *path = apr_pstrcat(p, WOS_VECTORS_DIR, "/", rel, NULL);
    FILE *f = fopen(path, "rb");
    long n;
    char *buf;

    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = apr_palloc(p, (apr_size_t)n + 1);
    if (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        return NULL;
    }
    buf[n] = '\0';
    fclose(f);
    if (len)
        *len = (apr_size_t)n;
    return buf;
}

#define WOS_TEST_MAIN(suite_fn)                                              \
    int main(int argc, char **argv)                                          \
    {                                                                        \
        SRunner *sr = srunner_create(suite_fn());                            \
        int run, failed;                                                     \
        (void)argc;                                                          \
        srunner_run_all(sr, CK_NORMAL);                                      \
        run = srunner_ntests_run(sr);                                        \
        failed = srunner_ntests_failed(sr);                                  \
        srunner_free(sr);                                                    \
        printf("%s: %d passed, %d failed\n", argv[0], run - failed, failed); \
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;                         \
    }

#endif
