/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file wos_pages.h
 * @brief The pages the module answers with when it cannot let a person
 * through: what happened, in the second person, and a way forward (sign in
 * again, back, sign out, switch organization), as HTML or JSON.
 *
 * Each kind of page has a fixed word (the `error` of the JSON body and the
 * WORKOS_ERROR variable an ErrorDocument sees), a status and its wording,
 * in one table. Text that came from elsewhere (an error AuthKit sent back)
 * is reduced to printable ASCII and bounded before any use, and escaped for
 * HTML wherever it is written into markup.
 */
#ifndef WOS_PAGES_H
#define WOS_PAGES_H

#include "wos_common.h"

typedef enum {
    WOS_PAGE_STATE_UNKNOWN,      /**< callback: no sign-in in flight matches its state */
    WOS_PAGE_STATE_REPLAYED,     /**< callback: this state was used already */
    WOS_PAGE_CANCELLED,          /**< callback: AuthKit said access_denied */
    WOS_PAGE_PROVIDER_ERROR,     /**< callback: AuthKit sent another error */
    WOS_PAGE_MALFORMED,          /**< callback: parameters unreadable, or no code */
    WOS_PAGE_EXCHANGE_FAILED,    /**< callback: WorkOS refused the code */
    WOS_PAGE_UNAVAILABLE,        /**< WorkOS did not answer (503) */
    WOS_PAGE_SWITCH_REFUSED,     /**< organization switch refused */
    WOS_PAGE_BAD_REQUEST,        /**< an endpoint's parameters are malformed */
    WOS_PAGE_LOGIN_REQUIRED,     /**< no session where one is needed (401) */
    WOS_PAGE_LOGIN_REQUIRED_403, /**< no session, WorkOSUnauthAction 403 */
    WOS_PAGE_FORBIDDEN,          /**< signed in, but a Require workos-* line failed */
    WOS_PAGE_CROSS_SITE,         /**< a state-changing endpoint asked from another site */
    WOS_PAGE_TOO_MANY,           /**< the session's calls to WorkOS are capped for now (429) */
    WOS_PAGE_COUNT
} wos_page_kind;

typedef struct wos_page_def {
    int status;                  /**< the HTTP status it goes with */
    const char *error;           /**< the fixed word: JSON `error`, WORKOS_ERROR */
    const char *title;
    const char *message;         /**< what happened, to "you" */
} wos_page_def;

/** Longest text taken from outside (an AuthKit error description). */
#define WOS_PAGE_MAX_DETAIL 256

/** One page to render; any pointer may be NULL (that part is left out). */
typedef struct wos_page {
    wos_page_kind kind;
    const char *detail;          /**< more about what happened (any bytes: cleaned here) */
    const char *sign_in_href;    /**< "Sign in again" */
    const char *back_href;       /**< "Back" */
    const char *sign_out_href;   /**< "Sign out" */
    const char *switch_href;     /**< where the switch forms POST to */
    const char *return_to;       /**< the page refused, sent along by the switch forms */
    const apr_array_header_t *switch_orgs;  /**< const char *: organization IDs to offer */
    const char *user;            /**< who is signed in (refusals) */
    const char *org;             /**< their organization ID, NULL: none */
    const char *role;
    const apr_array_header_t *requirements; /**< const char *: wos_page_requirement() */
} wos_page;

/** The table row of @p kind (a valid kind). */
const wos_page_def *wos_page_def_of(wos_page_kind kind);

/** Printable ASCII only (anything else becomes '?'), at most WOS_PAGE_MAX_DETAIL bytes. */
const char *wos_page_clean(apr_pool_t *p, const char *s);

/** & < > " ' as character references; NULL is "". */
char *wos_html_escape(apr_pool_t *p, const char *s);

/**
 * A `Require workos-*` line in words: "the role admin", "one of the
 * permissions posts:read or posts:write". NULL for a provider it does not know.
 */
const char *wos_page_requirement(apr_pool_t *p, const char *provider,
                                 const apr_array_header_t *values);

/** The page's plain-text description: message, detail and requirements. */
const char *wos_page_description(apr_pool_t *p, const wos_page *pg);

/** The whole HTML document (UTF-8). */
char *wos_page_html(apr_pool_t *p, const wos_page *pg);

/** {"error": fixed word, "error_description": description} */
char *wos_page_json(apr_pool_t *p, const wos_page *pg);

/** 1 when an Accept header asks for JSON rather than HTML. */
int wos_page_wants_json(const char *accept);

#endif
