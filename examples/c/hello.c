/* The README's ten-line program: start a host (embedded lattice), run echo, call it. */
#include <stdio.h>
#include "wasmhost.h"

int main(void) {
    wasmhost_host_t *host = NULL; wasmhost_error_t *err = NULL; char *echo = NULL; uint8_t *reply = NULL; size_t len = 0;
    wasmhost_result_t rc = wasmhost_host_start(NULL, &host, &err); /* NULL config: the embedded lattice */
    if (!rc) rc = wasmhost_actor_start_file(host, "examples/actors/echo.wasm", 1, NULL, &echo, &err);
    if (!rc) rc = wasmhost_actor_call(host, echo, "Echo.Echo", (const uint8_t *)"hello", 5, &reply, &len, &err);
    if (rc) fprintf(stderr, "%s: %s\n", wasmhost_result_name(rc), wasmhost_error_message(err));
    else printf("%.*s\n", (int)len, (const char *)reply);
    wasmhost_bytes_free(reply, len); wasmhost_string_free(echo); wasmhost_error_free(err);
    wasmhost_host_free(host); /* stops the host too */
    return (int)rc;
}
