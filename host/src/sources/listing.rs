//! A folder as the directory formats see it: one JSON line per file,
//! `{"path": "a/b.jpg", "uri": "file:///abs/a/b.jpg", "size": 123}`.
//!
//! The walk is recursive and sorted by name, and skips hidden files and
//! hidden folders. Symbolic links are followed (a linked file is listed under
//! the link's path); links that lead back to a folder being walked, and
//! links that lead nowhere, are skipped.
//! Lines are produced as the plugin reads, so huge folders stream. A cloud
//! prefix listing produces the same lines with `s3://`-style URIs.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::Serialize;
use walkdir::WalkDir;

/// Something listed one line at a time.
pub(super) trait Lines {
    /// The next line, newline included, or `None` at the end.
    fn next_line(&mut self) -> io::Result<Option<Vec<u8>>>;
}

/// A listing read as one stream of bytes, a line produced whenever the
/// reader needs more.
pub(super) struct LinesReader<L> {
    lines: L,
    pending: Vec<u8>,
    consumed: usize,
}

impl<L: Lines> LinesReader<L> {
    pub(super) fn new(lines: L) -> Self {
        LinesReader {
            lines,
            pending: Vec::new(),
            consumed: 0,
        }
    }
}

impl<L: Lines> Read for LinesReader<L> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.consumed == self.pending.len() {
            match self.lines.next_line()? {
                Some(line) => {
                    self.pending = line;
                    self.consumed = 0;
                }
                None => return Ok(0),
            }
        }
        let available = &self.pending[self.consumed..];
        let count = available.len().min(buf.len());
        buf[..count].copy_from_slice(&available[..count]);
        self.consumed += count;
        Ok(count)
    }
}

/// One listing line: `{"path": …, "uri": …, "size": …}` and a newline.
pub(super) fn entry_line(path: &str, uri: &str, size: u64) -> io::Result<Vec<u8>> {
    #[derive(Serialize)]
    struct Entry<'a> {
        path: &'a str,
        uri: &'a str,
        size: u64,
    }
    let mut line = serde_json::to_vec(&Entry { path, uri, size }).map_err(io::Error::other)?;
    line.push(b'\n');
    Ok(line)
}

/// The files of a local folder, walked in name order.
pub(super) struct FolderWalk {
    root: PathBuf,
    walk: walkdir::IntoIter,
}

impl FolderWalk {
    /// Starts walking `folder`.
    pub(super) fn new(folder: &Path) -> io::Result<Self> {
        let root = folder.canonicalize()?;
        let walk = WalkDir::new(&root)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter();
        Ok(Self { root, walk })
    }
}

impl Lines for FolderWalk {
    fn next_line(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            let Some(entry) = self.walk.next() else {
                return Ok(None);
            };
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) if is_bad_link(&error) => continue,
                Err(error) => return Err(io::Error::other(error)),
            };
            let hidden = entry.depth() > 0 && entry.file_name().to_string_lossy().starts_with('.');
            if hidden {
                if entry.file_type().is_dir() {
                    self.walk.skip_current_dir();
                }
                continue;
            }
            if !entry.file_type().is_file() {
                continue;
            }
            let relative = entry
                .path()
                .strip_prefix(&self.root)
                .unwrap_or(entry.path());
            let path = relative
                .components()
                .map(|part| part.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            let uri = url::Url::from_file_path(entry.path())
                .map_err(|()| io::Error::other("path cannot be a file:// URI"))?;
            let size = entry.metadata().map_err(io::Error::other)?.len();
            return entry_line(&path, uri.as_str(), size).map(Some);
        }
    }
}

/// A link loop, or a link whose target is missing or itself a loop.
fn is_bad_link(error: &walkdir::Error) -> bool {
    error.loop_ancestor().is_some() || error.path().is_some_and(Path::is_symlink)
}
