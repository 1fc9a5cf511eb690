//! Making untrusted plugin text safe to store and print.

use std::borrow::Cow;

/// Longest diagnostic message kept, in characters.
pub const MAX_MESSAGE_CHARS: usize = 500;

/// Longest diagnostic code kept, in characters.
pub const MAX_CODE_CHARS: usize = 64;

/// Text safe for a terminal and a log line: terminal escape sequences and
/// control characters removed (line breaks and tabs become spaces), and
/// bidirectional-override characters removed.
pub fn text(raw: &str) -> String {
    safe_text(raw).into_owned()
}

/// [`text`], borrowing `raw` when it has nothing to remove or replace.
pub fn safe_text(raw: &str) -> Cow<'_, str> {
    if !raw.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                Some('[') => skip_csi(&mut chars),
                Some(']') => skip_osc(&mut chars),
                _ => {}
            },
            '\u{9b}' => skip_csi(&mut chars),
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() || is_bidi_control(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A diagnostic message: [`text`], trimmed, and cut to
/// [`MAX_MESSAGE_CHARS`] characters with a trailing `…`.
pub fn message(raw: &str) -> String {
    let safe = text(raw);
    let trimmed = safe.trim();
    if trimmed.chars().count() <= MAX_MESSAGE_CHARS {
        return trimmed.to_owned();
    }
    let mut cut: String = trimmed.chars().take(MAX_MESSAGE_CHARS).collect();
    cut.push('…');
    cut
}

/// A stable diagnostic code: ASCII lowercase letters, digits and `-`
/// (anything else becomes `-`), at most [`MAX_CODE_CHARS`]; `plugin-error`
/// when nothing usable is left.
pub fn code(raw: &str) -> String {
    let code: String = raw
        .trim()
        .chars()
        .take(MAX_CODE_CHARS)
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '-',
        })
        .collect();
    let code = code.trim_matches('-');
    if code.is_empty() {
        "plugin-error".to_owned()
    } else {
        code.to_owned()
    }
}

/// Control Sequence: parameters and intermediates up to a final byte.
fn skip_csi(chars: &mut impl Iterator<Item = char>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            break;
        }
    }
}

/// Operating System Command: up to BEL or the string terminator `ESC \`.
fn skip_osc(chars: &mut std::iter::Peekable<impl Iterator<Item = char>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => break,
            '\u{1b}' => {
                chars.next_if_eq(&'\\');
                break;
            }
            _ => {}
        }
    }
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_escapes_and_controls() {
        assert_eq!(message("\u{1b}[31mred\u{1b}[0m text"), "red text");
        assert_eq!(message("a\u{1b}]0;title\u{7}b"), "ab");
        assert_eq!(message("a\u{1b}]8;;http://x\u{1b}\\link"), "alink");
        assert_eq!(
            message("line1\nline2\r\tend\u{0}\u{7f}"),
            "line1 line2  end"
        );
        assert_eq!(message("\u{9b}2Jcleared"), "cleared");
        assert_eq!(message("abc\u{202e}def"), "abcdef");
        assert_eq!(message("  café ✓  "), "café ✓");
        assert_eq!(message("dangling\u{1b}"), "dangling");
    }

    #[test]
    fn safe_text_borrows_clean_text() {
        for clean in ["", "item42.jpg", "  café ✓ ", "a\u{a0}b", "😀"] {
            assert!(matches!(safe_text(clean), Cow::Borrowed(s) if s == clean));
        }
        for (raw, cleaned) in [
            ("a\tb", "a b"),
            ("a\u{7f}b", "ab"),
            ("a\u{85}b", "ab"),
            ("a\u{2066}b", "ab"),
            ("\u{1b}[1mbold", "bold"),
        ] {
            assert!(matches!(safe_text(raw), Cow::Owned(s) if s == cleaned));
            assert_eq!(text(raw), cleaned);
        }
    }

    #[test]
    fn caps_length() {
        let long = "é".repeat(2000);
        let msg = message(&long);
        assert_eq!(msg.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(msg.ends_with('…'));
        assert_eq!(
            message(&"x".repeat(MAX_MESSAGE_CHARS)).len(),
            MAX_MESSAGE_CHARS
        );
    }

    #[test]
    fn codes() {
        assert_eq!(code("bad-link"), "bad-link");
        assert_eq!(code(" Bad_JSON "), "bad-json");
        assert_eq!(code("\u{1b}[31m"), "31m");
        assert_eq!(code(""), "plugin-error");
        assert_eq!(code("---"), "plugin-error");
        assert_eq!(code(&"a".repeat(1000)).len(), MAX_CODE_CHARS);
    }
}
