//! The in-memory backend: one map per process, Redis semantics, lazy expiry.

use crate::store::{KvResult, KvStore};
use parking_lot::Mutex;
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};
use wasmhost_provider::{async_trait, ProviderError};

enum Value {
    Str(String),
    List(Vec<String>),
    Set(BTreeSet<String>),
}

struct Entry {
    value: Value,
    expires_at: Option<Instant>,
}

/// Keys to values, guarded by one lock (operations are short and never await inside).
#[derive(Default)]
pub(crate) struct MemoryStore {
    map: Mutex<HashMap<String, Entry>>,
}

fn wrong_type(key: &str) -> ProviderError {
    ProviderError::other(format!("WRONGTYPE key '{key}' holds another kind of value"))
}

/// Drops `key` if it has expired.
fn purge(map: &mut HashMap<String, Entry>, key: &str) {
    if map
        .get(key)
        .and_then(|e| e.expires_at)
        .is_some_and(|at| at <= Instant::now())
    {
        map.remove(key);
    }
}

/// Redis `LRANGE` index rules: negative counts from the end, clamped, inclusive stop.
fn range(len: usize, start: i32, stop: i32) -> std::ops::Range<usize> {
    let len = len as i64;
    let norm = |i: i32| if i < 0 { len + i as i64 } else { i as i64 };
    let (start, stop) = (norm(start).max(0), norm(stop).min(len - 1));
    if start > stop {
        0..0
    } else {
        start as usize..stop as usize + 1
    }
}

impl MemoryStore {
    fn with<T>(
        &self,
        key: &str,
        f: impl FnOnce(&mut HashMap<String, Entry>) -> KvResult<T>,
    ) -> KvResult<T> {
        let mut map = self.map.lock();
        purge(&mut map, key);
        f(&mut map)
    }

    fn list_mut<'m>(
        map: &'m mut HashMap<String, Entry>,
        key: &str,
    ) -> KvResult<&'m mut Vec<String>> {
        let entry = map.entry(key.to_string()).or_insert(Entry {
            value: Value::List(Vec::new()),
            expires_at: None,
        });
        match &mut entry.value {
            Value::List(list) => Ok(list),
            _ => Err(wrong_type(key)),
        }
    }

    fn set_mut<'m>(
        map: &'m mut HashMap<String, Entry>,
        key: &str,
    ) -> KvResult<&'m mut BTreeSet<String>> {
        let entry = map.entry(key.to_string()).or_insert(Entry {
            value: Value::Set(BTreeSet::new()),
            expires_at: None,
        });
        match &mut entry.value {
            Value::Set(set) => Ok(set),
            _ => Err(wrong_type(key)),
        }
    }

    /// Removes `key` if it holds an empty list or set (Redis never keeps those).
    fn drop_empty(map: &mut HashMap<String, Entry>, key: &str) {
        let empty = match map.get(key).map(|e| &e.value) {
            Some(Value::List(l)) => l.is_empty(),
            Some(Value::Set(s)) => s.is_empty(),
            _ => false,
        };
        if empty {
            map.remove(key);
        }
    }

    fn members(&self, key: &str) -> KvResult<BTreeSet<String>> {
        self.with(key, |map| match map.get(key).map(|e| &e.value) {
            None => Ok(BTreeSet::new()),
            Some(Value::Set(s)) => Ok(s.clone()),
            Some(_) => Err(wrong_type(key)),
        })
    }
}

