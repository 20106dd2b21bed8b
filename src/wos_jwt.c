/*
 * wos_jwt.c: RS256 access token verification and claim extraction.
 *
 * Order of work: size cap, split, header policy (alg pinned to RS256, no
 * key-carrying or critical headers), key by exact kid, signature, and only
 * then the payload is parsed and its claims believed. Error strings name the
 * rule that failed, never a byte of the token.
 */
#include <math.h>
#include <string.h>
#include <apr_strings.h>

#include "wos_b64.h"
#include "wos_json.h"
#include "wos_jwt.h"

/** Largest NumericDate accepted: 9999-12-31T23:59:59Z. */
#define JWT_MAX_DATE 253402300799LL
#define JWT_DEFAULT_SKEW 60

/* The three segments of a compact JWS, pointing into the token. */
typedef struct {
    const char *seg[3];
    apr_size_t len[3];
} jwt_parts;

/* Headers that would let the token choose its own key or add semantics. */
static const char *const forbidden_headers[] = { "crit", "jku", "x5u", "jwk", "x5c", NULL };

static wos_rv fail(const char **err, wos_rv rv, const char *why)
{
    *err = why;
    return rv;
}

static wos_rv split(const char *t, apr_size_t len, jwt_parts *jp)
{
    const char *end = t + len, *start = t;
    int i;

    for (i = 0; i < 3; i++) {
        const char *dot = memchr(start, '.', (apr_size_t)(end - start));
        if ((i < 2) != (dot != NULL))
            return WOS_EINVAL;
        jp->seg[i] = start;
        jp->len[i] = (apr_size_t)((dot ? dot : end) - start);
        if (jp->len[i] == 0)
            return WOS_EINVAL;
        start = dot ? dot + 1 : end;
    }
    return WOS_OK;
}

/* Strict base64url, then strict JSON (an object); *text (if asked) the JSON. */
static wos_rv decode_json_text(apr_pool_t *p, const char *seg, apr_size_t len, json_t **out,
                               const char **text)
{
    unsigned char *raw;
    apr_size_t rawlen;
    const char *jerr;

    if (wos_b64url_decode(p, seg, len, &raw, &rawlen) != WOS_OK)
        return WOS_EINVAL;
    if (text)
        *text = apr_pstrmemdup(p, (const char *)raw, rawlen);
    return wos_json_parse(p, (const char *)raw, rawlen, out, &jerr);
}

static wos_rv decode_json(apr_pool_t *p, const char *seg, apr_size_t len, json_t **out)
{
    return decode_json_text(p, seg, len, out, NULL);
}

/* Size cap and split; shared by verify and peek. */
static wos_rv open_token(const char *token, jwt_parts *jp, const char **err)
{
    apr_size_t len;

    if (!token)
        return fail(err, WOS_EINVAL, "no token");
    len = strnlen(token, WOS_JWT_MAX_SIZE + 1);
    if (len > WOS_JWT_MAX_SIZE)
        return fail(err, WOS_ETOOBIG, "token over the size limit");
    if (split(token, len, jp) != WOS_OK)
        return fail(err, WOS_EINVAL, "token is not three non-empty segments");
    return WOS_OK;
}

static wos_rv check_header(apr_pool_t *p, const json_t *hdr, const char **kid,
                           const char **err)
{
    const char *alg;
    int i;

    if (wos_json_get_string(p, hdr, "alg", 0, &alg) != WOS_OK || strcmp(alg, "RS256") != 0)
        return fail(err, WOS_EDENIED, "token alg is not RS256");
    for (i = 0; forbidden_headers[i]; i++) {
        if (json_object_get(hdr, forbidden_headers[i]))
            return fail(err, WOS_EDENIED,
                        apr_pstrcat(p, "token header carries \"", forbidden_headers[i],
                                    "\"", NULL));
    }
    if (wos_json_get_string(p, hdr, "kid", 0, kid) != WOS_OK || !**kid)
        return fail(err, WOS_EINVAL, "token kid is missing or not a string");
    return WOS_OK;
}

