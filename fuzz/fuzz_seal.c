/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_seal.c: wos_unseal (src/wos_seal.h), the iron Fe26.2 seal.
 *
 * Two kinds of input:
 * - anything not starting with byte 0x01 is a seal, unsealed as the module
 *   does, with the test passwords of tests/vectors/seal (current and old);
 * - 0x01, a flags byte, then "prefix*pwid*esalt*iv*exp*hsalt*suffix\n"
 *   and a plaintext: the harness encrypts the plaintext and computes a valid
 *   MAC over those fields itself (an independent iron sealer, like the one in
 *   tests/unit/test_seal.c), so the fuzzer gets past the MAC to the expiry,
 *   the padding and the payload checks.
 *   flags: bits 0-1 the password (current, old, unknown, current),
 *   bit 2 flip a MAC bit, bit 3 no PKCS#7 padding (whole blocks only).
 *
 * Oracle: documented result codes only; *out, *outlen and *pw_index agree
 * with the result; a payload has no NUL and is its length; a crafted seal of
 * the canonical form must unseal to exactly its plaintext when that is UTF-8
 * without NUL (and be refused otherwise); whatever unseals seals again with
 * wos_seal and unseals to the same bytes.
 */
#include <string.h>
#include <apr_strings.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fuzz_common.h"
#include "wos_b64.h"
#include "wos_seal.h"

/* The test-only passwords of tests/compat/seal_common.mjs. */
#define PW     "mod_auth_workos-test-password-0123456789"
#define OLD_PW "mod_auth_workos-old-password-9876543210abc"
#define PW3    "a third password, at least 32 characters"
#define NOW_MS 1700000000000LL

static apr_array_header_t *passwords;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    apr_pool_t *g = fuzz_global_pool();

    passwords = apr_array_make(g, 2, sizeof(const char *));
    APR_ARRAY_PUSH(passwords, const char *) = PW;
    APR_ARRAY_PUSH(passwords, const char *) = OLD_PW;
    return 0;
}

/* --- an independent sealer ------------------------------------------------ */

static void kdf(const char *pw, const char *salt, unsigned char key[32])
{
    FUZZ_ASSERT(PKCS5_PBKDF2_HMAC(pw, (int)strlen(pw), (const unsigned char *)salt,
                                  (int)strlen(salt), 1, EVP_sha1(), 32, key) == 1, "kdf");
}

/* AES-256-CBC of @p len bytes; without padding only whole blocks are possible. */
static unsigned char *encrypt(apr_pool_t *p, const char *pw, const char *esalt,
                              const unsigned char iv[16], const char *plain, size_t len,
                              int pad, size_t *ctlen)
{
    unsigned char key[32], *ct = apr_palloc(p, len + 16);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n1 = 0, n2 = 0;

    FUZZ_ASSERT(ctx && EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, NULL, NULL) == 1, "aes");
    kdf(pw, esalt, key);
    FUZZ_ASSERT(EVP_EncryptInit_ex(ctx, NULL, NULL, key, iv) == 1
                && EVP_CIPHER_CTX_set_padding(ctx, pad) == 1
                && EVP_EncryptUpdate(ctx, ct, &n1, (const unsigned char *)plain, (int)len) == 1
                && EVP_EncryptFinal_ex(ctx, ct + n1, &n2) == 1, "aes");
    EVP_CIPHER_CTX_free(ctx);
    *ctlen = (size_t)(n1 + n2);
    return ct;
}

static int hex64(const char *s)
{
    size_t i;

    for (i = 0; s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return i == 64;
}

/* Empty, or 1-18 digits without a leading zero, and not expired (60 s skew). */
static int exp_fresh(const char *s)
{
    long long v = 0;
    size_t i, n = strlen(s);

    if (n == 0)
        return 1;
    if (n > 18 || s[0] == '0')
        return 0;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    return v > NOW_MS - 60000;
}

/* Strict UTF-8, written separately from the core's checker. */
static int utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned c = s[i], cp, need, k;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xc2 && c <= 0xdf)      { need = 1; cp = c & 0x1f; }
        else if (c >= 0xe0 && c <= 0xef) { need = 2; cp = c & 0x0f; }
        else if (c >= 0xf0 && c <= 0xf4) { need = 3; cp = c & 0x07; }
        else return 0;
        if (i + need >= n)
            return 0;
        for (k = 1; k <= need; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
            || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return 0;
        i += need + 1;
    }
    return 1;
}

/* --- checks ---------------------------------------------------------------- */

static wos_rv unseal(apr_pool_t *p, const char *sealed, size_t len, char **out,
                     apr_size_t *outlen, int *idx)
{
    const char *err = "unset";
    wos_rv rv = wos_unseal(p, sealed, len, passwords, NOW_MS, out, outlen, idx, &err);

    FUZZ_ASSERT(rv == WOS_OK || rv == WOS_EINVAL || rv == WOS_ETOOBIG || rv == WOS_EMAC
                || rv == WOS_EEXPIRED, "unseal result code");
    if (rv != WOS_OK) {
        FUZZ_ASSERT(!*out && *outlen == 0 && *idx == -1 && err, "failure leaves no payload");
        return rv;
    }
    FUZZ_ASSERT(*out && !err && (*idx == 0 || *idx == 1), "success fills the payload");
    FUZZ_ASSERT(strlen(*out) == *outlen, "payload has no NUL and is its length");
    return rv;
}

