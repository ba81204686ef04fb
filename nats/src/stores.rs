//! Opening (or creating) the JetStream buckets a lattice uses, with the replica count the host
//! is configured with. A bucket that exists is used as it is: whoever created it chose its
//! settings (another host, a 2022 client, an operator).

use async_nats::jetstream::{self, kv, object_store::ObjectStore};

use crate::{NatsError, Result};

/// The JetStream context of `client`, in `domain` when the lattice uses one.
pub fn jetstream(client: &async_nats::Client, domain: Option<&str>) -> jetstream::Context {
    match domain {
        Some(domain) => jetstream::with_domain(client.clone(), domain),
        None => jetstream::new(client.clone()),
    }
}

/// The object store `bucket`, created with `replicas` replicas (file storage) if missing.
pub async fn object_store(
    js: &jetstream::Context,
    bucket: &str,
    replicas: usize,
) -> Result<ObjectStore> {
    if let Ok(store) = js.get_object_store(bucket).await {
        return Ok(store);
    }
    let config = jetstream::object_store::Config {
        bucket: bucket.to_string(),
        num_replicas: replicas,
        ..Default::default()
    };
    match js.create_object_store(config).await {
        Ok(store) => Ok(store),
        // Someone else created it between our two requests.
        Err(create) => js.get_object_store(bucket).await.map_err(|_| {
            NatsError::transport(format!("cannot open object store `{bucket}`: {create}"))
        }),
    }
}

/// The KV bucket `config.bucket`, created from `config` with `replicas` replicas if missing.
pub async fn key_value(
    js: &jetstream::Context,
    config: kv::Config,
    replicas: usize,
) -> Result<kv::Store> {
    let bucket = config.bucket.clone();
    if let Ok(store) = js.get_key_value(&bucket).await {
        return Ok(store);
    }
    match js
        .create_key_value(kv::Config {
            num_replicas: replicas,
            ..config
        })
        .await
    {
        Ok(store) => Ok(store),
        Err(create) => js.get_key_value(&bucket).await.map_err(|_| {
            NatsError::transport(format!("cannot open KV bucket `{bucket}`: {create}"))
        }),
    }
}
