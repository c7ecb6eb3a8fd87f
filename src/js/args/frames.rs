//! Frames as JS gives them: the `VideoEncoder` constructor's arguments (frames in any accepted form,
//! frame rate, shape, layout), and the frames of a `VideoWriter.write()`.

use std::sync::Arc;

use crate::core::{Device, EncodeError, ErrorCode, FrameGeometry, FrameRate, FrameSource, HostBytes, HostFrames};

use super::memory;
use super::shape::shape_and_layout;
use crate::js::errors::Failure;
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

/// The frames of a writer's `write()`: a typed array of whole frames, `{ data, shape?, layout? }`, or
/// CUDA frames `{ cudaPtr, shape, layout?, device? }`, checked against the writer's frame (`writer`, one
/// frame) and device. Host memory is kept readable as the constructor's is (see `memory.rs`).
pub fn batch(frames: JsVal, writer: &FrameGeometry, device: Device) -> Result<Arc<dyn FrameSource>, Failure> {
    let expected = format!(
        "[k, {}] ({})",
        writer.shape(1)[1..].iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "),
        writer.layout.name()
    );
    let mismatch = |given: String| {
        Failure::Encode(EncodeError::invalid_value(format!(
            "frames {given} do not fit this writer, which takes frames of shape {expected}: width, height, layout and channels must match"
        )))
    };
    let (data, holder) = if frames.typed_array().is_some() {
        (frames, None)
    } else if frames.is_object() && !frames.is_array() {
        let cuda_ptr = frames.get("cudaPtr")?;
        if !cuda_ptr.is_nullish() {
            let Device::Cuda(ordinal) = device else {
                return Err(Failure::Encode(EncodeError::invalid_value(
                    "CUDA frames (cudaPtr) were given to a writer of host frames: open it with device: 'cuda:N' to write frames on a GPU",
                )));
            };
            let (shape, layout) = shape_and_layout(frames, crate::js::node_api::undefined(frames.env))?;
            check_shape(shape, layout, writer).map_err(|_| mismatch(describe_shape(shape, layout)))?;
            let given = frames.get("device")?;
            let given_ordinal = if given.is_nullish() { None } else { given.number() };
            if given_ordinal.is_some_and(|n| n != ordinal as f64) || (!given.is_nullish() && given_ordinal.is_none()) {
                let got = given.number().map(|n| n.to_string()).unwrap_or_else(|| given.describe_type());
                return Err(Failure::Encode(EncodeError::invalid_value(format!(
                    "CUDA frames on device {got} were given to a writer of frames on cuda:{ordinal}"
                ))));
            }
            let device_arg =
                if given.is_nullish() { crate::js::node_api::number(frames.env, ordinal as f64)? } else { given };
            let cuda = crate::js::cuda_api::cuda_frames(cuda_ptr, device_arg, shape, layout)?;
            return Ok(Arc::new(cuda));
        }
        (frames.get("data")?, Some(frames))
    } else {
        return Err(type_error(format!(
            "frames must be a Uint8Array, Uint8ClampedArray or Buffer of whole frames, {{ data, shape }}, or CUDA frames {{ cudaPtr, shape }}, got {}",
            frames.describe_type()
        )));
    };
    if let Device::Cuda(ordinal) = device {
        return Err(Failure::Encode(EncodeError::invalid_value(format!(
            "host frames ({}) were given to a writer of frames on cuda:{ordinal}: write CUDA frames {{ cudaPtr, shape }}, or open the writer with device: 'cpu'",
            data.describe_type()
        ))));
    }
    let frame_bytes = writer.frame_bytes();
    let shape = match holder {
        Some(holder) if !holder.get("shape")?.is_nullish() => {
            let (shape, layout) = shape_and_layout(holder, crate::js::node_api::undefined(holder.env))?;
            check_shape(shape, layout, writer).map_err(|_| mismatch(describe_shape(shape, layout)))?;
            shape
        }
        _ => {
            if let Some(layout) = holder.map(|h| h.get("layout")).transpose()?.filter(|l| !l.is_nullish()) {
                let name = layout.string().unwrap_or_else(|| layout.describe_type());
                if name != writer.layout.name() {
                    return Err(mismatch(format!("in layout {name}")));
                }
            }
            let len = memory::uint8_length(data)?;
            if len == 0 || len % frame_bytes != 0 {
                return Err(Failure::Encode(EncodeError::invalid_value(format!(
                    "frames data has {len} bytes, not a whole number of frames: a frame of this writer ({expected}) is {frame_bytes} bytes"
                ))));
            }
            let shape = writer.shape(len / frame_bytes);
            [shape[0] as i64, shape[1] as i64, shape[2] as i64, shape[3] as i64]
        }
    };
    let bytes = memory::lasting_bytes(data)?;
    let frames = HostFrames::new(Arc::new(bytes) as Arc<dyn HostBytes>, shape, writer.layout)?;
    Ok(Arc::new(frames))
}

/// Whether a validated `shape` in `layout` holds frames of the writer's kind.
fn check_shape(shape: [i64; 4], layout: crate::core::Layout, writer: &FrameGeometry) -> Result<(), ()> {
    let given = FrameGeometry::new(shape, layout).map_err(|_| ())?;
    let same = given.layout == writer.layout
        && given.width == writer.width
        && given.height == writer.height
        && given.channels == writer.channels;
    if same {
        Ok(())
    } else {
        Err(())
    }
}

fn describe_shape(shape: [i64; 4], layout: crate::core::Layout) -> String {
    format!("of shape [{}] ({})", shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "), layout.name())
}