/* RSASSA-PKCS1-v1_5 with SHA-256 over "<header>.<payload>". */
static wos_rv check_signature(apr_pool_t *p, const jwt_parts *jp, const wos_jwk *key,
                              const char **err)
{
    apr_size_t siglen, inlen = jp->len[0] + 1 + jp->len[1];
    unsigned char *sig;
    wos_rv rv;

    if (wos_b64url_decode(p, jp->seg[2], jp->len[2], &sig, &siglen) != WOS_OK)
        return fail(err, WOS_EINVAL, "token signature is not valid base64url");
    /* The key's type and the signature's length are wos_rs256's to check. */
    rv = wos_rs256_verify(key->rs256, jp->seg[0], inlen, sig, siglen);
    if (rv == WOS_ECRYPTO)
        *err = "cannot set up RS256 verification";
    else if (rv == WOS_EMAC)
        *err = "token signature does not verify";
    return rv;
}

/* A NumericDate: finite, floored, in [0, JWT_MAX_DATE]. Absent/null gives 0. */
static wos_rv get_date(const json_t *obj, const char *key, int required, apr_int64_t *out)
{
    const json_t *v = json_object_get(obj, key);
    double d;

    *out = 0;
    if (!v || json_is_null(v))
        return required ? WOS_EINVAL : WOS_OK;
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0 || i > JWT_MAX_DATE)
            return WOS_EINVAL;
        *out = (apr_int64_t)i;
        return WOS_OK;
    }
    if (!json_is_real(v))
        return WOS_EINVAL;
    d = json_real_value(v);
    if (!isfinite(d) || d < 0 || floor(d) > (double)JWT_MAX_DATE)
        return WOS_EINVAL;
    *out = (apr_int64_t)floor(d);
    return WOS_OK;
}

/* An optional string claim; JSON null counts as absent. */
static wos_rv get_opt_string(apr_pool_t *p, const json_t *obj, const char *key,
                             const char **out)
{
    wos_rv rv = wos_json_get_string(p, obj, key, 1, out);

    return rv == WOS_ENOKEY ? WOS_OK : rv;
}

/* An optional array of strings; absent or null gives an empty array. */
static wos_rv get_list(apr_pool_t *p, const json_t *obj, const char *key,
                       apr_array_header_t **out)
{
    wos_rv rv = WOS_ENOKEY;

    if (!json_is_null(json_object_get(obj, key)))
        rv = wos_json_get_string_array(p, obj, key, out);
    if (rv == WOS_ENOKEY) {
        *out = apr_array_make(p, 1, sizeof(const char *));
        return WOS_OK;
    }
    return rv;
}

static wos_rv get_act(apr_pool_t *p, const json_t *pay, const char **act_sub)
{
    const json_t *act = json_object_get(pay, "act");

    *act_sub = NULL;
    if (!act || json_is_null(act))
        return WOS_OK;
    if (!json_is_object(act))
        return WOS_EINVAL;
    return get_opt_string(p, act, "sub", act_sub);
}

static wos_rv read_claims(apr_pool_t *p, const json_t *pay, wos_claims *c, const char **err)
{
    if (wos_json_get_string(p, pay, "sub", 0, &c->sub) != WOS_OK || !*c->sub)
        return fail(err, WOS_EINVAL, "token sub is missing or not a string");
    if (get_opt_string(p, pay, "sid", &c->sid) || get_opt_string(p, pay, "org_id", &c->org_id)
        || get_opt_string(p, pay, "role", &c->role) || get_opt_string(p, pay, "iss", &c->iss)
        || get_opt_string(p, pay, "jti", &c->jti) || get_act(p, pay, &c->act_sub))
        return fail(err, WOS_EINVAL, "a token string claim has the wrong type");
    if (get_list(p, pay, "roles", &c->roles)
        || get_list(p, pay, "permissions", &c->permissions)
        || get_list(p, pay, "entitlements", &c->entitlements)
        || get_list(p, pay, "feature_flags", &c->feature_flags))
        return fail(err, WOS_EINVAL, "a token list claim is not an array of strings");
    if (get_date(pay, "exp", 1, &c->exp))
        return fail(err, WOS_EINVAL, "token exp is missing or not a valid NumericDate");
    if (get_date(pay, "nbf", 0, &c->nbf) || get_date(pay, "iat", 0, &c->iat))
        return fail(err, WOS_EINVAL, "token nbf or iat is not a valid NumericDate");
    return WOS_OK;
}

