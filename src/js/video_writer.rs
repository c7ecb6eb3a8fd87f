//! `VideoWriter`: the public class for frames pushed as they are rendered.
//!
//! A writer is one job (`job/`) whose thread opens the output, then runs the core's pipeline fed
//! through a channel: each `write()` sends one batch, `close()` the end. Calls never throw: argument
//! and state errors reject the Promise they return. Methods take `&self` with interior mutability and
//! hold no borrow while JavaScript runs (a getter of the frames given to `write()` may call `close()`).
// The #[napi] exports are only reached through Node's module registration, not from Rust test builds.
#![cfg_attr(test, allow(dead_code))]

use std::cell::{Cell, RefCell};
use std::sync::mpsc::{self, Sender};

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;

use crate::core::{
    AudioChunk, Batch, Container, Device, EncodeControl, EncodeError, ErrorCode, Feed, FileSink, FrameGeometry,
    MemorySink, Pipeline, PipelineSpec, Sink, StreamMode, StreamSink,
};
use crate::js::args::audio as audio_arg;
use crate::js::args::frames as frames_arg;
use crate::js::args::output as output_arg;
use crate::js::args::writer_options::{self, WriterOptions};
use crate::js::errors::{failure_value, promise_or_rejection, Failure};
use crate::js::job::{self, stream_bridge, EncodeThread, JobInputs, JsState, Resolution, SharedState, ThreadControl};
use crate::js::node_api::{self as js, JsVal};

/// Writes a video frame by frame, as the frames are rendered: into a file, a Buffer or a stream.
///
/// Open one with `VideoWriter.toFile(dest, options)`, `.toBuffer(format, options)` or
/// `.toStream(stream, format, options)`; then `await writer.write(frames)` for each frame (or batch
/// of frames) and `await writer.close()`. `write()` resolves once framecodec no longer reads the frames'
/// memory, so the caller may refill the same buffer; a few frames at most are in flight, so memory
/// stays bounded however long the video.
///
/// ```js
/// const { VideoWriter } = require('framecodec')
/// const writer = await VideoWriter.toFile('out.mp4', { width: 320, height: 240, frameRate: 30 })
/// const frame = new Uint8Array(3 * 240 * 320)           // one NCHW frame, reused
/// for (let i = 0; i < 90; i++) {
///   render(frame, i)                                     // your renderer
///   await writer.write(frame)
/// }
/// console.log(await writer.close())                      // { format: 'mp4', codec: 'libx264', ... }
/// ```
#[napi]
pub struct VideoWriter {
    state: SharedState,
    /// The pipeline's feed until `close()` or `abort()`; dropped with the writer (which aborts it).
    feed: RefCell<Option<Sender<Feed>>>,
    /// One frame of what the writer takes.
    frame: FrameGeometry,
    device: Device,
    /// Channels of the audio track, if it has one.
    audio_channels: Option<u32>,
    frames_written: Cell<u64>,
    next_batch: Cell<u64>,
}

