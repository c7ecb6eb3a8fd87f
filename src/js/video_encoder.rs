//! `VideoEncoder`: the public class.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;

use crate::core::{
    encode, AudioInput, AudioSettings, Container, EncodeError, FileSink, FrameRate, FrameSource, MemorySink, Sink,
    StreamMode, StreamSink,
};

use crate::js::args::audio as audio_arg;
use crate::js::args::frames as frames_arg;
use crate::js::args::options::{self as options_arg, CallOptions};
use crate::js::args::output as output_arg;
use crate::js::errors::{self, promise_or_rejection, Failure};
use crate::js::job::{self, Resolution, ThreadControl};
use crate::js::node_api::JsVal;

/// Encodes a batch of raw RGB frames held in memory into a video file, a Buffer or a stream.
///
/// The frames are read in place, never copied: do not modify their memory while an encode runs. The
/// constructor marks their ArrayBuffer untransferable, so that a transfer copies instead of detaching
/// it (a resizable ArrayBuffer is copied once instead). One `VideoEncoder` can run several encodes at the same time; each runs on its own
/// thread, so the event loop stays free.
///
/// ```js
/// const { VideoEncoder } = require('framecodec')
/// const frames = new Uint8Array(30 * 3 * 240 * 320)          // 30 frames, NCHW RGB
/// const encoder = new VideoEncoder({ data: frames, shape: [30, 3, 240, 320] }, { frameRate: 30 })
/// await encoder.toFile('out.mp4', { crf: 20, preset: 'fast' })
/// ```
#[napi]
pub struct VideoEncoder {
    frames: Arc<dyn FrameSource>,
    frame_rate: FrameRate,
    frame_rate_value: f64,
    /// The audio track and its samples (interleaved), copied at construction.
    audio: Option<(AudioSettings, Arc<Vec<f32>>)>,
}

