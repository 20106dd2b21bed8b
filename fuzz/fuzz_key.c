/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_key.c: a deterministic RSA key (see fuzz_key.h). Each prime is the
 * first probable prime p >= a SHA-256 expansion of the label (top two bits
 * set, so that the modulus has exactly the asked size) with gcd(p-1, e) = 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>

#include "fuzz_key.h"

static BIGNUM *derive_prime(const char *label, const char *which, int bits,
                            const BIGNUM *e, BN_CTX *ctx)
{
    int nbytes = bits / 8, off, ok = 1;
    unsigned char *buf = malloc((size_t)nbytes + SHA256_DIGEST_LENGTH);
    unsigned int counter = 0;
    BIGNUM *p = NULL, *pm1 = BN_new(), *g = BN_new();

    if (!buf || !pm1 || !g)
        goto leave;
    for (off = 0; off < nbytes; off += SHA256_DIGEST_LENGTH) {
        char seed[256];
        int n = snprintf(seed, sizeof(seed), "%s/%s/%u", label, which, counter++);
        SHA256((const unsigned char *)seed, (size_t)n, buf + off);
    }
    buf[0] |= 0xc0;
    buf[nbytes - 1] |= 1;
    p = BN_bin2bn(buf, nbytes, NULL);
    while (p && ok) {
        ok = BN_sub(pm1, p, BN_value_one()) && BN_gcd(g, pm1, e, ctx);
        if (ok && BN_is_one(g) && BN_check_prime(p, ctx, NULL) == 1)
            break;
        ok = ok && BN_add_word(p, 2);
    }
    if (!ok) {
        BN_free(p);
        p = NULL;
    }
leave:
    free(buf);
    BN_free(pm1);
    BN_free(g);
    return p;
}

EVP_PKEY *fuzz_key_derive(const char *label, int bits)
{
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *e = BN_new(), *p = NULL, *q = NULL, *n = BN_new(), *d = BN_new();
    BIGNUM *pm1 = BN_new(), *qm1 = BN_new(), *phi = BN_new();
    BIGNUM *dp = BN_new(), *dq = BN_new(), *qinv = BN_new();
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    EVP_PKEY *pkey = NULL;
    int ok;

    ok = ctx && e && n && d && pm1 && qm1 && phi && dp && dq && qinv && bld
         && BN_set_word(e, 65537)
         && (p = derive_prime(label, "p", bits / 2, e, ctx))
         && (q = derive_prime(label, "q", bits / 2, e, ctx))
         && BN_cmp(p, q) != 0
         && BN_mul(n, p, q, ctx)
         && BN_sub(pm1, p, BN_value_one()) && BN_sub(qm1, q, BN_value_one())
         && BN_mul(phi, pm1, qm1, ctx)
         && BN_mod_inverse(d, e, phi, ctx)
         && BN_mod(dp, d, pm1, ctx) && BN_mod(dq, d, qm1, ctx)
         && BN_mod_inverse(qinv, q, p, ctx)
         && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n)
         && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)
         && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d)
         && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, p)
         && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, q)
         && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, dp)
         && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, dq)
         && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qinv)
         && (params = OSSL_PARAM_BLD_to_param(bld))
         && (pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL))
         && EVP_PKEY_fromdata_init(pctx) == 1
         && EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_KEYPAIR, params) == 1;
    if (!ok) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(e); BN_free(p); BN_free(q); BN_free(n);
    BN_clear_free(d); BN_clear_free(pm1); BN_clear_free(qm1); BN_clear_free(phi);
    BN_clear_free(dp); BN_clear_free(dq); BN_clear_free(qinv);
    BN_CTX_free(ctx);
    return pkey;
}

static EVP_PKEY *the_key;

static void free_key(void)
{
    EVP_PKEY_free(the_key);
    the_key = NULL;
}

EVP_PKEY *fuzz_key(void)
{
    if (!the_key) {
        the_key = fuzz_key_derive("mod_auth_workos fuzz key 1", 2048);
        if (!the_key) {
            fprintf(stderr, "fuzz: cannot derive the RSA key\n");
            abort();
        }
        atexit(free_key);
    }
    return the_key;
}
