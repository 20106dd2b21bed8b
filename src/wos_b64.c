/*
 * wos_b64.c: strict base64url without padding. OpenSSL does the bit work
 * (standard alphabet, padded); this file adds the URL alphabet and the
 * strictness rules, so that every value has exactly one accepted encoding.
 */
#include <limits.h>
#include <string.h>
#include <openssl/evp.h>

#include "wos_b64.h"

/* Value of a base64url character, or -1 for anything else. */
static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

char *wos_b64url_encode(apr_pool_t *p, const unsigned char *buf, apr_size_t len)
{
    char *out;
    apr_size_t i, n;

    if (len > (apr_size_t)(INT_MAX / 4 * 3))
        return NULL;
    out = apr_palloc(p, (len + 2) / 3 * 4 + 1);
    n = (apr_size_t)EVP_EncodeBlock((unsigned char *)out, buf, (int)len);
    while (n > 0 && out[n - 1] == '=')
        n--;
    out[n] = '\0';
    for (i = 0; i < n; i++) {
        if (out[i] == '+')
            out[i] = '-';
        else if (out[i] == '/')
            out[i] = '_';
    }
    return out;
}

/*
 * Alphabet, length and canonical form: a last character that carries
 * fewer than six data bits must have its unused low bits zero.
 */
static int b64url_valid(const char *in, apr_size_t inlen)
{
    apr_size_t i, rem = inlen % 4;
    int v = 0;

    if (rem == 1)
        return 0;
    for (i = 0; i < inlen; i++) {
        v = b64url_value((unsigned char)in[i]);
        if (v < 0)
            return 0;
    }
    if (rem == 2 && (v & 0x0f))
        return 0;
    if (rem == 3 && (v & 0x03))
        return 0;
    return 1;
}

wos_rv wos_b64url_decode(apr_pool_t *p, const char *in, apr_size_t inlen,
                         unsigned char **out, apr_size_t *outlen)
{
    apr_size_t i, rem = inlen % 4, padded = inlen + (rem ? 4 - rem : 0);
    apr_size_t n = inlen / 4 * 3 + (rem ? rem - 1 : 0);
    unsigned char *std, *buf;

    *out = NULL;
    *outlen = 0;
    if (!in)
        return WOS_EINVAL;
    if (inlen > (apr_size_t)INT_MAX - 4)
        return WOS_ETOOBIG;
    if (!b64url_valid(in, inlen))
        return WOS_EINVAL;
    /* Translate to the standard alphabet with padding for OpenSSL. */
    std = apr_palloc(p, padded + 1);
    for (i = 0; i < inlen; i++)
        std[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : (unsigned char)in[i];
    for (; i < padded; i++)
        std[i] = '=';
    buf = apr_palloc(p, padded / 4 * 3 + 1);
    if (EVP_DecodeBlock(buf, std, (int)padded) != (int)(padded / 4 * 3))
        return WOS_EINVAL;
    buf[n] = '\0';
    *out = buf;
    *outlen = n;
    return WOS_OK;
}
