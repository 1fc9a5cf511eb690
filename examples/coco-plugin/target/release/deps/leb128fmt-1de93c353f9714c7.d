/work/main/examples/coco-plugin/target/release/deps/leb128fmt-1de93c353f9714c7.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/leb128fmt-0.1.0/src/lib.rs

/work/main/examples/coco-plugin/target/release/deps/libleb128fmt-1de93c353f9714c7.rlib: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/leb128fmt-0.1.0/src/lib.rs

/work/main/examples/coco-plugin/target/release/deps/libleb128fmt-1de93c353f9714c7.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/leb128fmt-0.1.0/src/lib.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/leb128fmt-0.1.0/src/lib.rs:
