//! Running one encode off the JS thread and settling its Promise.
//!
//! Why a thread of its own per encode (not the libuv pool): encodes call back into JS (progress, and
//! for streams, writes that wait on 'drain'); a libuv pool thread waiting on JS deadlocks once four of
//! them do (fs writes need the same four threads). An OS thread per encode costs microseconds next
//! to an encode.
//!
//! Why one threadsafe function per encode for *all* events: Node runs each threadsafe function's calls
//! in order, so progress events are all delivered before the settle event that resolves the Promise.
//! With separate channels (a progress callback and a deferred) the last progress call could arrive after
//! the Promise resolved. The threadsafe function also keeps the event loop alive while the encode runs.
//!
//! Why the settle step decides, not the encode thread: `signal` and a throwing `onProgress` are
//! honoured until the Promise settles, and both happen on the JS thread. So the encode thread leaves a
//! file complete but under its temporary name ([`crate::core::PendingFile`]); the settle step delivers
//! the last progress call, checks the abort flag, and only then renames it over `dest`.
//!
//! Why a cleanup hook per encode: a worker's environment can be torn down (`worker.terminate()`, an
//! Electron reload) while its encode threads still read its frames and call its threadsafe function;
//! both are freed with the environment. The hook, registered after the threadsafe function (Node runs
//! cleanup hooks in reverse order), aborts the encode and joins its thread before either is freed.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use napi::sys;

use crate::core::{EncodeControl, EncodeError, EncodeSummary, ErrorCode, SinkOutput};
use std::mem;

use crate::js::errors::{failure_value, to_js_error, Failure};
use crate::js::node_api::{self as js, Deferred, JsVal, StrongRef, ThreadsafeFunction};
use crate::js::job::stream_bridge::{self, JsStreamConsumer, SharedStreamState, StreamEvent};

/// What the Promise resolves with.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// An `EncodeResult` object.
    Summary,
    /// The encoded bytes as a Buffer.
    Bytes,
}

/// An event from the encode thread to the JS thread.
pub enum Event {
    Progress { done: u64, total: u64 },
    Stream(StreamEvent),
    Settle(Result<EncodeSummary, EncodeError>),
}

/// JS-thread state of one encode. Lives in the threadsafe function's context; touched only in
/// callbacks that run on the JS thread.
struct JsState {
    /// Taken when the Promise settles.
    deferred: Option<Deferred>,
    resolution: Resolution,
    signal: Option<StrongRef>,
    abort_listener: Option<StrongRef>,
    on_progress: Option<StrongRef>,
    /// First exception thrown by `onProgress`: it aborts the encode and rejects the Promise.
    progress_error: Option<StrongRef>,
    delivered: u64,
    abort: Arc<AtomicBool>,
    /// The Writable of a `toStream` encode.
    stream: Option<SharedStreamState>,
    settled: bool,
    /// The encode's thread, as the environment's cleanup hook sees it.
    thread: Arc<EncodeThread>,
    /// The cleanup hook's argument (one count of `thread`), while the hook is registered.
    hook: Option<*const EncodeThread>,
}

/// An encode thread, for the environment's teardown.
struct EncodeThread {
    abort: Arc<AtomicBool>,
    handle: Mutex<Option<JoinHandle<()>>>,
    /// Set by the cleanup hook: the environment is being torn down, no JavaScript may run.
    env_gone: AtomicBool,
}

/// Runs when the environment is torn down before the encode finished: stops the encode and waits for
/// its thread, so that nothing reads the environment's memory or calls into it once it is freed.
unsafe extern "C" fn stop_on_teardown(arg: *mut c_void) {
    // SAFETY: `arg` is the count of the Arc given to the hook in `spawn`; the hook runs once, and
    // `JsState::remove_hook` no longer frees it once `env_gone` is set.
    let thread = unsafe { Arc::from_raw(arg as *const EncodeThread) };
    thread.env_gone.store(true, Ordering::SeqCst);
    thread.abort.store(true, Ordering::SeqCst);
    let handle = thread.handle.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(handle) = handle {
        // The thread notices the abort within a frame (stream waits poll it every 20 ms).
        let _ = handle.join();
    }
}

/// A handle on the encode's threadsafe function, sendable to the encode thread. Each handle holds
/// one "thread" count of it, released on drop.
pub struct Channel(ThreadsafeFunction);

