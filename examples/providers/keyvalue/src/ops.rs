//! `KeyValue.*` operations: decode the msgpack input, call the backend, encode the output.

use crate::store::KvStore;
use wasmhost_provider::protocol::keyvalue::{
    ops, GetResponse, IncrementRequest, ListAddRequest, ListDelRequest, ListRangeRequest,
    SetAddRequest, SetDelRequest, SetRequest,
};
use wasmhost_provider::protocol::{decode, encode};
use wasmhost_provider::ProviderError;

/// Runs `operation` on `store`; "unknown operation X" for anything outside §6.7.
pub(crate) async fn dispatch(
    store: &dyn KvStore,
    operation: &str,
    msg: &[u8],
) -> Result<Vec<u8>, ProviderError> {
    Ok(match operation {
        ops::GET => {
            let value = store.get(&decode::<String>(msg)?).await?;
            encode(&GetResponse {
                exists: value.is_some(),
                value: value.unwrap_or_default(),
            })
        }
        ops::SET => {
            let req: SetRequest = decode(msg)?;
            store.set(&req.key, &req.value, req.expires).await?;
            Vec::new()
        }
        ops::DEL => encode(&store.del(&decode::<String>(msg)?).await?),
        ops::CONTAINS => encode(&store.contains(&decode::<String>(msg)?).await?),
        ops::INCREMENT => {
            let req: IncrementRequest = decode(msg)?;
            encode(&store.increment(&req.key, req.value).await?)
        }
        ops::LIST_ADD => {
            let req: ListAddRequest = decode(msg)?;
            encode(&store.list_add(&req.list_name, &req.value).await?)
        }
        ops::LIST_DEL => {
            let req: ListDelRequest = decode(msg)?;
            encode(&store.list_del(&req.list_name, &req.value).await?)
        }
        ops::LIST_CLEAR | ops::SET_CLEAR => encode(&store.del(&decode::<String>(msg)?).await?),
        ops::LIST_RANGE => {
            let req: ListRangeRequest = decode(msg)?;
            encode(
                &store
                    .list_range(&req.list_name, req.start, req.stop)
                    .await?,
            )
        }
        ops::SET_ADD => {
            let req: SetAddRequest = decode(msg)?;
            encode(&store.set_add(&req.set_name, &req.value).await?)
        }
        ops::SET_DEL => {
            let req: SetDelRequest = decode(msg)?;
            encode(&store.set_del(&req.set_name, &req.value).await?)
        }
        ops::SET_QUERY => encode(&store.set_query(&decode::<String>(msg)?).await?),
        ops::SET_UNION => encode(&store.set_union(&decode::<Vec<String>>(msg)?).await?),
        ops::SET_INTERSECTION => {
            encode(&store.set_intersection(&decode::<Vec<String>>(msg)?).await?)
        }
        other => return Err(ProviderError::unknown_operation(other)),
    })
}
