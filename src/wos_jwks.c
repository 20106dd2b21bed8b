/* wos_jwks.c: placeholder until implemented. */
#include "wos_jwks.h"
typedef int wos_jwks_placeholder;