impl Channel {
    /// Another handle on the same function (its own thread count).
    fn try_clone(&self) -> Option<Channel> {
        self.0.try_clone().map(Channel)
    }

    pub fn send(&self, event: Event) {
        // An error hands the event back: the environment is closing, nobody will receive it.
        let _ = self.0.call(Box::new(event));
    }
}

/// How the encode thread sees cancellation and reports progress.
pub struct ThreadControl {
    abort: Arc<AtomicBool>,
    channel: Channel,
    report_progress: bool,
}

impl ThreadControl {
    /// The consumer that writes into this encode's `toStream` Writable.
    pub fn stream_consumer(&self, end: bool) -> std::io::Result<JsStreamConsumer> {
        let channel = self.channel.try_clone().ok_or_else(|| std::io::Error::other("the JavaScript environment is shutting down"))?;
        let send = Box::new(move |request| channel.send(Event::Stream(request)));
        Ok(JsStreamConsumer::new(send, self.abort.clone(), end))
    }
}

impl EncodeControl for ThreadControl {
    fn aborted(&self) -> bool {
        self.abort.load(Ordering::Relaxed)
    }

    fn progress(&self, done: u64, total: u64) {
        if self.report_progress {
            self.channel.send(Event::Progress { done, total });
        }
    }
}

/// Creates the Promise, wires `signal` and `onProgress`, and runs `work` on a new thread. Returns the
/// Promise. `work` gets the control to poll and report through.
pub fn spawn<W>(
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

    // An already-aborted signal rejects without encoding.
    if let Some(signal) = signal {
        if signal.get("aborted")?.boolean() == Some(true) {
            let reason = signal.get("reason")?;
            let err = to_js_error(env, &EncodeError::aborted(), Some(reason));
            deferred.reject(env, err);
            return Ok(promise);
        }
    }
    let stream = stream.map(|s| stream_bridge::attach(env, s)).transpose()?;

    let abort = Arc::new(AtomicBool::new(false));
    let thread = Arc::new(EncodeThread { abort: abort.clone(), handle: Mutex::new(None), env_gone: AtomicBool::new(false) });
    let mut state = Box::new(JsState {
        deferred: Some(deferred),
        resolution,
        signal: None,
        abort_listener: None,
        on_progress: on_progress.map(StrongRef::new).transpose()?,
        progress_error: None,
        delivered: 0,
        abort: abort.clone(),
        stream,
        settled: false,
        thread: thread.clone(),
        hook: None,
    });
    if let Some(signal) = signal {
        let flag = abort.clone();
        let listener = js::function(env, "onFramecodecAbort", move |_| flag.store(true, Ordering::Relaxed))?;
        signal
            .call_method("addEventListener", &[js::string(env, "abort")?, listener])
            .map_err(Failure::Js)?;
        state.signal = Some(StrongRef::new(signal)?);
        state.abort_listener = Some(StrongRef::new(listener)?);
    }
    let report_progress = state.on_progress.is_some();

    let name = js::string(env, "framecodec.encode")?;
    let state_ptr = Box::into_raw(state);
    // SAFETY: `dispatch` and `finalize_state` take the context as the JsState boxed here and the data
    // as boxed `Event`s (all `Channel::send` queues); the state lives until `finalize_state` frees it.
    let tsfn = unsafe { ThreadsafeFunction::new(env, name, state_ptr as *mut c_void, Some(finalize_state), Some(dispatch)) };
    let Ok(tsfn) = tsfn else {
        // SAFETY: no threadsafe function was made, so nothing else holds the state: it is ours again.
        let mut state = unsafe { Box::from_raw(state_ptr) };
        state.release_refs(env);
        return Err(Failure::Encode(EncodeError::new(ErrorCode::Encode, "cannot create the encode's callback channel")));
    };
    let control = ThreadControl { abort, channel: Channel(tsfn), report_progress };
    let spawned = std::thread::Builder::new().name("framecodec-encode".into()).spawn(move || {
        let result = catch_unwind(AssertUnwindSafe(|| work(&control))).unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(EncodeError::new(ErrorCode::Encode, format!("internal error in framecodec: {what}")))
        });
        control.channel.send(Event::Settle(result));
        // Dropping `control` releases the threadsafe function; Node finalizes it after the queue drains.
    });
    match spawned {
        Ok(handle) => {
            *thread.handle.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
            let arg = Arc::into_raw(thread) as *mut c_void;
            // SAFETY: registered on the JS thread; `arg` holds one count of the Arc, freed by the hook
            // or by `remove_hook`. The state outlives the registration: it is freed in `finalize_state`,
            // which removes the hook first.
            if unsafe { js::add_env_cleanup_hook(env, stop_on_teardown, arg) } {
                // SAFETY: the state lives until `finalize_state`, which runs on this (the JS) thread,
                // later: nothing else touches it now.
                unsafe { (*state_ptr).hook = Some(arg as *const EncodeThread) };
            } else {
                // SAFETY: the hook was not registered: `arg` is the count made above, ours to free.
                drop(unsafe { Arc::from_raw(arg as *const EncodeThread) });
            }
        }
        Err(e) => {
            // The closure (and with it the channel) was dropped: the finalizer frees the state, but the
            // Promise must still settle.
            let err = to_js_error(env, &EncodeError::new(ErrorCode::Encode, format!("cannot start an encode thread: {e}")), None);
            // SAFETY: the state lives until `finalize_state`, which runs on this (the JS) thread,
            // later: nothing else touches it now.
            let state = unsafe { &mut *state_ptr };
            state.settled = true;
            if let Some(deferred) = state.deferred.take() {
                deferred.reject(env, err);
            }
        }
    }
    Ok(promise)
}

