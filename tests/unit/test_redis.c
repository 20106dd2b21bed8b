/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_redis.c: the module's redis store (wos_redis) against a real
 * redis-server started here on a free loopback port (and stopped at the
 * end of each case): the semantics of each operation, the atomic add under
 * concurrency, the lock released only by its holder, AUTH, a paused server
 * (SIGSTOP) costing one timeout, a restarted one, and a host list.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <apr_atomic.h>
#include <apr_network_io.h>
#include <apr_thread_proc.h>
#include <hiredis/hiredis.h>

#include "testutil.h"
#include "wos_redis.h"

#define REDIS_SERVER "/usr/bin/redis-server"
#define LATER (apr_time_now() + apr_time_from_sec(60))

typedef struct server {
    pid_t pid;
    int port;
    const char *password;
} server;

static int free_port(void)
{
    apr_socket_t *s;
    apr_sockaddr_t *sa;
    int port;

    ck_assert_int_eq(apr_sockaddr_info_get(&sa, "127.0.0.1", APR_INET, 0, 0, tp), APR_SUCCESS);
    ck_assert_int_eq(apr_socket_create(&s, APR_INET, SOCK_STREAM, APR_PROTO_TCP, tp),
                     APR_SUCCESS);
    ck_assert_int_eq(apr_socket_bind(s, sa), APR_SUCCESS);
    ck_assert_int_eq(apr_socket_addr_get(&sa, APR_LOCAL, s), APR_SUCCESS);
    port = sa->port;
    apr_socket_close(s);
    return port;
}

/* Whether the server answers PING (with AUTH when it has a password). */
static int answers(const server *sv)
{
    struct timeval tv = {1, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", sv->port, tv);
    redisReply *r = NULL;
    int ok = 0;

    if (c && !c->err) {
        redisSetTimeout(c, tv);
        if (sv->password)
            freeReplyObject(redisCommand(c, "AUTH %s", sv->password));
        r = redisCommand(c, "PING");
        ok = r && r->type == REDIS_REPLY_STATUS;
    }
    if (r)
        freeReplyObject(r);
    if (c)
        redisFree(c);
    return ok;
}

static void server_start(server *sv)
{
    char port[16];
    int i;

    snprintf(port, sizeof(port), "%d", sv->port);
    sv->pid = fork();
    ck_assert_int_ge(sv->pid, 0);
    if (sv->pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        /* dies with the test's process, even one that failed before teardown */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(fd, 1);
        dup2(fd, 2);
        execl(REDIS_SERVER, REDIS_SERVER, "--port", port, "--bind", "127.0.0.1",
              "--save", "", "--appendonly", "no", "--dir", "/tmp",
              sv->password ? "--requirepass" : NULL, sv->password, (char *)NULL);
        _exit(127);
    }
    for (i = 0; i < 1000 && !answers(sv); i++)
        apr_sleep(apr_time_from_msec(10));
    ck_assert_msg(answers(sv), "redis-server did not start on port %d", sv->port);
}

static void server_stop(server *sv)
{
    if (sv->pid > 0) {
        kill(sv->pid, SIGCONT);
        kill(sv->pid, SIGKILL);
        waitpid(sv->pid, NULL, 0);
    }
    sv->pid = 0;
}

static server sv;

static void redis_setup(void)
{
    tp_setup();
    signal(SIGPIPE, SIG_IGN);       /* as in httpd: a closed socket is an error, not a death */
    memset(&sv, 0, sizeof(sv));
    sv.port = free_port();
}

static void redis_teardown(void)
{
    server_stop(&sv);
    tp_teardown();
}

static const wos_cache *store(const char *hosts, long timeout_ms, const char *password,
                              wos_redis **out)
{
    wos_redis_cfg cfg = {0};
    apr_array_header_t *h;
    const char *err = NULL;
    wos_redis *r;

    ck_assert_int_eq(wos_redis_parse_hosts(tp, hosts, &h, &err), WOS_OK);
    cfg.hosts = h;
    cfg.timeout_ms = timeout_ms;
    cfg.password = password;
    ck_assert_int_eq(wos_redis_create(tp, &cfg, &r, &err), WOS_OK);
    if (out)
        *out = r;
    return wos_redis_cache(r);
}

static const char *here(void)
{
    return apr_psprintf(tp, "127.0.0.1:%d", sv.port);
}

/* ---- parsing ------------------------------------------------------------------------ */

START_TEST(host_lists)
{
    apr_array_header_t *h;
    const char *err = NULL;
    static const char *bad[] = {"", ",", "a:0", "a:65536", "a:x", "a:", ":1", "::1:6379",
                                "[::1", "[]:1", "[::1]x", "a:1,,"};
    wos_redis_host *e;
    unsigned i;

    ck_assert_int_eq(wos_redis_parse_hosts(tp, "r1.example:6380, r2,[::1]:7000,[fe80::1]",
                                           &h, &err), WOS_OK);
    ck_assert_int_eq(h->nelts, 4);
    e = (wos_redis_host *)h->elts;
    ck_assert_str_eq(e[0].host, "r1.example");
    ck_assert_int_eq(e[0].port, 6380);
    ck_assert_str_eq(e[1].host, "r2");
    ck_assert_int_eq(e[1].port, WOS_REDIS_DEFAULT_PORT);
    ck_assert_str_eq(e[2].host, "::1");
    ck_assert_int_eq(e[2].port, 7000);
    ck_assert_str_eq(e[3].host, "fe80::1");
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err = NULL;
        ck_assert_msg(wos_redis_parse_hosts(tp, bad[i], &h, &err) == WOS_EINVAL
                      && err != NULL, "'%s' accepted", bad[i]);
    }
}
END_TEST

