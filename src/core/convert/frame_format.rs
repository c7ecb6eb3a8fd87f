//! The frames an encoder takes, and how a frame of that format is made ready to be written.

use std::sync::Arc;

use ffmpeg_next::{ffi, frame};

use super::color::ColorSpec;
use super::Converter;
use crate::core::encoder::hw_frames::CudaHwFrames;
use crate::core::error::{EncodeError, ErrorCode, Result};
use crate::core::ffmpeg::util::is_rgb_format;
use crate::core::picture::InputPixels;

/// The frames an encoder takes: pixel format, size and the color spec they are converted with, and
/// for NVENC with CUDA input, the pool of GPU frames (pixel format `cuda`, NV12 underneath).
#[derive(Clone)]
pub struct FrameFormat {
    pub pixel_format: ffi::AVPixelFormat,
    pub width: usize,
    pub height: usize,
    pub color: ColorSpec,
    pub hw: Option<Arc<CudaHwFrames>>,
}

impl FrameFormat {
    /// A CPU converter from `input` into this format.
    pub fn converter(&self, input: InputPixels) -> Result<Converter> {
        Converter::new(input, self.width, self.height, self.pixel_format, self.color)
    }

    /// A new frame of this format, its color fields set. Host frames come zeroed (see
    /// [`zero_frame_buffers`]).
    pub fn new_frame(&self) -> Result<frame::Video> {
        let mut frame = match &self.hw {
            Some(hw) => {
                let mut frame = frame::Video::empty();
                hw.fill_from_pool(&mut frame)?;
                frame
            }
            None => {
                let mut frame = frame::Video::new(self.pixel_format.into(), self.width as u32, self.height as u32);
                zero_frame_buffers(&mut frame);
                frame
            }
        };
        if frame.planes() == 0 && self.hw.is_none() {
            return Err(EncodeError::new(ErrorCode::Encode, "cannot allocate a video frame"));
        }
        self.tag_color(&mut frame);
        Ok(frame)
    }

    /// Sets the frame's color fields (matrix and range) for YUV formats.
    pub fn tag_color(&self, frame: &mut frame::Video) {
        if !is_rgb_format(self.pixel_format) {
            // SAFETY: plain fields of a frame we own.
            unsafe {
                (*frame.as_mut_ptr()).colorspace = self.color.matrix.av_colorspace();
                (*frame.as_mut_ptr()).color_range = self.color.range.av_range();
            }
        }
    }

    /// Makes `frame` ready to be written: allocated in this format if empty, and not shared with the
    /// encoder (a fresh buffer only while the encoder still holds a reference to the current one).
    pub fn prepare(&self, frame: &mut frame::Video) -> Result<()> {
        if self.hw.is_some() {
            // GPU frames come from FFmpeg's pool, a fresh one each time.
            *frame = self.new_frame()?;
            return Ok(());
        }
        // SAFETY: the frame is ours; av_frame_is_writable only reads its buffer references.
        let writable = frame.planes() != 0 && unsafe { ffi::av_frame_is_writable(frame.as_mut_ptr()) } != 0;
        if !writable {
            // Empty, or the encoder still holds a reference: a fresh zeroed frame. Not
            // `av_frame_make_writable`: it would copy pixels about to be overwritten into a buffer
            // whose row padding it leaves uninitialised.
            *frame = self.new_frame()?;
        }
        Ok(())
    }
}

/// Zeroes every byte of a frame's buffers, row padding included.
///
/// Note: [Defined frame bytes]. `av_frame_get_buffer` leaves the bytes between a row's width and its
/// linesize (and the tail padding) uninitialised, and nobody writes them: the converters write the
/// pixels only. SIMD code in encoders reads whole vectors, padding included, so a frame handed to an
/// encoder must be defined to its last byte, or its output may follow leftover heap contents. Frames
/// are recycled (see `writer.rs` and `pipeline.rs`): zeroing once per allocation costs nothing in the steady state.
/// (libx264's own uninitialised reads are the other half of determinism: [Deterministic x264] in
/// `encoder/x264.rs`.)
pub fn zero_frame_buffers(frame: &mut frame::Video) {
    // SAFETY: each non-null `buf[i]` of a frame we own is a live buffer of `size` bytes; nobody else
    // holds a reference to a frame that was just allocated.
    unsafe {
        let f = frame.as_mut_ptr();
        for &buf in (*f).buf.iter().filter(|b| !b.is_null()) {
            std::ptr::write_bytes((*buf).data, 0, (*buf).size);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::picture::{FrameGeometry, Layout, RgbPicture};

    #[test]
    fn frames_for_the_encoder_are_defined_to_the_last_byte() {
        // 4:2:0 at width 40: chroma rows of 20 bytes in 64-byte linesizes, 44 bytes of padding each.
        let (w, h) = (40usize, 8usize);
        let format = FrameFormat {
            pixel_format: ffi::AVPixelFormat::AV_PIX_FMT_YUV420P,
            width: w,
            height: h,
            color: ColorSpec::default(),
            hw: None,
        };
        let g = FrameGeometry::new([1, 3, h as i64, w as i64], Layout::Nchw).unwrap();
        let rgb = vec![200u8; g.frame_bytes()];
        let mut converter = format.converter(g.input_pixels()).unwrap();
        for _ in 0..20 {
            // Leave garbage where the next frame is likely to be allocated.
            drop(std::hint::black_box(vec![0xa5u8; 4096]));
            let mut frame = frame::Video::empty();
            format.prepare(&mut frame).unwrap();
            converter.convert(&RgbPicture::of_frame(&rgb, &g), &mut frame).unwrap();
            // SAFETY: reading the frame's own buffer, `size` bytes.
            let bytes = unsafe {
                let buf = (*frame.as_ptr()).buf[0];
                std::slice::from_raw_parts((*buf).data, (*buf).size)
            };
            let (y_stride, c_stride) = (frame.stride(0), frame.stride(1));
            assert!(y_stride > w && c_stride > w / 2, "the test needs row padding");
            // Every byte is a pixel or zero: no 0xa5 left over.
            assert!(!bytes.contains(&0xa5), "uninitialised bytes in the frame");
        }
    }
}
