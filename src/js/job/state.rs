//! The JS-thread side of one job — a one-shot encode, or a writer from its opening to its end: the
//! Promises it owes, and what settles them.
//!
//! Note: [Settling]. `signal` and a throwing `onProgress` are honoured until the result Promise
//! settles, and both happen on the JS thread. So the job's thread leaves a file complete but under its
//! temporary name ([`crate::core::PendingFile`]); settling delivers the last progress call, checks the
//! abort flag, and only then renames it over `dest`. A failure (or an abort) settles every Promise
//! still pending with the same error: the writer's `write()`s, its opener, its `close()`.
//!
//! Note: [Re-entrancy]. JavaScript called from here (onProgress, the stream, a signal's
//! removeEventListener) may call back into the writer (`write()` from onProgress, say): no `RefCell`
//! borrow of the state is held while JavaScript runs.
//!
//! The state lives in an `Rc<RefCell<…>>`: one count belongs to the job's threadsafe function (until
//! it is finalized), one to the writer's JS object. References to JS values are released on the JS
//! thread when the state goes, unless the environment is being torn down (its cleanup hook, which
//! stays registered as long as the state lives, says so): then they are left to the environment.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::mem;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use napi::sys;

use super::events::{Event, ProgressSlot};
use super::stream_bridge::{self, SharedStreamState};
use super::teardown::{EncodeThread, TeardownHook};
use crate::core::{EncodeError, EncodeSummary, ErrorCode, SinkOutput};
use crate::js::errors::{failure_value, to_js_error, Failure};
use crate::js::node_api::{self as js, Deferred, JsVal, LoopHold, StrongRef};

/// What the result Promise resolves with.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// An `EncodeResult` object.
    Summary,
    /// The encoded bytes as a Buffer (`VideoEncoder.toBuffer`).
    Bytes,
    /// An `EncodeResult` with the bytes as its `buffer` (`VideoWriter.toBuffer`'s `close()`).
    SummaryWithBuffer,
}

/// Why a writer takes no more calls.
enum Ended {
    /// `close()` was called.
    Closing,
    Aborted,
    /// It failed: later calls are rejected with this same error (`None`: Node could not keep it).
    Failed(Option<StrongRef>),
}

/// The JS-thread state of one job. See the notes at the top.
pub struct JsState {
    env: sys::napi_env,
    resolution: Resolution,
    /// Writer: the opener's Promise, and the writer object it resolves with.
    opener: Option<(Deferred, StrongRef)>,
    /// Writer: the pending `write()`s, by batch id, in call order.
    writes: VecDeque<(u64, Deferred)>,
    /// The result Promise: the one-shot encode's, or the writer's `close()`.
    result: Option<Deferred>,
    /// Writer: the Promise object `close()` returned, which later calls return again.
    close_promise: Option<StrongRef>,
    /// Writer: `abort()` calls, resolved once the output is discarded.
    aborts: Vec<Deferred>,
    signal: Option<StrongRef>,
    abort_listener: Option<StrongRef>,
    /// The reason given to `abort(reason)`: the `cause` of the `AbortError`s (else `signal.reason`).
    abort_reason: Option<StrongRef>,
    on_progress: Option<StrongRef>,
    /// First exception thrown by `onProgress`: it aborts the job and rejects its Promises.
    progress_error: Option<StrongRef>,
    progress: Arc<ProgressSlot>,
    delivered: u64,
    abort: Arc<AtomicBool>,
    /// The Writable of a `toStream` job.
    stream: Option<SharedStreamState>,
    settled: bool,
    ended: Option<Ended>,
    /// A one-shot encode knows its number of frames (`totalFrames`); a writer does not (`null`).
    known_total: bool,
    /// The job's thread, as the environment's cleanup hook sees it.
    pub(super) thread: Arc<EncodeThread>,
    /// The cleanup hook, while it is registered.
    pub(super) hook: Option<TeardownHook>,
    /// The threadsafe function, until it is finalized: whether it holds the event loop open.
    pub(super) loop_hold: Option<LoopHold>,
    holding_loop: bool,
}

pub type SharedState = std::rc::Rc<RefCell<JsState>>;

/// References only a running job needs, taken out of its state to be released (on the JS thread).
struct JobRefs {
    stream: Option<SharedStreamState>,
    refs: Vec<StrongRef>,
}

