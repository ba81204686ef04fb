//! The waPC ABI (LATTICE.md §6): the nine host imports, registered under both `wapc` and `wasmbus`,
//! and the per-instance state they read and write.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use wasmtime::{Caller, Extern, Linker, Memory, ResourceLimiter};

use super::context::ActorContext;

/// The import modules real actors link against: waPC guests use `wapc`, wasmbus-rpc actors `wasmbus`.
const IMPORT_MODULES: [&str; 2] = ["wapc", "wasmbus"];

/// State of one actor instance, owned by its wasmtime `Store`.
pub(crate) struct InstanceState {
    pub(crate) ctx: Arc<ActorContext>,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) memory: Option<Memory>,
    /// When the running invocation must stop; checked on every epoch tick.
    pub(crate) deadline: Instant,
    pub(crate) timed_out: bool,
    pub(crate) call: CallState,
}

/// The buffers of the invocation in progress; reset before each `__guest_call`.
#[derive(Default)]
pub(crate) struct CallState {
    /// Reused across calls: holds the operation name without allocating per call.
    pub(crate) operation: Vec<u8>,
    pub(crate) payload: Bytes,
    pub(crate) guest_response: Option<Vec<u8>>,
    pub(crate) guest_error: Option<String>,
    pub(crate) host_response: Option<Vec<u8>>,
    pub(crate) host_error: Option<String>,
}

impl InstanceState {
    pub(crate) fn new(ctx: Arc<ActorContext>, max_memory: usize) -> Self {
        InstanceState {
            ctx,
            limiter: MemoryLimiter {
                max: max_memory,
                exceeded: false,
            },
            memory: None,
            deadline: Instant::now(),
            timed_out: false,
            call: CallState::default(),
        }
    }
}

/// Caps linear memory per instance and remembers that the cap was hit, so the error can say so.
pub(crate) struct MemoryLimiter {
    max: usize,
    pub(crate) exceeded: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = desired <= self.max;
        if !allowed {
            self.exceeded = true;
        }
        Ok(allowed)
    }
    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1 << 20)
    }
}

/// Registers the nine waPC host functions under `wapc` and `wasmbus`.
pub(crate) fn define_imports(linker: &mut Linker<InstanceState>) -> wasmtime::Result<()> {
    for module in IMPORT_MODULES {
        linker.func_wrap(module, "__guest_request", guest_request)?;
        linker.func_wrap(
            module,
            "__guest_response",
            |mut caller: Caller<'_, InstanceState>, ptr: i32, len: i32| {
                let bytes = read(&mut caller, ptr, len)?.to_vec();
                caller.data_mut().call.guest_response = Some(bytes);
                Ok(())
            },
        )?;
        linker.func_wrap(
            module,
            "__guest_error",
            |mut caller: Caller<'_, InstanceState>, ptr: i32, len: i32| {
                let text = String::from_utf8_lossy(read(&mut caller, ptr, len)?).into_owned();
                caller.data_mut().call.guest_error = Some(text);
                Ok(())
            },
        )?;
        linker.func_wrap_async(module, "__host_call", host_call)?;
        linker.func_wrap(
            module,
            "__host_response_len",
            |caller: Caller<'_, InstanceState>| -> i32 {
                caller
                    .data()
                    .call
                    .host_response
                    .as_ref()
                    .map_or(0, |r| r.len() as i32)
            },
        )?;
        linker.func_wrap(
            module,
            "__host_response",
            |mut caller: Caller<'_, InstanceState>, ptr: i32| {
                let response = caller
                    .data_mut()
                    .call
                    .host_response
                    .take()
                    .unwrap_or_default();
                let result = write(&mut caller, ptr, &response);
                caller.data_mut().call.host_response = Some(response);
                result
            },
        )?;
        linker.func_wrap(
            module,
            "__host_error_len",
            |caller: Caller<'_, InstanceState>| -> i32 {
                caller
                    .data()
                    .call
                    .host_error
                    .as_ref()
                    .map_or(0, |e| e.len() as i32)
            },
        )?;
        linker.func_wrap(
            module,
            "__host_error",
            |mut caller: Caller<'_, InstanceState>, ptr: i32| {
                let error = caller.data_mut().call.host_error.take().unwrap_or_default();
                let result = write(&mut caller, ptr, error.as_bytes());
                caller.data_mut().call.host_error = Some(error);
                result
            },
        )?;
        linker.func_wrap(module, "__console_log", |mut caller: Caller<'_, InstanceState>, ptr: i32, len: i32| {
            let line = String::from_utf8_lossy(read(&mut caller, ptr, len)?).into_owned();
            tracing::info!(target: "wasmhost::actor", actor = %caller.data().ctx.public_key, "{line}");
            Ok(())
        })?;
    }
    Ok(())
}