/* ---- operations ----------------------------------------------------------------------- */

START_TEST(get_set_add_remove)
{
    const wos_cache *c;
    char *val = NULL;
    apr_size_t len = 0;
    static const char bin[] = {'a', 0, '\r', '\n', 'b'};

    server_start(&sv);
    c = store(here(), 2000, NULL, NULL);
    ck_assert_int_eq(c->flags, 0);          /* the add is atomic */
    ck_assert_int_eq(c->get(c, tp, "wos:k", 100, &val, &len), WOS_ENOKEY);
    ck_assert_int_eq(c->add(c, tp, "wos:k", "v1", 2, LATER), WOS_OK);
    ck_assert_int_eq(c->add(c, tp, "wos:k", "v2", 2, LATER), WOS_EBUSY);
    ck_assert_int_eq(c->get(c, tp, "wos:k", 100, &val, &len), WOS_OK);
    ck_assert_str_eq(val, "v1");
    ck_assert_int_eq(c->get(c, tp, "wos:k", 1, &val, &len), WOS_ETOOBIG);
    ck_assert_int_eq(c->set(c, tp, "wos:k", bin, sizeof(bin), LATER), WOS_OK);
    ck_assert_int_eq(c->get(c, tp, "wos:k", 100, &val, &len), WOS_OK);
    ck_assert_int_eq(len, sizeof(bin));
    ck_assert_mem_eq(val, bin, sizeof(bin));
    ck_assert_int_eq(c->remove(c, tp, "wos:k"), WOS_OK);
    ck_assert_int_eq(c->remove(c, tp, "wos:k"), WOS_ENOKEY);
    ck_assert_int_eq(c->get(c, tp, "wos:k", 100, &val, &len), WOS_ENOKEY);
    /* an expiry in the past stores nothing */
    ck_assert_int_eq(c->set(c, tp, "wos:old", "x", 1, apr_time_now() - 1), WOS_OK);
    ck_assert_int_eq(c->get(c, tp, "wos:old", 100, &val, &len), WOS_ENOKEY);
}
END_TEST

/* Entries carry their expiry into redis, in milliseconds. */
START_TEST(entries_expire)
{
    const wos_cache *c;
    struct timeval tv = {2, 0};
    redisContext *raw;
    redisReply *r;
    char *val;
    apr_size_t len;

    server_start(&sv);
    c = store(here(), 2000, NULL, NULL);
    ck_assert_int_eq(c->set(c, tp, "wos:e", "x", 1, apr_time_now() + apr_time_from_sec(30)),
                     WOS_OK);
    ck_assert_int_eq(c->add(c, tp, "wos:l", "y", 1, apr_time_now() + apr_time_from_msec(1500)),
                     WOS_OK);
    raw = redisConnectWithTimeout("127.0.0.1", sv.port, tv);
    ck_assert(raw && !raw->err);
    r = redisCommand(raw, "PTTL wos:e");
    ck_assert(r->integer > 25000 && r->integer <= 30000);
    freeReplyObject(r);
    r = redisCommand(raw, "PTTL wos:l");
    ck_assert(r->integer > 0 && r->integer <= 1500);
    freeReplyObject(r);
    redisFree(raw);
    apr_sleep(apr_time_from_msec(1600));
    ck_assert_int_eq(c->get(c, tp, "wos:l", 100, &val, &len), WOS_ENOKEY);
    ck_assert_int_eq(c->add(c, tp, "wos:l", "z", 1, LATER), WOS_OK);
}
END_TEST

