//! FFmpeg's log, captured per encode so failures can carry FFmpeg's own words.
//!
//! Why: FFmpeg reports most failures as a bare AVERROR (EINVAL, EIO) and says *what* went wrong only
//! through av_log ("baseline profile doesn't support 4:4:4"). A library must not print to the host
//! app's stderr either. So one process-wide callback collects warnings and errors into a buffer of the
//! thread that is encoding (a [`LogCapture`] guard) and drops everything else. Set
//! `FRAMECODEC_LOG=1` to also see FFmpeg's messages on stderr.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::Once;

use ffmpeg_next::ffi;

thread_local! {
    static CAPTURED: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

static INSTALL: Once = Once::new();

#[cfg(target_arch = "x86_64")]
type VaList = *mut ffi::__va_list_tag;
#[cfg(not(target_arch = "x86_64"))]
type VaList = ffi::va_list;

/// Installs the log callback once per process (and initialises FFmpeg's network-free defaults).
pub fn install() {
    INSTALL.call_once(|| unsafe {
        // SAFETY: setting a process-wide callback; ours is thread-safe (thread-local buffers only).
        ffi::av_log_set_callback(Some(log_callback));
    });
}

unsafe extern "C" fn log_callback(avcl: *mut c_void, level: c_int, fmt: *const c_char, vl: VaList) {
    if level > ffi::AV_LOG_WARNING as c_int {
        return;
    }
    let mut line = [0 as c_char; 1024];
    // No "[libx264 @ 0x…]" prefix: our messages name the encoder already.
    let mut print_prefix: c_int = 0;
    // SAFETY: FFmpeg formats its own message into our buffer (truncating at its size).
    unsafe {
        ffi::av_log_format_line2(avcl, level, fmt, vl, line.as_mut_ptr(), line.len() as c_int, &mut print_prefix);
    }
    let text = unsafe { CStr::from_ptr(line.as_ptr()) }.to_string_lossy().trim().to_string();
    if text.is_empty() {
        return;
    }
    if std::env::var_os("FRAMECODEC_LOG").is_some() {
        eprintln!("[ffmpeg] {text}");
    }
    // A panic must not unwind into C: try_with and a non-panicking borrow.
    let _ = CAPTURED.try_with(|c| {
        if let Ok(mut c) = c.try_borrow_mut() {
            if let Some(lines) = c.as_mut() {
                if lines.len() < 50 {
                    lines.push(text);
                }
            }
        }
    });
}

/// Collects FFmpeg's warnings and errors logged on this thread while it lives.
pub struct LogCapture {
    previous: Option<Vec<String>>,
}

impl LogCapture {
    pub fn start() -> LogCapture {
        install();
        let previous = CAPTURED.with(|c| c.borrow_mut().replace(Vec::new()));
        LogCapture { previous }
    }

    /// What was logged since the last `take`, joined into one line ("" when nothing).
    pub fn take(&self) -> String {
        CAPTURED.with(|c| match c.borrow_mut().as_mut() {
            Some(lines) => std::mem::take(lines).join("; "),
            None => String::new(),
        })
    }
}

impl Drop for LogCapture {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CAPTURED.with(|c| *c.borrow_mut() = previous);
    }
}
