/* placeholder */
#include "mod_auth_workos.h"
typedef int placeholder;
