//! The WebAssembly runtime: one engine per process, plugins pre-instantiated
//! once, a fresh sandboxed store for every call.
//!
//! A plugin gets no ambient authority: no preopened directories, no
//! environment, no arguments, no sockets. Every call runs under [`Limits`]:
//! a linear-memory cap, a deadline enforced by epoch interruption, a cap on
//! batch size and on captured stdout/stderr.

mod info;
pub mod limits;
pub mod resources;
mod ticker;

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

use crate::contract::{
    self, CONTRACT_PACKAGE, CONTRACT_VERSION, Plugin as PluginBindings, PluginPre,
};
use crate::records::clean;
pub use info::{Confidence, Detection, FormatInfo, OptionInfo, PluginInfo};
pub use limits::{LimitHit, Limits};
pub use resources::{Batch, PluginDiagnostic};
use resources::{CallState, PluginInput, PluginSink};

/// Batches buffered between a converting plugin and the consumer.
const BATCH_QUEUE: usize = 4;

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

/// A plugin ready to run: compiled, checked and pre-instantiated.
pub struct LoadedPlugin {
    label: String,
    info: PluginInfo,
    /// The contract version the component was built against.
    contract: String,
    pre: PluginPre<CallState>,
}

/// What a conversion reports besides its batches.
#[derive(Debug, Clone, Default)]
pub struct ConversionStats {
    /// Manifest bytes the plugin read.
    pub bytes_read: u64,
    /// Peak linear memory of the plugin, by the runtime's accounting.
    pub peak_memory: usize,
    /// What the plugin wrote to stdout/stderr, terminal escapes removed.
    pub output: String,
}

/// One conversion to run.
pub struct ConvertRequest<'a> {
    pub format: &'a str,
    pub options: &'a [(String, String)],
    /// The source as the user named it; plugins may mention it in messages.
    pub source_name: &'a str,
    pub limits: Limits,
    /// Updated as the plugin reads, for progress reporting.
    pub bytes_read: Arc<AtomicU64>,
}

impl LoadedPlugin {
    /// `name@version`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// What the plugin said of itself.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// The contract version it was built against, e.g. `0.1.0`.
    pub fn contract_version(&self) -> &str {
        &self.contract
    }

    /// Asks the plugin how likely each of its formats is for a file.
    pub fn detect(
        &self,
        file_name: &str,
        head: &[u8],
        limits: &Limits,
    ) -> Result<Vec<Detection>, PluginError> {
        let detections = self.call(limits, |bindings, store| {
            bindings
                .taskport_plugin_converter()
                .call_detect(store, file_name, head)
        })?;
        Ok(detections.into_iter().map(Detection::from).collect())
    }

    /// Streams `input` through the plugin. Batches are handed to `consume`
    /// on the calling thread while the plugin runs on another; `consume`
    /// returns false to ask the plugin to stop.
    pub fn convert(
        &self,
        request: &ConvertRequest<'_>,
        input: Box<dyn Read + Send>,
        consume: &mut dyn FnMut(Batch) -> bool,
    ) -> Result<ConversionStats, PluginError> {
        let (sender, receiver) = mpsc::sync_channel(BATCH_QUEUE);
        let stop = Arc::new(AtomicBool::new(false));
        let plugin_input = PluginInput::new(input, request.bytes_read.clone());
        let plugin_sink = PluginSink::new(sender, stop.clone());
        std::thread::scope(|scope| {
            let worker = scope.spawn(|| {
                self.call_with_stats(&request.limits, |bindings, store| {
                    let input = store.data_mut().table.push(plugin_input)?;
                    let sink = store.data_mut().table.push(plugin_sink)?;
                    bindings.taskport_plugin_converter().call_convert(
                        store,
                        request.format,
                        request.options,
                        request.source_name,
                        input,
                        sink,
                    )
                })
            });
            for batch in receiver {
                if !stop.load(Ordering::Relaxed) && !consume(batch) {
                    stop.store(true, Ordering::Relaxed);
                }
            }
            let (result, stats) = worker
                .join()
                .map_err(|_| self.crashed("the host thread running it panicked"))?;
            result?.map_err(|message| PluginError::Rejected {
                plugin: self.label.clone(),
                source_name: request.source_name.into(),
                message: clean::message(&message),
            })?;
            Ok(ConversionStats {
                bytes_read: request.bytes_read.load(Ordering::Relaxed),
                ..stats
            })
        })
    }

