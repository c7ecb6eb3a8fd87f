//! `toStream`: delivering the encoder's bytes to a Node `Writable`, in order, with backpressure.
//!
//! The encode thread hands each chunk to the JS thread (through the encode's threadsafe function) and
//! waits for the answer: `write()` returned true → go on; false → go on after `'drain'`. So the
//! writable never buffers more than its highWaterMark plus one chunk, however slow the consumer. The
//! stream's `'error'` or `'close'` (destroyed) answers a waiting write with a failure, and the encode
//! stops with `ERR_IO` whose `cause` is the stream's error. Waiting happens on the encode's own thread,
//! never on a libuv pool thread (see `encode.rs`), and polls the abort flag so `signal` works even
//! while a consumer never drains.

use std::cell::RefCell;
use std::io;
use std::mem;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::Duration;

use napi::sys;

use crate::core::{ChunkConsumer, EncodeError};

use crate::js::errors::Failure;
use crate::js::node_api::{self as js, ErrorClass, JsVal, StrongRef};

/// Why the stream did not take a chunk.
pub type StreamReply = Result<(), String>;

/// A request from the encode thread to the stream.
pub enum StreamEvent {
    Write { chunk: Vec<u8>, reply: SyncSender<StreamReply> },
    End { reply: SyncSender<StreamReply> },
}

/// Hands a request to the JS thread (through the encode's threadsafe function).
pub type SendToJs = Box<dyn Fn(StreamEvent) + Send>;

/// The encode thread's side: implements the core's [`ChunkConsumer`].
pub struct JsStreamConsumer {
    send: SendToJs,
    abort: Arc<AtomicBool>,
    end: bool,
}

impl JsStreamConsumer {
    pub fn new(send: SendToJs, abort: Arc<AtomicBool>, end: bool) -> JsStreamConsumer {
        JsStreamConsumer { send, abort, end }
    }

    fn request(&self, make: impl FnOnce(SyncSender<StreamReply>) -> StreamEvent) -> io::Result<()> {
        let (tx, rx) = sync_channel(1);
        (self.send)(make(tx));
        self.wait(rx)
    }

    fn wait(&self, rx: Receiver<StreamReply>) -> io::Result<()> {
        loop {
            match rx.recv_timeout(Duration::from_millis(20)) {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(message)) => return Err(io::Error::other(message)),
                Err(RecvTimeoutError::Timeout) if self.abort.load(Ordering::Relaxed) => {
                    return Err(io::Error::other("aborted while the stream was busy"))
                }
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(io::Error::other("the JavaScript environment is shutting down"))
                }
            }
        }
    }
}

impl ChunkConsumer for JsStreamConsumer {
    fn consume(&mut self, chunk: Vec<u8>) -> io::Result<()> {
        self.request(|reply| StreamEvent::Write { chunk, reply })
    }

