//! Errors of the core, each with a stable code that reaches JavaScript unchanged (`err.code`).

use std::fmt;
use std::io;

/// The stable error codes of framecodec's public contract (`../shared/design.md` §1).
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
        }
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
