//! The host side of the contract: the `input` and `sink` resources a plugin
//! is lent during a conversion, and the per-call store state.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::SyncSender;
use std::time::Instant;

use wasmtime::component::{Resource, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::limits::{LimitHit, Limits, MemoryLimiter};
use crate::contract::taskport::plugin::host::{Host, HostInput, HostSink};
use crate::contract::taskport::plugin::types::{self as wit, Flow};
use crate::records::{RawOrigin, RawRecord, Severity};

/// Most bytes handed to a plugin per `read` call.
const MAX_READ: u32 = 1024 * 1024;

/// The manifest bytes a plugin pulls from.
pub struct PluginInput {
    reader: Box<dyn Read + Send>,
    bytes_read: Arc<AtomicU64>,
}

impl PluginInput {
    /// Wraps a reader; `bytes_read` is updated as the plugin reads.
    pub fn new(reader: Box<dyn Read + Send>, bytes_read: Arc<AtomicU64>) -> Self {
        Self { reader, bytes_read }
    }
}

/// A diagnostic as a plugin reported it.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginDiagnostic {
    pub origin: RawOrigin,
    pub severity: Severity,
    pub code: String,
    pub message: String,
}

/// What a plugin emitted in one `sink.emit` call.
#[derive(Debug, Default)]
pub struct Batch {
    pub records: Vec<RawRecord>,
    pub diagnostics: Vec<PluginDiagnostic>,
}

/// Where emitted batches go: a bounded channel to the consumer, which sets
/// `stop` when it wants no more.
pub struct PluginSink {
    batches: SyncSender<Batch>,
    stop: Arc<AtomicBool>,
}

impl PluginSink {
    /// A sink sending into `batches`.
    pub fn new(batches: SyncSender<Batch>, stop: Arc<AtomicBool>) -> Self {
        Self { batches, stop }
    }
}

/// Everything one store (one plugin call) holds.
pub struct CallState {
    pub(super) wasi: WasiCtx,
    pub(super) table: ResourceTable,
    pub(super) memory: MemoryLimiter,
    pub(super) limits: Limits,
    /// The last time the plugin consumed input, moved forward by any time
    /// it has since spent waiting on the host; the timeout counts from here.
    pub(super) last_progress: Instant,
    pub(super) limit_hit: Option<LimitHit>,
}

impl CallState {
    /// Records which limit stopped the plugin and returns the trap to raise.
    pub(super) fn hit(&mut self, limit: LimitHit) -> wasmtime::Error {
        let error = wasmtime::format_err!("plugin stopped: {limit}");
        self.limit_hit = Some(limit);
        error
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl Host for CallState {}

impl wit::Host for CallState {}

impl HostInput for CallState {
    fn read(
        &mut self,
        input: Resource<PluginInput>,
        max_bytes: u32,
    ) -> wasmtime::Result<Result<Vec<u8>, String>> {
        let input = self.table.get_mut(&input)?;
        let mut buffer = vec![0; max_bytes.min(MAX_READ) as usize];
        let result = loop {
            match input.reader.read(&mut buffer) {
                Ok(count) => {
                    buffer.truncate(count);
                    input.bytes_read.fetch_add(count as u64, Ordering::Relaxed);
                    break Ok(buffer);
                }
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => break Err(error.to_string()),
            }
        };
        self.last_progress = Instant::now();
        Ok(result)
    }

    fn drop(&mut self, input: Resource<PluginInput>) -> wasmtime::Result<()> {
        self.table.delete(input)?;
        Ok(())
    }
}

impl HostSink for CallState {
    fn emit(
        &mut self,
        sink: Resource<PluginSink>,
        records: Vec<wit::TaskRecord>,
        diagnostics: Vec<wit::Diagnostic>,
    ) -> wasmtime::Result<Flow> {
        let items = records.len() + diagnostics.len();
        if items > self.limits.max_batch_items {
            let limit = self.limits.max_batch_items;
            return Err(self.hit(LimitHit::Batch { items, limit }));
        }
        let sink = self.table.get(&sink)?;
        if sink.stop.load(Ordering::Relaxed) {
            return Ok(Flow::Stop);
        }
        let batch = Batch {
            records: records.into_iter().map(raw_record).collect(),
            diagnostics: diagnostics.into_iter().map(plugin_diagnostic).collect(),
        };
        let waiting = Instant::now();
        let delivered = sink.batches.send(batch).is_ok();
        let stop = !delivered || sink.stop.load(Ordering::Relaxed);
        // Time spent waiting for the host is not the plugin's; emitting is
        // not progress (only consuming input is), so a plugin that emits
        // forever still runs out of time.
        self.last_progress += waiting.elapsed();
        Ok(if stop { Flow::Stop } else { Flow::Proceed })
    }

    fn drop(&mut self, sink: Resource<PluginSink>) -> wasmtime::Result<()> {
        self.table.delete(sink)?;
        Ok(())
    }
}

fn raw_origin(origin: wit::Origin) -> RawOrigin {
    RawOrigin {
        line: origin.line,
        index: origin.index,
        offset: origin.offset,
    }
}

fn raw_record(record: wit::TaskRecord) -> RawRecord {
    RawRecord {
        origin: raw_origin(record.origin),
        name: record.name,
        data: record.data,
        media_key: record.media_key,
        media_kind: record.media_kind,
        annotations: record.annotations,
        predictions: record.predictions,
        meta: record.meta,
    }
}

fn plugin_diagnostic(diagnostic: wit::Diagnostic) -> PluginDiagnostic {
    PluginDiagnostic {
        origin: raw_origin(diagnostic.origin),
        severity: match diagnostic.severity {
            wit::Severity::Error => Severity::Error,
            wit::Severity::Warning => Severity::Warning,
        },
        code: diagnostic.code,
        message: diagnostic.message,
    }
}
