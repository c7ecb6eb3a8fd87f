//! Core errors → JS errors, with the classes, codes, names and causes that Node's own errors have.

use napi::sys;

use crate::core::{EncodeError, ErrorCode};

use super::napi_value::{self as js, ErrorClass, JsFault, JsVal};

/// A failure in the binding layer: one of ours (with a code), or a JS exception to pass on as is.
pub enum Failure {
    Encode(EncodeError),
    /// A JS value to throw or reject with unchanged (an exception from a getter or a user callback).
    Js(JsVal),
    Fault(JsFault),
}

impl From<EncodeError> for Failure {
    fn from(e: EncodeError) -> Self {
        Failure::Encode(e)
    }
}

impl From<JsFault> for Failure {
    fn from(f: JsFault) -> Self {
        Failure::Fault(f)
    }
}

/// The JS class an error code is thrown as: TypeError for wrong types, RangeError for ranges.
fn class_of(code: ErrorCode) -> ErrorClass {
    match code {
        ErrorCode::InvalidArgType => ErrorClass::TypeError,
        ErrorCode::OutOfRange => ErrorClass::RangeError,
        _ => ErrorClass::Error,
    }
}

/// Builds the JS error for a core error. `cause` is the `cause` of an `AbortError` (`signal.reason`,
/// as Node's own) or of an `ERR_IO` from a stream (the stream's error); I/O errors of files get a
/// system error (`code: 'ENOENT'`, …) as cause.
pub fn to_js_error(env: sys::napi_env, err: &EncodeError, cause: Option<JsVal>) -> JsVal {
    let build = || -> Result<JsVal, JsFault> {
        let e = js::error(env, class_of(err.code), err.code.as_str(), &err.message)?;
        match err.code {
            ErrorCode::Aborted => {
                e.set("name", js::string(env, "AbortError")?)?;
                if let Some(reason) = cause {
                    e.set("cause", reason)?;
                }
            }
            ErrorCode::Io => {
                if let Some(cause) = cause {
                    e.set("cause", cause)?;
                } else if let Some(io) = &err.io_cause {
                    let cause = js::error(env, ErrorClass::Error, io_code(io), &io.to_string())?;
                    if let Some(errno) = io.raw_os_error() {
                        cause.set("errno", js::number(env, -(errno as f64))?)?;
                    }
                    e.set("cause", cause)?;
                }
            }
            _ => {}
        }
        Ok(e)
    };
    build().unwrap_or_else(|_| js::take_exception(env).unwrap_or_else(|| js::undefined(env)))
}

/// The JS value to throw or reject with for a failure.
pub fn failure_value(env: sys::napi_env, failure: Failure) -> JsVal {
    match failure {
        Failure::Encode(e) => to_js_error(env, &e, None),
        Failure::Js(v) => v,
        Failure::Fault(JsFault::Pending) => js::take_exception(env).unwrap_or_else(|| js::undefined(env)),
        Failure::Fault(JsFault::Status(s)) => {
            let e = EncodeError::new(ErrorCode::Encode, format!("Node-API call failed with status {s}"));
            to_js_error(env, &e, None)
        }
    }
}

/// Throws the failure and returns the error napi-rs expects for "an exception is already pending".
pub fn throw(env: sys::napi_env, failure: Failure) -> napi::Error {
    js::throw(failure_value(env, failure));
    napi::Error::new(napi::Status::PendingException, "framecodec error thrown")
}

/// Node's errno-style code for an I/O error (`ENOENT`, `EACCES`, …).
fn io_code(e: &std::io::Error) -> &'static str {
    match e.raw_os_error() {
        Some(libc::ENOENT) => "ENOENT",
        Some(libc::EACCES) => "EACCES",
        Some(libc::EPERM) => "EPERM",
        Some(libc::ENOSPC) => "ENOSPC",
        Some(libc::EEXIST) => "EEXIST",
        Some(libc::EISDIR) => "EISDIR",
        Some(libc::ENOTDIR) => "ENOTDIR",
        Some(libc::EROFS) => "EROFS",
        Some(libc::EPIPE) => "EPIPE",
        Some(libc::EIO) => "EIO",
        _ => "ERR_IO",
    }
}