fn guest_request(
    mut caller: Caller<'_, InstanceState>,
    op_ptr: i32,
    ptr: i32,
) -> wasmtime::Result<()> {
    // Moved out and back rather than cloned: no allocation and no reference-count traffic per call.
    let call = &mut caller.data_mut().call;
    let (operation, payload) = (
        std::mem::take(&mut call.operation),
        std::mem::take(&mut call.payload),
    );
    let written =
        write(&mut caller, op_ptr, &operation).and_then(|()| write(&mut caller, ptr, &payload));
    let call = &mut caller.data_mut().call;
    (call.operation, call.payload) = (operation, payload);
    written
}

fn host_call(
    mut caller: Caller<'_, InstanceState>,
    (bd_ptr, bd_len, ns_ptr, ns_len, op_ptr, op_len, ptr, len): (
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
    ),
) -> Box<dyn std::future::Future<Output = wasmtime::Result<i32>> + Send + '_> {
    Box::new(async move {
        let binding = read_string(&mut caller, bd_ptr, bd_len)?;
        let namespace = read_string(&mut caller, ns_ptr, ns_len)?;
        let operation = read_string(&mut caller, op_ptr, op_len)?;
        let payload = Bytes::copy_from_slice(read(&mut caller, ptr, len)?);
        let ctx = caller.data().ctx.clone();
        caller.data_mut().call.host_response = None;
        caller.data_mut().call.host_error = None;
        let outcome = ctx
            .host_call(&binding, &namespace, &operation, payload)
            .await;
        let call = &mut caller.data_mut().call;
        Ok(match outcome {
            Ok(response) => {
                call.host_response = Some(response);
                1
            }
            Err(error) => {
                call.host_error = Some(error);
                0
            }
        })
    })
}

fn memory(caller: &mut Caller<'_, InstanceState>) -> wasmtime::Result<Memory> {
    if let Some(memory) = caller.data().memory {
        return Ok(memory);
    }
    match caller.get_export("memory") {
        Some(Extern::Memory(memory)) => {
            caller.data_mut().memory = Some(memory);
            Ok(memory)
        }
        _ => wasmtime::bail!("the actor does not export `memory`"),
    }
}

/// Guest bytes at `[ptr, ptr+len)`; a range outside linear memory traps the guest instead of panicking.
fn read<'a>(
    caller: &'a mut Caller<'_, InstanceState>,
    ptr: i32,
    len: i32,
) -> wasmtime::Result<&'a [u8]> {
    let memory = memory(caller)?;
    let data = memory.data(caller);
    let (start, len) = (ptr as u32 as usize, len as u32 as usize);
    data.get(start..start.saturating_add(len)).ok_or_else(|| {
        wasmtime::format_err!(
            "guest passed an out-of-bounds buffer ({start}+{len} > {})",
            data.len()
        )
    })
}

fn read_string(
    caller: &mut Caller<'_, InstanceState>,
    ptr: i32,
    len: i32,
) -> wasmtime::Result<String> {
    Ok(String::from_utf8_lossy(read(caller, ptr, len)?).into_owned())
}

fn write(caller: &mut Caller<'_, InstanceState>, ptr: i32, bytes: &[u8]) -> wasmtime::Result<()> {
    let memory = memory(caller)?;
    let start = ptr as u32 as usize;
    let data = memory.data_mut(caller);
    let len = data.len();
    data.get_mut(start..start.saturating_add(bytes.len()))
        .ok_or_else(|| {
            wasmtime::format_err!(
                "guest buffer out of bounds ({start}+{} > {len})",
                bytes.len()
            )
        })?
        .copy_from_slice(bytes);
    Ok(())
}
