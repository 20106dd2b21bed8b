/**
 * @file wos_hints.h
 * @brief What a sign-in link may ask of AuthKit (WorkOSLoginURI's query):
 *        login_hint, organization_id, screen_hint, prompt; each checked and
 *        bounded before it goes into the authorize URL.
 */
#ifndef WOS_HINTS_H
#define WOS_HINTS_H

#include "wos_common.h"

/** Longest login_hint accepted (an email address is at most 254). */
#define WOS_HINT_LOGIN_MAX 320
/** Longest organization ID accepted. */
#define WOS_HINT_ORG_MAX 64

typedef struct wos_login_hints {
    const char *screen_hint;       /**< "sign-up" or "sign-in" */
    const char *login_hint;        /**< an email, as typed: printable, no spaces */
    const char *organization_id;   /**< org_ and letters or digits */
    const char *prompt;            /**< "login": ask again even when signed in at WorkOS */
} wos_login_hints;

/**
 * Take the hint named @p name (one of the four above; anything else is
 * WOS_ENOKEY, not a hint) with @p value into @p h. WOS_EINVAL (with *err)
 * when the value is not allowed: empty, too long, control characters or
 * spaces in login_hint, an organization ID that is not org_ and
 * alphanumerics, a screen_hint other than sign-up/sign-in, a prompt other
 * than login.
 */
wos_rv wos_hints_take(wos_login_hints *h, const char *name, const char *value,
                      const char **err);

#endif
