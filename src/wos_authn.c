/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_authn.c: the session check behind AuthType WorkOS. Order matters:
 * the seal's MAC before anything is parsed, the token's signature before any
 * claim is believed, and a refresh only for a cookie we sealed ourselves.
 * A cookie we sealed is never treated as an attack: whatever is wrong with
 * its token, WorkOS (a refresh) decides whether the session goes on.
 */
#include <string.h>
#include <apr_strings.h>

#include "wos_authn.h"
#include "wos_idpack.h"
#include "wos_seal.h"
#include "wos_tokenage.h"

/* Retry-After while WorkOS refuses the module's own credentials (s). */
#define WOS_AUTHN_REFUSED_RETRY_AFTER 30

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

/* The organization a refresh stays in: the token's org_id, read without
 * verification when it did not verify (the seal is ours), as the SDKs do. */
static const char *refresh_org(apr_pool_t *p, const wos_authn_in *in, const wos_session *s,
                               const wos_claims *claims)
{
    wos_claims *unverified;

    if (in->switch_org)
        return in->switch_org;
    if (claims)
        return claims->org_id;
    if (wos_jwt_decode_unverified(p, s->access_token, &unverified) == WOS_OK)
        return unverified->org_id;
    return s->organization_id;
}

/* The current token's standing while it is refreshed: expired (0), valid (1),
 * or valid but too old for WorkOSTokenMaxAge: served through an outage, not
 * past WorkOS's refusal of the session. */
#define WOS_VALID_UNTIL_REFUSED 2

/* WorkOS refused the refresh. Only its verdict on the session ends it. */
static void refused(apr_pool_t *p, const wos_authn_in *in, wos_authn_out *out,
                    const wos_auth_result *res, int still_valid)
{
    wos_refusal kind = wos_api_refusal(res->error);

    out->error = res->error ? res->error : "refresh_failed";
    if (kind == WOS_REFUSAL_CLIENT) {
        out->outcome = still_valid ? WOS_AUTHN_OK : WOS_AUTHN_RETRY;
        out->refresh_failed = WOS_REFRESH_FAILED_REFUSED;
        out->retry_after = WOS_AUTHN_REFUSED_RETRY_AFTER;
        out->report_due = wos_refresh_report_due(&in->refresh, p, "refused",
                                                 WOS_REFRESH_REPORT_INTERVAL);
        out->reason = apr_psprintf(p, "WorkOS refused the module's refresh call (HTTP %ld, %s): "
                                   "the session is kept", res->http_status, out->error);
        return;
    }
    out->refresh_failed = strcmp(out->error, "invalid_grant") == 0
                          ? WOS_REFRESH_FAILED_GRANT : WOS_REFRESH_FAILED_REJECTED;
    if (in->switch_org && (kind == WOS_REFUSAL_INTERACTION || res->authkit_redirect_url)) {
        out->outcome = WOS_AUTHN_ENDED;
        out->interaction = 1;
        out->redirect_url = res->authkit_redirect_url;
        out->reason = apr_psprintf(p, "organization switch needs the user at AuthKit: %s",
                                   out->error);
        return;
    }
    /* A concurrent refresh (another app sharing the cookie) may have spent the
     * token: while the current one is valid, it is served. Not when the refresh
     * was WorkOSTokenMaxAge's: asking WorkOS whether the session still stands
     * is its point, and WorkOS said no. */
    if (still_valid == WOS_VALID_UNTIL_REFUSED)
        still_valid = 0;
    out->outcome = still_valid ? WOS_AUTHN_OK : WOS_AUTHN_ENDED;
    out->reason = apr_psprintf(p, "refresh rejected by WorkOS: %s%s", out->error,
                               still_valid ? " (the still-valid token is served)" : "");
}

/* Trade the refresh token for a new session (shared with concurrent requests).
 * @p claims: the current token's, when it verified; @p why: why it is refreshed. */
