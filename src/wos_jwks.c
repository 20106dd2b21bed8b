/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_jwks.c: parse the WorkOS JWKS into RSA public keys (OpenSSL 3
 * EVP_PKEY_fromdata). Each entry is checked on its own: a bad entry is
 * skipped and reported, the good ones are kept. Only `n` and `e` are used;
 * x5c and thumbprints are ignored, as the Node SDK does.
 */
#include <string.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include "wos_b64.h"
#include "wos_json.h"
#include "wos_jwks.h"

/* Bounds that keep one entry's cost small and its label printable. */
#define JWK_MAX_KID 128
#define JWK_MAX_BITS 16384
#define JWK_MAX_E_BYTES 4

/* One entry under inspection. */
typedef struct {
    apr_pool_t *p;
    const json_t *obj;
    const char *kid;
} jwk_entry;

static apr_status_t pkey_cleanup(void *data)
{
    EVP_PKEY_free((EVP_PKEY *)data);
    return APR_SUCCESS;
}

/* A kid is kept only if it is short printable ASCII: it ends up in log lines. */
static int kid_ok(const char *kid)
{
    apr_size_t i, n = strlen(kid);

    if (n == 0 || n > JWK_MAX_KID)
        return 0;
    for (i = 0; i < n; i++) {
        if ((unsigned char)kid[i] < 0x20 || (unsigned char)kid[i] > 0x7e)
            return 0;
    }
    return 1;
}

/* NULL when the member is absent or equals @p want; a reason otherwise. */
static const char *member_is(const jwk_entry *e, const char *key, const char *want,
                             int required)
{
    const char *v;
    wos_rv rv = wos_json_get_string(e->p, e->obj, key, 0, &v);

    if (rv == WOS_ENOKEY)
        return required ? apr_pstrcat(e->p, "no ", key, NULL) : NULL;
    if (rv != WOS_OK)
        return apr_pstrcat(e->p, key, " is not a string", NULL);
    if (strcmp(v, want) != 0)
        return apr_pstrcat(e->p, key, " is not ", want, NULL);
    return NULL;
}

/* key_ops, when present, must allow "verify" (RFC 7517 §4.3). */
static const char *key_ops_ok(const jwk_entry *e)
{
    apr_array_header_t *ops;
    wos_rv rv = wos_json_get_string_array(e->p, e->obj, "key_ops", &ops);

    if (rv == WOS_ENOKEY)
        return NULL;
    if (rv != WOS_OK)
        return "key_ops is not an array of strings";
    return wos_array_contains(ops, "verify") ? NULL : "key_ops does not allow verify";
}

/* Decode a base64url big-endian integer member into a BIGNUM. */
static const char *get_bn(const jwk_entry *e, const char *key, apr_size_t max_bytes,
                          BIGNUM **out)
{
    const char *s;
    unsigned char *bin;
    apr_size_t len;

    *out = NULL;
    if (wos_json_get_string(e->p, e->obj, key, 0, &s) != WOS_OK || !*s)
        return apr_pstrcat(e->p, key, " is missing or not a string", NULL);
    if (strlen(s) > (max_bytes + 1) / 3 * 4 + 4)
        return apr_pstrcat(e->p, key, " is too large", NULL);
    if (wos_b64url_decode(e->p, s, strlen(s), &bin, &len) != WOS_OK)
        return apr_pstrcat(e->p, key, " is not valid base64url", NULL);
    if (!(*out = BN_bin2bn(bin, (int)len, NULL)))
        return "out of memory";
    return NULL;
}

/* The RSA-specific checks on n and e; *bits gets the modulus size. */
static const char *check_ne(apr_pool_t *p, const BIGNUM *n, const BIGNUM *e, int *bits)
{
    *bits = BN_num_bits(n);
    if (*bits > JWK_MAX_BITS)
        return "n is too large";
    if (*bits < WOS_JWKS_MIN_BITS)
        return apr_psprintf(p, "RSA key of %d bits is below %d", *bits, WOS_JWKS_MIN_BITS);
    if (!BN_is_odd(n))
        return "n is even";
    if (BN_num_bytes(e) > JWK_MAX_E_BYTES || !BN_is_odd(e) || BN_cmp(e, BN_value_one()) <= 0)
        return "e is not an odd value in [3, 2^32)";
    return NULL;
}

/* n and e into an EVP_PKEY (OpenSSL 3 provider API, no deprecated RSA_*). */
static EVP_PKEY *pkey_from_ne(const BIGNUM *n, const BIGNUM *e)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;

    int ok;

    ok = bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n)
         && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)
         && (params = OSSL_PARAM_BLD_to_param(bld))
         && (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL))
         && EVP_PKEY_fromdata_init(ctx) == 1
         && EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
    if (!ok) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

/* Build the key of one entry whose policy checks passed. */
static const char *build_key(const jwk_entry *e, wos_jwk *key)
{
    BIGNUM *n, *ex = NULL;
    const char *why = get_bn(e, "n", JWK_MAX_BITS / 8 + 1, &n);

    if (!why)
        why = get_bn(e, "e", JWK_MAX_E_BYTES + 1, &ex);
    if (!why)
        why = check_ne(e->p, n, ex, &key->bits);
    if (!why && !(key->pkey = pkey_from_ne(n, ex))) {
        ERR_clear_error();
        why = "OpenSSL rejected the key";
    }
    BN_free(n);
    BN_free(ex);
    if (!why) {
        key->kid = e->kid;
        apr_pool_cleanup_register(e->p, key->pkey, pkey_cleanup, apr_pool_cleanup_null);
        if (!(key->rs256 = wos_rs256_make(e->p, key->pkey)))
            why = "cannot set up RS256 verification";
    }
    return why;
}

