//! The `taskport` binary: see `taskport --help`.

/// Imports allocate and free millions of small values, often on another
/// thread than the one that allocated them; mimalloc handles both far
/// better than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    taskport::cli::main()
}
