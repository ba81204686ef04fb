//! The wasmtime engine shared by every actor: pooling allocator, epoch ticker, compiled-module cache.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::Mutex;
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, InstancePre, Linker, Module,
    PoolingAllocationConfig,
};

use super::module_cache::ModuleCache;
use super::wapc::{self, InstanceState};
use crate::{Error, Result};

/// How often the epoch advances: the granularity of invocation timeouts and of cooperative yields.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(5);
/// Compiled modules kept around after their last actor stopped, so a restart does not compile again.
const IDLE_MODULES_KEPT: usize = 64;

/// A module compiled and linked once, instantiated many times.
pub(crate) struct CompiledActor {
    pub(crate) pre: InstancePre<InstanceState>,
    /// `__wasmbus_rpc_version()` is called per instance; this records whether the module has it.
    pub(crate) has_rpc_version: bool,
}

/// Owns the wasmtime `Engine`, the waPC `Linker` and the cache of compiled actors.
pub(crate) struct ActorEngine {
    engine: Engine,
    linker: Linker<InstanceState>,
    cache: Mutex<HashMap<String, Arc<CompiledActor>>>,
    /// Compiled code on disk, shared with other hosts and later runs; `None` when turned off.
    disk: Option<Arc<ModuleCache>>,
    ticker_stop: Arc<AtomicBool>,
    ticker: Mutex<Option<JoinHandle<()>>>,
}

impl ActorEngine {
    /// Builds the engine: pooling allocator sized for `max_instances` instances of at most
    /// `max_memory` bytes of linear memory each, epoch interruption on; compiled modules cached
    /// on disk under `module_cache` (`(root, max bytes)`) when given.
    pub(crate) fn new(
        max_instances: u32,
        max_memory: usize,
        module_cache: Option<(&std::path::Path, u64)>,
    ) -> Result<Self> {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_core_instances(max_instances)
            .total_memories(max_instances)
            .total_tables(max_instances)
            .total_stacks(max_instances)
            .max_memories_per_module(1)
            .max_tables_per_module(1)
            .max_memory_size(max_memory)
            // Keep a few warm slots' pages resident so re-instantiation after a trap stays cheap.
            .linear_memory_keep_resident(64 << 10)
            .table_keep_resident(16 << 10);
        let mut config = Config::new();
        config
            .epoch_interruption(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config)
            .map_err(|e| Error::internal(format!("failed to create the wasm engine: {e:#}")))?;
        let mut linker = Linker::new(&engine);
        wapc::define_imports(&mut linker)
            .map_err(|e| Error::internal(format!("failed to define waPC imports: {e:#}")))?;

        let ticker_stop = Arc::new(AtomicBool::new(false));
        let ticker = {
            let engine = engine.clone();
            let stop = ticker_stop.clone();
            std::thread::Builder::new()
                .name("wasmhost-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(EPOCH_TICK);
                        engine.increment_epoch();
                    }
                })
                .map_err(|e| Error::internal(format!("failed to start the epoch thread: {e}")))?
        };
        let disk = module_cache
            .and_then(|(root, max)| ModuleCache::open(root, &engine, max))
            .map(Arc::new);
        Ok(ActorEngine {
            engine,
            linker,
            cache: Mutex::new(HashMap::new()),
            disk,
            ticker_stop,
            ticker: Mutex::new(Some(ticker)),
        })
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Returns the compiled form of `module`, compiling it on a blocking thread the first time.
    /// `hash` is the module's content hash (the claims hash): equal hashes mean equal code.
    pub(crate) async fn compile(&self, hash: &str, module: &[u8]) -> Result<Arc<CompiledActor>> {
        if let Some(found) = self.cache.lock().get(hash) {
            return Ok(found.clone());
        }
        let (engine, disk) = (self.engine.clone(), self.disk.clone());
        let bytes = module.to_vec();
        let module =
            tokio::task::spawn_blocking(move || load_or_compile(&engine, disk.as_deref(), &bytes))
                .await
                .map_err(|e| Error::internal(format!("compile task failed: {e}")))??;
        check_exports(&module)?;
        let pre = self.linker.instantiate_pre(&module).map_err(|e| {
            Error::invalid(format!(
                "module cannot be linked with the waPC host functions: {e:#}"
            ))
        })?;
        let compiled = Arc::new(CompiledActor {
            pre,
            has_rpc_version: module.get_export("__wasmbus_rpc_version").is_some(),
        });
        let mut cache = self.cache.lock();
        if cache.len() >= IDLE_MODULES_KEPT {
            cache.retain(|_, m| Arc::strong_count(m) > 1);
        }
        Ok(cache.entry(hash.to_string()).or_insert(compiled).clone())
    }

    pub(crate) fn stop_ticker(&self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.ticker.lock().take() {
            let _ = handle.join();
        }
    }
}

impl Drop for ActorEngine {
    fn drop(&mut self) {
        self.stop_ticker();
    }
}

/// The module from the disk cache, else compiled with Cranelift (and then cached). Blocking.
fn load_or_compile(engine: &Engine, disk: Option<&ModuleCache>, bytes: &[u8]) -> Result<Module> {
    let key = disk.map(|_| ModuleCache::key(bytes));
    if let (Some(disk), Some(key)) = (disk, &key) {
        if let Some(module) = disk.load(engine, key) {
            return Ok(module);
        }
    }
    let module = Module::new(engine, bytes)
        .map_err(|e| Error::invalid(format!("invalid WebAssembly module: {e:#}")))?;
    if let (Some(disk), Some(key)) = (disk, &key) {
        disk.store(key, &module);
    }
    Ok(module)
}

/// waPC needs `memory` and `__guest_call(i32, i32) -> i32`; say which is missing before instantiating.
fn check_exports(module: &Module) -> Result<()> {
    use wasmtime::{ExternType, ValType};
    match module.get_export("__guest_call") {
        Some(ExternType::Func(f)) => {
            let params: Vec<ValType> = f.params().collect();
            let results: Vec<ValType> = f.results().collect();
            if params.len() != 2
                || !params.iter().all(|t| matches!(t, ValType::I32))
                || results.len() != 1
                || !matches!(results[0], ValType::I32)
            {
                return Err(Error::invalid(
                    "`__guest_call` must have the type (i32, i32) -> i32",
                ));
            }
        }
        _ => {
            return Err(Error::invalid(
                "module does not export the waPC function `__guest_call`: it is not an actor",
            ))
        }
    }
    if !matches!(module.get_export("memory"), Some(ExternType::Memory(_))) {
        return Err(Error::invalid(
            "module does not export its linear memory as `memory`",
        ));
    }
    Ok(())
}
