//! taskport: import annotation-task manifests through sandboxed WebAssembly
//! converter plugins into a task store.
//!
//! The pipeline: a [`sources::Source`] is opened; [`detect`] picks a format
//! unless one is given; the [`catalog`] supplies the plugin, which the
//! [`runtime`] runs in a sandbox; every record it returns is validated and
//! normalized by [`records`] (and its linked cloud [`objects`] verified or
//! presigned when asked); [`importer`] applies the error policy and writes
//! to the [`store`] in one transaction. [`cli`] is the command line.

pub mod catalog;
pub mod cli;
pub mod contract;
pub mod detect;
pub mod importer;
pub mod objects;
pub mod records;
pub mod runtime;
pub mod sources;
pub mod store;
