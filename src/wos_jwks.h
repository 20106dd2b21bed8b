/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_jwks.h
 * @brief The WorkOS JSON Web Key Set: RSA signing keys by kid.
 */
#ifndef WOS_JWKS_H
#define WOS_JWKS_H

#include <openssl/evp.h>
#include "wos_common.h"
#include "wos_rs256.h"

/** Largest JWKS document accepted (bytes). */
#define WOS_JWKS_MAX_SIZE (256 * 1024)
/** Most keys kept from one document. */
#define WOS_JWKS_MAX_KEYS 32
/** Smallest RSA modulus accepted (bits). */
#define WOS_JWKS_MIN_BITS 2048

typedef struct wos_jwk {
    const char *kid;
    EVP_PKEY *pkey;      /**< freed when the set's pool is cleared */
    wos_rs256 *rs256;    /**< verifies with it, on contexts kept for the next token */
    int bits;
} wos_jwk;

typedef struct wos_jwks {
    apr_array_header_t *keys;     /**< wos_jwk: the usable keys */
    apr_array_header_t *skipped;  /**< const char *: "kid: reason" for each key left out */
    apr_array_header_t *ambiguous;/**< const char *: kids listed more than once */
} wos_jwks;

/**
 * Parse {"keys":[...]}. Keys that are not RSA, carry `use` other than "sig"
 * or `alg` other than "RS256", have fewer than WOS_JWKS_MIN_BITS bits, or are
 * malformed are skipped and reported; the good ones are kept. A kid seen
 * twice keeps neither copy (ambiguous). WOS_EINVAL if the document itself is
 * malformed, WOS_ETOOBIG over WOS_JWKS_MAX_SIZE; an empty usable set is WOS_OK
 * with no keys (the caller decides).
 *
 * Details of the per-key rules: `kty` must be "RSA"; `kid` must be 1 to 128
 * printable ASCII characters (a label "#<index>" is used in `skipped`
 * otherwise, so no other key bytes are ever echoed); `key_ops`, if present,
 * must contain "verify"; `n` and `e` are strict base64url; `n` is odd and at
 * most 16384 bits (a leading zero octet is tolerated); `e` is odd and in
 * [3, 2^32). x5c, x5t and other members are ignored. Only the first
 * WOS_JWKS_MAX_KEYS entries are read (one `skipped` line covers the rest,
 * and duplicates are only detected among the entries read). Keys are freed
 * by a cleanup on @p p.
 */
wos_rv wos_jwks_parse(apr_pool_t *p, const char *doc, apr_size_t len,
                      wos_jwks **out, const char **err);

/** The key whose kid equals @p kid exactly, or NULL. */
const wos_jwk *wos_jwks_find(const wos_jwks *set, const char *kid);

/**
 * 1 if @p kid was listed more than once (so no key is kept for it): the
 * document is at fault, not the token, which must not be treated as forged.
 */
int wos_jwks_ambiguous(const wos_jwks *set, const char *kid);

#endif
