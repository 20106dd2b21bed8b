#include "memcache.h"
typedef int wos_memcache_placeholder;