impl JobRefs {
    /// Detaches from the stream (our listeners off it: JavaScript runs) and drops the references.
    fn release(self, env: sys::napi_env) {
        if let Some(stream) = self.stream {
            stream_bridge::detach(env, &stream);
        }
        for r in self.refs {
            r.release(env);
        }
    }
}

/// What a job is given from JS.
pub struct JobInputs {
    pub signal: Option<JsVal>,
    pub on_progress: Option<JsVal>,
    pub stream: Option<SharedStreamState>,
    pub resolution: Resolution,
    /// A one-shot encode (it knows its total), not a writer.
    pub known_total: bool,
}

impl JsState {
    /// The state of a new job, listening to `signal` (which must not be aborted yet).
    pub fn new(env: sys::napi_env, inputs: JobInputs, thread: Arc<EncodeThread>) -> Result<SharedState, Failure> {
        let abort = thread.abort.clone();
        let state = std::rc::Rc::new(RefCell::new(JsState {
            env,
            resolution: inputs.resolution,
            opener: None,
            writes: VecDeque::new(),
            result: None,
            close_promise: None,
            aborts: Vec::new(),
            signal: None,
            abort_listener: None,
            abort_reason: None,
            on_progress: None,
            progress_error: None,
            progress: Arc::new(ProgressSlot::default()),
            delivered: 0,
            abort: abort.clone(),
            stream: inputs.stream,
            settled: false,
            ended: None,
            known_total: inputs.known_total,
            thread,
            hook: None,
            loop_hold: None,
            holding_loop: true,
        }));
        if let Some(on_progress) = inputs.on_progress {
            state.borrow_mut().on_progress = Some(StrongRef::new(on_progress)?);
        }
        if let Some(signal) = inputs.signal {
            let listener = js::function(env, "onFramecodecAbort", move |_| abort.store(true, Ordering::SeqCst))?;
            signal.call_method("addEventListener", &[js::string(env, "abort")?, listener]).map_err(Failure::Js)?;
            let mut s = state.borrow_mut();
            s.signal = Some(StrongRef::new(signal)?);
            s.abort_listener = Some(StrongRef::new(listener)?);
        }
        Ok(state)
    }

    /// The progress slot the job's threads report into (none without `onProgress`).
    pub fn progress_slot(&self) -> Option<Arc<ProgressSlot>> {
        self.on_progress.is_some().then(|| self.progress.clone())
    }

    pub fn abort_flag(&self) -> Arc<AtomicBool> {
        self.abort.clone()
    }

    /// The one-shot encode's Promise (or a writer's `close()`'s) is settled by this deferred.
    pub fn set_result(&mut self, deferred: Deferred) {
        self.result = Some(deferred);
    }

    /// Writer: the opener's Promise resolves with `writer` once the output is open.
    pub fn set_opener(&mut self, deferred: Deferred, writer: JsVal) -> Result<(), Failure> {
        self.opener = Some((deferred, StrongRef::new(writer)?));
        Ok(())
    }

    /// Writer: a `write()` waiting for batch `id` to be read.
    pub fn push_write(&mut self, id: u64, deferred: Deferred) {
        self.writes.push_back((id, deferred));
    }

    /// Writer: the Promise object an earlier `close()` returned.
    pub fn close_promise(&self) -> Option<JsVal> {
        self.close_promise.as_ref().map(|p| p.get(self.env))
    }

    /// Writer: `close()` was called; `promise` is what it returned (and will return again).
    pub fn closing(&mut self, promise: JsVal, deferred: Option<Deferred>) -> Result<(), Failure> {
        self.close_promise = Some(StrongRef::new(promise)?);
        if let Some(deferred) = deferred {
            self.result = Some(deferred);
            self.ended.get_or_insert(Ended::Closing);
        }
        Ok(())
    }

