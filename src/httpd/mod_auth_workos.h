/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_workos.h: the glue's private header: what the files of src/httpd/ share: configuration records,
 * per-request state, and the functions each glue file offers the others.
 * The logic lives in src/ (no httpd types there); these files translate.
 */
#ifndef MOD_AUTH_WORKOS_H
#define MOD_AUTH_WORKOS_H

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_request.h>
#include <ap_socache.h>
#include <apr_global_mutex.h>

#include "wos_api.h"
#include "wos_backend.h"
#include "wos_cache.h"
#include "wos_authn.h"
#include "wos_claims.h"
#include "wos_cookie.h"
#include "wos_format.h"
#include "wos_jwt.h"
#include "wos_keys.h"
#include "wos_pages.h"
#include "wos_scache.h"
#include "wos_session.h"
#include "mod_auth_workos_apis.h"
#include "mod_auth_workos_sessions.h"
#include "wos_activity.h"

#ifndef WOS_MODULE_FILE          /* AP_DECLARE_MODULE declares it there */
APLOG_USE_MODULE(auth_workos);
#endif
extern module AP_MODULE_DECLARE_DATA auth_workos_module;

#define WOS_AUTH_TYPE   "WorkOS"
#define WOS_UNSET       -1
#define WOS_MUTEX_TYPE  "auth-workos-cache"
/** Cache-Control of authenticated answers (as authkit-nextjs sends it). */
#define WOS_CACHE_CONTROL_PRIVATE "private, no-cache, no-store, must-revalidate, max-age=0"
#define WOS_SCACHE_MUTEX_TYPE "auth-workos-sessions"
#define WOS_SCACHE_MAX_BYTES ((apr_uint64_t)64 * 1024 * 1024 * 1024)

typedef enum { WOS_UNAUTH_LOGIN, WOS_UNAUTH_401, WOS_UNAUTH_403, WOS_UNAUTH_PASS } wos_unauth_action;
typedef enum { WOS_USER_EMAIL, WOS_USER_ID } wos_remote_user;
typedef enum { WOS_PREFLIGHT_PASS, WOS_PREFLIGHT_AUTHENTICATE } wos_preflight;
enum { WOS_PASS_ENV = 1, WOS_PASS_HEADERS = 2 };

/** Per-directory (and server-default) settings; unset = NULL or WOS_UNSET. */
typedef struct wos_dir_cfg {
    const char *client_id;
    const char *api_key;
    apr_array_header_t *passwords;      /* const char *: first seals, all unseal */
    const char *api_base_url;
    const char *cookie_name;
    const char *cookie_domain;
    const char *cookie_path;
    const char *cookie_samesite;
    int cookie_secure;
    int cookie_max_age;
    int cookie_chunk_size;
    int unauth_action;
    int remote_user;
    int pass_claims;                    /* WOS_PASS_* bits; 0 = none */
    int pass_token;
    int clock_skew;
    apr_array_header_t *issuers;
    int jwks_ttl;
    int http_timeout;
    const char *ca_file;
    /* sign-in flows */
    const char *redirect_uri;
    const char *login_uri;
    const char *signup_uri;
    const char *logout_uri;
    const char *logout_return_to;
    const char *switch_org_uri;
    int refresh_before;
    const char *connection;
    const char *organization;
    apr_array_header_t *redirect_allow; /* origins allowed for absolute return_to */
    int session_format;                 /* wos_format; WOS_UNSET: node */
    wos_apis_cfg apis;                  /* bearer tokens, session endpoint, claims */
    /* applications behind the module */
    int preflight;                      /* wos_preflight */
    int strip_cookies;                  /* On: the module's cookies never reach the app */
    int header_encoding;                /* wos_hdrenc of X-WorkOS-* values */
    wos_sessions_cfg sessions;          /* token max age, inactivity, sessions endpoint */
} wos_dir_cfg;

/** The status counters (mod_auth_workos_status.c), shared by every child. */
typedef enum {
    WOS_STAT_AUTHENTICATED, WOS_STAT_ANONYMOUS, WOS_STAT_INVALID, WOS_STAT_ENDED,
    WOS_STAT_UNAVAILABLE, WOS_STAT_NOKEYS, WOS_STAT_DENIED, WOS_STAT_CACHE_HITS,
    WOS_STAT_REFRESHED, WOS_STAT_REFRESH_CALLS, WOS_STAT_REFRESH_FAILED_GRANT,
    WOS_STAT_REFRESH_FAILED_REJECTED, WOS_STAT_REFRESH_FAILED_UNAVAILABLE,
    WOS_STAT_REFRESH_FAILED_REFUSED,
    WOS_STAT_JWKS_FETCHES, WOS_STAT_JWKS_FAILURES, WOS_STAT_SIGN_INS,
    WOS_STAT_SIGN_IN_FAILURES, WOS_STAT_SIGN_OUTS, WOS_STAT_ORG_SWITCHES,
    WOS_STAT_CACHE_FAILURES, WOS_STAT_CACHE_OUTAGES, WOS_STAT_CACHE_LOCAL,
    WOS_STAT_IDLE_ENDED, WOS_STAT_SESSIONS_REVOKED,
    WOS_STAT_COUNT
} wos_stat;

