//! Plugins as a product: the example's README followed word for word,
//! install refusals, and the compile cache.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/coco-plugin")
}

/// `taskport` with its own, empty plugin home.
fn with_home(dir: &Path, home: &Path) -> Command {
    let mut command = common::taskport(dir);
    command.env("TASKPORT_HOME", home);
    command
}

/// The ```sh blocks of a README, in order.
fn shell_blocks(readme: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in readme.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```sh") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), text) => {
                block.push_str(text);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn the_example_plugin_readme_works_word_for_word() {
    let readme = std::fs::read_to_string(example_dir().join("README.md")).unwrap();
    let blocks = shell_blocks(&readme);
    assert!(
        blocks.len() >= 3,
        "build, install and import steps: {blocks:?}"
    );
    let home = tempfile::tempdir().unwrap();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_taskport")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut last_output = None;
    for block in &blocks {
        let output = Command::new("bash")
            .args(["-euo", "pipefail", "-c", block])
            .current_dir(example_dir())
            .env("PATH", &path)
            .env("TASKPORT_HOME", home.path())
            .env_remove("TASKPORT_STORE")
            .env_remove("CARGO_TARGET_DIR")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "step failed:\n{block}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        last_output = Some(output);
    }
    let records = common::json_lines(&last_output.unwrap());
    assert_eq!(records.len(), 3, "one task per sample image");
    let with_boxes: Vec<_> = records
        .iter()
        .filter(|task| {
            task["predictions"]
                .as_array()
                .is_some_and(|p| !p.is_empty())
        })
        .collect();
    assert!(!with_boxes.is_empty());
    for task in &with_boxes {
        let region = &task["predictions"][0]["result"][0];
        assert_eq!(region["type"], "rectanglelabels");
        assert!(
            region["value"]["x"]
                .as_f64()
                .is_some_and(|x| (0.0..=100.0).contains(&x))
        );
        assert_eq!(task["media"], "image");
        assert_eq!(task["origin"]["plugin"], "coco@0.1.0");
    }

    // The install precompiled it: later runs load it from the compile cache.
    let sample = example_dir().join("sample/instances.json");
    for _ in 0..2 {
        let output = common::run(
            with_home(&example_dir(), home.path())
                .args(["-v", "import", "--no-store", "--format", "coco"])
                .arg(&sample),
        );
        assert!(output.status.success(), "{}", common::stderr(&output));
        let text = common::stderr(&output);
        assert!(
            text.contains("plugin coco@0.1.0 loaded from the compile cache"),
            "{text}"
        );
        assert!(
            !text.contains(" compiled\n"),
            "nothing compiles again: {text}"
        );
    }
}

fn fixture_file(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(format!("{name}.wasm"));
    std::fs::write(&path, common::fixture_plugin(name)).unwrap();
    path
}

#[test]
fn install_refuses_other_contract_versions_and_files_that_are_not_components() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let future = fixture_file(dir.path(), "future-contract");
    let output = common::run(
        with_home(dir.path(), &home)
            .args(["plugin", "install"])
            .arg(&future),
    );
    common::assert_clean_error(&output);
    let text = common::stderr(&output);
    assert!(text.contains("taskport:plugin@0.2.0"), "{text}");
    assert!(text.contains("taskport:plugin@0.1.0"), "{text}");

    std::fs::write(
        dir.path().join("random.wasm"),
        b"\x7fELF this is no component",
    )
    .unwrap();
    let output =
        common::run(with_home(dir.path(), &home).args(["plugin", "install", "random.wasm"]));
    common::assert_clean_error(&output);
    assert!(common::stderr(&output).contains("random.wasm is not a WebAssembly component"));

    let listed = common::run(with_home(dir.path(), &home).args(["plugin", "list"]));
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        !listed.contains("installed"),
        "nothing was installed: {listed}"
    );
}

#[test]
fn installed_plugins_are_listed_described_replaced_only_on_request_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let plugin = fixture_file(dir.path(), "misbehave");
    let install = || {
        common::run(
            with_home(dir.path(), &home)
                .args(["plugin", "install"])
                .arg(&plugin),
        )
    };
    let first = install();
    assert!(first.status.success(), "{}", common::stderr(&first));
    assert!(String::from_utf8_lossy(&first.stdout).contains("installed misbehave@0.1.0"));

    let again = install();
    common::assert_clean_error(&again);
    assert!(common::stderr(&again).contains("is not newer; use --force"));

    let list = common::run(with_home(dir.path(), &home).args(["plugin", "list"]));
    let list = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(
        list.lines()
            .any(|l| l.starts_with("misbehave") && l.contains("installed")),
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.starts_with("links-csv") && l.contains("built-in")),
        "{list}"
    );

    let info = common::run(with_home(dir.path(), &home).args(["plugin", "info", "misbehave"]));
    let info = String::from_utf8_lossy(&info.stdout).into_owned();
    let sha = taskport::catalog::cache::sha256_hex(&std::fs::read(&plugin).unwrap());
    assert!(info.contains(&format!("sha256:      {sha}")), "{info}");
    assert!(
        info.contains("contract:    taskport:plugin@0.1.0"),
        "{info}"
    );

    let removed = common::run(with_home(dir.path(), &home).args(["plugin", "remove", "misbehave"]));
    assert!(removed.status.success());
    let builtin = common::run(with_home(dir.path(), &home).args(["plugin", "remove", "links-csv"]));
    common::assert_clean_error(&builtin);
    assert!(common::stderr(&builtin).contains("built in"));
}

#[test]
fn a_corrupt_compile_cache_entry_is_recompiled_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let formats = || common::run(with_home(dir.path(), &home).args(["-v", "formats"]));
    assert!(common::stderr(&formats()).contains("links-csv@0.1.0 compiled"));
    let warm = common::stderr(&formats());
    assert!(
        warm.contains("links-csv@0.1.0 loaded from the compile cache"),
        "{warm}"
    );

    for entry in std::fs::read_dir(home.join("cache")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "cwasm") {
            let mut bytes = std::fs::read(&path).unwrap();
            let middle = bytes.len() / 2;
            bytes[middle] ^= 0xff;
            std::fs::write(&path, bytes).unwrap();
        }
    }
    let after = formats();
    assert!(after.status.success(), "{}", common::stderr(&after));
    assert!(common::stderr(&after).contains("links-csv@0.1.0 compiled"));
}
