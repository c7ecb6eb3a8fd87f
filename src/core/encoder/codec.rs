//! Choosing the video encoder and its pixel format.

use ffmpeg_next::ffi;

use crate::core::error::{EncodeError, ErrorCode, Result};
use crate::core::ffmpeg::util::{cstring, pix_fmt_name, terminated_list, text};
use crate::core::mux::container::Container;

/// An FFmpeg video encoder. The pointer is to libavcodec's static codec table.
#[derive(Clone, Copy)]
pub struct VideoCodec {
    ptr: *const ffi::AVCodec,
}

// SAFETY: AVCodec entries are immutable statics of libavcodec.
unsafe impl Send for VideoCodec {}
unsafe impl Sync for VideoCodec {}

impl std::fmt::Debug for VideoCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VideoCodec({})", self.name())
    }
}

impl VideoCodec {
    /// An encoder by implementation name (`libx264`, `h264_nvenc`) or by codec name (`h264`, `hevc`,
    /// `vp9`, `av1`), or the container's default when `name` is `None`.
    pub fn find(name: Option<&str>, container: &Container) -> Result<VideoCodec> {
        let Some(name) = name else {
            let id = container.default_video_codec();
            return encoder_for_id(id).map(|ptr| VideoCodec { ptr }).ok_or_else(|| {
                EncodeError::new(
                    ErrorCode::UnknownCodec,
                    format!(
                        "this FFmpeg has no encoder for {}'s default codec {}: pass options.codec",
                        container.name(),
                        codec_id_name(id)
                    ),
                )
            });
        };
        let hint = "give an FFmpeg encoder name (libx264, libx265, libvpx-vp9, libsvtav1, mpeg4, …) or a codec name (h264, hevc, vp9, av1, …)";
        find_encoder(name, ffi::AVMediaType::AVMEDIA_TYPE_VIDEO, hint).map(|ptr| VideoCodec { ptr })
    }

    fn raw(&self) -> &ffi::AVCodec {
        // SAFETY: see the type's note.
        unsafe { &*self.ptr }
    }

    pub fn as_ptr(&self) -> *const ffi::AVCodec {
        self.ptr
    }

    pub fn name(&self) -> String {
        unsafe { text(self.raw().name) }
    }

    pub fn id(&self) -> ffi::AVCodecID {
        self.raw().id
    }

    /// Hardware encoders (NVENC, VAAPI, …) can exist in FFmpeg yet have no device to run on.
    pub fn is_hardware(&self) -> bool {
        self.raw().capabilities as u32 & ffi::AV_CODEC_CAP_HARDWARE != 0
    }

    /// The pixel formats the encoder takes, in its order of preference (empty: it takes anything).
    pub fn pixel_formats(&self) -> Vec<ffi::AVPixelFormat> {
        // SAFETY: pix_fmts is null or a static list terminated by AV_PIX_FMT_NONE.
        unsafe { terminated_list(self.raw().pix_fmts, |f| *f == ffi::AVPixelFormat::AV_PIX_FMT_NONE) }
    }

