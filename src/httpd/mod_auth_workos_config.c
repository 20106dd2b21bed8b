/*
 * mod_auth_workos_config.c: directives, their validation, and merging.
 * Every value is checked when the configuration is read, so `apachectl
 * configtest` names the directive that is wrong.
 */
#include <stdlib.h>
#include <apr_file_io.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <http_core.h>

#include "mod_auth_workos.h"
#include "wos_backend.h"
#include "wos_cookie.h"
#include "wos_redis.h"
#include "wos_seal.h"

#define DFLT_COOKIE_NAME "wos-session"
#define DFLT_MAX_AGE     34560000   /* 400 days: the tokens, not the cookie, bound a session */

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

int wos_cfg_int(int v, int dflt)
{
    return v == WOS_UNSET ? dflt : v;
}

const char *wos_cfg_base_url(const wos_dir_cfg *c)
{
    return c->api_base_url ? c->api_base_url : WOS_DEFAULT_BASE_URL;
}

const char *wos_cfg_cookie_name(const wos_dir_cfg *c)
{
    return c->cookie_name ? c->cookie_name : DFLT_COOKIE_NAME;
}

void wos_cfg_api(request_rec *r, const wos_dir_cfg *c, wos_api_cfg *api)
{
    long t = wos_cfg_int(c->http_timeout, 5);

    api->base_url = wos_cfg_base_url(c);
    api->client_id = c->client_id;
    api->api_key = c->api_key;
    api->http.handles = wos_scfg(r->server)->http_handles;
    api->http.timeout_ms = t * 1000;
    api->http.connect_timeout_ms = t * 1000 < 3000 ? t * 1000 : 3000;
    api->http.ca_file = c->ca_file;
    api->http.max_response = 1024 * 1024;
}

