//! Where manifests come from: a local file, standard input, a local folder
//! (turned into a listing for the directory formats), or an object store
//! or web URL (see [`remote`]).

pub mod credentials;
mod listing;
pub mod remote;
pub mod stores;

use std::fs::File;
use std::io::{self, Cursor, Read};
use std::path::{Path, PathBuf};

pub use credentials::CloudSettings;
use listing::{FolderWalk, LinesReader};
pub use remote::RemoteSource;

/// Bytes of a source's start that detection looks at.
pub const HEAD_BYTES: usize = 64 * 1024;

/// Why a source could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {name}: {reason}")]
pub struct SourceError {
    pub name: String,
    pub reason: String,
}

/// An input named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A local manifest file.
    File(PathBuf),
    /// `-`: standard input.
    Stdin,
    /// A local folder of media files.
    Directory(PathBuf),
    /// An object, or a prefix of objects, in an object store or on the web.
    Remote(RemoteSource),
}

/// A source opened for conversion.
pub struct OpenSource {
    /// The name detection sees: the file or folder name.
    pub file_name: String,
    /// The first bytes, at most [`HEAD_BYTES`].
    pub head: Vec<u8>,
    /// All the bytes, from the start (the head included).
    pub reader: Box<dyn Read + Send>,
    /// Total size when known, for progress.
    pub size: Option<u64>,
}

impl Source {
    /// Interprets a command-line argument.
    pub fn parse(argument: &str) -> Result<Self, SourceError> {
        if argument == "-" {
            return Ok(Source::Stdin);
        }
        if is_url(argument) {
            return RemoteSource::parse(argument)
                .map(Source::Remote)
                .map_err(|e| SourceError {
                    name: argument.to_string(),
                    reason: e.to_string(),
                });
        }
        let path = PathBuf::from(argument);
        Ok(if path.is_dir() {
            Source::Directory(path)
        } else {
            Source::File(path)
        })
    }

    /// The source as the user named it, for messages and origins.
    pub fn display_name(&self) -> String {
        match self {
            Source::File(path) | Source::Directory(path) => path.display().to_string(),
            Source::Stdin => "-".into(),
            Source::Remote(remote) => remote.written.clone(),
        }
    }

    /// Whether the source is a folder or a prefix (fed to directory formats
    /// only).
    pub fn is_directory(&self) -> bool {
        match self {
            Source::Directory(_) => true,
            Source::Remote(remote) => remote.is_prefix,
            Source::File(_) | Source::Stdin => false,
        }
    }

    /// Opens the source and reads its head; `cloud` adds to the
    /// environment's settings for object stores.
    pub fn open(&self, cloud: &CloudSettings) -> Result<OpenSource, SourceError> {
        let error = |reason: io::Error| SourceError {
            name: self.display_name(),
            reason: describe_io_error(&reason),
        };
        let (file_name, reader, size): (String, Box<dyn Read + Send>, Option<u64>) = match self {
            Source::File(path) => {
                let file = File::open(path).map_err(error)?;
                let size = file.metadata().ok().map(|metadata| metadata.len());
                (file_name_of(path), Box::new(file), size)
            }
            Source::Stdin => ("-".into(), Box::new(io::stdin()), None),
            Source::Directory(path) => {
                let walk = FolderWalk::new(path).map_err(error)?;
                (file_name_of(path), Box::new(LinesReader::new(walk)), None)
            }
            Source::Remote(remote) => {
                let (reader, size) = remote.open(cloud).map_err(|e| SourceError {
                    name: self.display_name(),
                    reason: e.to_string(),
                })?;
                (remote.file_name(), reader, size)
            }
        };
        let (head, reader) = read_head(reader).map_err(error)?;
        Ok(OpenSource {
            file_name,
            head,
            reader,
            size,
        })
    }
}

/// Reads up to [`HEAD_BYTES`] and returns them with a reader that yields
/// the whole stream again, head first.
fn read_head(mut reader: Box<dyn Read + Send>) -> io::Result<(Vec<u8>, Box<dyn Read + Send>)> {
    let mut head = Vec::with_capacity(HEAD_BYTES);
    (&mut reader)
        .take(HEAD_BYTES as u64)
        .read_to_end(&mut head)?;
    let replay = Cursor::new(head.clone()).chain(reader);
    Ok((head, Box::new(replay)))
}

/// `s3://…`, `https://…` and the like.
fn is_url(text: &str) -> bool {
    text.split_once("://").is_some_and(|(scheme, _)| {
        !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

fn file_name_of(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// `no such file`, `permission denied`, ... without Rust's `(os error 2)`.
fn describe_io_error(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::NotFound => "no such file or folder".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        io::ErrorKind::IsADirectory => "it is a folder".into(),
        _ => {
            let text = error.to_string();
            match text.find(" (os error") {
                Some(cut) => text[..cut].to_string(),
                None => text,
            }
        }
    }
}
