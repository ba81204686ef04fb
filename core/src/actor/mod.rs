//! Actors on wasmtime: the engine, the waPC ABI, warm instance pools.

pub(crate) mod context;
pub(crate) mod engine;
pub(crate) mod instance;
pub(crate) mod module_cache;
pub(crate) mod pool;
pub(crate) mod wapc;

pub use pool::InstanceInfo;
