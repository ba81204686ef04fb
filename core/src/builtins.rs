//! The host's own capabilities (LATTICE.md §3.5): `wasmcloud:builtin:logging` and `wasmcloud:builtin:numbergen`.

use rand::Rng;
use serde::Deserialize;

/// Contract id of the builtin logger.
pub const LOGGING: &str = "wasmcloud:builtin:logging";
/// Contract id of the builtin number generator.
pub const NUMBERGEN: &str = "wasmcloud:builtin:numbergen";

pub(crate) fn is_builtin(namespace: &str) -> bool {
    namespace == LOGGING || namespace == NUMBERGEN
}

#[derive(Deserialize)]
struct LogEntry {
    level: String,
    text: String,
}

#[derive(Deserialize)]
struct RangeLimit {
    min: u32,
    max: u32,
}

/// Handles a builtin call; the actor's caps claim was checked by the caller.
pub(crate) fn handle(
    actor: &str,
    namespace: &str,
    operation: &str,
    payload: &[u8],
) -> Result<Vec<u8>, String> {
    match (namespace, operation) {
        (LOGGING, "Logging.WriteLog") => {
            let entry: LogEntry = rmp_serde::from_slice(payload)
                .map_err(|e| format!("invalid Logging.WriteLog payload: {e}"))?;
            match entry.level.to_ascii_lowercase().as_str() {
                "error" => tracing::error!(target: "wasmhost::actor", actor, "{}", entry.text),
                "warn" => tracing::warn!(target: "wasmhost::actor", actor, "{}", entry.text),
                "debug" => tracing::debug!(target: "wasmhost::actor", actor, "{}", entry.text),
                "trace" => tracing::trace!(target: "wasmhost::actor", actor, "{}", entry.text),
                _ => tracing::info!(target: "wasmhost::actor", actor, "{}", entry.text),
            }
            Ok(Vec::new())
        }
        (NUMBERGEN, "NumberGen.GenerateGuid") => encode(&uuid::Uuid::new_v4().to_string()),
        (NUMBERGEN, "NumberGen.Random32") => encode(&rand::thread_rng().gen::<u32>()),
        (NUMBERGEN, "NumberGen.RandomInRange") => {
            let range: RangeLimit = rmp_serde::from_slice(payload)
                .map_err(|e| format!("invalid NumberGen.RandomInRange payload: {e}"))?;
            if range.min > range.max {
                return Err(format!(
                    "invalid range: min {} > max {}",
                    range.min, range.max
                ));
            }
            encode(&rand::thread_rng().gen_range(range.min..=range.max))
        }
        _ => Err(format!(
            "operation {operation} is not supported by {namespace}"
        )),
    }
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, String> {
    rmp_serde::to_vec_named(value).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_in_range_stays_in_range() {
        let payload = rmp_serde::to_vec_named(&serde_json::json!({"min": 5, "max": 7})).unwrap();
        for _ in 0..50 {
            let n: u32 = rmp_serde::from_slice(
                &handle("M", NUMBERGEN, "NumberGen.RandomInRange", &payload).unwrap(),
            )
            .unwrap();
            assert!((5..=7).contains(&n));
        }
        let bad = rmp_serde::to_vec_named(&serde_json::json!({"min": 9, "max": 7})).unwrap();
        assert!(handle("M", NUMBERGEN, "NumberGen.RandomInRange", &bad).is_err());
    }

    #[test]
    fn guid_is_a_msgpack_string_and_unknown_ops_fail() {
        let guid: String =
            rmp_serde::from_slice(&handle("M", NUMBERGEN, "NumberGen.GenerateGuid", &[]).unwrap())
                .unwrap();
        assert_eq!(guid.len(), 36);
        assert!(handle("M", LOGGING, "Logging.Nope", &[]).is_err());
        assert!(handle("M", LOGGING, "Logging.WriteLog", b"\xc1garbage").is_err());
    }
}
