/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_workos_config.c: directives, their validation, and merging.
 * Every value is checked when the configuration is read, so `apachectl
 * configtest` names the directive that is wrong.
 */
#include <errno.h>
#include <stdlib.h>
#include <apr_file_io.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <http_core.h>

#include "mod_auth_workos.h"
#include "wos_backend.h"
#include "wos_cookie.h"
#include "wos_redis.h"
#include "wos_scache.h"
#include "wos_seal.h"

#define MAX_COOKIE_AGE   34560000   /* 400 days, the most browsers keep a cookie */
#define MAX_SECONDS      (86400 * 30)
#define MAX_HTTP_TIMEOUT 120
#define MAX_CONNECT_MS   3000       /* connecting never waits longer than this */
#define MAX_API_RESPONSE (1024 * 1024)

/*
 * The default configuration: what every unset setting means. The directive
 * table's help texts name the same values.
 */
static const wos_dir_cfg dir_defaults = {
    .api_base_url = "https://api.workos.com",
    .cookie_name = "wos-session",
    .cookie_path = "/",
    .cookie_samesite = "Lax",
    .cookie_secure = 1,
    .cookie_max_age = MAX_COOKIE_AGE,   /* the tokens, not the cookie, bound a session */
    .cookie_chunk_size = WOS_COOKIE_DEFAULT_CHUNK_SIZE,
    .unauth_action = WOS_UNAUTH_LOGIN,
    .remote_user = WOS_USER_ID,
    .pass_claims = WOS_PASS_ENV,
    .pass_token = 0,
    .clock_skew = 60,
    .jwks_ttl = 3600,
    .http_timeout = 5,
    .refresh_before = 60,
    .session_format = WOS_FORMAT_NODE,
    .apis = {
        .accept_bearer = 0,
        .info_token = 0,
        .call_limit = 5,                /* calls to WorkOS a session may cause ... */
        .call_window = 60,              /* ... per this many seconds */
    },
    .sessions = {
        .token_max_age = 0,             /* off */
        .idle_timeout = 0,              /* off */
    },
    .preflight = WOS_PREFLIGHT_PASS,
    .strip_cookies = 0,
    .header_encoding = WOS_HDRENC_UTF8,
};

static const wos_srv_cfg srv_defaults = {
    .session_cache_size = 1024,
    .cache_timeout_ms = WOS_REDIS_DEFAULT_TIMEOUT_MS,
    .scache_bytes = (apr_size_t)16 * 1024 * 1024,   /* 21,000 sessions */
    .scache_entry = WOS_SCACHE_DEFAULT_ENTRY,
};

void *wos_create_dir_cfg(apr_pool_t *p, char *dir)
{
    wos_dir_cfg *c = apr_pcalloc(p, sizeof(*c));

    c->cookie_secure = WOS_UNSET;
    c->cookie_max_age = WOS_UNSET;
    c->cookie_chunk_size = WOS_UNSET;
    c->unauth_action = WOS_UNSET;
    c->remote_user = WOS_UNSET;
    c->pass_claims = WOS_UNSET;
    c->pass_token = WOS_UNSET;
    c->clock_skew = WOS_UNSET;
    c->jwks_ttl = WOS_UNSET;
    c->http_timeout = WOS_UNSET;
    c->refresh_before = WOS_UNSET;
    c->session_format = WOS_UNSET;
    wos_apis_init(&c->apis);
    c->preflight = WOS_UNSET;
    c->strip_cookies = WOS_UNSET;
    c->header_encoding = WOS_UNSET;
    wos_sessions_init(&c->sessions);
    return c;
}

#define MERGE_PTR(f) c->f = add->f ? add->f : base->f
#define MERGE_INT(f) c->f = add->f != WOS_UNSET ? add->f : base->f

void *wos_merge_dir_cfg(apr_pool_t *p, void *basev, void *addv)
{
    wos_dir_cfg *base = basev, *add = addv, *c = apr_pcalloc(p, sizeof(*c));

    MERGE_PTR(client_id);
    MERGE_PTR(api_key);
    MERGE_PTR(passwords);
    MERGE_PTR(api_base_url);
    MERGE_PTR(cookie_name);
    MERGE_PTR(cookie_domain);
    MERGE_PTR(cookie_path);
    MERGE_PTR(cookie_samesite);
    MERGE_INT(cookie_secure);
    MERGE_INT(cookie_max_age);
    MERGE_INT(cookie_chunk_size);
    MERGE_INT(unauth_action);
    MERGE_INT(remote_user);
    MERGE_INT(pass_claims);
    MERGE_INT(pass_token);
    MERGE_INT(clock_skew);
    MERGE_PTR(issuers);
    MERGE_INT(jwks_ttl);
    MERGE_INT(http_timeout);
    MERGE_PTR(ca_file);
    MERGE_PTR(redirect_uri);
    MERGE_PTR(login_uri);
    MERGE_PTR(signup_uri);
    MERGE_PTR(logout_uri);
    MERGE_PTR(logout_return_to);
    MERGE_PTR(switch_org_uri);
    MERGE_INT(refresh_before);
    MERGE_PTR(connection);
    MERGE_PTR(organization);
    MERGE_PTR(redirect_allow);
    MERGE_INT(session_format);
    wos_apis_merge(&base->apis, &add->apis, &c->apis);
    MERGE_INT(preflight);
    MERGE_INT(strip_cookies);
    MERGE_INT(header_encoding);
    wos_sessions_merge(&base->sessions, &add->sessions, &c->sessions);
    return c;
}

