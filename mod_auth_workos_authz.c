/* placeholder */
#include "mod_auth_workos.h"
typedef int mod_auth_workos_authz_placeholder;