    /// Writer: why a `write()` or `close()` cannot go ahead (the error to reject it with), if so.
    /// `call` names the call for the message.
    pub fn refusal(&self, call: &str) -> Option<Failure> {
        let state = |why: String| Failure::Encode(EncodeError::new(ErrorCode::InvalidState, why));
        match &self.ended {
            None => None,
            Some(Ended::Closing) => Some(state(format!("{call} after close(): the writer is closed"))),
            Some(Ended::Aborted) => {
                Some(state(format!("{call} after abort(): the writer was aborted and its output discarded")))
            }
            Some(Ended::Failed(Some(error))) => Some(Failure::Js(error.get(self.env))),
            Some(Ended::Failed(None)) => Some(state(format!("{call} after the writer failed"))),
        }
    }

    /// Writer: whether the job has settled (its thread is done and its outcome delivered).
    pub fn settled(&self) -> bool {
        self.settled
    }

    /// Writer: `abort(reason)`: stops the job (its thread notices within a frame) and discards the
    /// output; `deferred` resolves once that is done. Pending calls reject with an `AbortError`
    /// whose cause is `reason`.
    pub fn request_abort(&mut self, reason: Option<JsVal>, deferred: Deferred) -> Result<(), Failure> {
        if self.abort_reason.is_none() && self.ended.as_ref().is_none_or(|e| matches!(e, Ended::Closing)) {
            if let Some(reason) = reason {
                self.abort_reason = Some(StrongRef::new(reason)?);
            }
        }
        if self.ended.is_none() {
            self.ended = Some(Ended::Aborted);
        }
        self.abort.store(true, Ordering::SeqCst);
        self.aborts.push(deferred);
        Ok(())
    }

    /// Whether any Promise of the job is pending: only then does its threadsafe function hold the
    /// event loop open (an idle writer does not keep a process alive; one being written to does).
    fn waited_for(&self) -> bool {
        self.opener.is_some() || !self.writes.is_empty() || self.result.is_some() || !self.aborts.is_empty()
    }

    /// Holds the event loop open exactly while a Promise of the job is pending.
    pub fn update_loop_hold(&mut self) {
        let wanted = self.waited_for();
        if let Some(hold) = self.loop_hold {
            if wanted != self.holding_loop {
                hold.set(self.env, wanted);
                self.holding_loop = wanted;
            }
        }
    }

    /// Takes out what only the running job needed (when it settles), to be released with no borrow of
    /// the state held: removing the listeners from the stream runs JavaScript (see [Re-entrancy]).
    fn take_job_refs(&mut self) -> JobRefs {
        let mut refs: Vec<StrongRef> = [
            self.signal.take(),
            self.abort_listener.take(),
            self.on_progress.take(),
            self.progress_error.take(),
            self.abort_reason.take(),
        ]
        .into_iter()
        .flatten()
        .collect();
        if let Some((_, writer)) = self.opener.take() {
            refs.push(writer); // its deferred, if any, was settled (or is leaked: never while a job runs)
        }
        JobRefs { stream: self.stream.take(), refs }
    }
}

impl Drop for JsState {
    fn drop(&mut self) {
        if self.thread.env_gone() {
            return; // torn down: no JavaScript may run, and the environment frees its references itself
        }
        if let Some(hook) = self.hook.take() {
            hook.remove(self.env, &self.thread);
        }
        let env = self.env;
        self.take_job_refs().release(env);
        if let Some(p) = self.close_promise.take() {
            p.release(env);
        }
        if let Some(Ended::Failed(Some(error))) = self.ended.take() {
            error.release(env);
        }
    }
}

/// The `cause` of an error that ends the job: the reason given to `abort()`, else `signal.reason`; the
/// stream's error. Reading `signal.reason` runs JavaScript (a getter may call the writer): no borrow
/// of the state is held then (see [Re-entrancy]); a getter that throws gives no cause.
fn cause_of(cell: &RefCell<JsState>, env: sys::napi_env, e: &EncodeError) -> Option<JsVal> {
    match e.code {
        ErrorCode::Aborted => {
            let (reason, signal) = {
                let s = cell.borrow();
                (s.abort_reason.as_ref().map(|r| r.get(env)), s.signal.as_ref().map(|r| r.get(env)))
            };
            reason.or_else(|| {
                let read = signal?.get("reason");
                if read.is_err() {
                    js::take_exception(env);
                }
                read.ok()
            })
        }
        ErrorCode::Io => {
            let stream = cell.borrow().stream.clone();
            stream.and_then(|s| stream_bridge::cause(env, &s))
        }
        _ => None,
    }
}

