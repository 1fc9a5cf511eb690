//! `cargo run --release -p taskport-bench [-- --rows N]`
//!
//! Generates manifests (links CSV, Label Studio JSON, TXT) and reports, for
//! each: rows/s of the parser compiled natively, rows/s of the same parser as
//! a WebAssembly plugin (and the overhead ratio), the plugin's peak linear
//! memory, and rows/s and peak process memory of a full import into SQLite.
//! It also checks that memory stays flat with manifest size, and times
//! plugin loading with a cold and a warm compile cache.
//!
//! Each measurement runs in a child process (this binary re-invoked with
//! `--child`), so peak memory figures are not polluted by earlier ones.

mod generate;
mod measure;

/// The allocator the `taskport` binary uses, so that imports measure alike.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};
use serde_json::Value;

/// The manifests measured: (format, file name).
const MANIFESTS: &[(&str, &str)] = &[
    ("links-csv", "links.csv"),
    ("label-studio-json", "tasks.json"),
    ("txt", "lines.txt"),
];

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        return measure::child(&args[1..]);
    }
    let rows: u64 = match args.as_slice() {
        [] => 1_000_000,
        [flag, value] if flag == "--rows" => value.parse().context("--rows takes a number")?,
        _ => bail!("usage: taskport-bench [--rows N]"),
    };
    let work = tempfile::tempdir()?;
    println!(
        "taskport benchmark: {rows} rows per manifest, {} cores",
        cores()
    );
    println!();
    println!(
        "{:<18} {:>12} {:>12} {:>9} {:>13} {:>12} {:>14}",
        "format", "native r/s", "wasm r/s", "overhead", "plugin peak", "import r/s", "import peak"
    );
    for (format, file) in MANIFESTS {
        let path = work.path().join(file);
        generate::manifest(format, &path, rows)?;
        let native = child(&["native", format, path_str(&path)])?;
        let wasm = child(&["wasm", format, path_str(&path)])?;
        let store = work.path().join(format!("{format}.db"));
        let import = child(&["import", format, path_str(&path), path_str(&store)])?;
        let rate = |result: &Value| rows as f64 / result["seconds"].as_f64().unwrap_or(f64::NAN);
        println!(
            "{:<18} {:>12.0} {:>12.0} {:>8.2}x {:>13} {:>12.0} {:>14}",
            format,
            rate(&native),
            rate(&wasm),
            rate(&native) / rate(&wasm),
            mib(&wasm["plugin_peak_bytes"]),
            rate(&import),
            mib(&import["peak_rss_bytes"]),
        );
        std::fs::remove_file(&path)?;
    }

    println!();
    println!("memory with manifest size (links-csv, full import):");
    for scale in [1, 10] {
        let scaled = rows * scale;
        let path = work.path().join("scaled.csv");
        generate::manifest("links-csv", &path, scaled)?;
        let store = work.path().join(format!("scaled-{scale}.db"));
        let import = child(&["import", "links-csv", path_str(&path), path_str(&store)])?;
        println!(
            "  {scaled:>10} rows: peak process memory {}, plugin peak {}, {:.2}s",
            mib(&import["peak_rss_bytes"]),
            mib(&import["plugin_peak_bytes"]),
            import["seconds"].as_f64().unwrap_or(f64::NAN)
        );
        std::fs::remove_file(&path)?;
    }

    println!();
    let home = work.path().join("home");
    let cold = child(&["load", path_str(&home)])?;
    let warm = child(&["load", path_str(&home)])?;
    println!(
        "plugin loading (all built-ins): cold {:.0} ms ({} compiled), warm {:.0} ms ({} from cache)",
        cold["seconds"].as_f64().unwrap_or(f64::NAN) * 1000.0,
        cold["compiled"],
        warm["seconds"].as_f64().unwrap_or(f64::NAN) * 1000.0,
        warm["cache_hits"],
    );
    Ok(())
}

/// Runs one measurement in a fresh process and returns its JSON report.
fn child(args: &[&str]) -> anyhow::Result<Value> {
    let output = Command::new(std::env::current_exe()?)
        .arg("--child")
        .args(args)
        .output()?;
    if !output.status.success() {
        bail!(
            "measurement {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(serde_json::from_slice(&output.stdout)?)
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

fn mib(bytes: &Value) -> String {
    format!(
        "{:.1} MiB",
        bytes.as_f64().unwrap_or(f64::NAN) / (1 << 20) as f64
    )
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// The plugin home for wasm measurements: shared, so the first run pays
/// compilation and later ones do not.
fn bench_home() -> PathBuf {
    std::env::temp_dir().join("taskport-bench-home")
}
