//! What a frame is: its layout, its validated geometry, and one host frame as planes FFmpeg can read.
//!
//! NCHW (N×3×H×W planar RGB) is exactly FFmpeg's `GBRP` with its planes taken in the order G, B, R;
//! NHWC is packed `rgb24` or `rgba` (alpha ignored). A leaf: every stage of the core reads these types.

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
            other => Err(EncodeError::invalid_value(format!("layout must be 'NCHW' or 'NHWC', got '{other}'"))),
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

    /// The geometry of one frame of `width` × `height` pixels of `input`.
    pub fn of_frame(width: usize, height: usize, input: InputPixels) -> FrameGeometry {
        let (layout, channels) = match input {
            InputPixels::PlanarRgb => (Layout::Nchw, 3),
            InputPixels::PackedRgb => (Layout::Nhwc, 3),
            InputPixels::PackedRgba => (Layout::Nhwc, 4),
        };
        FrameGeometry { count: 1, height, width, channels, layout }
    }

    /// The shape of `count` frames like these, in their layout's order.
    pub fn shape(&self, count: usize) -> [usize; 4] {
        match self.layout {
            Layout::Nchw => [count, self.channels, self.height, self.width],
            Layout::Nhwc => [count, self.height, self.width, self.channels],
        }
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
        let expected = self
            .total_bytes()
            .ok_or_else(|| EncodeError::invalid_value(format!("shape [{}] is too large", join(&shape))))?;
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
}