#[napi]
impl VideoWriter {
    /// Opens a writer into a local file (a path or a `file:` URL; its extension picks the container).
    /// The file is written beside `dest` and renamed when `close()` completes: an aborted or failed
    /// writer leaves no file, and an existing `dest` untouched.
    ///
    /// Never throws: every error the options, the encoder or the destination raise rejects the Promise,
    /// before anything is written.
    #[napi(
        catch_unwind,
        ts_args_type = "dest: string | URL, options: VideoWriterOptions",
        ts_return_type = "Promise<VideoWriter>"
    )]
    pub fn to_file<'env>(env: &'env Env, dest: Unknown<'env>, options: Option<Unknown<'env>>) -> Result<Unknown<'env>> {
        let raw = env.raw();
        let dest = JsVal::new(raw, dest.raw());
        let opened = (|| -> std::result::Result<JsVal, Failure> {
            let path = output_arg::dest_path(dest)?;
            let options = writer_options::parse(options.map(|o| JsVal::new(raw, o.raw())), "VideoWriter.toFile")?;
            let container = Container::from_path(&path)?;
            open(raw, options, container, None, Resolution::Summary, move |_| {
                Ok(Box::new(FileSink::create(&path)?) as Box<dyn Sink>)
            })
        })();
        Ok(promise_or_rejection(raw, opened))
    }

    /// Opens a writer into memory: `close()` resolves with the `EncodeResult` and the whole file as
    /// its `buffer`. `format` is a file extension (`mp4`, `webm`, `ts`, …) or an FFmpeg muxer name.
    #[napi(
        catch_unwind,
        ts_args_type = "format: string, options: VideoWriterOptions",
        ts_return_type = "Promise<VideoWriter>"
    )]
    pub fn to_buffer<'env>(
        env: &'env Env,
        format: Unknown<'env>,
        options: Option<Unknown<'env>>,
    ) -> Result<Unknown<'env>> {
        let raw = env.raw();
        let format = JsVal::new(raw, format.raw());
        let opened = (|| -> std::result::Result<JsVal, Failure> {
            let container = output_arg::container(format)?;
            let options = writer_options::parse(options.map(|o| JsVal::new(raw, o.raw())), "VideoWriter.toBuffer")?;
            open(raw, options, container, None, Resolution::SummaryWithBuffer, |_| {
                Ok(Box::new(MemorySink::new()) as Box<dyn Sink>)
            })
        })();
        Ok(promise_or_rejection(raw, opened))
    }

    /// Opens a writer into a Node `Writable` or a WHATWG `WritableStream`, written in order with
    /// backpressure, as `VideoEncoder.toStream` does. Formats that never seek back (mpegts, fragmented
    /// mp4, matroska with `live`, …) reach the stream while frames are written: a live stream. The
    /// stream is ended by `close()` unless `end: false`.
    #[napi(
        catch_unwind,
        ts_args_type = "stream: NodeJS.WritableStream | WritableStream, format: string, options: VideoWriterOptions & { end?: boolean }",
        ts_return_type = "Promise<VideoWriter>"
    )]
    pub fn to_stream<'env>(
        env: &'env Env,
        stream: Unknown<'env>,
        format: Unknown<'env>,
        options: Option<Unknown<'env>>,
    ) -> Result<Unknown<'env>> {
        let raw = env.raw();
        let stream = JsVal::new(raw, stream.raw());
        let format = JsVal::new(raw, format.raw());
        let opened = (|| -> std::result::Result<JsVal, Failure> {
            let container = output_arg::container(format)?;
            let options = writer_options::parse(options.map(|o| JsVal::new(raw, o.raw())), "VideoWriter.toStream")?;
            let mode = StreamMode::for_output(&container, &options.call.settings);
            let end = options.call.end;
            open(raw, options, container, Some(stream), Resolution::Summary, move |control: &ThreadControl| {
                let consumer =
                    control.stream_consumer(end).map_err(|e| EncodeError::io("cannot write to the stream", e))?;
                Ok(Box::new(StreamSink::new(mode, Box::new(consumer))) as Box<dyn Sink>)
            })
        })();
        Ok(promise_or_rejection(raw, opened))
    }

    /// Frames handed to `write()` so far (and accepted: a call rejected for its arguments adds none).
    #[napi(getter)]
    pub fn frames_written(&self) -> f64 {
        self.frames_written.get() as f64
    }

    /// Writes one or more frames of the writer's size, layout and channels: a typed array holding whole
    /// frames, `{ data, shape: [k, …] }`, or CUDA frames (with `device: 'cuda:N'`). Resolves once
    /// framecodec no longer reads that memory: the caller may then refill it. Calls made without
    /// awaiting are queued and written in call order.
    ///
    /// Frames of another shape reject with `ERR_INVALID_ARG_VALUE` naming both shapes, and nothing of
    /// that call is written; after `close()` or `abort()`, `ERR_INVALID_STATE`. Like the constructor of
    /// `VideoEncoder`, it marks the frames' ArrayBuffer untransferable.
    #[napi(
        catch_unwind,
        ts_args_type = "frames: Uint8Array | Uint8ClampedArray | Buffer | HostFrames | CudaFrames",
        ts_return_type = "Promise<void>"
    )]
    pub fn write<'env>(&self, env: &'env Env, frames: Unknown<'env>) -> Result<Unknown<'env>> {
        let raw = env.raw();
        let frames = JsVal::new(raw, frames.raw());
        let written = (|| -> std::result::Result<JsVal, Failure> {
            self.refuse("write()")?;
            let batch = frames_arg::batch(frames, &self.frame, self.device)?;
            // Reading the argument ran JavaScript (getters), which may have closed or aborted the writer.
            self.refuse("write()")?;
            let count = batch.geometry().count as u64;
            let promise = self.send_batch(raw, "write()", |id| Feed::Frames(Batch { frames: batch, id }))?;
            self.frames_written.set(self.frames_written.get() + count);
            Ok(promise)
        })();
        Ok(promise_or_rejection(raw, written))
    }

    /// Writes audio samples into the writer's audio track (opened with the `audio` option): a
    /// `Float32Array` of `channels` × n interleaved samples, or an array of `channels` `Float32Array`s
    /// (planar, as Web Audio's `AudioBuffer.getChannelData(c)`), float32 in [-1, 1] at `audio.sampleRate`.
    /// Any chunk sizes, in any order with `write()`: calls are taken in call order, and the muxer
    /// interleaves the two tracks by time (keep them within a few seconds of each other: it holds
    /// packets until both tracks reach the same time, up to 10 s). The samples are copied: the caller
    /// may reuse the array at once. Resolves once they are queued for the encoder.
    ///
    /// `ERR_INVALID_ARG_TYPE` (not Float32Array / Float32Array[]), `ERR_INVALID_ARG_VALUE` (a length or
    /// array count that does not fit the channels; NaN or ±Infinity, naming channel and index — nothing of
    /// that call is written); `ERR_INVALID_STATE` without an audio track, after `close()` or `abort()`.
    #[napi(catch_unwind, ts_args_type = "samples: Float32Array | Float32Array[]", ts_return_type = "Promise<void>")]
    pub fn write_audio<'env>(&self, env: &'env Env, samples: Unknown<'env>) -> Result<Unknown<'env>> {
        let raw = env.raw();
        let samples = JsVal::new(raw, samples.raw());
        let written = (|| -> std::result::Result<JsVal, Failure> {
            self.refuse("writeAudio()")?;
            let Some(channels) = self.audio_channels else {
                return Err(Failure::Encode(EncodeError::new(
                    ErrorCode::InvalidState,
                    "writeAudio(): this writer has no audio track (open it with the audio option: { sampleRate, channels })",
                )));
            };
            let samples = audio_arg::samples(samples, channels, "samples")?;
            // Reading the argument ran JavaScript (getters, a Proxy), which may have closed or aborted the writer.
            self.refuse("writeAudio()")?;
            self.send_batch(raw, "writeAudio()", |id| Feed::Audio(AudioChunk { samples, id }))
        })();
        Ok(promise_or_rejection(raw, written))
    }

    /// Finishes the video: flushes the encoder, writes the container's trailer, then moves the file into
    /// place (`toFile`), ends the stream (`toStream`, unless `end: false`) or hands out the bytes
    /// (`toBuffer`: as `buffer`). Resolves with the `EncodeResult`. Every later call returns this same
    /// Promise. With no frame written: `ERR_INVALID_STATE`, and no output.
    #[napi(catch_unwind, ts_return_type = "Promise<EncodeResult & { buffer?: Buffer }>")]
    pub fn close<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        let raw = env.raw();
        let closed = (|| -> std::result::Result<JsVal, Failure> {
            if let Some(promise) = self.state.borrow().close_promise() {
                return Ok(promise);
            }
            let (deferred, promise) = js::promise(raw)?;
            // (the refusal's error is made before the state is borrowed: making an Error sets properties)
            let refusal = self.state.borrow().refusal("close()");
            let refusal = refusal.map(|failure| failure_value(raw, failure));
            let mut state = self.state.borrow_mut();
            match refusal {
                Some(error) => {
                    deferred.reject(raw, error);
                    state.closing(promise, None)?;
                }
                None => {
                    state.closing(promise, Some(deferred))?;
                    if let Some(feed) = self.feed.borrow_mut().take() {
                        let _ = feed.send(Feed::Close);
                    }
                }
            }
            state.update_loop_hold();
            Ok(promise)
        })();
        Ok(promise_or_rejection(raw, closed))
    }

    /// Stops the writer and discards its output (no file is left; an existing `dest` is untouched).
    /// Pending calls reject with an `AbortError` (`ABORT_ERR`) whose `cause` is `reason`, a pending
    /// `close()` included; later ones with `ERR_INVALID_STATE`. Resolves once the output is discarded.
    /// After `close()` resolved, or a second time, it changes nothing.
    #[napi(catch_unwind, ts_args_type = "reason?: unknown", ts_return_type = "Promise<void>")]
    pub fn abort<'env>(&self, env: &'env Env, reason: Option<Unknown<'env>>) -> Result<Unknown<'env>> {
        let raw = env.raw();
        let aborted = (|| -> std::result::Result<JsVal, Failure> {
            let (deferred, promise) = js::promise(raw)?;
            let mut state = self.state.borrow_mut();
            if state.settled() {
                deferred.resolve(raw, js::undefined(raw));
                return Ok(promise);
            }
            state.request_abort(reason.map(|r| JsVal::new(raw, r.raw())), deferred)?;
            state.update_loop_hold();
            // The pipeline stops waiting for frames (it also polls the abort flag).
            self.feed.borrow_mut().take();
            Ok(promise)
        })();
        Ok(promise_or_rejection(raw, aborted))
    }
}

