/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_b64.c: strict base64url without padding. Encoding lets OpenSSL do the
 * bit work (standard alphabet, then translated); decoding is by tables.
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

/* Value of URL-alphabet character c, -1 for anything else (a constant expression). */
#define B64V(c) ((c) >= 'A' && (c) <= 'Z' ? (c) - 'A'                                  \
                 : (c) >= 'a' && (c) <= 'z' ? (c) - 'a' + 26                           \
                 : (c) >= '0' && (c) <= '9' ? (c) - '0' + 52                           \
                 : (c) == '-' ? 62 : (c) == '_' ? 63 : -1)
#define BAD 0x80000000u
#define AT(c, shift) (B64V(c) < 0 ? BAD : (apr_uint32_t)B64V(c) << (shift)),
#define AT18(c) AT(c, 18)
#define AT12(c) AT(c, 12)
#define AT6(c) AT(c, 6)
#define AT0(c) AT(c, 0)
#define R4(f, b) f(b) f((b) + 1) f((b) + 2) f((b) + 3)
#define R16(f, b) R4(f, b) R4(f, (b) + 4) R4(f, (b) + 8) R4(f, (b) + 12)
#define R64(f, b) R16(f, b) R16(f, (b) + 16) R16(f, (b) + 32) R16(f, (b) + 48)
#define R256(f) R64(f, 0) R64(f, 64) R64(f, 128) R64(f, 192)

/*
 * Each byte's six bits already at their place in a 24-bit group, for the
 * 1st to 4th character of a quantum: a quantum is four lookups and three ORs.
 * BAD for bytes outside the alphabet.
 */
static const apr_uint32_t D18[256] = { R256(AT18) };
static const apr_uint32_t D12[256] = { R256(AT12) };
static const apr_uint32_t D6[256] = { R256(AT6) };
static const apr_uint32_t D0[256] = { R256(AT0) };

/*
 * One pass with tables (decoding sits on every uncached request). Strict:
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
        apr_uint32_t v = D18[s[i]] | D12[s[i + 1]] | D6[s[i + 2]] | D0[s[i + 3]];
        if (v & BAD)
            return WOS_EINVAL;
        d[0] = (unsigned char)(v >> 16);
        d[1] = (unsigned char)(v >> 8);
        d[2] = (unsigned char)v;
        d += 3;
    }
    if (rem) {
        apr_uint32_t a = D0[s[i]], b = D0[s[i + 1]], c = rem == 3 ? D0[s[i + 2]] : 0;
        if (((a | b | c) & BAD) || (rem == 2 && (b & 0x0f)) || (rem == 3 && (c & 0x03)))
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

/* ------------------------------------------------------------------ */
/* Padded base64 of either alphabet: OpenSSL does the bit work.        */

char *wos_b64pad_encode(apr_pool_t *p, const unsigned char *buf, apr_size_t len, int urlsafe)
{
    char *out;
    apr_size_t i, n;

    if (len > (apr_size_t)(INT_MAX / 4 * 3))
        return NULL;
    out = apr_palloc(p, (len + 2) / 3 * 4 + 1);
    n = (apr_size_t)EVP_EncodeBlock((unsigned char *)out, buf, (int)len);
    for (i = 0; urlsafe && i < n; i++) {
        if (out[i] == '+')
            out[i] = '-';
        else if (out[i] == '/')
            out[i] = '_';
    }
    out[n] = '\0';
    return out;
}

/* The standard character for @p c of the chosen alphabet, or 0 if it is not one. */
static char std_char(char c, int urlsafe)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return c;
    if (urlsafe)
        return c == '-' ? '+' : c == '_' ? '/' : 0;
    return c == '+' || c == '/' ? c : 0;
}

wos_rv wos_b64pad_decode(apr_pool_t *p, const char *in, apr_size_t inlen, int urlsafe,
                         unsigned char **out, apr_size_t *outlen)
{
    apr_size_t i, pad = 0, body;
    char *std;
    int n;

    *out = NULL;
    *outlen = 0;
    if (!in || inlen == 0 || inlen % 4 != 0)
        return WOS_EINVAL;
    if (inlen > (apr_size_t)INT_MAX - 4)
        return WOS_ETOOBIG;
    while (pad < 2 && in[inlen - 1 - pad] == '=')
        pad++;
    body = inlen - pad;
    std = apr_palloc(p, inlen + 1);
    for (i = 0; i < body; i++)
        if (!(std[i] = std_char(in[i], urlsafe)))
            return WOS_EINVAL;
    memcpy(std + body, "==", pad);
    *out = apr_palloc(p, inlen / 4 * 3 + 1);
    n = EVP_DecodeBlock(*out, (const unsigned char *)std, (int)inlen);
    if (n < 0 || (apr_size_t)n < pad)
        return WOS_EINVAL;
    *outlen = (apr_size_t)n - pad;
    (*out)[*outlen] = '\0';
    return WOS_OK;
}
