/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_redis.c: the module's own redis store on hiredis (see wos_redis.h).
 *
 * Commands:   get   GET key
 *             set   SET key value PX ms
 *             add   SET key value NX PX ms        (atomic: one caller wins)
 *             remove DEL key
 *             remove_if  EVAL <compare and delete> 1 key value
 * Values are binary-safe (argv with lengths); expiries are relative
 * milliseconds, rounded up, so an entry never outlives its expiry by more
 * than a millisecond of the store's clock.
 */
#include <errno.h>
#include <string.h>
#include <apr_atomic.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <hiredis/hiredis.h>
#ifdef WOS_HAVE_HIREDIS_SSL
#include <hiredis/hiredis_ssl.h>
#endif

#include "wos_redis.h"

/* Idle connections a process keeps (one per concurrent request that used the store). */
#define MAX_IDLE 16
#define ERR_MAX 160

/* Removes KEYS[1] only while it holds ARGV[1]: 1 removed, 0 another value, -1 absent. */
static const char UNLOCK_LUA[] =
    "local v = redis.call('GET', KEYS[1]) "
    "if not v then return -1 end "
    "if v == ARGV[1] then return redis.call('DEL', KEYS[1]) end "
    "return 0";

struct wos_redis {
    wos_cache cache;                 /* baton = this */
    wos_redis_cfg cfg;
    apr_thread_mutex_t *mu;          /* guards idle, nidle and last_error */
    redisContext *idle[MAX_IDLE];
    int nidle;
    volatile apr_uint32_t current;   /* index into cfg.hosts of the host to connect to */
    char last_error[ERR_MAX];
#ifdef WOS_HAVE_HIREDIS_SSL
    redisSSLContext *ssl;
#endif
};

/* ---- configuration ---------------------------------------------------------- */

static wos_rv parse_port(const char *s, int *port)
{
    char *end;
    long v;

    if (!*s || !apr_isdigit(*s))
        return WOS_EINVAL;
    v = strtol(s, &end, 10);
    if (*end || v < 1 || v > 65535)
        return WOS_EINVAL;
    *port = (int)v;
    return WOS_OK;
}

/* One "host[:port]" or "[v6]:port". */
static wos_rv parse_host(apr_pool_t *p, const char *item, wos_redis_host *h)
{
    const char *colon;

    h->port = WOS_REDIS_DEFAULT_PORT;
    if (*item == '[') {
        const char *close = strchr(item, ']');
        if (!close || close == item + 1 || (close[1] && close[1] != ':'))
            return WOS_EINVAL;
        h->host = apr_pstrmemdup(p, item + 1, (apr_size_t)(close - item - 1));
        return close[1] ? parse_port(close + 2, &h->port) : WOS_OK;
    }
    colon = strchr(item, ':');
    if (colon && strchr(colon + 1, ':'))
        return WOS_EINVAL;      /* a bare IPv6 address: brackets are needed */
    h->host = colon ? apr_pstrmemdup(p, item, (apr_size_t)(colon - item)) : item;
    if (!*h->host)
        return WOS_EINVAL;
    return colon ? parse_port(colon + 1, &h->port) : WOS_OK;
}

wos_rv wos_redis_parse_hosts(apr_pool_t *p, const char *list, apr_array_header_t **hosts,
                             const char **err)
{
    char *item = apr_pstrdup(p, list ? list : ""), *next;
    apr_array_header_t *a = apr_array_make(p, 2, sizeof(wos_redis_host));

    for (; item; item = next) {
        wos_redis_host *h = apr_array_push(a);
        if ((next = strchr(item, ',')) != NULL)
            *next++ = '\0';
        while (apr_isspace(*item))
            item++;
        if (parse_host(p, item, h) != WOS_OK) {
            *err = apr_psprintf(p, "'%s' is not host[:port] (port 1-65535; an IPv6 "
                                   "address in brackets)", item);
            return WOS_EINVAL;
        }
    }
    if (a->nelts == 0) {
        *err = "at least one host[:port] is required";
        return WOS_EINVAL;
    }
    *hosts = a;
    return WOS_OK;
}

int wos_redis_tls_available(void)
{
#ifdef WOS_HAVE_HIREDIS_SSL
    return 1;
#else
    return 0;
#endif
}

/* ---- connections -------------------------------------------------------------- */

