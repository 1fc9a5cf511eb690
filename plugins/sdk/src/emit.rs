//! Sending records and diagnostics to the host in batches.

use crate::{Diagnostic, Flow, Sink, TaskRecord};

/// Where a converter sends what it produces.
///
/// Both methods answer whether to go on; after [`Flow::Stop`] the converter
/// should return `Ok(())` promptly (the host has stopped listening).
pub trait Emit {
    /// Emits one task.
    fn record(&mut self, record: TaskRecord) -> Flow;
    /// Emits one diagnostic.
    fn diagnostic(&mut self, diagnostic: Diagnostic) -> Flow;
}

/// Records per batch handed to the host.
const BATCH_RECORDS: usize = 256;
/// Approximate bytes of record text per batch.
const BATCH_BYTES: usize = 512 * 1024;

/// Batches records into the host's `sink`.
pub struct SinkEmitter<'a> {
    sink: &'a Sink,
    records: Vec<TaskRecord>,
    diagnostics: Vec<Diagnostic>,
    pending_bytes: usize,
    stopped: bool,
}

impl<'a> SinkEmitter<'a> {
    /// Wraps the host's sink.
    pub fn new(sink: &'a Sink) -> Self {
        Self {
            sink,
            records: Vec::with_capacity(BATCH_RECORDS),
            diagnostics: Vec::new(),
            pending_bytes: 0,
            stopped: false,
        }
    }

    /// Sends whatever is still buffered. Call once conversion is done.
    pub fn finish(&mut self) {
        self.flush();
    }

    fn flush(&mut self) -> Flow {
        if self.stopped {
            return Flow::Stop;
        }
        if self.records.is_empty() && self.diagnostics.is_empty() {
            return Flow::Proceed;
        }
        let flow = self.sink.emit(&self.records, &self.diagnostics);
        self.records.clear();
        self.diagnostics.clear();
        self.pending_bytes = 0;
        if flow == Flow::Stop {
            self.stopped = true;
        }
        flow
    }

    fn after_push(&mut self) -> Flow {
        if self.stopped {
            return Flow::Stop;
        }
        if self.records.len() + self.diagnostics.len() >= BATCH_RECORDS
            || self.pending_bytes >= BATCH_BYTES
        {
            return self.flush();
        }
        Flow::Proceed
    }
}

impl Emit for SinkEmitter<'_> {
    fn record(&mut self, record: TaskRecord) -> Flow {
        if self.stopped {
            return Flow::Stop;
        }
        self.pending_bytes += record_size(&record);
        self.records.push(record);
        self.after_push()
    }

    fn diagnostic(&mut self, diagnostic: Diagnostic) -> Flow {
        if self.stopped {
            return Flow::Stop;
        }
        self.pending_bytes += diagnostic.message.len();
        self.diagnostics.push(diagnostic);
        self.after_push()
    }
}

fn record_size(record: &TaskRecord) -> usize {
    let optional = |text: &Option<String>| text.as_ref().map_or(0, String::len);
    record.data.len()
        + optional(&record.name)
        + optional(&record.annotations)
        + optional(&record.predictions)
        + optional(&record.meta)
}

/// Keeps everything in memory: for native tests and benchmarks.
#[derive(Default)]
pub struct Collector {
    /// Records in emission order.
    pub records: Vec<TaskRecord>,
    /// Diagnostics in emission order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Emit for Collector {
    fn record(&mut self, record: TaskRecord) -> Flow {
        self.records.push(record);
        Flow::Proceed
    }

    fn diagnostic(&mut self, diagnostic: Diagnostic) -> Flow {
        self.diagnostics.push(diagnostic);
        Flow::Proceed
    }
}

impl Collector {
    /// The records, one line each (see [`crate::testing::show_record`]).
    pub fn shown_records(&self) -> Vec<String> {
        self.records
            .iter()
            .map(crate::testing::show_record)
            .collect()
    }

    /// The diagnostics, one line each (see [`crate::testing::show_diagnostic`]).
    pub fn shown_diagnostics(&self) -> Vec<String> {
        self.diagnostics
            .iter()
            .map(crate::testing::show_diagnostic)
            .collect()
    }
}