    /// The pixel format to encode in: the one asked for, checked against the encoder's list, or the
    /// encoder's first (software) format. Odd sizes are refused for formats that subsample that axis.
    pub fn choose_pixel_format(
        &self,
        requested: Option<&str>,
        width: usize,
        height: usize,
    ) -> Result<ffi::AVPixelFormat> {
        let supported: Vec<_> = self.pixel_formats().into_iter().filter(|&f| !is_hardware_format(f)).collect();
        let list = || supported.iter().map(|&f| pix_fmt_name(f)).collect::<Vec<_>>().join(", ");
        let format = match requested {
            None => match supported.first() {
                Some(&f) => f,
                None => ffi::AVPixelFormat::AV_PIX_FMT_YUV420P,
            },
            Some(name) => {
                let c_name = cstring(name);
                // SAFETY: a table lookup.
                let f = unsafe { ffi::av_get_pix_fmt(c_name.as_ptr()) };
                if f == ffi::AVPixelFormat::AV_PIX_FMT_NONE {
                    return Err(EncodeError::new(
                        ErrorCode::InvalidPixelFormat,
                        format!("unknown pixel format '{name}'; {} supports: {}", self.name(), list()),
                    ));
                }
                if !supported.is_empty() && !supported.contains(&f) {
                    return Err(EncodeError::new(
                        ErrorCode::InvalidPixelFormat,
                        format!("pixel format '{name}' is not supported by {}; it supports: {}", self.name(), list()),
                    ));
                }
                f
            }
        };
        // SAFETY: plain queries of swscale's format tables.
        if unsafe { ffi::sws_isSupportedOutput(format) } == 0 || is_hardware_format(format) {
            return Err(EncodeError::new(
                ErrorCode::InvalidPixelFormat,
                format!(
                    "cannot convert RGB frames to pixel format '{}'; {} supports: {}",
                    pix_fmt_name(format),
                    self.name(),
                    list()
                ),
            ));
        }
        check_subsampling(format, width, height)?;
        Ok(format)
    }
}

fn is_hardware_format(f: ffi::AVPixelFormat) -> bool {
    // SAFETY: descriptor lookup; null for unknown formats.
    let desc = unsafe { ffi::av_pix_fmt_desc_get(f) };
    desc.is_null() || unsafe { (*desc).flags } & ffi::AV_PIX_FMT_FLAG_HWACCEL as u64 != 0
}

fn check_subsampling(format: ffi::AVPixelFormat, width: usize, height: usize) -> Result<()> {
    let desc = unsafe { ffi::av_pix_fmt_desc_get(format) };
    if desc.is_null() {
        return Ok(());
    }
    let (log2_w, log2_h) = unsafe { ((*desc).log2_chroma_w, (*desc).log2_chroma_h) };
    let name = pix_fmt_name(format);
    let odd = |n: usize, log2: u8| log2 > 0 && !n.is_multiple_of(1 << log2);
    let problem = match (odd(width, log2_w), odd(height, log2_h)) {
        (true, true) => Some(format!("width {width} and height {height} are")),
        (true, false) => Some(format!("width {width} is")),
        (false, true) => Some(format!("height {height} is")),
        _ => None,
    };
    match problem {
        None => Ok(()),
        Some(what) => Err(EncodeError::invalid_value(format!(
            "{what} not a multiple of {} as pixel format {name} needs (it subsamples chroma); use even sizes or pixelFormat 'yuv444p'",
            if odd(width, log2_w) { 1 << log2_w } else { 1 << log2_h }
        ))),
    }
}

/// An encoder of `media` type by implementation name (`libx264`, `libopus`) or by codec name (`h264`,
/// `opus`); `hint` tells what names to give when the name is unknown.
pub(super) fn find_encoder(name: &str, media: ffi::AVMediaType, hint: &str) -> Result<*const ffi::AVCodec> {
    let kind = if media == ffi::AVMediaType::AVMEDIA_TYPE_AUDIO { "audio" } else { "video" };
    let article = if kind == "audio" { "an" } else { "a" };
    let c_name = cstring(name);
    // SAFETY: lookups in libavcodec's static tables.
    let by_name = unsafe { ffi::avcodec_find_encoder_by_name(c_name.as_ptr()) };
    if !by_name.is_null() {
        // SAFETY: a static table entry.
        if unsafe { (*by_name).type_ } != media {
            return Err(EncodeError::new(
                ErrorCode::UnknownCodec,
                format!("codec '{name}' is not {article} {kind} encoder"),
            ));
        }
        return Ok(by_name);
    }
    // SAFETY: a table lookup; null for unknown names.
    let descriptor = unsafe { ffi::avcodec_descriptor_get_by_name(c_name.as_ptr()) };
    if descriptor.is_null() || name.is_empty() {
        return Err(EncodeError::new(ErrorCode::UnknownCodec, format!("unknown codec '{name}': {hint}")));
    }
    // SAFETY: a static descriptor (checked non-null).
    let descriptor = unsafe { &*descriptor };
    if descriptor.type_ != media {
        return Err(EncodeError::new(ErrorCode::UnknownCodec, format!("codec '{name}' is not {article} {kind} codec")));
    }
    encoder_for_id(descriptor.id).ok_or_else(|| {
        EncodeError::new(ErrorCode::UnknownCodec, format!("this FFmpeg has no encoder for codec '{name}'"))
    })
}

