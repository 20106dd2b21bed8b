/*
 * wos_bearer.c: bearer tokens. The same checks as a session's access token
 * (signature first, claims believed after), plus a required issuer; no
 * refresh: an expired token is the client's to renew.
 */
#include <string.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "wos_bearer.h"
#include "wos_json.h"

/* Keys of verified tokens never meet keys of cookies: a settings field of their own. */
static const char bearer_domain[] = "bearer";

/* RFC 6750's b64token characters (before any trailing '='). */
static const unsigned char b64token[256] = {
    ['-'] = 1, ['.'] = 1, ['_'] = 1, ['~'] = 1, ['+'] = 1, ['/'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};

wos_rv wos_bearer_parse(const char *authorization, const char **token)
{
    const char *t;

    if (!authorization || strncasecmp(authorization, "Bearer", 6) != 0
        || (authorization[6] != ' ' && authorization[6] != '\0'))
        return WOS_ENOKEY;
    for (t = authorization + 6; *t == ' '; t++)
        ;
    if (!*t)
        return WOS_EINVAL;
    *token = t;
    return WOS_OK;
}

/* The token's characters (checked on a cache miss only: a cached token verified). */
static int well_formed(const char *t)
{
    const char *c;

    for (c = t; b64token[(unsigned char)*c]; c++)
        ;
    if (c == t)
        return 0;
    while (*c == '=')
        c++;
    return !*c;
}

/* The token's signature and claims; WOS_EUNAVAIL when no key can be had. */
static wos_rv verify(apr_pool_t *p, const wos_authn_in *in, const char *token,
                     wos_claims **claims, int *fetched, const char **err)
{
    const char *kid = wos_jwt_peek_kid(p, token);
    const wos_jwks *set;

    if (!kid) {
        *err = "token is not a JWT with a kid";
        return WOS_EINVAL;
    }
    if (wos_keystore_get(in->keystore, p, &in->keys, kid, &set, fetched, err) != WOS_OK)
        return WOS_EUNAVAIL;
    if (wos_jwks_ambiguous(set, kid)) {
        *err = "the token's kid is listed more than once in the JWKS";
        return WOS_EUNAVAIL;
    }
    return wos_jwt_verify(p, token, set, &in->jwt, wos_now_sec(), claims, err);
}

/* Identity as for a session: what the claims say, an email only from a claim. */
static wos_session *session_of(apr_pool_t *p, const char *token, const wos_claims *c)
{
    wos_session *s = apr_pcalloc(p, sizeof(*s));
    const char *email = NULL;
    json_t *pay;
    const char *err;

    if (c->payload && wos_json_parse(p, c->payload, strlen(c->payload), &pay, &err) == WOS_OK
        && wos_json_get_string(p, pay, "email", 1, &email) == WOS_OK && *email)
        s->user_email = email;
    s->access_token = token;
    s->user_id = c->sub;
    s->organization_id = c->org_id;
    s->user_email_verified = -1;
    return s;
}

static int cache_key(const wos_authn_in *in, const char *token,
                     unsigned char key[WOS_VCACHE_KEY_LEN])
{
    wos_vcache_settings s = in->settings;

    s.passwords = bearer_domain;
    s.refresh_before = 0;
    return in->vcache && wos_vcache_key_memo(in->memo, in->memo_pool, token, &s, key) == WOS_OK;
}

/* The token cache, behind two calls: a shared cache can take its place here. */
static int recall(apr_pool_t *p, const wos_authn_in *in, const unsigned char *key,
                  wos_authn_out *out)
{
    if (wos_vcache_get(in->vcache, p, key, wos_now_sec(), &out->session, &out->claims,
                       &out->identity) != WOS_OK)
        return 0;
    out->outcome = WOS_AUTHN_OK;
    out->cached = 1;
    out->reason = "valid bearer token (cached)";
    return 1;
}

static void remember(const wos_authn_in *in, const unsigned char *key, const wos_authn_out *out)
{
    /* Until the token's own expiry: never longer than a fresh check would accept. */
    wos_vcache_put(in->vcache, key, out->claims->exp, out->session, out->claims);
}

void wos_bearer_check(apr_pool_t *p, const wos_authn_in *in, const char *token,
                      wos_authn_out *out)
{
    unsigned char key[WOS_VCACHE_KEY_LEN];
    const char *err = NULL;
    int keyed, fetched = 0;
    wos_rv rv;

    memset(out, 0, sizeof(*out));
    out->outcome = WOS_AUTHN_INVALID;
    if (!in->jwt.issuers || in->jwt.issuers->nelts == 0) {
        out->reason = "bearer tokens need WorkOSIssuer";
        return;
    }
    keyed = cache_key(in, token, key);
    if (keyed && recall(p, in, key, out))
        return;
    if (!well_formed(token)) {
        out->error = "invalid_request";
        out->reason = "the bearer token has characters RFC 6750 does not allow";
        return;
    }
    rv = verify(p, in, token, &out->claims, &fetched, &err);
    out->keys_fetched = fetched;
    if (rv == WOS_EUNAVAIL) {
        out->outcome = WOS_AUTHN_NOKEYS;
        out->claims = NULL;
        out->reason = apr_psprintf(p, "no usable signing key: %s", err ? err : "-");
        return;
    }
    if (rv != WOS_OK) {
        out->claims = NULL;
        out->reason = apr_psprintf(p, "bearer token rejected: %s (%s)", wos_strerror(rv),
                                   err ? err : "-");
        return;
    }
    out->session = session_of(p, token, out->claims);
    out->outcome = WOS_AUTHN_OK;
    out->reason = "valid bearer token";
    if (keyed)
        remember(in, key, out);
}
