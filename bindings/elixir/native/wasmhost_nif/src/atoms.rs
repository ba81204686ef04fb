//! Atoms the NIF returns or sends.

rustler::atoms! {
    ok,
    error,
    not_waiting,
    bytes,
    file,
    reference,
    wasmhost_event,
    wasmhost_host_call,
    wasmhost_policy,
}
