/* C trampolines: libwasmhost calls these with user_data = a cgo.Handle; they call the exported Go
 * functions (declared in _cgo_export.h). Kept in C because Go cannot take the address of an
 * exported Go function as a C function pointer. */
#include "_cgo_export.h"
#include "trampolines.h"

static void free_handle(void *user_data) { goDeleteHandle((uintptr_t)user_data); }

static void on_event(void *user_data, const char *json, size_t len) { goOnEvent((uintptr_t)user_data, (char *)json, len); }

static void on_change(void *user_data, const char *json, size_t len) { goOnChange((uintptr_t)user_data, (char *)json, len); }

static void on_call_done(void *user_data, wasmhost_result_t result, const uint8_t *reply, size_t reply_len,
                         const wasmhost_error_t *error) {
    goOnCallDone((uintptr_t)user_data, (int)result, (uint8_t *)reply, reply_len, (char *)wasmhost_error_message(error));
}

static void on_capability(void *user_data, const wasmhost_capability_call_t *call, wasmhost_reply_t *reply) {
    goOnCapability((uintptr_t)user_data, (wasmhost_capability_call_t *)call, reply);
}

static void on_policy(void *user_data, const char *request_json, wasmhost_decision_t *decision) {
    goOnPolicy((uintptr_t)user_data, (char *)request_json, decision);
}

enum wasmhost_result_t go_events_subscribe(const wasmhost_host_t *host, uintptr_t handle, wasmhost_subscription_t **out,
                                      wasmhost_error_t **err) {
    return wasmhost_events_subscribe(host, on_event, (void *)handle, free_handle, out, err);
}

enum wasmhost_result_t go_call_async(const wasmhost_host_t *host, const char *actor, const char *op, const uint8_t *payload,
                                size_t len, uintptr_t handle, wasmhost_error_t **err) {
    return wasmhost_actor_call_async(host, actor, op, payload, len, on_call_done, (void *)handle, free_handle, err);
}

enum wasmhost_result_t go_capability_register(const wasmhost_host_t *host, const char *contract, const char *link, uintptr_t handle,
                                         wasmhost_error_t **err) {
    return wasmhost_capability_register(host, contract, link, on_capability, (void *)handle, free_handle, err);
}

enum wasmhost_result_t go_policy_set(const wasmhost_host_t *host, uintptr_t handle, wasmhost_error_t **err) {
    return wasmhost_policy_set(host, on_policy, (void *)handle, free_handle, err);
}

enum wasmhost_result_t go_observer_subscribe(const wasmhost_observer_t *observer, uintptr_t handle, char **snapshot_json,
                                             wasmhost_subscription_t **out, wasmhost_error_t **err) {
    return wasmhost_observer_subscribe(observer, on_change, (void *)handle, free_handle, snapshot_json, out, err);
}
