//! RGB frames → the encoder's pixel format: the native kernel for 8-bit yuv420p/yuv444p (and their
//! full-range "j" twins), swscale for everything else (gif's rgb8, nv12, 10-bit, …).

pub mod color;
mod frame_format;
pub mod resample;
pub mod swscale;
pub mod yuv_kernel;

use ffmpeg_next::{ffi, frame};

use super::error::Result;
use super::picture::{InputPixels, RgbPicture};
use color::ColorSpec;
use swscale::SwsConverter;
use yuv_kernel::{Scratch, YuvCoefficients, YuvPlanes};

pub use frame_format::FrameFormat;

/// Converts frames of one input layout and size into frames of one output format.
#[allow(clippy::large_enum_variant)] // one per encode; boxing the scratch rows would only add a pointer hop
pub enum Converter {
    Native { coefficients: YuvCoefficients, subsampled: bool, width: usize, height: usize, scratch: Scratch },
    Swscale(SwsConverter),
}

impl Converter {
    pub fn new(
        input: InputPixels,
        width: usize,
        height: usize,
        output: ffi::AVPixelFormat,
        color: ColorSpec,
    ) -> Result<Converter> {
        use ffi::AVPixelFormat::*;
        let subsampled = match output {
            AV_PIX_FMT_YUV420P | AV_PIX_FMT_YUVJ420P => Some(true),
            AV_PIX_FMT_YUV444P | AV_PIX_FMT_YUVJ444P => Some(false),
            _ => None,
        };
        Ok(match subsampled {
            Some(subsampled) => Converter::Native {
                coefficients: YuvCoefficients::new(color),
                subsampled,
                width,
                height,
                scratch: Scratch::default(),
            },
            None => Converter::Swscale(SwsConverter::new(input, width, height, output, color)?),
        })
    }

    /// Converts one picture into `dst` (allocated in the output format and size, and writable).
    pub fn convert(&mut self, picture: &RgbPicture<'_>, dst: &mut frame::Video) -> Result<()> {
        match self {
            Converter::Swscale(sws) => sws.convert(picture, dst),
            Converter::Native { coefficients, subsampled, width, height, scratch } => {
                let (cw, ch) = if *subsampled { (width.div_ceil(2), height.div_ceil(2)) } else { (*width, *height) };
                let (ys, us, vs) = (dst.stride(0), dst.stride(1), dst.stride(2));
                // SAFETY: the three planes of a frame FFmpeg allocated for this format and size are
                // disjoint buffers of at least stride × rows bytes each.
                let planes = unsafe {
                    let f = &*dst.as_mut_ptr();
                    YuvPlanes {
                        y: (std::slice::from_raw_parts_mut(f.data[0], ys * (*height - 1) + *width), ys),
                        u: (std::slice::from_raw_parts_mut(f.data[1], us * (ch - 1) + cw), us),
                        v: (std::slice::from_raw_parts_mut(f.data[2], vs * (ch - 1) + cw), vs),
                    }
                };
                yuv_kernel::convert(coefficients, picture, *width, *height, *subsampled, scratch, planes);
                Ok(())
            }
        }
    }
}
