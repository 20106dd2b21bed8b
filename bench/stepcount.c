/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/stepcount.c: each step of authenticating a request, run N times on its
 * own, for bench/steps to count under callgrind (instructions do not depend
 * on what else the machine runs). Inputs are a real session: the cookie and
 * the JWKS the emulator served, in files; the password in the environment.
 *
 *   stepcount COOKIE_FILE JWKS_FILE N      (password: $WOS_BENCH_COOKIE_PASSWORD)
 *
 * Each step_* function is one thing the request path does; bench/steps reads
 * their inclusive counts (and those of the library functions inside them)
 * from callgrind_annotate and divides by N.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <openssl/evp.h>

#include "wos_claims.h"
#include "wos_idpack.h"
#include "wos_jwks.h"
#include "wos_jwt.h"
#include "wos_scache.h"
#include "wos_seal.h"
#include "wos_session.h"
#include "wos_vcache.h"

#define STEP static __attribute__((noinline))

typedef struct inputs {
    const char *cookie;
    apr_array_header_t *passwords;
    wos_jwks *jwks;
    wos_vcache_settings settings;
    char *json;                 /* the unsealed session */
    apr_size_t json_len;
    wos_session *session;
    wos_claims *claims;
    unsigned char key[WOS_VCACHE_KEY_LEN];
    wos_scache *scache;
    wos_vcache *vcache;
} inputs;

static int die(const char *what)
{
    fprintf(stderr, "stepcount: %s\n", what);
    exit(1);
}

static char *slurp(apr_pool_t *p, const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = apr_palloc(p, 1 << 20);
    size_t n = f ? fread(buf, 1, (1 << 20) - 1, f) : 0;

    if (!f || n == 0)
        die(apr_psprintf(p, "cannot read %s", path));
    fclose(f);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    return buf;
}

/* The key the cache used before (SHA-256 over the settings and the cookie). */
STEP void step_key_sha256(inputs *in)
{
    unsigned char out[32];
    unsigned int n;
    EVP_MD_CTX *md = EVP_MD_CTX_new();

    EVP_DigestInit_ex2(md, EVP_sha256(), NULL);
    EVP_DigestUpdate(md, in->settings.client_id, strlen(in->settings.client_id) + 1);
    EVP_DigestUpdate(md, in->cookie, strlen(in->cookie));
    EVP_DigestFinal_ex(md, out, &n);
    EVP_MD_CTX_free(md);
}

STEP void step_key_siphash(inputs *in)
{
    if (wos_vcache_key(in->cookie, &in->settings, in->key) != WOS_OK)
        die("key");
}

STEP void step_unseal(apr_pool_t *p, inputs *in)
{
    char *json;
    apr_size_t len;
    int idx;

    if (wos_unseal(p, in->cookie, strlen(in->cookie), in->passwords,
                   apr_time_as_msec(apr_time_now()), &json, &len, &idx, NULL) != WOS_OK)
        die("unseal");
}

STEP void step_session_json(apr_pool_t *p, inputs *in)
{
    wos_session *s;

    if (wos_session_parse(p, in->json, in->json_len, &s, NULL) != WOS_OK)
        die("session JSON");
}

STEP void step_jwt(apr_pool_t *p, inputs *in)
{
    wos_claims *c;
    wos_jwt_opts o = {60, NULL, 0};

    if (wos_jwt_verify(p, in->session->access_token, in->jwks, &o, wos_now_sec(), &c,
                       NULL) != WOS_OK)
        die("token");
}

STEP void step_identity(apr_pool_t *p, inputs *in)
{
    wos_identity_vars(p, in->session, in->claims, 0);
}

/* Everything a request without any cache does, in the order it does it. */
STEP void step_uncached(apr_pool_t *p, inputs *in)
{
    step_unseal(p, in);
    step_session_json(p, in);
    step_jwt(p, in);
    step_identity(p, in);
}

STEP void step_shared_store(apr_pool_t *p, inputs *in)
{
    wos_scache_put_session(in->scache, p, in->key, wos_now_sec() + 600, in->session,
                           in->claims);
}

STEP void step_shared_hit(apr_pool_t *p, inputs *in)
{
    wos_session *s;
    wos_claims *c;

    if (wos_scache_get_session(in->scache, p, in->key, wos_now_sec(), &s, &c, NULL) != WOS_OK)
        die("shared hit");
}

