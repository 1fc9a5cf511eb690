//! Turning CSV rows into links.
//!
//! Without a header a row is `item_link` or `item_name,item_link`. A header
//! row is recognised when none of its cells is a link and one of them names
//! the link column (`item_link`, `link`, `url` or `path`); the name column is
//! `item_name`, `name` or `title`, and every other named column goes into
//! `meta` as a string (unnamed columns are dropped).
//!
//! Links may hold the delimiter unquoted. With a header, a row with more
//! fields than the header whose link field starts like a link gives the
//! surplus fields to the link. Without a header, a row whose first field
//! starts like a link (and whose second does not) is a one-column row and all
//! of it is the link; a row whose second field starts like a link is a name
//! and a link made of the rest of the row.

use taskport_plugin_sdk::links::{LINK_COLUMNS, NAME_COLUMNS, check_link, starts_like_link};

/// How the columns of a file map to name, link and meta.
#[derive(Debug, PartialEq)]
pub enum Layout {
    /// No header: one or two columns.
    Plain,
    /// Columns matched by a header row.
    Header(Header),
}

/// The columns a header row names.
#[derive(Debug, PartialEq)]
pub struct Header {
    width: usize,
    link: usize,
    name: Option<usize>,
    meta: Vec<(usize, String)>,
}

impl Header {
    /// Recognises a header row, or `None` when `cells` are data.
    pub fn recognise(cells: &[&str]) -> Option<Header> {
        if cells.iter().any(|cell| starts_like_link(cell)) {
            return None;
        }
        let words: Vec<String> = cells
            .iter()
            .map(|cell| cell.trim().to_ascii_lowercase())
            .collect();
        let column = |choices: &[&str]| {
            choices
                .iter()
                .find_map(|choice| words.iter().position(|word| word == choice))
        };
        let link = column(LINK_COLUMNS)?;
        let name = column(NAME_COLUMNS);
        let meta = cells
            .iter()
            .enumerate()
            .filter(|&(at, cell)| at != link && Some(at) != name && !cell.trim().is_empty())
            .map(|(at, cell)| (at, cell.trim().to_owned()))
            .collect();
        Some(Header {
            width: cells.len(),
            link,
            name,
            meta,
        })
    }

    /// True when every cell is one of the header words (no meta columns).
    pub fn is_plain(&self) -> bool {
        self.meta.is_empty() && self.width == 1 + usize::from(self.name.is_some())
    }
}

/// What one data row holds.
#[derive(Debug, PartialEq)]
pub struct Item {
    /// Explicit name (non-empty).
    pub name: Option<String>,
    /// The link, checked.
    pub link: String,
    /// Meta columns named by the header, cells as written.
    pub meta: Vec<(String, String)>,
}

/// Why a row gives no task: a diagnostic code and a message.
pub type RowError = (&'static str, String);

/// Reads one data row.
pub fn read_row(layout: &Layout, fields: &[&str], delimiter: u8) -> Result<Item, RowError> {
    let joined = |range: &[&str]| match range {
        [single] => (*single).to_owned(),
        _ => range.join(char::from(delimiter).encode_utf8(&mut [0; 4])),
    };
    let (name, link, meta) = match layout {
        Layout::Plain => plain_row(fields, joined)?,
        Layout::Header(header) => header_row(header, fields, joined)?,
    };
    let mut link = link;
    if link.trim().len() != link.len() {
        link = link.trim().to_owned();
    }
    check_link(&link).map_err(|message| ("bad-link", message))?;
    let name = name
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned);
    Ok(Item { name, link, meta })
}

type Parts<'a> = (Option<&'a str>, String, Vec<(String, String)>);

