/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_jwks.c: wos_jwks_parse and wos_jwks_find (src/wos_jwks.h).
 *
 * Input: a JWKS document (given with its length, not NUL-terminated).
 *
 * Oracle: documented result codes; on success every kept key is RSA with
 * 2048 to 16384 bits (as OpenSSL counts them), a printable kid of 1 to 128
 * characters that no other kept key has, found by wos_jwks_find; at most
 * WOS_JWKS_MAX_KEYS keys; and every "skipped" line, which goes to the error
 * log, is printable ASCII (no input bytes that could forge log lines).
 */
#include <string.h>
#include <openssl/evp.h>

#include "fuzz_common.h"
#include "wos_jwks.h"

static int printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return 0;
    return 1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool_begin();
    char *doc = fuzz_copy(data, size);
    wos_jwks *set = (wos_jwks *)1;
    const char *err = NULL;
    wos_rv rv = wos_jwks_parse(p, doc, size, &set, &err);
    int i, j;

    FUZZ_ASSERT(rv == WOS_OK || rv == WOS_EINVAL || rv == WOS_ETOOBIG, "parse result code");
    FUZZ_ASSERT((rv == WOS_OK) == (set != NULL), "a set exactly on success");
    FUZZ_ASSERT(rv == WOS_OK || (err && printable(err)), "a printable reason on failure");
    if (set) {
        FUZZ_ASSERT(set->keys && set->skipped && set->keys->nelts <= WOS_JWKS_MAX_KEYS,
                    "at most the key limit");
        for (i = 0; i < set->keys->nelts; i++) {
            const wos_jwk *k = &APR_ARRAY_IDX(set->keys, i, wos_jwk);
            size_t n = strlen(k->kid);
            FUZZ_ASSERT(n >= 1 && n <= 128 && printable(k->kid), "kid printable, 1 to 128");
            FUZZ_ASSERT(k->pkey && EVP_PKEY_is_a(k->pkey, "RSA"), "key is RSA");
            FUZZ_ASSERT(k->bits >= WOS_JWKS_MIN_BITS && k->bits <= 16384
                        && EVP_PKEY_get_bits(k->pkey) == k->bits, "key size in range");
            FUZZ_ASSERT(wos_jwks_find(set, k->kid) == k, "found by its kid");
            for (j = 0; j < i; j++)
                FUZZ_ASSERT(strcmp(k->kid, APR_ARRAY_IDX(set->keys, j, wos_jwk).kid),
                            "kids unique");
        }
        for (i = 0; i < set->skipped->nelts; i++)
            FUZZ_ASSERT(printable(APR_ARRAY_IDX(set->skipped, i, const char *)),
                        "skipped lines printable");
        FUZZ_ASSERT(wos_jwks_find(set, NULL) == NULL && wos_jwks_find(NULL, "x") == NULL,
                    "find with nothing finds nothing");
    }
    free(doc);
    fuzz_pool_end(p);
    return 0;
}
