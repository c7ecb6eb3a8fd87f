//! Frame sources: where the encoder reads its RGB frames from.
//!
//! Host frames are read in place, never copied as a whole: NCHW (N×3×H×W planar RGB) is exactly FFmpeg's
//! `GBRP` with its planes taken in the order G, B, R; NHWC is packed `rgb24` or `rgba` (alpha ignored).
//! A CUDA source slots in beside [`HostFrames`] behind the same [`FrameSource`] trait.

use std::fmt;
use std::sync::Arc;

use super::convert::{Converter, FrameFormat};
use super::error::{EncodeError, Result};

/// How the four dimensions of the frames are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// N×C×H×W, planar: torchcodec's and ML tensors' layout. C must be 3 (RGB).
    Nchw,
    /// N×H×W×C, interleaved pixels as canvases and image decoders give them. C is 3 (RGB) or 4 (RGBA).
    Nhwc,
}

impl Layout {
    pub fn parse(name: &str) -> Result<Layout> {
        match name {
            "NCHW" => Ok(Layout::Nchw),
            "NHWC" => Ok(Layout::Nhwc),
            other => Err(EncodeError::invalid_value(format!(
                "layout must be 'NCHW' or 'NHWC', got '{other}'"
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Layout::Nchw => "NCHW",
            Layout::Nhwc => "NHWC",
        }
    }
}

/// The pixel format of one input frame as FFmpeg sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputPixels {
    /// Planar R, G, B planes (NCHW), read as FFmpeg's `gbrp`.
    PlanarRgb,
    /// Packed RGB (NHWC, C = 3): `rgb24`.
    PackedRgb,
    /// Packed RGBA (NHWC, C = 4): `rgba`; alpha is ignored.
    PackedRgba,
}

/// The validated shape of a batch of frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameGeometry {
    pub count: usize,
    pub height: usize,
    pub width: usize,
    pub channels: usize,
    pub layout: Layout,
}

impl FrameGeometry {
    /// Validates a 4-D shape in the given layout (`[N, C, H, W]` or `[N, H, W, C]`).
    pub fn new(shape: [i64; 4], layout: Layout) -> Result<FrameGeometry> {
        if let Some(bad) = shape.iter().find(|&&d| d <= 0) {
            return Err(EncodeError::invalid_value(format!(
                "shape must be 4 positive integers, got [{}] (dimension {bad} is not positive)",
                join(&shape)
            )));
        }
        let [n, a, b, c] = shape.map(|d| d as usize);
        let (height, width, channels) = match layout {
            Layout::Nchw => (b, c, a),
            Layout::Nhwc => (a, b, c),
        };
        match layout {
            Layout::Nchw if channels != 3 => {
                // [N, H, W, 3|4] is what canvases and image decoders give: interleaved pixels.
                let hint = if c == 3 || c == 4 {
                    format!("; did you mean layout: 'NHWC'? (the shape looks like [N, H, W, C] with {c} channels)")
                } else {
                    String::new()
                };
                return Err(EncodeError::invalid_value(format!(
                    "NCHW frames must have 3 channels (RGB), got shape [{}] with {channels} channels{hint}",
                    join(&shape)
                )));
            }
            Layout::Nhwc if channels != 3 && channels != 4 => {
                return Err(EncodeError::invalid_value(format!(
                    "NHWC frames must have 3 or 4 channels (RGB or RGBA), got shape [{}] with {channels} channels",
                    join(&shape)
                )))
            }
            _ => {}
        }
        // Video sizes are C ints in FFmpeg; refuse what it cannot represent.
        if width > 16384 || height > 16384 {
            return Err(EncodeError::invalid_value(format!(
                "frame size {width}x{height} is too large: width and height must be at most 16384"
            )));
        }
        Ok(FrameGeometry { count: n, height, width, channels, layout })
    }

    pub fn frame_bytes(&self) -> usize {
        self.height * self.width * self.channels
    }

