/* wos_rand.c: placeholder until implemented. */
#include "wos_rand.h"
typedef int wos_rand_placeholder;
