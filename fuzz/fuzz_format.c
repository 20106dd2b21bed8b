/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_format.c: the Ruby and Python SDKs' sealed sessions (wos_format.h):
 * wos_ruby_unseal, wos_fernet_unseal and the snake_case session parser.
 *
 * Byte 0 picks the mode:
 * - 'r' or 'p': the rest is a cookie of the ruby or python format, opened
 *   with the test passwords (current, old) as the module opens one;
 * - 'R' or 'P': the rest is a plaintext the harness seals itself with
 *   OpenSSL (an independent sealer: AES-256-GCM under SHA-256 of the
 *   password, version byte and Rack escapes; or Fernet), so the fuzzer gets
 *   past the tag or MAC to the payload checks and the session parser.
 *
 * Oracle: documented result codes only; a session has its tokens and user id;
 * a crafted seal of UTF-8 without NUL unseals to exactly its plaintext (and
 * is refused otherwise); whatever opens seals again in its format and opens
 * to the same tokens and user.
 */
#include <string.h>
#include <apr_strings.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "fuzz_common.h"
#include "wos_format.h"
#include "wos_seal.h"
#include "wos_seal_fernet.h"
#include "wos_seal_ruby.h"

#define RUBY_PW     "mod_auth_workos-test-password-0123456789"
#define RUBY_OLD    "mod_auth_workos-legacy-key-32-by"     /* 32 bytes: legacy too */
#define FERNET_PW   "dGVzdC1rZXktZm9yLWZ1enppbmctb25seS0wMTIzNDU="
#define FERNET_OLD  "b2xkLXRlc3Qta2V5LWZvci1mdXp6aW5nLTAxMjM0NTY="

static apr_array_header_t *ruby_pws, *fernet_pws;

static apr_array_header_t *pair(apr_pool_t *p, const char *a, const char *b)
{
    apr_array_header_t *arr = apr_array_make(p, 2, sizeof(const char *));
    APR_ARRAY_PUSH(arr, const char *) = a;
    APR_ARRAY_PUSH(arr, const char *) = b;
    return arr;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    apr_pool_t *g = fuzz_global_pool();

    (void)argc;
    (void)argv;
    ruby_pws = pair(g, RUBY_PW, RUBY_OLD);
    fernet_pws = pair(g, FERNET_PW, FERNET_OLD);
    return 0;
}

/* --- independent sealers ---------------------------------------------------- */

static char *b64(apr_pool_t *p, const unsigned char *raw, size_t n, int urlsafe)
{
    char *out = apr_palloc(p, (n + 2) / 3 * 4 + 1), *c;

    EVP_EncodeBlock((unsigned char *)out, raw, (int)n);
    for (c = out; urlsafe && *c; c++)
        *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
    return out;
}

static char *seal_ruby(apr_pool_t *p, const char *plain, size_t n, int rack)
{
    unsigned char key[32], *raw = apr_palloc(p, 29 + n + 1);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int a = 0, b = 0;
    char *out, *d, *s;

    FUZZ_ASSERT(EVP_Digest(RUBY_PW, strlen(RUBY_PW), key, NULL, EVP_sha256(), NULL) == 1, "sha");
    raw[0] = 1;
    FUZZ_ASSERT(RAND_bytes(raw + 1, 12) == 1, "rand");
    FUZZ_ASSERT(ctx && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, raw + 1) == 1
                && EVP_EncryptUpdate(ctx, raw + 29, &a, (const unsigned char *)plain, (int)n) == 1
                && EVP_EncryptFinal_ex(ctx, raw + 29 + a, &b) == 1
                && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, raw + 13) == 1, "gcm");
    EVP_CIPHER_CTX_free(ctx);
    s = b64(p, raw, 29 + (size_t)(a + b), 0);
    if (!rack)
        return s;
    out = d = apr_palloc(p, strlen(s) * 3 + 1);
    for (; *s; s++) {
        if (*s == '+' || *s == '/' || *s == '=')
            d += sprintf(d, "%%%02X", (unsigned)*s);
        else
            *d++ = *s;
    }
    *d = '\0';
    return out;
}

