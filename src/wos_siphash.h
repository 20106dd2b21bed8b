/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_siphash.h
 * @brief SipHash-2-4 with a 128-bit tag (Aumasson and Bernstein), streamed.
 *
 * A keyed pseudo-random function, several times cheaper than SHA-256 on the
 * few kilobytes of a session cookie. With a secret random key its tag cannot
 * be predicted or forged without asking the key's holder: the session caches
 * use it to name an entry (its first 8 bytes pick the bucket) and to accept
 * it (all 16 bytes must match).
 */
#ifndef WOS_SIPHASH_H
#define WOS_SIPHASH_H

#include <apr.h>

#define WOS_SIPHASH_KEY_LEN 16
#define WOS_SIPHASH_TAG_LEN 16

typedef struct wos_siphash {
    apr_uint64_t v0, v1, v2, v3;
    apr_uint64_t tail;          /**< bytes not yet a whole word, little-endian */
    apr_size_t len;             /**< bytes so far */
} wos_siphash;

void wos_siphash_init(wos_siphash *h, const unsigned char key[WOS_SIPHASH_KEY_LEN]);
void wos_siphash_update(wos_siphash *h, const void *data, apr_size_t len);
void wos_siphash_final(wos_siphash *h, unsigned char tag[WOS_SIPHASH_TAG_LEN]);

#endif
