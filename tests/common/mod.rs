//! Helpers shared by the integration tests: run the real `taskport`
//! binary, find the real example manifests and fixture plugins.

#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's `examples/manifests/`.
pub fn manifests() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/manifests")
}

/// One example manifest.
pub fn manifest(name: &str) -> PathBuf {
    manifests().join(name)
}

/// The bytes of a test-fixture plugin component built by the host's build
/// script (`tests/plugins/<name>`).
pub fn fixture_plugin(name: &str) -> Vec<u8> {
    let file = format!("taskport_test_{}.wasm", name.replace('-', "_"));
    let path = Path::new(env!("TASKPORT_TEST_PLUGIN_DIR")).join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A plugin home shared by all tests, so plugins compile once.
pub fn shared_home() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("taskport-home")
}

/// `taskport` with a clean environment, run in `dir`.
pub fn taskport(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_taskport"));
    command
        .current_dir(dir)
        .env("TASKPORT_HOME", shared_home())
        .env_remove("TASKPORT_STORE")
        // Errors must stay one line even when backtraces are requested.
        .env("RUST_BACKTRACE", "1");
    command
}

/// Runs and returns the output, whatever the exit code.
pub fn run(command: &mut Command) -> Output {
    command.output().expect("run taskport")
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The JSON lines of standard output.
pub fn json_lines(output: &Output) -> Vec<serde_json::Value> {
    parse_json_lines(&String::from_utf8_lossy(&output.stdout))
}

/// The JSON lines of a file; none when it does not exist.
pub fn json_lines_in(path: &Path) -> Vec<serde_json::Value> {
    parse_json_lines(&std::fs::read_to_string(path).unwrap_or_default())
}

fn parse_json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

/// Imports `source` with `--no-store --out -` and returns the records.
pub fn convert(dir: &Path, source: &Path, extra: &[&str]) -> (Output, Vec<serde_json::Value>) {
    let output = run(taskport(dir)
        .arg("import")
        .arg(source)
        .args(["--no-store", "--out", "-"])
        .args(extra));
    let records = json_lines(&output);
    (output, records)
}

/// Asserts a failure message is one line with no panic or backtrace.
pub fn assert_clean_error(output: &Output) {
    let text = stderr(output);
    assert!(!output.status.success(), "expected failure, got {text}");
    assert!(!text.contains("panicked"), "panic in: {text}");
    assert!(!text.contains("stack backtrace"), "backtrace in: {text}");
    let errors: Vec<_> = text
        .lines()
        .filter(|l| l.starts_with("taskport: error"))
        .collect();
    assert_eq!(
        errors.len(),
        1,
        "exactly one error line expected in: {text}"
    );
}
