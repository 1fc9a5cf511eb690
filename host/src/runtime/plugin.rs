//! A loaded plugin and its calls: each in a fresh store with a fresh WASI
//! context granting nothing, under the conversion's limits.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use wasmtime::Store;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

use super::limits::{self, LimitHit, Limits};
use super::resources::{Batch, CallState, PluginInput, PluginSink};
use super::{Detection, PluginError, PluginInfo};
use crate::contract::{Plugin as PluginBindings, PluginPre};
use crate::records::clean;

/// Batches buffered between a converting plugin and the consumer.
const BATCH_QUEUE: usize = 4;

/// A plugin ready to run: compiled, checked and pre-instantiated.
pub struct LoadedPlugin {
    pub(super) label: String,
    pub(super) info: PluginInfo,
    /// The contract version the component was built against.
    pub(super) contract: String,
    pub(super) pre: PluginPre<CallState>,
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
            let worker = std::thread::Builder::new()
                .name("taskport-plugin".into())
                .spawn_scoped(scope, || {
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
                })
                .map_err(|e| self.crashed(&format!("cannot start its thread: {e}")))?;
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
    pub(super) fn call<R>(
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