/** Per-server settings and the shared cache (the main server's is the one used). */
typedef struct wos_srv_cfg {
    const char *cache_spec;             /* "provider[:args]" as configured */
    const char *cache_name;
    const char *cache_args;
    apr_array_header_t *redis_hosts;    /* WorkOSCache redis:/rediss: (the module's store), else NULL */
    int redis_tls;                      /* rediss: */
    int cache_timeout_ms;               /* WorkOSCacheTimeout; WOS_UNSET: default */
    const char *cache_username;         /* WorkOSCacheUsername, or NULL */
    const char *cache_password;         /* WorkOSCachePassword (resolved), or NULL */
    const char *cache_ca_file;          /* WorkOSCacheCAFile, or NULL */
    wos_cache cache;                    /* the seam handed to src/ */
    wos_cache keys_cache;               /* signing-key documents (cache, or a store of their own) */
    struct wos_cache_state *stores;     /* the stores behind both (cache.c's own) */
    wos_keystore *keys;                 /* per process, made in child_init */
    int session_cache_size;             /* WorkOSSessionCache; WOS_UNSET: default */
    wos_vcache *vcache;                 /* per process verified sessions, or NULL (off) */
    int scache_set;                     /* WorkOSSessionCacheSize given */
    apr_size_t scache_bytes, scache_entry;
    struct scache_state *scache_state;  /* this generation's segment (post_config) */
    wos_scache *scache;                 /* shared verified sessions, or NULL (off) */
    const unsigned char *hash_key;      /* keys both session caches (same in all children) */
    wos_http_handles *http_handles;     /* per process idle curl handles */
    wos_activity *activity;             /* per process last activity seen, or NULL */
    apr_uint64_t *stats;                /* WOS_STAT_COUNT shared counters */
    ap_filter_rec_t *includes;          /* mod_include's filter, or NULL: not loaded */
} wos_srv_cfg;

/** What one request learned; kept in r->request_config. */
typedef struct wos_req {
    int done;                           /* authentication attempted */
    wos_session *session;
    wos_claims *claims;
    const apr_array_header_t *identity; /* from the session cache (no token), or NULL */
    int bearer;                         /* identity from an Authorization: Bearer token */
    struct wos_page_note *page;         /* the error page it deserves (mod_auth_workos_pages.c) */
    wos_vcache_settings settings;       /* what the decision was made under */
    const char *cookie_name;            /* ... and which cookie it read */
    int exported;                       /* this request_rec carries the identity */
    const ap_conf_vector_t *workos_dir; /* per-dir configuration found AuthType WorkOS */
} wos_req;

/* mod_auth_workos_config.c */
extern const command_rec wos_cmds[];
void *wos_create_dir_cfg(apr_pool_t *p, char *dir);
void *wos_merge_dir_cfg(apr_pool_t *p, void *base, void *add);
void *wos_create_srv_cfg(apr_pool_t *p, server_rec *s);
void *wos_merge_srv_cfg(apr_pool_t *p, void *base, void *add);
wos_dir_cfg *wos_dcfg(request_rec *r);
wos_srv_cfg *wos_scfg(server_rec *s);
/* Effective values: the setting, else the default configuration's (config.c). */
const char *wos_cfg_base_url(const wos_dir_cfg *c);
const char *wos_cfg_cookie_name(const wos_dir_cfg *c);
int wos_cfg_cookie_chunk_size(const wos_dir_cfg *c);
wos_unauth_action wos_cfg_unauth_action(const wos_dir_cfg *c);
wos_remote_user wos_cfg_remote_user(const wos_dir_cfg *c);
int wos_cfg_pass_claims(const wos_dir_cfg *c);
int wos_cfg_pass_token(const wos_dir_cfg *c);
int wos_cfg_clock_skew(const wos_dir_cfg *c);
int wos_cfg_jwks_ttl(const wos_dir_cfg *c);
int wos_cfg_refresh_before(const wos_dir_cfg *c);
wos_format wos_cfg_format(const wos_dir_cfg *c);
int wos_cfg_accept_bearer(const wos_dir_cfg *c);
int wos_cfg_info_token(const wos_dir_cfg *c);
int wos_cfg_call_limit(const wos_dir_cfg *c);
int wos_cfg_call_window(const wos_dir_cfg *c);
int wos_cfg_token_max_age(const wos_dir_cfg *c);
int wos_cfg_idle_timeout(const wos_dir_cfg *c);
wos_preflight wos_cfg_preflight(const wos_dir_cfg *c);
int wos_cfg_strip_cookies(const wos_dir_cfg *c);
wos_hdrenc wos_cfg_header_encoding(const wos_dir_cfg *c);
int wos_cfg_session_cache_size(const wos_srv_cfg *s);
int wos_cfg_cache_timeout_ms(const wos_srv_cfg *s);
void wos_cfg_scache_size(const wos_srv_cfg *s, apr_size_t *bytes, apr_size_t *entry);
void wos_cfg_api(request_rec *r, const wos_dir_cfg *c, wos_api_cfg *api);
void wos_cfg_cookie_attrs(const wos_dir_cfg *c, wos_cookie_attrs *a);