static char *seal_fernet(apr_pool_t *p, const char *plain, size_t n)
{
    unsigned char key[33], *raw = apr_palloc(p, 25 + n + 16 + 32);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    unsigned int maclen = 0;
    int a = 0, b = 0;

    FUZZ_ASSERT(EVP_DecodeBlock(key, (const unsigned char *)FERNET_PW, 44) == 33, "key");
    memset(raw, 0, 9);
    raw[0] = 0x80;
    FUZZ_ASSERT(RAND_bytes(raw + 9, 16) == 1, "rand");
    FUZZ_ASSERT(ctx && EVP_EncryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, key + 16, raw + 9) == 1
                && EVP_EncryptUpdate(ctx, raw + 25, &a, (const unsigned char *)plain, (int)n) == 1
                && EVP_EncryptFinal_ex(ctx, raw + 25 + a, &b) == 1, "cbc");
    EVP_CIPHER_CTX_free(ctx);
    FUZZ_ASSERT(HMAC(EVP_sha256(), key, 16, raw, 25 + (size_t)(a + b), raw + 25 + a + b,
                     &maclen) && maclen == 32, "hmac");
    return b64(p, raw, 25 + (size_t)(a + b) + 32, 1);
}

/* --- checks ------------------------------------------------------------------- */

static int utf8_text(const char *s, size_t n)
{
    return !memchr(s, '\0', n) && wos_utf8_valid((const unsigned char *)s, n);
}

/* Open as the module does; what opens seals again and opens the same. */
static void open_cookie(apr_pool_t *p, wos_format f, const char *cookie)
{
    const apr_array_header_t *pws = f == WOS_FORMAT_RUBY ? ruby_pws : fernet_pws;
    const char *err = NULL, *again;
    wos_session *s = NULL, *t = NULL;
    wos_rv rv = wos_format_open(p, f, cookie, pws, &s, &err);

    FUZZ_ASSERT(rv == WOS_OK || rv == WOS_EINVAL || rv == WOS_ETOOBIG || rv == WOS_EMAC,
                "open result code");
    FUZZ_ASSERT((rv == WOS_OK) == (s != NULL) && (rv == WOS_OK || err), "open output");
    if (rv != WOS_OK)
        return;
    FUZZ_ASSERT(*s->access_token && *s->refresh_token && *s->user_id, "session fields");
    rv = wos_format_seal(p, f, APR_ARRAY_IDX(pws, 0, const char *), s, 0, &again);
    FUZZ_ASSERT(rv == WOS_OK || rv == WOS_ETOOBIG, "an opened session seals again");
    if (rv != WOS_OK)
        return;
    FUZZ_ASSERT(wos_format_open(p, f, again, pws, &t, &err) == WOS_OK
                && !strcmp(t->access_token, s->access_token)
                && !strcmp(t->refresh_token, s->refresh_token)
                && !strcmp(t->user_id, s->user_id), "seal round trip");
}

static void crafted(apr_pool_t *p, wos_format f, const char *plain, size_t n, int rack)
{
    const char *cookie, *err = NULL;
    char *out = NULL;
    apr_size_t outlen = 0;
    int idx = -1;
    wos_rv rv;

    if (n > WOS_SEAL_MAX_INPUT / 4)
        return;             /* far past what a cookie can hold once encoded */
    cookie = f == WOS_FORMAT_RUBY ? seal_ruby(p, plain, n, rack) : seal_fernet(p, plain, n);
    rv = f == WOS_FORMAT_RUBY
        ? wos_ruby_unseal(p, cookie, strlen(cookie), ruby_pws, &out, &outlen, &idx, &err)
        : wos_fernet_unseal(p, cookie, strlen(cookie), fernet_pws, &out, &outlen, &idx, &err);
    if (utf8_text(plain, n))
        FUZZ_ASSERT(rv == WOS_OK && idx == 0 && outlen == n && !memcmp(out, plain, n),
                    "a crafted seal unseals to its plaintext");
    else
        FUZZ_ASSERT(rv == WOS_EINVAL && !out && idx == -1, "NUL or bad UTF-8 refused");
    open_cookie(p, f, cookie);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    char *rest;

    if (size < 1 || !strchr("rpRP", data[0]))
        return 0;
    p = fuzz_pool_begin();
    rest = fuzz_cstr(data + 1, size - 1);
    if (data[0] == 'r' || data[0] == 'p') {
        if (!memchr(rest, '\0', size - 1))
            open_cookie(p, data[0] == 'r' ? WOS_FORMAT_RUBY : WOS_FORMAT_PYTHON, rest);
    }
    else
        crafted(p, data[0] == 'R' ? WOS_FORMAT_RUBY : WOS_FORMAT_PYTHON, rest, size - 1,
                size % 2);
    free(rest);
    fuzz_pool_end(p);
    return 0;
}
