//! The join of a COCO document's images, annotations and categories into
//! task records carrying Label Studio predictions, and the plugin's options.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Number;

use crate::coco::{Annotation, Coco, Id, Image};
use crate::taskport::plugin::types::{Diagnostic, Origin, Severity, TaskRecord};

/// Option: URL prefix joined with each image's `file_name`.
pub const IMAGE_ROOT: &str = "image-root";
/// Option: the regions' `from_name`.
pub const FROM_NAME: &str = "from-name";
/// Option: the regions' `to_name`.
pub const TO_NAME: &str = "to-name";
/// Default `from_name`: the RectangleLabels tag of Label Studio's bounding box template.
pub const DEFAULT_FROM_NAME: &str = "label";
/// Default `to_name`: the Image tag of Label Studio's bounding box template.
pub const DEFAULT_TO_NAME: &str = "image";
/// The data key holding the image link, and the media kind of every task.
const IMAGE: &str = "image";
/// `model_version` of the predictions this plugin writes.
const MODEL_VERSION: &str = "coco-import";

/// The plugin's options, resolved.
#[derive(Debug, PartialEq)]
pub struct Settings {
    /// Prefix of image links; `None` keeps `file_name` as given.
    pub image_root: Option<String>,
    /// The regions' `from_name`.
    pub from_name: String,
    /// The regions' `to_name`.
    pub to_name: String,
}

impl Settings {
    /// Reads the `--opt` options; unknown ones are ignored.
    pub fn from_options(options: &[(String, String)]) -> Result<Self, String> {
        let get = |name: &str| {
            options
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        };
        let tag_name = |name: &str, default: &str| match get(name) {
            Some("") => Err(format!("option `{name}` must not be empty")),
            value => Ok(value.unwrap_or(default).to_owned()),
        };
        Ok(Self {
            image_root: get(IMAGE_ROOT)
                .filter(|root| !root.is_empty())
                .map(str::to_owned),
            from_name: tag_name(FROM_NAME, DEFAULT_FROM_NAME)?,
            to_name: tag_name(TO_NAME, DEFAULT_TO_NAME)?,
        })
    }

    fn image_link(&self, file_name: &str) -> String {
        match &self.image_root {
            Some(root) => format!(
                "{}/{}",
                root.trim_end_matches('/'),
                file_name.trim_start_matches('/')
            ),
            None => file_name.to_owned(),
        }
    }
}

/// Joins images, annotations and categories: one task per usable image, and
/// an error diagnostic for each image or annotation that cannot be used.
pub fn convert_document(doc: &Coco, settings: &Settings) -> (Vec<TaskRecord>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let categories: HashMap<&Id, &str> = doc
        .categories
        .iter()
        .map(|category| (&category.id, category.name.as_str()))
        .collect();

    let mut image_by_id: HashMap<&Id, usize> = HashMap::new();
    for (index, image) in doc.images.iter().enumerate() {
        if image_by_id.contains_key(&image.id) {
            diagnostics.push(error(
                index,
                "duplicate-id",
                format!("images[{index}]: image id {} appears twice", image.id),
            ));
        } else {
            image_by_id.insert(&image.id, index);
        }
    }

    // The usable annotations of each image, by image index.
    let mut boxes: Vec<Vec<Checked<'_>>> = Vec::new();
    boxes.resize_with(doc.images.len(), Vec::new);
    for (index, annotation) in doc.annotations.iter().enumerate() {
        let (code, message) = match (
            image_by_id.get(&annotation.image_id),
            categories.get(&annotation.category_id),
            bbox(&annotation.bbox),
        ) {
            (Some(&image), Some(&label), Some(bbox)) => {
                boxes[image].push(Checked {
                    index,
                    annotation,
                    label,
                    bbox,
                });
                continue;
            }
            (None, _, _) => (
                "bad-reference",
                format!("refers to unknown image {}", annotation.image_id),
            ),
            (_, None, _) => (
                "bad-reference",
                format!("refers to unknown category {}", annotation.category_id),
            ),
            (_, _, None) => (
                "bad-bbox",
                "has no `bbox` [x, y, width, height] with a non-negative size".to_owned(),
            ),
        };
        let id = annotation_id(index, annotation);
        diagnostics.push(error(
            index,
            code,
            format!("annotations[{index}] (id {id}) {message}"),
        ));
    }

    let mut records = Vec::new();
    for ((index, image), checked) in doc.images.iter().enumerate().zip(boxes) {
        if image_by_id.get(&image.id) != Some(&index) {
            continue;
        }
        let Some(size) = image_size(image) else {
            let message = format!(
                "images[{index}] `{}` has no positive width and height, \
                 so its boxes cannot be converted to percentages",
                image.file_name
            );
            diagnostics.push(error(index, "missing-size", message));
            continue;
        };
        let regions = checked
            .iter()
            .map(|checked| region(checked, &size, settings))
            .collect();
        records.push(task(index, image, regions, settings));
    }
    (records, diagnostics)
}

