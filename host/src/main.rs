//! The `taskport` binary: see `taskport --help`.

fn main() -> std::process::ExitCode {
    taskport::cli::main()
}