/// Handles one event of the job's threads (on the JS thread).
pub fn handle(cell: &RefCell<JsState>, env: sys::napi_env, event: Event) {
    match event {
        Event::Opened => opened(cell, env),
        Event::Read(id) => read(cell, env, id),
        Event::Progress { done, total } => deliver_progress(cell, env, done, Some(total)),
        Event::ProgressLatest => {
            let done = cell.borrow().progress.take();
            deliver_progress(cell, env, done, None);
        }
        Event::Stream(request) => {
            let stream = cell.borrow().stream.clone();
            match stream {
                Some(stream) => stream_bridge::handle(env, &stream, request),
                None => drop(request),
            }
        }
        Event::Settle(result) => settle(cell, env, result),
    }
    cell.borrow_mut().update_loop_hold();
}

/// The writer's output is open: its opener resolves with the writer (unless an abort came first, which
/// the settle that follows will report).
fn opened(cell: &RefCell<JsState>, env: sys::napi_env) {
    let opener = {
        let mut s = cell.borrow_mut();
        if s.abort.load(Ordering::SeqCst) {
            return;
        }
        s.opener.take()
    };
    if let Some((deferred, writer)) = opener {
        deferred.resolve(env, writer.get(env));
        writer.release(env);
    }
}

/// Batch `id` was read: its `write()` (and any before it) resolves.
fn read(cell: &RefCell<JsState>, env: sys::napi_env, id: u64) {
    loop {
        let done = {
            let mut s = cell.borrow_mut();
            match s.writes.front() {
                Some((first, _)) if *first <= id => s.writes.pop_front(),
                _ => None,
            }
        };
        match done {
            Some((_, deferred)) => deferred.resolve(env, js::undefined(env)),
            None => return,
        }
    }
}

/// Calls `onProgress({ framesEncoded, totalFrames })` with a count not delivered yet. A throw aborts
/// the job (see [Settling]).
fn deliver_progress(cell: &RefCell<JsState>, env: sys::napi_env, done: u64, total: Option<u64>) {
    let callback = {
        let mut s = cell.borrow_mut();
        let first_of_nothing = done == 0 && total == Some(0);
        if (done <= s.delivered && !first_of_nothing) || s.progress_error.is_some() {
            return;
        }
        s.delivered = done;
        match &s.on_progress {
            Some(callback) => callback.get(env),
            None => return,
        }
    };
    let call = || -> Result<(), JsVal> {
        let fail = |_| js::take_exception(env).unwrap_or_else(|| js::undefined(env));
        let p = js::object(env).map_err(fail)?;
        p.set("framesEncoded", js::number(env, done as f64).map_err(fail)?).map_err(fail)?;
        let total = match total {
            Some(total) => js::number(env, total as f64).map_err(fail)?,
            None => js::null(env),
        };
        p.set("totalFrames", total).map_err(fail)?;
        callback.call(&[p]).map(|_| ())
    };
    if let Err(exception) = call() {
        let mut s = cell.borrow_mut();
        s.abort.store(true, Ordering::SeqCst);
        if s.progress_error.is_none() {
            s.progress_error = StrongRef::new(exception).ok();
        }
    }
}

