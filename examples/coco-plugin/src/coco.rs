//! The COCO object-detection document and reading it from the input.

use std::fmt;
use std::io::{BufRead, BufReader, Read};

use serde::Deserialize;
use serde_json::Number;

/// The UTF-8 byte order mark some tools write first.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A COCO object-detection document. Fields the conversion does not need
/// (`info`, `licenses`, `segmentation`, ...) are ignored.
#[derive(Debug, Deserialize)]
#[serde(expecting = "a COCO object with an `images` array")]
pub struct Coco {
    /// The images, one task each.
    pub images: Vec<Image>,
    /// Boxes, each pointing at an image and a category.
    #[serde(default)]
    pub annotations: Vec<Annotation>,
    /// Label names by id.
    #[serde(default)]
    pub categories: Vec<Category>,
}

/// One entry of `images`.
#[derive(Debug, Deserialize)]
pub struct Image {
    /// What annotations refer to with `image_id`.
    pub id: Id,
    /// The image's file name or relative path.
    pub file_name: String,
    /// Width in pixels.
    pub width: Option<Number>,
    /// Height in pixels.
    pub height: Option<Number>,
}

/// One entry of `annotations`.
#[derive(Debug, Deserialize)]
pub struct Annotation {
    /// The annotation's id; its index in `annotations` when absent.
    pub id: Option<Id>,
    /// The image the box is on.
    pub image_id: Id,
    /// The box's label.
    pub category_id: Id,
    /// `[x, y, width, height]` in pixels from the top left corner.
    #[serde(default)]
    pub bbox: Vec<f64>,
    /// Model confidence, in detection results.
    pub score: Option<f64>,
}

/// One entry of `categories`.
#[derive(Debug, Deserialize)]
pub struct Category {
    /// What annotations refer to with `category_id`.
    pub id: Id,
    /// The label.
    pub name: String,
}

/// A COCO id: a number, or a string in some exporters.
#[derive(Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(untagged)]
pub enum Id {
    /// A numeric id.
    Number(i64),
    /// A string id.
    Text(String),
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Id::Number(number) => write!(f, "{number}"),
            Id::Text(text) => write!(f, "{text}"),
        }
    }
}

/// Parses a whole COCO document. `Err` means the input is not COCO at all.
pub fn read_document(reader: impl Read) -> Result<Coco, String> {
    let mut reader = BufReader::new(reader);
    let head = reader.fill_buf().map_err(read_error)?;
    let bom = head.starts_with(BOM);
    let body = if bom { &head[BOM.len()..] } else { head };
    // serde would also take a JSON array as a struct; COCO is an object.
    if body
        .iter()
        .find(|byte| !byte.is_ascii_whitespace())
        .is_some_and(|&first| first != b'{')
    {
        return Err("not a COCO document: expected a JSON object with an `images` array".into());
    }
    if bom {
        reader.consume(BOM.len());
    }
    serde_json::from_reader(reader).map_err(|error| {
        if error.is_io() {
            read_error(error)
        } else {
            format!("not a COCO document: {error}")
        }
    })
}

fn read_error(error: impl fmt::Display) -> String {
    format!("cannot read the input: {error}")
}