    fn close(&mut self) -> io::Result<()> {
        if self.end {
            self.request(|reply| StreamEvent::End { reply })
        } else {
            Ok(()) // every write was accepted already
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum WaitFor {
    Drain,
    Finish,
}

/// The JS thread's side: the stream, our listeners on it, and the encode thread's pending request.
pub struct StreamState {
    stream: Option<StrongRef>,
    listeners: Vec<(&'static str, StrongRef)>,
    /// The stream's first error (from `'error'` or a throwing `write`): the rejection's `cause`.
    error: Option<StrongRef>,
    closed: bool,
    /// 'drain' events seen: one during a write() that returns false answers that write (a stream may
    /// emit it before write() returns; waiting for the next one would wait forever).
    drains: u64,
    finished: bool,
    waiting: Option<(WaitFor, SyncSender<StreamReply>)>,
    /// A WHATWG WritableStream's writer rather than a Node Writable.
    web: bool,
}

pub type SharedStreamState = Rc<RefCell<StreamState>>;

/// Checks that `stream` is a usable Writable, and listens to it.
pub fn attach(env: sys::napi_env, stream: JsVal) -> Result<SharedStreamState, Failure> {
    let node_writable = stream.is_object() && stream.get("write")?.is_function() && stream.get("on")?.is_function();
    if !node_writable {
        if stream.is_object() && stream.get("getWriter")?.is_function() {
            return attach_web(env, stream);
        }
        return Err(not_a_stream(stream, ""));
    }
    if stream.get("destroyed")?.boolean() == Some(true) {
        return Err(Failure::Encode(EncodeError::new(crate::core::ErrorCode::Io, "the stream is already destroyed")));
    }
    if stream.get("writableEnded")?.boolean() == Some(true) {
        return Err(Failure::Encode(EncodeError::new(crate::core::ErrorCode::Io, "the stream has already ended")));
    }
    let state = StreamState::new(stream, false)?;
    for event in ["drain", "error", "close", "finish"] {
        let listener = add_listener(env, &state, event, "onFramecodecStream")?;
        stream.call_method("on", &[js::string(env, event)?, listener]).map_err(Failure::Js)?;
    }
    Ok(state)
}

/// `ERR_INVALID_ARG_TYPE` for a value toStream cannot write to, naming what it takes.
fn not_a_stream(stream: JsVal, detail: &str) -> Failure {
    Failure::Encode(EncodeError::new(
        crate::core::ErrorCode::InvalidArgType,
        format!(
            "stream must be a Node Writable (with write() and on()) or a WHATWG WritableStream, got {}{detail}",
            stream.describe_type()
        ),
    ))
}

/// A JS function that forwards `event` to the state (while it lives), kept by the state.
fn add_listener(
    env: sys::napi_env,
    state: &SharedStreamState,
    event: &'static str,
    name: &str,
) -> Result<JsVal, Failure> {
    let weak = Rc::downgrade(state);
    let listener = js::function(env, name, move |arg| {
        if let Some(state) = weak.upgrade() {
            // Describing the error reads its `message` (a getter may run): before the borrow.
            let message = (event == "error")
                .then(|| arg.map(describe_error).unwrap_or_else(|| "the stream emitted 'error'".into()));
            state.borrow_mut().on_event(event, arg, message);
        }
    })?;
    state.borrow_mut().listeners.push((event, StrongRef::new(listener)?));
    Ok(listener)
}

/// A WHATWG `WritableStream`: we take its writer; `writer.ready` is our 'drain', `writer.closed`
/// (resolved) our 'finish' and (rejected) our 'error'. Every promise we get gets a rejection handler,
/// so a failing stream never becomes an unhandled rejection.
fn attach_web(env: sys::napi_env, stream: JsVal) -> Result<SharedStreamState, Failure> {
    let locked = stream.get("locked").map_err(|_| {
        let thrown = js::take_exception(env).map(describe_error).unwrap_or_default();
        not_a_stream(stream, &format!(" (reading its locked threw: {thrown})"))
    })?;
    if locked.boolean() == Some(true) {
        return Err(Failure::Encode(EncodeError::new(
            crate::core::ErrorCode::Io,
            "the WritableStream is locked by another writer",
        )));
    }
    // Something with a getWriter that is not a WritableStream's (e.g. WritableStream.prototype.getWriter
    // on another object throws Node's ERR_INVALID_THIS), or whose writer cannot write, is the wrong type.
    let writer = stream
        .call_method("getWriter", &[])
        .map_err(|e| not_a_stream(stream, &format!(" (its getWriter() threw: {})", describe_error(e))))?;
    let usable = writer.is_object() && writer.get("write")?.is_function() && writer.get("closed")?.is_object();
    if !usable {
        return Err(not_a_stream(stream, " (its getWriter() gave no writer with write() and closed)"));
    }
    let state = StreamState::new(writer, true)?;
    for event in ["drain", "error", "finish", "ignore"] {
        add_listener(env, &state, event, "onFramecodecWebStream")?;
    }
    let closed = writer.get("closed")?;
    let (on_closed, on_error) = {
        let s = state.borrow();
        (s.listener(env, "finish"), s.listener(env, "error"))
    };
    if let (Some(on_closed), Some(on_error)) = (on_closed, on_error) {
        closed.call_method("then", &[on_closed, on_error]).map_err(Failure::Js)?;
    }
    Ok(state)
}

impl StreamState {
    fn new(stream: JsVal, web: bool) -> Result<SharedStreamState, Failure> {
        Ok(Rc::new(RefCell::new(StreamState {
            stream: Some(StrongRef::new(stream)?),
            listeners: Vec::new(),
            error: None,
            closed: false,
            drains: 0,
            finished: false,
            waiting: None,
            web,
        })))
    }

    fn listener(&self, env: sys::napi_env, event: &str) -> Option<JsVal> {
        self.listeners.iter().find(|(e, _)| *e == event).map(|(_, f)| f.get(env))
    }

    /// An event of the stream; `message` describes an `'error'` (made before the state was borrowed).
    fn on_event(&mut self, event: &str, arg: Option<JsVal>, message: Option<String>) {
        match event {
            "drain" => {
                self.drains += 1;
                self.answer(WaitFor::Drain, Ok(()));
            }
            "finish" => {
                self.finished = true;
                self.answer(WaitFor::Finish, Ok(()));
            }
            "error" => {
                if self.error.is_none() {
                    self.error = arg.and_then(|e| StrongRef::new(e).ok());
                }
                self.fail(format!("the stream failed: {}", message.unwrap_or_default()));
            }
            "close" => {
                self.closed = true;
                if self.finished {
                    self.answer(WaitFor::Finish, Ok(()));
                } else {
                    self.fail("the stream was closed (destroyed) before the encode finished".into());
                }
            }
            _ => {}
        }
    }

    fn answer(&mut self, what: WaitFor, reply: StreamReply) {
        if self.waiting.as_ref().is_some_and(|(w, _)| *w == what) {
            let (_, tx) = self.waiting.take().expect("checked");
            let _ = tx.send(reply);
        }
    }

    fn fail(&mut self, message: String) {
        if let Some((_, tx)) = self.waiting.take() {
            let _ = tx.send(Err(message));
        }
    }

    fn broken(&self) -> Option<String> {
        if self.error.is_some() {
            Some("the stream failed".into())
        } else if self.closed {
            Some("the stream was closed (destroyed) before the encode finished".into())
        } else {
            None
        }
    }
}

/// Removes our listeners and drops our references (when the encode settles). The stream's
/// `removeListener` / `releaseLock` run with no borrow of the state held: they are user code.
pub fn detach(env: sys::napi_env, state: &SharedStreamState) {
    let (stream, listeners, error, web) = {
        let mut s = state.borrow_mut();
        let taken = (s.stream.take(), mem::take(&mut s.listeners), s.error.take(), s.web);
        s.fail("the encode is over".into());
        taken
    };
    if let Some(stream) = stream {
        let s = stream.get(env);
        if web {
            let _ = s.call_method("releaseLock", &[]);
        }
        for (event, listener) in listeners {
            if !web {
                if let Ok(name) = js::string(env, event) {
                    let _ = s.call_method("removeListener", &[name, listener.get(env)]);
                }
            }
            listener.release(env);
        }
        stream.release(env);
    } else {
        for (_, listener) in listeners {
            listener.release(env);
        }
    }
    if let Some(e) = error {
        e.release(env);
    }
}

/// The error to give as the rejection's `cause` when the stream broke: its own error, or for a
/// destroyed stream an `ERR_STREAM_DESTROYED` error as Node's own writes get (made with no borrow held).
pub fn cause(env: sys::napi_env, state: &SharedStreamState) -> Option<JsVal> {
    let (error, destroyed) = {
        let s = state.borrow();
        (s.error.as_ref().map(|e| e.get(env)), s.closed && !s.finished)
    };
    match error {
        Some(e) => Some(e),
        None if destroyed => js::error(env, ErrorClass::Error, "ERR_STREAM_DESTROYED", "the stream was destroyed").ok(),
        None => None,
    }
}

/// Handles a request of the encode thread (on the JS thread).
pub fn handle(env: sys::napi_env, state: &SharedStreamState, event: StreamEvent) {
    let (reply, stream, drains) = {
        let s = state.borrow();
        let reply = match &event {
            StreamEvent::Write { reply, .. } | StreamEvent::End { reply } => reply.clone(),
        };
        if let Some(message) = s.broken() {
            let _ = reply.send(Err(message));
            return;
        }
        let Some(stream) = s.stream.as_ref().map(|r| r.get(env)) else {
            let _ = reply.send(Err("the encode is over".into()));
            return;
        };
        (reply, stream, s.drains)
    };
    if state.borrow().web {
        return handle_web(env, state, stream, event, reply);
    }
    // No RefCell borrow is held while JS runs: a listener may fire synchronously.
    let (outcome, wait) = match event {
        StreamEvent::Write { chunk, .. } => {
            let buffer = match js::buffer(env, chunk) {
                Ok(buffer) => buffer,
                Err(e) => {
                    let _ = reply.send(Err(format!("cannot create a Buffer: {}", e.reason)));
                    return;
                }
            };
            (stream.call_method("write", &[buffer]), WaitFor::Drain)
        }
        StreamEvent::End { .. } => (stream.call_method("end", &[]), WaitFor::Finish),
    };
    // (a thrown value's `message` getter is user code: read before the borrow)
    let outcome = outcome.map_err(|thrown| (thrown, describe_error(thrown)));
    let mut s = state.borrow_mut();
    match outcome {
        Err((thrown, message)) => {
            if s.error.is_none() {
                s.error = StrongRef::new(thrown).ok();
            }
            let _ = reply.send(Err(format!(
                "the stream's {} threw: {message}",
                if wait == WaitFor::Drain { "write()" } else { "end()" }
            )));
        }
        Ok(_) if s.broken().is_some() => {
            let _ = reply.send(Err(s.broken().unwrap_or_default()));
        }
        Ok(accepted) if wait == WaitFor::Drain && (accepted.boolean() != Some(false) || s.drains != drains) => {
            let _ = reply.send(Ok(()));
        }
        Ok(_) if wait == WaitFor::Finish && s.finished => {
            let _ = reply.send(Ok(()));
        }
        Ok(_) => s.waiting = Some((wait, reply)),
    }
}

/// `handle` for a WHATWG writer: write, then wait for `ready` while its queue is full; `close()` at the end.
fn handle_web(
    env: sys::napi_env,
    state: &SharedStreamState,
    writer: JsVal,
    event: StreamEvent,
    reply: SyncSender<StreamReply>,
) {
    let (ready, on_error, ignore, on_closed) = {
        let s = state.borrow();
        (s.listener(env, "drain"), s.listener(env, "error"), s.listener(env, "ignore"), s.listener(env, "finish"))
    };
    let (Some(ready), Some(on_error), Some(ignore), Some(on_closed)) = (ready, on_error, ignore, on_closed) else {
        let _ = reply.send(Err("the encode is over".into()));
        return;
    };
    let outcome = match event {
        StreamEvent::Write { chunk, .. } => {
            js::buffer(env, chunk).map_err(|e| format!("cannot create a Buffer: {}", e.reason)).and_then(|buffer| {
                let written = writer.call_method("write", &[buffer]).map_err(describe_error)?;
                // Errors reach us through `writer.closed`; this only keeps the promise handled.
                let _ = written.call_method("then", &[ignore, ignore]);
                let room = writer.get("desiredSize").ok().and_then(|d| d.number());
                if room.is_some_and(|n| n > 0.0) {
                    return Ok(None);
                }
                let waiting = writer.get("ready").map_err(|_| "the stream failed".to_string())?;
                waiting.call_method("then", &[ready, on_error]).map_err(describe_error)?;
                Ok(Some(WaitFor::Drain))
            })
        }
        StreamEvent::End { .. } => writer.call_method("close", &[]).map_err(describe_error).and_then(|closing| {
            closing.call_method("then", &[on_closed, on_error]).map_err(describe_error)?;
            Ok(Some(WaitFor::Finish))
        }),
    };
    let mut s = state.borrow_mut();
    match outcome {
        Err(message) => {
            let _ = reply.send(Err(format!("the stream failed: {message}")));
        }
        Ok(_) if s.broken().is_some() => {
            let _ = reply.send(Err(s.broken().unwrap_or_default()));
        }
        Ok(None) => {
            let _ = reply.send(Ok(()));
        }
        Ok(Some(WaitFor::Finish)) if s.finished => {
            let _ = reply.send(Ok(()));
        }
        Ok(Some(wait)) => s.waiting = Some((wait, reply)),
    }
}

/// A thrown value's `message` (a getter that throws leaves no exception pending), or its type.
fn describe_error(e: JsVal) -> String {
    let message = match e.get("message") {
        Ok(m) => m.string(),
        Err(_) => {
            js::take_exception(e.env);
            None
        }
    };
    message.unwrap_or_else(|| e.describe_type())
}
