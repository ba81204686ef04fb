#define _POSIX_C_SOURCE 200809L /* setenv, clock_gettime */
/*
 * Tests of every function of the C API: the success path and every error path, against the real
 * host and the example actors. Run by tests/c/run.sh (plain, under valgrind, with ASan).
 *
 * Usage: test_api ACTORS_DIR SIGNED_DIR
 *   ACTORS_DIR: examples/actors (echo.wasm, kvcounter.wasm, pong.wasm)
 *   SIGNED_DIR: modules signed at test time by run.sh: echo_rev2.wasm (echo, revision 2),
 *               trap.wasm and loop.wasm (the fixtures, signed), script.par.gz (a provider archive whose
 *               binary is a shell script that sleeps, packed by `wasmhost par create`)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../examples/c/mini_msgpack.h"
#include "check.h"
#include "util.h"

#define ECHO_KEY "MAWRVJG6CAWBKNCQHRGGQAA3WC2JKG5QXLPXPDUB7XISKAMN5KNWYJ75"
#define KV_KEY "MABWSXVV2I2WPASLBEHAE74QWHZIMUKFFBAOJWJEXOYVGLAHFXLXK4M6"
#define MISSING_KEY "MAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static char echo_path[4096], kv_path[4096], pong_path[4096], echo2_path[4096], trap_path[4096], loop_path[4096];
static char provider_path[4096];

/* A config small enough for valgrind: few instance slots, small memories. */
static wasmhost_config_t *small_config(void) {
    wasmhost_error_t *err = NULL;
    wasmhost_config_t *config = NULL;
    EXPECT_OK(wasmhost_config_new(&config, &err));
    /* Under valgrind the engine's address-space reservation (about 4 GiB per instance slot) must stay small. */
    const char *slots = getenv("WASMHOST_TEST_MAX_INSTANCES");
    EXPECT_OK(wasmhost_config_set_max_instances(config, slots ? (uint32_t)atoi(slots) : 16, &err));
    EXPECT_OK(wasmhost_config_set_max_instance_memory(config, 4 << 20, &err));
    return config;
}

static wasmhost_host_t *start_host(void) {
    wasmhost_error_t *err = NULL;
    wasmhost_config_t *config = small_config();
    wasmhost_host_t *host = NULL;
    EXPECT_OK(wasmhost_host_start(config, &host, &err));
    wasmhost_config_free(config);
    if (!host) {
        fprintf(stderr, "cannot start a host: giving up\n");
        exit(2);
    }
    return host;
}

static char *start_echo(wasmhost_host_t *host) {
    wasmhost_error_t *err = NULL;
    char *pk = NULL;
    EXPECT_OK(wasmhost_actor_start_file(host, echo_path, 1, NULL, &pk, &err));
    return pk;
}

/* Calls kvcounter's HandleRequest on `path`; returns the status, copies the body into `body`. */
static int64_t kv_get(wasmhost_host_t *host, const char *path, char *body, size_t body_cap) {
    wasmhost_error_t *err = NULL;
    mp_writer req = mp_http_get(path);
    uint8_t *reply = NULL;
    size_t len = 0;
    EXPECT_OK(wasmhost_actor_call(host, KV_KEY, "HttpServer.HandleRequest", req.data, req.len, &reply, &len, &err));
    mp_writer_free(&req);
    int64_t status = -1;
    const uint8_t *b;
    size_t bn;
    body[0] = '\0';
    if (reply && mp_http_response(reply, len, &status, &b, &bn)) {
        snprintf(body, body_cap, "%.*s", (int)bn, (const char *)b);
    }
    wasmhost_bytes_free(reply, len);
    return status;
}

/* ---------------------------------------------------------------- errors, version, memory */
static void test_errors_version_memory(void) {
    CHECK(strcmp(wasmhost_version(), WASMHOST_VERSION) == 0);
    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", WASMHOST_VERSION_MAJOR, WASMHOST_VERSION_MINOR, WASMHOST_VERSION_PATCH);
    CHECK(strcmp(WASMHOST_VERSION, expected) == 0);

    CHECK(strcmp(wasmhost_result_name(WASMHOST_OK), "ok") == 0);
    CHECK(strcmp(wasmhost_result_name(WASMHOST_ERR_NOT_FOUND), "not_found") == 0);
    CHECK(strcmp(wasmhost_result_name(WASMHOST_ERR_WOULD_DEADLOCK), "would_deadlock") == 0);
    CHECK(strcmp(wasmhost_result_name(12345), "unknown") == 0);
    CHECK(strcmp(wasmhost_result_name(-1), "unknown") == 0);

    CHECK(strcmp(wasmhost_error_message(NULL), "") == 0);
    CHECK(wasmhost_error_kind(NULL) == WASMHOST_ERR_INVALID_INPUT);
    wasmhost_error_free(NULL);
    wasmhost_string_free(NULL);
    wasmhost_bytes_free(NULL, 0);
    wasmhost_bytes_free(NULL, 10);
    wasmhost_config_free(NULL);
    wasmhost_host_free(NULL);
    wasmhost_subscription_free(NULL);

    /* A failing call with err == NULL still returns its code and writes nothing. */
    CHECK(wasmhost_config_new(NULL, NULL) == WASMHOST_ERR_INVALID_INPUT);
    wasmhost_error_t *err = NULL;
    EXPECT_MSG(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_new(NULL, &err), "out is NULL");
}

