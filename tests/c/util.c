#define _POSIX_C_SOURCE 200809L /* setenv, clock_gettime */
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *data = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1 << 16;
            uint8_t *grown = realloc(data, cap);
            if (!grown) { free(data); fclose(f); return NULL; }
            data = grown;
        }
        size_t got = fread(data + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    fclose(f);
    *len = n;
    return data;
}

void rec_init(recorder *r) {
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->changed, NULL);
}

void rec_add(recorder *r, const char *text, size_t len) {
    pthread_mutex_lock(&r->lock);
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        char **grown = realloc(r->items, cap * sizeof *grown);
        if (!grown) { pthread_mutex_unlock(&r->lock); return; }
        r->items = grown;
        r->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (copy) {
        memcpy(copy, text, len);
        copy[len] = '\0';
        r->items[r->count++] = copy;
    }
    pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->lock);
}

static size_t count_locked(recorder *r, const char *needle) {
    size_t n = 0;
    for (size_t i = 0; i < r->count; i++)
        if (strstr(r->items[i], needle)) n++;
    return n;
}

size_t rec_count(recorder *r, const char *needle) {
    pthread_mutex_lock(&r->lock);
    size_t n = count_locked(r, needle);
    pthread_mutex_unlock(&r->lock);
    return n;
}

bool rec_wait(recorder *r, const char *needle, size_t n) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 120;
    pthread_mutex_lock(&r->lock);
    int rc = 0;
    while (count_locked(r, needle) < n && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&r->changed, &r->lock, &deadline);
    bool ok = count_locked(r, needle) >= n;
    pthread_mutex_unlock(&r->lock);
    return ok;
}

void rec_mark_freed(void *user_data) {
    recorder *r = user_data;
    pthread_mutex_lock(&r->lock);
    r->freed++;
    pthread_mutex_unlock(&r->lock);
    rec_add(r, "<freed>", 7);
}

int rec_freed(recorder *r) {
    pthread_mutex_lock(&r->lock);
    int n = r->freed;
    pthread_mutex_unlock(&r->lock);
    return n;
}

void rec_destroy(recorder *r) {
    for (size_t i = 0; i < r->count; i++) free(r->items[i]);
    free(r->items);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->changed);
}
