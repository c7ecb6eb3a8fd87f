//! A job's own OS thread, its threadsafe function to the JS thread, and its cleanup hook.
//!
//! Why a thread of its own per job (not the libuv pool): jobs call back into JS (progress, and for
//! streams, writes that wait on 'drain'); a libuv pool thread waiting on JS deadlocks once four of
//! them do (fs writes need the same four threads). An OS thread per job costs microseconds next to an
//! encode.
//!
//! The cleanup hook registered for each job, after its threadsafe function, is in `teardown.rs`.

use std::cell::RefCell;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use napi::sys;

use super::events::{Channel, Event, ThreadControl};
use super::state::{self, JsState, SharedState};
use super::teardown::TeardownHook;
use crate::core::{EncodeError, EncodeSummary, ErrorCode};
use crate::js::errors::Failure;
use crate::js::node_api::{self as js, ThreadsafeFunction};

/// Starts the job: its threadsafe function (whose context holds a count of `state`), `work` on a new
/// thread with the control to poll and report through, and the cleanup hook. The thread settles the
/// job with what `work` returns; a panic becomes an `ERR_ENCODE`. Its events are handled on later
/// turns of the event loop, so the caller sets the job's Promises after this returns.
pub fn start<W>(env: sys::napi_env, state: &SharedState, work: W) -> Result<(), Failure>
where
    W: FnOnce(&ThreadControl) -> Result<EncodeSummary, EncodeError> + Send + 'static,
{
    let name = js::string(env, "framecodec.job")?;
    let context = Rc::into_raw(state.clone()) as *mut c_void;
    // SAFETY: `dispatch` and `finalize_state` take the context as the Rc made here and the data as boxed
    // `Event`s (all `Channel::send` queues); the context lives until `finalize_state` takes it back.
    let tsfn = unsafe { ThreadsafeFunction::new(env, name, context, Some(finalize_state), Some(dispatch)) };
    let tsfn = match tsfn {
        Ok(tsfn) => tsfn,
        Err(_) => {
            // SAFETY: no threadsafe function was made, so nothing else holds the count: it is ours again.
            drop(unsafe { Rc::from_raw(context as *const RefCell<JsState>) });
            return Err(Failure::Encode(EncodeError::new(
                ErrorCode::Encode,
                "cannot create the job's callback channel",
            )));
        }
    };
    let (thread, control) = {
        let mut s = state.borrow_mut();
        s.loop_hold = Some(tsfn.loop_hold());
        let control = ThreadControl { abort: s.abort_flag(), channel: Channel::new(tsfn), progress: s.progress_slot() };
        (s.thread.clone(), control)
    };
    let spawned = std::thread::Builder::new().name("framecodec-encode".into()).spawn(move || {
        let result = catch_unwind(AssertUnwindSafe(|| work(&control))).unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(EncodeError::new(ErrorCode::Encode, format!("internal error in framecodec: {what}")))
        });
        control.settle(result);
        // Dropping `control` releases the threadsafe function; Node finalizes it after the queue drains.
    });
    match spawned {
        Ok(handle) => {
            thread.set_handle(handle);
            state.borrow_mut().hook = TeardownHook::register(env, &thread);
        }
        // The closure, and with it the channel, was dropped: the threadsafe function finalizes.
        Err(e) => {
            return Err(Failure::Encode(EncodeError::new(
                ErrorCode::Encode,
                format!("cannot start an encode thread: {e}"),
            )))
        }
    }
    Ok(())
}

/// Runs on the JS thread for each event (env is null while the environment tears down).
unsafe extern "C" fn dispatch(
    env: sys::napi_env,
    _js_callback: sys::napi_value,
    context: *mut c_void,
    data: *mut c_void,
) {
    // SAFETY: every call's data is a boxed Event from `Channel::send`, handed over once.
    let event = unsafe { Box::from_raw(data as *mut Event) };
    if env.is_null() {
        return;
    }
    // SAFETY: the context is the Rc count given in `start`, taken back only in `finalize_state` (after
    // the last call); calls run on the JS thread, one at a time.
    let cell = unsafe { &*(context as *const RefCell<JsState>) };
    if cell.try_borrow().map_or(true, |s| s.thread.env_gone()) {
        return;
    }
    // A panic must never unwind into Node.
    let _ = catch_unwind(AssertUnwindSafe(|| state::handle(cell, env, *event)));
}

/// Takes the state's count back once the threadsafe function is released and drained.
unsafe extern "C" fn finalize_state(env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: the Rc count given in `start`; Node finalizes once, after the last call.
    let state = unsafe { Rc::from_raw(data as *const RefCell<JsState>) };
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let Ok(mut s) = state.try_borrow_mut() else { return };
        s.loop_hold = None;
        if s.thread.env_gone() || env.is_null() {
            return;
        }
        if !s.settled() {
            drop(s);
            // The thread ended without settling (it cannot, but never leave a Promise pending).
            state::handle(
                &state,
                env,
                Event::Settle(Err(EncodeError::new(ErrorCode::Encode, "the encode ended without a result"))),
            );
        }
    }));
    // Dropping the last count frees the state (see its Drop).
}