void *wos_create_srv_cfg(apr_pool_t *p, server_rec *s)
{
    wos_srv_cfg *c = apr_pcalloc(p, sizeof(wos_srv_cfg));
    c->session_cache_size = WOS_UNSET;
    c->cache_timeout_ms = WOS_UNSET;
    return c;
}

void *wos_merge_srv_cfg(apr_pool_t *p, void *basev, void *addv)
{
    wos_srv_cfg *c = apr_pcalloc(p, sizeof(*c)), *base = basev, *add = addv;

    *c = *base;
    if (add->cache_spec) {
        c->cache_spec = add->cache_spec;
        c->cache_name = add->cache_name;
        c->cache_args = add->cache_args;
    }
    return c;
}

wos_dir_cfg *wos_dcfg(request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &auth_workos_module);
}

wos_srv_cfg *wos_scfg(server_rec *s)
{
    return ap_get_module_config(s->module_config, &auth_workos_module);
}

/* The setting @p f of @p c, else the default configuration's. */
#define DIR_INT(c, f) ((c)->f != WOS_UNSET ? (c)->f : dir_defaults.f)
#define DIR_STR(c, f) ((c)->f ? (c)->f : dir_defaults.f)

const char *wos_cfg_base_url(const wos_dir_cfg *c)
{
    return DIR_STR(c, api_base_url);
}

const char *wos_cfg_cookie_name(const wos_dir_cfg *c)
{
    return DIR_STR(c, cookie_name);
}

int wos_cfg_cookie_chunk_size(const wos_dir_cfg *c)
{
    return DIR_INT(c, cookie_chunk_size);
}

wos_unauth_action wos_cfg_unauth_action(const wos_dir_cfg *c)
{
    return (wos_unauth_action)DIR_INT(c, unauth_action);
}

wos_remote_user wos_cfg_remote_user(const wos_dir_cfg *c)
{
    return (wos_remote_user)DIR_INT(c, remote_user);
}

int wos_cfg_pass_claims(const wos_dir_cfg *c)
{
    return DIR_INT(c, pass_claims);
}

int wos_cfg_pass_token(const wos_dir_cfg *c)
{
    return DIR_INT(c, pass_token);
}

int wos_cfg_clock_skew(const wos_dir_cfg *c)
{
    return DIR_INT(c, clock_skew);
}

int wos_cfg_jwks_ttl(const wos_dir_cfg *c)
{
    return DIR_INT(c, jwks_ttl);
}

int wos_cfg_refresh_before(const wos_dir_cfg *c)
{
    return DIR_INT(c, refresh_before);
}

wos_format wos_cfg_format(const wos_dir_cfg *c)
{
    return (wos_format)DIR_INT(c, session_format);
}

int wos_cfg_accept_bearer(const wos_dir_cfg *c)
{
    return DIR_INT(c, apis.accept_bearer);
}

int wos_cfg_info_token(const wos_dir_cfg *c)
{
    return DIR_INT(c, apis.info_token);
}

int wos_cfg_call_limit(const wos_dir_cfg *c)
{
    return DIR_INT(c, apis.call_limit);
}

int wos_cfg_call_window(const wos_dir_cfg *c)
{
    return DIR_INT(c, apis.call_window);
}

int wos_cfg_token_max_age(const wos_dir_cfg *c)
{
    return DIR_INT(c, sessions.token_max_age);
}

int wos_cfg_idle_timeout(const wos_dir_cfg *c)
{
    return DIR_INT(c, sessions.idle_timeout);
}

wos_preflight wos_cfg_preflight(const wos_dir_cfg *c)
{
    return (wos_preflight)DIR_INT(c, preflight);
}

int wos_cfg_strip_cookies(const wos_dir_cfg *c)
{
    return DIR_INT(c, strip_cookies);
}

wos_hdrenc wos_cfg_header_encoding(const wos_dir_cfg *c)
{
    return (wos_hdrenc)DIR_INT(c, header_encoding);
}

/* The server-wide setting @p f of @p s, else the default configuration's. */
#define SRV_INT(s, f) ((s)->f != WOS_UNSET ? (s)->f : srv_defaults.f)

int wos_cfg_session_cache_size(const wos_srv_cfg *s)
{
    return SRV_INT(s, session_cache_size);
}

int wos_cfg_cache_timeout_ms(const wos_srv_cfg *s)
{
    return SRV_INT(s, cache_timeout_ms);
}

void wos_cfg_scache_size(const wos_srv_cfg *s, apr_size_t *bytes, apr_size_t *entry)
{
    *bytes = s->scache_set ? s->scache_bytes : srv_defaults.scache_bytes;
    *entry = s->scache_set ? s->scache_entry : srv_defaults.scache_entry;
}

void wos_cfg_api(request_rec *r, const wos_dir_cfg *c, wos_api_cfg *api)
{
    long t_ms = DIR_INT(c, http_timeout) * 1000L;

    api->base_url = wos_cfg_base_url(c);
    api->client_id = c->client_id;
    api->api_key = c->api_key;
    api->http.handles = wos_scfg(r->server)->http_handles;
    api->http.timeout_ms = t_ms;
    api->http.connect_timeout_ms = t_ms < MAX_CONNECT_MS ? t_ms : MAX_CONNECT_MS;
    api->http.ca_file = c->ca_file;
    api->http.max_response = MAX_API_RESPONSE;
}

