/* wos_claims.c: placeholder until implemented. */
#include "wos_claims.h"
typedef int wos_claims_placeholder;