/* ---------------------------------------------------------------- config */
static void test_config(void) {
    wasmhost_error_t *err = NULL;
    wasmhost_config_t *c = NULL;
    EXPECT_OK(wasmhost_config_new(&c, &err));
    char *json = NULL;
    EXPECT_OK(wasmhost_config_to_json(c, &json, &err));
    CHECK(json && strstr(json, "\"lattice\":\"default\"") && strstr(json, "\"nats\":null"));
    wasmhost_string_free(json);

    EXPECT_OK(wasmhost_config_set_lattice(c, "c-tests", &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_set_lattice(c, "a.b", &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_set_lattice(c, "", &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_set_lattice(c, NULL, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_set_lattice(NULL, "x", &err));
    EXPECT_MSG(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_set_lattice(c, "\xff\xfe", &err), "UTF-8");
    EXPECT_OK(wasmhost_config_set_host_seed(c, "SNAP", &err));
    EXPECT_OK(wasmhost_config_set_host_seed(c, NULL, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_set_host_seed(NULL, NULL, &err));
    EXPECT_OK(wasmhost_config_set_cluster_seed(c, NULL, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_set_cluster_seed(NULL, NULL, &err));
    EXPECT_OK(wasmhost_config_add_cluster_issuer(c, "CAXYZ", &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_add_cluster_issuer(c, "NOTCLUSTER", &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_add_cluster_issuer(c, NULL, &err));
    EXPECT_OK(wasmhost_config_set_label(c, "region", "eu", &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_set_label(c, "", "x", &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_set_label(c, "k", NULL, &err));
    EXPECT_OK(wasmhost_config_set_friendly_name(c, "c-test-host", &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_set_friendly_name(NULL, "x", &err));
    EXPECT_OK(wasmhost_config_set_ctl_topic_prefix(c, "custom.ctl", &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_set_ctl_topic_prefix(c, "one", &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_set_ctl_topic_prefix(c, "a.b.c", &err));
    EXPECT_OK(wasmhost_config_set_rpc_timeout_ms(c, 1500, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_set_rpc_timeout_ms(c, 0, &err));
    EXPECT_OK(wasmhost_config_set_invocation_timeout_ms(c, 5000, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_set_invocation_timeout_ms(c, 0, &err));
    EXPECT_OK(wasmhost_config_set_heartbeat_interval_ms(c, 60000, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_set_heartbeat_interval_ms(c, 0, &err));
    EXPECT_OK(wasmhost_config_set_provider_shutdown_delay_ms(c, 100, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_set_provider_shutdown_delay_ms(NULL, 100, &err));
    EXPECT_OK(wasmhost_config_set_max_instance_memory(c, 8 << 20, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_set_max_instance_memory(c, 1000, &err));
    EXPECT_OK(wasmhost_config_set_max_instances(c, 8, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_set_max_instances(c, 0, &err));
    EXPECT_OK(wasmhost_config_set_max_payload(c, 1 << 20, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_set_max_payload(c, 0, &err));
    EXPECT_OK(wasmhost_config_set_enable_invocation_events(c, true, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_set_enable_invocation_events(NULL, true, &err));
    EXPECT_OK(wasmhost_config_set_oci_allow_latest(c, true, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_set_oci_allow_latest(NULL, true, &err));
    EXPECT_OK(wasmhost_config_add_oci_allowed_insecure(c, "localhost:5000", &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_add_oci_allowed_insecure(c, "", &err));

    EXPECT_OK(wasmhost_config_to_json(c, &json, &err));
    CHECK(json && strstr(json, "\"lattice\":\"c-tests\""));
    CHECK(json && strstr(json, "\"labels\":{\"region\":\"eu\"}"));
    CHECK(json && strstr(json, "\"friendly_name\":\"c-test-host\""));
    CHECK(json && strstr(json, "\"ctl_topic_prefix\":\"custom.ctl\""));
    CHECK(json && strstr(json, "\"rpc_timeout_ms\":1500"));
    CHECK(json && strstr(json, "\"invocation_timeout_ms\":5000"));
    CHECK(json && strstr(json, "\"heartbeat_interval_ms\":60000"));
    CHECK(json && strstr(json, "\"provider_shutdown_delay_ms\":100"));
    CHECK(json && strstr(json, "\"max_instance_memory\":8388608"));
    CHECK(json && strstr(json, "\"max_instances\":8"));
    CHECK(json && strstr(json, "\"max_payload\":1048576"));
    CHECK(json && strstr(json, "\"enable_invocation_events\":true"));
    CHECK(json && strstr(json, "\"oci_allow_latest\":true"));
    CHECK(json && strstr(json, "\"oci_allowed_insecure\":[\"localhost:5000\"]"));
    CHECK(json && strstr(json, "\"cluster_issuers\":[\"CAXYZ\"]"));
    CHECK(json && strstr(json, "\"host_seed_set\":false"));
    wasmhost_string_free(json);
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_to_json(NULL, &json, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_to_json(c, NULL, &err));

    /* NATS settings. */
    EXPECT_OK(wasmhost_config_set_nats_url(c, "nats://127.0.0.1:4333, 127.0.0.1:4334", &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_set_nats_url(c, "http://x", &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_set_nats_url(c, "host:notaport", &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_set_nats_url(c, NULL, &err));
    EXPECT_OK(wasmhost_config_set_nats_connection(c, WASMHOST_NATS_CTL, "ctl.example", 4444, "SUSEED", "JWT", true, &err));
    EXPECT_OK(wasmhost_config_set_nats_connection(c, WASMHOST_NATS_PROV_RPC, "prov.example", 4555, NULL, NULL, false, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_set_nats_connection(c, 7, "h", 1, NULL, NULL, false, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_set_nats_connection(c, WASMHOST_NATS_RPC, "", 1, NULL, NULL, false, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_set_nats_connection(c, WASMHOST_NATS_RPC, "h", 0, NULL, NULL, false, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_set_nats_connection(c, WASMHOST_NATS_RPC, NULL, 1, NULL, NULL, false, &err));
    EXPECT_OK(wasmhost_config_set_js_domain(c, "leaf", &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_set_js_domain(NULL, "leaf", &err));
    EXPECT_OK(wasmhost_config_to_json(c, &json, &err));
    CHECK(json && strstr(json, "\"rpc\":{\"host\":\"127.0.0.1\",\"jwt_set\":false,\"port\":4333"));
    CHECK(json && strstr(json, "\"servers\":[\"nats://127.0.0.1:4333\",\"nats://127.0.0.1:4334\"]"));
    CHECK(json && strstr(json, "\"ctl\":{\"host\":\"ctl.example\",\"jwt_set\":true,\"port\":4444,\"seed_set\":true,\"servers\":[\"nats://ctl.example:4444\"],\"tls\":true}"));
    CHECK(json && strstr(json, "\"prov_rpc\":{\"host\":\"prov.example\""));
    CHECK(json && strstr(json, "\"js_domain\":\"leaf\""));
    wasmhost_string_free(json);
    /* A NATS seed that is not an nkey seed is refused when the host starts. */
    wasmhost_host_t *host = NULL;
    EXPECT_MSG(WASMHOST_ERR_INVALID_INPUT, wasmhost_host_start(c, &host, &err), "ctl.seed: not a valid nkey seed");
    CHECK(host == NULL);
    EXPECT_OK(wasmhost_config_set_embedded(c, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_set_embedded(NULL, &err));
    EXPECT_OK(wasmhost_config_to_json(c, &json, &err));
    CHECK(json && strstr(json, "\"nats\":null"));
    wasmhost_string_free(json);
    wasmhost_config_free(c);

    /* From the environment (the OTP host's variable names). */
    setenv("WASMCLOUD_LATTICE_PREFIX", "fromenv", 1);
    setenv("HOST_ZONE", "z1", 1);
    EXPECT_OK(wasmhost_config_from_env(&c, &err));
    EXPECT_OK(wasmhost_config_to_json(c, &json, &err));
    CHECK(json && strstr(json, "\"lattice\":\"fromenv\"") && strstr(json, "\"zone\":\"z1\""));
    wasmhost_string_free(json);
    wasmhost_config_free(c);
    setenv("WASMCLOUD_RPC_TIMEOUT_MS", "soon", 1);
    c = NULL;
    EXPECT_MSG(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_from_env(&c, &err), "WASMCLOUD_RPC_TIMEOUT_MS");
    CHECK(c == NULL);
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_config_from_env(NULL, &err));
    unsetenv("WASMCLOUD_RPC_TIMEOUT_MS");
    unsetenv("WASMCLOUD_LATTICE_PREFIX");
    unsetenv("HOST_ZONE");
}

/* ---------------------------------------------------------------- host */
static void test_host(void) {
    wasmhost_error_t *err = NULL;
    wasmhost_host_t *host = NULL;
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_host_start(NULL, NULL, &err));

    wasmhost_config_t *c = small_config();
    EXPECT_OK(wasmhost_config_set_host_seed(c, "SNnotaseed", &err));
    EXPECT_MSG(WASMHOST_ERR_INVALID_INPUT, wasmhost_host_start(c, &host, &err), "host seed");
    CHECK(host == NULL);
    EXPECT_OK(wasmhost_config_set_host_seed(c, NULL, &err));
    EXPECT_OK(wasmhost_config_set_label(c, "team", "c", &err));
    EXPECT_OK(wasmhost_config_set_friendly_name(c, "c-host", &err));
    EXPECT_OK(wasmhost_host_start(c, &host, &err));
    wasmhost_config_free(c); /* the host keeps its own copy */

    const char *id = NULL;
    EXPECT_OK(wasmhost_host_id(host, &id, &err));
    CHECK(id && id[0] == 'N' && strlen(id) == 56);
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_host_id(NULL, &id, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_host_id(host, NULL, &err));

    char *json = NULL;
    EXPECT_OK(wasmhost_host_labels_json(host, &json, &err));
    CHECK(json && strstr(json, "\"team\":\"c\"") && strstr(json, "\"hostcore.os\":\"linux\""));
    wasmhost_string_free(json);
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_host_labels_json(NULL, &json, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_host_labels_json(host, NULL, &err));

    EXPECT_OK(wasmhost_host_inventory_json(host, &json, &err));
    CHECK(json && strstr(json, id) && strstr(json, "\"friendly_name\":\"c-host\"") && strstr(json, "\"actors\":[]"));
    wasmhost_string_free(json);
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_host_inventory_json(NULL, &json, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_host_inventory_json(host, NULL, &err));

    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_host_stop(NULL, &err));
    EXPECT_OK(wasmhost_host_stop(host, &err));
    EXPECT(WASMHOST_ERR_STOPPED, wasmhost_host_stop(host, &err)); /* double stop: an error, not a crash */
    /* A stopped host refuses work but still answers questions. */
    char *pk = NULL;
    EXPECT(WASMHOST_ERR_STOPPED, wasmhost_actor_start_file(host, echo_path, 1, NULL, &pk, &err));
    EXPECT_OK(wasmhost_host_id(host, &id, &err));
    EXPECT_OK(wasmhost_host_inventory_json(host, &json, &err));
    wasmhost_string_free(json);
    wasmhost_host_free(host);

    /* Freeing a running host stops it. NULL config = the defaults (too big an address-space
     * reservation for valgrind, which sets WASMHOST_TEST_MAX_INSTANCES). */
    host = NULL;
    c = getenv("WASMHOST_TEST_MAX_INSTANCES") ? small_config() : NULL;
    EXPECT_OK(wasmhost_host_start(c, &host, &err));
    wasmhost_config_free(c);
    wasmhost_host_free(host);
}

/* ---------------------------------------------------------------- actors */
static void test_actors(void) {
    wasmhost_error_t *err = NULL;
    wasmhost_host_t *host = start_host();
    char *pk = NULL;

    /* Devices and directories are refused before a byte is read (a /dev/zero read never ends). */
    EXPECT_MSG(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_start_file(host, "/dev/zero", 1, NULL, &pk, &err),
               "character device");
    EXPECT_MSG(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_start_file(host, "/", 1, NULL, &pk, &err), "directory");
    CHECK(pk == NULL);

    EXPECT_OK(wasmhost_actor_start_file(host, echo_path, 1, "{\"origin\":\"file\"}", &pk, &err));
    CHECK(pk && strcmp(pk, ECHO_KEY) == 0);
    wasmhost_string_free(pk);
    pk = NULL;

    size_t len = 0;
    uint8_t *module = read_file(kv_path, &len);
    CHECK(module != NULL);
    EXPECT_OK(wasmhost_actor_start_bytes(host, module, len, 2, NULL, &pk, &err));
    CHECK(pk && strcmp(pk, KV_KEY) == 0);
    wasmhost_string_free(pk);
    pk = NULL;

    char ref[4200];
    snprintf(ref, sizeof ref, "file://%s", pong_path);
    EXPECT_OK(wasmhost_actor_start_ref(host, ref, 1, NULL, &pk, &err));
    CHECK(pk && pk[0] == 'M');
    wasmhost_string_free(pk);
    pk = NULL;

    char *inv = NULL;
    EXPECT_OK(wasmhost_host_inventory_json(host, &inv, &err));
    CHECK(inv && strstr(inv, ECHO_KEY) && strstr(inv, KV_KEY) && strstr(inv, "\"origin\":\"file\""));
    wasmhost_string_free(inv);

    /* Error paths of start. */
    /* An OCI reference to a registry that is not there (port 9 is discard; nothing listens). */
    EXPECT_MSG(WASMHOST_ERR_TRANSPORT, wasmhost_actor_start_ref(host, "127.0.0.1:9/echo:0.1.0", 1, NULL, &pk, &err), "127.0.0.1:9");
    EXPECT(WASMHOST_ERR_NOT_FOUND, wasmhost_actor_start_file(host, "/nonexistent/echo.wasm", 1, NULL, &pk, &err));
    const uint8_t garbage[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 'x'};
    EXPECT(WASMHOST_ERR_CLAIMS, wasmhost_actor_start_bytes(host, garbage, sizeof garbage, 1, NULL, &pk, &err));
    EXPECT(WASMHOST_ERR_CLAIMS, wasmhost_actor_start_bytes(host, NULL, 0, 1, NULL, &pk, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_start_bytes(host, NULL, 5, 1, NULL, &pk, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_start_bytes(NULL, module, len, 1, NULL, &pk, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_start_bytes(host, module, len, 1, NULL, NULL, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_start_bytes(host, module, len, 0, NULL, &pk, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_start_bytes(host, module, len, 70000, NULL, &pk, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_start_bytes(host, module, len, 1, "{\"a\":1}", &pk, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_start_file(host, echo_path, 1, "not json", &pk, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_start_file(host, NULL, 1, NULL, &pk, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_start_ref(host, NULL, 1, NULL, &pk, &err));
    CHECK(pk == NULL); /* out-params are written only on success */
    free(module);

    /* Scale. */
    EXPECT_OK(wasmhost_actor_scale(host, ECHO_KEY, 3, "{\"scaled\":\"yes\"}", &err));
    EXPECT_OK(wasmhost_host_inventory_json(host, &inv, &err));
    CHECK(inv && strstr(inv, "\"scaled\":\"yes\""));
    wasmhost_string_free(inv);
    EXPECT_OK(wasmhost_actor_scale(host, ECHO_KEY, 1, NULL, &err));
    EXPECT(WASMHOST_ERR_NOT_FOUND, wasmhost_actor_scale(host, MISSING_KEY, 2, NULL, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_scale(host, NULL, 2, NULL, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_scale(host, ECHO_KEY, 100000, NULL, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_scale(host, ECHO_KEY, 2, "[]", &err));

    /* Update: same revision refused, higher revision accepted, from each source kind. */
    module = read_file(echo_path, &len);
    EXPECT_MSG(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_update_bytes(host, ECHO_KEY, module, len, &err), "revision");
    EXPECT_MSG(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_update_file(host, ECHO_KEY, echo_path, &err), "revision");
    EXPECT_MSG(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_update_bytes(host, KV_KEY, module, len, &err), "belongs to actor");
    EXPECT(WASMHOST_ERR_NOT_FOUND, wasmhost_actor_update_bytes(host, MISSING_KEY, module, len, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_update_bytes(host, ECHO_KEY, NULL, 3, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_update_file(host, ECHO_KEY, NULL, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_update_ref(host, NULL, echo_path, &err));
    EXPECT(WASMHOST_ERR_TRANSPORT, wasmhost_actor_update_ref(host, ECHO_KEY, "127.0.0.1:9/echo:0.2.0", &err));
    free(module);
    EXPECT_OK(wasmhost_actor_update_ref(host, ECHO_KEY, echo2_path, &err));
    EXPECT_OK(wasmhost_host_inventory_json(host, &inv, &err));
    CHECK(inv && strstr(inv, "\"revision\":2"));
    wasmhost_string_free(inv);
    uint8_t *reply = NULL;
    EXPECT_OK(wasmhost_actor_call(host, ECHO_KEY, "Echo.Echo", (const uint8_t *)"v2", 2, &reply, &len, &err));
    CHECK(len == 2 && reply && memcmp(reply, "v2", 2) == 0);
    wasmhost_bytes_free(reply, len);

    /* Stop. */
    EXPECT_OK(wasmhost_actor_stop(host, KV_KEY, 1, NULL, &err));
    EXPECT_OK(wasmhost_actor_stop(host, KV_KEY, 0, NULL, &err));
    EXPECT(WASMHOST_ERR_NOT_FOUND, wasmhost_actor_stop(host, KV_KEY, 0, NULL, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_stop(host, NULL, 0, NULL, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_stop(host, ECHO_KEY, 0, "{", &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_stop(host, ECHO_KEY, 1u << 20, NULL, &err));
    EXPECT_OK(wasmhost_actor_scale(host, ECHO_KEY, 0, NULL, &err));
    EXPECT(WASMHOST_ERR_NOT_FOUND, wasmhost_actor_stop(host, ECHO_KEY, 0, NULL, &err));

    EXPECT_OK(wasmhost_host_stop(host, &err));
    EXPECT(WASMHOST_ERR_STOPPED, wasmhost_actor_scale(host, ECHO_KEY, 1, NULL, &err));
    EXPECT(WASMHOST_ERR_STOPPED, wasmhost_actor_update_file(host, ECHO_KEY, echo2_path, &err));
    wasmhost_host_free(host);
}

/* ---------------------------------------------------------------- calls */
static void on_call_done(void *user_data, wasmhost_result_t result, const uint8_t *reply, size_t reply_len,
                         const wasmhost_error_t *error) {
    char line[512];
    if (result == WASMHOST_OK)
        snprintf(line, sizeof line, "ok:%.*s", (int)reply_len, reply ? (const char *)reply : "");
    else
        snprintf(line, sizeof line, "err:%s:%s", wasmhost_result_name(result), wasmhost_error_message(error));
    rec_add(user_data, line, strlen(line));
}

static void test_calls(void) {
    wasmhost_error_t *err = NULL;
    wasmhost_config_t *c = small_config();
    EXPECT_OK(wasmhost_config_set_invocation_timeout_ms(c, 500, &err));
    wasmhost_host_t *host = NULL;
    EXPECT_OK(wasmhost_host_start(c, &host, &err));
    wasmhost_config_free(c);
    char *echo = start_echo(host);
    char *pong = NULL, *trap = NULL, *loop = NULL;
    EXPECT_OK(wasmhost_actor_start_file(host, pong_path, 1, NULL, &pong, &err));
    EXPECT_OK(wasmhost_actor_start_file(host, trap_path, 1, NULL, &trap, &err));
    EXPECT_OK(wasmhost_actor_start_file(host, loop_path, 1, NULL, &loop, &err));

    uint8_t payload[100];
    for (size_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)i;
    uint8_t *reply = NULL;
    size_t len = 0;
    EXPECT_OK(wasmhost_actor_call(host, echo, "Echo.Echo", payload, sizeof payload, &reply, &len, &err));
    CHECK(len == sizeof payload && reply && memcmp(reply, payload, len) == 0);
    wasmhost_bytes_free(reply, len);
    /* An empty payload gives an empty reply: NULL and 0. */
    reply = (uint8_t *)1;
    EXPECT_OK(wasmhost_actor_call(host, echo, "Echo.Echo", NULL, 0, &reply, &len, &err));
    CHECK(reply == NULL && len == 0);
    /* By call alias. */
    EXPECT_OK(wasmhost_actor_call(host, "wasmhost/pong", "Echo.Echo", (const uint8_t *)"x", 1, &reply, &len, &err));
    CHECK(len == 6 && reply && memcmp(reply, "pong:x", 6) == 0);
    wasmhost_bytes_free(reply, len);

    reply = NULL;
    EXPECT(WASMHOST_ERR_NOT_FOUND, wasmhost_actor_call(host, MISSING_KEY, "Echo.Echo", payload, 1, &reply, &len, &err));
    EXPECT_MSG(WASMHOST_ERR_RUNTIME, wasmhost_actor_call(host, echo, "Nope.Nope", payload, 1, &reply, &len, &err), "Nope.Nope");
    EXPECT(WASMHOST_ERR_RUNTIME, wasmhost_actor_call(host, trap, "Trap.Trap", payload, 1, &reply, &len, &err));
    EXPECT(WASMHOST_ERR_TIMEOUT, wasmhost_actor_call(host, loop, "Loop.Loop", payload, 1, &reply, &len, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_call(host, echo, "", payload, 1, &reply, &len, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_call(host, echo, NULL, payload, 1, &reply, &len, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_call(host, NULL, "Echo.Echo", payload, 1, &reply, &len, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_call(NULL, echo, "Echo.Echo", payload, 1, &reply, &len, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_call(host, echo, "Echo.Echo", NULL, 4, &reply, &len, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_call(host, echo, "Echo.Echo", payload, 1, NULL, &len, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_call(host, echo, "Echo.Echo", payload, 1, &reply, NULL, &err));
    CHECK(reply == NULL);
    /* The trap and the timeout failed only those calls. */
    EXPECT_OK(wasmhost_actor_call(host, echo, "Echo.Echo", payload, 3, &reply, &len, &err));
    wasmhost_bytes_free(reply, len);

    /* Async: success, failure, and free_user_data once per call. */
    recorder rec;
    rec_init(&rec);
    EXPECT_OK(wasmhost_actor_call_async(host, echo, "Echo.Echo", (const uint8_t *)"async", 5, on_call_done, &rec, rec_mark_freed, &err));
    EXPECT_OK(wasmhost_actor_call_async(host, MISSING_KEY, "Echo.Echo", NULL, 0, on_call_done, &rec, rec_mark_freed, &err));
    EXPECT_OK(wasmhost_actor_call_async(host, loop, "Loop.Loop", NULL, 0, on_call_done, &rec, NULL, &err));
    CHECK(rec_wait(&rec, "ok:async", 1));
    CHECK(rec_wait(&rec, "err:not_found:", 1));
    CHECK(rec_wait(&rec, "err:timeout:", 1));
    CHECK(rec_wait(&rec, "<freed>", 2));
    /* Refused calls neither run the callback nor free user_data. */
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_call_async(host, echo, "Echo.Echo", NULL, 0, NULL, &rec, rec_mark_freed, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_call_async(NULL, echo, "Echo.Echo", NULL, 0, on_call_done, &rec, rec_mark_freed, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_call_async(host, NULL, "Echo.Echo", NULL, 0, on_call_done, &rec, rec_mark_freed, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_call_async(host, echo, NULL, NULL, 0, on_call_done, &rec, rec_mark_freed, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_actor_call_async(host, echo, "Echo.Echo", NULL, 9, on_call_done, &rec, rec_mark_freed, &err));

    EXPECT_OK(wasmhost_host_stop(host, &err));
    EXPECT(WASMHOST_ERR_STOPPED, wasmhost_actor_call(host, echo, "Echo.Echo", payload, 1, &reply, &len, &err));
    EXPECT(WASMHOST_ERR_STOPPED, wasmhost_actor_call_async(host, echo, "Echo.Echo", NULL, 0, on_call_done, &rec, rec_mark_freed, &err));
    CHECK(rec_count(&rec, "<freed>") == 2);
    CHECK(rec.count == 5);
    wasmhost_host_free(host);
    rec_destroy(&rec);
    wasmhost_string_free(echo);
    wasmhost_string_free(pong);
    wasmhost_string_free(trap);
    wasmhost_string_free(loop);
}

/* ---------------------------------------------------------------- events */
static void on_event(void *user_data, const char *json, size_t len) {
    CHECK(strlen(json) == len);
    rec_add(user_data, json, len);
}

typedef struct {
    recorder rec;
    pthread_mutex_t lock;
    pthread_cond_t ready_cond;
    bool ready; /* `self` was written by wasmhost_events_subscribe */
    wasmhost_subscription_t *self;
} self_freeing;

/* Frees its own subscription from inside the callback, on the first event. */
static void on_event_unsubscribe(void *user_data, const char *json, size_t len) {
    self_freeing *s = user_data;
    rec_add(&s->rec, json, len);
    pthread_mutex_lock(&s->lock);
    while (!s->ready) pthread_cond_wait(&s->ready_cond, &s->lock);
    wasmhost_subscription_t *sub = s->self;
    s->self = NULL;
    pthread_mutex_unlock(&s->lock);
    wasmhost_subscription_free(sub);
}

static void test_events(void) {
    wasmhost_error_t *err = NULL;
    wasmhost_host_t *host = start_host();
    recorder rec;
    rec_init(&rec);
    wasmhost_subscription_t *sub = NULL;
    EXPECT_OK(wasmhost_events_subscribe(host, on_event, &rec, rec_mark_freed, &sub, &err));
    wasmhost_subscription_t *none = NULL;
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_events_subscribe(host, NULL, &rec, rec_mark_freed, &none, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_events_subscribe(NULL, on_event, &rec, rec_mark_freed, &none, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_events_subscribe(host, on_event, &rec, rec_mark_freed, NULL, &err));
    CHECK(none == NULL);

    self_freeing selfish = {.ready = false, .self = NULL};
    rec_init(&selfish.rec);
    pthread_mutex_init(&selfish.lock, NULL);
    pthread_cond_init(&selfish.ready_cond, NULL);
    wasmhost_subscription_t *selfish_sub = NULL;
    EXPECT_OK(wasmhost_events_subscribe(host, on_event_unsubscribe, &selfish, NULL, &selfish_sub, &err));
    pthread_mutex_lock(&selfish.lock);
    selfish.self = selfish_sub;
    selfish.ready = true;
    pthread_cond_broadcast(&selfish.ready_cond);
    pthread_mutex_unlock(&selfish.lock);

    char *echo = start_echo(host);
    CHECK(rec_wait(&rec, "com.wasmcloud.lattice.actor_started", 1));
    CHECK(rec_count(&rec, "\"specversion\":\"1.0\"") >= 1);
    CHECK(rec_count(&rec, ECHO_KEY) >= 1);
    CHECK(rec_wait(&selfish.rec, "com.wasmcloud.lattice", 1));
    char *pk = NULL;
    EXPECT(WASMHOST_ERR_CLAIMS, wasmhost_actor_start_bytes(host, (const uint8_t *)"junk", 4, 1, NULL, &pk, &err));
    EXPECT_OK(wasmhost_link_put(host, ECHO_KEY, "VPROVIDER", "wasmcloud:keyvalue", "default", NULL, &err));
    EXPECT_OK(wasmhost_host_stop(host, &err));
    /* After stop, freeing the subscription waits until every event up to host_stopped was delivered. */
    wasmhost_subscription_free(sub);
    CHECK(rec_count(&rec, "actor_start_failed") == 1);
    CHECK(rec_count(&rec, "linkdef_set") == 1);
    CHECK(rec_count(&rec, "actor_stopped") == 1);
    CHECK(rec_count(&rec, "host_stopped") == 1);
    CHECK(rec_freed(&rec) == 1);
    /* The self-freeing subscription stopped after its first event. */
    CHECK(rec_count(&selfish.rec, "com.wasmcloud.lattice") == 1);
    EXPECT(WASMHOST_ERR_STOPPED, wasmhost_events_subscribe(host, on_event, &rec, rec_mark_freed, &none, &err));
    CHECK(rec_freed(&rec) == 1);
    wasmhost_host_free(host);
    wasmhost_string_free(echo);
    rec_destroy(&rec);
    rec_destroy(&selfish.rec);
    pthread_mutex_destroy(&selfish.lock);
    pthread_cond_destroy(&selfish.ready_cond);
}

/* ---------------------------------------------------------------- capabilities */
typedef struct {
    recorder rec;
    int mode; /* 0: count, 1: error, 2: no reply, 3: reply twice, 4: call echo from inside */
    int64_t counter;
    wasmhost_host_t *host;
} kv_state;

static void kv_handler(void *user_data, const wasmhost_capability_call_t *call, wasmhost_reply_t *reply) {
    kv_state *s = user_data;
    wasmhost_error_t *err = NULL;
    char line[256];
    snprintf(line, sizeof line, "%s %s %s %s", call->actor_id, call->contract_id, call->link_name, call->operation);
    rec_add(&s->rec, line, strlen(line));
    const uint8_t *key;
    size_t key_len;
    int64_t by;
    CHECK(mp_increment_request(call->payload, call->payload_len, &key, &key_len, &by));
    mp_writer w = {0};
    switch (s->mode) {
    case 0:
    case 3:
        __atomic_add_fetch(&s->counter, by, __ATOMIC_SEQ_CST);
        mp_write_int(&w, s->counter);
        EXPECT_OK(wasmhost_reply_ok(reply, w.data, w.len, &err));
        if (s->mode == 3) {
            EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_reply_ok(reply, w.data, w.len, &err));
            EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_reply_error(reply, "late", &err));
        }
        break;
    case 1:
        EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_reply_error(reply, NULL, &err));
        EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_reply_ok(reply, NULL, 3, &err));
        EXPECT_OK(wasmhost_reply_error(reply, "the C store is closed", &err));
        break;
    case 2:
        break;
    case 4: {
        /* Blocking calls are allowed here: call echo, answer with its reply length. */
        uint8_t *r = NULL;
        size_t n = 0;
        EXPECT_OK(wasmhost_actor_call(s->host, ECHO_KEY, "Echo.Echo", (const uint8_t *)"inner", 5, &r, &n, &err));
        wasmhost_bytes_free(r, n);
        mp_write_int(&w, (int64_t)n * 100);
        EXPECT_OK(wasmhost_reply_ok(reply, w.data, w.len, &err));
        break;
    }
    }
    mp_writer_free(&w);
}

static void test_capabilities(void) {
    wasmhost_error_t *err = NULL;
    wasmhost_host_t *host = start_host();
    char *echo = start_echo(host);
    char *kv = NULL;
    EXPECT_OK(wasmhost_actor_start_file(host, kv_path, 1, NULL, &kv, &err));
    kv_state s = {.mode = 0, .counter = 0, .host = host};
    rec_init(&s.rec);
    char body[256];

    /* No handler: the actor reports the missing link. */
    CHECK(kv_get(host, "/", body, sizeof body) == 500);
    CHECK(strstr(body, "missing link definition") != NULL);

    EXPECT_OK(wasmhost_capability_register(host, "wasmcloud:keyvalue", "default", kv_handler, &s, rec_mark_freed, &err));
    CHECK(kv_get(host, "/", body, sizeof body) == 200);
    CHECK(strcmp(body, "{\"counter\":1}") == 0);
    CHECK(kv_get(host, "/a/b", body, sizeof body) == 200);
    CHECK(strcmp(body, "{\"counter\":2}") == 0);
    CHECK(rec_count(&s.rec, KV_KEY " wasmcloud:keyvalue default KeyValue.Increment") == 2);

    s.mode = 1;
    CHECK(kv_get(host, "/", body, sizeof body) == 500);
    CHECK(strcmp(body, "{\"error\":\"the C store is closed\"}") == 0);
    s.mode = 2;
    CHECK(kv_get(host, "/", body, sizeof body) == 500);
    CHECK(strstr(body, "gave no reply") != NULL);
    s.mode = 3;
    CHECK(kv_get(host, "/", body, sizeof body) == 200);
    s.mode = 4;
    CHECK(kv_get(host, "/", body, sizeof body) == 200);
    CHECK(strcmp(body, "{\"counter\":500}") == 0);

    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_capability_register(host, "wasmcloud:keyvalue", "default", NULL, &s, rec_mark_freed, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_capability_register(host, "", "default", kv_handler, &s, rec_mark_freed, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_capability_register(host, "wasmcloud:keyvalue", NULL, kv_handler, &s, rec_mark_freed, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_capability_register(NULL, "wasmcloud:keyvalue", "x", kv_handler, &s, rec_mark_freed, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_reply_ok(NULL, NULL, 0, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_reply_error(NULL, "x", &err));
    CHECK(rec_freed(&s.rec) == 0);

    bool existed = false;
    EXPECT_OK(wasmhost_capability_unregister(host, "wasmcloud:keyvalue", "default", &existed, &err));
    CHECK(existed);
    CHECK(rec_wait(&s.rec, "<freed>", 1)); /* free_user_data ran once the handler was gone */
    EXPECT_OK(wasmhost_capability_unregister(host, "wasmcloud:keyvalue", "default", &existed, &err));
    CHECK(!existed);
    EXPECT_OK(wasmhost_capability_unregister(host, "wasmcloud:keyvalue", "default", NULL, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_capability_unregister(host, NULL, "default", &existed, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_capability_unregister(NULL, "a", "b", &existed, &err));
    CHECK(kv_get(host, "/", body, sizeof body) == 500);

    /* Replacing a handler frees the old one's user_data. */
    recorder second;
    rec_init(&second);
    kv_state t = {.mode = 0, .counter = 41, .host = host};
    rec_init(&t.rec);
    EXPECT_OK(wasmhost_capability_register(host, "wasmcloud:keyvalue", "default", kv_handler, &t, rec_mark_freed, &err));
    EXPECT_OK(wasmhost_capability_register(host, "wasmcloud:keyvalue", "default", kv_handler, &t, NULL, &err));
    CHECK(rec_wait(&t.rec, "<freed>", 1));
    CHECK(kv_get(host, "/", body, sizeof body) == 200);
    CHECK(strcmp(body, "{\"counter\":42}") == 0);

    EXPECT_OK(wasmhost_host_stop(host, &err));
    wasmhost_host_free(host);
    rec_destroy(&s.rec);
    rec_destroy(&t.rec);
    rec_destroy(&second);
    wasmhost_string_free(echo);
    wasmhost_string_free(kv);
}

/* ---------------------------------------------------------------- policy */
typedef struct {
    recorder rec;
    int mode; /* 0: deny invocations of Echo.Echo, 1: no decision, 2: decide twice, 3: deny starts */
} policy_state;

static void policy(void *user_data, const char *request_json, wasmhost_decision_t *decision) {
    policy_state *p = user_data;
    wasmhost_error_t *err = NULL;
    rec_add(&p->rec, request_json, strlen(request_json));
    bool is_invoke = strstr(request_json, "\"kind\":\"invoke\"") != NULL;
    switch (p->mode) {
    case 0:
        if (is_invoke && strstr(request_json, "\"operation\":\"Echo.Echo\""))
            EXPECT_OK(wasmhost_decision_deny(decision, "no echoing today", &err));
        else
            EXPECT_OK(wasmhost_decision_permit(decision, &err));
        break;
    case 1:
        break;
    case 2:
        EXPECT_OK(wasmhost_decision_permit(decision, &err));
        EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_decision_permit(decision, &err));
        EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_decision_deny(decision, "late", &err));
        break;
    case 3:
        EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_decision_deny(decision, NULL, &err));
        EXPECT_OK(wasmhost_decision_deny(decision, is_invoke ? "no" : "no new actors", &err));
        break;
    }
}

static void test_policy(void) {
    wasmhost_error_t *err = NULL;
    wasmhost_host_t *host = start_host();
    policy_state p = {.mode = 0};
    rec_init(&p.rec);
    EXPECT_OK(wasmhost_policy_set(host, policy, &p, rec_mark_freed, &err));
    char *echo = start_echo(host);
    CHECK(rec_count(&p.rec, "\"kind\":\"start_actor\"") == 1);
    CHECK(rec_count(&p.rec, "\"capabilities\":[\"wasmcloud:httpserver\"]") == 1);
    uint8_t *reply = NULL;
    size_t len = 0;
    EXPECT_MSG(WASMHOST_ERR_DENIED, wasmhost_actor_call(host, ECHO_KEY, "Echo.Echo", (const uint8_t *)"x", 1, &reply, &len, &err),
               "no echoing today");
    mp_writer req = mp_http_get("/");
    EXPECT_OK(wasmhost_actor_call(host, ECHO_KEY, "HttpServer.HandleRequest", req.data, req.len, &reply, &len, &err));
    wasmhost_bytes_free(reply, len);
    mp_writer_free(&req);

    p.mode = 1;
    EXPECT_MSG(WASMHOST_ERR_DENIED, wasmhost_actor_call(host, ECHO_KEY, "Echo.Echo", NULL, 0, &reply, &len, &err), "no decision");
    p.mode = 2;
    EXPECT_OK(wasmhost_actor_call(host, ECHO_KEY, "Echo.Echo", NULL, 0, &reply, &len, &err));
    p.mode = 3;
    char *pk = NULL;
    EXPECT_MSG(WASMHOST_ERR_DENIED, wasmhost_actor_start_file(host, kv_path, 1, NULL, &pk, &err), "no new actors");
    CHECK(pk == NULL);

    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_decision_permit(NULL, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_decision_deny(NULL, "x", &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_policy_set(NULL, policy, &p, rec_mark_freed, &err));
    CHECK(rec_freed(&p.rec) == 0);

    /* Removing the policy releases its user_data; with a NULL callback free_user_data runs at once. */
    recorder other;
    rec_init(&other);
    EXPECT_OK(wasmhost_policy_set(host, NULL, &other, rec_mark_freed, &err));
    CHECK(rec_wait(&p.rec, "<freed>", 1));
    CHECK(rec_freed(&other) == 1);
    EXPECT_OK(wasmhost_actor_call(host, ECHO_KEY, "Echo.Echo", (const uint8_t *)"x", 1, &reply, &len, &err));
    wasmhost_bytes_free(reply, len);

    EXPECT_OK(wasmhost_host_stop(host, &err));
    wasmhost_host_free(host);
    rec_destroy(&p.rec);
    rec_destroy(&other);
    wasmhost_string_free(echo);
}

/* ---------------------------------------------------------------- links */
static void test_links(void) {
    wasmhost_error_t *err = NULL;
    wasmhost_host_t *host = start_host();
    EXPECT_OK(wasmhost_link_put(host, KV_KEY, "VPROVIDERKEY", "wasmcloud:keyvalue", "default", "{\"URL\":\"redis://x\"}", &err));
    EXPECT_OK(wasmhost_link_put(host, ECHO_KEY, "VHTTP", "wasmcloud:httpserver", "default", NULL, &err));
    char *json = NULL;
    EXPECT_OK(wasmhost_links_json(host, &json, &err));
    CHECK(json && strstr(json, "\"provider_id\":\"VPROVIDERKEY\"") && strstr(json, "\"URL\":\"redis://x\"") && strstr(json, "VHTTP"));
    wasmhost_string_free(json);

    EXPECT_MSG(WASMHOST_ERR_INVALID_INPUT, wasmhost_link_put(host, KV_KEY, "", "wasmcloud:keyvalue", "default", NULL, &err), "provider_id");
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_link_put(host, KV_KEY, "V", "wasmcloud:keyvalue", "default", "{\"a\":[1]}", &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_link_put(host, NULL, "V", "c", "d", NULL, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_link_put(host, KV_KEY, NULL, "c", "d", NULL, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_link_put(host, KV_KEY, "V", NULL, "d", NULL, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_link_put(host, KV_KEY, "V", "c", NULL, NULL, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_link_put(NULL, KV_KEY, "V", "c", "d", NULL, &err));

    bool existed = false;
    EXPECT_OK(wasmhost_link_delete(host, KV_KEY, "wasmcloud:keyvalue", "default", &existed, &err));
    CHECK(existed);
    EXPECT_OK(wasmhost_link_delete(host, KV_KEY, "wasmcloud:keyvalue", "default", &existed, &err));
    CHECK(!existed);
    EXPECT_OK(wasmhost_link_delete(host, ECHO_KEY, "wasmcloud:httpserver", "default", NULL, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_link_delete(host, NULL, "c", "d", &existed, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_link_delete(host, KV_KEY, NULL, "d", &existed, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_link_delete(host, KV_KEY, "c", NULL, &existed, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_link_delete(NULL, KV_KEY, "c", "d", &existed, &err));
    EXPECT_OK(wasmhost_links_json(host, &json, &err));
    CHECK(json && strcmp(json, "[]") == 0);
    wasmhost_string_free(json);
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_links_json(NULL, &json, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_links_json(host, NULL, &err));

    EXPECT_OK(wasmhost_host_stop(host, &err));
    EXPECT(WASMHOST_ERR_STOPPED, wasmhost_link_put(host, KV_KEY, "V", "c", "d", NULL, &err));
    EXPECT(WASMHOST_ERR_STOPPED, wasmhost_link_delete(host, KV_KEY, "c", "d", &existed, &err));
    wasmhost_host_free(host);
}

/* ---------------------------------------------------------------- logs */
static int deadlock_probe_code = -1;
static pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_log(void *user_data, int32_t level, const char *target, const char *message) {
    char line[1024];
    /* "<level>" cannot occur inside a message by chance (a friendly name like wispy-snow-1234 can end in "4 "). */
    snprintf(line, sizeof line, "<%d> %s %s", level, target, message);
    rec_add(user_data, line, strlen(line));
    /* Blocking functions refuse to run inside a log callback instead of deadlocking. */
    pthread_mutex_lock(&probe_lock);
    if (deadlock_probe_code == -1) {
        wasmhost_error_t *err = NULL;
        wasmhost_host_t *h = NULL;
        deadlock_probe_code = wasmhost_host_start(NULL, &h, &err);
        CHECK(h == NULL && err != NULL && strstr(wasmhost_error_message(err), "log callback"));
        wasmhost_error_free(err);
        CHECK(wasmhost_log_set_callback(NULL, 0, NULL, NULL, NULL) == WASMHOST_ERR_WOULD_DEADLOCK);
    }
    pthread_mutex_unlock(&probe_lock);
}

static void test_logs(void) {
    wasmhost_error_t *err = NULL;
    recorder rec;
    rec_init(&rec);
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_log_set_callback(on_log, 9, &rec, rec_mark_freed, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_log_set_callback(on_log, 0, &rec, rec_mark_freed, &err));
    CHECK(rec_freed(&rec) == 0);
    EXPECT_OK(wasmhost_log_set_callback(on_log, WASMHOST_LOG_INFO, &rec, rec_mark_freed, &err));
    wasmhost_host_t *host = start_host();
    const char *id = NULL;
    EXPECT_OK(wasmhost_host_id(host, &id, &err));
    CHECK(rec_count(&rec, "<3> wasmhost::host host started") >= 1);
    CHECK(rec_count(&rec, id) >= 1);
    CHECK(rec_count(&rec, "<4> ") == 0); /* nothing above the chosen level */
    CHECK(deadlock_probe_code == WASMHOST_ERR_WOULD_DEADLOCK);

    /* Raising the level to debug forwards the event log lines too. */
    recorder debug;
    rec_init(&debug);
    EXPECT_OK(wasmhost_log_set_callback(on_log, WASMHOST_LOG_DEBUG, &debug, rec_mark_freed, &err));
    CHECK(rec_freed(&rec) == 1); /* the replaced callback's user_data */
    char *echo = start_echo(host);
    CHECK(rec_count(&debug, "<4> wasmhost::events lattice event event=actor_started") >= 1);

    /* NULL stops forwarding. */
    EXPECT_OK(wasmhost_log_set_callback(NULL, 0, NULL, NULL, &err));
    CHECK(rec_freed(&debug) == 1);
    size_t before = debug.count;
    EXPECT_OK(wasmhost_host_stop(host, &err));
    CHECK(debug.count == before);
    wasmhost_host_free(host);
    wasmhost_string_free(echo);
    rec_destroy(&rec);
    rec_destroy(&debug);
}

/* ---------------------------------------------------------------- lattice */
/* Two hosts in one NATS lattice (a real nats-server, started by run.sh): an actor started on one
 * host is called through the other. Runs when WASMHOST_TEST_NATS_URL is set. */
static wasmhost_host_t *lattice_host(const char *url, const char *lattice, const char *cluster_seed) {
    wasmhost_error_t *err = NULL;
    wasmhost_host_t *host = NULL;
    wasmhost_config_t *c = small_config();
    EXPECT_OK(wasmhost_config_set_nats_url(c, url, &err));
    EXPECT_OK(wasmhost_config_set_lattice(c, lattice, &err));
    EXPECT_OK(wasmhost_config_set_cluster_seed(c, cluster_seed, &err));
    EXPECT_OK(wasmhost_host_start(c, &host, &err));
    wasmhost_config_free(c);
    return host;
}

static void test_lattice(void) {
    const char *url = getenv("WASMHOST_TEST_NATS_URL");
    if (!url) {
        printf("(lattice: WASMHOST_TEST_NATS_URL not set, run.sh sets it)\n");
        checks_failed++;
        return;
    }
    /* The cluster seed of protocol/tests/vectors: both hosts sign with it and trust it. */
    const char *cluster = "SCAKUNN72IFVVHIEKSS76LBAJOWFE4FRIDNSCVHFUASRG3FZSGWE6WVUJU";
    wasmhost_error_t *err = NULL;
    wasmhost_host_t *a = lattice_host(url, "ctest", cluster);
    wasmhost_host_t *b = lattice_host(url, "ctest", cluster);
    char *echo = NULL;
    EXPECT_OK(wasmhost_actor_start_file(a, echo_path, 1, NULL, &echo, &err));
    uint8_t *reply = NULL;
    size_t len = 0;
    wasmhost_result_t rc = WASMHOST_ERR_NOT_FOUND;
    /* B learns of the actor when A's RPC subscription is live; retry briefly. */
    for (int i = 0; i < 50 && rc != WASMHOST_OK; i++) {
        rc = wasmhost_actor_call(b, echo, "Echo.Echo", (const uint8_t *)"across", 6, &reply, &len, &err);
        if (rc != WASMHOST_OK) {
            wasmhost_error_free(err);
            err = NULL;
            nanosleep(&(struct timespec){.tv_sec = 0, .tv_nsec = 100 * 1000 * 1000}, NULL);
        }
    }
    CHECK(rc == WASMHOST_OK && len == 6 && memcmp(reply, "across", 6) == 0);
    wasmhost_bytes_free(reply, len);
    char *json = NULL;
    EXPECT_OK(wasmhost_host_inventory_json(b, &json, &err));
    CHECK(json && strstr(json, "\"actors\":[]")); /* B called it without running it */
    wasmhost_string_free(json);
    wasmhost_string_free(echo);
    EXPECT_OK(wasmhost_host_stop(a, &err));
    EXPECT_OK(wasmhost_host_stop(b, &err));
    wasmhost_host_free(a);
    wasmhost_host_free(b);
}

/* ---------------------------------------------------------------- providers */
/* An embedded host refuses providers (they join the lattice over NATS); a NATS host starts the
 * script provider of run.sh as a child process, lists it, and stops it (the process is gone). */
static void test_providers(void) {
    wasmhost_error_t *err = NULL;
    char *pk = NULL, *json = NULL;
    wasmhost_host_t *embedded = start_host();
    EXPECT_MSG(WASMHOST_ERR_INVALID_INPUT, wasmhost_provider_start_file(embedded, provider_path, "default", NULL, NULL, &pk, &err), "NATS");
    CHECK(pk == NULL);
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_provider_start_file(NULL, provider_path, "default", NULL, NULL, &pk, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_provider_start_file(embedded, NULL, "default", NULL, NULL, &pk, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_provider_start_ref(embedded, provider_path, NULL, NULL, NULL, &pk, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_provider_start_ref(embedded, provider_path, "default", NULL, "[1]", &pk, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_provider_start_ref(embedded, provider_path, "default", NULL, NULL, NULL, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_provider_start_bytes(embedded, NULL, 3, "default", NULL, NULL, &pk, &err));
    EXPECT(WASMHOST_ERR_NOT_FOUND, wasmhost_provider_stop(embedded, "VAAAA", "default", &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_provider_stop(embedded, NULL, "default", &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_providers_json(embedded, NULL, &err));
    EXPECT_OK(wasmhost_providers_json(embedded, &json, &err));
    CHECK(json && strcmp(json, "[]") == 0);
    wasmhost_string_free(json);
    json = NULL;
    EXPECT_OK(wasmhost_host_stop(embedded, &err));
    wasmhost_host_free(embedded);

    const char *url = getenv("WASMHOST_TEST_NATS_URL");
    if (!url) {
        printf("(providers: WASMHOST_TEST_NATS_URL not set, run.sh sets it)\n");
        checks_failed++;
        return;
    }
    wasmhost_host_t *host = lattice_host(url, "ctest-providers", "SCAKUNN72IFVVHIEKSS76LBAJOWFE4FRIDNSCVHFUASRG3FZSGWE6WVUJU");
    char ref[4200];
    snprintf(ref, sizeof ref, "file://%s", provider_path);
    EXPECT_OK(wasmhost_provider_start_ref(host, ref, "default", "{\"greeting\":\"hi\"}", "{\"who\":\"c\"}", &pk, &err));
    CHECK(pk && pk[0] == 'V' && strlen(pk) == 56);
    if (!pk) {
        wasmhost_host_free(host);
        return;
    }
    /* The same provider and link name again is refused; another link name is a second process. */
    EXPECT_MSG(WASMHOST_ERR_INVALID_INPUT, wasmhost_provider_start_file(host, provider_path, "default", NULL, NULL, &json, &err), "already running");
    EXPECT_OK(wasmhost_providers_json(host, &json, &err));
    CHECK(json && strstr(json, pk) && strstr(json, "\"link_name\":\"default\"") && strstr(json, "\"contract_id\":\"wasmcloud:keyvalue\""));
    CHECK(json && strstr(json, "\"annotations\":{\"who\":\"c\"}") && strstr(json, "\"name\":\"c script\"") && strstr(json, "\"image_ref\":\"file://"));
    /* The same field names as the inventory and every binding (not rev/ver). */
    CHECK(json && strstr(json, "\"revision\":3") && strstr(json, "\"version\":\"0.3.0\"") && !strstr(json, "\"rev\""));
    const char *p = json ? strstr(json, "\"pid\":") : NULL;
    int pid = p ? atoi(p + 6) : 0;
    CHECK(pid > 0 && kill(pid, 0) == 0);
    wasmhost_string_free(json);
    json = NULL;
    EXPECT(WASMHOST_ERR_NOT_FOUND, wasmhost_provider_stop(host, pk, "other", &err));
    EXPECT_OK(wasmhost_provider_stop(host, pk, "default", &err));
    CHECK(pid > 0 && kill(pid, 0) != 0); /* killed and reaped by the host */
    EXPECT_OK(wasmhost_providers_json(host, &json, &err));
    CHECK(json && strcmp(json, "[]") == 0);
    wasmhost_string_free(json);
    EXPECT(WASMHOST_ERR_NOT_FOUND, wasmhost_provider_stop(host, pk, "default", &err));
    wasmhost_string_free(pk);
    EXPECT_OK(wasmhost_host_stop(host, &err));
    wasmhost_host_free(host);
}

/* ---------------------------------------------------------------- observer */
/* The lattice observer: on an embedded host (no NATS), then over a real nats-server seeing a
 * host that joined before it (seeded from the control interface) and changes after it. */
static void test_observer(void) {
    wasmhost_error_t *err = NULL;
    wasmhost_observer_t *obs = NULL;
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_observer_from_host(NULL, NULL, &obs, &err));
    wasmhost_host_t *host = start_host();
    EXPECT_MSG(WASMHOST_ERR_INVALID_INPUT, wasmhost_observer_from_host(host, "{\"latice\":\"x\"}", &obs, &err), "latice");
    EXPECT_MSG(WASMHOST_ERR_INVALID_INPUT, wasmhost_observer_from_host(host, "{\"missed_heartbeats\":0}", &obs, &err), "missed_heartbeats");
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_observer_from_host(host, NULL, NULL, &err));
    CHECK(obs == NULL);
    EXPECT_OK(wasmhost_observer_from_host(host, NULL, &obs, &err));
    char *json = NULL;
    EXPECT_OK(wasmhost_observer_snapshot_json(obs, &json, &err));
    const char *id = NULL;
    EXPECT_OK(wasmhost_host_id(host, &id, &err));
    CHECK(json && id && strstr(json, id) && strstr(json, "\"actors\":[]"));
    wasmhost_string_free(json);
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_observer_snapshot_json(NULL, &json, &err));

    recorder rec;
    rec_init(&rec);
    wasmhost_subscription_t *sub = NULL, *none = NULL;
    char *snapshot = NULL;
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_observer_subscribe(obs, NULL, &rec, rec_mark_freed, &snapshot, &none, &err));
    EXPECT(WASMHOST_ERR_INVALID_INPUT, wasmhost_observer_subscribe(obs, on_event, &rec, rec_mark_freed, &snapshot, NULL, &err));
    CHECK(none == NULL && snapshot == NULL && rec_freed(&rec) == 0);
    EXPECT_OK(wasmhost_observer_subscribe(obs, on_event, &rec, rec_mark_freed, &snapshot, &sub, &err));
    CHECK(snapshot && strstr(snapshot, "\"seq\":"));
    wasmhost_string_free(snapshot);
    char *echo = start_echo(host);
    CHECK(rec_wait(&rec, "\"kind\":\"actor_added\"", 1));
    CHECK(rec_count(&rec, ECHO_KEY) >= 1);
    EXPECT_OK(wasmhost_observer_snapshot_json(obs, &json, &err));
    CHECK(json && strstr(json, ECHO_KEY) && strstr(json, "\"name\":\"Echo\""));
    wasmhost_string_free(json);
    EXPECT_OK(wasmhost_host_stop(host, &err));
    CHECK(rec_wait(&rec, "\"kind\":\"host_removed\"", 1));
    wasmhost_subscription_free(sub);
    CHECK(rec_freed(&rec) == 1);
    wasmhost_observer_free(obs);
    wasmhost_observer_free(NULL);
    wasmhost_host_free(host);
    wasmhost_string_free(echo);
    rec_destroy(&rec);

    const char *url = getenv("WASMHOST_TEST_NATS_URL");
    if (!url) {
        printf("(observer: WASMHOST_TEST_NATS_URL not set, run.sh sets it)\n");
        checks_failed++;
        return;
    }
    EXPECT_MSG(WASMHOST_ERR_TRANSPORT, wasmhost_observer_connect("nats://127.0.0.1:1", NULL, &obs, &err), "cannot connect");
    const char *cluster = "SCAKUNN72IFVVHIEKSS76LBAJOWFE4FRIDNSCVHFUASRG3FZSGWE6WVUJU";
    wasmhost_host_t *a = lattice_host(url, "cobserve", cluster);
    char *echo_a = NULL;
    EXPECT_OK(wasmhost_actor_start_file(a, echo_path, 2, NULL, &echo_a, &err));
    EXPECT_OK(wasmhost_observer_connect(url, "{\"lattice\":\"cobserve\",\"ping_timeout_ms\":500}", &obs, &err));
    /* Seeded: the host and its two instances are there before any change. */
    EXPECT_OK(wasmhost_observer_snapshot_json(obs, &json, &err));
    const char *a_id = NULL;
    EXPECT_OK(wasmhost_host_id(a, &a_id, &err));
    CHECK(json && a_id && strstr(json, a_id) && strstr(json, ECHO_KEY) && strstr(json, "\"lattice\":\"cobserve\""));
    wasmhost_string_free(json);
    rec_init(&rec);
    EXPECT_OK(wasmhost_observer_subscribe(obs, on_event, &rec, NULL, NULL, &sub, &err));
    EXPECT_OK(wasmhost_actor_scale(a, ECHO_KEY, 3, NULL, &err));
    CHECK(rec_wait(&rec, "\"kind\":\"actor_scaled\"", 1));
    CHECK(rec_count(&rec, "\"instances\":3") >= 1);
    EXPECT_OK(wasmhost_host_stop(a, &err));
    CHECK(rec_wait(&rec, "\"reason\":\"stopped\"", 1));
    wasmhost_subscription_free(sub);
    wasmhost_observer_free(obs);
    wasmhost_host_free(a);
    wasmhost_string_free(echo_a);
    rec_destroy(&rec);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s ACTORS_DIR SIGNED_DIR\n", argv[0]);
        return 2;
    }
    snprintf(echo_path, sizeof echo_path, "%s/echo.wasm", argv[1]);
    snprintf(kv_path, sizeof kv_path, "%s/kvcounter.wasm", argv[1]);
    snprintf(pong_path, sizeof pong_path, "%s/pong.wasm", argv[1]);
    snprintf(echo2_path, sizeof echo2_path, "%s/echo_rev2.wasm", argv[2]);
    snprintf(trap_path, sizeof trap_path, "%s/trap.wasm", argv[2]);
    snprintf(loop_path, sizeof loop_path, "%s/loop.wasm", argv[2]);
    snprintf(provider_path, sizeof provider_path, "%s/script.par.gz", argv[2]);

    struct {
        const char *name;
        void (*run)(void);
    } tests[] = {
        {"errors_version_memory", test_errors_version_memory},
        {"config", test_config},
        {"host", test_host},
        {"actors", test_actors},
        {"calls", test_calls},
        {"events", test_events},
        {"capabilities", test_capabilities},
        {"policy", test_policy},
        {"links", test_links},
        {"logs", test_logs},
        {"lattice", test_lattice},
        {"providers", test_providers},
        {"observer", test_observer},
    };
    const char *only = getenv("WASMHOST_TEST_ONLY");
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (only && strcmp(only, tests[i].name) != 0) continue;
        int before = checks_failed;
        tests[i].run();
        printf("%-24s %s\n", tests[i].name, checks_failed == before ? "ok" : "FAILED");
        fflush(stdout);
    }
    printf("%d checks, %d failed\n", checks_run, checks_failed);
    return checks_failed == 0 ? 0 : 1;
}