static const wos_redis_host *host_at(const wos_redis *r, apr_uint32_t i)
{
    return &APR_ARRAY_IDX(r->cfg.hosts, (int)(i % (apr_uint32_t)r->cfg.hosts->nelts),
                          wos_redis_host);
}

/* Remember why the store failed, and send the next connection to the next host. */
static void failed(wos_redis *r, apr_uint32_t host, const char *what)
{
    const wos_redis_host *h = host_at(r, host);

    apr_thread_mutex_lock(r->mu);
    apr_snprintf(r->last_error, sizeof(r->last_error), "%s:%d: %s", h->host, h->port, what);
    apr_thread_mutex_unlock(r->mu);
    apr_atomic_cas32(&r->current, host + 1, host);
}

/* Whether a failed read or write ran out of time (SO_RCVTIMEO reads EAGAIN). */
static int timed_out(int saved_errno)
{
    return saved_errno == EAGAIN || saved_errno == EWOULDBLOCK || saved_errno == EINPROGRESS;
}

/* hiredis's error as a short phrase. */
static const char *ctx_error(const redisContext *c, int saved_errno, char *buf, apr_size_t n,
                             long timeout_ms)
{
    if (!c)
        return "out of memory";
    if (c->err == REDIS_ERR_IO && timed_out(saved_errno))
        apr_snprintf(buf, n, "no answer within %ld ms", timeout_ms);
    else
        apr_snprintf(buf, n, "%s", c->errstr[0] ? c->errstr : "connection failed");
    return buf;
}

/* AUTH [username] password; 1 when accepted. */
static int authenticate(wos_redis *r, redisContext *c, apr_uint32_t host)
{
    const char *argv[3] = {"AUTH", NULL, NULL};
    size_t lens[3] = {4, 0, 0};
    int argc = 1;
    redisReply *rep;
    char buf[ERR_MAX];

    if (r->cfg.username) {
        argv[argc] = r->cfg.username;
        lens[argc++] = strlen(r->cfg.username);
    }
    argv[argc] = r->cfg.password;
    lens[argc++] = strlen(r->cfg.password);
    rep = redisCommandArgv(c, argc, argv, lens);
    if (!rep) {
        failed(r, host, ctx_error(c, errno, buf, sizeof(buf), r->cfg.timeout_ms));
        return 0;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        /* The server's text names the problem, never the password. */
        apr_snprintf(buf, sizeof(buf), "AUTH refused: %.100s", rep->str);
        failed(r, host, buf);
        freeReplyObject(rep);
        return 0;
    }
    freeReplyObject(rep);
    return 1;
}

static int secure(wos_redis *r, redisContext *c, apr_uint32_t host)
{
#ifdef WOS_HAVE_HIREDIS_SSL
    if (r->ssl && redisInitiateSSLWithContext(c, r->ssl) != REDIS_OK) {
        failed(r, host, c->errstr[0] ? c->errstr : "TLS handshake failed");
        return 0;
    }
#else
    (void)r, (void)c, (void)host;
#endif
    return 1;
}

/* A new connection to the current host, its timeouts set and AUTH done; NULL on failure. */
static redisContext *connect_one(wos_redis *r)
{
    apr_uint32_t host = apr_atomic_read32(&r->current);
    const wos_redis_host *h = host_at(r, host);
    struct timeval tv;
    redisContext *c;
    char buf[ERR_MAX];

    tv.tv_sec = r->cfg.timeout_ms / 1000;
    tv.tv_usec = (r->cfg.timeout_ms % 1000) * 1000;
    c = redisConnectWithTimeout(h->host, h->port, tv);
    if (!c || c->err || redisSetTimeout(c, tv) != REDIS_OK) {
        failed(r, host, ctx_error(c, errno, buf, sizeof(buf), r->cfg.timeout_ms));
        if (c)
            redisFree(c);
        return NULL;
    }
    if (!secure(r, c, host) || (r->cfg.password && !authenticate(r, c, host))) {
        redisFree(c);
        return NULL;
    }
    return c;
}

/* An idle connection of this process (*reused = 1), else a new one. */
static redisContext *acquire(wos_redis *r, int *reused)
{
    redisContext *c = NULL;

    apr_thread_mutex_lock(r->mu);
    if (r->nidle > 0)
        c = r->idle[--r->nidle];
    apr_thread_mutex_unlock(r->mu);
    *reused = c != NULL;
    return c ? c : connect_one(r);
}

