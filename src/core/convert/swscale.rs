//! RGB → any pixel format swscale can write, reading the caller's memory in place. The fallback for
//! output formats the native converter (`yuv_kernel.rs`) does not cover.
//!
//! Why raw `sws_scale`: the safe `scaling::Context::run` wants an owned source frame, which would mean
//! copying every input frame once more. Plane pointers into the caller's buffer cost nothing.
//! Why `sws_setColorspaceDetails`: swscale converts with BT.601 unless told otherwise; we pass the
//! matrix and range that the stream is tagged with (see `color.rs`).
//! Why the last rows come from a copy: swscale's SIMD input readers fetch whole vectors, up to 16 bytes
//! past a row's last pixel (rgb24, rgba) or 8 (the planes of gbrp). Inside a frame that is the next
//! row, but past the last row of a plane it is past the caller's memory: a crash when that ends at a
//! page boundary (a resizable `ArrayBuffer`, an `mmap`ed file). So each picture goes through swscale
//! in two slices: the rows whose reads stay inside the caller's planes, in place, then the few rows at
//! the end of each plane from a small padded copy. swscale keeps its state between the slices of one
//! picture, so the output is the same as from one call (tested).

use ffmpeg_next::{ffi, frame};

use super::color::{ColorRange, ColorSpec};
use crate::core::error::{EncodeError, ErrorCode, Result};
use crate::core::ffmpeg::util::pix_fmt_name;
use crate::core::picture::{InputPixels, RgbPicture};

impl InputPixels {
    pub fn av_format(self) -> ffi::AVPixelFormat {
        match self {
            InputPixels::PlanarRgb => ffi::AVPixelFormat::AV_PIX_FMT_GBRP,
            InputPixels::PackedRgb => ffi::AVPixelFormat::AV_PIX_FMT_RGB24,
            InputPixels::PackedRgba => ffi::AVPixelFormat::AV_PIX_FMT_RGBA,
        }
    }
}

/// Bytes past a row's end that swscale may read, with a margin (seen: 16).
const READ_PAST: usize = 64;

/// A swscale context for one (input, output, size, color) combination. Owns the `SwsContext`.
pub struct SwsConverter {
    ctx: *mut ffi::SwsContext,
    input: InputPixels,
    width: usize,
    height: i32,
    /// The last rows of each plane, copied, with `READ_PAST` spare bytes after them.
    tail: Vec<u8>,
}

// SAFETY: an SwsContext is used by one thread at a time (we hold it by &mut); it has no thread affinity.
unsafe impl Send for SwsConverter {}

impl SwsConverter {
    pub fn new(
        input: InputPixels,
        width: usize,
        height: usize,
        output: ffi::AVPixelFormat,
        color: ColorSpec,
    ) -> Result<SwsConverter> {
        let (w, h) = (width as i32, height as i32);
        // Same size in and out: no scaling happens; the flags pick the chroma filter, bicubic as the
        // ffmpeg CLI uses for its automatic conversions.
        let flags = ffi::SWS_BICUBIC as i32;
        // SAFETY: plain constructor; returns null on unsupported formats.
        let ctx = unsafe {
            ffi::sws_getContext(
                w,
                h,
                input.av_format(),
                w,
                h,
                output,
                flags,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null(),
            )
        };
        if ctx.is_null() {
            return Err(EncodeError::new(
                ErrorCode::InvalidPixelFormat,
                format!(
                    "cannot convert {} input to pixel format {}",
                    pix_fmt_name(input.av_format()),
                    pix_fmt_name(output)
                ),
            ));
        }
        let converter = SwsConverter { ctx, input, width, height: h, tail: Vec::new() };
        // SAFETY: the coefficient tables are static; ctx is live.
        unsafe {
            let table = ffi::sws_getCoefficients(color.matrix.av_colorspace() as i32);
            let full_range = (color.range == ColorRange::Full) as i32;
            // Source is RGB (always full range); its "table" is unused for RGB input.
            let ret = ffi::sws_setColorspaceDetails(ctx, table, 1, table, full_range, 0, 1 << 16, 1 << 16);
            if ret < 0 && !crate::core::ffmpeg::util::is_rgb_format(output) {
                return Err(EncodeError::new(ErrorCode::Encode, "swscale refused the color matrix and range"));
            }
        }
        Ok(converter)
    }

