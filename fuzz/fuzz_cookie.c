/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_cookie.c: the Cookie header reader and chunked storage
 * (src/wos_cookie.h).
 *
 * Input: a Cookie header. It is read for "wos-session" (the default name,
 * with the cap the module uses) and for "a" (a short name, so that chunk
 * names and other cookies collide more), and scanned for names with those
 * prefixes.
 *
 * Oracle: results are documented codes and *in agrees with them; a value
 * read is stored again with wos_cookie_store (chunk size from the input's
 * length) and the Set-Cookie values it gives, sent back as a Cookie header,
 * read as the same value; the store deletes every chunk and the unchunked
 * cookie that the request carried and the new set does not use.
 */
#include <string.h>
#include <apr_strings.h>

#include "fuzz_common.h"
#include "wos_cookie.h"
#include "wos_seal.h"

/* The value part of a Set-Cookie ("name=value; attrs"), and its name. */
static void split_set_cookie(apr_pool_t *p, const char *sc, const char **name, const char **value)
{
    const char *eq = strchr(sc, '='), *semi = strchr(sc, ';');

    FUZZ_ASSERT(eq && semi && eq < semi, "Set-Cookie is name=value; attributes");
    *name = apr_pstrmemdup(p, sc, (apr_size_t)(eq - sc));
    *value = apr_pstrmemdup(p, eq + 1, (apr_size_t)(semi - eq - 1));
}

/* Store what was read, then read the result back. */
static void round_trip(apr_pool_t *p, const char *name, const wos_cookie_in *in, size_t size)
{
    wos_cookie_attrs a = { "/", NULL, "Lax", 1, 1, 3600 };
    apr_size_t chunk = WOS_COOKIE_MIN_CHUNK_SIZE
                       + size % (WOS_COOKIE_MAX_CHUNK_SIZE - WOS_COOKIE_MIN_CHUNK_SIZE + 1);
    apr_array_header_t *sets = NULL;
    apr_array_header_t *written = apr_array_make(p, 4, sizeof(const char *));
    apr_array_header_t *deleted = apr_array_make(p, 4, sizeof(const char *));
    const char *header = "";
    wos_cookie_in back;
    wos_rv rv;
    int i;

    /* Small chunks too, so that short values are chunked as well. */
    if (size % 3 == 0)
        chunk = WOS_COOKIE_MIN_CHUNK_SIZE;
    rv = wos_cookie_store(p, &a, name, in->value, chunk, in, &sets);
    FUZZ_ASSERT(rv == WOS_OK || rv == WOS_EINVAL || rv == WOS_ETOOBIG, "store result code");
    FUZZ_ASSERT((rv == WOS_OK) == (sets != NULL), "store fills the set only on success");
    if (rv != WOS_OK)
        return;
    for (i = 0; i < sets->nelts; i++) {
        const char *n, *v, *sc = APR_ARRAY_IDX(sets, i, const char *);
        split_set_cookie(p, sc, &n, &v);
        FUZZ_ASSERT(!wos_array_contains(written, n) && !wos_array_contains(deleted, n),
                    "each name set once");
        if (*v) {
            APR_ARRAY_PUSH(written, const char *) = n;
            header = apr_pstrcat(p, header, *header ? "; " : "", n, "=", v, NULL);
        }
        else {
            FUZZ_ASSERT(strstr(sc, "; Max-Age=0;") != NULL, "an empty value is a deletion");
            APR_ARRAY_PUSH(deleted, const char *) = n;
        }
    }
    FUZZ_ASSERT(wos_cookie_read(p, header, name, (apr_size_t)-1, &back) == WOS_OK
                && !strcmp(back.value, in->value), "stored value reads back the same");
    if (in->unchunked)
        FUZZ_ASSERT(wos_array_contains(written, name) || wos_array_contains(deleted, name),
                    "the old unchunked cookie is replaced or deleted");
    for (i = 0; i <= in->max_index; i++) {
        const char *cn = apr_psprintf(p, "%s.%d", name, i);
        FUZZ_ASSERT(wos_array_contains(written, cn) || wos_array_contains(deleted, cn),
                    "every old chunk is replaced or deleted");
    }
}

static void read_one(apr_pool_t *p, const char *header, const char *name, apr_size_t cap,
                     size_t size)
{
    wos_cookie_in in;
    wos_rv rv = wos_cookie_read(p, header, name, cap, &in);
    apr_array_header_t *names;
    int i, j;

    FUZZ_ASSERT(rv == WOS_OK || rv == WOS_EINVAL || rv == WOS_ETOOBIG || rv == WOS_ENOKEY,
                "read result code");
    FUZZ_ASSERT((rv == WOS_OK) == (in.value != NULL), "a value exactly on success");
    FUZZ_ASSERT(in.max_index >= -1 && in.max_index < WOS_COOKIE_MAX_CHUNKS
                && in.chunks >= 0, "chunk bookkeeping in range");
    if (rv == WOS_OK) {
        FUZZ_ASSERT(*in.value && strlen(in.value) <= cap && !strchr(in.value, ';'),
                    "value non-empty, within the cap, one cookie");
        FUZZ_ASSERT(in.unchunked || in.chunks == in.max_index + 1, "chunks contiguous");
        round_trip(p, name, &in, size);
    }
    names = wos_cookie_names_with_prefix(p, header, name);
    for (i = 0; i < names->nelts; i++) {
        const char *n = APR_ARRAY_IDX(names, i, const char *);
        FUZZ_ASSERT(!strncmp(n, name, strlen(name)) && !strchr(n, ';') && !strchr(n, '='),
                    "prefix match is a cookie name");
        for (j = 0; j < i; j++)
            FUZZ_ASSERT(strcmp(n, APR_ARRAY_IDX(names, j, const char *)), "names listed once");
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool_begin();
    char *header = fuzz_cstr(data, size);

    read_one(p, header, "wos-session", WOS_SEAL_MAX_INPUT, size);
    read_one(p, header, "a", 8192, size);
    free(header);
    fuzz_pool_end(p);
    return 0;
}