void wos_cfg_cookie_attrs(const wos_dir_cfg *c, wos_cookie_attrs *a)
{
    a->path = DIR_STR(c, cookie_path);
    a->domain = c->cookie_domain;
    a->same_site = DIR_STR(c, cookie_samesite);
    a->secure = DIR_INT(c, cookie_secure);
    if (!strcmp(a->same_site, "None"))
        a->secure = 1;      /* browsers drop SameSite=None cookies that are not Secure */
    a->http_only = 1;
    a->max_age = DIR_INT(c, cookie_max_age);
}

/* --- values ------------------------------------------------------------- */

/* A secret is a literal, env:NAME or file:/path, resolved once at start-up. */
static const char *resolve_secret(cmd_parms *cmd, const char *arg, const char **out)
{
    if (strncmp(arg, "env:", 4) == 0) {
        const char *v = getenv(arg + 4);
        if (!v || !*v)
            return apr_psprintf(cmd->pool, "%s: environment variable %s is not set",
                                cmd->cmd->name, arg + 4);
        *out = apr_pstrdup(cmd->pool, v);
        return NULL;
    }
    if (strncmp(arg, "file:", 5) == 0) {
        const char *path = ap_server_root_relative(cmd->pool, arg + 5);
        apr_file_t *f;
        char buf[4096];
        apr_size_t n = sizeof(buf) - 1;

        if (!path || apr_file_open(&f, path, APR_FOPEN_READ, 0, cmd->temp_pool) != APR_SUCCESS)
            return apr_psprintf(cmd->pool, "%s: cannot read %s", cmd->cmd->name, arg + 5);
        if (apr_file_read(f, buf, &n) != APR_SUCCESS)
            n = 0;
        apr_file_close(f);
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
            n--;
        if (n == 0)
            return apr_psprintf(cmd->pool, "%s: %s is empty", cmd->cmd->name, arg + 5);
        *out = apr_pstrmemdup(cmd->pool, buf, n);
        return NULL;
    }
    *out = arg;
    return NULL;
}

static const char *parse_int(cmd_parms *cmd, const char *name, const char *arg, long lo,
                             long hi, int *out)
{
    char *end;
    long v = strtol(arg, &end, 10);

    if (!*arg || *end || v < lo || v > hi)
        return apr_psprintf(cmd->pool, "%s: '%s' is not a number from %ld to %ld",
                            name, arg, lo, hi);
    *out = (int)v;
    return NULL;
}

static const char *check_url(cmd_parms *cmd, const char *arg)
{
    if (strncasecmp(arg, "https://", 8) && strncasecmp(arg, "http://", 7))
        return apr_psprintf(cmd->pool, "%s: '%s' must be an http:// or https:// URL",
                            cmd->cmd->name, arg);
    return NULL;
}

/* A module endpoint: an absolute path, or (for the callback) an absolute URL. */
static const char *check_path_or_url(cmd_parms *cmd, const char *arg, int url_ok)
{
    if (arg[0] == '/' && arg[1] != '/')
        return NULL;
    if (url_ok && !check_url(cmd, arg))
        return NULL;
    return apr_psprintf(cmd->pool, "%s: '%s' must be a path starting with /%s",
                        cmd->cmd->name, arg, url_ok ? " or an http(s) URL" : "");
}

/* --- directive handlers --------------------------------------------------- */

#define DCFG(mconfig) ((wos_dir_cfg *)(mconfig))

static const char *set_client_id(cmd_parms *cmd, void *m, const char *arg)
{
    if (!*arg)
        return "WorkOSClientID: must not be empty";
    DCFG(m)->client_id = arg;
    return NULL;
}

static const char *set_api_key(cmd_parms *cmd, void *m, const char *arg)
{
    return resolve_secret(cmd, arg, &DCFG(m)->api_key);
}

static const char *set_passwords(cmd_parms *cmd, void *m, int argc, char *const argv[])
{
    apr_array_header_t *pw = apr_array_make(cmd->pool, argc, sizeof(const char *));
    int i;

    if (argc < 1)
        return "WorkOSCookiePassword: at least one password is required";
    for (i = 0; i < argc; i++) {
        const char *v = NULL, *err = resolve_secret(cmd, argv[i], &v);
        if (err)
            return err;
        if (strlen(v) < WOS_SEAL_MIN_PASSWORD)
            return apr_psprintf(cmd->pool, "WorkOSCookiePassword: password %d is shorter "
                                "than %d characters", i + 1, WOS_SEAL_MIN_PASSWORD);
        APR_ARRAY_PUSH(pw, const char *) = v;
    }
    DCFG(m)->passwords = pw;
    return NULL;
}

static const char *set_base_url(cmd_parms *cmd, void *m, const char *arg)
{
    const char *err = check_url(cmd, arg);
    char *u;
    apr_size_t n;

    if (err)
        return err;
    u = apr_pstrdup(cmd->pool, arg);
    n = strlen(u);
    while (n > 0 && u[n - 1] == '/')
        u[--n] = '\0';
    DCFG(m)->api_base_url = u;
    return NULL;
}

