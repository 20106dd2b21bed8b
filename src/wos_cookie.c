/* wos_cookie.c: placeholder until implemented. */
#include "wos_cookie.h"
typedef int wos_cookie_placeholder;
