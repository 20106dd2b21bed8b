#ifndef WOS_TESTKEYS_H
#define WOS_TESTKEYS_H
#endif
