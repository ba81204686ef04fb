/*
 * mini_msgpack.h: the few msgpack encodings the C example and tests need to talk to the example
 * actors (HttpServer.HandleRequest requests and responses, KeyValue.Increment). Header-only, no
 * allocation on the read side. Not a general msgpack library.
 */
#ifndef MINI_MSGPACK_H
#define MINI_MSGPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- writing: a growable buffer ---- */
typedef struct {
    uint8_t *data;
    size_t len, cap;
    bool failed; /* set when an allocation failed; the content is then unusable */
} mp_writer;

static inline void mp_put(mp_writer *w, const void *p, size_t n) {
    if (w->failed) return;
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        while (cap < w->len + n) cap *= 2;
        uint8_t *grown = realloc(w->data, cap);
        if (!grown) { w->failed = true; return; }
        w->data = grown;
        w->cap = cap;
    }
    memcpy(w->data + w->len, p, n);
    w->len += n;
}
static inline void mp_put_u8(mp_writer *w, uint8_t b) { mp_put(w, &b, 1); }
static inline void mp_put_be(mp_writer *w, uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; i--) mp_put_u8(w, (uint8_t)(v >> (8 * i)));
}
static inline void mp_write_map(mp_writer *w, uint32_t n) {
    if (n < 16) mp_put_u8(w, (uint8_t)(0x80 | n));
    else { mp_put_u8(w, 0xdf); mp_put_be(w, n, 4); }
}
static inline void mp_write_str(mp_writer *w, const char *s) {
    size_t n = strlen(s);
    if (n < 32) mp_put_u8(w, (uint8_t)(0xa0 | n));
    else { mp_put_u8(w, 0xdb); mp_put_be(w, n, 4); }
    mp_put(w, s, n);
}
static inline void mp_write_bin(mp_writer *w, const void *p, size_t n) {
    mp_put_u8(w, 0xc6);
    mp_put_be(w, n, 4);
    mp_put(w, p, n);
}
static inline void mp_write_int(mp_writer *w, int64_t v) {
    if (v >= 0 && v < 128) mp_put_u8(w, (uint8_t)v);
    else if (v >= -32 && v < 0) mp_put_u8(w, (uint8_t)(0xe0 | (v + 32)));
    else { mp_put_u8(w, 0xd3); mp_put_be(w, (uint64_t)v, 8); }
}
static inline void mp_writer_free(mp_writer *w) { free(w->data); w->data = NULL; w->len = w->cap = 0; }

/* An HttpServer.HandleRequest payload: GET `path` with no headers and an empty body. */
static inline mp_writer mp_http_get(const char *path) {
    mp_writer w = {0};
    mp_write_map(&w, 5);
    mp_write_str(&w, "method"); mp_write_str(&w, "GET");
    mp_write_str(&w, "path"); mp_write_str(&w, path);
    mp_write_str(&w, "queryString"); mp_write_str(&w, "");
    mp_write_str(&w, "header"); mp_write_map(&w, 0);
    mp_write_str(&w, "body"); mp_write_bin(&w, "", 0);
    return w;
}

/* ---- reading: a cursor over borrowed bytes ---- */
typedef struct {
    const uint8_t *p;
    size_t len, pos;
} mp_reader;