/// An image's size: the numbers as written, and as floats for the arithmetic.
struct Size<'a> {
    width: &'a Number,
    height: &'a Number,
    width_px: f64,
    height_px: f64,
}

fn image_size(image: &Image) -> Option<Size<'_>> {
    let (width, height) = (image.width.as_ref()?, image.height.as_ref()?);
    let (width_px, height_px) = (width.as_f64()?, height.as_f64()?);
    (width_px > 0.0 && height_px > 0.0).then_some(Size {
        width,
        height,
        width_px,
        height_px,
    })
}

/// `[x, y, width, height]` when `bbox` is four finite numbers with a
/// non-negative size.
fn bbox(bbox: &[f64]) -> Option<[f64; 4]> {
    let &[x, y, width, height] = bbox else {
        return None;
    };
    let finite = [x, y, width, height].iter().all(|value| value.is_finite());
    (finite && width >= 0.0 && height >= 0.0).then_some([x, y, width, height])
}

/// An annotation whose image, category and box are known.
struct Checked<'a> {
    index: usize,
    annotation: &'a Annotation,
    label: &'a str,
    bbox: [f64; 4],
}

/// A Label Studio prediction.
#[derive(Serialize)]
struct Prediction<'a> {
    model_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<f64>,
    result: Vec<Region<'a>>,
}

/// A Label Studio `rectanglelabels` region.
#[derive(Serialize)]
struct Region<'a> {
    id: String,
    from_name: &'a str,
    to_name: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    original_width: &'a Number,
    original_height: &'a Number,
    image_rotation: u32,
    value: Rectangle<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<f64>,
}

/// A region's box in percent of the image size, and its label.
#[derive(Serialize)]
struct Rectangle<'a> {
    x: f64,
    y: f64,
    width: f64,
    height: f64,
    rotation: u32,
    rectanglelabels: [&'a str; 1],
}

fn region<'a>(checked: &Checked<'a>, size: &Size<'a>, settings: &'a Settings) -> Region<'a> {
    let [x, y, width, height] = checked.bbox;
    let percent = |pixels: f64, total: f64| pixels * 100.0 / total;
    Region {
        id: annotation_id(checked.index, checked.annotation),
        from_name: &settings.from_name,
        to_name: &settings.to_name,
        kind: "rectanglelabels",
        original_width: size.width,
        original_height: size.height,
        image_rotation: 0,
        value: Rectangle {
            x: percent(x, size.width_px),
            y: percent(y, size.height_px),
            width: percent(width, size.width_px),
            height: percent(height, size.height_px),
            rotation: 0,
            rectanglelabels: [checked.label],
        },
        score: checked.annotation.score,
    }
}

fn task(index: usize, image: &Image, regions: Vec<Region<'_>>, settings: &Settings) -> TaskRecord {
    let data = serde_json::json!({ IMAGE: settings.image_link(&image.file_name) });
    let predictions = (!regions.is_empty())
        .then_some(regions)
        .and_then(|regions| {
            let scores: Vec<f64> = regions.iter().filter_map(|region| region.score).collect();
            let score =
                (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64);
            let prediction = Prediction {
                model_version: MODEL_VERSION,
                score,
                result: regions,
            };
            // Serializing these plain structs cannot fail.
            serde_json::to_string(&[prediction]).ok()
        });
    TaskRecord {
        origin: origin(index),
        name: Some(image.file_name.clone()),
        data: data.to_string(),
        media_key: Some(IMAGE.into()),
        media_kind: Some(IMAGE.into()),
        annotations: None,
        predictions,
        meta: None,
    }
}

fn annotation_id(index: usize, annotation: &Annotation) -> String {
    match &annotation.id {
        Some(id) => id.to_string(),
        None => index.to_string(),
    }
}

fn origin(index: usize) -> Origin {
    Origin {
        line: None,
        index: Some(index as u64),
        offset: None,
    }
}

fn error(index: usize, code: &str, message: String) -> Diagnostic {
    Diagnostic {
        origin: origin(index),
        severity: Severity::Error,
        code: code.into(),
        message,
    }
}

#[cfg(test)]
mod tests;