    /// Converts one picture into `dst` (allocated in the output format and size, and writable).
    pub fn convert(&mut self, picture: &RgbPicture<'_>, dst: &mut frame::Video) -> Result<()> {
        debug_assert_eq!(picture.pixels, self.input);
        let height = self.height as usize;
        let planes = if self.input == InputPixels::PlanarRgb { 3 } else { 1 };
        let row_bytes = self.width
            * if self.input == InputPixels::PackedRgba {
                4
            } else if planes == 1 {
                3
            } else {
                1
            };
        let strides: [i32; 4] = [picture.strides[0] as i32, picture.strides[1] as i32, picture.strides[2] as i32, 0];
        for p in 0..planes {
            // Checked when the frames were validated; the bounds below rely on it.
            assert!(
                picture.strides[p] >= row_bytes
                    && picture.planes[p].len() >= picture.strides[p] * (height - 1) + row_bytes
            );
        }
        // Rows `split..` go through the copy: those whose reads could pass the end of their plane. The
        // split is even so that no slice boundary cuts a pair of rows that 4:2:0 chroma is made from.
        let in_place_rows = (0..planes)
            .map(|p| {
                let (len, stride) = (picture.planes[p].len(), picture.strides[p]);
                // rows r with r * stride + row_bytes + READ_PAST <= len
                if len < row_bytes + READ_PAST {
                    0
                } else {
                    ((len - row_bytes - READ_PAST) / stride + 1).min(height)
                }
            })
            .min()
            .unwrap_or(0);
        let split = if in_place_rows == height { height } else { in_place_rows & !1 };
        // SAFETY: reading two arrays of a frame we own.
        let (dst_data, dst_strides) = unsafe { ((*dst.as_mut_ptr()).data, (*dst.as_mut_ptr()).linesize) };
        // SAFETY (both sws_scale calls below): the source pointers address `rows` rows of their stride
        // inside the caller's planes (rows < split, checked above to stay READ_PAST bytes inside them) or
        // inside `tail` (which has READ_PAST spare bytes); dst was allocated by FFmpeg for this format and size.
        let mut converted = 0;
        if split > 0 {
            let src: [*const u8; 4] =
                [picture.planes[0].as_ptr(), picture.planes[1].as_ptr(), picture.planes[2].as_ptr(), std::ptr::null()];
            converted += unsafe {
                ffi::sws_scale(
                    self.ctx,
                    src.as_ptr(),
                    strides.as_ptr(),
                    0,
                    split as i32,
                    dst_data.as_ptr(),
                    dst_strides.as_ptr(),
                )
            };
        }
        if split < height {
            let rows = height - split;
            // Plane p's rows `split..` at offsets[p], each plane `rows` rows of its stride; then the spare bytes.
            let mut offsets = [0usize; 3];
            self.tail.clear();
            for (p, offset) in offsets.iter_mut().enumerate().take(planes) {
                *offset = self.tail.len();
                let stride = picture.strides[p];
                let from = &picture.planes[p][stride * split..];
                self.tail.extend_from_slice(&from[..from.len().min(stride * rows)]);
                self.tail.resize(*offset + stride * rows, 0);
            }
            self.tail.resize(self.tail.len() + READ_PAST, 0);
            let mut src: [*const u8; 4] = [std::ptr::null(); 4];
            for (src, offset) in src.iter_mut().zip(offsets).take(planes) {
                *src = self.tail[offset..].as_ptr();
            }
            converted += unsafe {
                ffi::sws_scale(
                    self.ctx,
                    src.as_ptr(),
                    strides.as_ptr(),
                    split as i32,
                    rows as i32,
                    dst_data.as_ptr(),
                    dst_strides.as_ptr(),
                )
            };
        }
        if converted != self.height {
            return Err(EncodeError::new(
                ErrorCode::Encode,
                format!("swscale converted {converted} of {} rows", self.height),
            ));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::convert::color::ColorSpec;
    use crate::core::picture::{FrameGeometry, Layout};
    use ffi::AVPixelFormat::*;

    const LAYOUTS: [(Layout, usize); 3] = [(Layout::Nchw, 3), (Layout::Nhwc, 3), (Layout::Nhwc, 4)];
    /// nv12, gray, 4:2:2, 10-bit (the formats codecs ask swscale for), gif's rgb8, libx264rgb's bgr0,
    /// ffv1's gbrp and rgb24 (swscale's unscaled copies), 4:2:0 (normally the native kernel's).
    const FORMATS: [ffi::AVPixelFormat; 9] = [
        AV_PIX_FMT_NV12,
        AV_PIX_FMT_GRAY8,
        AV_PIX_FMT_YUV422P,
        AV_PIX_FMT_YUV420P10LE,
        AV_PIX_FMT_RGB8,
        AV_PIX_FMT_BGR0,
        AV_PIX_FMT_GBRP,
        AV_PIX_FMT_RGB24,
        AV_PIX_FMT_YUV420P,
    ];

    fn geometry(layout: Layout, channels: usize, w: usize, h: usize) -> FrameGeometry {
        let shape = match layout {
            Layout::Nchw => [1, 3, h as i64, w as i64],
            Layout::Nhwc => [1, h as i64, w as i64, channels as i64],
        };
        FrameGeometry::new(shape, layout).unwrap()
    }

    fn pattern(len: usize, mut seed: u32) -> Vec<u8> {
        (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                (seed >> 8) as u8
            })
            .collect()
    }

    /// The image in `frame`, rows packed without their padding.
    fn image_bytes(frame: &frame::Video, fmt: ffi::AVPixelFormat, w: usize, h: usize) -> Vec<u8> {
        // SAFETY: the frame holds an image of this format and size; the buffer is sized by FFmpeg.
        unsafe {
            let f = &*frame.as_ptr();
            let size = ffi::av_image_get_buffer_size(fmt, w as i32, h as i32, 1);
            let mut out = vec![0u8; size as usize];
            let ret = ffi::av_image_copy_to_buffer(
                out.as_mut_ptr(),
                size,
                f.data.as_ptr() as _,
                f.linesize.as_ptr(),
                fmt,
                w as i32,
                h as i32,
                1,
            );
            assert_eq!(ret, size);
            out
        }
    }

    /// One `sws_scale` call over the whole picture, on a copy with spare bytes after it (how swscale
    /// is normally called).
    fn reference(sws: &SwsConverter, frame: &[u8], g: &FrameGeometry, fmt: ffi::AVPixelFormat) -> Vec<u8> {
        let mut padded = frame.to_vec();
        padded.resize(frame.len() + READ_PAST, 0);
        let picture = RgbPicture::of_frame(&padded[..frame.len()], g);
        let mut dst = frame::Video::new(fmt.into(), g.width as u32, g.height as u32);
        let src: [*const u8; 4] =
            [picture.planes[0].as_ptr(), picture.planes[1].as_ptr(), picture.planes[2].as_ptr(), std::ptr::null()];
        let strides: [i32; 4] = [picture.strides[0] as i32, picture.strides[1] as i32, picture.strides[2] as i32, 0];
        // SAFETY: the planes lie in `padded`, which has READ_PAST spare bytes after the last one.
        let rows = unsafe {
            let d = dst.as_mut_ptr();
            ffi::sws_scale(
                sws.ctx,
                src.as_ptr(),
                strides.as_ptr(),
                0,
                g.height as i32,
                (*d).data.as_ptr(),
                (*d).linesize.as_ptr(),
            )
        };
        assert_eq!(rows, g.height as i32);
        image_bytes(&dst, fmt, g.width, g.height)
    }

    #[test]
    fn sliced_conversion_gives_the_same_image_as_one_call() {
        for (layout, channels) in LAYOUTS {
            for (w, h) in [(30, 16), (64, 48), (24, 9), (2, 2), (6, 1), (4, 40)] {
                let g = geometry(layout, channels, w, h);
                for fmt in FORMATS {
                    let mut sws = SwsConverter::new(g.input_pixels(), w, h, fmt, ColorSpec::default()).unwrap();
                    let whole = SwsConverter::new(g.input_pixels(), w, h, fmt, ColorSpec::default()).unwrap();
                    let mut dst = frame::Video::new(fmt.into(), w as u32, h as u32);
                    // Two pictures in a row through the same context: its state carries over correctly.
                    for seed in [7, 99] {
                        let frame = pattern(g.frame_bytes(), seed);
                        sws.convert(&RgbPicture::of_frame(&frame, &g), &mut dst).unwrap();
                        let expected = reference(&whole, &frame, &g, fmt);
                        assert!(
                            image_bytes(&dst, fmt, w, h) == expected,
                            "{layout:?} x{channels} {w}x{h} -> {}",
                            pix_fmt_name(fmt)
                        );
                    }
                }
            }
        }
    }

    /// Memory whose last byte is followed by an inaccessible page.
    struct GuardedBytes {
        map: *mut u8,
        map_len: usize,
        len: usize,
    }

    impl GuardedBytes {
        fn new(bytes: &[u8]) -> GuardedBytes {
            let page = 4096;
            let map_len = bytes.len().div_ceil(page) * page + page;
            // SAFETY: a fresh private mapping, its last page made inaccessible; unmapped in Drop.
            unsafe {
                let map = libc::mmap(
                    std::ptr::null_mut(),
                    map_len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                );
                assert_ne!(map, libc::MAP_FAILED);
                assert_eq!(libc::mprotect((map as *mut u8).add(map_len - page) as _, page, libc::PROT_NONE), 0);
                let start = (map as *mut u8).add(map_len - page - bytes.len());
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), start, bytes.len());
                GuardedBytes { map: map as *mut u8, map_len, len: bytes.len() }
            }
        }

