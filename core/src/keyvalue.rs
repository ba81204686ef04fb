//! An in-memory `wasmcloud:keyvalue` capability (LATTICE.md §6.7): every operation of the 2022
//! interface, with the same msgpack encodings, for embedded hosts, examples and tests.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasmhost_protocol::keyvalue::{
    GetResponse, IncrementRequest, ListAddRequest, ListDelRequest, ListRangeRequest, SetAddRequest,
    SetDelRequest, SetRequest,
};

use crate::capability::{CapabilityCall, CapabilityHandler};

/// Contract id of the key-value capability.
pub const KEYVALUE_CONTRACT: &str = "wasmcloud:keyvalue";

#[derive(Default)]
struct Store {
    values: HashMap<String, (String, Option<Instant>)>,
    lists: HashMap<String, Vec<String>>,
    sets: HashMap<String, BTreeSet<String>>,
}

impl Store {
    fn value(&mut self, key: &str) -> Option<&String> {
        let expired = matches!(self.values.get(key), Some((_, Some(at))) if *at <= Instant::now());
        if expired {
            self.values.remove(key);
        }
        self.values.get(key).map(|(v, _)| v)
    }
}

/// Keys, lists and sets in process memory, behind one lock. Register it with
/// [`crate::Host::register_capability`] for `wasmcloud:keyvalue`.
#[derive(Default)]
pub struct InMemoryKeyValue {
    store: Mutex<Store>,
}

impl InMemoryKeyValue {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The string value of `key`, if set (for inspection by the embedding application).
    pub fn get(&self, key: &str) -> Option<String> {
        self.store.lock().value(key).cloned()
    }

    /// Performs one operation on msgpack-encoded input and returns the msgpack-encoded output.
    pub fn dispatch(&self, operation: &str, payload: &[u8]) -> Result<Vec<u8>, String> {
        let mut s = self.store.lock();
        match operation {
            "KeyValue.Get" => {
                let key: String = arg(operation, payload)?;
                let response = match s.value(&key) {
                    Some(v) => GetResponse {
                        value: v.clone(),
                        exists: true,
                    },
                    None => GetResponse {
                        value: String::new(),
                        exists: false,
                    },
                };
                out(&response)
            }
            "KeyValue.Set" => {
                let req: SetRequest = arg(operation, payload)?;
                let expiry = (req.expires > 0)
                    .then(|| Instant::now() + Duration::from_secs(req.expires as u64));
                s.values.insert(req.key, (req.value, expiry));
                Ok(Vec::new())
            }
            "KeyValue.Del" => {
                let key: String = arg(operation, payload)?;
                let existed = s.value(&key).is_some();
                s.values.remove(&key);
                let existed =
                    existed | s.lists.remove(&key).is_some() | s.sets.remove(&key).is_some();
                out(&existed)
            }
            "KeyValue.Contains" => {
                let key: String = arg(operation, payload)?;
                let found = s.value(&key).is_some()
                    || s.lists.contains_key(&key)
                    || s.sets.contains_key(&key);
                out(&found)
            }
            "KeyValue.Increment" => {
                let req: IncrementRequest = arg(operation, payload)?;
                let current = match s.value(&req.key) {
                    Some(v) => v
                        .parse::<i32>()
                        .map_err(|_| format!("value of `{}` is not an integer", req.key))?,
                    None => 0,
                };
                let next = current
                    .checked_add(req.value)
                    .ok_or_else(|| format!("increment of `{}` overflows", req.key))?;
                s.values.insert(req.key, (next.to_string(), None));
                out(&next)
            }
            "KeyValue.ListAdd" => {
                let req: ListAddRequest = arg(operation, payload)?;
                let list = s.lists.entry(req.list_name).or_default();
                list.push(req.value);
                out(&(list.len() as u32))
            }
            "KeyValue.ListDel" => {
                let req: ListDelRequest = arg(operation, payload)?;
                let list = s.lists.entry(req.list_name.clone()).or_default();
                let removed = match list.iter().position(|v| *v == req.value) {
                    Some(i) => {
                        list.remove(i);
                        true
                    }
                    None => false,
                };
                if list.is_empty() {
                    s.lists.remove(&req.list_name);
                }
                out(&removed)
            }
            "KeyValue.ListClear" => {
                let name: String = arg(operation, payload)?;
                out(&s.lists.remove(&name).is_some())
            }
            "KeyValue.ListRange" => {
                let req: ListRangeRequest = arg(operation, payload)?;
                let list = s
                    .lists
                    .get(&req.list_name)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                out(&redis_range(list, req.start, req.stop))
            }
            "KeyValue.SetAdd" => {
                let req: SetAddRequest = arg(operation, payload)?;
                out(&(s.sets.entry(req.set_name).or_default().insert(req.value) as u32))
            }
            "KeyValue.SetDel" => {
                let req: SetDelRequest = arg(operation, payload)?;
                let removed = s
                    .sets
                    .get_mut(&req.set_name)
                    .is_some_and(|set| set.remove(&req.value));
                if s.sets.get(&req.set_name).is_some_and(BTreeSet::is_empty) {
                    s.sets.remove(&req.set_name);
                }
                out(&(removed as u32))
            }
            "KeyValue.SetClear" => {
                let name: String = arg(operation, payload)?;
                out(&s.sets.remove(&name).is_some())
            }
            "KeyValue.SetQuery" => {
                let name: String = arg(operation, payload)?;
                out(&s
                    .sets
                    .get(&name)
                    .map(|set| set.iter().cloned().collect::<Vec<_>>())
                    .unwrap_or_default())
            }
            "KeyValue.SetUnion" => {
                let names: Vec<String> = arg(operation, payload)?;
                let union: BTreeSet<&String> = names
                    .iter()
                    .filter_map(|n| s.sets.get(n))
                    .flatten()
                    .collect();
                out(&union.into_iter().cloned().collect::<Vec<_>>())
            }
            "KeyValue.SetIntersection" => {
                let names: Vec<String> = arg(operation, payload)?;
                let mut sets = names.iter().map(|n| s.sets.get(n));
                let first: BTreeSet<String> = match sets.next() {
                    Some(Some(set)) => set.clone(),
                    _ => BTreeSet::new(),
                };
                let result = sets.fold(first, |acc, set| match set {
                    Some(set) => acc.intersection(set).cloned().collect(),
                    None => BTreeSet::new(),
                });
                out(&result.into_iter().collect::<Vec<_>>())
            }
            _ => Err(format!(
                "operation {operation} is not part of {KEYVALUE_CONTRACT}"
            )),
        }
    }
}