#[napi]
impl VideoEncoder {
    /// Validates the frames synchronously.
    ///
    /// Throws `TypeError` `ERR_INVALID_ARG_TYPE` (frames not uint8 memory, `frameRate` not a number),
    /// `ERR_INVALID_ARG_VALUE` (bad shape or layout, wrong channel count, length ≠ shape),
    /// `RangeError` `ERR_OUT_OF_RANGE` (`frameRate` ≤ 0 or not finite), `ERR_CUDA_UNAVAILABLE`.
    #[napi(
        constructor,
        catch_unwind,
        ts_args_type = "frames: HostFrames | CudaFrames | Uint8Array | Uint8ClampedArray | Buffer, options: VideoEncoderOptions"
    )]
    pub fn new(env: Env, frames: Unknown, options: Unknown) -> Result<Self> {
        let raw_env = env.raw();
        let options = JsVal::new(raw_env, options.raw());
        let parsed =
            frames_arg::parse(JsVal::new(raw_env, frames.raw()), options).map_err(|f| errors::throw(raw_env, f))?;
        let audio = options
            .get("audio")
            .map_err(Failure::from)
            .and_then(|a| audio_arg::parse(a, true))
            .map_err(|f| errors::throw(raw_env, f))?
            .map(|(settings, samples)| (settings, Arc::new(samples.unwrap_or_default())));
        Ok(VideoEncoder {
            frames: parsed.frames,
            frame_rate: parsed.frame_rate,
            frame_rate_value: parsed.frame_rate_value,
            audio,
        })
    }

    /// Number of frames (N).
    #[napi(getter)]
    pub fn frame_count(&self) -> u32 {
        self.frames.geometry().count as u32
    }

    /// Frame width in pixels.
    #[napi(getter)]
    pub fn width(&self) -> u32 {
        self.frames.geometry().width as u32
    }

    /// Frame height in pixels.
    #[napi(getter)]
    pub fn height(&self) -> u32 {
        self.frames.geometry().height as u32
    }

    /// The frame rate as given (stored in the video as an exact rational: 29.97 → 30000/1001).
    #[napi(getter)]
    pub fn frame_rate(&self) -> f64 {
        self.frame_rate_value
    }

    /// Where the frames live: `'cpu'` or `'cuda:N'`.
    #[napi(getter)]
    pub fn device(&self) -> String {
        self.frames.device().to_string()
    }

    /// Encodes into a local file. `dest` is a path or a `file:` URL; its extension picks the
    /// container. The file is written beside `dest` and renamed when complete: a failed or aborted
    /// encode leaves no partial file and leaves an existing `dest` untouched.
    #[napi(
        catch_unwind,
        ts_args_type = "dest: string | URL, options?: EncodeOptions",
        ts_return_type = "Promise<EncodeResult>"
    )]
    pub fn to_file<'env>(
        &self,
        env: &'env Env,
        dest: Unknown<'env>,
        options: Option<Unknown<'env>>,
    ) -> Result<Unknown<'env>> {
        let raw_env = env.raw();
        let dest = JsVal::new(raw_env, dest.raw());
        let started = (|| -> std::result::Result<JsVal, Failure> {
            let path = output_arg::dest_path(dest)?;
            let call = options_arg::parse(options.map(|o| JsVal::new(raw_env, o.raw())), "toFile")?;
            let container = Container::from_path(&path)?;
            self.start(raw_env, call, None, container, Resolution::Summary, move |_| {
                Ok(Box::new(FileSink::create(&path)?) as Box<dyn Sink>)
            })
        })();
        Ok(promise_or_rejection(raw_env, started))
    }

    /// Encodes into memory and resolves with the whole file as a Buffer (torchcodec's `to_tensor`).
    /// `format` is a file extension (`mp4`, `mkv`, `webm`, `ts`, …) or an FFmpeg muxer name.
    #[napi(catch_unwind, ts_args_type = "format: string, options?: EncodeOptions", ts_return_type = "Promise<Buffer>")]
    pub fn to_buffer<'env>(
        &self,
        env: &'env Env,
        format: Unknown<'env>,
        options: Option<Unknown<'env>>,
    ) -> Result<Unknown<'env>> {
        let raw_env = env.raw();
        let format = JsVal::new(raw_env, format.raw());
        let started = (|| -> std::result::Result<JsVal, Failure> {
            let container = output_arg::container(format)?;
            let call = options_arg::parse(options.map(|o| JsVal::new(raw_env, o.raw())), "toBuffer")?;
            self.start(raw_env, call, None, container, Resolution::Bytes, |_| {
                Ok(Box::new(MemorySink::new()) as Box<dyn Sink>)
            })
        })();
        Ok(promise_or_rejection(raw_env, started))
    }

    /// Encodes into a Node `Writable` (a file stream, an HTTP response, a `PassThrough`, …) or a WHATWG
    /// `WritableStream`, in order and honouring backpressure: when `write()` returns false the encoder
    /// waits for `'drain'` (for a WritableStream: for `writer.ready`).
    ///
    /// Muxers that never seek back (mpegts, flv, fragmented mp4 via `movflags`, matroska with
    /// `live: 1`) stream as they go, with bounded memory. mp4/mov and mkv/webm rewrite their headers
    /// at the end: their bytes are held in memory (seek emulation) and written when the file is
    /// complete, so the stream receives a normal, seekable-quality file (mp4 can go index-first with
    /// `movflags: '+faststart'`).
    ///
    /// Ends the stream when done unless `end: false`, and resolves after `'finish'` (with `end: false`,
    /// once every write was accepted). A stream error, a destroyed stream or a throwing `write`
    /// rejects with `ERR_IO` whose `cause` is the stream's error.
    #[napi(
        catch_unwind,
        ts_args_type = "stream: NodeJS.WritableStream | WritableStream, format: string, options?: EncodeOptions & { end?: boolean }",
        ts_return_type = "Promise<EncodeResult>"
    )]
    pub fn to_stream<'env>(
        &self,
        env: &'env Env,
        stream: Unknown<'env>,
        format: Unknown<'env>,
        options: Option<Unknown<'env>>,
    ) -> Result<Unknown<'env>> {
        let raw_env = env.raw();
        let stream = JsVal::new(raw_env, stream.raw());
        let format = JsVal::new(raw_env, format.raw());
        let started = (|| -> std::result::Result<JsVal, Failure> {
            let container = output_arg::container(format)?;
            let call = options_arg::parse(options.map(|o| JsVal::new(raw_env, o.raw())), "toStream")?;
            let mode = StreamMode::for_output(&container, &call.settings);
            let end = call.end;
            self.start(raw_env, call, Some(stream), container, Resolution::Summary, move |control: &ThreadControl| {
                let consumer =
                    control.stream_consumer(end).map_err(|e| EncodeError::io("cannot write to the stream", e))?;
                Ok(Box::new(StreamSink::new(mode, Box::new(consumer))) as Box<dyn Sink>)
            })
        })();
        Ok(promise_or_rejection(raw_env, started))
    }
}

impl VideoEncoder {
    fn start(
        &self,
        env: sys::napi_env,
        call: CallOptions,
        stream: Option<JsVal>,
        container: Container,
        resolution: Resolution,
        open_sink: impl FnOnce(&ThreadControl) -> crate::core::Result<Box<dyn Sink>> + Send + 'static,
    ) -> std::result::Result<JsVal, Failure> {
        let frames = self.frames.clone();
        let rate = self.frame_rate;
        let settings = call.settings;
        let audio = self
            .audio
            .as_ref()
            .map(|(settings, samples)| AudioInput { settings: settings.clone(), samples: samples.clone() });
        job::spawn_encode(env, call.signal, call.on_progress, stream, resolution, move |control| {
            encode(frames, rate, container, &settings, audio, control, || open_sink(control))
        })
    }
}
