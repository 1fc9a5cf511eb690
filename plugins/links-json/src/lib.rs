//! taskport converter for Supervisely "Links" JSON files.
//!
//! Format `links-json`: a top-level array whose elements are links, link
//! item objects or `{name: link}` pairs, mixed freely (see [`items`]). The
//! array is streamed element by element, never read whole. Each element
//! becomes a link task `{KEY: link}` (KEY from the link's media kind, or
//! `url`, or the `key` option); origins carry the element's 0-based index,
//! the line where it starts and its byte offset. Malformed JSON, or a
//! top level that is not an array, is fatal.

pub mod items;

use std::io::Read;

use serde_json::Value;
use taskport_plugin_sdk::detect::lower;
use taskport_plugin_sdk::diag::error;
use taskport_plugin_sdk::json::{JsonHead, sniff_head, stream_elements};
use taskport_plugin_sdk::links::{is_link_item, link_task, starts_like_link};
use taskport_plugin_sdk::text::extension;
use taskport_plugin_sdk::{
    Confidence, Converter, Detection, Emit, Options, Origin, PluginInfo, link_list_plugin,
    open_link_list,
};

use items::read_item;

/// The format this plugin converts.
pub const FORMAT: &str = "links-json";

/// The `links-json` converter.
pub struct LinksJson;

impl Converter for LinksJson {
    fn describe() -> PluginInfo {
        link_list_plugin(
            FORMAT,
            env!("CARGO_PKG_VERSION"),
            "Supervisely \"Links\" JSON: an array of links, link items or name: link pairs",
            "Links JSON (Supervisely)",
            "json",
        )
    }

    fn detect(file_name: &str, head: &[u8]) -> Vec<Detection> {
        vec![detect(file_name, head)]
    }

    fn convert(
        format: &str,
        options: &Options,
        _source_name: &str,
        input: &mut dyn Read,
        out: &mut dyn Emit,
    ) -> Result<(), String> {
        let (key, input, bom) = open_link_list(format, FORMAT, options, input)?;
        stream_elements::<Value, _>(input, bom, false, |element, at| {
            let at = Origin {
                line: Some(at.line),
                index: at.index,
                offset: Some(at.offset),
            };
            match read_item(element) {
                Ok(item) => {
                    let mut task = link_task(&item.link, item.name, key, at);
                    task.meta = item.meta;
                    out.record(task)
                }
                Err((code, message)) => out.diagnostic(error(at, code, message)),
            }
        })
    }
}

/// `.json` files holding an array whose first element is a link (a string)
/// or a link item (see [`is_link_item`]) are `links-json`. Arrays of other
/// objects are Label Studio tasks.
fn detect(file_name: &str, head: &[u8]) -> Detection {
    let (confidence, reason) = match sniff_head(head) {
        JsonHead::Array(Some(Value::String(link))) if starts_like_link(&link) => {
            (Confidence::High, "array of links")
        }
        JsonHead::Array(Some(Value::String(_))) => (Confidence::Medium, "array of strings"),
        JsonHead::Array(Some(Value::Object(item))) if is_link_item(&item) => {
            (Confidence::High, "array of link items")
        }
        JsonHead::Array(Some(_)) => (Confidence::None, "array of something else than links"),
        JsonHead::Array(None) => (Confidence::Low, "JSON array"),
        JsonHead::Object(_) | JsonHead::NotJson => (Confidence::None, "not a JSON array"),
    };
    let (confidence, reason) = match extension(file_name).as_deref() {
        Some("json") => (confidence, format!(".json, {reason}")),
        _ => (lower(confidence), reason.to_owned()),
    };
    Detection {
        format: FORMAT.into(),
        confidence,
        reason,
    }
}

taskport_plugin_sdk::export_converter!(LinksJson);
