//! Per-conversion limits and the memory accounting that enforces them.

use std::time::Duration;

/// The largest `--max-memory` accepted: the pooling allocator reserves
/// address space for this much per memory.
pub const MAX_MEMORY_CEILING: usize = 4 << 30;

/// Limits applied to every plugin call, configurable per conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Cap on a plugin's linear memory, in bytes.
    pub max_memory: usize,
    /// How long a plugin may compute without consuming input (and how long
    /// `describe`/`detect` may take in all). Time spent waiting on the host
    /// does not count.
    pub timeout: Duration,
    /// Records plus diagnostics in one batch handed to the sink.
    pub max_batch_items: usize,
    /// Bytes of stdout plus stderr a plugin may write; more is an error.
    pub max_output: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_memory: 256 * 1024 * 1024,
            timeout: Duration::from_secs(10),
            max_batch_items: 10_000,
            max_output: 64 * 1024,
        }
    }
}

/// Which limit stopped a plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitHit {
    Memory { limit: usize },
    Timeout { limit: Duration },
    Output { limit: usize },
    Batch { items: usize, limit: usize },
}

impl std::fmt::Display for LimitHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LimitHit::Memory { limit } => {
                write!(f, "memory limit of {} (--max-memory)", human_bytes(*limit))
            }
            LimitHit::Timeout { limit } => write!(
                f,
                "time limit of {:.1}s without progress (--timeout)",
                limit.as_secs_f64()
            ),
            LimitHit::Output { limit } => {
                write!(
                    f,
                    "output limit of {} on stdout/stderr",
                    human_bytes(*limit)
                )
            }
            LimitHit::Batch { items, limit } => {
                write!(
                    f,
                    "batch limit: sent {items} items at once, at most {limit} allowed"
                )
            }
        }
    }
}

/// `64 MiB`, `512 KiB`, `100 B`.
pub fn human_bytes(bytes: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * KIB;
    const GIB: usize = 1024 * MIB;
    match bytes {
        b if b >= GIB && b % GIB == 0 => format!("{} GiB", b / GIB),
        b if b >= MIB => format!("{:.0} MiB", b as f64 / MIB as f64),
        b if b >= KIB => format!("{:.0} KiB", b as f64 / KIB as f64),
        b => format!("{b} B"),
    }
}

/// Parses `64MiB`, `512k`, `1G`, `1048576` into bytes.
pub fn parse_bytes(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let number: usize = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a size such as 64MiB"))?;
    let factor: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(format!("{text:?} has an unknown unit; use KiB, MiB or GiB")),
    };
    number
        .checked_mul(factor)
        .ok_or_else(|| format!("{text:?} is too large"))
}

/// Tracks a plugin's linear memory: refuses growth past the cap and keeps
/// the peak, which conversion statistics report.
#[derive(Debug)]
pub struct MemoryLimiter {
    limit: usize,
    current: usize,
    peak: usize,
    exceeded: bool,
}

impl MemoryLimiter {
    /// A limiter for `limit` bytes in all of one store's memories.
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            current: 0,
            peak: 0,
            exceeded: false,
        }
    }

    /// The most linear memory the plugin held at once.
    pub fn peak(&self) -> usize {
        self.peak
    }

    /// Whether the plugin tried to grow past the cap.
    pub fn exceeded(&self) -> bool {
        self.exceeded
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.current - current.min(self.current) + desired;
        if total > self.limit {
            self.exceeded = true;
            return Err(wasmtime::format_err!(
                "linear memory would grow to {} bytes, over the limit of {}",
                total,
                self.limit
            ));
        }
        self.current = total;
        self.peak = self.peak.max(total);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Table elements are pointers in the host: count them as memory too.
        Ok(desired.saturating_mul(size_of::<usize>()) <= self.limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_bytes("64MiB"), Ok(64 << 20));
        assert_eq!(parse_bytes("512k"), Ok(512 << 10));
        assert_eq!(parse_bytes("1G"), Ok(1 << 30));
        assert_eq!(parse_bytes("100"), Ok(100));
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("5 parsecs").is_err());
    }

    #[test]
    fn limiter_keeps_peak_and_refuses_growth_past_the_cap() {
        use wasmtime::ResourceLimiter;
        let mut limiter = MemoryLimiter::new(1 << 20);
        assert!(limiter.memory_growing(0, 65536, None).unwrap());
        assert!(limiter.memory_growing(65536, 1 << 19, None).unwrap());
        assert_eq!(limiter.peak(), 1 << 19);
        assert!(limiter.memory_growing(1 << 19, 2 << 20, None).is_err());
        assert!(limiter.exceeded());
        assert_eq!(limiter.peak(), 1 << 19);
    }
}
