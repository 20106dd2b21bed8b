/* wos_seal.c: placeholder until implemented. */
#include "wos_seal.h"
typedef int wos_seal_placeholder;