    fn crashed(&self, detail: &str) -> PluginError {
        PluginError::Crashed {
            plugin: self.label.clone(),
            detail: detail.into(),
        }
    }

    /// Runs `body` against a fresh instance in a fresh store.
    fn call<R>(
        &self,
        limits: &Limits,
        body: impl FnOnce(&PluginBindings, &mut Store<CallState>) -> wasmtime::Result<R>,
    ) -> Result<R, PluginError> {
        self.call_with_stats(limits, body).0
    }

    fn call_with_stats<R>(
        &self,
        limits: &Limits,
        body: impl FnOnce(&PluginBindings, &mut Store<CallState>) -> wasmtime::Result<R>,
    ) -> (Result<R, PluginError>, ConversionStats) {
        let output = MemoryOutputPipe::new(limits.max_output);
        let wasi = WasiCtxBuilder::new()
            .stdout(output.clone())
            .stderr(output.clone())
            .build();
        let state = CallState {
            wasi,
            table: ResourceTable::new(),
            memory: limits::MemoryLimiter::new(limits.max_memory),
            limits: *limits,
            last_progress: Instant::now(),
            limit_hit: None,
        };
        let mut store = Store::new(self.pre.engine(), state);
        store.limiter(|state| &mut state.memory);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|mut context| {
            let state = context.data_mut();
            if state.last_progress.elapsed() > state.limits.timeout {
                let limit = state.limits.timeout;
                return Err(state.hit(LimitHit::Timeout { limit }));
            }
            Ok(wasmtime::UpdateDeadline::Continue(1))
        });
        let result = self
            .pre
            .instantiate(&mut store)
            .and_then(|bindings| body(&bindings, &mut store));
        let state = store.data();
        let captured = sanitize_output(&String::from_utf8_lossy(&output.contents()));
        let stats = ConversionStats {
            bytes_read: 0,
            peak_memory: state.memory.peak(),
            output: captured.clone(),
        };
        let result = result.map_err(|error| {
            let limit = state.limit_hit.clone().or_else(|| {
                if state.memory.exceeded() {
                    Some(LimitHit::Memory {
                        limit: limits.max_memory,
                    })
                } else if output.contents().len() >= limits.max_output {
                    Some(LimitHit::Output {
                        limit: limits.max_output,
                    })
                } else {
                    None
                }
            });
            match limit {
                Some(limit) => PluginError::Limit {
                    plugin: self.label.clone(),
                    limit,
                },
                None => self.crashed(&crash_detail(&error, &captured)),
            }
        });
        (result, stats)
    }
}

/// A one-line account of a trap: its kind, plus the plugin's last words on
/// stderr (a Rust panic message lands there).
fn crash_detail(error: &wasmtime::Error, output: &str) -> String {
    let kind = match error.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::StackOverflow) => "stack overflow".to_string(),
        // Rust and C put their stack at the bottom of linear memory, so an
        // overflow of it shows as an access below address 0.
        Some(wasmtime::Trap::MemoryOutOfBounds) => {
            "out-of-bounds memory access (likely a stack overflow)".to_string()
        }
        Some(wasmtime::Trap::UnreachableCodeReached) => {
            "it aborted (panic or failed assertion)".to_string()
        }
        Some(trap) => trap.to_string(),
        None => format!("{error:#}")
            .lines()
            .next()
            .unwrap_or_default()
            .to_string(),
    };
    match last_words(output) {
        Some(words) => format!("{kind}; it said: {}", clean::message(&words)),
        None => kind,
    }
}

/// A Rust panic's location and message, else the last line of output.
fn last_words(output: &str) -> Option<String> {
    let lines: Vec<&str> = output
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    if let Some(at) = lines.iter().position(|line| line.contains("panicked at")) {
        let message = lines.get(at + 1).copied().unwrap_or_default();
        return Some(format!("{} {message}", lines[at].trim()));
    }
    lines.last().map(|line| line.trim().to_string())
}

/// Text a plugin wrote, line by line, with terminal escapes and control
/// characters removed.
fn sanitize_output(text: &str) -> String {
    text.lines().map(clean::text).collect::<Vec<_>>().join("\n")
}
