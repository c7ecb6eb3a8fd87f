//! Keeping the frames' memory readable by the encode threads for as long as a `VideoEncoder` lives.
//!
//! Why this is needed: the frames are read in place, from other threads, long after the constructor
//! returned. A reference keeps the typed array alive, but not its memory: `structuredClone(x,
//! { transfer })`, `postMessage(x, [x.buffer])` and `ArrayBuffer.prototype.transfer()` *detach* it and
//! hand the memory to a new owner, which frees it when it likes; a resizable `ArrayBuffer` can shrink
//! (`resize(0)`) and free it. Node-API cannot pin a backing store, so:
//! - an ordinary `ArrayBuffer` is marked untransferable (`worker_threads.markAsUntransferable`, as Node
//!   does for its own Buffer pool): transferring it then copies or throws instead of detaching it;
//! - where that mark does not stop `ArrayBuffer.prototype.transfer()` (a Node whose mark sets no detach
//!   key; probed once), or cannot be set (Node older than 20.16 has no `process.getBuiltinModule`), and
//!   for resizable `ArrayBuffer`s, the frames are copied once, here, into memory framecodec owns;
//! - a `SharedArrayBuffer` can neither be detached nor shrink: read in place.
//!
//! A buffer already detached when the constructor runs is refused.
//!
//! Note: [Bytes last]. Marking the buffer and asking whether it is resizable run JavaScript, and so
//! may a getter of the buffer itself: an own `resizable` getter can detach or shrink the buffer, or lie
//! ("not resizable", then `resize(0)` once the frames are kept in place). So whether it is resizable is
//! asked of `ArrayBuffer.prototype`'s getter, never of the buffer, and the bytes (their address and
//! length, and whether the buffer is detached) are taken only after every JavaScript call, with none
//! in between: what was read before is never used. (A program that replaces `ArrayBuffer.prototype`'s
//! own getter, `process.getBuiltinModule` or `markAsUntransferable` before framecodec looks is out of
//! reach: Node-API cannot ask V8 directly.)

use std::sync::OnceLock;

use napi::bindgen_prelude::{Uint8Array, Uint8ClampedArray};
use napi::sys;

use crate::core::{EncodeError, ErrorCode, HostBytes};

use crate::js::errors::Failure;
use crate::js::node_api::{self as js, typed_array_name, JsVal};

/// A JS typed array's bytes, readable from encode threads while this lives.
pub enum JsBytes {
    /// Read in place (the typed array is referenced; its ArrayBuffer cannot be detached or shrunk).
    Uint8(Uint8Array),
    Clamped(Uint8ClampedArray),
    /// A copy, where the memory could not be kept in place.
    Copied(Vec<u8>),
}

impl HostBytes for JsBytes {
    fn bytes(&self) -> &[u8] {
        match self {
            JsBytes::Uint8(a) => a.as_ref(),
            JsBytes::Clamped(a) => a.as_ref(),
            JsBytes::Copied(v) => v,
        }
    }
}

fn type_error(message: String) -> Failure {
    Failure::Encode(EncodeError::new(ErrorCode::InvalidArgType, message))
}

/// The bytes of a uint8 typed array, borrowed for the current call only (e.g. to copy them).
pub fn typed_bytes(data: JsVal) -> Result<JsBytes, Failure> {
    Ok(borrowed(data)?.0)
}

/// The length of a uint8 typed array (`ERR_INVALID_ARG_TYPE` for anything else), without holding it.
pub fn uint8_length(data: JsVal) -> Result<usize, Failure> {
    let Some(info) = data.typed_array() else {
        return Err(type_error(format!(
            "frames data must be a Uint8Array, Uint8ClampedArray or Buffer (uint8 values), got {}",
            data.describe_type()
        )));
    };
    match info.kind {
        sys::TypedarrayType::uint8_array | sys::TypedarrayType::uint8_clamped_array => Ok(info.length),
        other => Err(type_error(format!(
            "frames data must hold uint8 values (Uint8Array, Uint8ClampedArray or Buffer), got {}",
            typed_array_name(other)
        ))),
    }
}