static const char *set_cookie_name(cmd_parms *cmd, void *m, const char *arg)
{
    const char *c;

    for (c = arg; *c; c++)
        if (!apr_isalnum(*c) && !strchr("-_.", *c))
            return "WorkOSCookieName: use letters, digits, '-', '_' and '.' only";
    if (!*arg)
        return "WorkOSCookieName: must not be empty";
    DCFG(m)->cookie_name = arg;
    return NULL;
}

/* A cookie attribute's value: nothing that would end or split the attribute. */
static const char *check_cookie_attr(cmd_parms *cmd, const char *arg)
{
    const char *c;

    for (c = arg; *c; c++)
        if (apr_iscntrl(*c) || *c == ';' || *c == ',' || *c == ' ')
            return apr_psprintf(cmd->pool, "%s: invalid character in '%s'", cmd->cmd->name, arg);
    return NULL;
}

static const char *set_cookie_domain(cmd_parms *cmd, void *m, const char *arg)
{
    const char *err = check_cookie_attr(cmd, arg);

    if (!err)
        DCFG(m)->cookie_domain = arg;
    return err;
}

static const char *set_cookie_path(cmd_parms *cmd, void *m, const char *arg)
{
    const char *err = check_cookie_attr(cmd, arg);

    if (!err && arg[0] != '/')
        err = "WorkOSCookiePath: must start with /";
    if (!err)
        DCFG(m)->cookie_path = arg;
    return err;
}

static const char *set_secure(cmd_parms *cmd, void *m, int on)
{
    DCFG(m)->cookie_secure = on;
    return NULL;
}

static const char *set_pass_token(cmd_parms *cmd, void *m, int on)
{
    DCFG(m)->pass_token = on;
    return NULL;
}

static const char *set_flag(cmd_parms *cmd, void *m, int on)
{
    *(int *)((char *)m + (long)cmd->info) = on;
    return NULL;
}

/* Numeric directives: one table of bounds, one handler; cmd->info is the entry. */
typedef struct wos_number {
    const char *name;
    apr_size_t offset;              /* the int field in wos_dir_cfg, or wos_srv_cfg */
    long lo, hi;
    int per_server;                 /* a server-wide setting (main server only) */
} wos_number;

typedef enum {
    NUM_COOKIE_MAX_AGE, NUM_COOKIE_CHUNK_SIZE, NUM_CLOCK_SKEW, NUM_JWKS_TTL, NUM_HTTP_TIMEOUT,
    NUM_REFRESH_BEFORE, NUM_SESSION_CACHE
} wos_number_id;

static const wos_number numbers[] = {
    [NUM_COOKIE_MAX_AGE] = {"WorkOSCookieMaxAge", APR_OFFSETOF(wos_dir_cfg, cookie_max_age),
                            0, MAX_COOKIE_AGE, 0},
    [NUM_COOKIE_CHUNK_SIZE] = {"WorkOSCookieChunkSize",
                               APR_OFFSETOF(wos_dir_cfg, cookie_chunk_size),
                               WOS_COOKIE_MIN_CHUNK_SIZE, WOS_COOKIE_MAX_CHUNK_SIZE, 0},
    [NUM_CLOCK_SKEW] = {"WorkOSClockSkew", APR_OFFSETOF(wos_dir_cfg, clock_skew),
                        0, MAX_SECONDS, 0},
    [NUM_JWKS_TTL] = {"WorkOSJWKSCacheTTL", APR_OFFSETOF(wos_dir_cfg, jwks_ttl),
                      1, MAX_SECONDS, 0},
    [NUM_HTTP_TIMEOUT] = {"WorkOSHTTPTimeout", APR_OFFSETOF(wos_dir_cfg, http_timeout),
                          1, MAX_HTTP_TIMEOUT, 0},
    [NUM_REFRESH_BEFORE] = {"WorkOSRefreshBeforeExpiry",
                            APR_OFFSETOF(wos_dir_cfg, refresh_before), 0, MAX_SECONDS, 0},
    [NUM_SESSION_CACHE] = {"WorkOSSessionCache", APR_OFFSETOF(wos_srv_cfg, session_cache_size),
                           0, 1000000, 1},
};

static const char *set_number(cmd_parms *cmd, void *m, const char *arg)
{
    const wos_number *n = cmd->info;
    const char *err = n->per_server ? ap_check_cmd_context(cmd, GLOBAL_ONLY) : NULL;
    char *base = n->per_server ? (char *)wos_scfg(cmd->server) : m;

    return err ? err : parse_int(cmd, n->name, arg, n->lo, n->hi, (int *)(base + n->offset));
}

/* Keyword directives: one table each, one handler; cmd->info is the choice. */
typedef struct wos_keyword {
    const char *word;
    int value;
} wos_keyword;

typedef struct wos_choice {
    apr_size_t offset;              /* the int field in wos_dir_cfg */
    const wos_keyword *words;       /* NULL-terminated */
    const char *usage;
} wos_choice;

static const wos_keyword unauth_words[] = {
    {"login", WOS_UNAUTH_LOGIN}, {"401", WOS_UNAUTH_401}, {"403", WOS_UNAUTH_403},
    {"pass", WOS_UNAUTH_PASS}, {NULL, 0}};
static const wos_keyword remote_user_words[] = {
    {"email", WOS_USER_EMAIL}, {"id", WOS_USER_ID}, {NULL, 0}};