/// The job's thread is done: settles the result Promise and every pending call (see [Settling]).
fn settle(cell: &RefCell<JsState>, env: sys::napi_env, result: Result<EncodeSummary, EncodeError>) {
    let listening = {
        let mut s = cell.borrow_mut();
        if s.settled {
            return;
        }
        s.settled = true;
        match (&s.signal, &s.abort_listener) {
            (Some(signal), Some(listener)) => Some((signal.get(env), listener.get(env))),
            _ => None,
        }
    };
    if let Some((signal, listener)) = listening {
        if let Ok(event) = js::string(env, "abort") {
            let _ = signal.call_method("removeEventListener", &[event, listener]);
        }
    }
    let outcome = result.and_then(|summary| conclude(cell, env, summary));
    let thrown = cell.borrow_mut().progress_error.take();
    let mut aborted = false;
    // A throw from onProgress wins over anything it caused (the abort it requested, say).
    let outcome: Result<JsVal, JsVal> = match (outcome, thrown) {
        (_, Some(thrown)) => {
            let value = thrown.get(env);
            thrown.release(env);
            Err(value)
        }
        (Ok(summary), None) => {
            let resolution = cell.borrow().resolution;
            resolve_value(env, resolution, summary)
        }
        (Err(e), None) => {
            let cause = cause_of(cell, env, &e);
            aborted = e.code == ErrorCode::Aborted;
            Err(to_js_error(env, &e, cause))
        }
    };
    // Whatever ended the job ends the writer: later calls are refused with it (a write() after a
    // throwing onProgress must not wait for a thread that is gone).
    if let Err(error) = &outcome {
        let mut s = cell.borrow_mut();
        if s.ended.is_none() {
            s.ended = Some(if aborted { Ended::Aborted } else { Ended::Failed(StrongRef::new(*error).ok()) });
        }
    }
    let (opener, writes, result, aborts) = {
        let mut s = cell.borrow_mut();
        (s.opener.take(), mem::take(&mut s.writes), s.result.take(), mem::take(&mut s.aborts))
    };
    match &outcome {
        Ok(value) => {
            for (_, deferred) in writes {
                deferred.resolve(env, js::undefined(env));
            }
            if let Some(deferred) = result {
                deferred.resolve(env, *value);
            }
        }
        Err(error) => {
            if let Some((deferred, writer)) = opener {
                deferred.reject(env, *error);
                writer.release(env);
            }
            for (_, deferred) in writes {
                deferred.reject(env, *error);
            }
            if let Some(deferred) = result {
                deferred.reject(env, *error);
            }
        }
    }
    for deferred in aborts {
        deferred.resolve(env, js::undefined(env));
    }
    let refs = cell.borrow_mut().take_job_refs();
    refs.release(env);
}

/// The last steps of a successful job, in order: the last progress call, the abort check (an abort or a
/// throwing `onProgress` up to here rejects, and the output is discarded), the rename of a file over
/// its destination.
fn conclude(
    cell: &RefCell<JsState>,
    env: sys::napi_env,
    mut summary: EncodeSummary,
) -> Result<EncodeSummary, EncodeError> {
    let total = cell.borrow().known_total.then_some(summary.frames);
    deliver_progress(cell, env, summary.frames, total);
    let s = cell.borrow();
    if s.progress_error.is_some() || s.abort.load(Ordering::SeqCst) {
        return Err(EncodeError::aborted()); // dropping `summary` discards the output
    }
    drop(s);
    summary.output = match mem::replace(&mut summary.output, SinkOutput::Streamed) {
        SinkOutput::File(pending) => {
            pending.commit().map_err(|e| EncodeError::io("cannot move the finished file into place", e))?;
            SinkOutput::Streamed
        }
        other => other,
    };
    Ok(summary)
}

/// What the result Promise resolves with.
fn resolve_value(env: sys::napi_env, resolution: Resolution, summary: EncodeSummary) -> Result<JsVal, JsVal> {
    let fail = |f| failure_value(env, Failure::Fault(f));
    let buffer = |bytes: Vec<u8>| {
        js::buffer(env, bytes)
            .map_err(|e| failure_value(env, Failure::Encode(EncodeError::new(ErrorCode::Encode, e.reason))))
    };
    match (resolution, summary.output) {
        (Resolution::Bytes, SinkOutput::Memory(bytes)) => buffer(bytes),
        (resolution, output) => {
            let o = js::object(env).map_err(fail)?;
            o.set("format", js::string(env, &summary.format).map_err(fail)?).map_err(fail)?;
            o.set("codec", js::string(env, &summary.codec).map_err(fail)?).map_err(fail)?;
            o.set("pixelFormat", js::string(env, &summary.pixel_format).map_err(fail)?).map_err(fail)?;
            o.set("frames", js::number(env, summary.frames as f64).map_err(fail)?).map_err(fail)?;
            if let Some(audio_codec) = &summary.audio_codec {
                o.set("audioCodec", js::string(env, audio_codec).map_err(fail)?).map_err(fail)?;
            }
            o.set("bytes", js::number(env, summary.bytes as f64).map_err(fail)?).map_err(fail)?;
            if let (Resolution::SummaryWithBuffer, SinkOutput::Memory(bytes)) = (resolution, output) {
                o.set("buffer", buffer(bytes)?).map_err(fail)?;
            }
            Ok(o)
        }
    }
}
