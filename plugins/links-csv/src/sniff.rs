//! Delimiter sniffing.
//!
//! Each of the first non-blank lines votes: a line with a link votes for the
//! delimiter just before the link (`name;s3://...` votes `;`); a line without
//! one votes for the delimiter it holds more of outside quotes (a header such
//! as `item_name;item_link`). A line that is a bare link does not vote, so
//! commas inside unquoted URLs do not count. `;` wins only with more votes.

use taskport_plugin_sdk::links::starts_like_link;

/// Lines looked at.
const SNIFF_LINES: usize = 20;

/// Picks `,` or `;` from the first lines of the file.
pub fn sniff_delimiter<'a>(lines: impl IntoIterator<Item = &'a str>) -> u8 {
    let mut votes = [0usize; 2];
    for line in lines
        .into_iter()
        .filter(|line| !line.trim().is_empty())
        .take(SNIFF_LINES)
    {
        if let Some(delimiter) = vote(line) {
            votes[usize::from(delimiter == b';')] += 1;
        }
    }
    if votes[1] > votes[0] { b';' } else { b',' }
}

/// The delimiter one line votes for, if any.
fn vote(line: &str) -> Option<u8> {
    let mut counts = [0usize; 2];
    let mut quoted = false;
    for (at, byte) in line.bytes().enumerate() {
        match byte {
            b'"' => quoted = !quoted,
            _ if quoted => {}
            b',' | b';' => {
                let rest = line[at + 1..].trim_start().trim_start_matches('"');
                if starts_like_link(rest) {
                    return Some(byte);
                }
                counts[usize::from(byte == b';')] += 1;
            }
            _ => {}
        }
    }
    let bare_link = starts_like_link(line.trim_start().trim_start_matches('"'));
    match counts {
        _ if bare_link => None,
        [0, 0] => None,
        [commas, semicolons] => Some(if semicolons > commas { b';' } else { b',' }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sniff(text: &str) -> char {
        char::from(sniff_delimiter(text.lines()))
    }

    #[test]
    fn delimiters() {
        assert_eq!(sniff("a.jpg,s3://b/a.jpg\nb.jpg,s3://b/b.jpg"), ',');
        assert_eq!(sniff("a.jpg;s3://b/a.jpg\n\nb.jpg;s3://b/b.jpg"), ';');
        assert_eq!(sniff("s3://b/a.jpg\ns3://b/b.jpg"), ',');
        assert_eq!(sniff("https://h/a,b;c.jpg\nhttps://h/d,e.jpg"), ',');
        assert_eq!(sniff("my, name;https://h/a,b.jpg"), ';');
        assert_eq!(sniff("item_name;item_link\n"), ';');
        assert_eq!(sniff("\"a;b\",s3://b/k"), ',');
        assert_eq!(sniff("\"a,b\";\"s3://b/k\""), ';');
        assert_eq!(sniff(""), ',');
    }
}