static const wos_keyword pass_words[] = {
    {"environment", WOS_PASS_ENV}, {"headers", WOS_PASS_HEADERS},
    {"both", WOS_PASS_ENV | WOS_PASS_HEADERS}, {"none", 0}, {NULL, 0}};
static const wos_keyword preflight_words[] = {
    {"pass", WOS_PREFLIGHT_PASS}, {"authenticate", WOS_PREFLIGHT_AUTHENTICATE}, {NULL, 0}};
static const wos_keyword encoding_words[] = {
    {"utf8", WOS_HDRENC_UTF8}, {"latin1", WOS_HDRENC_LATIN1},
    {"base64url", WOS_HDRENC_BASE64URL}, {NULL, 0}};
static const wos_keyword samesite_words[] = {
    {"Lax", 0}, {"Strict", 1}, {"None", 2}, {NULL, 0}};

static const wos_choice unauth_choice = {
    APR_OFFSETOF(wos_dir_cfg, unauth_action), unauth_words, "login, 401, 403 or pass"};
static const wos_choice remote_user_choice = {
    APR_OFFSETOF(wos_dir_cfg, remote_user), remote_user_words, "email or id"};
static const wos_choice pass_choice = {
    APR_OFFSETOF(wos_dir_cfg, pass_claims), pass_words, "environment, headers, both or none"};

static const wos_choice preflight_choice = {
    APR_OFFSETOF(wos_dir_cfg, preflight), preflight_words, "pass or authenticate"};
static const wos_choice encoding_choice = {
    APR_OFFSETOF(wos_dir_cfg, header_encoding), encoding_words, "utf8, latin1 or base64url"};

static const wos_keyword *find_word(const wos_keyword *w, const char *arg)
{
    for (; w->word; w++)
        if (!strcasecmp(w->word, arg))
            return w;
    return NULL;
}

static const char *set_choice(cmd_parms *cmd, void *m, const char *arg)
{
    const wos_choice *ch = cmd->info;
    const wos_keyword *w = find_word(ch->words, arg);

    if (!w)
        return apr_psprintf(cmd->pool, "%s: must be %s", cmd->cmd->name, ch->usage);
    *(int *)((char *)m + ch->offset) = w->value;
    return NULL;
}

static const char *set_samesite(cmd_parms *cmd, void *m, const char *arg)
{
    const wos_keyword *w = find_word(samesite_words, arg);

    if (!w)
        return "WorkOSCookieSameSite: must be Lax, Strict or None";
    DCFG(m)->cookie_samesite = w->word;     /* canonical spelling */
    return NULL;
}

static const char *set_issuers(cmd_parms *cmd, void *m, int argc, char *const argv[])
{
    apr_array_header_t *a = apr_array_make(cmd->pool, argc, sizeof(const char *));
    int i;

    if (argc < 1)
        return "WorkOSIssuer: at least one issuer is required";
    for (i = 0; i < argc; i++)
        APR_ARRAY_PUSH(a, const char *) = argv[i];
    DCFG(m)->issuers = a;
    return NULL;
}

static const char *set_ca_file(cmd_parms *cmd, void *m, const char *arg)
{
    const char *path = ap_server_root_relative(cmd->pool, arg);
    apr_finfo_t fi;

    if (!path || apr_stat(&fi, path, APR_FINFO_TYPE, cmd->temp_pool) != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "WorkOSCAFile: cannot read %s", arg);
    DCFG(m)->ca_file = path;
    return NULL;
}

static const char *set_session_format(cmd_parms *cmd, void *m, const char *arg)
{
    wos_format f;

    (void)cmd;
    if (wos_format_by_name(arg, &f) != WOS_OK)
        return "WorkOSSessionFormat: must be node, ruby or python";
    DCFG(m)->session_format = (int)f;
    return NULL;
}

/* Endpoint directives: the field, and whether an absolute URL is allowed. */
typedef struct wos_endpoint_field {
    apr_size_t offset;              /* the const char * field in wos_dir_cfg */
    int url_ok;
} wos_endpoint_field;

#define ENDPOINT(f, url_ok) \
    ((void *)&(const wos_endpoint_field){APR_OFFSETOF(wos_dir_cfg, f), url_ok})

static const char *set_endpoint(cmd_parms *cmd, void *m, const char *arg)
{
    const wos_endpoint_field *e = cmd->info;
    const char *err = check_path_or_url(cmd, arg, e->url_ok);

    if (!err)
        *(const char **)((char *)m + e->offset) = arg;
    return err;
}

static const char *set_string(cmd_parms *cmd, void *m, const char *arg)
{
    *(const char **)((char *)m + (long)cmd->info) = arg;
    return NULL;
}

static const char *set_redirect_allow(cmd_parms *cmd, void *m, int argc, char *const argv[])
{
    apr_array_header_t *a = apr_array_make(cmd->pool, argc, sizeof(const char *));
    int i;

    for (i = 0; i < argc; i++) {
        const char *err = check_url(cmd, argv[i]);
        if (err)
            return err;
        APR_ARRAY_PUSH(a, const char *) = argv[i];
    }
    DCFG(m)->redirect_allow = a;
    return NULL;
}

