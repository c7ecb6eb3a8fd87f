//! Errors of the core, each with a stable code that reaches JavaScript unchanged (`err.code`).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// The stable error codes of framecodec's public contract (README, "Errors").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// A value of the wrong type (JS TypeError).
    InvalidArgType,
    /// A value of the right type that is not allowed.
    InvalidArgValue,
    /// A number outside its allowed range (JS RangeError in the constructor).
    OutOfRange,
    UnknownCodec,
    UnknownFormat,
    InvalidPixelFormat,
    InvalidOption,
    /// The destination could not be created or written.
    Io,
    /// The encode was aborted through its `AbortSignal`.
    Aborted,
    /// The encoder exists but cannot run on this machine (e.g. NVENC without an NVENC GPU).
    EncoderUnavailable,
    /// Any other FFmpeg failure.
    Encode,
    CudaUnavailable,
    /// A call that the object's state does not allow (a writer written to after `close()`).
    InvalidState,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidArgType => "ERR_INVALID_ARG_TYPE",
            ErrorCode::InvalidArgValue => "ERR_INVALID_ARG_VALUE",
            ErrorCode::OutOfRange => "ERR_OUT_OF_RANGE",
            ErrorCode::UnknownCodec => "ERR_UNKNOWN_CODEC",
            ErrorCode::UnknownFormat => "ERR_UNKNOWN_FORMAT",
            ErrorCode::InvalidPixelFormat => "ERR_INVALID_PIXEL_FORMAT",
            ErrorCode::InvalidOption => "ERR_INVALID_OPTION",
            ErrorCode::Io => "ERR_IO",
            ErrorCode::Aborted => "ABORT_ERR",
            ErrorCode::EncoderUnavailable => "ERR_ENCODER_UNAVAILABLE",
            ErrorCode::Encode => "ERR_ENCODE",
            ErrorCode::CudaUnavailable => "ERR_CUDA_UNAVAILABLE",
            ErrorCode::InvalidState => "ERR_INVALID_STATE",
        }
    }
}

/// A number as messages show it: as JavaScript writes it (`Infinity`, `NaN`), where Rust would write `inf`.
pub fn number_text(n: f64) -> String {
    match n {
        n if n.is_nan() => "NaN".into(),
        f64::INFINITY => "Infinity".into(),
        f64::NEG_INFINITY => "-Infinity".into(),
        n => n.to_string(),
    }
}

/// An error of the core: a code, a message for people, and for I/O failures the underlying error.
#[derive(Debug)]
pub struct EncodeError {
    pub code: ErrorCode,
    pub message: String,
    /// The I/O error behind an [`ErrorCode::Io`] failure, when there is one.
    pub io_cause: Option<io::Error>,
}

impl EncodeError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        EncodeError { code, message: message.into(), io_cause: None }
    }

    pub fn io(message: impl Into<String>, cause: io::Error) -> Self {
        let mut text = cause.to_string();
        // Rust appends " (os error N)" to OS errors; the JS error's cause carries the code instead.
        if let Some(i) = text.find(" (os error ") {
            text.truncate(i);
        }
        let message = format!("{}: {}", message.into(), text);
        EncodeError { code: ErrorCode::Io, message, io_cause: Some(cause) }
    }

    /// The OS error behind an [`ErrorCode::Io`] failure: its errno and, where known, the system call
    /// and path it failed on.
    pub fn os_error(&self) -> Option<(i32, Option<&SysCall>)> {
        let io = self.io_cause.as_ref()?;
        if let Some(call) = io.get_ref().and_then(|e| e.downcast_ref::<SysCall>()) {
            return Some((call.errno, Some(call)));
        }
        io.raw_os_error().map(|errno| (errno, None))
    }

    pub fn aborted() -> Self {
        EncodeError::new(ErrorCode::Aborted, "The operation was aborted")
    }

    pub fn invalid_option(message: impl Into<String>) -> Self {
        EncodeError::new(ErrorCode::InvalidOption, message)
    }

    pub fn invalid_value(message: impl Into<String>) -> Self {
        EncodeError::new(ErrorCode::InvalidArgValue, message)
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code.as_str())
    }
}

impl std::error::Error for EncodeError {}

pub type Result<T> = std::result::Result<T, EncodeError>;

/// An OS error with the system call and path it failed on, as Node's system errors carry them
/// (`errno`, `syscall`, `path`, `dest`). It travels inside an `io::Error` (see [`sys_error`]), so
/// every layer that passes `io::Error`s along keeps it.
#[derive(Debug, Clone)]
pub struct SysCall {
    pub errno: i32,
    pub syscall: &'static str,
    pub path: PathBuf,
    /// The second path of a two-path call (`rename`).
    pub dest: Option<PathBuf>,
}

impl fmt::Display for SysCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = io::Error::from_raw_os_error(self.errno).to_string();
        // the OS's words without Rust's " (os error N)": the code is carried separately
        f.write_str(text.split(" (os error ").next().unwrap_or(&text))
    }
}

impl std::error::Error for SysCall {}

/// Tags an OS error with the call and path it came from; other errors are returned unchanged.
pub fn sys_error(err: io::Error, syscall: &'static str, path: &Path, dest: Option<&Path>) -> io::Error {
    match err.raw_os_error() {
        Some(errno) => io::Error::new(
            err.kind(),
            SysCall { errno, syscall, path: path.to_path_buf(), dest: dest.map(Path::to_path_buf) },
        ),
        None => err,
    }
}

/// A copy of an I/O error that keeps what matters to the caller: the errno, the system call and path.
pub fn copy_io_error(e: &io::Error) -> io::Error {
    if let Some(call) = e.get_ref().and_then(|inner| inner.downcast_ref::<SysCall>()) {
        return io::Error::new(e.kind(), call.clone());
    }
    match e.raw_os_error() {
        Some(errno) => io::Error::from_raw_os_error(errno),
        None => io::Error::new(e.kind(), e.to_string()),
    }
}
