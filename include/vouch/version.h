/* Library version. VOUCH_VERSION_NUM = (MAJOR << 16) | (MINOR << 8) | PATCH. */
#ifndef VOUCH_VERSION_H
#define VOUCH_VERSION_H

#include <vouch/err.h>

#define VOUCH_VERSION_MAJOR  0
#define VOUCH_VERSION_MINOR  1
#define VOUCH_VERSION_PATCH  0
#define VOUCH_VERSION_STRING "0.1.0"
#define VOUCH_VERSION_NUM \
    ((VOUCH_VERSION_MAJOR << 16) | (VOUCH_VERSION_MINOR << 8) | VOUCH_VERSION_PATCH)

VOUCH_API unsigned vouch_version_num(void);
VOUCH_API const char *vouch_version_string(void);

#endif