START_TEST(lock_released_only_by_its_holder)
{
    const wos_cache *c;
    char *val;
    apr_size_t len;

    server_start(&sv);
    c = store(here(), 2000, NULL, NULL);
    ck_assert_ptr_nonnull(c->remove_if);
    ck_assert_int_eq(c->remove_if(c, tp, "wos:lock", "me", 2), WOS_ENOKEY);
    ck_assert_int_eq(c->add(c, tp, "wos:lock", "me", 2, LATER), WOS_OK);
    ck_assert_int_eq(c->remove_if(c, tp, "wos:lock", "you", 3), WOS_EBUSY);
    ck_assert_int_eq(c->remove_if(c, tp, "wos:lock", "m", 1), WOS_EBUSY);
    ck_assert_int_eq(c->get(c, tp, "wos:lock", 100, &val, &len), WOS_OK);
    ck_assert_int_eq(c->remove_if(c, tp, "wos:lock", "me", 2), WOS_OK);
    ck_assert_int_eq(c->get(c, tp, "wos:lock", 100, &val, &len), WOS_ENOKEY);
}
END_TEST

/* Threads standing for processes of several servers, each with its own store. */
typedef struct adder {
    const char *hosts;
    volatile apr_uint32_t *gate;
    wos_rv rv;
} adder;

static void *APR_THREAD_FUNC add_once(apr_thread_t *t, void *data)
{
    adder *a = data;
    apr_pool_t *p;
    const wos_cache *c;
    wos_redis_cfg cfg = {0};
    apr_array_header_t *h;
    const char *err;
    wos_redis *r;

    (void)t;
    apr_pool_create(&p, NULL);
    wos_redis_parse_hosts(p, a->hosts, &h, &err);
    cfg.hosts = h;
    cfg.timeout_ms = 5000;
    a->rv = WOS_ECRYPTO;
    if (wos_redis_create(p, &cfg, &r, &err) == WOS_OK) {
        char *v;
        apr_size_t l;
        c = wos_redis_cache(r);
        c->get(c, p, "wos:warm", 16, &v, &l);   /* connected before the gate opens */
        while (!apr_atomic_read32(a->gate))
            ;
        a->rv = c->add(c, p, "wos:race", "x", 1, apr_time_now() + apr_time_from_sec(60));
    }
    apr_pool_destroy(p);
    return NULL;
}

START_TEST(one_add_wins_among_many)
{
    volatile apr_uint32_t gate = 0;
    adder a[16];
    apr_thread_t *th[16];
    apr_status_t st;
    int i, won = 0, busy = 0;

    server_start(&sv);
    for (i = 0; i < 16; i++) {
        a[i] = (adder){here(), &gate, WOS_OK};
        ck_assert_int_eq(apr_thread_create(&th[i], NULL, add_once, &a[i], tp), APR_SUCCESS);
    }
    apr_sleep(apr_time_from_msec(100));
    apr_atomic_set32(&gate, 1);
    for (i = 0; i < 16; i++) {
        apr_thread_join(&st, th[i]);
        won += a[i].rv == WOS_OK;
        busy += a[i].rv == WOS_EBUSY;
    }
    ck_assert_int_eq(won, 1);
    ck_assert_int_eq(busy, 15);
}
END_TEST

/* ---- failures ------------------------------------------------------------------------ */

/* A server that accepts connections and says nothing costs one timeout per
 * call; once it answers again, the store reconnects by itself. */
START_TEST(paused_server_costs_one_timeout)
{
    const wos_cache *c;
    wos_redis *r;
    char *val;
    apr_size_t len;
    apr_time_t start, took;

    server_start(&sv);
    c = store(here(), 300, NULL, &r);
    ck_assert_int_eq(c->set(c, tp, "wos:p", "v", 1, LATER), WOS_OK);   /* connected */
    ck_assert_int_eq(kill(sv.pid, SIGSTOP), 0);
    start = apr_time_now();
    ck_assert_int_eq(c->get(c, tp, "wos:p", 100, &val, &len), WOS_EUNAVAIL);
    took = apr_time_now() - start;
    ck_assert_int_ge(took, apr_time_from_msec(250));
    ck_assert_int_lt(took, apr_time_from_sec(10));     /* without the timeout: forever */
    ck_assert_ptr_nonnull(strstr(wos_redis_last_error(r, tp), "no answer within 300 ms"));
    /* a new connection (the failed one was dropped) meets the same silence */
    start = apr_time_now();
    ck_assert_int_eq(c->add(c, tp, "wos:q", "v", 1, LATER), WOS_EUNAVAIL);
    ck_assert_int_lt(apr_time_now() - start, apr_time_from_sec(10));
    ck_assert_int_eq(kill(sv.pid, SIGCONT), 0);
    ck_assert_int_eq(c->get(c, tp, "wos:p", 100, &val, &len), WOS_OK);
    ck_assert_str_eq(val, "v");
}
END_TEST

