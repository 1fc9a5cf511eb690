//! A plugin identical in shape to a real one but built against
//! `taskport:plugin@0.2.0`, which this host does not implement.

wit_bindgen::generate!({ path: "wit", world: "plugin" });

use exports::taskport::plugin::converter::{Guest, Input, Sink};
use taskport::plugin::types::{Detection, PluginInfo};

/// A converter for the contract version after ours.
pub struct FutureContract;

impl Guest for FutureContract {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "future-contract".into(),
            version: "9.0.0".into(),
            description: "Built against a newer contract (test fixture)".into(),
            formats: Vec::new(),
            options: Vec::new(),
        }
    }

    fn detect(_file_name: String, _head: Vec<u8>) -> Vec<Detection> {
        Vec::new()
    }

    fn convert(
        _format: String,
        _options: Vec<(String, String)>,
        _source_name: String,
        _input: &Input,
        _sink: &Sink,
    ) -> Result<(), String> {
        Ok(())
    }
}

export!(FutureContract);
