/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_workos_apis.h: what APIs and single-page apps add to the glue:
 * bearer tokens (mod_auth_workos_bearer.c), the session endpoint
 * (mod_auth_workos_sessioninfo.c), custom claims (mod_auth_workos_claim.c)
 * and the per-session cap on calls to WorkOS. Their settings live in one
 * struct inside wos_dir_cfg; their directives in WOS_APIS_CMDS, which the
 * directive table includes.
 */
#ifndef MOD_AUTH_WORKOS_APIS_H
#define MOD_AUTH_WORKOS_APIS_H

#include <httpd.h>
#include <http_config.h>

#include "wos_authn.h"

/** Per-directory settings; unset = NULL or WOS_UNSET (-1). */
typedef struct wos_apis_cfg {
    int accept_bearer;                  /* WorkOSAcceptBearer */
    const char *info_uri;               /* WorkOSSessionInfoURI */
    int info_token;                     /* WorkOSSessionInfoAccessToken */
    apr_array_header_t *info_origins;   /* WorkOSSessionInfoOrigins: const char * */
    apr_array_header_t *claims;         /* WorkOSPassClaim: const char * names */
    int call_limit, call_window;        /* WorkOSSessionCallLimit */
} wos_apis_cfg;

struct wos_dir_cfg;
struct wos_req;

/* mod_auth_workos_apis_config.c */
void wos_apis_init(wos_apis_cfg *a);
void wos_apis_merge(const wos_apis_cfg *base, const wos_apis_cfg *add, wos_apis_cfg *out);
const char *wos_set_accept_bearer(cmd_parms *cmd, void *m, int on);
const char *wos_set_info_uri(cmd_parms *cmd, void *m, const char *arg);
const char *wos_set_info_token(cmd_parms *cmd, void *m, int on);
const char *wos_set_info_origins(cmd_parms *cmd, void *m, int argc, char *const argv[]);
const char *wos_set_pass_claim(cmd_parms *cmd, void *m, int argc, char *const argv[]);
const char *wos_set_call_limit(cmd_parms *cmd, void *m, const char *n, const char *secs);

#define WOS_APIS_CMDS                                                                     \
    AP_INIT_FLAG("WorkOSAcceptBearer", wos_set_accept_bearer, NULL, RSRC_CONF | ACCESS_CONF, \
                 "Accept Authorization: Bearer <WorkOS access token> (default Off; "      \
                 "needs WorkOSIssuer)"),                                                  \
    AP_INIT_TAKE1("WorkOSSessionInfoURI", wos_set_info_uri, NULL, RSRC_CONF | ACCESS_CONF, \
                  "Path that answers the current session as JSON"),                       \
    AP_INIT_FLAG("WorkOSSessionInfoAccessToken", wos_set_info_token, NULL,                \
                 RSRC_CONF | ACCESS_CONF,                                                 \
                 "Include the access token in the session endpoint's answer (default Off)"), \
    AP_INIT_TAKE_ARGV("WorkOSSessionInfoOrigins", wos_set_info_origins, NULL,             \
                      RSRC_CONF | ACCESS_CONF,                                            \
                      "Origins (scheme://host[:port]) allowed to call the session endpoint " \
                      "with credentials"),                                                \
    AP_INIT_TAKE_ARGV("WorkOSPassClaim", wos_set_pass_claim, NULL, RSRC_CONF | ACCESS_CONF, \
                      "Token claims passed as WORKOS_CLAIM_<NAME> / X-WorkOS-Claim-<Name>"), \
    AP_INIT_TAKE12("WorkOSSessionCallLimit", wos_set_call_limit, NULL,                    \
                   RSRC_CONF | ACCESS_CONF,                                               \
                   "Calls to WorkOS one session may cause through organization switch "   \
                   "and forced refresh, per window (default 5 60; 0 = no limit)"),

/* mod_auth_workos_bearer.c */
int wos_bearer_present(request_rec *r, const struct wos_dir_cfg *c);
int wos_bearer_authenticate(request_rec *r, const struct wos_dir_cfg *c, struct wos_req *st);
void wos_bearer_challenge(request_rec *r, const struct wos_dir_cfg *c, const char *error);
void wos_bearer_register_hooks(void);

/* mod_auth_workos_claim.c */
void wos_claims_export(request_rec *r, const struct wos_dir_cfg *c, const struct wos_req *st,
                       int pass);
void wos_register_claim_provider(apr_pool_t *p);

/* mod_auth_workos_sessioninfo.c */
void wos_sessioninfo_register_hooks(void);

/* mod_auth_workos_guard.c: state-changing endpoints (switch, forced refresh) */
/** This request's own origin, scheme://host[:port], as a browser writes it. */
const char *wos_guard_own_origin(request_rec *r);
int wos_guard_same_origin(request_rec *r);
int wos_guard_read_form(request_rec *r, apr_table_t **form);
void wos_guard_gate(request_rec *r, const struct wos_dir_cfg *c, wos_refresh_ctx *rc);

#endif
