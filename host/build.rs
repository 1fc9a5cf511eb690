//! Builds the built-in converter plugins for `wasm32-wasip2` and embeds them.
//!
//! The plugin crates live in `plugins/`; the test-fixture plugins in
//! `tests/plugins/` are built alongside (not embedded) so the integration
//! tests can load them. They go to their own target directory
//! (`<target>/wasm`) because the outer cargo holds the lock on the main one.
//! Cargo reruns this script only when something under `plugins/`, `wit/` or
//! `tests/plugins/` changed, and the inner cargo rebuilds only what changed.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Built-in plugins: crate directory under `plugins/`.
const BUILTIN_PLUGINS: &[&str] = &[
    "links-csv",
    "links-json",
    "txt",
    "image-dir",
    "audio-dir",
    "label-studio",
];

/// Plugins only the integration tests load: crate directory under `tests/plugins/`.
const TEST_PLUGINS: &[&str] = &["misbehave", "future-contract"];

const WASM_TARGET: &str = "wasm32-wasip2";
const WASM_PROFILE: &str = "wasm-plugin";

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir
        .parent()
        .expect("host/ is inside the workspace");
    for watched in [
        "plugins",
        "wit",
        "tests/plugins",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }

    ensure_wasm_target();

    let target_dir = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("wasm");
    let builtins: Vec<(&str, String)> = BUILTIN_PLUGINS
        .iter()
        .map(|dir| (*dir, format!("taskport-{dir}")))
        .collect();
    let fixtures = TEST_PLUGINS
        .iter()
        .map(|dir| format!("taskport-test-{dir}"));
    let packages = builtins.iter().map(|(_, package)| package.clone());
    build_plugins(root, &target_dir, packages.chain(fixtures));

    let artifacts = target_dir.join(WASM_TARGET).join(WASM_PROFILE);
    let wasm_path = |package: &str| artifacts.join(format!("{}.wasm", package.replace('-', "_")));

    let mut source = String::from(
        "/// The built-in plugins: (name, component bytes).\n\
         pub const BUILTIN_PLUGINS: &[(&str, &[u8])] = &[\n",
    );
    for (name, package) in &builtins {
        let path = wasm_path(package);
        writeln!(
            source,
            "    ({name:?}, include_bytes!({:?})),",
            path.display()
        )
        .unwrap();
    }
    source.push_str("];\n");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    fs::write(out_dir.join("builtin_plugins.rs"), source).expect("write builtin_plugins.rs");
    println!(
        "cargo:rustc-env=TASKPORT_TEST_PLUGIN_DIR={}",
        artifacts.display()
    );
}

/// Installs the wasm target with rustup when the toolchain lacks it:
/// `rust-toolchain.toml` alone does not when `RUSTUP_AUTO_INSTALL=0`.
fn ensure_wasm_target() {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    let installed = |sysroot: &Path| sysroot.join("lib/rustlib").join(WASM_TARGET).exists();
    if sysroot.as_deref().is_some_and(installed) {
        return;
    }
    println!(
        "cargo:warning=the {WASM_TARGET} target is missing; running `rustup target add {WASM_TARGET}`"
    );
    let mut rustup = Command::new("rustup");
    rustup.args(["target", "add", WASM_TARGET]);
    if let Ok(toolchain) = env::var("RUSTUP_TOOLCHAIN") {
        rustup.args(["--toolchain", &toolchain]);
    }
    match rustup.status() {
        Ok(status) if status.success() => {}
        _ => panic!(
            "the {WASM_TARGET} target is not installed and rustup could not install it; \
             run `rustup target add {WASM_TARGET}` and build again"
        ),
    }
}

/// Runs one inner `cargo build` for all plugin packages.
fn build_plugins(root: &Path, target_dir: &Path, packages: impl Iterator<Item = String>) {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(root)
        .args([
            "build",
            "--quiet",
            "--target",
            WASM_TARGET,
            "--profile",
            WASM_PROFILE,
        ])
        .arg("--target-dir")
        .arg(target_dir);
    for package in packages {
        command.args(["-p", &package]);
    }
    // Settings of the outer build that must not leak into the wasm build.
    for (key, _) in env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("CARGO_PROFILE_")
            || key.starts_with("CARGO_BUILD_")
            || key.starts_with("CARGO_TARGET_")
            || key == "CARGO_ENCODED_RUSTFLAGS"
            || key == "RUSTFLAGS"
            || key == "RUSTC_WORKSPACE_WRAPPER"
        {
            command.env_remove(key.as_ref());
        }
    }
    // WebAssembly SIMD (supported by wasmtime) speeds up the byte scanning
    // that parsers do.
    command.env(
        "CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS",
        "-Ctarget-feature=+simd128",
    );
    let output = command.output().expect("run cargo to build the plugins");
    if !output.status.success() {
        panic!(
            "building the WebAssembly plugins failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
