#ifndef WOS_MEMCACHE_H
#define WOS_MEMCACHE_H
#endif