/* Whatever unseals seals again (current password, no ttl) and unseals the same. */
static void reseal(apr_pool_t *p, const char *payload, apr_size_t len)
{
    const char *sealed = NULL;
    char *out;
    apr_size_t outlen;
    int idx;
    wos_rv rv = wos_seal(p, PW, payload, len, 0, NOW_MS, &sealed);

    FUZZ_ASSERT(rv == WOS_OK || rv == WOS_ETOOBIG, "an unsealed payload can be sealed");
    if (rv != WOS_OK)
        return;
    FUZZ_ASSERT(unseal(p, sealed, strlen(sealed), &out, &outlen, &idx) == WOS_OK
                && idx == 0 && outlen == len && !memcmp(out, payload, len), "seal round trip");
}

/* Crafted mode: fields from the input, ciphertext and MAC made here. */
static void crafted(apr_pool_t *p, const uint8_t *data, size_t size)
{
    static const char *const pws[] = { PW, OLD_PW, PW3, PW };
    const uint8_t *nl = size > 1 ? memchr(data + 1, '\n', size - 1) : NULL;
    char *hdr, *f[7], *s, *sealed, *out;
    unsigned char iv[16] = { 0 }, *rawiv, *ct, key[32], mac[32];
    const char *pw, *body, *plain;
    size_t plen, ctlen, n;
    unsigned int maclen = 0;
    apr_size_t ivlen = 0, outlen;
    int flags, pad, i, idx, canonical, ivok;
    wos_rv rv;

    if (size < 2 || !nl)
        return;
    flags = data[0];
    pw = pws[flags & 3];
    hdr = apr_pstrmemdup(p, (const char *)data + 1, (apr_size_t)(nl - data - 1));
    plain = (const char *)nl + 1;
    plen = size - (size_t)(nl - data) - 1;
    for (i = 0, s = hdr; i < 7; i++) {
        f[i] = s;
        s = s ? strchr(s, '*') : NULL;
        if (s)
            *s++ = '\0';
        if (!f[i])
            return;
    }
    if (s || memchr(data + 1, '\0', (apr_size_t)(nl - data - 1)))
        return;         /* exactly seven fields, no NUL in them */
    ivok = wos_b64url_decode(p, f[3], strlen(f[3]), &rawiv, &ivlen) == WOS_OK && ivlen == 16;
    if (ivok)
        memcpy(iv, rawiv, 16);
    pad = !(flags & 8) || plen % 16 != 0 || plen == 0;
    ct = encrypt(p, pw, f[2], iv, plain, plen, pad, &ctlen);
    body = apr_pstrcat(p, f[0], "*", f[1], "*", f[2], "*", f[3], "*",
                       wos_b64url_encode(p, ct, ctlen), "*", f[4], NULL);
    kdf(pw, f[5], key);
    FUZZ_ASSERT(HMAC(EVP_sha256(), key, 32, (const unsigned char *)body, strlen(body), mac,
                     &maclen) && maclen == 32, "hmac");
    if (flags & 4)
        mac[flags % 32] ^= 0x40;
    sealed = apr_pstrcat(p, body, "*", f[5], "*", wos_b64url_encode(p, mac, 32), f[6], NULL);
    n = strlen(sealed);
    rv = unseal(p, sealed, n, &out, &outlen, &idx);
    canonical = !strcmp(f[0], "Fe26.2") && !strcmp(f[1], "1") && hex64(f[2]) && hex64(f[5])
                && ivok && exp_fresh(f[4])
                && (!strcmp(f[6], "~2") || !*f[6]) && (flags & 3) != 2 && !(flags & 4)
                && pad && n <= WOS_SEAL_MAX_INPUT;
    if (!canonical)
        return;
    if (!memchr(plain, '\0', plen) && utf8_ok((const unsigned char *)plain, plen))
        FUZZ_ASSERT(rv == WOS_OK && idx == ((flags & 3) == 1) && outlen == plen
                    && !memcmp(out, plain, plen), "canonical seal unseals to its plaintext");
    else
        FUZZ_ASSERT(rv == WOS_EINVAL, "a payload with NUL or bad UTF-8 is refused");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool_begin();
    char *out = NULL;
    apr_size_t outlen = 0;
    int idx = -1;

    if (size > 0 && data[0] == 0x01) {
        crafted(p, data + 1, size - 1);
    }
    else {
        char *sealed = fuzz_copy(data, size);
        if (unseal(p, sealed, size, &out, &outlen, &idx) == WOS_OK)
            reseal(p, out, outlen);
        free(sealed);
    }
    fuzz_pool_end(p);
    return 0;
}