impl VideoWriter {
    /// Sends what `call` (`write()`, `writeAudio()`) gives to the pipeline as the next batch, and returns
    /// the Promise that settles once the pipeline has read it.
    fn send_batch(
        &self,
        env: sys::napi_env,
        call: &str,
        batch: impl FnOnce(u64) -> Feed,
    ) -> std::result::Result<JsVal, Failure> {
        let (deferred, promise) = js::promise(env)?;
        let id = self.next_batch.get();
        {
            let feed = self.feed.borrow();
            let Some(feed) = feed.as_ref() else {
                return Err(Failure::Encode(EncodeError::new(
                    ErrorCode::InvalidState,
                    format!("{call} on a writer that takes no more input"),
                )));
            };
            let mut state = self.state.borrow_mut();
            state.push_write(id, deferred);
            state.update_loop_hold();
            // Failing to send means the job's thread ended: its settle, queued, rejects this call.
            let _ = feed.send(batch(id));
        }
        self.next_batch.set(id + 1);
        Ok(promise)
    }

    /// `ERR_INVALID_STATE` (or the writer's failure) if the writer takes no more `call`s.
    fn refuse(&self, call: &str) -> std::result::Result<(), Failure> {
        match self.state.borrow().refusal(call) {
            Some(failure) => Err(failure),
            None => Ok(()),
        }
    }
}

