/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_session.c: the session payload parsers (src/wos_session.h):
 * wos_session_parse (an unsealed cookie) and wos_session_from_auth_response
 * (a WorkOS authenticate answer), each with wos_session_serialize.
 *
 * Input: a JSON document (given with its length, not NUL-terminated), fed
 * to the strict JSON reader both parsers use (wos_json_parse) and to both
 * parsers.
 *
 * Oracle: the reader accepts exactly what jansson accepts with duplicate
 * keys refused, an object root and at most WOS_JSON_MAX_DEPTH levels (and
 * refuses any raw NUL byte, which jansson sometimes skips), and builds an
 * equal value (json_equal); documented result codes; a session
 * exactly on success, with the
 * required fields non-empty; what serialises parses back to the same fields
 * and serialises to the same bytes again; serialising fails only for a
 * payload that could have grown past WOS_SESSION_MAX_SIZE (the input is
 * large, see below).
 */
#include <string.h>

#include "fuzz_common.h"
#include "wos_json.h"
#include "wos_session.h"

/* Serialising may grow a document (1e9 is written 1000000000.0, 6x at
 * worst for numbers), so only small inputs must always serialise. */
#define ALWAYS_SERIALISES (WOS_SESSION_MAX_SIZE / 8)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_init();
    return 0;
}

/* Deepest nesting of a value (the root object is 1). */
static int depth_of(const json_t *v)
{
    int best = 0, d;
    const char *k;
    json_t *e;
    size_t i;

    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, e)
            if ((d = depth_of(e)) > best)
                best = d;
        return best + 1;
    }
    if (json_is_array(v)) {
        json_array_foreach(v, i, e)
            if ((d = depth_of(e)) > best)
                best = d;
        return best + 1;
    }
    return 0;
}

/* The reader against jansson's own parser. */
static void json_differential(apr_pool_t *p, const char *text, size_t len)
{
    json_error_t jerr;
    json_t *want = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr), *got = NULL;
    const char *err = NULL;
    wos_rv rv;

    /* jansson skips a raw NUL after a number or literal ({"a":1<NUL>}); the
     * reader refuses any NUL, as RFC 8259 does. */
    if (want && memchr(text, '\0', len)) {
        json_decref(want);
        want = NULL;
    }
    if (want && (!json_is_object(want) || depth_of(want) > WOS_JSON_MAX_DEPTH)) {
        json_decref(want);
        want = NULL;
    }
    rv = wos_json_parse(p, text, len, &got, &err);
    FUZZ_ASSERT(rv == WOS_OK || rv == WOS_EINVAL, "JSON result code");
    FUZZ_ASSERT((rv == WOS_OK) == (got != NULL) && (rv == WOS_OK || err), "JSON result shape");
    FUZZ_ASSERT((rv == WOS_OK) == (want != NULL), "JSON reader accepts what jansson accepts");
    if (want)
        FUZZ_ASSERT(json_equal(want, got), "JSON reader builds what jansson builds");
    json_decref(want);
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static void check_session(apr_pool_t *p, const wos_session *s, size_t insize)
{
    wos_session *back = NULL;
    const char *err = NULL;
    char *text, *again;

    FUZZ_ASSERT(s->access_token && *s->access_token && s->refresh_token && *s->refresh_token
                && s->user_id && *s->user_id, "required fields non-empty");
    FUZZ_ASSERT(s->user_email_verified >= -1 && s->user_email_verified <= 1, "tri-state");
    FUZZ_ASSERT(!s->impersonator_reason || s->impersonator_email, "reason only with email");
    text = wos_session_serialize(p, s);
    if (!text) {
        FUZZ_ASSERT(insize > ALWAYS_SERIALISES, "a parsed session serialises");
        return;
    }
    FUZZ_ASSERT(strlen(text) <= WOS_SESSION_MAX_SIZE, "serialised within the cap");
    FUZZ_ASSERT(wos_session_parse(p, text, strlen(text), &back, &err) == WOS_OK && back,
                "serialised session parses");
    FUZZ_ASSERT(same(s->access_token, back->access_token)
                && same(s->refresh_token, back->refresh_token)
                && same(s->organization_id, back->organization_id)
                && same(s->authentication_method, back->authentication_method)
                && same(s->impersonator_email, back->impersonator_email)
                && same(s->impersonator_reason, back->impersonator_reason)
                && same(s->user_id, back->user_id) && same(s->user_email, back->user_email)
                && same(s->user_first_name, back->user_first_name)
                && same(s->user_last_name, back->user_last_name)
                && s->user_email_verified == back->user_email_verified,
                "round trip keeps every field");
    again = wos_session_serialize(p, back);
    FUZZ_ASSERT(again && !strcmp(again, text), "serialising is stable");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool_begin();
    char *json = fuzz_copy(data, size);
    wos_session *s = (wos_session *)1;
    const char *err = NULL;
    wos_rv rv;

    json_differential(p, json, size);
    rv = wos_session_parse(p, json, size, &s, &err);
    FUZZ_ASSERT(rv == WOS_OK || rv == WOS_EINVAL || rv == WOS_ETOOBIG, "parse result code");
    FUZZ_ASSERT((rv == WOS_OK) == (s != NULL), "a session exactly on success");
    FUZZ_ASSERT(rv == WOS_OK || err, "a reason on failure");
    if (s)
        check_session(p, s, size);

    s = (wos_session *)1;
    err = NULL;
    rv = wos_session_from_auth_response(p, json, size, &s, &err);
    FUZZ_ASSERT(rv == WOS_OK || rv == WOS_EINVAL || rv == WOS_ETOOBIG, "answer result code");
    FUZZ_ASSERT((rv == WOS_OK) == (s != NULL), "a session exactly on success (answer)");
    FUZZ_ASSERT(rv == WOS_OK || err, "a reason on failure (answer)");
    if (s)
        check_session(p, s, size);
    free(json);
    fuzz_pool_end(p);
    return 0;
}
