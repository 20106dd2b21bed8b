/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sealtool: seal and unseal iron "Fe26.2" cookies with the module's core, for
 * the compatibility and integration tests.
 *
 *   sealtool seal      --password PW [--ttl SEC] [--now-ms MS]     JSON on stdin
 *   sealtool unseal    --password PW [--password OLD ...] [--now-ms MS]
 *                      [--print-index]                            seal on stdin
 *   sealtool seal-auth --password PW [--format node|ruby|python]  WorkOS
 *                      authenticate 200 answer (snake_case) on stdin, sealed
 *                      as that SDK seals it (WorkOSSessionFormat; default node)
 *
 * --count N (seal, seal-auth) prints N seals of the same payload, one a line:
 * each has salts and an IV of its own, so N distinct cookies of one session
 * (bench/run's many-sessions sweep).
 *
 * --password-env NAME takes a password from the environment instead, so that
 * tests keep secrets off the command line. `seal` prints the seal and a
 * newline; `unseal` prints the payload exactly. Exit 1 on failure (the reason
 * on stderr), 2 on a usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "wos_format.h"
#include "wos_seal.h"
#include "wos_session.h"

#define STDIN_MAX (4 * 1024 * 1024)

typedef struct tool_args {
    const char *cmd;
    apr_array_header_t *passwords;  /* const char *; index 0 = current */
    apr_int64_t ttl_sec;
    apr_int64_t now_ms;
    int print_index;
    wos_format format;
    apr_int64_t count;
} tool_args;

static int usage(const char *why)
{
    fprintf(stderr, "sealtool: %s\n"
            "usage: sealtool seal --password PW [--ttl SEC] [--now-ms MS]\n"
            "       sealtool unseal --password PW [--password OLD ...] [--now-ms MS]"
            " [--print-index]\n"
            "       sealtool seal-auth --password PW [--now-ms MS] [--format node|ruby|python]\n"
            "       (seal, seal-auth: --count N prints N distinct seals)\n"
            "       (--password-env NAME reads a password from the environment)\n", why);
    return 2;
}

static int fail(const char *what, wos_rv rv, const char *why)
{
    fprintf(stderr, "sealtool: %s failed: %s%s%s\n", what, wos_strerror(rv),
            why ? ": " : "", why ? why : "");
    return 1;
}

/* Whole stdin into @p p (NUL-terminated); NULL when unreadable or too big. */
static char *read_stdin(apr_pool_t *p, apr_size_t *len)
{
    apr_size_t cap = 64 * 1024, n = 0, got;
    char *buf = malloc(cap + 1), *out = NULL;

    while (buf && (got = fread(buf + n, 1, cap - n, stdin)) > 0) {
        n += got;
        if (n == cap) {
            char *bigger = cap >= STDIN_MAX ? NULL : realloc(buf, cap * 2 + 1);
            if (!bigger)
                break;
            buf = bigger;
            cap *= 2;
        }
    }
    if (buf && !ferror(stdin) && n < cap) {
        out = apr_pstrmemdup(p, buf, n);
        *len = n;
    }
    free(buf);
    return out;
}

static int parse_int64(const char *s, apr_int64_t *out)
{
    char *end = NULL;

    errno = 0;
    *out = apr_strtoi64(s, &end, 10);
    return errno == 0 && end && end != s && *end == '\0';
}

/* One option and its value; returns 0 for an unknown or incomplete option. */
static int parse_option(tool_args *a, const char *opt, const char *val)
{
    if (!strcmp(opt, "--print-index"))
        return a->print_index = 1;
    if (!val)
        return 0;
    if (!strcmp(opt, "--password")) {
        APR_ARRAY_PUSH(a->passwords, const char *) = val;
        return 2;
    }
    if (!strcmp(opt, "--password-env")) {
        const char *pw = getenv(val);
        if (!pw)
            return 0;
        APR_ARRAY_PUSH(a->passwords, const char *) = pw;
        return 2;
    }
    if (!strcmp(opt, "--ttl"))
        return parse_int64(val, &a->ttl_sec) ? 2 : 0;
    if (!strcmp(opt, "--now-ms"))
        return parse_int64(val, &a->now_ms) ? 2 : 0;
    if (!strcmp(opt, "--format"))
        return wos_format_by_name(val, &a->format) == WOS_OK ? 2 : 0;
    if (!strcmp(opt, "--count"))
        return parse_int64(val, &a->count) && a->count > 0 ? 2 : 0;
    return 0;
}

static int parse_args(apr_pool_t *p, int argc, char **argv, tool_args *a)
{
    int i = 2, used;

    if (argc < 2)
        return 0;
    a->cmd = argv[1];
    a->passwords = apr_array_make(p, 2, sizeof(const char *));
    a->ttl_sec = 0;
    a->now_ms = (apr_int64_t)(apr_time_now() / 1000);
    a->print_index = 0;
    a->format = WOS_FORMAT_NODE;
    a->count = 1;
    while (i < argc) {
        used = parse_option(a, argv[i], i + 1 < argc ? argv[i + 1] : NULL);
        if (!used)
            return 0;
        i += used;
    }
    return a->passwords->nelts > 0;
}

static int cmd_seal(apr_pool_t *p, const tool_args *a, const char *in, apr_size_t len)
{
    const char *out;
    apr_pool_t *sub;
    apr_int64_t i;
    wos_rv rv = WOS_OK;

    apr_pool_create(&sub, p);
    for (i = 0; i < a->count && rv == WOS_OK; i++) {
        rv = wos_seal(sub, APR_ARRAY_IDX(a->passwords, 0, const char *), in, len,
                      a->ttl_sec, a->now_ms, &out);
        if (rv == WOS_OK)
            printf("%s\n", out);
        apr_pool_clear(sub);
    }
    return rv == WOS_OK ? 0 : fail("seal", rv, NULL);
}

static int cmd_unseal(apr_pool_t *p, const tool_args *a, const char *in, apr_size_t len)
{
    const char *why = NULL;
    char *out;
    apr_size_t outlen;
    int idx;
    wos_rv rv;

    /* A seal piped from a shell usually ends with a newline. */
    if (len && in[len - 1] == '\n')
        len--;
    if (len && in[len - 1] == '\r')
        len--;
    rv = wos_unseal(p, in, len, a->passwords, a->now_ms, &out, &outlen, &idx, &why);
    if (rv != WOS_OK)
        return fail("unseal", rv, why);
    fwrite(out, 1, outlen, stdout);
    if (a->print_index)
        fprintf(stderr, "index %d\n", idx);
    return 0;
}

/* As the Node SDK does after authenticate: session JSON, sealed without expiry. */
static int cmd_seal_auth(apr_pool_t *p, const tool_args *a, const char *in, apr_size_t len)
{
    wos_session *s = NULL;
    const char *why = NULL, *json;
    wos_rv rv = wos_session_from_auth_response(p, in, len, &s, &why);

    if (rv != WOS_OK)
        return fail("reading the authenticate response", rv, why);
    if (a->format != WOS_FORMAT_NODE) {
        rv = wos_format_seal(p, a->format, APR_ARRAY_IDX(a->passwords, 0, const char *), s,
                             0, &json);
        if (rv != WOS_OK)
            return fail("seal", rv, NULL);
        printf("%s\n", json);
        return 0;
    }
    json = wos_session_serialize(p, s);
    if (!json)
        return fail("serialising the session", WOS_EINVAL, NULL);
    return cmd_seal(p, a, json, strlen(json));
}

static int run(apr_pool_t *p, int argc, char **argv)
{
    tool_args a;
    apr_size_t len = 0;
    char *in;

    if (!parse_args(p, argc, argv, &a))
        return usage("bad arguments");
    if (strcmp(a.cmd, "seal") && strcmp(a.cmd, "unseal") && strcmp(a.cmd, "seal-auth"))
        return usage("unknown command");
    in = read_stdin(p, &len);
    if (!in)
        return fail("reading stdin", WOS_ETOOBIG, NULL);
    if (!strcmp(a.cmd, "seal"))
        return cmd_seal(p, &a, in, len);
    if (!strcmp(a.cmd, "unseal"))
        return cmd_unseal(p, &a, in, len);
    return cmd_seal_auth(p, &a, in, len);
}

int main(int argc, char **argv)
{
    apr_pool_t *p;
    int rc;

    apr_app_initialize(&argc, (const char *const **)&argv, NULL);
    apr_pool_create(&p, NULL);
    rc = run(p, argc, argv);
    fflush(stdout);
    apr_pool_destroy(p);
    apr_terminate();
    return rc;
}