/// The bytes of a uint8 typed array, with the buffer under them and whether that is an `ArrayBuffer`.
fn borrowed(data: JsVal) -> Result<(JsBytes, JsVal, bool), Failure> {
    uint8_length(data)?;
    let Some(info) = data.typed_array() else {
        return Err(type_error(format!("frames data must be a Uint8Array, got {}", data.describe_type())));
    };
    let (buffer, is_array_buffer) = data.typed_array_buffer()?;
    if buffer.is_detached_array_buffer() {
        return Err(Failure::Encode(EncodeError::invalid_value(
            "frames data's ArrayBuffer is detached (it was transferred, e.g. by postMessage or structuredClone): pass frames whose memory is still attached",
        )));
    }
    let bytes = match info.kind {
        sys::TypedarrayType::uint8_array => JsBytes::Uint8(js::uint8_array(data).map_err(|e| type_error(e.reason))?),
        sys::TypedarrayType::uint8_clamped_array => {
            JsBytes::Clamped(js::uint8_clamped_array(data).map_err(|e| type_error(e.reason))?)
        }
        other => {
            return Err(type_error(format!(
                "frames data must hold uint8 values (Uint8Array, Uint8ClampedArray or Buffer), got {}",
                typed_array_name(other)
            )))
        }
    };
    Ok((bytes, buffer, is_array_buffer))
}

/// The bytes of a uint8 typed array, kept readable for as long as the result lives: in place where
/// the memory can be kept from being detached or shrunk, else copied (see the notes at the top).
pub fn lasting_bytes(data: JsVal) -> Result<JsBytes, Failure> {
    uint8_length(data)?;
    let (buffer, is_array_buffer) = data.typed_array_buffer()?;
    let in_place = !is_array_buffer || keep_in_place(buffer)?;
    // See [Bytes last]: no JavaScript runs from here on.
    let (bytes, _, _) = borrowed(data)?;
    if in_place {
        return Ok(bytes);
    }
    Ok(JsBytes::Copied(bytes.bytes().to_vec()))
}

/// Marks an `ArrayBuffer` untransferable; `true` if that keeps its memory in place for good.
fn keep_in_place(buffer: JsVal) -> Result<bool, Failure> {
    if is_resizable(buffer)? {
        return Ok(false);
    }
    let Some(mark) = mark_as_untransferable(buffer.env)? else { return Ok(false) };
    mark.call(&[buffer]).map_err(Failure::Js)?;
    Ok(mark_stops_transfer(buffer.env, mark))
}

/// Whether an `ArrayBuffer` may change size, asked of `ArrayBuffer.prototype`'s own `resizable` getter
/// (a property of the buffer itself may lie; see [Bytes last]). Where this JavaScript has no such
/// getter (no resizable buffers before V8 11), or it is not one, the answer is "maybe": copy.
fn is_resizable(buffer: JsVal) -> Result<bool, Failure> {
    let env = buffer.env;
    let global = js::global(env)?;
    let prototype = global.get("ArrayBuffer")?.get("prototype")?;
    let describe = global.get("Object")?.get("getOwnPropertyDescriptor")?;
    if !prototype.is_object() || !describe.is_function() {
        return Ok(true);
    }
    let descriptor =
        describe.call_on(global, &[prototype.raw, js::string(env, "resizable")?.raw]).map_err(Failure::Js)?;
    let getter = if descriptor.is_object() { descriptor.get("get")? } else { js::undefined(env) };
    if !getter.is_function() {
        return Ok(true);
    }
    let answer = getter.call_on(buffer, &[]).map_err(Failure::Js)?;
    Ok(answer.boolean() != Some(false))
}

/// `worker_threads.markAsUntransferable`, where `process.getBuiltinModule` can reach it.
fn mark_as_untransferable(env: sys::napi_env) -> Result<Option<JsVal>, Failure> {
    let process = js::global(env)?.get("process")?;
    if !process.is_object() {
        return Ok(None);
    }
    let get_builtin = process.get("getBuiltinModule")?;
    if !get_builtin.is_function() {
        return Ok(None);
    }
    let name = js::string(env, "node:worker_threads")?;
    let module = get_builtin.call_on(process, &[name.raw]).map_err(Failure::Js)?;
    if !module.is_object() {
        return Ok(None);
    }
    let mark = module.get("markAsUntransferable")?;
    Ok(mark.is_function().then_some(mark))
}

/// Whether a marked `ArrayBuffer` refuses `ArrayBuffer.prototype.transfer()` in this Node (true where
/// there is no such method). Probed once per process on a throwaway buffer.
fn mark_stops_transfer(env: sys::napi_env, mark: JsVal) -> bool {
    static STOPS: OnceLock<bool> = OnceLock::new();
    *STOPS.get_or_init(|| {
        let probe = || -> Result<bool, Failure> {
            let transfer = js::global(env)?.get("ArrayBuffer")?.get("prototype")?.get("transfer")?;
            if !transfer.is_function() {
                return Ok(true);
            }
            let scratch = js::array_buffer(env, 1)?;
            mark.call(&[scratch]).map_err(Failure::Js)?;
            Ok(transfer.call_on(scratch, &[]).is_err() && !scratch.is_detached_array_buffer())
        };
        probe().unwrap_or(false)
    })
}
