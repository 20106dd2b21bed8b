/* SPDX-License-Identifier: Apache-2.0 */
/*
 * replay_main.c: a main() for the fuzz harnesses without libFuzzer, so that
 * `make check` replays the corpora with the normal compiler.
 *
 *   replay_<name> FILE|DIR...
 *
 * Every file (directories: every regular file in them, sorted by name) is
 * fed to LLVMFuzzerTestOneInput in this one process, as an exact-size copy.
 * A crash, abort, oracle failure or sanitizer report ends the process; the
 * file being replayed is named first (signal handler, or the sanitizers'
 * death callback). An input running over REPLAY_TIMEOUT seconds (default
 * 60) is a hang. Leaks are reported by LeakSanitizer at exit. On success
 * the last line is "<name>: N inputs replayed" (deliberately not the
 * "N passed, N failed" form: fuzz/replay counts harnesses, not files).
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_common.h"

/* Present when linked with ASan/UBSan (weak: absent otherwise). */
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static int ran;
static const char *current;     /* the file being replayed */

static void say_current(const char *why)
{
    if (current) {
        /* async-signal-safe: write(2) only */
        ssize_t rc = write(2, "FAIL ", 5);
        rc = write(2, current, strlen(current));
        rc = write(2, ": ", 2);
        rc = write(2, why, strlen(why));
        rc = write(2, "\n", 1);
        (void)rc;
    }
}

static void on_death(void)
{
    say_current("sanitizer report");
    current = NULL;
}

/* AddressSanitizer calls this as a report begins: no timeout while it prints. */
void __asan_on_error(void);
void __asan_on_error(void)
{
    alarm(0);
}

static void on_signal(int sig)
{
    say_current(sig == SIGALRM ? "timeout" : "fatal signal");
    current = NULL;
    signal(SIGABRT, SIG_DFL);
    signal(sig, SIG_DFL);
    raise(sig == SIGALRM ? SIGABRT : sig);
}

static void catch_signals(void)
{
    static const int sigs[] = { SIGABRT, SIGALRM, SIGSEGV, SIGBUS, SIGFPE, SIGILL };
    size_t i;

    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(on_death);
    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        /* The sanitizers report SEGV and friends better themselves. */
        if (__sanitizer_set_death_callback && sigs[i] != SIGABRT && sigs[i] != SIGALRM)
            continue;
        signal(sigs[i], on_signal);
    }
}

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0, got;

    if (!f)
        return NULL;
    do {
        if (n == cap) {
            unsigned char *bigger = realloc(buf, cap ? cap * 2 : 4096);
            if (!bigger) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = bigger;
            cap = cap ? cap * 2 : 4096;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    if (ferror(f)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

static void replay_one(const char *path, unsigned timeout)
{
    size_t len = 0;
    unsigned char *data = read_file(path, &len), *copy;

    if (!data) {
        printf("FAIL %s: cannot read (%s)\n", path, strerror(errno));
        exit(1);
    }
    /* A copy of exactly the input's size, as libFuzzer gives it. */
    copy = malloc(len ? len : 1);
    if (!copy)
        abort();
    memcpy(copy, data, len);
    free(data);
    current = path;
    alarm(timeout);
    LLVMFuzzerTestOneInput(copy, len);
    alarm(0);
    current = NULL;
    free(copy);
    ran++;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void replay_path(const char *path, unsigned timeout)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, i;

    if (stat(path, &st) != 0) {
        printf("FAIL %s: %s\n", path, strerror(errno));
        exit(1);
    }
    if (!S_ISDIR(st.st_mode)) {
        replay_one(path, timeout);
        return;
    }
    if (!(d = opendir(path))) {
        printf("FAIL %s: %s\n", path, strerror(errno));
        exit(1);
    }
    while ((e = readdir(d)) != NULL) {
        char *full, **more;
        if (e->d_name[0] == '.')
            continue;
        full = malloc(strlen(path) + strlen(e->d_name) + 2);
        more = realloc(names, (n + 1) * sizeof(*names));
        if (!full || !more)
            abort();
        names = more;
        sprintf(full, "%s/%s", path, e->d_name);
        names[n++] = full;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), by_name);
    for (i = 0; i < n; i++) {
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
            replay_one(names[i], timeout);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    const char *t = getenv("REPLAY_TIMEOUT"), *name = strrchr(argv[0], '/');
    unsigned timeout = t && atoi(t) > 0 ? (unsigned)atoi(t) : 60;
    int i;

    name = name ? name + 1 : argv[0];
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", name);
        return 2;
    }
    catch_signals();
    LLVMFuzzerInitialize(&argc, &argv);
    for (i = 1; i < argc; i++)
        replay_path(argv[i], timeout);
    printf("%s: %d inputs replayed\n", name, ran);
    return ran == 0 ? 1 : 0;
}
