//! Atoms the NIF returns or sends.

rustler::atoms! {
    ok,
    error,
    not_waiting,
    bytes,
    file,
    reference,
    wasmhost_event,
    wasmhost_lattice_change,
    wasmhost_host_call,
    wasmhost_policy,
}