/* Check one entry; NULL and *key filled when usable, else the reason. */
static const char *check_entry(jwk_entry *e, wos_jwk *key)
{
    const char *why;
    wos_rv rv;

    if (!json_is_object(e->obj))
        return "not a JSON object";
    rv = wos_json_get_string(e->p, e->obj, "kid", 0, &e->kid);
    if (rv != WOS_OK || !kid_ok(e->kid)) {
        e->kid = NULL;
        return "kid missing, not a string, empty, too long or not printable ASCII";
    }
    if ((why = member_is(e, "kty", "RSA", 1)) || (why = member_is(e, "use", "sig", 0))
        || (why = member_is(e, "alg", "RS256", 0)) || (why = key_ops_ok(e)))
        return why;
    return build_key(e, key);
}

static void skip(apr_pool_t *p, wos_jwks *set, const char *label, const char *why)
{
    APR_ARRAY_PUSH(set->skipped, const char *) = apr_pstrcat(p, label, ": ", why, NULL);
}

/* Every kid seen twice (whether usable or not) loses all its copies. */
static void drop_duplicates(apr_pool_t *p, wos_jwks *set, apr_hash_t *seen)
{
    apr_array_header_t *kept = apr_array_make(p, set->keys->nelts, sizeof(wos_jwk));
    apr_hash_index_t *hi;
    int i;

    for (i = 0; i < set->keys->nelts; i++) {
        const wos_jwk *k = &APR_ARRAY_IDX(set->keys, i, wos_jwk);
        if ((apr_uintptr_t)apr_hash_get(seen, k->kid, APR_HASH_KEY_STRING) == 1)
            APR_ARRAY_PUSH(kept, wos_jwk) = *k;
    }
    for (hi = apr_hash_first(p, seen); hi; hi = apr_hash_next(hi)) {
        const void *kid;
        void *count;
        apr_hash_this(hi, &kid, NULL, &count);
        if ((apr_uintptr_t)count > 1) {
            skip(p, set, kid, "kid appears more than once, no copy kept");
            APR_ARRAY_PUSH(set->ambiguous, const char *) = kid;
        }
    }
    set->keys = kept;
}

static void parse_entries(apr_pool_t *p, const json_t *arr, wos_jwks *set)
{
    apr_hash_t *seen = apr_hash_make(p);
    size_t i, n = json_array_size(arr);

    for (i = 0; i < n && i < WOS_JWKS_MAX_KEYS; i++) {
        jwk_entry e = { p, json_array_get(arr, i), NULL };
        wos_jwk key = { NULL, NULL, NULL, 0 };
        const char *why = check_entry(&e, &key);

        if (e.kid) {
            apr_uintptr_t c = (apr_uintptr_t)apr_hash_get(seen, e.kid, APR_HASH_KEY_STRING);
            apr_hash_set(seen, e.kid, APR_HASH_KEY_STRING, (void *)(c + 1));
        }
        if (why)
            skip(p, set, e.kid ? e.kid : apr_psprintf(p, "#%d", (int)i), why);
        else
            APR_ARRAY_PUSH(set->keys, wos_jwk) = key;
    }
    if (n > WOS_JWKS_MAX_KEYS)
        skip(p, set, apr_psprintf(p, "#%d-#%d", WOS_JWKS_MAX_KEYS, (int)n - 1),
             apr_psprintf(p, "over the limit of %d keys, not read", WOS_JWKS_MAX_KEYS));
    drop_duplicates(p, set, seen);
}

wos_rv wos_jwks_parse(apr_pool_t *p, const char *doc, apr_size_t len,
                      wos_jwks **out, const char **err)
{
    const char *dummy;
    json_t *root, *keys;
    wos_jwks *set;

    if (!err)
        err = &dummy;
    *out = NULL;
    if (len > WOS_JWKS_MAX_SIZE) {
        *err = "JWKS document over the size limit";
        return WOS_ETOOBIG;
    }
    if (!doc || wos_json_parse(p, doc, len, &root, err) != WOS_OK) {
        *err = "JWKS document is not a valid JSON object";
        return WOS_EINVAL;
    }
    keys = json_object_get(root, "keys");
    if (!json_is_array(keys)) {
        *err = "JWKS document has no \"keys\" array";
        return WOS_EINVAL;
    }
    set = apr_pcalloc(p, sizeof(*set));
    set->keys = apr_array_make(p, 4, sizeof(wos_jwk));
    set->skipped = apr_array_make(p, 4, sizeof(const char *));
    set->ambiguous = apr_array_make(p, 1, sizeof(const char *));
    parse_entries(p, keys, set);
    *out = set;
    return WOS_OK;
}

const wos_jwk *wos_jwks_find(const wos_jwks *set, const char *kid)
{
    int i;

    if (!set || !kid)
        return NULL;
    for (i = 0; i < set->keys->nelts; i++) {
        const wos_jwk *k = &APR_ARRAY_IDX(set->keys, i, wos_jwk);
        if (strcmp(k->kid, kid) == 0)
            return k;
    }
    return NULL;
}

int wos_jwks_ambiguous(const wos_jwks *set, const char *kid)
{
    return set && kid && set->ambiguous && wos_array_contains(set->ambiguous, kid);
}
