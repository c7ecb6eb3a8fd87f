//! What encode threads tell the JS thread, and how they tell it.
//!
//! Why one threadsafe function per job for *all* events: Node runs each threadsafe function's calls in
//! order, so what a thread sends arrives in the order it was sent: progress calls before the settle
//! event that resolves the Promise, a batch's "read" before the failure that ends the writer. With
//! separate channels the last progress call could arrive after the Promise resolved.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::core::{EncodeControl, EncodeError, EncodeSummary};
use crate::js::job::stream_bridge::{JsStreamConsumer, StreamEvent};
use crate::js::node_api::ThreadsafeFunction;

/// An event from a job's threads to the JS thread.
pub enum Event {
    /// The writer's output is open (its encoder and sink ready): the opener's Promise resolves.
    Opened,
    /// Every frame of batch `id` was converted: its memory is no longer read (its `write()` resolves).
    Read(u64),
    /// Frames encoded, of a known total (one-shot encodes report each 5% of it).
    Progress {
        done: u64,
        total: u64,
    },
    /// A writer's frames encoded grew (the count is read from the job's [`ProgressSlot`] when delivered).
    ProgressLatest,
    Stream(StreamEvent),
    /// The job's thread is done: the encode's (or `close()`'s) Promise settles, and with a failure every
    /// pending call.
    Settle(Result<EncodeSummary, EncodeError>),
}

/// The latest progress of a writer, shared by its threads and the JS thread. A writer reports each
/// frame encoded; those events coalesce: at most one waits in the queue, and it delivers the count
/// current when it runs, so a fast encode never floods the event loop with one call per frame.
#[derive(Default)]
pub struct ProgressSlot {
    latest: AtomicU64,
    queued: AtomicBool,
}

impl ProgressSlot {
    /// The count to deliver now; lets the next report queue an event.
    pub fn take(&self) -> u64 {
        self.queued.store(false, Ordering::SeqCst);
        self.latest.load(Ordering::SeqCst)
    }

    /// Records a report; true if an event must be queued for it.
    fn record(&self, done: u64) -> bool {
        self.latest.fetch_max(done, Ordering::SeqCst);
        !self.queued.swap(true, Ordering::SeqCst)
    }
}

/// A handle on the job's threadsafe function, sendable to other threads. Each handle holds one
/// "thread" count of it, released on drop.
pub struct Channel(ThreadsafeFunction);

impl Channel {
    pub fn new(tsfn: ThreadsafeFunction) -> Channel {
        Channel(tsfn)
    }

    /// Another handle on the same function (its own thread count).
    fn try_clone(&self) -> Option<Channel> {
        self.0.try_clone().map(Channel)
    }

    pub fn send(&self, event: Event) {
        // An error hands the event back: the environment is closing, nobody will receive it.
        let _ = self.0.call(Box::new(event));
    }
}

/// How a job's threads see cancellation and report what happened.
pub struct ThreadControl {
    pub(super) abort: Arc<AtomicBool>,
    pub(super) channel: Channel,
    pub(super) progress: Option<Arc<ProgressSlot>>,
}

impl ThreadControl {
    /// The consumer that writes into this job's `toStream` Writable.
    pub fn stream_consumer(&self, end: bool) -> std::io::Result<JsStreamConsumer> {
        let channel = self
            .channel
            .try_clone()
            .ok_or_else(|| std::io::Error::other("the JavaScript environment is shutting down"))?;
        let send = Box::new(move |request| channel.send(Event::Stream(request)));
        Ok(JsStreamConsumer::new(send, self.abort.clone(), end))
    }

    /// The writer's output is open.
    pub fn opened(&self) {
        self.channel.send(Event::Opened);
    }

    /// Sends the job's outcome (its last event).
    pub fn settle(&self, result: Result<EncodeSummary, EncodeError>) {
        self.channel.send(Event::Settle(result));
    }
}

impl EncodeControl for ThreadControl {
    fn aborted(&self) -> bool {
        self.abort.load(Ordering::Relaxed)
    }

    fn progress(&self, done: u64, total: Option<u64>) {
        let Some(slot) = &self.progress else { return };
        match total {
            Some(total) => self.channel.send(Event::Progress { done, total }),
            None if slot.record(done) => self.channel.send(Event::ProgressLatest),
            None => {}
        }
    }

    fn batch_read(&self, id: u64) {
        self.channel.send(Event::Read(id));
    }
}
