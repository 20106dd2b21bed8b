/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_siphash.c: SipHash-2-4, 128-bit output, as specified in "SipHash: a
 * fast short-input PRF" (2012) and its 128-bit variant. OpenSSL offers the
 * same function through EVP_MAC, but a context per request costs more than
 * hashing a cookie; the unit test checks this code against OpenSSL's.
 */
#include <string.h>

#include "wos_siphash.h"

#define ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

static apr_uint64_t load_le64(const unsigned char *p)
{
    apr_uint64_t v;

    memcpy(&v, p, 8);
#if APR_IS_BIGENDIAN
    v = __builtin_bswap64(v);
#endif
    return v;
}

static void store_le64(unsigned char *p, apr_uint64_t v)
{
#if APR_IS_BIGENDIAN
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, 8);
}

/* One round on four local words (kept in registers by the compiler). */
#define SIPROUND(v0, v1, v2, v3)                                                    \
    do {                                                                            \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);                   \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                                      \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                                      \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);                   \
    } while (0)

/* Absorb @p n whole words from @p p (two rounds each: SipHash-2-4). */
static void compress(wos_siphash *h, const unsigned char *p, apr_size_t n)
{
    apr_uint64_t v0 = h->v0, v1 = h->v1, v2 = h->v2, v3 = h->v3, m;

    for (; n; n--, p += 8) {
        m = load_le64(p);
        v3 ^= m;
        SIPROUND(v0, v1, v2, v3);
        SIPROUND(v0, v1, v2, v3);
        v0 ^= m;
    }
    h->v0 = v0;
    h->v1 = v1;
    h->v2 = v2;
    h->v3 = v3;
}

static void compress_word(wos_siphash *h, apr_uint64_t m)
{
    unsigned char b[8];

    store_le64(b, m);
    compress(h, b, 1);
}

void wos_siphash_init(wos_siphash *h, const unsigned char key[WOS_SIPHASH_KEY_LEN])
{
    apr_uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);

    h->v0 = k0 ^ 0x736f6d6570736575ULL;
    h->v1 = k1 ^ 0x646f72616e646f6dULL ^ 0xee;     /* 0xee: the 128-bit variant */
    h->v2 = k0 ^ 0x6c7967656e657261ULL;
    h->v3 = k1 ^ 0x7465646279746573ULL;
    h->tail = 0;
    h->len = 0;
}

void wos_siphash_update(wos_siphash *h, const void *data, apr_size_t len)
{
    const unsigned char *p = data;
    unsigned fill = h->len & 7;

    h->len += len;
    /* Finish a word left over from the last update. */
    while (fill && fill < 8 && len) {
        h->tail |= (apr_uint64_t)*p++ << (8 * fill++);
        len--;
    }
    if (fill == 8) {
        compress_word(h, h->tail);
        h->tail = 0;
    }
    compress(h, p, len / 8);
    p += len & ~(apr_size_t)7;
    len &= 7;
    for (fill = 0; fill < len; fill++)
        h->tail |= (apr_uint64_t)p[fill] << (8 * fill);
}

void wos_siphash_final(wos_siphash *h, unsigned char tag[WOS_SIPHASH_TAG_LEN])
{
    apr_uint64_t v0, v1, v2, v3;
    int i;

    compress_word(h, h->tail | ((apr_uint64_t)(h->len & 0xff) << 56));
    v0 = h->v0;
    v1 = h->v1;
    v2 = h->v2 ^ 0xee;
    v3 = h->v3;
    for (i = 0; i < 4; i++)
        SIPROUND(v0, v1, v2, v3);
    store_le64(tag, v0 ^ v1 ^ v2 ^ v3);
    v1 ^= 0xdd;
    for (i = 0; i < 4; i++)
        SIPROUND(v0, v1, v2, v3);
    store_le64(tag + 8, v0 ^ v1 ^ v2 ^ v3);
}
