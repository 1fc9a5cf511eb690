//! What one line of a TXT manifest is.
//!
//! A line is a link task when it is a bare link, or `name<delim>link` with
//! the delimiter `,`, `;` or a tab (the first delimiter after which the rest
//! of the line is a link separates the name). In a TXT file a link has no
//! whitespace in it, so prose that merely starts with `/` or mentions a URL
//! stays text. Every other line is a text task.

use taskport_plugin_sdk::links::check_link;

/// What a line holds.
#[derive(Debug, PartialEq)]
pub enum Line<'a> {
    /// A link, with an explicit name when the line gives one.
    Link {
        /// Non-empty name before the delimiter.
        name: Option<&'a str>,
        /// The link.
        link: &'a str,
    },
    /// Text to annotate, as written.
    Text(&'a str),
}

fn is_link(text: &str) -> bool {
    !text.contains(char::is_whitespace) && check_link(text).is_ok()
}

/// Classifies one non-blank, non-comment line (without its line end).
pub fn classify(line: &str) -> Line<'_> {
    let trimmed = line.trim();
    if is_link(trimmed) {
        return Line::Link {
            name: None,
            link: trimmed,
        };
    }
    for (at, _) in line.match_indices([',', ';', '\t']) {
        let link = line[at + 1..].trim();
        if is_link(link) {
            let name = line[..at].trim();
            return Line::Link {
                name: (!name.is_empty()).then_some(name),
                link,
            };
        }
    }
    Line::Text(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link<'a>(name: Option<&'a str>, link: &'a str) -> Line<'a> {
        Line::Link { name, link }
    }

    #[test]
    fn lines() {
        assert_eq!(classify(" s3://b/a.jpg "), link(None, "s3://b/a.jpg"));
        assert_eq!(
            classify("https://h/a,b.jpg"),
            link(None, "https://h/a,b.jpg")
        );
        assert_eq!(
            classify("a.jpg,s3://b/a.jpg"),
            link(Some("a.jpg"), "s3://b/a.jpg")
        );
        assert_eq!(
            classify("a, b;s3://b/a.jpg"),
            link(Some("a, b"), "s3://b/a.jpg")
        );
        assert_eq!(
            classify("a.jpg\t/data/a.jpg"),
            link(Some("a.jpg"), "/data/a.jpg")
        );
        assert_eq!(classify(";s3://b/a.jpg"), link(None, "s3://b/a.jpg"));
        assert_eq!(
            classify("this is a first task"),
            Line::Text("this is a first task")
        );
        assert_eq!(classify("/r/rust is nice"), Line::Text("/r/rust is nice"));
        assert_eq!(
            classify("see, https://h.com/a b"),
            Line::Text("see, https://h.com/a b")
        );
        assert_eq!(classify("a.jpg,b.jpg"), Line::Text("a.jpg,b.jpg"));
    }
}
