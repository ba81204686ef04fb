//! One live actor instance: a wasmtime `Store` with its instance, and the invocation loop of waPC.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use wasmtime::{Store, Trap, TypedFunc, UpdateDeadline};

use super::context::ActorContext;
use super::engine::CompiledActor;
use super::wapc::{CallState, InstanceState};
use crate::quote::{bounded, quote_input, MAX_RELAYED_ERROR_CHARS};
use crate::{Error, Result};

/// A warm instance ready for `__guest_call`. One invocation at a time (`&mut self`).
pub(crate) struct ActorInstance {
    store: Store<InstanceState>,
    guest_call: TypedFunc<(i32, i32), i32>,
    /// `__wasmbus_rpc_version()` result, 0 when the actor does not export it.
    pub(crate) api_version: i32,
    /// Set when a trap or timeout may have left the instance inconsistent: it must be replaced.
    pub(crate) poisoned: bool,
}

impl ActorInstance {
    /// Instantiates `compiled`, runs the waPC start functions (`start`, `wapc_init`, `_start`) that exist,
    /// each bounded by `timeout`.
    pub(crate) async fn new(
        engine: &wasmtime::Engine,
        compiled: &CompiledActor,
        ctx: Arc<ActorContext>,
        max_memory: usize,
        timeout: Duration,
    ) -> Result<Self> {
        let mut store = Store::new(engine, InstanceState::new(ctx, max_memory));
        store.limiter(|state| &mut state.limiter);
        store.epoch_deadline_callback(|mut ctx| {
            if Instant::now() >= ctx.data().deadline {
                ctx.data_mut().timed_out = true;
                Ok(UpdateDeadline::Interrupt)
            } else {
                // Give other tasks on this worker a turn: actors never hog the async runtime.
                Ok(UpdateDeadline::Yield(1))
            }
        });
        store.data_mut().deadline = Instant::now() + timeout;
        store.set_epoch_deadline(1);
        let instance = compiled
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| describe_failure(&store, e, "instantiation"))?;
        let guest_call = instance
            .get_typed_func::<(i32, i32), i32>(&mut store, "__guest_call")
            .map_err(|e| Error::invalid(format!("`__guest_call` has the wrong type: {e:#}")))?;
        for name in ["start", "wapc_init", "_start"] {
            if let Ok(f) = instance.get_typed_func::<(), ()>(&mut store, name) {
                f.call_async(&mut store, ())
                    .await
                    .map_err(|e| describe_failure(&store, e, name))?;
            }
        }
        let api_version = match compiled.has_rpc_version {
            true => match instance.get_typed_func::<(), i32>(&mut store, "__wasmbus_rpc_version") {
                Ok(f) => f
                    .call_async(&mut store, ())
                    .await
                    .map_err(|e| describe_failure(&store, e, "__wasmbus_rpc_version"))?,
                Err(_) => 0,
            },
            false => 0,
        };
        Ok(ActorInstance {
            store,
            guest_call,
            api_version,
            poisoned: false,
        })
    }

    /// Delivers one invocation through `__guest_call` and returns the guest's response.
    /// A guest error fails the call only; a trap or timeout also poisons the instance.
    pub(crate) async fn invoke(
        &mut self,
        operation: &str,
        payload: Bytes,
        timeout: Duration,
    ) -> Result<Vec<u8>> {
        let (op_len, len) = (operation.len() as i32, payload.len() as i32);
        let state = self.store.data_mut();
        let mut op = std::mem::take(&mut state.call.operation);
        op.clear();
        op.extend_from_slice(operation.as_bytes());
        state.call = CallState {
            operation: op,
            payload,
            ..CallState::default()
        };
        state.deadline = Instant::now() + timeout;
        state.timed_out = false;
        self.store.set_epoch_deadline(1);
        let outcome = self
            .guest_call
            .call_async(&mut self.store, (op_len, len))
            .await;
        let call = &mut self.store.data_mut().call;
        let (response, guest_error) = (call.guest_response.take(), call.guest_error.take());
        call.payload = Bytes::new();
        match outcome {
            Ok(1) => Ok(response.unwrap_or_default()),
            Ok(_) => Err(Error::runtime(match guest_error {
                Some(text) => format!(
                    "guest error in `{}`: {}",
                    quote_input(operation),
                    bounded(&text, MAX_RELAYED_ERROR_CHARS)
                ),
                None => format!(
                    "guest call `{}` failed without an error message",
                    quote_input(operation)
                ),
            })),
            Err(e) => {
                self.poisoned = true;
                Err(describe_failure(&self.store, e, operation))
            }
        }
    }
}

/// Turns a wasmtime failure into an error that says what happened: timeout, memory limit, or the trap.
fn describe_failure(store: &Store<InstanceState>, e: wasmtime::Error, what: &str) -> Error {
    let what = quote_input(what);
    let state = store.data();
    if state.timed_out {
        return Error::timeout(format!(
            "actor {} did not finish `{what}` within its invocation timeout",
            state.ctx.public_key
        ));
    }
    let memory_note = if state.limiter.exceeded {
        " (the actor hit its memory limit)"
    } else {
        ""
    };
    match e.downcast_ref::<Trap>() {
        Some(trap) => Error::runtime(format!(
            "actor {} trapped in `{what}`: {trap}{memory_note}",
            state.ctx.public_key
        )),
        None => Error::runtime(format!(
            "actor {} failed in `{what}`: {e:#}{memory_note}",
            state.ctx.public_key
        )),
    }
}