impl JsState {
    fn deliver_progress(&mut self, env: sys::napi_env, done: u64, total: u64) {
        if done <= self.delivered && !(done == 0 && total == 0) || self.progress_error.is_some() {
            return;
        }
        self.delivered = done;
        let Some(callback) = &self.on_progress else { return };
        let callback = callback.get(env);
        let call = || -> Result<(), JsVal> {
            let fail = |_| js::take_exception(env).unwrap_or_else(|| js::undefined(env));
            let p = js::object(env).map_err(fail)?;
            p.set("framesEncoded", js::number(env, done as f64).map_err(fail)?).map_err(fail)?;
            p.set("totalFrames", js::number(env, total as f64).map_err(fail)?).map_err(fail)?;
            callback.call(&[p]).map(|_| ())
        };
        if let Err(exception) = call() {
            self.abort.store(true, Ordering::Relaxed);
            self.progress_error = StrongRef::new(exception).ok();
        }
    }

    fn settle(&mut self, env: sys::napi_env, result: Result<EncodeSummary, EncodeError>) {
        if self.settled {
            return;
        }
        self.settled = true;
        if let (Some(signal), Some(listener)) = (&self.signal, &self.abort_listener) {
            let (signal, listener) = (signal.get(env), listener.get(env));
            if let Ok(event) = js::string(env, "abort") {
                let _ = signal.call_method("removeEventListener", &[event, listener]);
            }
        }
        let outcome = result.and_then(|summary| self.conclude(env, summary));
        // A throw from onProgress wins over anything it caused (the abort it requested, say).
        let outcome: Result<JsVal, JsVal> = match (outcome, self.progress_error.take()) {
            (_, Some(thrown)) => {
                let value = thrown.get(env);
                thrown.release(env);
                Err(value)
            }
            (Ok(summary), None) => self.resolve_value(env, summary),
            (Err(e), None) => {
                let cause = match e.code {
                    ErrorCode::Aborted => self.signal.as_ref().and_then(|s| s.get(env).get("reason").ok()),
                    ErrorCode::Io => self.stream.as_ref().and_then(|s| s.borrow().cause(env)),
                    _ => None,
                };
                Err(to_js_error(env, &e, cause))
            }
        };
        if let Some(deferred) = self.deferred.take() {
            match outcome {
                Ok(v) => deferred.resolve(env, v),
                Err(v) => deferred.reject(env, v),
            }
        }
        self.release_refs(env);
    }

    /// The last steps of a successful encode, in order: the last progress call, the abort check (an
    /// abort or a throwing `onProgress` up to here rejects, and the output is discarded), the rename
    /// of a file over `dest`.
    fn conclude(&mut self, env: sys::napi_env, mut summary: EncodeSummary) -> Result<EncodeSummary, EncodeError> {
        self.deliver_progress(env, summary.frames, summary.frames);
        if self.progress_error.is_some() || self.abort.load(Ordering::SeqCst) {
            return Err(EncodeError::aborted()); // dropping `summary` discards the output
        }
        summary.output = match mem::replace(&mut summary.output, SinkOutput::Streamed) {
            SinkOutput::File(pending) => {
                pending.commit().map_err(|e| EncodeError::io("cannot move the finished file into place", e))?;
                SinkOutput::Streamed
            }
            other => other,
        };
        Ok(summary)
    }

