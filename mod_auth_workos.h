#ifndef MOD_AUTH_WORKOS_H
#define MOD_AUTH_WORKOS_H
#endif