/// The encoder FFmpeg would pick for a codec id, preferring software encoders that run anywhere
/// over hardware ones (NVENC, VAAPI, …) and stable ones over experimental ones.
pub(super) fn encoder_for_id(id: ffi::AVCodecID) -> Option<*const ffi::AVCodec> {
    let mut fallback = None;
    let mut opaque = std::ptr::null_mut();
    loop {
        // SAFETY: iterates libavcodec's static codec list.
        let ptr = unsafe { ffi::av_codec_iterate(&mut opaque) };
        if ptr.is_null() {
            return fallback;
        }
        // SAFETY: a static table entry.
        let codec = unsafe { &*ptr };
        // SAFETY: a query of the same static entry.
        if unsafe { ffi::av_codec_is_encoder(ptr) } == 0 || codec.id != id {
            continue;
        }
        let caps = codec.capabilities as u32;
        if caps & (ffi::AV_CODEC_CAP_HARDWARE | ffi::AV_CODEC_CAP_EXPERIMENTAL) == 0 {
            return Some(ptr);
        }
        fallback.get_or_insert(ptr);
    }
}

pub(super) fn codec_id_name(id: ffi::AVCodecID) -> String {
    // SAFETY: avcodec_get_name returns a static string for any id.
    unsafe { text(ffi::avcodec_get_name(id)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mp4() -> Container {
        Container::resolve("mp4").unwrap()
    }

    #[test]
    fn defaults_follow_the_container() {
        for (fmt, codec) in [
            ("mp4", "libx264"),
            ("mkv", "libx264"),
            ("webm", "libvpx-vp9"),
            ("avi", "mpeg4"),
            ("flv", "flv"),
            ("gif", "gif"),
        ] {
            let c = Container::resolve(fmt).unwrap();
            assert_eq!(VideoCodec::find(None, &c).unwrap().name(), codec, "{fmt}");
        }
    }

    #[test]
    fn spec_names_map_to_software_encoders() {
        for (given, name) in [
            ("h264", "libx264"),
            ("hevc", "libx265"),
            ("vp9", "libvpx-vp9"),
            ("mpeg4", "mpeg4"),
            ("libx264", "libx264"),
        ] {
            assert_eq!(VideoCodec::find(Some(given), &mp4()).unwrap().name(), name, "{given}");
        }
    }

    #[test]
    fn unknown_and_non_video_codecs_are_refused() {
        for bad in ["nope", "aac", ""] {
            let err = VideoCodec::find(Some(bad), &mp4()).unwrap_err();
            assert_eq!(err.code, ErrorCode::UnknownCodec, "{bad}");
        }
    }

    #[test]
    fn pixel_format_defaults_and_checks() {
        let x264 = VideoCodec::find(Some("libx264"), &mp4()).unwrap();
        assert_eq!(pix_fmt_name(x264.choose_pixel_format(None, 64, 48).unwrap()), "yuv420p");
        let err = x264.choose_pixel_format(Some("pal8"), 64, 48).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidPixelFormat);
        assert!(err.message.contains("yuv420p"), "{}", err.message);
        let err = x264.choose_pixel_format(Some("nope"), 64, 48).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidPixelFormat);
        let err = x264.choose_pixel_format(None, 65, 48).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgValue);
        assert!(err.message.contains("yuv444p") && err.message.contains("65"), "{}", err.message);
        assert!(x264.choose_pixel_format(Some("yuv444p"), 65, 47).is_ok());
    }
}