    fn resolve_value(&self, env: sys::napi_env, summary: EncodeSummary) -> Result<JsVal, JsVal> {
        let fail = |f| failure_value(env, Failure::Fault(f));
        match (self.resolution, summary.output) {
            (Resolution::Bytes, SinkOutput::Memory(bytes)) => {
                js::buffer(env, bytes).map_err(|e| failure_value(env, Failure::Encode(EncodeError::new(ErrorCode::Encode, e.reason))))
            }
            (_, _) => {
                let o = js::object(env).map_err(fail)?;
                o.set("format", js::string(env, &summary.format).map_err(fail)?).map_err(fail)?;
                o.set("codec", js::string(env, &summary.codec).map_err(fail)?).map_err(fail)?;
                o.set("pixelFormat", js::string(env, &summary.pixel_format).map_err(fail)?).map_err(fail)?;
                o.set("frames", js::number(env, summary.frames as f64).map_err(fail)?).map_err(fail)?;
                o.set("bytes", js::number(env, summary.bytes as f64).map_err(fail)?).map_err(fail)?;
                Ok(o)
            }
        }
    }

    /// Unregisters the cleanup hook once the encode thread is done with the environment.
    fn remove_hook(&mut self, env: sys::napi_env) {
        if let Some(arg) = self.hook.take() {
            if !self.thread.env_gone.load(Ordering::SeqCst) {
                // The hook is registered with exactly this function and argument, and has not run
                // (`env_gone` is unset, and both run on the JS thread).
                js::remove_env_cleanup_hook(env, stop_on_teardown, arg as *mut c_void);
                // SAFETY: the hook's Arc count, which it did not take: ours to free.
                drop(unsafe { Arc::from_raw(arg) });
            }
        }
    }

    fn release_refs(&mut self, env: sys::napi_env) {
        if let Some(stream) = self.stream.take() {
            stream.borrow_mut().detach(env);
        }
        for r in [self.signal.take(), self.abort_listener.take(), self.on_progress.take(), self.progress_error.take()].into_iter().flatten() {
            r.release(env);
        }
    }
}

/// Runs on the JS thread for each event (env is null while the environment tears down).
unsafe extern "C" fn dispatch(env: sys::napi_env, _js_callback: sys::napi_value, context: *mut c_void, data: *mut c_void) {
    // SAFETY: every call's data is a boxed Event from `Channel::send`, handed over once.
    let event = unsafe { Box::from_raw(data as *mut Event) };
    if env.is_null() {
        return;
    }
    // SAFETY: the context is the JsState boxed in `spawn`, freed only in `finalize_state` (after the
    // last call); calls run on the JS thread, one at a time.
    let state = unsafe { &mut *(context as *mut JsState) };
    if state.thread.env_gone.load(Ordering::SeqCst) {
        return;
    }
    // A panic must never unwind into Node.
    let _ = catch_unwind(AssertUnwindSafe(|| match *event {
        Event::Progress { done, total } => state.deliver_progress(env, done, total),
        Event::Stream(request) => match &state.stream {
            Some(stream) => stream_bridge::handle(env, stream, request),
            None => drop(request),
        },
        Event::Settle(result) => state.settle(env, result),
    }));
}

/// Frees the JS-thread state once the threadsafe function is released and drained.
unsafe extern "C" fn finalize_state(env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: the JsState boxed in `spawn`; Node finalizes once, after the last call.
    let mut state = unsafe { Box::from_raw(data as *mut JsState) };
    if state.thread.env_gone.load(Ordering::SeqCst) {
        // Torn down: no JavaScript may run, and the environment frees its references itself.
        return;
    }
    if !env.is_null() {
        // Every handle on the threadsafe function is released: the encode thread is done with it.
        state.remove_hook(env);
        if !state.settled {
            // The encode thread ended without settling (it cannot, but never leave a Promise pending).
            state.settle(env, Err(EncodeError::new(ErrorCode::Encode, "the encode ended without a result")));
        }
        state.release_refs(env);
    }
}