static void refresh(apr_pool_t *p, const wos_authn_in *in, wos_authn_out *out,
                    const wos_claims *claims, int still_valid, const char *why)
{
    wos_auth_result *res;
    wos_claims *fresh;
    const char *err = NULL;
    int fetched = 0;
    wos_refresh_ctx rc = in->refresh;
    wos_rv rv;

    /* The gate (if any) counts calls per session. */
    rc.gate_subject = claims && claims->sid ? claims->sid : out->session->user_id;
    rv = wos_refresh(p, &rc, out->session->refresh_token,
                     refresh_org(p, in, out->session, claims), &res,
                     &out->upstream_called, &err);
    if (rv == WOS_EUPSTREAM) {
        refused(p, in, out, res, still_valid);
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
        out->reason = apr_psprintf(p, "%s; refresh unavailable: %s", why,
                                   err ? err : "unknown");
        return;
    }
    out->refreshed = 1;
    out->session = res->session;
    seal_session(p, in, out);     /* always with the first password: rotation */
    rv = verify(p, in, out->session, 0, &fresh, &fetched, &err);
    out->keys_fetched |= fetched;
    if (rv != WOS_OK) {
        /* Keep the new cookie (the old refresh token is spent) but do not serve. */
        out->outcome = WOS_AUTHN_RETRY;
        out->claims = NULL;
        out->retry_after = 5;
        out->reason = apr_psprintf(p, "%s; refreshed, but the new token did not verify: %s",
                                   why, err ? err : "?");
        return;
    }
    out->claims = fresh;
    out->outcome = WOS_AUTHN_OK;
    out->reason = apr_psprintf(p, "%s; session refreshed", why);
}

/* The cache key of @p cookie under these settings; 0: no key, no cache. */
static int session_key(const wos_authn_in *in, const char *cookie,
                       unsigned char key[WOS_VCACHE_KEY_LEN])
{
    return (in->vcache || in->scache) && cookie
           && wos_vcache_key_memo(in->memo, in->memo_pool, cookie, &in->settings,
                                  key) == WOS_OK;
}

/* Until when a verification holds: the token's expiry, less the refresh
 * window, and no longer than WorkOSTokenMaxAge lets the token be used. */
static void remember(apr_pool_t *p, const wos_authn_in *in, const char *cookie,
                     const unsigned char *key, const wos_authn_out *out)
{
    apr_int64_t until, aged;

    if (out->outcome != WOS_AUTHN_OK || !out->claims)
        return;
    until = out->claims->exp - in->refresh_before;
    aged = wos_tokenage_until(out->claims, in->token_max_age);
    if (aged < until)
        until = aged;
    if (in->vcache)
        wos_vcache_put_cookie(in->vcache, key, cookie, &in->settings, until, out->session,
                              out->claims);
    if (in->scache)
        wos_scache_put_session(in->scache, p, key, until, out->session, out->claims);
}

/* The shared cache keeps no tokens: the cookie it verified holds them. */
static int add_tokens(apr_pool_t *p, const wos_authn_in *in, wos_session *s)
{
    wos_session *full;
    const char *err;

    if (open_cookie(p, in, &full, &err) != WOS_OK)
        return 0;
    s->access_token = full->access_token;
    s->refresh_token = full->refresh_token;
    return 1;
}

/* The shared cache's entry, copied into this process's cache while it has room. */
static int recall_shared(apr_pool_t *p, const wos_authn_in *in, const unsigned char *key,
                         wos_authn_out *out)
{
    wos_session *s;
    wos_claims *c;
    apr_int64_t until;

    if (!in->scache
        || wos_scache_get_session(in->scache, p, key, wos_now_sec(), &s, &c,
                                  &until) != WOS_OK
        || (in->need_token && !add_tokens(p, in, s)))
        return 0;
    if (in->vcache)
        wos_vcache_offer(in->vcache, key, in->cookie, &in->settings, until, s, c);
    out->session = s;
    out->claims = c;
    out->shared = 1;
    return 1;
}

/* A local entry copied from the shared cache has no token to pass on. */
static int recall_local(apr_pool_t *p, const wos_authn_in *in, const unsigned char *key,
                        wos_authn_out *out)
{
    wos_session *s;
    wos_claims *c;
    const apr_array_header_t *identity;

    if (!in->vcache
        || wos_vcache_get(in->vcache, p, key, wos_now_sec(), &s, &c, &identity) != WOS_OK
        || (in->need_token && !s->access_token))
        return 0;
    out->session = s;
    out->claims = c;
    out->identity = identity;
    return 1;
}

