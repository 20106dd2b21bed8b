/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_tokenage.c: the age rule of WorkOSTokenMaxAge, in one place for the
 * refresh decision (wos_authn.c) and the verified-session cache's lifetime.
 */
#include "wos_tokenage.h"

apr_int64_t wos_tokenage_until(const wos_claims *c, int max_age)
{
    if (max_age <= WOS_TOKENAGE_OFF)
        return APR_INT64_MAX;
    return c->iat > 0 ? c->iat + max_age : 0;
}

int wos_tokenage_due(const wos_claims *c, int max_age, apr_int64_t now)
{
    return now >= wos_tokenage_until(c, max_age);
}
