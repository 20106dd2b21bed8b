/* wos_api.c: placeholder until implemented. */
#include "wos_api.h"
typedef int wos_api_placeholder;
