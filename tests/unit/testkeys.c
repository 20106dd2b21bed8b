#include "testkeys.h"
typedef int wos_testkeys_placeholder;
