/*
 * wos_authn.c: the session check behind AuthType WorkOS. Order matters:
 * the seal's MAC before anything is parsed, the token's signature before any
 * claim is believed, and a refresh only for a cookie we sealed ourselves.
 */
#include <string.h>
#include <apr_strings.h>

#include "wos_authn.h"
#include "wos_tokenage.h"

static wos_rv open_cookie(apr_pool_t *p, const wos_authn_in *in, wos_session **s,
                          const char **err)
{
    return wos_format_open(p, in->format, in->cookie, in->passwords, s, err);
}

/* Verify @p token; the keystore refetches once (throttled) for an unknown kid. */
static wos_rv verify(apr_pool_t *p, const wos_authn_in *in, const wos_session *s,
                     int ignore_expiry, wos_claims **claims, int *fetched, const char **err)
{
    const char *kid = wos_jwt_peek_kid(p, s->access_token);
    const wos_jwks *set;
    wos_jwt_opts opts = in->jwt;
    wos_rv rv;

    rv = wos_keystore_get(in->keystore, p, &in->keys, kid, &set, fetched, err);
    if (rv != WOS_OK)
        return WOS_EUNAVAIL;
    if (wos_jwks_ambiguous(set, kid)) {
        *err = "the token's kid is listed more than once in the JWKS";
        return WOS_EUNAVAIL;
    }
    opts.ignore_expiry = ignore_expiry;
    rv = wos_jwt_verify(p, s->access_token, set, &opts, wos_now_sec(), claims, err);
    if ((rv == WOS_OK || rv == WOS_EEXPIRED) && strcmp((*claims)->sub, s->user_id) != 0) {
        *err = "the token's sub is not the session's user";
        return WOS_EINVAL;
    }
    return rv;
}

static void seal_session(apr_pool_t *p, const wos_authn_in *in, wos_authn_out *out)
{
    const char *sealed;

    if (wos_format_seal(p, in->format, APR_ARRAY_IDX(in->passwords, 0, const char *),
                        out->session, in->cookie_ttl, &sealed) == WOS_OK)
        out->new_cookie = sealed;
}

/* Trade the refresh token for a new session (shared with concurrent requests). */
static void refresh(apr_pool_t *p, const wos_authn_in *in, wos_authn_out *out,
                    int still_valid)
{
    wos_auth_result *res;
    wos_claims *claims;
    const char *err = NULL;
    int fetched = 0;
    wos_refresh_ctx rc = in->refresh;
    wos_rv rv;

    /* The gate (if any) counts calls per session. */
    rc.gate_subject = out->claims && out->claims->sid ? out->claims->sid
                                                      : out->session->user_id;
    rv = wos_refresh(p, &rc, out->session->refresh_token,
                     in->switch_org, &res, &out->upstream_called, &err);
    if (rv == WOS_EUPSTREAM) {
        out->outcome = WOS_AUTHN_ENDED;
        out->error = res->error ? res->error : "refresh_failed";
        out->refresh_failed = strcmp(out->error, "invalid_grant") == 0
                              ? WOS_REFRESH_FAILED_GRANT : WOS_REFRESH_FAILED_REJECTED;
        out->reason = apr_psprintf(p, "refresh rejected by WorkOS: %s", out->error);
        return;
    }
    if (rv == WOS_ELIMIT) {
        out->outcome = WOS_AUTHN_RETRY;
        out->limited = 1;
        out->retry_after = res->retry_after_sec > 0 ? res->retry_after_sec : 60;
        out->reason = "the session's limit of calls to WorkOS is reached";
        return;
    }
    if (rv != WOS_OK) {
        /* Retryable: a token that still works keeps being served. */
        out->outcome = still_valid ? WOS_AUTHN_OK : WOS_AUTHN_RETRY;
        out->refresh_failed = WOS_REFRESH_FAILED_UNAVAILABLE;
        out->retry_after = res->retry_after_sec > 0 ? res->retry_after_sec : 5;
        out->reason = apr_psprintf(p, "refresh unavailable: %s", err ? err : "unknown");
        return;
    }
    out->refreshed = 1;
    out->session = res->session;
    seal_session(p, in, out);     /* always with the first password: rotation */
    rv = verify(p, in, out->session, 0, &claims, &fetched, &err);
    out->keys_fetched |= fetched;
    if (rv != WOS_OK) {
        /* Keep the new cookie (the old refresh token is spent) but do not serve. */
        out->outcome = WOS_AUTHN_RETRY;
        out->retry_after = 5;
        out->reason = apr_psprintf(p, "refreshed token did not verify: %s", err ? err : "?");
        return;
    }
    out->claims = claims;
    out->outcome = WOS_AUTHN_OK;
    out->reason = "session refreshed";
}