void wos_cfg_cookie_attrs(const wos_dir_cfg *c, wos_cookie_attrs *a)
{
    a->path = c->cookie_path ? c->cookie_path : "/";
    a->domain = c->cookie_domain;
    a->same_site = c->cookie_samesite ? c->cookie_samesite : "Lax";
    a->secure = wos_cfg_int(c->cookie_secure, 1);
    if (!strcmp(a->same_site, "None"))
        a->secure = 1;      /* browsers drop SameSite=None cookies that are not Secure */
    a->http_only = 1;
    a->max_age = c->cookie_max_age == WOS_UNSET ? DFLT_MAX_AGE : c->cookie_max_age;
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

static const char *parse_int(cmd_parms *cmd, const char *arg, long lo, long hi, int *out)
{
    char *end;
    long v = strtol(arg, &end, 10);

    if (!*arg || *end || v < lo || v > hi)
        return apr_psprintf(cmd->pool, "%s: '%s' is not a number from %ld to %ld",
                            cmd->cmd->name, arg, lo, hi);
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

static const char *set_cookie_attr(cmd_parms *cmd, void *m, const char *arg)
{
    const char *c;
    int which = (int)(long)cmd->info;

    for (c = arg; *c; c++)
        if (apr_iscntrl(*c) || *c == ';' || *c == ',' || *c == ' ')
            return apr_psprintf(cmd->pool, "%s: invalid character in '%s'", cmd->cmd->name, arg);
    if (which == 0)
        DCFG(m)->cookie_domain = arg;
    else {
        if (arg[0] != '/')
            return "WorkOSCookiePath: must start with /";
        DCFG(m)->cookie_path = arg;
    }
    return NULL;
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

static const char *set_max_age(cmd_parms *cmd, void *m, const char *arg)
{
    int v = 0;
    const char *err = parse_int(cmd, arg, 0, 34560000, &v);
    if (!err)
        DCFG(m)->cookie_max_age = v;
    return err;
}

static const char *set_chunk_size(cmd_parms *cmd, void *m, const char *arg)
{
    return parse_int(cmd, arg, WOS_COOKIE_MIN_CHUNK_SIZE, WOS_COOKIE_MAX_CHUNK_SIZE,
                     &DCFG(m)->cookie_chunk_size);
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

/* Integer directives share one handler; cmd->info is the field's offset. */
static const char *set_seconds(cmd_parms *cmd, void *m, const char *arg)
{
    long off = (long)cmd->info;
    long hi = off == APR_OFFSETOF(wos_dir_cfg, http_timeout) ? 120 : 86400 * 30;
    long lo = off == APR_OFFSETOF(wos_dir_cfg, http_timeout)
           || off == APR_OFFSETOF(wos_dir_cfg, jwks_ttl) ? 1 : 0;
    return parse_int(cmd, arg, lo, hi, (int *)((char *)m + off));
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

static const char *set_endpoint(cmd_parms *cmd, void *m, const char *arg)
{
    long off = (long)cmd->info;
    int url_ok = off == APR_OFFSETOF(wos_dir_cfg, redirect_uri)
              || off == APR_OFFSETOF(wos_dir_cfg, logout_return_to);
    const char *err = check_path_or_url(cmd, arg, url_ok);

    if (!err)
        *(const char **)((char *)m + off) = arg;
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

static const char *set_session_cache(cmd_parms *cmd, void *m, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    return err ? err : parse_int(cmd, arg, 0, 1000000, &wos_scfg(cmd->server)->session_cache_size);
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

/* WorkOSCachePassword / WorkOSCacheUsername / WorkOSCacheCAFile (cmd->info: which). */
static const char *set_cache_auth(cmd_parms *cmd, void *m, const char *arg)
{
    wos_srv_cfg *s = wos_scfg(cmd->server);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_finfo_t fi;

    if (err)
        return err;
    switch ((long)cmd->info) {
    case 0:
        return resolve_secret(cmd, arg, &s->cache_password);
    case 1:
        s->cache_username = arg;
        return NULL;
    default:
        s->cache_ca_file = ap_server_root_relative(cmd->pool, arg);
        if (!s->cache_ca_file
            || apr_stat(&fi, s->cache_ca_file, APR_FINFO_TYPE, cmd->temp_pool) != APR_SUCCESS)
            return apr_psprintf(cmd->pool, "WorkOSCacheCAFile: cannot read %s", arg);
        return NULL;
    }
}

#define OFF(f) (void *)APR_OFFSETOF(wos_dir_cfg, f)
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
    AP_INIT_TAKE1("WorkOSCookieDomain", set_cookie_attr, (void *)0, WOS_DIR,
                  "Session cookie Domain attribute (default: host only)"),
    AP_INIT_TAKE1("WorkOSCookiePath", set_cookie_attr, (void *)1, WOS_DIR,
                  "Session cookie Path attribute (default /)"),
    AP_INIT_TAKE1("WorkOSCookieSameSite", set_samesite, NULL, WOS_DIR,
                  "Lax (default), Strict or None"),
    AP_INIT_FLAG("WorkOSCookieSecure", set_secure, NULL, WOS_DIR,
                 "Mark cookies Secure (default On)"),
    AP_INIT_TAKE1("WorkOSCookieMaxAge", set_max_age, NULL, WOS_DIR,
                  "Session cookie Max-Age in seconds (default 34560000)"),
    AP_INIT_TAKE1("WorkOSCookieChunkSize", set_chunk_size, NULL, WOS_DIR,
                  "Value bytes per chunk of a session too large for one cookie (default 3800)"),
    AP_INIT_TAKE1("WorkOSUnauthAction", set_choice, (void *)&unauth_choice, WOS_DIR,
                  "login (default), 401, 403 or pass"),
    AP_INIT_TAKE1("WorkOSRemoteUser", set_choice, (void *)&remote_user_choice, WOS_DIR,
                  "REMOTE_USER is the user's id (default) or verified email"),
    AP_INIT_TAKE1("WorkOSPassClaimsAs", set_choice, (void *)&pass_choice, WOS_DIR,
                  "environment (default), headers, both or none"),
    AP_INIT_FLAG("WorkOSPassAccessToken", set_pass_token, NULL, WOS_DIR,
                 "Also pass the access token (default Off)"),
    AP_INIT_TAKE1("WorkOSClockSkew", set_seconds, OFF(clock_skew), WOS_DIR,
                  "Allowed clock skew in seconds (default 60)"),
    AP_INIT_TAKE_ARGV("WorkOSIssuer", set_issuers, NULL, WOS_CONF,
                      "Accepted token issuers (default: not checked)"),
    AP_INIT_TAKE1("WorkOSJWKSCacheTTL", set_seconds, OFF(jwks_ttl), WOS_CONF,
                  "Seconds a fetched JWKS is used (default 3600)"),
    AP_INIT_TAKE1("WorkOSHTTPTimeout", set_seconds, OFF(http_timeout), WOS_CONF,
                  "Timeout for calls to WorkOS in seconds (default 5)"),
    AP_INIT_TAKE1("WorkOSCAFile", set_ca_file, NULL, WOS_CONF,
                  "CA bundle for TLS to WorkOS (default: the system's)"),
    AP_INIT_TAKE1("WorkOSCache", set_cache, NULL, RSRC_CONF,
                  "Shared cache: redis:host[:port][,...], rediss:..., or a mod_socache "
                  "provider[:args], also as socache:provider[:args] (default shmcb)"),
    AP_INIT_TAKE1("WorkOSCacheTimeout", set_cache_timeout, NULL, RSRC_CONF,
                  "Connect and call timeout of a shared cache (default 200ms)"),
    AP_INIT_TAKE1("WorkOSCachePassword", set_cache_auth, (void *)0, RSRC_CONF,
                  "Password for redis AUTH: a literal, env:NAME or file:/path"),
    AP_INIT_TAKE1("WorkOSCacheUsername", set_cache_auth, (void *)1, RSRC_CONF,
                  "User name for redis AUTH (redis 6 ACL; default none)"),
    AP_INIT_TAKE1("WorkOSCacheCAFile", set_cache_auth, (void *)2, RSRC_CONF,
                  "CA bundle for TLS to redis (rediss:; default: the system's)"),
    AP_INIT_TAKE1("WorkOSSessionCache", set_session_cache, NULL, RSRC_CONF,
                  "Verified sessions each process remembers (default 1024; 0 turns it off)"),
    AP_INIT_TAKE12("WorkOSSessionCacheSize", wos_scache_set_size, NULL, RSRC_CONF,
                   "Bytes of shared memory for verified sessions all processes share "
                   "(default 16M; 0 turns it off), and optionally bytes per entry (768)"),
    AP_INIT_TAKE1("WorkOSRedirectURI", set_endpoint, OFF(redirect_uri), WOS_CONF,
                  "The sign-in callback the module serves (path or absolute URL)"),
    AP_INIT_TAKE1("WorkOSLoginURI", set_endpoint, OFF(login_uri), WOS_CONF,
                  "Path that starts sign-in (?return_to=...)"),
    AP_INIT_TAKE1("WorkOSSignUpURI", set_endpoint, OFF(signup_uri), WOS_CONF,
                  "Path that starts sign-up (?return_to=...)"),
    AP_INIT_TAKE1("WorkOSLogoutURI", set_endpoint, OFF(logout_uri), WOS_CONF,
                  "Path that signs out"),
    AP_INIT_TAKE1("WorkOSLogoutReturnTo", set_endpoint, OFF(logout_return_to), WOS_CONF,
                  "Where WorkOS sends the browser after sign-out"),
    AP_INIT_TAKE1("WorkOSSwitchOrganizationURI", set_endpoint, OFF(switch_org_uri), WOS_CONF,
                  "Path that switches organization (?organization_id=...&return_to=...)"),
    AP_INIT_TAKE1("WorkOSRefreshBeforeExpiry", set_seconds, OFF(refresh_before), WOS_CONF,
                  "Refresh this many seconds before the access token expires (default 60)"),
    AP_INIT_TAKE1("WorkOSConnection", set_string, OFF(connection), WOS_DIR,
                  "Sign in through this connection instead of AuthKit"),
    AP_INIT_TAKE1("WorkOSOrganization", set_string, OFF(organization), WOS_DIR,
                  "Sign in through this organization's connection"),
    AP_INIT_TAKE_ARGV("WorkOSRedirectAllow", set_redirect_allow, NULL, WOS_DIR,
                      "Origins (scheme://host[:port]) allowed as absolute return_to targets"),
    AP_INIT_TAKE1("WorkOSSessionFormat", wos_set_session_format, NULL, WOS_CONF,
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
