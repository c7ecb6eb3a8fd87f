//! RGB → any pixel format swscale can write, reading the caller's memory in place. The fallback for
//! output formats the native converter (`yuv_kernel.rs`) does not cover.
//!
//! Why raw `sws_scale`: the safe `scaling::Context::run` wants an owned source frame, which would mean
//! copying every input frame once more. Plane pointers into the caller's buffer cost nothing.
//! Why `sws_setColorspaceDetails`: swscale converts with BT.601 unless told otherwise; we pass the
//! matrix and range that the stream is tagged with (see `color.rs`).

use ffmpeg_next::{ffi, frame};

use super::color::{ColorRange, ColorSpec};
use super::error::{EncodeError, ErrorCode, Result};
use super::ffi_util::pix_fmt_name;
use super::frames::{InputPixels, RgbPicture};

impl InputPixels {
    pub fn av_format(self) -> ffi::AVPixelFormat {
        match self {
            InputPixels::PlanarRgb => ffi::AVPixelFormat::AV_PIX_FMT_GBRP,
            InputPixels::PackedRgb => ffi::AVPixelFormat::AV_PIX_FMT_RGB24,
            InputPixels::PackedRgba => ffi::AVPixelFormat::AV_PIX_FMT_RGBA,
        }
    }
}

/// A swscale context for one (input, output, size, color) combination. Owns the `SwsContext`.
pub struct SwsConverter {
    ctx: *mut ffi::SwsContext,
    input: InputPixels,
    height: i32,
}

// SAFETY: an SwsContext is used by one thread at a time (we hold it by &mut); it has no thread affinity.
unsafe impl Send for SwsConverter {}

impl SwsConverter {
    pub fn new(input: InputPixels, width: usize, height: usize, output: ffi::AVPixelFormat, color: ColorSpec) -> Result<SwsConverter> {
        let (w, h) = (width as i32, height as i32);
        // Same size in and out: no scaling happens; the flags pick the chroma filter, bicubic as the
        // ffmpeg CLI uses for its automatic conversions.
        let flags = ffi::SWS_BICUBIC as i32;
        // SAFETY: plain constructor; returns null on unsupported formats.
        let ctx = unsafe {
            ffi::sws_getContext(w, h, input.av_format(), w, h, output, flags, std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null())
        };
        if ctx.is_null() {
            return Err(EncodeError::new(
                ErrorCode::InvalidPixelFormat,
                format!("cannot convert {} input to pixel format {}", pix_fmt_name(input.av_format()), pix_fmt_name(output)),
            ));
        }
        let converter = SwsConverter { ctx, input, height: h };
        // SAFETY: the coefficient tables are static; ctx is live.
        unsafe {
            let table = ffi::sws_getCoefficients(color.matrix.av_colorspace() as i32);
            let full_range = (color.range == ColorRange::Full) as i32;
            // Source is RGB (always full range); its "table" is unused for RGB input.
            let ret = ffi::sws_setColorspaceDetails(ctx, table, 1, table, full_range, 0, 1 << 16, 1 << 16);
            if ret < 0 && !super::codec::is_rgb_format(output) {
                return Err(EncodeError::new(ErrorCode::Encode, "swscale refused the color matrix and range"));
            }
        }
        Ok(converter)
    }

    /// Converts one picture into `dst` (allocated in the output format and size, and writable).
    pub fn convert(&mut self, picture: &RgbPicture<'_>, dst: &mut frame::Video) -> Result<()> {
        debug_assert_eq!(picture.pixels, self.input);
        let src: [*const u8; 4] = [picture.planes[0].as_ptr(), picture.planes[1].as_ptr(), picture.planes[2].as_ptr(), std::ptr::null()];
        let strides: [i32; 4] = [picture.strides[0] as i32, picture.strides[1] as i32, picture.strides[2] as i32, 0];
        // SAFETY: the source planes hold `height` rows of their stride (checked when the frames were
        // validated); dst was allocated by FFmpeg for this format and size.
        let rows = unsafe {
            let dst = dst.as_mut_ptr();
            ffi::sws_scale(self.ctx, src.as_ptr(), strides.as_ptr(), 0, self.height, (*dst).data.as_ptr(), (*dst).linesize.as_ptr())
        };
        if rows != self.height {
            return Err(EncodeError::new(ErrorCode::Encode, format!("swscale converted {rows} of {} rows", self.height)));
        }
        Ok(())
    }
}

impl Drop for SwsConverter {
    fn drop(&mut self) {
        // SAFETY: we own ctx; sws_freeContext accepts it once.
        unsafe { ffi::sws_freeContext(self.ctx) };
    }
}