static void release(wos_redis *r, redisContext *c)
{
    apr_thread_mutex_lock(r->mu);
    if (r->nidle < MAX_IDLE) {
        r->idle[r->nidle++] = c;
        c = NULL;
    }
    apr_thread_mutex_unlock(r->mu);
    if (c)
        redisFree(c);
}

/*
 * Run one command; the reply (never an error reply) in *out. A connection
 * that fails is dropped. An idle connection that fails at once (closed by a
 * restarted store) is replaced and the command sent again, once; a timeout
 * is never retried, so a call costs at most one timeout plus a connect.
 */
static wos_rv command(wos_redis *r, int argc, const char **argv, const size_t *lens,
                      redisReply **out)
{
    int reused, attempt;

    for (attempt = 0; attempt < 2; attempt++) {
        apr_uint32_t host = apr_atomic_read32(&r->current);
        redisContext *c = acquire(r, &reused);
        redisReply *rep;
        char buf[ERR_MAX];
        int saved;

        if (!c)
            return WOS_EUNAVAIL;
        errno = 0;
        rep = redisCommandArgv(c, argc, argv, lens);
        saved = c->err == REDIS_ERR_IO ? errno : 0;
        if (rep && rep->type == REDIS_REPLY_ERROR) {
            /* READONLY (a replica), LOADING, NOAUTH, OOM...: this host cannot serve us. */
            apr_snprintf(buf, sizeof(buf), "%.100s", rep->str);
            failed(r, host, buf);
            freeReplyObject(rep);
            redisFree(c);
            return WOS_EUNAVAIL;
        }
        if (rep) {
            release(r, c);
            *out = rep;
            return WOS_OK;
        }
        failed(r, host, ctx_error(c, saved, buf, sizeof(buf), r->cfg.timeout_ms));
        redisFree(c);
        if (!reused || timed_out(saved))
            return WOS_EUNAVAIL;
    }
    return WOS_EUNAVAIL;
}

/* Milliseconds left until @p expiry, rounded up; 0 when it has passed. */
static apr_int64_t ttl_ms(apr_time_t expiry)
{
    apr_time_t left = expiry - apr_time_now();

    return left <= 0 ? 0 : (left + 999) / 1000;
}

/* ---- the wos_cache operations ------------------------------------------------- */

static wos_rv r_get(const wos_cache *cc, apr_pool_t *p, const char *key,
                    apr_size_t max_len, char **val, apr_size_t *len)
{
    const char *argv[2] = {"GET", key};
    size_t lens[2] = {3, strlen(key)};
    redisReply *rep;
    wos_rv rv;

    if ((rv = command(cc->baton, 2, argv, lens, &rep)) != WOS_OK)
        return rv;
    if (rep->type != REDIS_REPLY_STRING)
        rv = WOS_ENOKEY;
    else if (rep->len > max_len)
        rv = WOS_ETOOBIG;
    else {
        *val = apr_pstrmemdup(p, rep->str, rep->len);
        *len = rep->len;
    }
    freeReplyObject(rep);
    return rv;
}

/* SET key value PX ms [NX]: WOS_OK stored, WOS_EBUSY (NX) present. */
static wos_rv set_px(const wos_cache *cc, const char *key, const char *val, apr_size_t len,
                     apr_time_t expiry, int nx)
{
    char ms[32];
    const char *argv[6] = {"SET", key, val, "PX", ms, "NX"};
    size_t lens[6] = {3, strlen(key), len, 2, 0, 2};
    apr_int64_t left = ttl_ms(expiry);
    redisReply *rep;
    wos_rv rv;

    if (left == 0)
        return WOS_OK;                  /* expired already: nothing to keep */
    lens[4] = (size_t)apr_snprintf(ms, sizeof(ms), "%" APR_INT64_T_FMT, left);
    if ((rv = command(cc->baton, nx ? 6 : 5, argv, lens, &rep)) != WOS_OK)
        return rv;
    rv = rep->type == REDIS_REPLY_STATUS ? WOS_OK : WOS_EBUSY;   /* NX: nil when present */
    freeReplyObject(rep);
    return rv;
}

static wos_rv r_set(const wos_cache *cc, apr_pool_t *p, const char *key,
                    const char *val, apr_size_t len, apr_time_t expiry)
{
    (void)p;
    return set_px(cc, key, val, len, expiry, 0);
}

