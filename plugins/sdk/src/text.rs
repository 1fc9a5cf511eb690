//! Text helpers shared by the built-in converters.
//!
//! Every built-in format is UTF-8 and ignores a leading byte order mark;
//! origins count physical lines from 1 and byte offsets from the very start
//! of the input (BOM included).

use std::io::{self, Read};

/// The UTF-8 byte order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A stream whose first bytes were read ahead and are replayed.
pub type Replayed<R> = io::Chain<io::Cursor<Vec<u8>>, R>;

/// Reads the first bytes of `reader`, drops a UTF-8 BOM if there is one and
/// returns the remaining stream together with the number of bytes dropped
/// (0 or 3), so callers can keep offsets relative to the true start.
pub fn skip_bom<R: Read>(mut reader: R) -> io::Result<(Replayed<R>, u64)> {
    let mut start = Vec::with_capacity(BOM.len());
    while start.len() < BOM.len() {
        let mut byte = [0u8; 1];
        if reader.read(&mut byte)? == 0 {
            break;
        }
        start.push(byte[0]);
        if !BOM.starts_with(&start) {
            break;
        }
    }
    let skipped = if start == BOM {
        start.clear();
        BOM.len() as u64
    } else {
        0
    };
    Ok((io::Cursor::new(start).chain(reader), skipped))
}

/// Reads up to `limit` bytes from the start of `reader` and returns them with
/// a reader that yields the whole input again (the head, then the rest).
/// Used to sniff a delimiter or a shape before streaming.
pub fn peek_head<R: Read>(mut reader: R, limit: usize) -> io::Result<(Vec<u8>, Replayed<R>)> {
    let mut head = Vec::new();
    (&mut reader).take(limit as u64).read_to_end(&mut head)?;
    Ok((head.clone(), io::Cursor::new(head).chain(reader)))
}

/// The complete lines of a `detect` head as text: the BOM is dropped, the
/// last line is dropped when the head was cut in the middle of it (it is
/// `full` bytes long), invalid UTF-8 is replaced, and blank lines are
/// skipped. Line terminators (`\n`, `\r\n`) are removed.
pub fn head_lines(head: &[u8], full: bool) -> Vec<String> {
    let head = head.strip_prefix(BOM).unwrap_or(head);
    let complete = match (full, head.iter().rposition(|&b| b == b'\n')) {
        (true, Some(end)) => &head[..end],
        _ => head,
    };
    String::from_utf8_lossy(complete)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// The size of the head `detect` is given at most.
pub const DETECT_HEAD: usize = 64 * 1024;

/// The lower-case extension of a file name (without the dot), if any.
pub fn extension(file_name: &str) -> Option<String> {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let (stem, ext) = base.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty()).then(|| ext.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(reader: impl Read) -> Vec<u8> {
        let mut out = Vec::new();
        let mut reader = reader;
        reader.read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn bom_is_skipped_and_counted() {
        let (rest, skipped) = skip_bom(&b"\xEF\xBB\xBFa,b"[..]).unwrap();
        assert_eq!(skipped, 3);
        assert_eq!(all(rest), b"a,b");
    }

    #[test]
    fn input_without_bom_is_unchanged() {
        for input in [&b""[..], b"\xEF", b"\xEF\xBBx", b"abc", b"\xEFabc"] {
            let (rest, skipped) = skip_bom(input).unwrap();
            assert_eq!(skipped, 0);
            assert_eq!(all(rest), input);
        }
    }

    #[test]
    fn peeked_head_is_replayed() {
        let (head, rest) = peek_head(&b"hello world"[..], 5).unwrap();
        assert_eq!(head, b"hello");
        assert_eq!(all(rest), b"hello world");
    }

    #[test]
    fn head_lines_drop_cut_line_and_blanks() {
        let head = b"\xEF\xBB\xBFa\r\n\r\n  \nb\nc-cut";
        assert_eq!(head_lines(head, true), ["a", "b"]);
        assert_eq!(head_lines(head, false), ["a", "b", "c-cut"]);
    }

    #[test]
    fn extensions() {
        assert_eq!(extension("dir/Links.CSV").as_deref(), Some("csv"));
        assert_eq!(extension(".hidden"), None);
        assert_eq!(extension("noext"), None);
        assert_eq!(extension("a.b/c"), None);
    }
}
