/* kvstore.h: a tiny thread-safe counter store, the C side of the example's wasmcloud:keyvalue capability. */
#ifndef KVSTORE_H
#define KVSTORE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct kv_entry {
    char *key;
    int64_t value;
    struct kv_entry *next;
} kv_entry;

typedef struct {
    pthread_mutex_t lock;
    kv_entry *head;
} kv_store;

static inline void kv_init(kv_store *s) {
    pthread_mutex_init(&s->lock, NULL);
    s->head = NULL;
}

/* Adds `by` to `key` (absent keys start at 0); returns 0 and the new value in *out, -1 on allocation failure. */
static inline int kv_increment(kv_store *s, const uint8_t *key, size_t key_len, int64_t by, int64_t *out) {
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    kv_entry *e = s->head;
    while (e && !(strlen(e->key) == key_len && memcmp(e->key, key, key_len) == 0)) e = e->next;
    if (!e) {
        e = calloc(1, sizeof *e);
        char *copy = e ? malloc(key_len + 1) : NULL;
        if (!copy) {
            free(e);
            rc = -1;
            goto done;
        }
        memcpy(copy, key, key_len);
        copy[key_len] = '\0';
        e->key = copy;
        e->next = s->head;
        s->head = e;
    }
    e->value += by;
    *out = e->value;
done:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static inline void kv_free(kv_store *s) {
    kv_entry *e = s->head;
    while (e) {
        kv_entry *next = e->next;
        free(e->key);
        free(e);
        e = next;
    }
    s->head = NULL;
    pthread_mutex_destroy(&s->lock);
}

#endif /* KVSTORE_H */
