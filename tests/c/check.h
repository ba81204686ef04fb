/* check.h: the tiny assertion helpers of the C API tests. Failures are counted, not fatal. */
#ifndef WASMHOST_TEST_CHECK_H
#define WASMHOST_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

#include "wasmhost.h"

extern int checks_run, checks_failed;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        checks_run++;                                                                \
        if (!(cond)) {                                                               \
            checks_failed++;                                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

/* Checks that `got` is `want`; on failure codes the error object must exist, have the same kind and
 * a message containing `contains` (when not NULL); it is freed and *err reset. On success *err
 * must be untouched (NULL). */
void expect_code(const char *file, int line, wasmhost_result_t want, wasmhost_result_t got, wasmhost_error_t **err,
                 const char *contains);

#define EXPECT(want, call) expect_code(__FILE__, __LINE__, (want), (call), &err, NULL)
#define EXPECT_MSG(want, call, text) expect_code(__FILE__, __LINE__, (want), (call), &err, (text))
#define EXPECT_OK(call) EXPECT(WASMHOST_OK, call)

#endif
