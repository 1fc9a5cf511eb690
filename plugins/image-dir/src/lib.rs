//! taskport converter for folders of image files.
//!
//! Format `image-dir`: the host lists a local folder (recursively, hidden
//! files and folders skipped) or a cloud prefix; every file with one of the
//! extensions in [`taskport_plugin_sdk::media::IMAGE_EXTENSIONS`] becomes a
//! task `{"image": uri}` named by its path in the folder. The rules are
//! those of [`taskport_plugin_sdk::media_dir`].

use std::io::Read;

use taskport_plugin_sdk::media::{AUDIO_EXTENSIONS, IMAGE_EXTENSIONS};
use taskport_plugin_sdk::media_dir::MediaDir;
use taskport_plugin_sdk::{Converter, Detection, Emit, Options, PluginInfo};

/// The format this plugin converts.
pub const FORMAT: &str = "image-dir";

const DIR: MediaDir = MediaDir {
    format: FORMAT,
    title: "Folder of images",
    kind: "image",
    extensions: IMAGE_EXTENSIONS,
    rival_extensions: AUDIO_EXTENSIONS,
    wins_ties: true,
};

/// The `image-dir` converter.
pub struct ImageDir;

impl Converter for ImageDir {
    fn describe() -> PluginInfo {
        DIR.describe()
    }

    fn detect(_folder_name: &str, head: &[u8]) -> Vec<Detection> {
        DIR.detect(head)
    }

    fn convert(
        format: &str,
        options: &Options,
        _source_name: &str,
        input: &mut dyn Read,
        out: &mut dyn Emit,
    ) -> Result<(), String> {
        DIR.convert(format, options, input, out)
    }
}

taskport_plugin_sdk::export_converter!(ImageDir);
