//! The WebAssembly runtime: one engine per process, plugins pre-instantiated
//! once, a fresh sandboxed store for every call.
//!
//! A plugin gets no ambient authority: no preopened directories, no
//! environment, no arguments, no sockets. Every call runs under [`Limits`]:
//! a linear-memory cap, a deadline enforced by epoch interruption, a cap on
//! batch size and on captured stdout/stderr.

mod info;
pub mod limits;
mod plugin;
pub mod resources;
mod ticker;

use std::sync::mpsc;
use std::time::Duration;

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::contract::{
    self, CONTRACT_PACKAGE, CONTRACT_VERSION, Plugin as PluginBindings, PluginPre,
};
pub use info::{Confidence, Detection, FormatInfo, OptionInfo, PluginInfo};
pub use limits::{LimitHit, Limits};
pub use plugin::{ConversionStats, ConvertRequest, LoadedPlugin};
use resources::CallState;
pub use resources::{Batch, PluginDiagnostic};

/// Longest a component may take to compile.
pub const COMPILE_TIMEOUT: Duration = Duration::from_secs(120);

/// Why a plugin could not be loaded or failed while running.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("{source_name} is not a WebAssembly component: {detail}")]
    NotAComponent { source_name: String, detail: String },
    #[error(
        "{source_name} was built for plugin contract {found}, but this taskport supports {CONTRACT_PACKAGE}@{CONTRACT_VERSION}; rebuild the plugin against this version of wit/"
    )]
    IncompatibleContract { source_name: String, found: String },
    #[error(
        "{source_name} does not export {CONTRACT_PACKAGE}/converter, so it is not a taskport plugin"
    )]
    NotAPlugin { source_name: String },
    #[error("{source_name} cannot run in the taskport sandbox: {detail}")]
    Unlinkable { source_name: String, detail: String },
    #[error("plugin {plugin} was stopped: it exceeded its {limit}")]
    Limit { plugin: String, limit: LimitHit },
    #[error("plugin {plugin} crashed: {detail}")]
    Crashed { plugin: String, detail: String },
    #[error("{plugin} could not read {source_name}: {message}")]
    Rejected {
        plugin: String,
        source_name: String,
        message: String,
    },
}

/// The process-wide WebAssembly engine and the sandbox's imports.
pub struct Runtime {
    engine: Engine,
    linker: Linker<CallState>,
    _ticker: ticker::EpochTicker,
}

impl Runtime {
    /// Creates the engine (pooling allocator, epoch interruption) and the
    /// linker that offers plugins the contract's host interface plus WASI
    /// with nothing granted.
    pub fn new() -> anyhow::Result<Self> {
        let mut pooling = PoolingAllocationConfig::new();
        pooling
            .total_component_instances(256)
            .total_core_instances(2048)
            .total_memories(512)
            .total_tables(1024)
            .max_memory_size(limits::MAX_MEMORY_CEILING);
        let mut config = Config::new();
        config
            .epoch_interruption(true)
            .wasm_component_model(true)
            .max_wasm_stack(1 << 20)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        PluginBindings::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
        let ticker = ticker::EpochTicker::start(engine.clone());
        Ok(Self {
            engine,
            linker,
            _ticker: ticker,
        })
    }

    /// The engine, for compiling and caching components.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Compiles component bytes (no contract checks yet), giving up after
    /// [`COMPILE_TIMEOUT`]: the bytes may be hostile.
    pub fn compile(&self, source_name: &str, bytes: &[u8]) -> Result<Component, PluginError> {
        let not_a_component = |detail: String| PluginError::NotAComponent {
            source_name: source_name.into(),
            detail,
        };
        if !is_component(bytes) {
            return Err(not_a_component(
                "it does not start with the component header (\\0asm, layer 1)".into(),
            ));
        }
        let (done, result) = mpsc::channel();
        let engine = self.engine.clone();
        let bytes = bytes.to_vec();
        // A compilation that overruns is abandoned; its thread ends with it.
        std::thread::spawn(move || {
            let _ = done.send(Component::new(&engine, bytes));
        });
        match result.recv_timeout(COMPILE_TIMEOUT) {
            Ok(Ok(component)) => Ok(component),
            Ok(Err(error)) => Err(not_a_component(format!("{error:#}"))),
            Err(_) => Err(not_a_component(format!(
                "compiling it took longer than {}s",
                COMPILE_TIMEOUT.as_secs()
            ))),
        }
    }

    /// Checks a compiled component against the contract, pre-instantiates
    /// it and asks it to describe itself.
    pub fn load(
        &self,
        source_name: &str,
        component: &Component,
        limits: &Limits,
    ) -> Result<LoadedPlugin, PluginError> {
        let contract = check_contract_version(&self.engine, source_name, component)?;
        let pre = self
            .linker
            .instantiate_pre(component)
            .and_then(PluginPre::new)
            .map_err(|error| PluginError::Unlinkable {
                source_name: source_name.into(),
                detail: format!("{error:#}"),
            })?;
        let mut plugin = LoadedPlugin {
            label: source_name.to_string(),
            info: PluginInfo::default(),
            contract,
            pre,
        };
        let info = plugin.call(limits, |bindings, store| {
            bindings.taskport_plugin_converter().call_describe(store)
        })?;
        plugin.info = PluginInfo::from(info);
        plugin.label = format!("{}@{}", plugin.info.name, plugin.info.version);
        Ok(plugin)
    }
}

/// Whether the bytes start with the component-model preamble.
fn is_component(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && bytes[..4] == *b"\0asm" && bytes[6..8] == [1, 0]
}

/// Refuses a component built against another version of the contract,
/// naming both versions; returns the version it was built against.
fn check_contract_version(
    engine: &Engine,
    source_name: &str,
    component: &Component,
) -> Result<String, PluginError> {
    let prefix = format!("{CONTRACT_PACKAGE}/converter");
    let component_type = component.component_type();
    let exported = component_type
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .find(|name| name.starts_with(&prefix));
    let Some(name) = exported else {
        return Err(PluginError::NotAPlugin {
            source_name: source_name.into(),
        });
    };
    let found = name
        .split_once('@')
        .map_or("(unversioned)", |(_, version)| version);
    if contract::is_supported(found) {
        Ok(found.to_string())
    } else {
        Err(PluginError::IncompatibleContract {
            source_name: source_name.into(),
            found: format!("{CONTRACT_PACKAGE}@{found}"),
        })
    }
}
