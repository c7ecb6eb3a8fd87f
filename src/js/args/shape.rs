//! `shape` and `layout` of frames, host or CUDA: from the frames object or, for a bare typed array,
//! the options.

use crate::core::{EncodeError, Layout};
use crate::js::errors::Failure;
use crate::js::node_api::JsVal;

/// `shape` and `layout` from the frames object (or, for a bare typed array, the options).
pub fn shape_and_layout(holder: JsVal, options: JsVal) -> Result<([i64; 4], Layout), Failure> {
    let pick = |name: &str| -> Result<JsVal, Failure> {
        let v = holder.get(name)?;
        Ok(if v.is_nullish() && options.is_object() { options.get(name)? } else { v })
    };
    let shape = parse_shape(pick("shape")?)?;
    let layout_val = pick("layout")?;
    let layout = if layout_val.is_nullish() {
        Layout::Nchw
    } else {
        match layout_val.string() {
            Some(name) => Layout::parse(&name)?,
            None => {
                return Err(Failure::Encode(EncodeError::invalid_value(format!(
                    "layout must be 'NCHW' or 'NHWC', got {}",
                    layout_val.describe_type()
                ))))
            }
        }
    };
    Ok((shape, layout))
}

fn parse_shape(shape: JsVal) -> Result<[i64; 4], Failure> {
    let bad = |what: String| Failure::Encode(EncodeError::invalid_value(what));
    if shape.is_nullish() {
        return Err(bad(
            "shape is required: [N, 3, H, W] for NCHW or [N, H, W, C] for NHWC (give it in frames.shape or options.shape)".into(),
        ));
    }
    let items = if shape.is_array() {
        shape.elements()?
    } else {
        // Array-likes read as arrays: a Proxy around an array (which is not an Array to Node-API),
        // `{ length: 4, 0: …, … }`, a typed array.
        let length = if shape.is_object() { shape.get("length")?.number() } else { None };
        match length {
            Some(4.0) => (0..4).map(|i| shape.element(i)).collect::<Result<Vec<_>, _>>()?,
            Some(n) if n.fract() == 0.0 && n >= 0.0 => {
                return Err(bad(format!(
                    "shape must be 4 positive integers, got {} of length {n}",
                    shape.describe_type()
                )))
            }
            _ => {
                return Err(bad(format!(
                    "shape must be an array of 4 positive integers, got {}",
                    shape.describe_type()
                )))
            }
        }
    };
    let dims: Vec<Option<f64>> = items.iter().map(|v| v.number()).collect();
    let shown = items
        .iter()
        .map(|v| v.number().map(|n| n.to_string()).unwrap_or_else(|| v.describe_type()))
        .collect::<Vec<_>>()
        .join(", ");
    if dims.len() != 4 || dims.iter().any(|d| !matches!(d, Some(n) if n.fract() == 0.0 && *n >= 0.0 && *n <= 9.0e15)) {
        return Err(bad(format!("shape must be 4 positive integers, got [{shown}]")));
    }
    let d: Vec<i64> = dims.into_iter().map(|n| n.unwrap() as i64).collect();
    Ok([d[0], d[1], d[2], d[3]])
}
