/* wos_session.c: placeholder until implemented. */
#include "wos_session.h"
typedef int wos_session_placeholder;