static inline bool mp_take(mp_reader *r, size_t n, const uint8_t **out) {
    if (r->len - r->pos < n) return false;
    *out = r->p + r->pos;
    r->pos += n;
    return true;
}
static inline bool mp_be(mp_reader *r, int bytes, uint64_t *v) {
    const uint8_t *b;
    if (!mp_take(r, (size_t)bytes, &b)) return false;
    *v = 0;
    for (int i = 0; i < bytes; i++) *v = (*v << 8) | b[i];
    return true;
}
static inline bool mp_read_int(mp_reader *r, int64_t *out) {
    const uint8_t *t;
    uint64_t v;
    if (!mp_take(r, 1, &t)) return false;
    uint8_t c = *t;
    if (c < 0x80) { *out = c; return true; }
    if (c >= 0xe0) { *out = (int8_t)c; return true; }
    switch (c) {
    case 0xcc: if (!mp_be(r, 1, &v)) return false; *out = (int64_t)v; return true;
    case 0xcd: if (!mp_be(r, 2, &v)) return false; *out = (int64_t)v; return true;
    case 0xce: if (!mp_be(r, 4, &v)) return false; *out = (int64_t)v; return true;
    case 0xcf: if (!mp_be(r, 8, &v)) return false; *out = (int64_t)v; return true;
    case 0xd0: if (!mp_be(r, 1, &v)) return false; *out = (int8_t)v; return true;
    case 0xd1: if (!mp_be(r, 2, &v)) return false; *out = (int16_t)v; return true;
    case 0xd2: if (!mp_be(r, 4, &v)) return false; *out = (int32_t)v; return true;
    case 0xd3: if (!mp_be(r, 8, &v)) return false; *out = (int64_t)v; return true;
    default: return false;
    }
}
/* A str or bin: borrowed pointer and length. */
static inline bool mp_read_bytes(mp_reader *r, const uint8_t **p, size_t *n) {
    const uint8_t *t;
    uint64_t v;
    if (!mp_take(r, 1, &t)) return false;
    uint8_t c = *t;
    if ((c & 0xe0) == 0xa0) v = c & 0x1f;
    else if (c == 0xd9 || c == 0xc4) { if (!mp_be(r, 1, &v)) return false; }
    else if (c == 0xda || c == 0xc5) { if (!mp_be(r, 2, &v)) return false; }
    else if (c == 0xdb || c == 0xc6) { if (!mp_be(r, 4, &v)) return false; }
    else return false;
    *n = (size_t)v;
    return mp_take(r, *n, p);
}
static inline bool mp_read_map(mp_reader *r, uint32_t *n) {
    const uint8_t *t;
    uint64_t v;
    if (!mp_take(r, 1, &t)) return false;
    if ((*t & 0xf0) == 0x80) { *n = *t & 0x0f; return true; }
    if (*t == 0xde) { if (!mp_be(r, 2, &v)) return false; *n = (uint32_t)v; return true; }
    if (*t == 0xdf) { if (!mp_be(r, 4, &v)) return false; *n = (uint32_t)v; return true; }
    return false;
}
/* Skips one value of any supported type (nested maps and arrays included). */
static inline bool mp_skip(mp_reader *r, int depth) {
    if (depth > 32 || r->pos >= r->len) return false;
    uint8_t c = r->p[r->pos];
    const uint8_t *b;
    uint64_t n;
    if (c < 0x80 || c >= 0xe0 || (c >= 0xcc && c <= 0xd3)) { int64_t i; return mp_read_int(r, &i); }
    if ((c & 0xe0) == 0xa0 || c == 0xd9 || c == 0xda || c == 0xdb || c == 0xc4 || c == 0xc5 || c == 0xc6) {
        size_t len; return mp_read_bytes(r, &b, &len);
    }
    if (c == 0xc0 || c == 0xc2 || c == 0xc3) { r->pos++; return true; }
    bool map = false;
    if ((c & 0xf0) == 0x80) { map = true; n = c & 0x0f; r->pos++; }
    else if ((c & 0xf0) == 0x90) { n = c & 0x0f; r->pos++; }
    else if (c == 0xdc || c == 0xde) { map = c == 0xde; r->pos++; if (!mp_be(r, 2, &n)) return false; }
    else if (c == 0xdd || c == 0xdf) { map = c == 0xdf; r->pos++; if (!mp_be(r, 4, &n)) return false; }
    else return false;
    for (uint64_t i = 0; i < (map ? 2 * n : n); i++)
        if (!mp_skip(r, depth + 1)) return false;
    return true;
}
static inline bool mp_key_is(const uint8_t *k, size_t n, const char *name) {
    return n == strlen(name) && memcmp(k, name, n) == 0;
}

/* An HttpResponse: status code and a borrowed body. */
static inline bool mp_http_response(const uint8_t *data, size_t len, int64_t *status, const uint8_t **body, size_t *body_len) {
    mp_reader r = {data, len, 0};
    uint32_t n;
    if (!mp_read_map(&r, &n)) return false;
    *status = 200;
    *body = NULL;
    *body_len = 0;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *k;
        size_t kn;
        if (!mp_read_bytes(&r, &k, &kn)) return false;
        if (mp_key_is(k, kn, "statusCode")) { if (!mp_read_int(&r, status)) return false; }
        else if (mp_key_is(k, kn, "body")) { if (!mp_read_bytes(&r, body, body_len)) return false; }
        else if (!mp_skip(&r, 0)) return false;
    }
    return true;
}

/* A KeyValue.Increment argument: {"key": str, "value": int}. `key` is borrowed. */
static inline bool mp_increment_request(const uint8_t *data, size_t len, const uint8_t **key, size_t *key_len, int64_t *value) {
    mp_reader r = {data, len, 0};
    uint32_t n;
    if (!mp_read_map(&r, &n)) return false;
    *key = NULL;
    *key_len = 0;
    *value = 0;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *k;
        size_t kn;
        if (!mp_read_bytes(&r, &k, &kn)) return false;
        if (mp_key_is(k, kn, "key")) { if (!mp_read_bytes(&r, key, key_len)) return false; }
        else if (mp_key_is(k, kn, "value")) { if (!mp_read_int(&r, value)) return false; }
        else if (!mp_skip(&r, 0)) return false;
    }
    return *key != NULL;
}

#endif /* MINI_MSGPACK_H */
