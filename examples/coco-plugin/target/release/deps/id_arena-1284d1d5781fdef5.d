/work/main/examples/coco-plugin/target/release/deps/id_arena-1284d1d5781fdef5.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/id-arena-2.3.0/src/lib.rs

/work/main/examples/coco-plugin/target/release/deps/libid_arena-1284d1d5781fdef5.rlib: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/id-arena-2.3.0/src/lib.rs

/work/main/examples/coco-plugin/target/release/deps/libid_arena-1284d1d5781fdef5.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/id-arena-2.3.0/src/lib.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/id-arena-2.3.0/src/lib.rs:
