/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_jwt.c: wos_jwt_verify and wos_jwt_peek_kid (src/wos_jwt.h) with a
 * fixed JWKS: one 2048-bit RSA key, kid "fuzz-rsa-1" (fuzz/fuzz_key.h).
 *
 * Three kinds of input:
 * - anything not starting with byte 0x01 or 0x02 is a token, verified with
 *   the default options;
 * - 0x01, a flags byte, then JSON: the harness builds and signs the token, so
 *   the fuzzer reaches the claims. "header JSON" 0x00 "payload JSON", or just
 *   the payload under {"alg":"RS256","kid":"fuzz-rsa-1","typ":"JWT"};
 * - 0x02, a flags byte, then the signing input "<header>.<payload>" as
 *   base64url text; the harness appends the signature.
 * flags: bit 0 ignore_expiry, bit 1 an issuer list, bits 2-3 the skew
 * (60, 0, -5, INT_MAX), bit 4 flip a signature bit.
 *
 * Oracle: documented result codes only (never WOS_ECRYPTO with a good key);
 * claims exactly when the result is OK or EEXPIRED, and then consistent
 * with the options (sub non-empty, dates in range, time and issuer rules);
 * in mode 1 with the default header and a good signature the key must be
 * found and the signature verify; peek_kid agrees with verification.
 */
#include <limits.h>
#include <string.h>
#include <apr_strings.h>

#include "fuzz_common.h"
#include "fuzz_key.h"
#include "testkeys.h"
#include "wos_b64.h"
#include "wos_jwks.h"
#include "wos_jwt.h"

#define NOW 1700000000LL
#define MAX_DATE 253402300799LL
#define DEFAULT_HEADER "{\"alg\":\"RS256\",\"kid\":\"" FUZZ_KID "\",\"typ\":\"JWT\"}"

static wos_jwks *jwks;
static apr_array_header_t *issuers;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    apr_pool_t *g = fuzz_global_pool();
    const char *doc = wos_tk_jwks(g, fuzz_key(), FUZZ_KID), *err = NULL;

    if (!doc || wos_jwks_parse(g, doc, strlen(doc), &jwks, &err) != WOS_OK
        || jwks->keys->nelts != 1) {
        fprintf(stderr, "fuzz_jwt: cannot set up the JWKS: %s\n", err ? err : "?");
        abort();
    }
    issuers = apr_array_make(g, 2, sizeof(const char *));
    APR_ARRAY_PUSH(issuers, const char *) = "https://api.workos.com";
    APR_ARRAY_PUSH(issuers, const char *) = "https://auth.example.com/user_management/client_1";
    return 0;
}

/* "<signing input>.<signature>"; flag bit 4 flips one bit of the signature. */
static char *sign(apr_pool_t *p, const char *input, int flags)
{
    char *token = wos_tk_sign_input_rs256(p, fuzz_key(), input), *sig;

    FUZZ_ASSERT(token != NULL, "signing");
    sig = token + strlen(input) + 1;    /* after "<input>." */
    if (flags & 16) {
        char *c = sig + (size_t)flags % strlen(sig);
        *c = *c == 'A' ? 'B' : 'A';
    }
    return token;
}

static void check_claims(const wos_claims *c, const wos_jwt_opts *o, wos_rv rv)
{
    int skew = o->skew_sec > 0 ? o->skew_sec : 0;

    FUZZ_ASSERT(c->sub && *c->sub, "sub present");
    FUZZ_ASSERT(c->roles && c->permissions && c->entitlements && c->feature_flags,
                "lists never NULL");
    FUZZ_ASSERT(c->exp >= 0 && c->exp <= MAX_DATE && c->iat >= 0 && c->iat <= MAX_DATE
                && c->nbf >= 0 && c->nbf <= MAX_DATE, "dates in range");
    FUZZ_ASSERT(c->nbf <= NOW + skew && c->iat <= NOW + skew, "not used before its time");
    if (rv == WOS_OK && !o->ignore_expiry)
        FUZZ_ASSERT(NOW < c->exp + skew, "not used after its expiry");
    if (rv == WOS_EEXPIRED)
        FUZZ_ASSERT(!o->ignore_expiry && NOW >= c->exp + skew, "expired means expired");
    if (o->issuers)
        FUZZ_ASSERT(c->iss && wos_array_contains(o->issuers, c->iss), "issuer accepted");
}

static wos_rv verify(apr_pool_t *p, const char *token, const wos_jwt_opts *o)
{
    wos_claims *c = (wos_claims *)1;
    const char *err = NULL, *kid;
    wos_rv rv = wos_jwt_verify(p, token, jwks, o, NOW, &c, &err);

    FUZZ_ASSERT(rv == WOS_OK || rv == WOS_EINVAL || rv == WOS_ETOOBIG || rv == WOS_EDENIED
                || rv == WOS_ENOKEY || rv == WOS_EMAC || rv == WOS_EEXPIRED
                || rv == WOS_ENOTYET, "verify result code");
    FUZZ_ASSERT((rv == WOS_OK || rv == WOS_EEXPIRED) == (c != NULL), "claims exactly when valid");
    FUZZ_ASSERT(rv == WOS_OK || err != NULL, "a reason on failure");
    if (c)
        check_claims(c, o, rv);
    kid = wos_jwt_peek_kid(p, token);
    if (rv == WOS_OK || rv == WOS_EEXPIRED || rv == WOS_EMAC || rv == WOS_ENOTYET)
        FUZZ_ASSERT(kid && !strcmp(kid, FUZZ_KID), "a verified kid is the one peeked");
    if (rv == WOS_ENOKEY)
        FUZZ_ASSERT(kid && strcmp(kid, FUZZ_KID), "an unknown kid is peeked as unknown");
    return rv;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int skews[] = { 60, 0, -5, INT_MAX };
    apr_pool_t *p = fuzz_pool_begin();
    wos_jwt_opts o = { 60, NULL, 0 };
    int mode = size > 0 ? data[0] : 0, flags = size > 1 ? data[1] : 0;
    char *token;
    wos_rv rv;

    if ((mode == 1 || mode == 2) && size >= 2) {
        const char *body = (const char *)data + 2, *nul = memchr(body, '\0', size - 2);
        const char *hdr = DEFAULT_HEADER, *pay = body;
        apr_size_t hlen = strlen(hdr), plen = size - 2;

        o.ignore_expiry = flags & 1;
        o.issuers = (flags & 2) ? issuers : NULL;
        o.skew_sec = skews[(flags >> 2) & 3];
        if (mode == 2) {
            token = sign(p, apr_pstrmemdup(p, body, size - 2), flags);
        }
        else {
            if (nul) {
                hdr = body;
                hlen = (apr_size_t)(nul - body);
                pay = nul + 1;
                plen = size - 2 - hlen - 1;
            }
            token = sign(p, apr_pstrcat(p,
                            wos_b64url_encode(p, (const unsigned char *)hdr, hlen), ".",
                            wos_b64url_encode(p, (const unsigned char *)pay, plen), NULL),
                         flags);
        }
        rv = verify(p, token, &o);
        if (mode == 1 && !nul && !(flags & 16))
            FUZZ_ASSERT(rv != WOS_EMAC && rv != WOS_ENOKEY && (rv != WOS_EDENIED || o.issuers),
                        "a well-signed token with the default header passes the JWS checks");
    }
    else {
        token = fuzz_cstr(data, size);
        verify(p, token, &o);
        free(token);
    }
    fuzz_pool_end(p);
    return 0;
}