/* This process's entry for the exact cookie and settings: no hash computed. */
static int recall_exact(apr_pool_t *p, const wos_authn_in *in, wos_authn_out *out)
{
    wos_session *s;
    wos_claims *c;
    const apr_array_header_t *identity;

    if (!in->vcache
        || wos_vcache_get_cookie(in->vcache, p, in->cookie,
                                 in->cookie_len ? in->cookie_len : strlen(in->cookie),
                                 &in->settings, wos_now_sec(), &s, &c, &identity) != WOS_OK
        || (in->need_token && !s->access_token))
        return 0;
    out->session = s;
    out->claims = c;
    out->identity = identity;
    out->outcome = WOS_AUTHN_OK;
    out->cached = 1;
    out->presented_iat = c->iat;
    out->reason = "valid session (cached)";
    return 1;
}

static int recall(apr_pool_t *p, const wos_authn_in *in, const unsigned char *key,
                  wos_authn_out *out)
{
    if (!recall_local(p, in, key, out) && !recall_shared(p, in, key, out))
        return 0;
    out->outcome = WOS_AUTHN_OK;
    out->cached = 1;
    out->presented_iat = out->claims->iat;
    out->reason = out->shared ? "valid session (shared cache)" : "valid session (cached)";
    return 1;
}

static void check(apr_pool_t *p, const wos_authn_in *in, wos_authn_out *out);

int wos_authn_recall(apr_pool_t *p, const wos_authn_in *in, wos_authn_out *out)
{
    memset(out, 0, sizeof(*out));
    /* An organization switch or a forced refresh always goes to WorkOS, and its
     * result is not kept. */
    return in->cookie && *in->cookie && !in->switch_org && !in->force_refresh
           && recall_exact(p, in, out);
}

void wos_authn_check(apr_pool_t *p, const wos_authn_in *in, wos_authn_out *out)
{
    if (!wos_authn_recall(p, in, out))
        wos_authn_after_recall(p, in, out);
}

void wos_authn_after_recall(apr_pool_t *p, const wos_authn_in *in, wos_authn_out *out)
{
    unsigned char key[WOS_VCACHE_KEY_LEN];
    int keyed;

    memset(out, 0, sizeof(*out));
    if (!in->cookie || !*in->cookie) {
        out->outcome = WOS_AUTHN_NONE;
        out->reason = "no session cookie";
        return;
    }
    keyed = !in->switch_org && !in->force_refresh && session_key(in, in->cookie, key);
    if (keyed && recall(p, in, key, out))
        return;
    check(p, in, out);
    /* A refreshed session is remembered under the cookie it is now sent as. */
    if (keyed && out->refreshed)
        keyed = session_key(in, out->new_cookie, key);
    if (keyed)
        remember(p, in, out->refreshed ? out->new_cookie : in->cookie, key, out);
}

static void check(apr_pool_t *p, const wos_authn_in *in, wos_authn_out *out)
{
    const char *err = NULL;
    wos_claims *claims = NULL;
    int fetched = 0, near;
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
    if (rv != WOS_OK) {
        /* The seal is ours, so its refresh token is too: WorkOS decides. */
        refresh(p, in, out, rv == WOS_EEXPIRED ? claims : NULL, 0,
                rv == WOS_EEXPIRED ? "access token expired"
                : apr_psprintf(p, "access token refused: %s (%s)", wos_strerror(rv),
                               err ? err : "-"));
        return;
    }
    out->claims = claims;
    out->presented_iat = claims->iat;
    if (in->switch_org || in->force_refresh) {
        refresh(p, in, out, claims, 0, in->switch_org ? "organization switch"
                                                      : "refresh asked for");
        return;
    }
    near = claims->exp - wos_now_sec() <= in->refresh_before;
    if (near || wos_tokenage_due(claims, in->token_max_age, wos_now_sec())) {
        refresh(p, in, out, claims, near ? 1 : WOS_VALID_UNTIL_REFUSED,
                near ? "access token about to expire" : "access token older than "
                                                        "WorkOSTokenMaxAge");
        if (out->outcome == WOS_AUTHN_OK && !out->refreshed)
            out->claims = claims;            /* the failed proactive refresh's fallback */
        return;
    }
    out->outcome = WOS_AUTHN_OK;
    out->reason = "valid session";
}

wos_rv wos_authn_peek(apr_pool_t *p, const wos_authn_in *in, wos_session **session,
                      wos_claims **claims, const char **err)
{
    wos_rv rv;

    *claims = NULL;
    if (!in->cookie)
        return WOS_ENOKEY;
    rv = open_cookie(p, in, session, err);
    if (rv != WOS_OK)
        return rv;
    if (wos_jwt_decode_unverified(p, (*session)->access_token, claims) != WOS_OK)
        *claims = NULL;
    return WOS_OK;
}