    /// Total byte length of all frames, or `None` on overflow.
    pub fn total_bytes(&self) -> Option<usize> {
        self.frame_bytes().checked_mul(self.count)
    }

    pub fn input_pixels(&self) -> InputPixels {
        match (self.layout, self.channels) {
            (Layout::Nchw, _) => InputPixels::PlanarRgb,
            (Layout::Nhwc, 4) => InputPixels::PackedRgba,
            (Layout::Nhwc, _) => InputPixels::PackedRgb,
        }
    }

    /// Checks that a buffer of `len` bytes holds exactly these frames.
    pub fn check_len(&self, len: usize, shape: [i64; 4]) -> Result<()> {
        let expected = self.total_bytes().ok_or_else(|| {
            EncodeError::invalid_value(format!("shape [{}] is too large", join(&shape)))
        })?;
        if expected != len {
            return Err(EncodeError::invalid_value(format!(
                "data has {len} bytes but shape [{}] ({}) needs {expected} bytes",
                join(&shape),
                self.layout.name()
            )));
        }
        Ok(())
    }
}

fn join(shape: &[i64; 4]) -> String {
    shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")
}

/// One host frame as plane pointers FFmpeg can read in place.
#[derive(Clone, Copy)]
pub struct RgbPicture<'a> {
    pub pixels: InputPixels,
    /// Up to three planes in FFmpeg's order (for `gbrp`: G, B, R); unused planes are empty.
    pub planes: [&'a [u8]; 3],
    pub strides: [usize; 3],
}

/// Bytes that stay valid and unchanged while encodes read them (a JS typed array, a `Vec`, …).
pub trait HostBytes: Send + Sync {
    fn bytes(&self) -> &[u8];
}

impl HostBytes for Vec<u8> {
    fn bytes(&self) -> &[u8] {
        self
    }
}

/// Where frames live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    Cpu,
    Cuda(u32),
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => f.write_str("cpu"),
            Device::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

/// A batch of frames the encoder can read, frame by frame, in order.
pub trait FrameSource: Send + Sync {
    fn geometry(&self) -> FrameGeometry;
    fn device(&self) -> Device;
    /// Where the frames live, for messages: `cpu`, `NVIDIA H200 (cuda:0)`.
    fn device_name(&self) -> String {
        self.device().to_string()
    }
    /// The CUDA context the frames live in (NVENC then takes GPU frames made in it).
    fn cuda_context(&self) -> Option<super::hw_frames::CudaContextHandle> {
        None
    }
    /// A converter that writes frame `index` into frames of the encoder's format (it may run on
    /// another thread than the one that created it).
    fn converter(&self, format: &FrameFormat) -> Result<Box<dyn FrameConverter + Send + '_>>;
}

/// Writes frames of a source, converted, into encoder frames.
pub trait FrameConverter {
    /// Converts frame `index` into `dst` (allocated in the target format when empty; reused otherwise).
    fn convert(&mut self, index: usize, dst: &mut ffmpeg_next::frame::Video) -> Result<()>;
}

/// Frames in host memory, shared (not copied) with whoever owns the bytes.
#[derive(Clone)]
pub struct HostFrames {
    bytes: Arc<dyn HostBytes>,
    geometry: FrameGeometry,
}

impl HostFrames {
    /// Validates `shape` against `layout` and the byte length of `bytes`.
    pub fn new(bytes: Arc<dyn HostBytes>, shape: [i64; 4], layout: Layout) -> Result<HostFrames> {
        let geometry = FrameGeometry::new(shape, layout)?;
        geometry.check_len(bytes.bytes().len(), shape)?;
        Ok(HostFrames { bytes, geometry })
    }
}

impl FrameSource for HostFrames {
    fn geometry(&self) -> FrameGeometry {
        self.geometry
    }

    fn device(&self) -> Device {
        Device::Cpu
    }

    fn converter(&self, format: &FrameFormat) -> Result<Box<dyn FrameConverter + Send + '_>> {
        Ok(Box::new(HostConverter { frames: self, converter: format.converter(self.geometry.input_pixels())?, format: format.clone() }))
    }
}

