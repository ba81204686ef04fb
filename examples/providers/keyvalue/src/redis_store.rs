//! The Redis backend: one multiplexed connection per link, opened on first use and
//! reopened after a failure. Connection errors become invocation errors.

use crate::store::{KvResult, KvStore};
use redis::aio::MultiplexedConnection;
use redis::{cmd, Cmd, FromRedisValue};
use std::time::Duration;
use tokio::sync::Mutex;
use wasmhost_provider::{async_trait, ProviderError};

/// Longest wait for a connection or a reply (the caller's RPC timeout is shorter anyway).
const REDIS_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) struct RedisStore {
    client: redis::Client,
    conn: Mutex<Option<MultiplexedConnection>>,
}

fn redis_error(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::other(format!("redis error: {e}"))
}

impl RedisStore {
    /// A store for `url`; fails only if the URL is not a Redis URL (nothing connects yet).
    pub(crate) fn new(url: &str) -> KvResult<Self> {
        let client = redis::Client::open(url.trim())
            .map_err(|e| ProviderError::invalid(format!("bad Redis URL: {e}")))?;
        Ok(RedisStore {
            client,
            conn: Mutex::new(None),
        })
    }

    /// The server address for logs (no password).
    pub(crate) fn display_url(&self) -> String {
        self.client.get_connection_info().addr().to_string()
    }

    async fn connection(&self) -> KvResult<MultiplexedConnection> {
        let mut slot = self.conn.lock().await;
        if let Some(conn) = slot.as_ref() {
            return Ok(conn.clone());
        }
        let conn = tokio::time::timeout(
            REDIS_TIMEOUT,
            self.client.get_multiplexed_async_connection(),
        )
        .await
        .map_err(|_| redis_error(format!("cannot connect to {} in time", self.display_url())))?
        .map_err(redis_error)?;
        *slot = Some(conn.clone());
        Ok(conn)
    }

    async fn query<T: FromRedisValue>(&self, command: &Cmd) -> KvResult<T> {
        let mut conn = self.connection().await?;
        let result = tokio::time::timeout(REDIS_TIMEOUT, command.query_async::<T>(&mut conn)).await;
        match result {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => {
                if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() {
                    self.conn.lock().await.take();
                }
                Err(redis_error(e))
            }
            Err(_) => {
                self.conn.lock().await.take();
                Err(redis_error("no reply in time"))
            }
        }
    }
}

#[async_trait]
impl KvStore for RedisStore {
    async fn get(&self, key: &str) -> KvResult<Option<String>> {
        self.query(cmd("GET").arg(key)).await
    }

    async fn set(&self, key: &str, value: &str, expires: u32) -> KvResult<()> {
        let mut command = cmd("SET");
        command.arg(key).arg(value);
        if expires > 0 {
            command.arg("EX").arg(expires);
        }
        self.query(&command).await
    }

    async fn del(&self, key: &str) -> KvResult<bool> {
        Ok(self.query::<u32>(cmd("DEL").arg(key)).await? > 0)
    }

    async fn contains(&self, key: &str) -> KvResult<bool> {
        Ok(self.query::<u32>(cmd("EXISTS").arg(key)).await? > 0)
    }

    async fn increment(&self, key: &str, by: i32) -> KvResult<i32> {
        let n: i64 = self.query(cmd("INCRBY").arg(key).arg(by)).await?;
        i32::try_from(n).map_err(|_| {
            ProviderError::other(format!("value of '{key}' ({n}) does not fit an i32"))
        })
    }

    async fn list_add(&self, list: &str, value: &str) -> KvResult<u32> {
        self.query(cmd("RPUSH").arg(list).arg(value)).await
    }

    async fn list_del(&self, list: &str, value: &str) -> KvResult<bool> {
        Ok(self
            .query::<u32>(cmd("LREM").arg(list).arg(1).arg(value))
            .await?
            > 0)
    }

    async fn list_range(&self, list: &str, start: i32, stop: i32) -> KvResult<Vec<String>> {
        self.query(cmd("LRANGE").arg(list).arg(start).arg(stop))
            .await
    }

    async fn set_add(&self, set: &str, value: &str) -> KvResult<u32> {
        self.query(cmd("SADD").arg(set).arg(value)).await
    }

    async fn set_del(&self, set: &str, value: &str) -> KvResult<u32> {
        self.query(cmd("SREM").arg(set).arg(value)).await
    }

    async fn set_query(&self, set: &str) -> KvResult<Vec<String>> {
        self.query(cmd("SMEMBERS").arg(set)).await
    }

    async fn set_union(&self, sets: &[String]) -> KvResult<Vec<String>> {
        if sets.is_empty() {
            return Ok(Vec::new());
        }
        self.query(cmd("SUNION").arg(sets)).await
    }

    async fn set_intersection(&self, sets: &[String]) -> KvResult<Vec<String>> {
        if sets.is_empty() {
            return Ok(Vec::new());
        }
        self.query(cmd("SINTER").arg(sets)).await
    }
}
