//! The shapes of one element of a links JSON array.
//!
//! - `"s3://..."`: a bare link.
//! - `{"item_name": n, "item_link": l}`: a link item; the name may also be
//!   called `name` or `title` and the link `link`, `url` or `path` (keys are
//!   matched case-insensitively, `item_*` first). The name may be missing or
//!   empty. Any other keys go into `meta` as given.
//! - `{n: l}`: a single pair of name and link.
//!
//! Anything else is a `bad-shape` error; a link that is not a URL with a
//! supported scheme nor an absolute path is a `bad-link` error.

use serde_json::{Map, Value};
use taskport_plugin_sdk::links::{LINK_COLUMNS, NAME_COLUMNS, check_link};

/// A link item read from one element.
#[derive(Debug, PartialEq)]
pub struct Item {
    /// Explicit, non-empty name.
    pub name: Option<String>,
    /// The link, checked.
    pub link: String,
    /// Other keys of a link item object, as JSON object text.
    pub meta: Option<String>,
}

/// Why an element gives no task: a diagnostic code and a message.
pub type ItemError = (&'static str, String);

const SHAPES: &str = "expected a link, {\"item_name\": name, \"item_link\": link} or {name: link}";

/// Reads one element.
pub fn read_item(element: Value) -> Result<Item, ItemError> {
    let item = match element {
        Value::String(link) => Item {
            name: None,
            link,
            meta: None,
        },
        Value::Object(object) => read_object(object)?,
        other => return Err(("bad-shape", format!("{SHAPES}, found {}", kind(&other)))),
    };
    check_link(&item.link).map_err(|message| ("bad-link", message))?;
    Ok(item)
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The key among `choices` (by preference) that `object` has.
fn find_key(object: &Map<String, Value>, choices: &[&str]) -> Option<String> {
    choices.iter().find_map(|choice| {
        object
            .keys()
            .find(|key| key.eq_ignore_ascii_case(choice))
            .cloned()
    })
}

fn read_object(mut object: Map<String, Value>) -> Result<Item, ItemError> {
    let Some(link_key) = find_key(&object, LINK_COLUMNS) else {
        return read_pair(object);
    };
    let link = match object.remove(&link_key) {
        Some(Value::String(link)) => link.trim().to_owned(),
        other => {
            let found = other.as_ref().map_or("nothing", kind);
            return Err((
                "bad-shape",
                format!("`{link_key}` must be a string, found {found}"),
            ));
        }
    };
    let name = match find_key(&object, NAME_COLUMNS) {
        None => None,
        Some(key) => match object.remove(&key) {
            Some(Value::String(name)) => Some(name.trim().to_owned()),
            Some(Value::Null) | None => None,
            Some(other) => {
                let message = format!("`{key}` must be a string, found {}", kind(&other));
                return Err(("bad-shape", message));
            }
        },
    };
    let meta = (!object.is_empty()).then(|| Value::Object(object).to_string());
    Ok(Item {
        name: name.filter(|name| !name.is_empty()),
        link,
        meta,
    })
}

fn read_pair(object: Map<String, Value>) -> Result<Item, ItemError> {
    let mut entries = object.into_iter();
    match (entries.next(), entries.next()) {
        (Some((name, Value::String(link))), None) => Ok(Item {
            name: Some(name.trim().to_owned()).filter(|name| !name.is_empty()),
            link: link.trim().to_owned(),
            meta: None,
        }),
        _ => Err(("bad-shape", format!("{SHAPES}, found another object"))),
    }
}
