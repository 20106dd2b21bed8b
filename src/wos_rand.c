/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_rand.c: random bytes and tokens from OpenSSL's CSPRNG, and the PKCE
 * S256 challenge (RFC 7636 §4.2).
 */
#include <limits.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "wos_b64.h"
#include "wos_rand.h"

/* Longest token wos_rand_token makes: far beyond any state or verifier. */
#define WOS_RAND_MAX_TOKEN 1024

wos_rv wos_rand_bytes(unsigned char *buf, apr_size_t len)
{
    if (!buf || len > INT_MAX)
        return WOS_EINVAL;
    if (len == 0)
        return WOS_OK;
    return RAND_bytes(buf, (int)len) == 1 ? WOS_OK : WOS_ECRYPTO;
}

wos_rv wos_rand_token(apr_pool_t *p, apr_size_t nbytes, const char **out)
{
    unsigned char buf[WOS_RAND_MAX_TOKEN];
    wos_rv rv;

    *out = NULL;
    if (nbytes == 0 || nbytes > sizeof(buf))
        return WOS_EINVAL;
    rv = wos_rand_bytes(buf, nbytes);
    if (rv == WOS_OK) {
        *out = wos_b64url_encode(p, buf, nbytes);
        if (!*out)
            rv = WOS_ECRYPTO;
    }
    OPENSSL_cleanse(buf, nbytes);
    return rv;
}

char *wos_pkce_challenge(apr_pool_t *p, const char *verifier)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (!verifier)
        return NULL;
    if (EVP_Digest(verifier, strlen(verifier), md, &mdlen, EVP_sha256(), NULL) != 1)
        return NULL;
    return wos_b64url_encode(p, md, mdlen);
}