/// Converts host frames on the CPU.
struct HostConverter<'a> {
    frames: &'a HostFrames,
    converter: Converter,
    format: FrameFormat,
}

impl FrameConverter for HostConverter<'_> {
    fn convert(&mut self, index: usize, dst: &mut ffmpeg_next::frame::Video) -> Result<()> {
        self.format.prepare(dst)?;
        self.converter.convert(&self.frames.picture(index), dst)
    }
}

impl HostFrames {
    /// Frame `index` (< `geometry().count`) as host planes, read in place.
    pub fn picture(&self, index: usize) -> RgbPicture<'_> {
        let frame_len = self.geometry.frame_bytes();
        RgbPicture::of_frame(&self.bytes.bytes()[index * frame_len..(index + 1) * frame_len], &self.geometry)
    }
}

impl<'a> RgbPicture<'a> {
    /// One frame's bytes (`geometry.frame_bytes()` of them) as planes FFmpeg can read in place.
    pub fn of_frame(frame: &'a [u8], g: &FrameGeometry) -> RgbPicture<'a> {
        match g.input_pixels() {
            InputPixels::PlanarRgb => {
                let plane = g.width * g.height;
                let (r, rest) = frame.split_at(plane);
                let (gr, b) = rest.split_at(plane);
                RgbPicture { pixels: InputPixels::PlanarRgb, planes: [gr, b, r], strides: [g.width; 3] }
            }
            pixels => RgbPicture { pixels, planes: [frame, &[], &[]], strides: [g.width * g.channels, 0, 0] },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ErrorCode;

    #[test]
    fn nchw_needs_three_channels() {
        let err = FrameGeometry::new([2, 4, 8, 8], Layout::Nchw).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgValue);
        assert!(err.message.contains("3 channels"), "{}", err.message);
    }

    #[test]
    fn nhwc_takes_three_or_four_channels() {
        assert!(FrameGeometry::new([1, 8, 8, 3], Layout::Nhwc).is_ok());
        assert!(FrameGeometry::new([1, 8, 8, 4], Layout::Nhwc).is_ok());
        let err = FrameGeometry::new([1, 8, 8, 2], Layout::Nhwc).unwrap_err();
        assert!(err.message.contains("3 or 4 channels"), "{}", err.message);
    }

    #[test]
    fn zero_dimensions_are_refused() {
        for shape in [[0, 3, 8, 8], [1, 3, 0, 8], [1, 3, 8, 0]] {
            let err = FrameGeometry::new(shape, Layout::Nchw).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidArgValue);
        }
    }

    #[test]
    fn length_mismatch_names_both_numbers() {
        let err = HostFrames::new(Arc::new(vec![0u8; 100]), [1, 3, 8, 8], Layout::Nchw)
            .err()
            .unwrap();
        assert!(err.message.contains("100") && err.message.contains("192"), "{}", err.message);
    }

    #[test]
    fn nchw_planes_are_taken_in_gbrp_order() {
        let (h, w) = (2, 3);
        let mut data = vec![0u8; 2 * 3 * h * w];
        // frame 1: R plane = 1, G plane = 2, B plane = 3
        let f1 = &mut data[3 * h * w..];
        f1[..h * w].fill(1);
        f1[h * w..2 * h * w].fill(2);
        f1[2 * h * w..].fill(3);
        let frames = HostFrames::new(Arc::new(data), [2, 3, h as i64, w as i64], Layout::Nchw).unwrap();
        let pic = frames.picture(1);
        assert_eq!(pic.pixels, InputPixels::PlanarRgb);
        assert!(pic.planes[0].iter().all(|&v| v == 2), "G first");
        assert!(pic.planes[1].iter().all(|&v| v == 3), "B second");
        assert!(pic.planes[2].iter().all(|&v| v == 1), "R third");
        assert_eq!(pic.strides, [w, w, w]);
    }
}
