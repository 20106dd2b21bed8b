/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_workos_sessions.h: server-side session management in the glue:
 * WorkOSTokenMaxAge (read by wos_fill_authn_in), WorkOSInactivityTimeout
 * (mod_auth_workos_idle.c) and the sessions endpoint, WorkOSSessionsURI
 * (mod_auth_workos_sessions.c). Their settings live in one struct inside
 * wos_dir_cfg; their directives in WOS_SESSIONS_CMDS, which the directive
 * table includes.
 */
#ifndef MOD_AUTH_WORKOS_SESSIONS_H
#define MOD_AUTH_WORKOS_SESSIONS_H

#include <httpd.h>
#include <http_config.h>

#include "wos_authn.h"

/** Sessions each process remembers for the inactivity timeout's hot path. */
#define WOS_ACTIVITY_SLOTS 4096

/** Per-directory settings; unset = NULL or WOS_UNSET (-1); 0 = off. */
typedef struct wos_sessions_cfg {
    int token_max_age;                  /* WorkOSTokenMaxAge */
    int idle_timeout;                   /* WorkOSInactivityTimeout */
    const char *uri;                    /* WorkOSSessionsURI */
} wos_sessions_cfg;

struct wos_dir_cfg;

/* mod_auth_workos_sessions_config.c */
void wos_sessions_init(wos_sessions_cfg *s);
void wos_sessions_merge(const wos_sessions_cfg *base, const wos_sessions_cfg *add,
                        wos_sessions_cfg *out);
const char *wos_set_token_max_age(cmd_parms *cmd, void *m, const char *arg);
const char *wos_set_idle_timeout(cmd_parms *cmd, void *m, const char *arg);
const char *wos_set_sessions_uri(cmd_parms *cmd, void *m, const char *arg);

#define WOS_SESSIONS_CMDS                                                                 \
    AP_INIT_TAKE1("WorkOSTokenMaxAge", wos_set_token_max_age, NULL,                       \
                  RSRC_CONF | ACCESS_CONF,                                                \
                  "Refresh access tokens older than this many seconds before use, so "    \
                  "revocations and role changes apply within it (default Off)"),          \
    AP_INIT_TAKE1("WorkOSInactivityTimeout", wos_set_idle_timeout, NULL,                  \
                  RSRC_CONF | ACCESS_CONF,                                                \
                  "End (and revoke) a session after this many seconds without a "        \
                  "request (default Off)"),                                               \
    AP_INIT_TAKE1("WorkOSSessionsURI", wos_set_sessions_uri, NULL, RSRC_CONF,            \
                  "Path that lists the user's sessions (GET) and revokes them (POST); "  \
                  "server or virtual host"),

/* mod_auth_workos_idle.c: WorkOSInactivityTimeout */
/**
 * Record this request's activity of a valid session (@p out OK; the time
 * the session last showed up is judged by the token the request brought,
 * not by one a refresh just gave it); when the session has been idle for
 * the timeout, end it: revoke it at WorkOS, mark
 * it ended, and turn @p out into WOS_AUTHN_ENDED without a new cookie (the
 * caller then deletes the cookie and answers as for any ended session).
 * Returns 1 when it did so.
 */
int wos_idle_check(request_rec *r, const struct wos_dir_cfg *c, wos_authn_out *out);
/** Mark a session revoked through the sessions endpoint as ended here too. */
void wos_idle_mark_ended(request_rec *r, const struct wos_dir_cfg *c, const char *sid);
void wos_idle_child_init(apr_pool_t *pchild, server_rec *s);

/* mod_auth_workos_sessions.c: WorkOSSessionsURI */
void wos_sessions_endpoint_register_hooks(void);

#endif
