//! A plugin that misbehaves in the way its `mode` option names, so the
//! integration tests can show that the host survives it:
//! `panic`, `loop`, `memory`, `stack`, `flood`, `garbage`, `endless`.

use std::hint::black_box;
use std::io::Read;

use taskport_plugin_sdk::{
    Converter, Detection, Emit, FormatInfo, Options, Origin, PluginInfo, TaskRecord, option,
};

/// The misbehaving converter.
pub struct Misbehave;

impl Converter for Misbehave {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "misbehave".into(),
            version: "0.1.0".into(),
            description: "Breaks the rules on request (test fixture)".into(),
            formats: vec![FormatInfo {
                id: "misbehave".into(),
                title: "Misbehaving test plugin".into(),
                extensions: vec![],
                media_kinds: vec![],
                directory: false,
            }],
            options: vec![],
        }
    }

    fn detect(_file_name: &str, _head: &[u8]) -> Vec<Detection> {
        Vec::new()
    }

    fn convert(
        _format: &str,
        options: &Options,
        _source_name: &str,
        _input: &mut dyn Read,
        out: &mut dyn Emit,
    ) -> Result<(), String> {
        match option(options, "mode").unwrap_or("") {
            "panic" => panic!("the misbehave plugin panicked on purpose"),
            "loop" => loop {
                black_box(0);
            },
            "memory" => {
                let mut hoard = Vec::new();
                loop {
                    hoard.push(black_box(vec![1u8; 1 << 20]));
                }
            }
            "stack" => {
                black_box(recurse(black_box(1)));
                Ok(())
            }
            "flood" => loop {
                println!("flooding the host's stdout with output it did not ask for");
            },
            "garbage" => {
                for (line, data) in ["not json", "[1, 2]", "{\"text\": \"fine\"}"]
                    .into_iter()
                    .enumerate()
                {
                    out.record(record(line as u64 + 1, data));
                }
                Ok(())
            }
            "endless" => {
                for line in 1.. {
                    // Keeps emitting, whatever the sink answers.
                    out.record(record(line, "{\"text\": \"again\"}"));
                }
                Ok(())
            }
            other => Err(format!("unknown mode {other:?}")),
        }
    }
}

fn record(line: u64, data: &str) -> TaskRecord {
    TaskRecord {
        origin: Origin {
            line: Some(line),
            index: None,
            offset: None,
        },
        name: None,
        data: data.into(),
        media_key: None,
        media_kind: None,
        annotations: None,
        predictions: None,
        meta: None,
    }
}

fn recurse(depth: u64) -> u64 {
    if black_box(depth) == 0 {
        return 0;
    }
    let frame = black_box([depth; 64]);
    recurse(depth + 1) + frame[black_box(3)]
}

taskport_plugin_sdk::export_converter!(Misbehave);