/* redis:host[:port][,...] and rediss:... name the module's own store. */
static const char *set_redis(cmd_parms *cmd, wos_srv_cfg *s, const char *list, int tls)
{
    const char *err = NULL;

    if (tls && !wos_redis_tls_available())
        return "WorkOSCache rediss: this build has no TLS for redis (hiredis_ssl was not "
               "found when it was built; hiredis >= 1.0 has it)";
    if (wos_redis_parse_hosts(cmd->pool, list, &s->redis_hosts, &err) != WOS_OK)
        return apr_psprintf(cmd->pool, "WorkOSCache %s: %s", tls ? "rediss" : "redis", err);
    s->redis_tls = tls;
    s->cache_name = tls ? "rediss" : "redis";
    s->cache_args = list;
    return NULL;
}

/*
 * WorkOSCache redis:host[:port][,host[:port]...] | rediss:... (the module's
 * store) | socache:provider[:args] | provider[:args] (mod_socache, as before;
 * only "redis" now means the module's own store).
 */
static const char *set_cache(cmd_parms *cmd, void *m, const char *arg)
{
    wos_srv_cfg *s = wos_scfg(cmd->server);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    const char *spec = arg, *colon;

    if (err)
        return err;
    s->cache_spec = arg;
    s->redis_hosts = NULL;
    if (strncmp(arg, "redis:", 6) == 0 || strncmp(arg, "rediss:", 7) == 0)
        return set_redis(cmd, s, strchr(arg, ':') + 1, arg[5] == 's');
    if (!strcmp(arg, "redis") || !strcmp(arg, "rediss"))
        return "WorkOSCache redis: the store's host[:port] is required (redis:127.0.0.1:6379)";
    if (strncmp(arg, "socache:", 8) == 0)
        spec = arg + 8;
    colon = strchr(spec, ':');
    s->cache_name = colon ? apr_pstrmemdup(cmd->pool, spec, (apr_size_t)(colon - spec)) : spec;
    s->cache_args = colon ? colon + 1 : NULL;
    if (!*s->cache_name)
        return "WorkOSCache: a mod_socache provider name is required (e.g. shmcb)";
    return NULL;
}

/* WorkOSCacheTimeout 200 | 200ms | 2s: connect and each call to a shared store. */
static const char *set_cache_timeout(cmd_parms *cmd, void *m, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    char *end;
    double v;

    if (err)
        return err;
    v = strtod(arg, &end);
    if (end != arg && !strcmp(end, "s"))
        v *= 1000;
    else if (end == arg || (*end && strcmp(end, "ms")))
        v = -1;
    if (v < 10 || v > 60000)
        return apr_psprintf(cmd->pool, "WorkOSCacheTimeout: '%s' is not a time between "
                            "10ms and 60s (e.g. 200ms, 2s; a bare number is milliseconds)", arg);
    wos_scfg(cmd->server)->cache_timeout_ms = (int)v;
    return NULL;
}

/* WorkOSCachePassword: a literal, env:NAME or file:/path (redis AUTH). */
static const char *set_cache_password(cmd_parms *cmd, void *m, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    return err ? err : resolve_secret(cmd, arg, &wos_scfg(cmd->server)->cache_password);
}

/* WorkOSCacheUsername: the redis 6 ACL user. */
static const char *set_cache_username(cmd_parms *cmd, void *m, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    if (!err)
        wos_scfg(cmd->server)->cache_username = arg;
    return err;
}

/* WorkOSCacheCAFile: the CA bundle for rediss:. */
static const char *set_cache_ca_file(cmd_parms *cmd, void *m, const char *arg)
{
    wos_srv_cfg *s = wos_scfg(cmd->server);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_finfo_t fi;

    if (err)
        return err;
    s->cache_ca_file = ap_server_root_relative(cmd->pool, arg);
    if (!s->cache_ca_file
        || apr_stat(&fi, s->cache_ca_file, APR_FINFO_TYPE, cmd->temp_pool) != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "WorkOSCacheCAFile: cannot read %s", arg);
    return NULL;
}

/* "64M", "512k", "1G" or plain bytes; 0 only as exactly "0". */
static const char *parse_bytes(apr_pool_t *p, const char *arg, apr_uint64_t *out)
{
    static const struct { char unit; apr_uint64_t mult; } UNITS[] = {
        {'k', 1024}, {'K', 1024}, {'m', 1024 * 1024}, {'M', 1024 * 1024},
        {'g', 1024 * 1024 * 1024}, {'G', 1024 * 1024 * 1024}};
    char *end;
    apr_int64_t v;
    apr_size_t i;

    errno = 0;
    v = apr_strtoi64(arg, &end, 10);
    if (errno || v < 0 || end == arg)
        return apr_psprintf(p, "'%s' is not a size in bytes", arg);
    *out = (apr_uint64_t)v;
    if (!*end)
        return NULL;
    for (i = 0; i < sizeof(UNITS) / sizeof(UNITS[0]); i++) {
        if (*end == UNITS[i].unit && !end[1]) {
            /* Past the largest size (the caller says so) without overflowing. */
            *out = *out > WOS_SCACHE_MAX_BYTES / UNITS[i].mult ? WOS_SCACHE_MAX_BYTES + 1
                                                                : *out * UNITS[i].mult;
            return NULL;
        }
    }
    return apr_psprintf(p, "'%s' is not a size in bytes (a number, optionally with K, M "
                        "or G)", arg);
}

