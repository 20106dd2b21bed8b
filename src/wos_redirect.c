/* wos_redirect.c: placeholder until implemented. */
#include "wos_redirect.h"
typedef int wos_redirect_placeholder;
