/*
 * Embeds a wasmhost host (embedded lattice, no server) from C: runs the echo and kvcounter actors,
 * answers kvcounter's wasmcloud:keyvalue host calls with a key-value store written in C, prints
 * the lattice events, and stops cleanly.
 *
 * Usage: ./embed [ACTORS_DIR]   (default: ../actors)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvstore.h"
#include "mini_msgpack.h"
#include "wasmhost.h"

/* Prints the error, frees it, and exits. */
static void check(wasmhost_result_t rc, wasmhost_error_t *err, const char *what) {
    if (rc == WASMHOST_OK) return;
    fprintf(stderr, "%s failed: %s: %s\n", what, wasmhost_result_name(rc), wasmhost_error_message(err));
    wasmhost_error_free(err);
    exit(1);
}

/* Event callback: runs on the subscription's thread. Prints the event type. */
static void on_event(void *user_data, const char *event_json, size_t len) {
    (void)user_data;
    (void)len;
    const char *type = strstr(event_json, "\"type\":\"com.wasmcloud.lattice.");
    if (type) {
        type += strlen("\"type\":\"com.wasmcloud.lattice.");
        printf("event: %.*s\n", (int)strcspn(type, "\""), type);
    }
    fflush(stdout);
}

/* Capability callback for wasmcloud:keyvalue: KeyValue.Increment on the C store. */
static void keyvalue(void *user_data, const wasmhost_capability_call_t *call, wasmhost_reply_t *reply) {
    kv_store *store = user_data;
    if (strcmp(call->operation, "KeyValue.Increment") != 0) {
        char message[160];
        snprintf(message, sizeof message, "the C key-value store does not support %s", call->operation);
        wasmhost_reply_error(reply, message, NULL);
        return;
    }
    const uint8_t *key;
    size_t key_len;
    int64_t by, now;
    if (!mp_increment_request(call->payload, call->payload_len, &key, &key_len, &by)) {
        wasmhost_reply_error(reply, "KeyValue.Increment: malformed request", NULL);
        return;
    }
    if (kv_increment(store, key, key_len, by, &now) != 0) {
        wasmhost_reply_error(reply, "KeyValue.Increment: out of memory", NULL);
        return;
    }
    mp_writer w = {0};
    mp_write_int(&w, now);
    if (w.failed) wasmhost_reply_error(reply, "out of memory", NULL);
    else wasmhost_reply_ok(reply, w.data, w.len, NULL);
    mp_writer_free(&w);
}

/* GET `path` on kvcounter; prints the status and body. */
static void get_counter(wasmhost_host_t *host, const char *kvcounter, const char *path) {
    wasmhost_error_t *err = NULL;
    mp_writer req = mp_http_get(path);
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    check(wasmhost_actor_call(host, kvcounter, "HttpServer.HandleRequest", req.data, req.len, &reply, &reply_len, &err), err,
          "kvcounter call");
    mp_writer_free(&req);
    int64_t status;
    const uint8_t *body;
    size_t body_len;
    if (mp_http_response(reply, reply_len, &status, &body, &body_len))
        printf("kvcounter GET %s -> %lld %.*s\n", path, (long long)status, (int)body_len, (const char *)body);
    else
        printf("kvcounter GET %s -> undecodable reply\n", path);
    wasmhost_bytes_free(reply, reply_len);
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "../actors";
    char echo_path[4096], kv_path[4096];
    snprintf(echo_path, sizeof echo_path, "%s/echo.wasm", dir);
    snprintf(kv_path, sizeof kv_path, "%s/kvcounter.wasm", dir);
    printf("libwasmhost %s (header %s)\n", wasmhost_version(), WASMHOST_VERSION);

    wasmhost_error_t *err = NULL;
    wasmhost_config_t *config = NULL;
    check(wasmhost_config_new(&config, &err), err, "config");
    check(wasmhost_config_set_label(config, "example", "c", &err), err, "label");
    wasmhost_host_t *host = NULL;
    check(wasmhost_host_start(config, &host, &err), err, "host start");
    wasmhost_config_free(config);
    const char *id = NULL;
    check(wasmhost_host_id(host, &id, &err), err, "host id");
    printf("host %s started\n", id);

    wasmhost_subscription_t *events = NULL;
    check(wasmhost_events_subscribe(host, on_event, NULL, NULL, &events, &err), err, "subscribe");

    kv_store store;
    kv_init(&store);
    check(wasmhost_capability_register(host, "wasmcloud:keyvalue", "default", keyvalue, &store, NULL, &err), err, "capability");

    char *echo = NULL, *kvcounter = NULL;
    check(wasmhost_actor_start_file(host, echo_path, 1, "{\"example\":\"c\"}", &echo, &err), err, "start echo");
    check(wasmhost_actor_start_file(host, kv_path, 2, NULL, &kvcounter, &err), err, "start kvcounter");
    printf("echo %s\nkvcounter %s\n", echo, kvcounter);

    const char *hello = "hello from C";
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    check(wasmhost_actor_call(host, echo, "Echo.Echo", (const uint8_t *)hello, strlen(hello), &reply, &reply_len, &err), err,
          "echo call");
    printf("echo replied: %.*s\n", (int)reply_len, (const char *)reply);
    wasmhost_bytes_free(reply, reply_len);

    get_counter(host, kvcounter, "/");
    get_counter(host, kvcounter, "/");
    get_counter(host, kvcounter, "/visits");
    get_counter(host, kvcounter, "/");

    char *inventory = NULL;
    check(wasmhost_host_inventory_json(host, &inventory, &err), err, "inventory");
    printf("inventory: %s\n", inventory);
    wasmhost_string_free(inventory);

    check(wasmhost_host_stop(host, &err), err, "host stop");
    wasmhost_subscription_free(events); /* after stop: every event up to host_stopped was delivered */
    wasmhost_host_free(host);           /* also drops the capability handler, so the store is unused from here */
    wasmhost_string_free(echo);
    wasmhost_string_free(kvcounter);
    kv_free(&store);
    printf("stopped cleanly\n");
    return 0;
}
