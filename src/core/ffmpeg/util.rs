//! Small helpers around raw FFmpeg values: C strings, error texts, name lists.

use std::ffi::{CStr, CString};

use ffmpeg_next::ffi;

use super::log::LogCapture;
use crate::core::error::{EncodeError, ErrorCode};

/// A C string for FFmpeg; names with NUL bytes cannot be FFmpeg names, so they map to "" (never found).
pub fn cstring(s: &str) -> CString {
    CString::new(s).unwrap_or_default()
}

/// A borrowed C string as text ("" for null).
///
/// # Safety
/// `p` is null or points to a NUL-terminated string that outlives the returned value's use.
pub unsafe fn text(p: *const std::ffi::c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

/// The entries of one of libavcodec's static lists (an encoder's pixel formats, sample formats, rates,
/// channel layouts) up to its terminator, for which `end` is true; empty for a null list.
///
/// # Safety
/// `p` is null or points to a list terminated by an entry for which `end` is true.
pub unsafe fn terminated_list<T: Copy>(mut p: *const T, end: impl Fn(&T) -> bool) -> Vec<T> {
    let mut out = Vec::new();
    if p.is_null() {
        return out;
    }
    // SAFETY: every entry up to and including the terminator is readable (the caller's contract).
    unsafe {
        while !end(&*p) {
            out.push(*p);
            p = p.add(1);
        }
    }
    out
}

/// FFmpeg's description of an AVERROR code.
pub fn av_error_text(code: i32) -> String {
    let mut buf = [0 as std::ffi::c_char; 256];
    // SAFETY: av_strerror writes at most buf.len() bytes, NUL-terminated.
    unsafe {
        ffi::av_strerror(code, buf.as_mut_ptr(), buf.len());
        text(buf.as_ptr())
    }
}

/// An error for a failed FFmpeg call: our context, FFmpeg's error text and what FFmpeg logged.
pub fn ffmpeg_failure(code: ErrorCode, context: &str, averror: i32, log: &LogCapture) -> EncodeError {
    let logged = log.take();
    let mut message = format!("{context}: {}", av_error_text(averror));
    if !logged.is_empty() {
        message.push_str(&format!(" (FFmpeg: {logged})"));
    }
    EncodeError::new(code, message)
}

/// Pixel format name, e.g. "yuv420p".
pub fn pix_fmt_name(fmt: ffi::AVPixelFormat) -> String {
    // SAFETY: returns a static string or null.
    unsafe { text(ffi::av_get_pix_fmt_name(fmt)) }
}

/// Whether a format stores RGB (no YUV matrix or range applies, so no color tags are written).
pub fn is_rgb_format(f: ffi::AVPixelFormat) -> bool {
    let desc = unsafe { ffi::av_pix_fmt_desc_get(f) };
    !desc.is_null() && unsafe { (*desc).flags } & (ffi::AV_PIX_FMT_FLAG_RGB | ffi::AV_PIX_FMT_FLAG_PAL) as u64 != 0
}