#[async_trait]
impl KvStore for MemoryStore {
    async fn get(&self, key: &str) -> KvResult<Option<String>> {
        self.with(key, |map| match map.get(key).map(|e| &e.value) {
            None => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s.clone())),
            Some(_) => Err(wrong_type(key)),
        })
    }

    async fn set(&self, key: &str, value: &str, expires: u32) -> KvResult<()> {
        let expires_at =
            (expires > 0).then(|| Instant::now() + Duration::from_secs(expires.into()));
        self.map.lock().insert(
            key.to_string(),
            Entry {
                value: Value::Str(value.to_string()),
                expires_at,
            },
        );
        Ok(())
    }

    async fn del(&self, key: &str) -> KvResult<bool> {
        self.with(key, |map| Ok(map.remove(key).is_some()))
    }

    async fn contains(&self, key: &str) -> KvResult<bool> {
        self.with(key, |map| Ok(map.contains_key(key)))
    }

    async fn increment(&self, key: &str, by: i32) -> KvResult<i32> {
        self.with(key, |map| {
            let entry = map.entry(key.to_string()).or_insert(Entry {
                value: Value::Str("0".into()),
                expires_at: None,
            });
            let Value::Str(current) = &mut entry.value else {
                return Err(wrong_type(key));
            };
            let n: i32 = current
                .trim()
                .parse()
                .map_err(|_| ProviderError::other(format!("value of '{key}' is not an integer")))?;
            let n = n
                .checked_add(by)
                .ok_or_else(|| ProviderError::other("increment or decrement would overflow"))?;
            *current = n.to_string();
            Ok(n)
        })
    }

    async fn list_add(&self, list: &str, value: &str) -> KvResult<u32> {
        self.with(list, |map| {
            let items = Self::list_mut(map, list)?;
            items.push(value.to_string());
            Ok(items.len() as u32)
        })
    }

    async fn list_del(&self, list: &str, value: &str) -> KvResult<bool> {
        self.with(list, |map| {
            if !map.contains_key(list) {
                return Ok(false);
            }
            let items = Self::list_mut(map, list)?;
            let removed = items
                .iter()
                .position(|v| v == value)
                .map(|i| items.remove(i))
                .is_some();
            Self::drop_empty(map, list);
            Ok(removed)
        })
    }

    async fn list_range(&self, list: &str, start: i32, stop: i32) -> KvResult<Vec<String>> {
        self.with(list, |map| match map.get(list).map(|e| &e.value) {
            None => Ok(Vec::new()),
            Some(Value::List(items)) => Ok(items[range(items.len(), start, stop)].to_vec()),
            Some(_) => Err(wrong_type(list)),
        })
    }

    async fn set_add(&self, set: &str, value: &str) -> KvResult<u32> {
        self.with(set, |map| {
            Ok(Self::set_mut(map, set)?.insert(value.to_string()) as u32)
        })
    }

    async fn set_del(&self, set: &str, value: &str) -> KvResult<u32> {
        self.with(set, |map| {
            if !map.contains_key(set) {
                return Ok(0);
            }
            let removed = Self::set_mut(map, set)?.remove(value) as u32;
            Self::drop_empty(map, set);
            Ok(removed)
        })
    }

    async fn set_query(&self, set: &str) -> KvResult<Vec<String>> {
        Ok(self.members(set)?.into_iter().collect())
    }

    async fn set_union(&self, sets: &[String]) -> KvResult<Vec<String>> {
        let mut all = BTreeSet::new();
        for set in sets {
            all.extend(self.members(set)?);
        }
        Ok(all.into_iter().collect())
    }

    async fn set_intersection(&self, sets: &[String]) -> KvResult<Vec<String>> {
        let mut iter = sets.iter();
        let Some(first) = iter.next() else {
            return Ok(Vec::new());
        };
        let mut common = self.members(first)?;
        for set in iter {
            let other = self.members(set)?;
            common.retain(|m| other.contains(m));
        }
        Ok(common.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_redis() {
        assert_eq!(range(5, 0, -1), 0..5);
        assert_eq!(range(5, 1, 2), 1..3);
        assert_eq!(range(5, -2, -1), 3..5);
        assert_eq!(range(5, 3, 100), 3..5);
        assert_eq!(range(5, 4, 2), 0..0);
        assert_eq!(range(0, 0, -1), 0..0);
        assert_eq!(range(5, -100, 0), 0..1);
    }

    #[tokio::test]
    async fn expiry_and_kinds() {
        let store = MemoryStore::default();
        store.set("k", "v", 0).await.unwrap();
        store.list_add("l", "a").await.unwrap();
        assert!(store.get("l").await.is_err(), "a list is not a string");
        assert!(store.increment("k", 1).await.is_err(), "not an integer");
        store.map.lock().get_mut("k").unwrap().expires_at = Some(Instant::now());
        assert_eq!(store.get("k").await.unwrap(), None);
        assert!(store.list_del("l", "a").await.unwrap());
        assert!(
            !store.contains("l").await.unwrap(),
            "an emptied list disappears"
        );
    }
}