/* The cache key of @p cookie under these settings; 0: no key, no cache. */
static int session_key(const wos_authn_in *in, const char *cookie,
                       unsigned char key[WOS_VCACHE_KEY_LEN])
{
    return in->vcache && cookie
           && wos_vcache_key_memo(in->memo, in->memo_pool, cookie, &in->settings,
                                  key) == WOS_OK;
}

/* Until when a verification holds: the token's expiry, less the refresh
 * window, and no longer than WorkOSTokenMaxAge lets the token be used. */
static void remember(const wos_authn_in *in, const unsigned char *key,
                     const wos_authn_out *out)
{
    apr_int64_t until, aged;

    if (out->outcome != WOS_AUTHN_OK || !out->claims)
        return;
    until = out->claims->exp - in->refresh_before;
    aged = wos_tokenage_until(out->claims, in->token_max_age);
    wos_vcache_put(in->vcache, key, aged < until ? aged : until, out->session, out->claims);
}

static int recall(apr_pool_t *p, const wos_authn_in *in, const unsigned char *key,
                  wos_authn_out *out)
{
    if (wos_vcache_get(in->vcache, p, key, wos_now_sec(), &out->session, &out->claims,
                       &out->identity) != WOS_OK)
        return 0;
    out->outcome = WOS_AUTHN_OK;
    out->cached = 1;
    out->presented_iat = out->claims->iat;
    out->reason = "valid session (cached)";
    return 1;
}

static void check(apr_pool_t *p, const wos_authn_in *in, wos_authn_out *out);

void wos_authn_check(apr_pool_t *p, const wos_authn_in *in, wos_authn_out *out)
{
    unsigned char key[WOS_VCACHE_KEY_LEN];
    int keyed;

    memset(out, 0, sizeof(*out));
    if (!in->cookie || !*in->cookie) {
        out->outcome = WOS_AUTHN_NONE;
        out->reason = "no session cookie";
        return;
    }
    /* An organization switch or a forced refresh always goes to WorkOS. */
    keyed = !in->switch_org && !in->force_refresh && session_key(in, in->cookie, key);
    if (keyed && recall(p, in, key, out))
        return;
    check(p, in, out);
    /* A refreshed session is remembered under the cookie it is now sent as. */
    if (keyed && out->refreshed)
        keyed = session_key(in, out->new_cookie, key);
    if (keyed)
        remember(in, key, out);
}

static void check(apr_pool_t *p, const wos_authn_in *in, wos_authn_out *out)
{
    const char *err = NULL;
    wos_claims *claims = NULL;
    int fetched = 0;
    wos_rv rv;

    rv = open_cookie(p, in, &out->session, &err);
    if (rv == WOS_ECRYPTO) {
        /* A password the format cannot use: our configuration, not the session. */
        out->outcome = WOS_AUTHN_RETRY;
        out->retry_after = 5;
        out->reason = apr_psprintf(p, "session cookie not opened: %s", err ? err : "-");
        return;
    }
    if (rv != WOS_OK) {
        out->outcome = WOS_AUTHN_INVALID;
        out->reason = apr_psprintf(p, "session cookie rejected: %s (%s)", wos_strerror(rv),
                                   err ? err : "-");
        return;
    }
    rv = verify(p, in, out->session, 0, &claims, &fetched, &err);
    out->keys_fetched = fetched;
    if (rv == WOS_EUNAVAIL) {
        out->outcome = WOS_AUTHN_NOKEYS;
        out->reason = apr_psprintf(p, "no usable signing key: %s", err ? err : "-");
        return;
    }
    if (rv != WOS_OK && rv != WOS_EEXPIRED) {
        out->outcome = WOS_AUTHN_INVALID;
        out->reason = apr_psprintf(p, "access token rejected: %s (%s)", wos_strerror(rv),
                                   err ? err : "-");
        return;
    }
    out->claims = claims;
    out->presented_iat = claims->iat;
    if (in->switch_org || in->force_refresh) {
        refresh(p, in, out, 0);
        return;
    }
    if (rv == WOS_EEXPIRED) {
        refresh(p, in, out, 0);
        return;
    }
    if (claims->exp - wos_now_sec() <= in->refresh_before
        || wos_tokenage_due(claims, in->token_max_age, wos_now_sec())) {
        refresh(p, in, out, 1);
        if (out->outcome == WOS_AUTHN_OK && !out->claims)
            out->claims = claims;
        return;
    }
    out->outcome = WOS_AUTHN_OK;
    out->reason = "valid session";
}

wos_rv wos_authn_peek(apr_pool_t *p, const wos_authn_in *in, wos_session **session,
                      wos_claims **claims, const char **err)
{
    int fetched;
    wos_rv rv;

    *claims = NULL;
    if (!in->cookie)
        return WOS_ENOKEY;
    rv = open_cookie(p, in, session, err);
    if (rv != WOS_OK)
        return rv;
    return verify(p, in, *session, 1, claims, &fetched, err);
}
