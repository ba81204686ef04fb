//! `pong` example actor: `Echo.Echo` returns `"pong:"` followed by the payload bytes.
//! Signed with call alias `wasmhost/pong` so other actors can reach it by that name.

use wapc_guest::prelude::*;

#[no_mangle]
pub extern "C" fn wapc_init() {
    register_function("Echo.Echo", echo);
}

fn echo(msg: &[u8]) -> CallResult {
    let mut out = Vec::with_capacity(5 + msg.len());
    out.extend_from_slice(b"pong:");
    out.extend_from_slice(msg);
    Ok(out)
}
