# Common tasks. Each recipe is a plain cargo command, so `just` is optional.

# Import a bundled example and print its normalized records.
example:
    cargo run --release -- import examples/manifests/supervisely-links-two-columns.csv --no-store --out -

# Everything CI runs.
test:
    cargo test --release --workspace

# Formatting and lints, as CI expects them.
lint:
    cargo fmt --all -- --check
    cargo clippy --release --workspace --all-targets -- -D warnings

# Throughput and memory figures.
bench:
    cargo run --release -p taskport-bench
