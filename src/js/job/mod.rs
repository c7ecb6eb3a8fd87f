//! Jobs: a one-shot encode, or a writer's life, each on its own thread, with its threadsafe channel to
//! the JS thread (`events.rs`, `thread.rs`), the Promises it settles (`state.rs`), the cleanup hook
//! that stops it when the environment goes (`teardown.rs`), and the bridge to a `toStream` Writable
//! (`stream_bridge.rs`).

pub mod events;
pub mod state;
pub mod stream_bridge;
pub mod teardown;
pub mod thread;

use napi::sys;

use crate::core::{EncodeError, EncodeSummary, ErrorCode};
use crate::js::errors::{to_js_error, Failure};
use crate::js::node_api::{self as js, JsVal};

pub use events::ThreadControl;
pub use state::{JobInputs, JsState, Resolution, SharedState};
pub use teardown::EncodeThread;

/// The `AbortError` for a `signal` that is already aborted, if it is.
pub fn already_aborted(env: sys::napi_env, signal: Option<JsVal>) -> Result<Option<JsVal>, Failure> {
    let Some(signal) = signal else { return Ok(None) };
    if signal.get("aborted")?.boolean() != Some(true) {
        return Ok(None);
    }
    let reason = signal.get("reason")?;
    Ok(Some(to_js_error(env, &EncodeError::aborted(), Some(reason))))
}

/// Starts a one-shot encode running `work` on its own thread; returns its Promise. An already-aborted
/// signal rejects it without encoding.
pub fn spawn_encode<W>(
    env: sys::napi_env,
    signal: Option<JsVal>,
    on_progress: Option<JsVal>,
    stream: Option<JsVal>,
    resolution: Resolution,
    work: W,
) -> Result<JsVal, Failure>
where
    W: FnOnce(&ThreadControl) -> Result<EncodeSummary, EncodeError> + Send + 'static,
{
    let Ok((deferred, promise)) = js::promise(env) else {
        return Err(Failure::Encode(EncodeError::new(ErrorCode::Encode, "cannot create a Promise")));
    };
    if let Some(aborted) = already_aborted(env, signal)? {
        deferred.reject(env, aborted);
        return Ok(promise);
    }
    let stream = stream.map(|s| stream_bridge::attach(env, s)).transpose()?;
    let inputs = JobInputs { signal, on_progress, stream, resolution, known_total: true };
    let state = JsState::new(env, inputs, EncodeThread::new())?;
    thread::start(env, &state, work)?;
    state.borrow_mut().set_result(deferred);
    Ok(promise)
}