/* Issuer, not-before and issued-at; expiry is checked last, by the caller. */
static wos_rv check_policy(const wos_claims *c, const wos_jwt_opts *o, int skew,
                           apr_int64_t now, const char **err)
{
    if (o->issuers && o->issuers->nelts > 0
        && (!c->iss || !wos_array_contains(o->issuers, c->iss)))
        return fail(err, WOS_EDENIED, "token issuer is not an accepted issuer");
    if (c->nbf > now + skew)
        return fail(err, WOS_ENOTYET, "token nbf is in the future");
    if (c->iat > now + skew)
        return fail(err, WOS_ENOTYET, "token iat is in the future");
    return WOS_OK;
}

/* Everything up to a verified signature; *jp gets the segments. */
static wos_rv verify_jws(apr_pool_t *p, const char *token, const wos_jwks *keys,
                         jwt_parts *jp, const char **err)
{
    const char *kid;
    const wos_jwk *key;
    json_t *hdr;
    wos_rv rv;

    if ((rv = open_token(token, jp, err)) != WOS_OK)
        return rv;
    if (decode_json(p, jp->seg[0], jp->len[0], &hdr) != WOS_OK)
        return fail(err, WOS_EINVAL, "token header is not base64url JSON object");
    if ((rv = check_header(p, hdr, &kid, err)) != WOS_OK)
        return rv;
    if (!(key = wos_jwks_find(keys, kid)))
        return fail(err, WOS_ENOKEY, "no key with the token's kid");
    return check_signature(p, jp, key, err);
}

wos_rv wos_jwt_verify(apr_pool_t *p, const char *token, const wos_jwks *keys,
                      const wos_jwt_opts *opts, apr_int64_t now,
                      wos_claims **out, const char **err)
{
    static const wos_jwt_opts defaults = { JWT_DEFAULT_SKEW, NULL, 0 };
    const wos_jwt_opts *o = opts ? opts : &defaults;
    int skew = o->skew_sec > 0 ? o->skew_sec : 0;
    const char *dummy;
    jwt_parts jp;
    json_t *pay;
    wos_claims *c;
    wos_rv rv;

    if (!err)
        err = &dummy;
    *out = NULL;
    if ((rv = verify_jws(p, token, keys, &jp, err)) != WOS_OK)
        return rv;
    c = apr_pcalloc(p, sizeof(*c));
    if (decode_json_text(p, jp.seg[1], jp.len[1], &pay, &c->payload) != WOS_OK)
        return fail(err, WOS_EINVAL, "token payload is not a base64url JSON object");
    if ((rv = read_claims(p, pay, c, err)) != WOS_OK
        || (rv = check_policy(c, o, skew, now, err)) != WOS_OK)
        return rv;
    *out = c;
    if (now >= c->exp + skew && !o->ignore_expiry)
        return fail(err, WOS_EEXPIRED, "token has expired");
    return WOS_OK;
}

const char *wos_jwt_peek_kid(apr_pool_t *p, const char *token)
{
    const char *err, *kid;
    jwt_parts jp;
    json_t *hdr;

    if (open_token(token, &jp, &err) != WOS_OK
        || decode_json(p, jp.seg[0], jp.len[0], &hdr) != WOS_OK
        || wos_json_get_string(p, hdr, "kid", 0, &kid) != WOS_OK || !*kid)
        return NULL;
    return kid;
}