fn plain_row<'a>(
    fields: &[&'a str],
    joined: impl Fn(&[&str]) -> String,
) -> Result<Parts<'a>, RowError> {
    let link_like = |at: usize| fields.get(at).is_some_and(|field| starts_like_link(field));
    match fields {
        [link] => Ok((None, (*link).to_owned(), Vec::new())),
        _ if link_like(0) && !link_like(1) => Ok((None, joined(fields), Vec::new())),
        [name, link] => Ok((Some(*name), (*link).to_owned(), Vec::new())),
        [name, rest @ ..] if link_like(1) => Ok((Some(*name), joined(rest), Vec::new())),
        _ => Err((
            "field-count",
            format!(
                "row has {} fields; expected `item_link` or `item_name,item_link`",
                fields.len()
            ),
        )),
    }
}

fn header_row<'a>(
    header: &Header,
    fields: &[&'a str],
    joined: impl Fn(&[&str]) -> String,
) -> Result<Parts<'a>, RowError> {
    let surplus = fields.len().saturating_sub(header.width);
    let spans_link = surplus > 0 && fields.get(header.link).is_some_and(|f| starts_like_link(f));
    if fields.len() < header.width || (surplus > 0 && !spans_link) {
        return Err((
            "field-count",
            format!(
                "row has {} fields, the header has {}",
                fields.len(),
                header.width
            ),
        ));
    }
    let field = |at: usize| fields[if at > header.link { at + surplus } else { at }];
    let link = joined(&fields[header.link..=header.link + surplus]);
    let meta = header
        .meta
        .iter()
        .map(|(at, key)| (key.clone(), field(*at).to_owned()))
        .collect();
    Ok((header.name.map(field), link, meta))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(name: Option<&str>, link: &str) -> Item {
        Item {
            name: name.map(str::to_owned),
            link: link.to_owned(),
            meta: Vec::new(),
        }
    }

    #[test]
    fn plain_rows() {
        let plain = |fields: &[&str]| read_row(&Layout::Plain, fields, b',');
        assert_eq!(plain(&["s3://b/a.jpg"]), Ok(item(None, "s3://b/a.jpg")));
        assert_eq!(
            plain(&["a.jpg", " s3://b/a.jpg "]),
            Ok(item(Some("a.jpg"), "s3://b/a.jpg"))
        );
        assert_eq!(plain(&["", "s3://b/a.jpg"]), Ok(item(None, "s3://b/a.jpg")));
        assert_eq!(
            plain(&["https://h/a", "b@@c.jpg"]),
            Ok(item(None, "https://h/a,b@@c.jpg"))
        );
        assert_eq!(
            plain(&["n", "https://h/a", "b", "c.jpg"]),
            Ok(item(Some("n"), "https://h/a,b,c.jpg"))
        );
        assert_eq!(plain(&["a.jpg"]).unwrap_err().0, "bad-link");
        assert_eq!(plain(&["a.jpg", "b.jpg"]).unwrap_err().0, "bad-link");
        assert_eq!(plain(&["a", "b", "c"]).unwrap_err().0, "field-count");
    }

    #[test]
    fn headers() {
        assert_eq!(Header::recognise(&["item_name", "s3://b/k"]), None);
        assert_eq!(
            Header::recognise(&["image1.jpg", "name"]).map(|h| h.link),
            None
        );
        let header = Header::recognise(&["Item_Name", "item_link"]).unwrap();
        assert!(header.is_plain());
        let header = Header::recognise(&["split", "url", "title", ""]).unwrap();
        assert!(!header.is_plain());
        assert_eq!((header.link, header.name), (1, Some(2)));
        assert_eq!(header.meta, [(0, "split".to_owned())]);
    }

    #[test]
    fn header_rows() {
        let layout = Layout::Header(Header::recognise(&["url", "split", "title"]).unwrap());
        let row = |fields: &[&str]| read_row(&layout, fields, b';');
        let mut expected = item(Some("t"), "https://h/a;b.jpg");
        expected.meta = vec![("split".into(), "train".into())];
        assert_eq!(row(&["https://h/a", "b.jpg", "train", "t"]), Ok(expected));
        assert_eq!(row(&["https://h/a", "train"]).unwrap_err().0, "field-count");
        assert_eq!(row(&["x", "train", "t", "u"]).unwrap_err().0, "field-count");
        assert_eq!(row(&["x", "train", "t"]).unwrap_err().0, "bad-link");
    }
}