/// Opens a writer: its job's thread opens the output (validating every option against the encoder
/// and muxer) and then encodes what the writer feeds it. Returns the opener's Promise, which resolves
/// with the writer once the output is open.
fn open(
    env: sys::napi_env,
    options: WriterOptions,
    container: Container,
    stream: Option<JsVal>,
    resolution: Resolution,
    open_sink: impl FnOnce(&ThreadControl) -> crate::core::Result<Box<dyn Sink>> + Send + 'static,
) -> std::result::Result<JsVal, Failure> {
    let Ok((deferred, promise)) = js::promise(env) else {
        return Err(Failure::Encode(EncodeError::new(ErrorCode::Encode, "cannot create a Promise")));
    };
    let WriterOptions { frame, device, frame_rate, call, audio } = options;
    let audio_channels = audio.as_ref().map(|a| a.channels);
    if let Some(aborted) = job::already_aborted(env, call.signal)? {
        deferred.reject(env, aborted);
        return Ok(promise);
    }
    let stream = stream.map(|s| stream_bridge::attach(env, s)).transpose()?;
    let inputs =
        JobInputs { signal: call.signal, on_progress: call.on_progress, stream, resolution, known_total: false };
    let state = JsState::new(env, inputs, EncodeThread::new())?;
    let spec = PipelineSpec {
        width: frame.width,
        height: frame.height,
        input: frame.input_pixels(),
        device,
        frame_rate,
        container,
        settings: call.settings,
        audio,
    };
    let (feed, fed) = mpsc::channel();
    job::thread::start(env, &state, move |control| {
        let aborted = || {
            if control.aborted() {
                Err(EncodeError::aborted())
            } else {
                Ok(())
            }
        };
        aborted()?;
        let pipeline = Pipeline::open(&spec, || open_sink(control))?;
        aborted()?; // dropping the pipeline discards the output
        control.opened();
        pipeline.run(fed, control, None)
    })?;
    let writer = VideoWriter {
        state: state.clone(),
        feed: RefCell::new(Some(feed)),
        frame,
        device,
        audio_channels,
        frames_written: Cell::new(0),
        next_batch: Cell::new(0),
    };
    let instance =
        js::instance(env, writer).map_err(|e| Failure::Encode(EncodeError::new(ErrorCode::Encode, e.reason)))?;
    state.borrow_mut().set_opener(deferred, instance)?;
    Ok(promise)
}