/* Connections kept from before a restart are replaced without a failed call. */
START_TEST(restarted_server_is_reconnected)
{
    const wos_cache *c;
    char *val;
    apr_size_t len;

    server_start(&sv);
    c = store(here(), 2000, NULL, NULL);
    ck_assert_int_eq(c->set(c, tp, "wos:r", "v", 1, LATER), WOS_OK);
    server_stop(&sv);
    ck_assert_int_eq(c->get(c, tp, "wos:r", 100, &val, &len), WOS_EUNAVAIL);  /* down */
    server_start(&sv);
    ck_assert_int_eq(c->set(c, tp, "wos:r", "w", 1, LATER), WOS_OK);
    server_stop(&sv);
    server_start(&sv);
    /* the idle connection is stale: replaced, and the call succeeds */
    ck_assert_int_eq(c->get(c, tp, "wos:r", 100, &val, &len), WOS_ENOKEY);
}
END_TEST

START_TEST(auth_with_password)
{
    const wos_cache *good, *bad, *none;
    wos_redis *rb, *rn;
    char *val;
    apr_size_t len;

    sv.password = "s3cret-Pa55word";
    server_start(&sv);
    good = store(here(), 2000, "s3cret-Pa55word", NULL);
    bad = store(here(), 2000, "wrong-password", &rb);
    none = store(here(), 2000, NULL, &rn);
    ck_assert_int_eq(good->set(good, tp, "wos:a", "v", 1, LATER), WOS_OK);
    ck_assert_int_eq(good->get(good, tp, "wos:a", 100, &val, &len), WOS_OK);
    ck_assert_int_eq(bad->get(bad, tp, "wos:a", 100, &val, &len), WOS_EUNAVAIL);
    ck_assert_ptr_nonnull(strstr(wos_redis_last_error(rb, tp), "AUTH refused"));
    ck_assert_ptr_null(strstr(wos_redis_last_error(rb, tp), "wrong-password"));
    ck_assert_int_eq(none->get(none, tp, "wos:a", 100, &val, &len), WOS_EUNAVAIL);
    ck_assert_ptr_nonnull(strstr(wos_redis_last_error(rn, tp), "NOAUTH"));
}
END_TEST

/* After a host fails, connections go to the next one of the list. */
START_TEST(next_host_after_a_failure)
{
    const wos_cache *c;
    wos_redis *r;
    int dead = free_port();
    char *val;
    apr_size_t len;

    server_start(&sv);
    c = store(apr_psprintf(tp, "127.0.0.1:%d,%s", dead, here()), 2000, NULL, &r);
    ck_assert_int_eq(c->set(c, tp, "wos:n", "v", 1, LATER), WOS_EUNAVAIL);
    ck_assert_ptr_nonnull(strstr(wos_redis_last_error(r, tp),
                                 apr_psprintf(tp, "127.0.0.1:%d", dead)));
    ck_assert_int_eq(c->set(c, tp, "wos:n", "v", 1, LATER), WOS_OK);
    ck_assert_int_eq(c->get(c, tp, "wos:n", 100, &val, &len), WOS_OK);
}
END_TEST

START_TEST(tls_needs_hiredis_ssl)
{
    wos_redis_cfg cfg = {0};
    apr_array_header_t *h;
    const char *err = NULL;
    wos_redis *r;

    ck_assert_int_eq(wos_redis_parse_hosts(tp, "127.0.0.1", &h, &err), WOS_OK);
    cfg.hosts = h;
    cfg.timeout_ms = 200;
    cfg.tls = 1;
    if (wos_redis_tls_available()) {
        ck_assert_int_eq(wos_redis_create(tp, &cfg, &r, &err), WOS_OK);
    }
    else {
        ck_assert_int_eq(wos_redis_create(tp, &cfg, &r, &err), WOS_EINVAL);
        ck_assert_ptr_nonnull(strstr(err, "hiredis_ssl"));
    }
}
END_TEST

static TCase *redis_tcase(const char *name)
{
    TCase *tc = tcase_create(name);

    tcase_add_checked_fixture(tc, redis_setup, redis_teardown);
    tcase_set_timeout(tc, 60);
    return tc;
}

static Suite *redis_suite(void)
{
    Suite *s = suite_create("redis");
    TCase *cfg = wos_tcase("config");
    TCase *ops = redis_tcase("operations");
    TCase *fail = redis_tcase("failures");

    tcase_add_test(cfg, host_lists);
    tcase_add_test(cfg, tls_needs_hiredis_ssl);
    tcase_add_test(ops, get_set_add_remove);
    tcase_add_test(ops, entries_expire);
    tcase_add_test(ops, lock_released_only_by_its_holder);
    tcase_add_test(ops, one_add_wins_among_many);
    tcase_add_test(fail, paused_server_costs_one_timeout);
    tcase_add_test(fail, restarted_server_is_reconnected);
    tcase_add_test(fail, auth_with_password);
    tcase_add_test(fail, next_host_after_a_failure);
    suite_add_tcase(s, cfg);
    suite_add_tcase(s, ops);
    suite_add_tcase(s, fail);
    return s;
}

WOS_TEST_MAIN(redis_suite)
