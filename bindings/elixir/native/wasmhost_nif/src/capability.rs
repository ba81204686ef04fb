//! Capabilities answered by Elixir processes.
//!
//! An actor's host call becomes `{:wasmhost_host_call, reply_ref, call}` sent to the registered pid;
//! the process answers with `Wasmhost.reply(reply_ref, {:ok, bytes} | {:error, text})`. The Rust side
//! waits on the runtime (never on a scheduler) and gives up when the process is dead at send time,
//! when the reply reference is dropped without an answer (the process exited or discarded the
//! message: the reference's destructor closes the channel), or after the timeout. Each failure
//! reaches the actor as a host error with a message that says which.

use std::time::Duration;

use parking_lot::Mutex;
use rustler::{Binary, Encoder, Env, LocalPid, NifMap, Resource, ResourceArc, Term};
use tokio::sync::oneshot;
use wasmhost::{capability_fn, CapabilityCall};

use crate::atoms;
use crate::host::HostResource;
use crate::runtime::send_from_worker;
use crate::terms::{self, Bin};

type Reply = Result<Vec<u8>, String>;

/// The one-shot answer channel of a host call, handed to Elixir as an opaque reference.
pub(crate) struct ReplySlot {
    tx: Mutex<Option<oneshot::Sender<Reply>>>,
}

#[rustler::resource_impl]
impl Resource for ReplySlot {}

/// The call as the handler process receives it (atom keys).
#[derive(NifMap)]
struct CallTerm {
    actor_id: String,
    contract_id: String,
    link_name: String,
    operation: String,
    payload: Bin,
}

/// Forwards one host call to `pid` and waits for its reply.
async fn ask(pid: LocalPid, timeout: Duration, call: CapabilityCall) -> Reply {
    let what = format!(
        "{} (link {}) {}",
        call.contract_id, call.link_name, call.operation
    );
    let message = CallTerm {
        actor_id: call.actor_id,
        contract_id: call.contract_id,
        link_name: call.link_name,
        operation: call.operation,
        payload: Bin(call.payload.to_vec()),
    };
    request(pid, timeout, &what, move |env, slot| {
        (atoms::wasmhost_host_call(), slot, message).encode(env)
    })
    .await
}

/// Sends the message `build` makes around a fresh reply reference to `pid` and waits for the
/// answer given with `Wasmhost.reply/2`. `what` names the request in the error texts.
pub(crate) async fn request<F>(pid: LocalPid, timeout: Duration, what: &str, build: F) -> Reply
where
    F: for<'a> FnOnce(Env<'a>, ResourceArc<ReplySlot>) -> Term<'a> + Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    let slot = ResourceArc::new(ReplySlot {
        tx: Mutex::new(Some(tx)),
    });
    // After the send only the message keeps the slot alive, so its destructor tells us when the
    // process drops the request.
    let sent = send_from_worker(pid, move |env| build(env, slot)).await;
    if !sent {
        return Err(format!("the Elixir process handling {what} is not alive"));
    }
    match tokio::time::timeout(timeout, rx).await {
        Ok(Ok(reply)) => reply,
        Ok(Err(_)) => Err(format!(
            "the Elixir process handling {what} exited or dropped the request without replying"
        )),
        Err(_) => Err(format!(
            "the Elixir process handling {what} did not reply within {} ms",
            timeout.as_millis()
        )),
    }
}

/// Registers `pid` as the handler for `contract_id` and `link_name` (replacing any other handler).
#[rustler::nif]
fn capability_register(
    env: Env<'_>,
    resource: ResourceArc<HostResource>,
    contract_id: String,
    link_name: String,
    pid: LocalPid,
    timeout_ms: u64,
) -> Term<'_> {
    let timeout = Duration::from_millis(timeout_ms);
    let handler = capability_fn(move |call| ask(pid, timeout, call));
    terms::unit(
        env,
        resource
            .host
            .register_capability(&contract_id, &link_name, handler),
    )
}

/// Removes the handler for `contract_id` and `link_name`; returns whether there was one.
#[rustler::nif]
fn capability_unregister(
    resource: ResourceArc<HostResource>,
    contract_id: String,
    link_name: String,
) -> bool {
    resource
        .host
        .unregister_capability(&contract_id, &link_name)
}

/// Answers a host call: `ok` true with the reply bytes, false with an error text.
/// Returns `:ok`, or `{:error, :not_waiting}` when the call was already answered or timed out.
#[rustler::nif]
fn capability_reply<'a>(
    env: Env<'a>,
    slot: ResourceArc<ReplySlot>,
    ok: bool,
    data: Binary<'a>,
) -> Term<'a> {
    let reply = if ok {
        Ok(data.as_slice().to_vec())
    } else {
        Err(String::from_utf8_lossy(data.as_slice()).into_owned())
    };
    let delivered = match slot.tx.lock().take() {
        Some(tx) => tx.send(reply).is_ok(),
        None => false,
    };
    if delivered {
        atoms::ok().encode(env)
    } else {
        (atoms::error(), atoms::not_waiting()).encode(env)
    }
}
