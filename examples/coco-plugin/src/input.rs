//! `std::io::Read` over the host's `input` resource.

use std::io;

use crate::Input;

/// Bytes asked of the host per `read` call.
const CHUNK: u32 = 64 * 1024;

/// Pulls the manifest from the host a chunk at a time.
pub struct InputReader<'a> {
    input: &'a Input,
    chunk: Vec<u8>,
    consumed: usize,
    at_end: bool,
}

impl<'a> InputReader<'a> {
    /// Wraps the host's input.
    pub fn new(input: &'a Input) -> Self {
        Self {
            input,
            chunk: Vec::new(),
            consumed: 0,
            at_end: false,
        }
    }
}

impl io::Read for InputReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.consumed == self.chunk.len() {
            if self.at_end || buf.is_empty() {
                return Ok(0);
            }
            // An empty list from the host means the end of the input.
            self.chunk = self.input.read(CHUNK).map_err(io::Error::other)?;
            self.consumed = 0;
            if self.chunk.is_empty() {
                self.at_end = true;
                return Ok(0);
            }
        }
        let available = &self.chunk[self.consumed..];
        let count = available.len().min(buf.len());
        buf[..count].copy_from_slice(&available[..count]);
        self.consumed += count;
        Ok(count)
    }
}