static const char *set_scache_size(cmd_parms *cmd, void *m, const char *size, const char *entry)
{
    wos_srv_cfg *sc = wos_scfg(cmd->server);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_uint64_t bytes, slot = WOS_SCACHE_DEFAULT_ENTRY;

    (void)m;
    if (err)
        return err;
    if ((err = parse_bytes(cmd->pool, size, &bytes)) != NULL
        || (entry && (err = parse_bytes(cmd->pool, entry, &slot)) != NULL))
        return apr_pstrcat(cmd->pool, "WorkOSSessionCacheSize: ", err, NULL);
    if (bytes > WOS_SCACHE_MAX_BYTES)
        return apr_psprintf(cmd->pool, "WorkOSSessionCacheSize: %s is more than the "
                            "largest size, %" APR_UINT64_T_FMT " bytes", size,
                            (apr_uint64_t)WOS_SCACHE_MAX_BYTES);
    if (slot < WOS_SCACHE_MIN_ENTRY || slot > WOS_SCACHE_MAX_ENTRY || slot % 8)
        return apr_psprintf(cmd->pool, "WorkOSSessionCacheSize: the entry size must be a "
                            "multiple of 8 from %d to %d bytes", WOS_SCACHE_MIN_ENTRY,
                            WOS_SCACHE_MAX_ENTRY);
    if (bytes && wos_scache_capacity((apr_size_t)bytes, (apr_size_t)slot)
                 < WOS_SCACHE_MIN_ENTRIES)
        return apr_psprintf(cmd->pool, "WorkOSSessionCacheSize: %s holds fewer than %d "
                            "entries of %" APR_UINT64_T_FMT " bytes; use 0 to turn the "
                            "shared cache off", size, WOS_SCACHE_MIN_ENTRIES, slot);
    sc->scache_set = 1;
    sc->scache_bytes = (apr_size_t)bytes;
    sc->scache_entry = (apr_size_t)slot;
    return NULL;
}

#define OFF(f) (void *)APR_OFFSETOF(wos_dir_cfg, f)
#define NUM(id) (void *)&numbers[id]
#define WOS_CONF (RSRC_CONF | ACCESS_CONF)
/* Also in .htaccess (AllowOverride AuthConfig): what concerns one directory's
 * app. Not there: secrets, what they are sent with (client, API URL, CA),
 * endpoints the server serves, what costs the whole server (timeouts, key
 * and refresh schedules), and lists the cache keys by address (passwords,
 * issuers: an .htaccess is read again for every request). */
#define WOS_DIR (WOS_CONF | OR_AUTHCFG)

