/* Compiled as C11 and as C++17 by the Makefile: the header must be clean in both. */
#include "wasmhost.h"

int header_check_version_major(void);
int header_check_version_major(void) { return WASMHOST_VERSION_MAJOR + (int)WASMHOST_OK + (int)WASMHOST_LOG_INFO + (int)WASMHOST_NATS_CTL; }
