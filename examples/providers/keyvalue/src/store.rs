//! The operations a key-value backend offers, with Redis semantics (both backends
//! behave alike; LATTICE.md §6.7 gives the wire types).

use wasmhost_provider::async_trait;
use wasmhost_provider::ProviderError;

/// Result of a backend operation.
pub(crate) type KvResult<T> = Result<T, ProviderError>;

/// One key-value backend. Lists and sets live under keys like strings; an emptied list
/// or set disappears, as in Redis.
#[async_trait]
pub(crate) trait KvStore: Send + Sync {
    /// The string at `key`, if any.
    async fn get(&self, key: &str) -> KvResult<Option<String>>;
    /// Sets `key`; `expires` seconds > 0 makes it expire.
    async fn set(&self, key: &str, value: &str, expires: u32) -> KvResult<()>;
    /// Removes `key` of any kind; whether it existed.
    async fn del(&self, key: &str) -> KvResult<bool>;
    /// Whether `key` exists.
    async fn contains(&self, key: &str) -> KvResult<bool>;
    /// Adds `by` to the integer at `key` (0 if absent); the new value.
    async fn increment(&self, key: &str, by: i32) -> KvResult<i32>;
    /// Appends to a list; the new length.
    async fn list_add(&self, list: &str, value: &str) -> KvResult<u32>;
    /// Removes the first occurrence of `value`; whether one was removed.
    async fn list_del(&self, list: &str, value: &str) -> KvResult<bool>;
    /// Items `start..=stop` (negative counts from the end).
    async fn list_range(&self, list: &str, start: i32, stop: i32) -> KvResult<Vec<String>>;
    /// Adds a member; how many were added (0 or 1).
    async fn set_add(&self, set: &str, value: &str) -> KvResult<u32>;
    /// Removes a member; how many were removed (0 or 1).
    async fn set_del(&self, set: &str, value: &str) -> KvResult<u32>;
    /// The members of a set.
    async fn set_query(&self, set: &str) -> KvResult<Vec<String>>;
    /// The union of sets.
    async fn set_union(&self, sets: &[String]) -> KvResult<Vec<String>>;
    /// The intersection of sets.
    async fn set_intersection(&self, sets: &[String]) -> KvResult<Vec<String>>;
}
