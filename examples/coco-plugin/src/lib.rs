//! An example taskport converter plugin: COCO object-detection JSON to
//! Label Studio tasks with predictions.
//!
//! One task per entry of `images`; every annotation of that image becomes a
//! `rectanglelabels` region of the task's single prediction, with the pixel
//! `bbox` turned into percentages of the image size.
//!
//! COCO spreads an image's data over three arrays (`images`, `annotations`,
//! `categories`) that must be joined, so unlike the streaming built-in
//! converters this plugin reads the whole document into memory before it
//! emits anything. The host's memory limit (`--max-memory`) bounds how large
//! a document it can take.

mod coco;
mod convert;
mod detect;
mod input;

wit_bindgen::generate!({
    path: "../../wit",
    world: "plugin",
});

use exports::taskport::plugin::converter::{Guest, Input, Sink};
use taskport::plugin::types::{
    Detection, Diagnostic, Flow, FormatInfo, OptionInfo, PluginInfo, TaskRecord,
};

/// The format id this plugin converts.
const FORMAT: &str = "coco";
/// Records (and diagnostics) handed to the sink per `emit` call.
const BATCH: usize = 200;

/// The plugin: the type the generated `Guest` trait is implemented for.
struct CocoPlugin;

impl Guest for CocoPlugin {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "coco".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "COCO object detection JSON to Label Studio tasks with \
                          rectanglelabels predictions"
                .into(),
            formats: vec![FormatInfo {
                id: FORMAT.into(),
                title: "COCO object detection JSON".into(),
                extensions: vec!["json".into()],
                media_kinds: vec!["image".into()],
                directory: false,
            }],
            options: vec![
                option(
                    convert::IMAGE_ROOT,
                    "URL prefix joined with each image's `file_name` to form its link; \
                     without it the link is `file_name` as given",
                    None,
                ),
                option(
                    convert::FROM_NAME,
                    "`from_name` of the regions: the RectangleLabels tag's name",
                    Some(convert::DEFAULT_FROM_NAME),
                ),
                option(
                    convert::TO_NAME,
                    "`to_name` of the regions: the Image tag's name",
                    Some(convert::DEFAULT_TO_NAME),
                ),
            ],
        }
    }

    fn detect(_file_name: String, head: Vec<u8>) -> Vec<Detection> {
        let (confidence, reason) = detect::detect(&head);
        vec![Detection {
            format: FORMAT.into(),
            confidence,
            reason: reason.into(),
        }]
    }

    fn convert(
        format: String,
        options: Vec<(String, String)>,
        _source_name: String,
        input: &Input,
        sink: &Sink,
    ) -> Result<(), String> {
        if format != FORMAT {
            return Err(format!("unknown format `{format}`"));
        }
        let settings = convert::Settings::from_options(&options)?;
        let document = coco::read_document(input::InputReader::new(input))?;
        let (records, diagnostics) = convert::convert_document(&document, &settings);
        emit_in_batches(sink, records, diagnostics);
        Ok(())
    }
}

fn option(name: &str, description: &str, default: Option<&str>) -> OptionInfo {
    OptionInfo {
        name: name.into(),
        description: description.into(),
        default_value: default.map(Into::into),
    }
}

/// Hands records and diagnostics to the host a batch at a time, stopping as
/// soon as the sink answers [`Flow::Stop`].
fn emit_in_batches(sink: &Sink, records: Vec<TaskRecord>, diagnostics: Vec<Diagnostic>) {
    let mut records = records.into_iter();
    let mut diagnostics = diagnostics.into_iter();
    loop {
        let record_batch: Vec<TaskRecord> = records.by_ref().take(BATCH).collect();
        let diagnostic_batch: Vec<Diagnostic> = diagnostics.by_ref().take(BATCH).collect();
        if record_batch.is_empty() && diagnostic_batch.is_empty() {
            return;
        }
        if sink.emit(&record_batch, &diagnostic_batch) == Flow::Stop {
            return;
        }
    }
}

// The component's export names (`taskport:plugin/converter@0.1.0#convert`)
// only exist in the WebAssembly build; native builds run the unit tests.
#[cfg(target_arch = "wasm32")]
export!(CocoPlugin);