#[async_trait::async_trait]
impl CapabilityHandler for InMemoryKeyValue {
    async fn handle(&self, call: CapabilityCall) -> Result<Vec<u8>, String> {
        self.dispatch(&call.operation, &call.payload)
    }
}

/// Redis LRANGE semantics: inclusive bounds, negative indices count from the end.
fn redis_range(list: &[String], start: i32, stop: i32) -> Vec<String> {
    let len = list.len() as i64;
    let norm = |i: i32| {
        if (i as i64) < 0 {
            len + i as i64
        } else {
            i as i64
        }
    };
    let (start, stop) = (norm(start).max(0), norm(stop).min(len - 1));
    if start > stop || start >= len {
        return Vec::new();
    }
    list[start as usize..=stop as usize].to_vec()
}

fn arg<T: DeserializeOwned>(operation: &str, payload: &[u8]) -> Result<T, String> {
    rmp_serde::from_slice(payload).map_err(|e| format!("invalid {operation} input: {e}"))
}

fn out<T: Serialize>(value: &T) -> Result<Vec<u8>, String> {
    rmp_serde::to_vec_named(value).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call<T: DeserializeOwned>(kv: &InMemoryKeyValue, op: &str, input: impl Serialize) -> T {
        let bytes = kv
            .dispatch(op, &rmp_serde::to_vec_named(&input).unwrap())
            .unwrap();
        rmp_serde::from_slice(&bytes).unwrap()
    }

    #[test]
    fn increments_and_reads_back_like_redis() {
        let kv = InMemoryKeyValue::new();
        let inc = |n| IncrementRequest {
            key: "c".into(),
            value: n,
        };
        assert_eq!(call::<i32>(&kv, "KeyValue.Increment", inc(1)), 1);
        assert_eq!(call::<i32>(&kv, "KeyValue.Increment", inc(5)), 6);
        let got: GetResponse = call(&kv, "KeyValue.Get", "c");
        assert_eq!((got.value.as_str(), got.exists), ("6", true));
        assert!(call::<bool>(&kv, "KeyValue.Del", "c"));
        assert!(!call::<bool>(&kv, "KeyValue.Contains", "c"));
    }

    #[test]
    fn lists_and_sets() {
        let kv = InMemoryKeyValue::new();
        for v in ["a", "b", "c"] {
            call::<u32>(
                &kv,
                "KeyValue.ListAdd",
                ListAddRequest {
                    list_name: "l".into(),
                    value: v.into(),
                },
            );
        }
        let range: Vec<String> = call(
            &kv,
            "KeyValue.ListRange",
            ListRangeRequest {
                list_name: "l".into(),
                start: 1,
                stop: -1,
            },
        );
        assert_eq!(range, ["b", "c"]);
        assert!(call::<bool>(
            &kv,
            "KeyValue.ListDel",
            ListDelRequest {
                list_name: "l".into(),
                value: "b".into()
            }
        ));
        for (set, v) in [("s1", "x"), ("s1", "y"), ("s2", "y"), ("s2", "z")] {
            call::<u32>(
                &kv,
                "KeyValue.SetAdd",
                SetAddRequest {
                    set_name: set.into(),
                    value: v.into(),
                },
            );
        }
        let inter: Vec<String> = call(&kv, "KeyValue.SetIntersection", vec!["s1", "s2"]);
        assert_eq!(inter, ["y"]);
        let union: Vec<String> = call(&kv, "KeyValue.SetUnion", vec!["s1", "s2"]);
        assert_eq!(union, ["x", "y", "z"]);
        assert_eq!(
            call::<u32>(
                &kv,
                "KeyValue.SetDel",
                SetDelRequest {
                    set_name: "s1".into(),
                    value: "x".into()
                }
            ),
            1
        );
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let kv = InMemoryKeyValue::new();
        assert!(kv
            .dispatch("KeyValue.Increment", b"\xc1")
            .unwrap_err()
            .contains("invalid KeyValue.Increment input"));
        assert!(kv.dispatch("KeyValue.Nope", &[]).is_err());
        kv.dispatch(
            "KeyValue.Set",
            &rmp_serde::to_vec_named(&SetRequest {
                key: "k".into(),
                value: "v".into(),
                expires: 0,
            })
            .unwrap(),
        )
        .unwrap();
        assert!(kv
            .dispatch(
                "KeyValue.Increment",
                &rmp_serde::to_vec_named(&IncrementRequest {
                    key: "k".into(),
                    value: 1
                })
                .unwrap()
            )
            .is_err());
    }
}
