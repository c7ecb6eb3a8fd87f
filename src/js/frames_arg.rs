//! The `VideoEncoder` constructor's arguments: frames in any accepted form, frame rate, shape, layout.

use std::sync::Arc;

use crate::core::{EncodeError, ErrorCode, FrameRate, FrameSource, HostBytes, HostFrames, Layout};

use super::errors::Failure;
use super::frames_memory;
use super::napi_value::JsVal;

/// Validated constructor input.
pub struct ParsedInput {
    pub frames: Arc<dyn FrameSource>,
    pub frame_rate: FrameRate,
    pub frame_rate_value: f64,
}

fn type_error(message: String) -> Failure {
    Failure::Encode(EncodeError::new(ErrorCode::InvalidArgType, message))
}

pub fn parse(frames: JsVal, options: JsVal) -> Result<ParsedInput, Failure> {
    if !options.is_object() {
        return Err(type_error(format!(
            "options must be an object with a numeric frameRate, got {}",
            options.describe_type()
        )));
    }
    let rate = options.get("frameRate")?;
    let Some(frame_rate_value) = rate.number() else {
        return Err(type_error(format!("options.frameRate must be a number, got {}", rate.describe_type())));
    };
    let frame_rate = FrameRate::from_f64(frame_rate_value)?;

    // The frames: a typed array (shape in options) or an object { data | cudaPtr, shape, layout }.
    let (data, holder) = if frames.typed_array().is_some() {
        (frames, options)
    } else if frames.is_object() && !frames.is_array() {
        let cuda_ptr = frames.get("cudaPtr")?;
        if !cuda_ptr.is_nullish() {
            let (shape, layout) = shape_and_layout(frames, options)?;
            let cuda = super::cuda_api::cuda_frames(cuda_ptr, frames.get("device")?, shape, layout)?;
            return Ok(ParsedInput { frames: Arc::new(cuda) as Arc<dyn FrameSource>, frame_rate, frame_rate_value });
        }
        (frames.get("data")?, frames)
    } else {
        return Err(type_error(format!(
            "frames must be {{ data, shape, layout? }}, a Uint8Array, a Uint8ClampedArray or a Buffer, got {}",
            frames.describe_type()
        )));
    };
    let bytes = frames_memory::lasting_bytes(data)?;
    let (shape, layout) = shape_and_layout(holder, options)?;
    let frames = HostFrames::new(Arc::new(bytes) as Arc<dyn HostBytes>, shape, layout)?;
    Ok(ParsedInput { frames: Arc::new(frames), frame_rate, frame_rate_value })
}

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
                return Err(bad(format!("shape must be 4 positive integers, got {} of length {n}", shape.describe_type())))
            }
            _ => return Err(bad(format!("shape must be an array of 4 positive integers, got {}", shape.describe_type()))),
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