/* mod_auth_workos_cache.c */
int wos_cache_pre_config(apr_pool_t *pconf);
int wos_cache_post_config(apr_pool_t *pconf, server_rec *s);
void wos_cache_child_init(apr_pool_t *pchild, server_rec *s);
void wos_refresh_note_log(void *baton, wos_refresh_note what, const char *msg);

/* mod_auth_workos_scache.c */
int wos_scache_pre_config(apr_pool_t *pconf);
int wos_scache_post_config(apr_pool_t *pconf, server_rec *s);
void wos_scache_child_init(apr_pool_t *pchild, server_rec *s);
void wos_scache_status(request_rec *r, int prometheus);
void wos_scache_register_hooks(void);

/* mod_auth_workos_authz.c */
void wos_register_authz_providers(apr_pool_t *p);

/* mod_auth_workos_identity.c */
int wos_scrub_headers(request_rec *r);
void wos_export_identity(request_rec *r, const wos_dir_cfg *c, const wos_req *st);

/* mod_auth_workos_request.c: helpers every glue file may use; it calls none of them */
wos_req *wos_req_state(request_rec *r);
int wos_is_workos(request_rec *r);
int wos_is_browser(request_rec *r);
const char *wos_cookie_header(request_rec *r);
void wos_set_cookies(request_rec *r, const apr_array_header_t *set_cookies);
void wos_store_session_cookie(request_rec *r, const wos_dir_cfg *c, const char *value,
                              const wos_cookie_in *old);
void wos_authn_settings(const wos_dir_cfg *c, wos_vcache_settings *s);
void wos_fill_authn_in(request_rec *r, const wos_dir_cfg *c, wos_authn_in *in,
                       wos_api_cfg *api);
int wos_check_config(request_rec *r, const wos_dir_cfg *c);
int wos_send_json(request_rec *r, int status, const char *body);
wos_rv wos_read_session_cookie(request_rec *r, const wos_dir_cfg *c, wos_cookie_in *cin);

/* mod_auth_workos_authn.c: the hooks of AuthType WorkOS */
int wos_check_authn(request_rec *r);
int wos_fixups(request_rec *r);
int wos_note_auth_failure(request_rec *r, const char *auth_type);
int wos_post_perdir(request_rec *r);
void wos_insert_filter(request_rec *r);
void wos_insert_filter_post_config(server_rec *s);

/* mod_auth_workos_apps.c: what applications behind the module need */
int wos_preflight_access(request_rec *r);
void wos_strip_cookies(request_rec *r, const wos_dir_cfg *c);
const char *wos_header_value(request_rec *r, const wos_dir_cfg *c, const char *env,
                             const char *value);

/* mod_auth_workos_check.c */
void wos_check_register_hooks(void);

/* mod_auth_workos_status.c */
int wos_status_post_config(apr_pool_t *pconf, server_rec *s);
void wos_status_register_hooks(void);
void wos_stat_inc(server_rec *s, wos_stat which);
void wos_stat_authn(request_rec *r, const wos_authn_out *out);
void wos_stat_refresh(server_rec *s, const wos_authn_out *out);
void wos_stat_jwks_fetched(void *baton, wos_rv rv);

/* mod_auth_workos_format.c: WorkOSSessionFormat */
int wos_format_check(apr_pool_t *ptemp, server_rec *main_server);

/* mod_auth_workos_pages.c: the module's error pages (ErrorDocument overrides them) */
int wos_page_error(request_rec *r, wos_page_kind kind, const char *detail, const char *target);
void wos_page_note_refusal(request_rec *r, const char *provider,
                           const apr_array_header_t *values);
void wos_pages_register_hooks(void);

/* mod_auth_workos_host.c: sign-in must start on the callback's host */
const char *wos_signin_elsewhere(request_rec *r, const wos_dir_cfg *c);

/* mod_auth_workos_flows.c */
int wos_start_login(request_rec *r, const wos_dir_cfg *c, const char *return_to,
                    const char *screen_hint);
int wos_flow_handler(request_rec *r, int lookup_uri);

#endif