STEP void step_local_store(inputs *in)
{
    wos_vcache_put_cookie(in->vcache, in->key, in->cookie, &in->settings, wos_now_sec() + 600,
                          in->session, in->claims);
}

STEP void step_local_exact(apr_pool_t *p, inputs *in)
{
    wos_session *s;
    wos_claims *c;
    const apr_array_header_t *id;

    if (wos_vcache_get_cookie(in->vcache, p, in->cookie, strlen(in->cookie),
                              &in->settings, wos_now_sec(), &s, &c,
                              &id) != WOS_OK)
        die("local hit by cookie");
}

STEP void step_local_hit(apr_pool_t *p, inputs *in)
{
    wos_session *s;
    wos_claims *c;
    const apr_array_header_t *id;

    if (wos_vcache_get(in->vcache, p, in->key, wos_now_sec(), &s, &c, &id) != WOS_OK)
        die("local hit");
}

static int nolock(void *b)
{
    (void)b;
    return 0;
}

static void nounlock(void *b)
{
    (void)b;
}

static void setup(apr_pool_t *p, inputs *in, const char *cookie_file, const char *jwks_file)
{
    static const unsigned char hash_key[WOS_SIPHASH_KEY_LEN] = "steps-hash-key!";
    const char *pw = getenv("WOS_BENCH_COOKIE_PASSWORD"), *doc = slurp(p, jwks_file);
    wos_scache_lock lock = {nolock, nounlock, NULL};
    apr_size_t size = 1 << 20;
    void *region = apr_palloc(p, size);
    int idx;

    if (!pw)
        die("WOS_BENCH_COOKIE_PASSWORD is not set");
    in->cookie = slurp(p, cookie_file);
    in->passwords = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(in->passwords, const char *) = pw;
    in->settings.client_id = "client_01STEPS";
    in->settings.hash_key = hash_key;
    if (wos_jwks_parse(p, doc, strlen(doc), &in->jwks, NULL) != WOS_OK
        || wos_unseal(p, in->cookie, strlen(in->cookie), in->passwords,
                      apr_time_as_msec(apr_time_now()), &in->json, &in->json_len, &idx,
                      NULL) != WOS_OK
        || wos_session_parse(p, in->json, in->json_len, &in->session, NULL) != WOS_OK
        || wos_jwt_verify(p, in->session->access_token, in->jwks, NULL, wos_now_sec(),
                          &in->claims, NULL) != WOS_OK
        || wos_vcache_key(in->cookie, &in->settings, in->key) != WOS_OK
        || wos_scache_format(region, size, WOS_SCACHE_DEFAULT_ENTRY, hash_key) != WOS_OK
        || wos_scache_attach(p, region, size, &lock, &in->scache) != WOS_OK
        || wos_vcache_create(p, 1024, &in->vcache) != WOS_OK)
        die("the inputs do not verify (cookie, password and JWKS of one session?)");
}

int main(int argc, char **argv)
{
    apr_pool_t *p, *rp;
    inputs in;
    long n, i;

    if (argc != 4 || (n = atol(argv[3])) < 1)
        return die("usage: stepcount COOKIE_FILE JWKS_FILE N"), 2;
    apr_app_initialize(&argc, (const char *const **)&argv, NULL);
    apr_pool_create(&p, NULL);
    apr_pool_create(&rp, p);
    memset(&in, 0, sizeof(in));
    setup(p, &in, argv[1], argv[2]);
    step_uncached(rp, &in);             /* warm: the first RSA use sets up contexts */
    step_shared_store(rp, &in);
    step_local_store(&in);
    apr_pool_clear(rp);
    for (i = 0; i < n; i++) {
        step_key_sha256(&in);
        step_key_siphash(&in);
        step_uncached(rp, &in);
        step_shared_store(rp, &in);
        step_shared_hit(rp, &in);
        step_local_store(&in);
        step_local_hit(rp, &in);
        step_local_exact(rp, &in);
        apr_pool_clear(rp);
    }
    {
        void *packed;
        apr_size_t plen = 0;
        wos_idpack(p, in.session, in.claims, 65536, &packed, &plen);
        printf("steps: %ld iterations, cookie %zu bytes, session JSON %zu bytes, shared "
               "cache entry %zu bytes (+40 of header)\n", n, strlen(in.cookie), in.json_len,
               plen);
    }
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
