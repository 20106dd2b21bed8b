/*
 * wos_b64.c: strict base64url without padding. Encoding lets OpenSSL do the
 * bit work (standard alphabet, then translated); decoding is a table.
 */
#include <limits.h>
#include <string.h>
#include <openssl/evp.h>

#include "wos_b64.h"

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

/* Value of each byte in the URL alphabet; -1 for anything else. */
static const signed char B64URL[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
    -1,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, 63,
    -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

/*
 * One pass with a table (decoding sits on every uncached request). Strict:
 * URL alphabet only, no padding, no length of the form 4n+1, and a last
 * character that carries fewer than six data bits must have its unused low
 * bits zero, so every value has exactly one accepted encoding.
 */
wos_rv wos_b64url_decode(apr_pool_t *p, const char *in, apr_size_t inlen,
                         unsigned char **out, apr_size_t *outlen)
{
    const unsigned char *s = (const unsigned char *)in;
    apr_size_t i, rem = inlen % 4, full = inlen - rem;
    apr_size_t n = inlen / 4 * 3 + (rem ? rem - 1 : 0);
    unsigned char *buf, *d;
    int a, b, c, e;

    *out = NULL;
    *outlen = 0;
    if (!in)
        return WOS_EINVAL;
    if (inlen > (apr_size_t)INT_MAX - 4)
        return WOS_ETOOBIG;
    if (rem == 1)
        return WOS_EINVAL;
    d = buf = apr_palloc(p, n + 1);
    for (i = 0; i < full; i += 4) {
        a = B64URL[s[i]];
        b = B64URL[s[i + 1]];
        c = B64URL[s[i + 2]];
        e = B64URL[s[i + 3]];
        if ((a | b | c | e) < 0)
            return WOS_EINVAL;
        *d++ = (unsigned char)(a << 2 | b >> 4);
        *d++ = (unsigned char)(b << 4 | c >> 2);
        *d++ = (unsigned char)(c << 6 | e);
    }
    if (rem) {
        a = B64URL[s[i]];
        b = B64URL[s[i + 1]];
        c = rem == 3 ? B64URL[s[i + 2]] : 0;
        if ((a | b | c) < 0 || (rem == 2 && (b & 0x0f)) || (rem == 3 && (c & 0x03)))
            return WOS_EINVAL;
        *d++ = (unsigned char)(a << 2 | b >> 4);
        if (rem == 3)
            *d++ = (unsigned char)(b << 4 | c >> 2);
    }
    buf[n] = '\0';
    *out = buf;
    *outlen = n;
    return WOS_OK;
}