        fn bytes(&self) -> &[u8] {
            // SAFETY: `len` initialised bytes that end at the guard page.
            unsafe { std::slice::from_raw_parts(self.map.add(self.map_len - 4096 - self.len), self.len) }
        }
    }

    impl Drop for GuardedBytes {
        fn drop(&mut self) {
            // SAFETY: our mapping, unmapped once.
            unsafe { libc::munmap(self.map as _, self.map_len) };
        }
    }

    #[test]
    fn frames_that_end_at_an_inaccessible_page_are_read_within_bounds() {
        // Before the copied last rows, swscale's readers crashed here (SIGSEGV) for NHWC input.
        for (layout, channels) in LAYOUTS {
            for (w, h) in [(64, 64), (30, 16), (2, 2)] {
                let g = geometry(layout, channels, w, h);
                let frame = pattern(g.frame_bytes(), 5);
                let guarded = GuardedBytes::new(&frame);
                for fmt in FORMATS {
                    let mut sws = SwsConverter::new(g.input_pixels(), w, h, fmt, ColorSpec::default()).unwrap();
                    let mut dst = frame::Video::new(fmt.into(), w as u32, h as u32);
                    sws.convert(&RgbPicture::of_frame(guarded.bytes(), &g), &mut dst).unwrap();
                    let whole = SwsConverter::new(g.input_pixels(), w, h, fmt, ColorSpec::default()).unwrap();
                    assert!(
                        image_bytes(&dst, fmt, w, h) == reference(&whole, &frame, &g, fmt),
                        "{layout:?} x{channels} {w}x{h} -> {}",
                        pix_fmt_name(fmt)
                    );
                }
            }
        }
    }
}
