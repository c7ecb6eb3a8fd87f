//! Core errors → JS errors, with the classes, codes, names and causes that Node's own errors have.

use napi::sys;

use crate::core::{EncodeError, ErrorCode};

use crate::js::errno::errno_name;
use crate::js::node_api::{self as js, ErrorClass, JsFault, JsVal};

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

/// The JS class an error code is thrown as, Node's own for that code: TypeError for wrong types and
/// values (`ERR_INVALID_ARG_TYPE`, `ERR_INVALID_ARG_VALUE`), RangeError for ranges.
fn class_of(code: ErrorCode) -> ErrorClass {
    match code {
        ErrorCode::InvalidArgType | ErrorCode::InvalidArgValue => ErrorClass::TypeError,
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
                    e.set("cause", system_error(env, err, io)?)?;
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

/// The Promise of a started call, or a Promise rejected with the failure that prevented it.
pub fn promise_or_rejection<'env>(
    env: sys::napi_env,
    started: Result<JsVal, Failure>,
) -> napi::bindgen_prelude::Unknown<'env> {
    let promise = match started {
        Ok(p) => p,
        Err(failure) => js::rejected_promise(env, failure_value(env, failure)),
    };
    js::unknown(promise)
}

/// Throws the failure and returns the error napi-rs expects for "an exception is already pending".
pub fn throw(env: sys::napi_env, failure: Failure) -> napi::Error {
    js::throw(failure_value(env, failure));
    napi::Error::new(napi::Status::PendingException, "framecodec error thrown")
}

/// The `cause` of a file `ERR_IO`: a system error as Node's own (`code: 'ENOSPC'`, `errno: -28`,
/// `syscall`, `path`, `dest`; message `ENOSPC: no space left on device, write '/x/.a.mp4…'`).
fn system_error(env: sys::napi_env, err: &EncodeError, io: &std::io::Error) -> Result<JsVal, JsFault> {
    let Some((errno, call)) = err.os_error() else {
        return js::error(env, ErrorClass::Error, "ERR_IO", &io.to_string());
    };
    let code = errno_name(errno);
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    let text = text.split(" (os error ").next().unwrap_or(&text);
    let mut words: Vec<char> = text.chars().collect();
    if let Some(first) = words.first_mut() {
        *first = first.to_ascii_lowercase();
    }
    let mut message = format!("{code}: {}", words.into_iter().collect::<String>());
    if let Some(call) = call {
        message.push_str(&format!(", {} '{}'", call.syscall, call.path.display()));
        if let Some(dest) = &call.dest {
            message.push_str(&format!(" -> '{}'", dest.display()));
        }
    }
    let cause = js::error(env, ErrorClass::Error, &code, &message)?;
    // Node's system errors carry errno negated (libuv's convention).
    cause.set("errno", js::number(env, -(errno as f64))?)?;
    if let Some(call) = call {
        cause.set("syscall", js::string(env, call.syscall)?)?;
        cause.set("path", js::string(env, &call.path.to_string_lossy())?)?;
        if let Some(dest) = &call.dest {
            cause.set("dest", js::string(env, &dest.to_string_lossy())?)?;
        }
    }
    Ok(cause)
}
