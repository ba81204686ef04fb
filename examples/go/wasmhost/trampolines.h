/* C trampolines between libwasmhost's callbacks and the exported Go functions (see trampolines.c). */
#ifndef WASMHOST_GO_TRAMPOLINES_H
#define WASMHOST_GO_TRAMPOLINES_H

#include <stdint.h>
#include "wasmhost.h"

/* Each takes the cgo.Handle of the Go value that handles the callbacks, and passes the
 * trampolines below plus a free_user_data that deletes the handle. */
enum wasmhost_result_t go_events_subscribe(const wasmhost_host_t *host, uintptr_t handle, wasmhost_subscription_t **out,
                                      wasmhost_error_t **err);
enum wasmhost_result_t go_call_async(const wasmhost_host_t *host, const char *actor, const char *op, const uint8_t *payload,
                                size_t len, uintptr_t handle, wasmhost_error_t **err);
enum wasmhost_result_t go_capability_register(const wasmhost_host_t *host, const char *contract, const char *link, uintptr_t handle,
                                         wasmhost_error_t **err);
enum wasmhost_result_t go_policy_set(const wasmhost_host_t *host, uintptr_t handle, wasmhost_error_t **err);
enum wasmhost_result_t go_observer_subscribe(const wasmhost_observer_t *observer, uintptr_t handle, char **snapshot_json,
                                             wasmhost_subscription_t **out, wasmhost_error_t **err);

#endif
