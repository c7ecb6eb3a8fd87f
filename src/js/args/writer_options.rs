//! `VideoWriterOptions`: the frames a writer will take (size, layout, channels, device, rate) plus
//! every `EncodeOptions` key.

use crate::core::{AudioSettings, Device, EncodeError, ErrorCode, FrameGeometry, FrameRate, Layout};

use super::options::{self as options_arg, CallOptions};
use crate::js::errors::Failure;
use crate::js::node_api::JsVal;

/// The keys a writer's options take besides `EncodeOptions`'.
const WRITER_KEYS: &[&str] = &["width", "height", "frameRate", "layout", "channels", "device", "audio"];

/// Parsed options of a `VideoWriter` opener.
pub struct WriterOptions {
    /// One frame of what the writer takes (its `count` is 1).
    pub frame: FrameGeometry,
    pub device: Device,
    pub frame_rate: FrameRate,
    pub call: CallOptions,
    /// The audio track, written with `writeAudio()`.
    pub audio: Option<AudioSettings>,
}

fn failure(code: ErrorCode, message: String) -> Failure {
    Failure::Encode(EncodeError::new(code, message))
}

/// The options of the opener `method` (`VideoWriter.toFile`, …).
pub fn parse(options: Option<JsVal>, method: &str) -> Result<WriterOptions, Failure> {
    let Some(options) = options.filter(|o| o.is_object()) else {
        let got = options.map(|o| o.describe_type()).unwrap_or_else(|| "undefined".into());
        return Err(failure(
            ErrorCode::InvalidArgType,
            format!("options must be an object with width, height and frameRate, got {got}"),
        ));
    };
    let call = options_arg::parse_with(Some(options), method, WRITER_KEYS)?;
    let width = dimension(options.get("width")?, "width")?;
    let height = dimension(options.get("height")?, "height")?;
    let rate = options.get("frameRate")?;
    let Some(frame_rate_value) = rate.number() else {
        return Err(failure(
            ErrorCode::InvalidArgType,
            format!("options.frameRate must be a number, got {}", rate.describe_type()),
        ));
    };
    let frame_rate = FrameRate::from_f64(frame_rate_value)?;
    let layout = match options.get("layout")? {
        v if v.is_nullish() => Layout::Nchw,
        v => match v.string() {
            Some(name) => Layout::parse(&name)?,
            None => {
                return Err(failure(
                    ErrorCode::InvalidArgValue,
                    format!("layout must be 'NCHW' or 'NHWC', got {}", v.describe_type()),
                ))
            }
        },
    };
    let channels = match options.get("channels")? {
        v if v.is_nullish() => 3,
        v => match (v.number(), layout) {
            (Some(n), Layout::Nhwc) if n == 3.0 || n == 4.0 => n as i64,
            (Some(3.0), Layout::Nchw) => 3,
            (Some(n), Layout::Nchw) => {
                return Err(failure(ErrorCode::InvalidArgValue, format!("NCHW frames have 3 channels (planar RGB), got channels: {n}; for RGBA pixels use layout: 'NHWC', channels: 4")))
            }
            (n, _) => {
                let got = n.map(|n| n.to_string()).unwrap_or_else(|| v.describe_type());
                return Err(failure(ErrorCode::InvalidArgValue, format!("channels must be 3 (RGB) or 4 (RGBA, NHWC only), got {got}")));
            }
        },
    };
    let device = device(options.get("device")?)?;
    let shape = match layout {
        Layout::Nchw => [1, channels, height, width],
        Layout::Nhwc => [1, height, width, channels],
    };
    let frame = FrameGeometry::new(shape, layout)?;
    let audio = super::audio::parse(options.get("audio")?, false)?.map(|(settings, _)| settings);
    Ok(WriterOptions { frame, device, frame_rate, call, audio })
}

/// `width` / `height`: an integer in 1..=16384 (Node's own checks: a RangeError for a number out of range).
fn dimension(value: JsVal, name: &str) -> Result<i64, Failure> {
    Ok(options_arg::integer_option(value, &format!("options.{name}"), 1, 16384, "pixels")? as i64)
}

/// `device`: `'cpu'` (default) or `'cuda:N'`.
fn device(value: JsVal) -> Result<Device, Failure> {
    if value.is_nullish() {
        return Ok(Device::Cpu);
    }
    let bad = |got: String| {
        failure(
            ErrorCode::InvalidArgValue,
            format!("device must be 'cpu' or 'cuda:N' (N a CUDA device ordinal), got {got}"),
        )
    };
    let Some(name) = value.string() else {
        return Err(bad(value.describe_type()));
    };
    if name == "cpu" {
        return Ok(Device::Cpu);
    }
    let ordinal =
        name.strip_prefix("cuda:").filter(|n| !n.is_empty() && n.len() <= 4 && n.bytes().all(|b| b.is_ascii_digit()));
    match ordinal.and_then(|n| n.parse::<u32>().ok()) {
        Some(n) if n < 1024 => Ok(Device::Cuda(n)),
        _ => Err(bad(format!("'{name}'"))),
    }
}
