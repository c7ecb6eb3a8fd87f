//! Containers (FFmpeg muxers), found by file extension or muxer name.

use std::path::Path;

use ffmpeg_next::ffi;

use crate::core::error::{EncodeError, ErrorCode, Result};
use crate::core::ffmpeg::util::{cstring, text};

/// An FFmpeg output format. The pointer is to FFmpeg's static muxer table, valid for the process.
#[derive(Clone, Copy)]
pub struct Container {
    ptr: *const ffi::AVOutputFormat,
}

// SAFETY: AVOutputFormat entries are immutable statics of libavformat.
unsafe impl Send for Container {}
unsafe impl Sync for Container {}

impl std::fmt::Debug for Container {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Container({})", self.name())
    }
}

impl Container {
    /// A container by file extension (`mkv`, `.ts`) or muxer name (`matroska`, `mpegts`).
    pub fn resolve(format: &str) -> Result<Container> {
        let wanted = format.trim().trim_start_matches('.').to_ascii_lowercase();
        let unknown = || {
            EncodeError::new(
                ErrorCode::UnknownFormat,
                format!(
                    "unknown format '{format}': give a file extension or FFmpeg muxer name such as mp4, mov, mkv, webm, avi, flv, gif or ts"
                ),
            )
        };
        if wanted.is_empty() || wanted.contains('\0') {
            return Err(unknown());
        }
        let name = cstring(&wanted);
        let file = cstring(&format!("x.{wanted}"));
        // SAFETY: av_guess_format only reads the strings and returns a static table entry or null.
        let mut ptr = unsafe { ffi::av_guess_format(name.as_ptr(), std::ptr::null(), std::ptr::null()) };
        if ptr.is_null() {
            ptr = unsafe { ffi::av_guess_format(std::ptr::null(), file.as_ptr(), std::ptr::null()) };
        }
        if ptr.is_null() {
            return Err(unknown());
        }
        let container = Container { ptr };
        if container.flags() & ffi::AVFMT_NOFILE as i32 != 0
            || container.default_video_codec() == ffi::AVCodecID::AV_CODEC_ID_NONE
        {
            return Err(EncodeError::new(
                ErrorCode::UnknownFormat,
                format!(
                    "format '{format}' (FFmpeg muxer '{}') cannot hold an encoded video stream written to one file",
                    container.name()
                ),
            ));
        }
        Ok(container)
    }

    /// The container named by a destination path's extension.
    pub fn from_path(path: &Path) -> Result<Container> {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if !ext.is_empty() => Container::resolve(ext),
            _ => Err(EncodeError::new(
                ErrorCode::UnknownFormat,
                format!(
                    "cannot tell the format of '{}': it has no file extension (use e.g. .mp4, .mkv, .webm)",
                    path.display()
                ),
            )),
        }
    }

    fn raw(&self) -> &ffi::AVOutputFormat {
        // SAFETY: see the type's note.
        unsafe { &*self.ptr }
    }

    pub fn as_ptr(&self) -> *const ffi::AVOutputFormat {
        self.ptr
    }

    /// The muxer's name, e.g. "matroska" for mkv.
    pub fn name(&self) -> String {
        unsafe { text(self.raw().name) }
    }

    pub fn flags(&self) -> i32 {
        self.raw().flags
    }

    pub fn default_video_codec(&self) -> ffi::AVCodecID {
        self.raw().video_codec
    }

    /// One of the mov muxer's flavours (mp4, mov, 3gp, ismv, …): a movie timescale, moov/moof boxes,
    /// `movflags`.
    pub fn is_mov_family(&self) -> bool {
        matches!(self.name().as_str(), "mp4" | "mov" | "ipod" | "3gp" | "3g2" | "psp" | "f4v" | "ismv")
    }

    /// FFmpeg's default audio codec for this muxer (`AV_CODEC_ID_NONE`: it holds no audio).
    pub fn default_audio_codec(&self) -> ffi::AVCodecID {
        self.raw().audio_codec
    }

    /// Codecs must put their headers in extradata (mp4, mkv, …) rather than in the stream.
    pub fn needs_global_header(&self) -> bool {
        self.flags() & ffi::AVFMT_GLOBALHEADER as i32 != 0
    }

    /// `false` when the muxer is known not to take this codec (e.g. h264 in webm).
    ///
    /// MPEG-TS answers "don't know" for every codec and writes the ones it has no stream type for (VP9,
    /// AV1, FLAC, PCM, …) as private data no player decodes: it is asked its own list instead.
    pub fn accepts(&self, codec: ffi::AVCodecID) -> bool {
        if self.name() == "mpegts" {
            return MPEGTS_STREAM_TYPES.contains(&codec);
        }
        // SAFETY: reads the static muxer description; < 0 means "don't know", which we accept.
        unsafe { ffi::avformat_query_codec(self.ptr, codec, ffi::FF_COMPLIANCE_NORMAL) != 0 }
    }

    /// The muxer's private option class (e.g. mov's `movflags`), or null.
    pub fn priv_class(&self) -> *const ffi::AVClass {
        self.raw().priv_class
    }
}

/// The audio and video codecs FFmpeg 7.1's MPEG-TS muxer has a stream type for (`mpegtsenc.c`,
/// `get_dvb_stream_type`); anything else it muxes as private data.
const MPEGTS_STREAM_TYPES: &[ffi::AVCodecID] = {
    use ffi::AVCodecID::*;
    &[
        AV_CODEC_ID_MPEG1VIDEO,
        AV_CODEC_ID_MPEG2VIDEO,
        AV_CODEC_ID_MPEG4,
        AV_CODEC_ID_H264,
        AV_CODEC_ID_HEVC,
        AV_CODEC_ID_VVC,
        AV_CODEC_ID_CAVS,
        AV_CODEC_ID_AVS2,
        AV_CODEC_ID_AVS3,
        AV_CODEC_ID_DIRAC,
        AV_CODEC_ID_VC1,
        AV_CODEC_ID_MP2,
        AV_CODEC_ID_MP3,
        AV_CODEC_ID_AAC,
        AV_CODEC_ID_AAC_LATM,
        AV_CODEC_ID_AC3,
        AV_CODEC_ID_EAC3,
        AV_CODEC_ID_DTS,
        AV_CODEC_ID_TRUEHD,
        AV_CODEC_ID_OPUS,
    ]
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_and_names_resolve_to_muxers() {
        for (given, muxer) in [
            ("mp4", "mp4"),
            ("mov", "mov"),
            ("mkv", "matroska"),
            (".mkv", "matroska"),
            ("matroska", "matroska"),
            ("webm", "webm"),
            ("avi", "avi"),
            ("flv", "flv"),
            ("gif", "gif"),
            ("ts", "mpegts"),
            ("MP4", "mp4"),
        ] {
            assert_eq!(Container::resolve(given).unwrap().name(), muxer, "{given}");
        }
    }

    #[test]
    fn unknown_and_imageless_formats_are_refused() {
        for bad in ["nope", "", "png", "jpg"] {
            let err = Container::resolve(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::UnknownFormat, "{bad}");
        }
        assert!(Container::resolve("nope").unwrap_err().message.contains("'nope'"));
    }

    #[test]
    fn path_without_extension_is_refused() {
        let err = Container::from_path(Path::new("/tmp/video")).unwrap_err();
        assert_eq!(err.code, ErrorCode::UnknownFormat);
    }
}
