/* wos_common.c: result names, constant-time compare, hashing and string helpers. */
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <apr_strings.h>

#include "wos_algs.h"
#include "wos_common.h"

const char *wos_strerror(wos_rv rv)
{
    switch (rv) {
    case WOS_OK:        return "ok";
    case WOS_EINVAL:    return "invalid";
    case WOS_ETOOBIG:   return "too large";
    case WOS_EMAC:      return "integrity check failed";
    case WOS_EEXPIRED:  return "expired";
    case WOS_ENOTYET:   return "not yet valid";
    case WOS_ENOKEY:    return "unknown key";
    case WOS_EDENIED:   return "denied by policy";
    case WOS_EUPSTREAM: return "rejected upstream";
    case WOS_EUNAVAIL:  return "upstream unavailable";
    case WOS_ECRYPTO:   return "crypto failure";
    case WOS_EBUSY:     return "busy";
    case WOS_ELIMIT:    return "limit reached";
    }
    return "unknown";
}

int wos_ct_equal(const void *a, apr_size_t alen, const void *b, apr_size_t blen)
{
    if (!a || !b || alen != blen)
        return 0;
    return CRYPTO_memcmp(a, b, alen) == 0;
}

int wos_ct_streq(const char *a, const char *b)
{
    if (!a || !b)
        return 0;
    return wos_ct_equal(a, strlen(a), b, strlen(b));
}

char *wos_hex(apr_pool_t *p, const unsigned char *buf, apr_size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char *out = apr_palloc(p, len * 2 + 1);
    apr_size_t i;

    for (i = 0; i < len; i++) {
        out[2 * i] = digits[buf[i] >> 4];
        out[2 * i + 1] = digits[buf[i] & 0x0f];
    }
    out[len * 2] = '\0';
    return out;
}

char *wos_sha256_hex(apr_pool_t *p, const void *data, apr_size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    const wos_algs *algs = wos_algs_get();

    if (!algs || EVP_Digest(data, len, md, &mdlen, algs->sha256, NULL) != 1)
        return NULL;
    return wos_hex(p, md, mdlen);
}

char *wos_short_hash(apr_pool_t *p, const char *s)
{
    char *h = wos_sha256_hex(p, s ? s : "", s ? strlen(s) : 0);
    if (h)
        h[12] = '\0';
    return h ? h : "-";
}

char *wos_join(apr_pool_t *p, const apr_array_header_t *arr, const char *sep)
{
    apr_size_t seplen = strlen(sep), total = 1;
    char *out, *w;
    int i;

    if (!arr || arr->nelts == 0)
        return "";
    for (i = 0; i < arr->nelts; i++)
        total += strlen(APR_ARRAY_IDX(arr, i, const char *)) + seplen;
    out = w = apr_palloc(p, total);
    for (i = 0; i < arr->nelts; i++) {
        const char *e = APR_ARRAY_IDX(arr, i, const char *);
        apr_size_t n = strlen(e);
        if (i) {
            memcpy(w, sep, seplen);
            w += seplen;
        }
        memcpy(w, e, n);
        w += n;
    }
    *w = '\0';
    return out;
}

int wos_array_contains(const apr_array_header_t *arr, const char *s)
{
    int i;
    if (!arr || !s)
        return 0;
    for (i = 0; i < arr->nelts; i++) {
        const char *e = APR_ARRAY_IDX(arr, i, const char *);
        if (e && strcmp(e, s) == 0)
            return 1;
    }
    return 0;
}

apr_int64_t wos_now_sec(void)
{
    return (apr_int64_t)apr_time_sec(apr_time_now());
}
