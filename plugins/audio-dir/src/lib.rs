//! taskport converter for folders of audio files.
//!
//! Format `audio-dir`: the host lists a local folder (recursively, hidden
//! files and folders skipped) or a cloud prefix; every file with one of the
//! extensions in [`taskport_plugin_sdk::media::AUDIO_EXTENSIONS`] becomes a
//! task `{"audio": uri}` named by its path in the folder. The rules are
//! those of [`taskport_plugin_sdk::media_dir`].

use std::io::Read;

use taskport_plugin_sdk::media::{AUDIO_EXTENSIONS, IMAGE_EXTENSIONS};
use taskport_plugin_sdk::media_dir::MediaDir;
use taskport_plugin_sdk::{Converter, Detection, Emit, Options, PluginInfo};

/// The format this plugin converts.
pub const FORMAT: &str = "audio-dir";

const DIR: MediaDir = MediaDir {
    format: FORMAT,
    title: "Folder of audio files",
    kind: "audio",
    extensions: AUDIO_EXTENSIONS,
    rival_extensions: IMAGE_EXTENSIONS,
    wins_ties: false,
};

/// The `audio-dir` converter.
pub struct AudioDir;

impl Converter for AudioDir {
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

taskport_plugin_sdk::export_converter!(AudioDir);
