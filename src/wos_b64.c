/* wos_b64.c: placeholder until implemented. */
#include "wos_b64.h"
typedef int wos_b64_placeholder;