static wos_rv r_add(const wos_cache *cc, apr_pool_t *p, const char *key,
                    const char *val, apr_size_t len, apr_time_t expiry)
{
    (void)p;
    return set_px(cc, key, val, len, expiry, 1);
}

static wos_rv r_remove(const wos_cache *cc, apr_pool_t *p, const char *key)
{
    const char *argv[2] = {"DEL", key};
    size_t lens[2] = {3, strlen(key)};
    redisReply *rep;
    wos_rv rv;

    (void)p;
    if ((rv = command(cc->baton, 2, argv, lens, &rep)) != WOS_OK)
        return rv;
    rv = rep->type == REDIS_REPLY_INTEGER && rep->integer > 0 ? WOS_OK : WOS_ENOKEY;
    freeReplyObject(rep);
    return rv;
}

static wos_rv r_remove_if(const wos_cache *cc, apr_pool_t *p, const char *key,
                          const char *val, apr_size_t len)
{
    const char *argv[5] = {"EVAL", UNLOCK_LUA, "1", key, val};
    size_t lens[5] = {4, sizeof(UNLOCK_LUA) - 1, 1, strlen(key), len};
    redisReply *rep;
    wos_rv rv;

    (void)p;
    if ((rv = command(cc->baton, 5, argv, lens, &rep)) != WOS_OK)
        return rv;
    rv = rep->type != REDIS_REPLY_INTEGER ? WOS_EUNAVAIL
       : rep->integer > 0                 ? WOS_OK
       : rep->integer == 0                ? WOS_EBUSY
                                          : WOS_ENOKEY;
    freeReplyObject(rep);
    return rv;
}

/* ---- life cycle ----------------------------------------------------------------- */

static apr_status_t redis_cleanup(void *data)
{
    wos_redis *r = data;

    while (r->nidle > 0)
        redisFree(r->idle[--r->nidle]);
#ifdef WOS_HAVE_HIREDIS_SSL
    if (r->ssl)
        redisFreeSSLContext(r->ssl);
    r->ssl = NULL;
#endif
    return APR_SUCCESS;
}

static wos_rv setup_tls(wos_redis *r, const char **err)
{
#ifdef WOS_HAVE_HIREDIS_SSL
    redisSSLContextError e = REDIS_SSL_CTX_NONE;

    if (!r->cfg.tls)
        return WOS_OK;
    redisInitOpenSSL();
    r->ssl = redisCreateSSLContext(r->cfg.ca_file, NULL, NULL, NULL,
                                   host_at(r, 0)->host, &e);
    if (!r->ssl) {
        *err = redisSSLContextGetError(e);
        return WOS_ECRYPTO;
    }
    return WOS_OK;
#else
    if (!r->cfg.tls)
        return WOS_OK;
    *err = "this build has no TLS for redis (hiredis_ssl was not found at build time)";
    return WOS_EINVAL;
#endif
}

wos_rv wos_redis_create(apr_pool_t *p, const wos_redis_cfg *cfg, wos_redis **out,
                        const char **err)
{
    wos_redis *r = apr_pcalloc(p, sizeof(*r));
    wos_rv rv;

    if (!cfg->hosts || cfg->hosts->nelts == 0 || cfg->timeout_ms <= 0) {
        *err = "no host, or no timeout";
        return WOS_EINVAL;
    }
    r->cfg = *cfg;
    if (apr_thread_mutex_create(&r->mu, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS) {
        *err = "cannot create a mutex";
        return WOS_ECRYPTO;
    }
    apr_pool_cleanup_register(p, r, redis_cleanup, apr_pool_cleanup_null);
    if ((rv = setup_tls(r, err)) != WOS_OK)
        return rv;
    r->cache.baton = r;
    r->cache.flags = 0;                  /* the add is atomic */
    r->cache.get = r_get;
    r->cache.set = r_set;
    r->cache.add = r_add;
    r->cache.remove = r_remove;
    r->cache.remove_if = r_remove_if;
    *out = r;
    return WOS_OK;
}

const wos_cache *wos_redis_cache(wos_redis *r)
{
    return &r->cache;
}

const char *wos_redis_last_error(wos_redis *r, apr_pool_t *p)
{
    const char *s;

    apr_thread_mutex_lock(r->mu);
    s = apr_pstrdup(p, r->last_error[0] ? r->last_error : "no failure");
    apr_thread_mutex_unlock(r->mu);
    return s;
}
