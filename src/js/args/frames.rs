//! The `VideoEncoder` constructor's arguments: frames in any accepted form, frame rate, shape, layout.

use std::sync::Arc;

use crate::core::{EncodeError, ErrorCode, FrameRate, FrameSource, HostBytes, HostFrames};

use crate::js::errors::Failure;
use super::memory;
use super::shape::shape_and_layout;
use crate::js::node_api::JsVal;

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
            let cuda = crate::js::cuda_api::cuda_frames(cuda_ptr, frames.get("device")?, shape, layout)?;
            return Ok(ParsedInput { frames: Arc::new(cuda) as Arc<dyn FrameSource>, frame_rate, frame_rate_value });
        }
        (frames.get("data")?, frames)
    } else {
        return Err(type_error(format!(
            "frames must be {{ data, shape, layout? }}, a Uint8Array, a Uint8ClampedArray or a Buffer, got {}",
            frames.describe_type()
        )));
    };
    let bytes = memory::lasting_bytes(data)?;
    let (shape, layout) = shape_and_layout(holder, options)?;
    let frames = HostFrames::new(Arc::new(bytes) as Arc<dyn HostBytes>, shape, layout)?;
    Ok(ParsedInput { frames: Arc::new(frames), frame_rate, frame_rate_value })
}
