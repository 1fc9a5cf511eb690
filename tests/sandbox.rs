//! The sandbox under attack: a real misbehaving plugin component, run
//! through the library's runtime, must be stopped by the right limit with
//! an error naming the plugin, and the host must carry on.

mod common;

use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use taskport::runtime::{ConvertRequest, Limits, LoadedPlugin, PluginError, Runtime};

fn load(runtime: &Runtime, fixture: &str) -> LoadedPlugin {
    let bytes = common::fixture_plugin(fixture);
    let component = runtime.compile(fixture, &bytes).expect("compile fixture");
    runtime
        .load(fixture, &component, &Limits::default())
        .expect("load fixture")
}

fn run_mode(plugin: &LoadedPlugin, mode: &str, limits: Limits) -> Result<usize, PluginError> {
    let options = vec![("mode".to_string(), mode.to_string())];
    let request = ConvertRequest {
        format: "misbehave",
        options: &options,
        source_name: "input.txt",
        limits,
        bytes_read: Arc::new(AtomicU64::new(0)),
    };
    let mut records = 0;
    plugin
        .convert(
            &request,
            Box::new(Cursor::new(b"x\n".to_vec())),
            &mut |batch| {
                records += batch.records.len();
                true
            },
        )
        .map(|_| records)
}

fn short_limits() -> Limits {
    Limits {
        max_memory: 32 << 20,
        timeout: Duration::from_millis(500),
        ..Limits::default()
    }
}

#[test]
fn each_misbehaviour_is_stopped_by_its_limit_and_the_host_carries_on() {
    let runtime = Runtime::new().unwrap();
    let plugin = load(&runtime, "misbehave");
    assert_eq!(plugin.label(), "misbehave@0.1.0");

    let cases: &[(&str, &str)] = &[
        (
            "panic",
            "crashed: it aborted (panic or failed assertion); it said: ",
        ),
        ("loop", "exceeded its time limit of 0.5s"),
        ("memory", "exceeded its memory limit of 32 MiB"),
        ("stack", "stack overflow"),
        ("flood", "exceeded its output limit of 64 KiB"),
        ("endless", "exceeded its time limit of 0.5s"),
    ];
    for (mode, expected) in cases {
        let error = run_mode(&plugin, mode, short_limits()).expect_err(mode);
        let message = error.to_string();
        assert!(
            message.starts_with("plugin misbehave@0.1.0 "),
            "{mode}: {message}"
        );
        assert!(message.contains(expected), "{mode}: {message}");
        assert!(!message.contains('\n'), "{mode}: one line: {message}");
    }
    let panic = run_mode(&plugin, "panic", short_limits())
        .unwrap_err()
        .to_string();
    assert!(panic.contains("panicked on purpose"), "{panic}");

    // After all that, the same plugin still converts normally.
    assert_eq!(run_mode(&plugin, "garbage", short_limits()).unwrap(), 3);
}

#[test]
fn many_conversions_run_concurrently_in_one_process() {
    let runtime = Runtime::new().unwrap();
    let plugin = load(&runtime, "misbehave");
    std::thread::scope(|scope| {
        let healthy: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| run_mode(&plugin, "garbage", short_limits())))
            .collect();
        let hostile = scope.spawn(|| run_mode(&plugin, "memory", short_limits()));
        for worker in healthy {
            assert_eq!(worker.join().unwrap().unwrap(), 3);
        }
        assert!(matches!(
            hostile.join().unwrap(),
            Err(PluginError::Limit { .. })
        ));
    });
}

#[test]
fn a_component_built_for_another_contract_version_is_refused_naming_both() {
    let runtime = Runtime::new().unwrap();
    let bytes = common::fixture_plugin("future-contract");
    let component = runtime.compile("future.wasm", &bytes).unwrap();
    let error = runtime
        .load("future.wasm", &component, &Limits::default())
        .err()
        .expect("refused");
    let message = error.to_string();
    assert!(message.contains("taskport:plugin@0.2.0"), "{message}");
    assert!(message.contains("taskport:plugin@0.1.0"), "{message}");
}

#[test]
fn bytes_that_are_not_a_component_are_refused() {
    let runtime = Runtime::new().unwrap();
    let error = runtime
        .compile("notes.txt", b"hello, I am not WebAssembly")
        .expect_err("refused");
    assert!(
        error
            .to_string()
            .starts_with("notes.txt is not a WebAssembly component")
    );
}

#[test]
fn a_plugin_stopped_by_a_limit_fails_the_import_cleanly_and_leaves_the_store_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let plugin = dir.path().join("misbehave.wasm");
    std::fs::write(&plugin, common::fixture_plugin("misbehave")).unwrap();
    std::fs::write(dir.path().join("input.txt"), "anything\n").unwrap();
    let taskport = || {
        let mut command = common::taskport(dir.path());
        command.env("TASKPORT_HOME", &home);
        command
    };
    let installed = common::run(taskport().args(["plugin", "install"]).arg(&plugin));
    assert!(installed.status.success(), "{}", common::stderr(&installed));
    let datasets = || String::from_utf8(common::run(taskport().arg("datasets")).stdout).unwrap();
    let before = datasets();

    for (mode, limit) in [
        ("memory", "memory limit of 16 MiB"),
        ("loop", "time limit of 0.5s"),
    ] {
        let output = common::run(taskport().args([
            "import",
            "input.txt",
            "--format",
            "misbehave",
            "--opt",
            &format!("mode={mode}"),
            "--max-memory",
            "16MiB",
            "--timeout",
            "0.5",
        ]));
        common::assert_clean_error(&output);
        let text = common::stderr(&output);
        assert!(
            text.contains("plugin misbehave@0.1.0 was stopped"),
            "{mode}: {text}"
        );
        assert!(text.contains(limit), "{mode}: {text}");
        assert_eq!(datasets(), before, "{mode}: the store is unchanged");
    }
}
