//! The policy callback: C decides whether actors may start and invocations may run.

use std::ffi::{c_char, c_void, CString};
use std::sync::Arc;

use host::{Policy, PolicyDecision, PolicyRequest};
use serde_json::json;

use crate::callback::{wasmhost_free_fn_t, UserData};
use crate::error::{guard, wasmhost_error_t, wasmhost_result_t, FfiError};
use crate::host::{host_arg, wasmhost_host_t};
use crate::ptr::{obj_mut, str_arg};
use crate::runtime::run_callback;

/// The verdict a policy callback gives with wasmhost_decision_permit() or wasmhost_decision_deny().
/// Owned by the library, valid only during the callback.
pub struct wasmhost_decision_t {
    decision: Option<PolicyDecision>,
}

/// Decides on one request. `request_json` (valid only during the callback) is one of
/// `{"kind":"start_actor","public_key","issuer","image_ref","capabilities":[...]}`,
/// `{"kind":"start_provider","public_key","issuer","image_ref","link_name","contract_id"}`,
/// `{"kind":"invoke","source","source_contract_id","target","operation"}`.
/// Call wasmhost_decision_permit() or wasmhost_decision_deny() on `decision`; with neither the
/// request is denied. Runs on a library thread outside the async runtime's workers, on the
/// invocation path of every call (keep it fast); it may call wasmhost functions, but a blocking
/// call that needs the policy again (e.g. calling an actor) evaluates it again, recursively.
#[allow(non_camel_case_types)]
pub type wasmhost_policy_callback_t = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        request_json: *const c_char,
        decision: *mut wasmhost_decision_t,
    ),
>;

struct CPolicy {
    callback: unsafe extern "C" fn(*mut c_void, *const c_char, *mut wasmhost_decision_t),
    user_data: Arc<UserData>,
}

fn request_json(request: &PolicyRequest) -> serde_json::Value {
    match request {
        PolicyRequest::StartActor {
            public_key,
            issuer,
            image_ref,
            capabilities,
        } => json!({
            "kind": "start_actor", "public_key": public_key, "issuer": issuer, "image_ref": image_ref, "capabilities": capabilities,
        }),
        PolicyRequest::StartProvider {
            public_key,
            issuer,
            image_ref,
            link_name,
            contract_id,
        } => json!({
            "kind": "start_provider", "public_key": public_key, "issuer": issuer, "image_ref": image_ref,
            "link_name": link_name, "contract_id": contract_id,
        }),
        PolicyRequest::Invoke {
            source,
            source_contract_id,
            target,
            operation,
        } => json!({
            "kind": "invoke", "source": source, "source_contract_id": source_contract_id, "target": target, "operation": operation,
        }),
        other => json!({"kind": "unknown", "debug": format!("{other:?}")}),
    }
}

#[async_trait::async_trait]
impl Policy for CPolicy {
    async fn evaluate(&self, request: &PolicyRequest) -> PolicyDecision {
        let Ok(text) = CString::new(request_json(request).to_string()) else {
            return PolicyDecision::Deny("policy request with a NUL byte".into());
        };
        let callback = self.callback;
        let user_data = self.user_data.clone();
        let verdict = run_callback(move || {
            let mut decision = wasmhost_decision_t { decision: None };
            // SAFETY: the caller's callback; the string and decision live until it returns.
            unsafe { callback(user_data.ptr(), text.as_ptr(), &mut decision) };
            decision.decision
        })
        .await;
        match verdict {
            Ok(Some(decision)) => decision,
            Ok(None) => PolicyDecision::Deny("the policy callback made no decision".into()),
            Err(e) => PolicyDecision::Deny(e.message),
        }
    }
}

/// Installs `callback` as the host's policy (replacing the previous one, whose `free_user_data`
/// runs once its evaluations finish), or with `callback` NULL removes the policy (then
/// `user_data` is not used and `free_user_data`, if given, runs at once). Denied actor starts and
/// calls fail with WASMHOST_ERR_DENIED and the reason. Not blocking.
#[no_mangle]
pub extern "C" fn wasmhost_policy_set(
    host: *const wasmhost_host_t,
    callback: wasmhost_policy_callback_t,
    user_data: *mut c_void,
    free_user_data: wasmhost_free_fn_t,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let host = host_arg(host)?;
        let user_data = UserData::new(user_data, free_user_data);
        match callback {
            Some(callback) => host.set_policy(Some(Arc::new(CPolicy {
                callback,
                user_data: Arc::new(user_data),
            }))),
            None => host.set_policy(None),
        }
        Ok(())
    })
}

/// Permits the request. Only inside a policy callback. WASMHOST_ERR_INVALID_INPUT when already decided.
#[no_mangle]
pub extern "C" fn wasmhost_decision_permit(
    decision: *mut wasmhost_decision_t,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        decide(obj_mut(decision, "decision")?, PolicyDecision::Permit)
    })
}

/// Denies the request with `reason` (copied), which reaches the caller in the error message. Only
/// inside a policy callback. WASMHOST_ERR_INVALID_INPUT when already decided.
#[no_mangle]
pub extern "C" fn wasmhost_decision_deny(
    decision: *mut wasmhost_decision_t,
    reason: *const c_char,
    err: *mut *mut wasmhost_error_t,
) -> wasmhost_result_t {
    guard(err, || {
        let decision = obj_mut(decision, "decision")?;
        let reason = str_arg(reason, "reason")?;
        decide(decision, PolicyDecision::Deny(reason.to_string()))
    })
}

fn decide(slot: &mut wasmhost_decision_t, decision: PolicyDecision) -> Result<(), FfiError> {
    if slot.decision.is_some() {
        return Err(FfiError::invalid("the decision was already made"));
    }
    slot.decision = Some(decision);
    Ok(())
}
