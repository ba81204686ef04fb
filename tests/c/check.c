#include "check.h"

int checks_run, checks_failed;

void expect_code(const char *file, int line, wasmhost_result_t want, wasmhost_result_t got, wasmhost_error_t **err,
                 const char *contains) {
    checks_run++;
    int ok = got == want;
    if (want == WASMHOST_OK) {
        ok = ok && *err == NULL;
    } else {
        ok = ok && *err != NULL && wasmhost_error_kind(*err) == want && strlen(wasmhost_error_message(*err)) > 0;
        if (ok && contains) ok = strstr(wasmhost_error_message(*err), contains) != NULL;
    }
    if (!ok) {
        checks_failed++;
        fprintf(stderr, "%s:%d: expected %s, got %s (%s)%s%s\n", file, line, wasmhost_result_name(want), wasmhost_result_name(got),
                *err ? wasmhost_error_message(*err) : "no error object", contains ? "; wanted text: " : "", contains ? contains : "");
    }
    wasmhost_error_free(*err);
    *err = NULL;
}
