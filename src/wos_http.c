/* wos_http.c: placeholder until implemented. */
#include "wos_http.h"
typedef int wos_http_placeholder;
