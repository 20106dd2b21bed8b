/* wos_jwt.c: placeholder until implemented. */
#include "wos_jwt.h"
typedef int wos_jwt_placeholder;
