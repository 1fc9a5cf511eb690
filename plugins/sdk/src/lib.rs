//! Rust SDK for taskport converter plugins.
//!
//! A plugin implements [`Converter`] and calls [`export_converter!`]. The
//! conversion code only sees a [`std::io::Read`] and an [`Emit`], so it is
//! ordinary streaming Rust that also compiles and runs natively (the
//! converters' unit tests and taskport's WebAssembly-overhead benchmark rely
//! on that; [`convert_bytes`] runs a converter over bytes in memory).
//!
//! Shared building blocks of the built-in converters: [`text`] (BOM, line
//! heads, extensions), [`csv`] (streaming CSV records with exact line and
//! byte origins), [`json`] (streaming the elements of a top-level JSON
//! array), [`links`] (what a link is, link tasks), [`media`] (media kinds by
//! extension), [`media_dir`] (folder formats), [`diag`] and [`detect`]
//! (diagnostics and detection answers), [`testing`] (one-line renderings for
//! assertions).

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "plugin",
        pub_export_macro: true,
        export_macro_name: "export_plugin_bindings",
        default_bindings_module: "taskport_plugin_sdk::bindings",
    });
}

pub mod csv;
pub mod detect;
pub mod diag;
pub mod emit;
pub mod input;
pub mod json;
pub mod links;
pub mod media;
pub mod media_dir;
pub mod testing;
pub mod text;

#[doc(hidden)]
pub use bindings::export_plugin_bindings;
#[doc(hidden)]
pub use bindings::exports::taskport::plugin::converter::{Guest, Input, Sink};
pub use bindings::taskport::plugin::types::{
    Confidence, Detection, Diagnostic, Flow, FormatInfo, OptionInfo, Origin, PluginInfo, Severity,
    TaskRecord,
};
pub use emit::{Collector, Emit, SinkEmitter};
pub use input::InputReader;

/// Options given with `--opt key=value`, in order.
pub type Options = [(String, String)];

/// Looks up an option by name.
pub fn option<'a>(options: &'a Options, name: &str) -> Option<&'a str> {
    options
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Runs a converter natively over in-memory bytes and collects what it
/// emits, together with its result (for tests and benchmarks).
pub fn convert_bytes<C: Converter>(
    format: &str,
    options: &[(&str, &str)],
    bytes: &[u8],
) -> (Collector, Result<(), String>) {
    let options: Vec<(String, String)> = options
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect();
    let mut collector = Collector::default();
    let mut input = bytes;
    let result = C::convert(format, &options, "test", &mut input, &mut collector);
    (collector, result)
}

/// The data key a link converter uses: the `key` option when given (it must
/// not be empty), else `None` (the link's media kind decides).
pub fn key_option(options: &Options) -> Result<Option<&str>, String> {
    match option(options, links::KEY_OPTION) {
        Some("") => Err("option `key` must not be empty".into()),
        key => Ok(key),
    }
}

/// What every link-list converter does first: checks that `format` is
/// `expected`, reads the `key` option and skips a byte-order mark. Returns
/// the key, the input from its first character, and the bytes skipped.
pub fn open_link_list<'a, R: std::io::Read>(
    format: &str,
    expected: &str,
    options: &'a Options,
    input: R,
) -> Result<(Option<&'a str>, text::Replayed<R>, u64), String> {
    if format != expected {
        return Err(format!("unknown format `{format}`"));
    }
    let key = key_option(options)?;
    let (input, bom) = text::skip_bom(input).map_err(|e| format!("cannot read input: {e}"))?;
    Ok((key, input, bom))
}

/// The description of the `key` option shared by the link converters.
pub fn key_option_info() -> OptionInfo {
    OptionInfo {
        name: links::KEY_OPTION.into(),
        description: "Data key for the link (default: the link's media kind, \
                      e.g. `image`, or `url`)"
            .into(),
        default_value: None,
    }
}

/// What a link converter with a single file format says of itself: plugin
/// and format share the name `format`, tasks may be of any media kind, and
/// the `key` option is accepted.
pub fn link_list_plugin(
    format: &str,
    version: &str,
    description: &str,
    title: &str,
    extension: &str,
) -> PluginInfo {
    PluginInfo {
        name: format.into(),
        version: version.into(),
        description: description.into(),
        formats: vec![FormatInfo {
            id: format.into(),
            title: title.into(),
            extensions: vec![extension.into()],
            media_kinds: media::MEDIA_KINDS
                .iter()
                .map(|kind| (*kind).into())
                .collect(),
            directory: false,
        }],
        options: vec![key_option_info()],
    }
}

/// A task whose only content is `data` (JSON object text).
pub fn data_task(data: String, origin: Origin) -> TaskRecord {
    TaskRecord {
        origin,
        name: None,
        data,
        media_key: None,
        media_kind: None,
        annotations: None,
        predictions: None,
        meta: None,
    }
}

/// What a converter plugin implements.
pub trait Converter {
    /// Name, version, formats and options.
    fn describe() -> PluginInfo;
    /// How likely each of this plugin's formats is for a file.
    fn detect(file_name: &str, head: &[u8]) -> Vec<Detection>;
    /// Streams `input` into `out`. `Err` is a fatal error: the input is not
    /// in this format at all.
    fn convert(
        format: &str,
        options: &Options,
        source_name: &str,
        input: &mut dyn std::io::Read,
        out: &mut dyn Emit,
    ) -> Result<(), String>;
}

/// Exports a [`Converter`] implementation as the component's `converter`.
///
/// The exports exist only when compiling for WebAssembly: the component's
/// export names (`taskport:plugin/converter@0.1.0#convert`) are not valid
/// symbol names for a native shared library, and native builds (unit tests,
/// benchmarks) call the [`Converter`] directly.
#[macro_export]
macro_rules! export_converter {
    ($converter:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct TaskportPluginGlue;

            impl $crate::Guest for TaskportPluginGlue {
                fn describe() -> $crate::PluginInfo {
                    <$converter as $crate::Converter>::describe()
                }

                fn detect(file_name: String, head: Vec<u8>) -> Vec<$crate::Detection> {
                    <$converter as $crate::Converter>::detect(&file_name, &head)
                }

                fn convert(
                    format: String,
                    options: Vec<(String, String)>,
                    source_name: String,
                    input: &$crate::Input,
                    sink: &$crate::Sink,
                ) -> Result<(), String> {
                    let mut reader = $crate::InputReader::new(input);
                    let mut emitter = $crate::SinkEmitter::new(sink);
                    <$converter as $crate::Converter>::convert(
                        &format,
                        &options,
                        &source_name,
                        &mut reader,
                        &mut emitter,
                    )?;
                    emitter.finish();
                    Ok(())
                }
            }

    $crate::export_plugin_bindings!(TaskportPluginGlue with_types_in $crate::bindings);
        };
    };
}
