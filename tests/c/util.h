/* util.h: shared helpers of the C API tests: files, waiting for callbacks, a recorder of strings. */
#ifndef WASMHOST_TEST_UTIL_H
#define WASMHOST_TEST_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reads a whole file; returns NULL on failure. Free with free(). */
uint8_t *read_file(const char *path, size_t *len);

/* A thread-safe list of strings appended from callbacks, with a condition to wait on. */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    char **items;
    size_t count, cap;
    int freed; /* how many times free_user_data ran for it */
} recorder;

void rec_init(recorder *r);
void rec_add(recorder *r, const char *text, size_t len);
/* Number of items containing `needle`. */
size_t rec_count(recorder *r, const char *needle);
/* Waits until at least `n` items contain `needle` (or 120 s pass, a hang guard); returns whether they do. */
bool rec_wait(recorder *r, const char *needle, size_t n);
/* free_user_data for a recorder: counts the call. */
void rec_mark_freed(void *user_data);
int rec_freed(recorder *r);
void rec_destroy(recorder *r);

#endif