const command_rec wos_cmds[] = {
    AP_INIT_TAKE1("WorkOSClientID", set_client_id, NULL, WOS_CONF,
                  "The WorkOS client ID (client_...)"),
    AP_INIT_TAKE1("WorkOSAPIKey", set_api_key, NULL, WOS_CONF,
                  "The WorkOS API key: a literal, env:NAME or file:/path"),
    AP_INIT_TAKE_ARGV("WorkOSCookiePassword", set_passwords, NULL, WOS_CONF,
                      "Cookie passwords (>= 32 characters): the first seals, all unseal"),
    AP_INIT_TAKE1("WorkOSAPIBaseURL", set_base_url, NULL, WOS_CONF,
                  "WorkOS API base URL (default https://api.workos.com)"),
    AP_INIT_TAKE1("WorkOSCookieName", set_cookie_name, NULL, WOS_DIR,
                  "Session cookie name (default wos-session)"),
    AP_INIT_TAKE1("WorkOSCookieDomain", set_cookie_domain, NULL, WOS_DIR,
                  "Session cookie Domain attribute (default: host only)"),
    AP_INIT_TAKE1("WorkOSCookiePath", set_cookie_path, NULL, WOS_DIR,
                  "Session cookie Path attribute (default /)"),
    AP_INIT_TAKE1("WorkOSCookieSameSite", set_samesite, NULL, WOS_DIR,
                  "Lax (default), Strict or None"),
    AP_INIT_FLAG("WorkOSCookieSecure", set_secure, NULL, WOS_DIR,
                 "Mark cookies Secure (default On)"),
    AP_INIT_TAKE1("WorkOSCookieMaxAge", set_number, NUM(NUM_COOKIE_MAX_AGE), WOS_DIR,
                  "Session cookie Max-Age in seconds (default 34560000)"),
    AP_INIT_TAKE1("WorkOSCookieChunkSize", set_number, NUM(NUM_COOKIE_CHUNK_SIZE), WOS_DIR,
                  "Value bytes per chunk of a session too large for one cookie (default 3800)"),
    AP_INIT_TAKE1("WorkOSUnauthAction", set_choice, (void *)&unauth_choice, WOS_DIR,
                  "login (default), 401, 403 or pass"),
    AP_INIT_TAKE1("WorkOSRemoteUser", set_choice, (void *)&remote_user_choice, WOS_DIR,
                  "REMOTE_USER is the user's id (default) or verified email"),
    AP_INIT_TAKE1("WorkOSPassClaimsAs", set_choice, (void *)&pass_choice, WOS_DIR,
                  "environment (default), headers, both or none"),
    AP_INIT_FLAG("WorkOSPassAccessToken", set_pass_token, NULL, WOS_DIR,
                 "Also pass the access token (default Off)"),
    AP_INIT_TAKE1("WorkOSClockSkew", set_number, NUM(NUM_CLOCK_SKEW), WOS_DIR,
                  "Allowed clock skew in seconds (default 60)"),
    AP_INIT_TAKE_ARGV("WorkOSIssuer", set_issuers, NULL, WOS_CONF,
                      "Accepted token issuers (default: not checked)"),
    AP_INIT_TAKE1("WorkOSJWKSCacheTTL", set_number, NUM(NUM_JWKS_TTL), WOS_CONF,
                  "Seconds a fetched JWKS is used (default 3600)"),
    AP_INIT_TAKE1("WorkOSHTTPTimeout", set_number, NUM(NUM_HTTP_TIMEOUT), WOS_CONF,
                  "Timeout for calls to WorkOS in seconds (default 5)"),
    AP_INIT_TAKE1("WorkOSCAFile", set_ca_file, NULL, WOS_CONF,
                  "CA bundle for TLS to WorkOS (default: the system's)"),
    AP_INIT_TAKE1("WorkOSCache", set_cache, NULL, RSRC_CONF,
                  "Shared cache: redis:host[:port][,...], rediss:..., or a mod_socache "
                  "provider[:args], also as socache:provider[:args] (default shmcb)"),
    AP_INIT_TAKE1("WorkOSCacheTimeout", set_cache_timeout, NULL, RSRC_CONF,
                  "Connect and call timeout of a shared cache (default 200ms)"),
    AP_INIT_TAKE1("WorkOSCachePassword", set_cache_password, NULL, RSRC_CONF,
                  "Password for redis AUTH: a literal, env:NAME or file:/path"),
    AP_INIT_TAKE1("WorkOSCacheUsername", set_cache_username, NULL, RSRC_CONF,
                  "User name for redis AUTH (redis 6 ACL; default none)"),
    AP_INIT_TAKE1("WorkOSCacheCAFile", set_cache_ca_file, NULL, RSRC_CONF,
                  "CA bundle for TLS to redis (rediss:; default: the system's)"),
    AP_INIT_TAKE1("WorkOSSessionCache", set_number, NUM(NUM_SESSION_CACHE), RSRC_CONF,
                  "Verified sessions each process remembers (default 1024; 0 turns it off)"),
    AP_INIT_TAKE12("WorkOSSessionCacheSize", set_scache_size, NULL, RSRC_CONF,
                   "Bytes of shared memory for verified sessions all processes share "
                   "(default 16M; 0 turns it off), and optionally bytes per entry (768)"),
    AP_INIT_TAKE1("WorkOSRedirectURI", set_endpoint, ENDPOINT(redirect_uri, 1), WOS_CONF,
                  "The sign-in callback the module serves (path or absolute URL)"),
    AP_INIT_TAKE1("WorkOSLoginURI", set_endpoint, ENDPOINT(login_uri, 0), WOS_CONF,
                  "Path that starts sign-in (?return_to=...)"),
    AP_INIT_TAKE1("WorkOSSignUpURI", set_endpoint, ENDPOINT(signup_uri, 0), WOS_CONF,
                  "Path that starts sign-up (?return_to=...)"),
    AP_INIT_TAKE1("WorkOSLogoutURI", set_endpoint, ENDPOINT(logout_uri, 0), WOS_CONF,
                  "Path that signs out"),
    AP_INIT_TAKE1("WorkOSLogoutReturnTo", set_endpoint, ENDPOINT(logout_return_to, 1), WOS_CONF,
                  "Where WorkOS sends the browser after sign-out"),
    AP_INIT_TAKE1("WorkOSSwitchOrganizationURI", set_endpoint, ENDPOINT(switch_org_uri, 0),
                  WOS_CONF,
                  "Path that switches organization (?organization_id=...&return_to=...)"),
    AP_INIT_TAKE1("WorkOSRefreshBeforeExpiry", set_number, NUM(NUM_REFRESH_BEFORE), WOS_CONF,
                  "Refresh this many seconds before the access token expires (default 60)"),
    AP_INIT_TAKE1("WorkOSConnection", set_string, OFF(connection), WOS_DIR,
                  "Sign in through this connection instead of AuthKit"),
    AP_INIT_TAKE1("WorkOSOrganization", set_string, OFF(organization), WOS_DIR,
                  "Sign in through this organization's connection"),
    AP_INIT_TAKE_ARGV("WorkOSRedirectAllow", set_redirect_allow, NULL, WOS_DIR,
                      "Origins (scheme://host[:port]) allowed as absolute return_to targets"),
    AP_INIT_TAKE1("WorkOSSessionFormat", set_session_format, NULL, WOS_CONF,
                  "The session cookie's format: node (default), ruby or python"),
    WOS_APIS_CMDS
    AP_INIT_TAKE1("WorkOSPreflight", set_choice, (void *)&preflight_choice, WOS_DIR,
                  "CORS preflights (OPTIONS): pass (default) to the app, or authenticate"),
    AP_INIT_FLAG("WorkOSStripCookies", set_flag, OFF(strip_cookies), WOS_DIR,
                 "Remove the module's cookies from requests to the app (default Off)"),
    AP_INIT_TAKE1("WorkOSHeaderEncoding", set_choice, (void *)&encoding_choice, WOS_DIR,
                  "X-WorkOS-* header values: utf8 (default), latin1 or base64url"),
    WOS_SESSIONS_CMDS
    {NULL}
};
