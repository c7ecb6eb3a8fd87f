//! An encode fed batch by batch: the loop around [`VideoWriter`], with a conversion thread,
//! cancellation and progress. Both public APIs run through it: the JS `VideoWriter` feeds one batch
//! per `write()`, and the one-shot [`encode`] feeds one batch holding every frame.
//!
//! Note: [Conversion thread]. The encoder's threads (x264's frame threads) go idle while the thread that
//! feeds them converts the next frame from RGB. So frames are converted on a thread of their own, a
//! few frames ahead, through a small bounded queue; the feeding thread only hands converted frames
//! to the encoder and recycles them back. Converted frames are reused, so the steady state
//! allocates nothing. The bounded queue is also the writer's backpressure: a batch is reported read
//! ([`EncodeControl::batch_read`], its memory free to be refilled) once its last frame is converted,
//! which waits for room in the queue, i.e. for the encoder.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::Duration;

use ffmpeg_next::frame;

use super::convert::FrameFormat;
use super::cuda::{self, Gpu};
use super::encoder::codec::VideoCodec;
use super::encoder::rate::FrameRate;
use super::encoder::settings::{AudioSettings, EncodeSettings};
use super::error::{EncodeError, ErrorCode, Result};
use super::mux::container::Container;
use super::picture::InputPixels;
use super::sink::Sink;
use super::source::{Device, FrameConverter, FrameRange, FrameSource, HostConverter};
use super::writer::{EncodeSummary, VideoWriter, WriterConfig};

/// Converted frames waiting for the encoder (beyond the one being converted and the one being encoded).
const QUEUE: usize = 2;
/// How often a conversion thread waiting for frames looks at the abort flag.
const POLL: Duration = Duration::from_millis(20);

/// How an encode is watched from outside: polled for cancellation, told about progress.
pub trait EncodeControl: Sync {
    /// Checked before every frame; `true` stops the encode with `ABORT_ERR`.
    fn aborted(&self) -> bool {
        false
    }
    /// Called with non-decreasing counts of frames the encoder has *finished* (their packets are
    /// out, not frames handed to it: x264's lookahead holds up to ~60). With a known `total`: at least
    /// once per 5% of it, and last with `frames_encoded == total` once the output is complete. With
    /// none (a writer), whenever the count grows.
    fn progress(&self, _frames_encoded: u64, _total: Option<u64>) {}
    /// Called on the conversion thread once every frame of batch `id` is converted: its memory is no
    /// longer read (the writer's `write()` resolves, and its caller may refill the buffer).
    fn batch_read(&self, _id: u64) {}
}

/// No cancellation, no progress.
pub struct Unwatched;
impl EncodeControl for Unwatched {}

/// What a pipeline encodes: every frame it will be fed has this size, pixel layout and device.
#[derive(Debug, Clone)]
pub struct PipelineSpec {
    pub width: usize,
    pub height: usize,
    pub input: InputPixels,
    pub device: Device,
    pub frame_rate: FrameRate,
    pub container: Container,
    pub settings: EncodeSettings,
    /// An audio track beside the video, fed [`Feed::Audio`].
    pub audio: Option<AudioSettings>,
}

/// Frames handed to a running pipeline.
pub struct Batch {
    /// Frames of the pipeline's size, layout and device (checked by whoever makes the batch).
    pub frames: Arc<dyn FrameSource>,
    /// Reported to [`EncodeControl::batch_read`] once the last frame is converted.
    pub id: u64,
}

/// Audio samples handed to a running pipeline with an audio track.
pub struct AudioChunk {
    /// Interleaved float32 samples, `channels` × n (n ≥ 0), finite (checked by whoever makes the chunk).
    pub samples: Vec<f32>,
    /// Reported to [`EncodeControl::batch_read`] once the chunk is queued for the encoder.
    pub id: u64,
}

/// The whole audio track of a one-shot encode.
pub struct AudioInput {
    pub settings: AudioSettings,
    /// Interleaved float32 samples, `channels` × n, finite.
    pub samples: Arc<Vec<f32>>,
}

/// What a pipeline is fed, in order.
pub enum Feed {
    Frames(Batch),
    Audio(AudioChunk),
    /// No more frames: flush, write the trailer, finish the sink.
    Close,
}

/// From the conversion thread to the encoding one.
enum Converted {
    Frame(frame::Video),
    Audio(Vec<f32>),
    Failed(EncodeError),
    End,
}

/// An opened encode: the encoder and its converter ready, the sink created, nothing written yet.
pub struct Pipeline {
    writer: VideoWriter,
    converter: Box<dyn FrameConverter>,
    device: Device,
}

impl Pipeline {
    /// Validates the settings against the encoder and muxer, opens the encoder (for frames on a GPU
    /// with no codec asked for, the container's codec on NVENC first, falling back to the default
    /// CPU encoder where NVENC cannot run), creates the sink with `open_sink` and the converter.
    pub fn open(spec: &PipelineSpec, open_sink: impl FnOnce() -> Result<Box<dyn Sink>>) -> Result<Pipeline> {
        let gpu = match spec.device {
            Device::Cuda(ordinal) => Some(Gpu::get(ordinal as usize)?),
            Device::Cpu => None,
        };
        if gpu.is_some() && spec.settings.pixel_format.is_some() {
            return Err(EncodeError::invalid_value(
                "pixelFormat cannot be set for CUDA frames: the GPU converts them into the encoder's own format (leave pixelFormat unset)",
            ));
        }
        let config = WriterConfig {
            width: spec.width,
            height: spec.height,
            input: spec.input,
            frame_rate: spec.frame_rate,
            container: spec.container,
            settings: spec.settings.clone(),
            cuda_context: gpu.as_ref().map(|g| g.context_handle()),
            audio: spec.audio.clone(),
        };
        let on_device = |e: EncodeError| match (&gpu, e.code) {
            (Some(gpu), ErrorCode::EncoderUnavailable) => EncodeError::new(
                e.code,
                format!("{}; the frames are on {} (cuda:{})", e.message, gpu.name, gpu.ordinal),
            ),
            _ => e,
        };
        let writer = open_writer(&config, gpu.is_some(), open_sink).map_err(on_device)?;
        let converter = converter_for(spec.device, spec.input, &writer.frame_format())?;
        Ok(Pipeline { writer, converter, device: spec.device })
    }

    /// Runs the encode: converts and encodes every batch `feed` brings until [`Feed::Close`], then
    /// flushes the encoder and finishes the output. `total` is the number of frames when known (for
    /// progress). A feed dropped before `Close` is an abort. On any failure the output is discarded.
    pub fn run(self, feed: Receiver<Feed>, control: &dyn EncodeControl, total: Option<u64>) -> Result<EncodeSummary> {
        let Pipeline { mut writer, mut converter, device } = self;
        // A failure while aborting (e.g. a stream write cut short by the abort) is the abort.
        let or_aborted = |e: EncodeError| {
            if control.aborted() {
                EncodeError::aborted()
            } else {
                e
            }
        };
        let progress = Progress::new(control, total);
        let (converted_tx, converted_rx) = mpsc::sync_channel::<Converted>(QUEUE);
        let (recycled_tx, recycled_rx) = mpsc::channel::<frame::Video>();
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            let stop = &stop;
            let converter = converter.as_mut();
            std::thread::Builder::new()
                .name("framecodec-convert".into())
                .spawn_scoped(scope, move || {
                    convert_feed(feed, converter, device, converted_tx, recycled_rx, control, stop)
                })
                .map_err(|e| EncodeError::new(ErrorCode::Encode, format!("cannot start a conversion thread: {e}")))?;
            let fed = encode_converted(&mut writer, &converted_rx, &recycled_tx, control, &progress);
            // Unblock and end the converter whatever happened (it may be waiting on a full queue).
            stop.store(true, Ordering::Relaxed);
            drop(converted_rx);
            fed
        })
        .map_err(or_aborted)?;
        // The flush and the trailer can take as long as many frames (x264's lookahead and frame threads,
        // a slow preset): the abort is checked after every packet, and last just before the output is
        // finished (a stream ended). An abort after that is the caller's to honour (see `PendingFile`).
        let summary = writer
            .finish_watched(&mut |encoded| {
                if control.aborted() {
                    return Err(EncodeError::aborted());
                }
                progress.update(encoded);
                Ok(())
            })
            .map_err(or_aborted)?;
        if control.aborted() {
            return Err(EncodeError::aborted());
        }
        control.progress(summary.frames, total);
        Ok(summary)
    }
}

/// A converter of frames of `input` pixels on `device` into encoder frames of `format`, for every
/// batch of an encode.
pub fn converter_for(device: Device, input: InputPixels, format: &FrameFormat) -> Result<Box<dyn FrameConverter>> {
    Ok(match device {
        Device::Cuda(ordinal) => cuda::converter(Gpu::get(ordinal as usize)?, input, format)?,
        Device::Cpu => Box::new(HostConverter::new(input, format)?),
    })
}

/// Encodes every frame of `source` (and the whole `audio` track) into a new sink and finishes it: the
/// pipeline fed one batch — or, with audio, a second of frames at a time, each followed by its second
/// of audio, so that the muxer interleaves them as it goes.
pub fn encode(
    source: Arc<dyn FrameSource>,
    frame_rate: FrameRate,
    container: Container,
    settings: &EncodeSettings,
    audio: Option<AudioInput>,
    control: &dyn EncodeControl,
    open_sink: impl FnOnce() -> Result<Box<dyn Sink>>,
) -> Result<EncodeSummary> {
    if control.aborted() {
        return Err(EncodeError::aborted());
    }
    let geometry = source.geometry();
    let spec = PipelineSpec {
        width: geometry.width,
        height: geometry.height,
        input: geometry.input_pixels(),
        device: source.device(),
        frame_rate,
        container,
        settings: settings.clone(),
        audio: audio.as_ref().map(|a| a.settings.clone()),
    };
    let pipeline =
        Pipeline::open(&spec, open_sink).map_err(|e| if control.aborted() { EncodeError::aborted() } else { e })?;
    let total = geometry.count as u64;
    match audio {
        None => {
            let (feed, fed) = mpsc::channel();
            let _ = feed.send(Feed::Frames(Batch { frames: source, id: 0 }));
            let _ = feed.send(Feed::Close);
            pipeline.run(fed, control, Some(total))
        }
        Some(audio) => std::thread::scope(|scope| {
            // A thread of its own feeds the seconds through a bounded channel: each second of audio is
            // copied only shortly before the encode needs it. It ends when the pipeline drops the feed.
            let (feed, fed) = mpsc::sync_channel(2);
            scope.spawn(move || feed_seconds(&feed, source, frame_rate, &audio));
            pipeline.run(fed, control, Some(total))
        }),
    }
}

/// Feeds `source` a second of frames at a time, each followed by the audio up to its end, then the
/// audio left and `Close`. Stops early when the pipeline is gone.
fn feed_seconds(feed: &SyncSender<Feed>, source: Arc<dyn FrameSource>, rate: FrameRate, audio: &AudioInput) {
    let frames = source.geometry().count;
    let per_second = ((rate.num as f64 / rate.den as f64).round() as usize).max(1);
    let channels = audio.settings.channels as usize;
    let all = audio.samples.len() / channels;
    let mut sent_samples = 0usize;
    let mut start = 0usize;
    let mut id = 0u64;
    let send = |f: Feed| feed.send(f).is_ok();
    while start < frames {
        let count = per_second.min(frames - start);
        let batch = Batch { frames: Arc::new(FrameRange { source: source.clone(), start, count }), id };
        start += count;
        // Audio up to the end of these frames: start × sampleRate / frameRate samples.
        let until = ((start as u128 * audio.settings.sample_rate as u128 * rate.den as u128) / rate.num as u128)
            .min(all as u128) as usize;
        let chunk =
            AudioChunk { samples: audio.samples[sent_samples * channels..until * channels].to_vec(), id: id + 1 };
        sent_samples = until;
        id += 2;
        if !send(Feed::Frames(batch)) || !send(Feed::Audio(chunk)) {
            return;
        }
    }
    let rest = AudioChunk { samples: audio.samples[sent_samples * channels..].to_vec(), id };
    let _ = send(Feed::Audio(rest)) && send(Feed::Close);
}

/// Reports frames encoded to the control: with a known total each time they cross another 5% of
/// it, else each time they grow.
struct Progress<'a> {
    control: &'a dyn EncodeControl,
    total: Option<u64>,
    step: u64,
    reported: std::cell::Cell<u64>,
}

impl<'a> Progress<'a> {
    fn new(control: &'a dyn EncodeControl, total: Option<u64>) -> Progress<'a> {
        let step = total.map_or(1, |t| (t / 20).max(1));
        Progress { control, total, step, reported: std::cell::Cell::new(0) }
    }

    fn update(&self, encoded: u64) {
        let encoded = self.total.map_or(encoded, |t| encoded.min(t));
        let below_total = self.total.is_none_or(|t| encoded < t);
        if encoded / self.step > self.reported.get() / self.step && below_total {
            self.reported.set(encoded);
            self.control.progress(encoded, self.total);
        }
    }
}

/// Opens the writer. For frames on a GPU with no codec asked for, tries the container's codec on NVENC
/// first (`h264_nvenc` for mp4, …) and falls back to the default CPU encoder where NVENC cannot run.
fn open_writer(
    config: &WriterConfig,
    on_gpu: bool,
    open_sink: impl FnOnce() -> Result<Box<dyn Sink>>,
) -> Result<VideoWriter> {
    let mut open_sink = Some(open_sink);
    let mut sink_once = || match open_sink.take() {
        Some(open) => open(),
        None => Err(EncodeError::new(ErrorCode::Encode, "internal error: the output was opened twice")),
    };
    let nvenc = on_gpu.then(|| nvenc_for(&config.container)).flatten().filter(|_| config.settings.codec.is_none());
    if let Some(name) = nvenc {
        let mut first = config.clone();
        first.settings.codec = Some(name);
        match VideoWriter::open(&first, &mut sink_once) {
            Err(e) if e.code == ErrorCode::EncoderUnavailable => {} // no NVENC here: the CPU encoder below
            other => return other,
        }
    }
    VideoWriter::open(config, &mut sink_once)
}

/// The NVENC encoder for a container's default codec, if this FFmpeg has it.
fn nvenc_for(container: &Container) -> Option<String> {
    use ffmpeg_next::ffi::AVCodecID::*;
    let name = match container.default_video_codec() {
        AV_CODEC_ID_H264 => "h264_nvenc",
        AV_CODEC_ID_HEVC => "hevc_nvenc",
        AV_CODEC_ID_AV1 => "av1_nvenc",
        _ => return None,
    };
    VideoCodec::find(Some(name), container).ok().map(|_| name.to_string())
}

/// The conversion thread: converts the frames of each batch `feed` brings, in order, into `out`.
/// Stops at `Close` (forwarded as `End`), at the first failure (forwarded), or when stopped or aborted.
fn convert_feed(
    feed: Receiver<Feed>,
    converter: &mut dyn FrameConverter,
    device: Device,
    out: SyncSender<Converted>,
    recycled: Receiver<frame::Video>,
    control: &dyn EncodeControl,
    stop: &AtomicBool,
) {
    let stopped = || stop.load(Ordering::Relaxed) || control.aborted();
    loop {
        let batch = match feed.recv_timeout(POLL) {
            Ok(Feed::Frames(batch)) => batch,
            Ok(Feed::Audio(chunk)) => {
                // Audio passes in order with the frames; it is encoded on the encoding thread.
                if out.send(Converted::Audio(chunk.samples)).is_err() {
                    return;
                }
                control.batch_read(chunk.id);
                continue;
            }
            Ok(Feed::Close) => {
                let _ = out.send(Converted::End);
                return;
            }
            Err(RecvTimeoutError::Timeout) if stopped() => return,
            Err(RecvTimeoutError::Timeout) => continue,
            // The feeder went away without closing (a writer dropped unclosed): nothing to finish.
            Err(RecvTimeoutError::Disconnected) => {
                let _ = out.send(Converted::Failed(EncodeError::aborted()));
                return;
            }
        };
        let frames = batch.frames;
        if frames.device() != device {
            let wrong = EncodeError::invalid_value(format!(
                "frames on {} were given to an encode of frames on {device}",
                frames.device()
            ));
            let _ = out.send(Converted::Failed(wrong));
            return;
        }
        if let Err(e) = frames.prepare() {
            let _ = out.send(Converted::Failed(e));
            return;
        }
        for index in 0..frames.geometry().count {
            if stopped() {
                return;
            }
            let mut frame = recycled.try_recv().unwrap_or_else(|_| frame::Video::empty());
            let converted = match converter.convert(frames.frame(index), &mut frame) {
                Ok(()) => Converted::Frame(frame),
                Err(e) => Converted::Failed(e),
            };
            let failed = matches!(converted, Converted::Failed(_));
            if out.send(converted).is_err() || failed {
                return;
            }
        }
        drop(frames);
        control.batch_read(batch.id);
    }
}

/// The encoding thread's loop: hands converted frames to the encoder and recycles them, until the end.
fn encode_converted(
    writer: &mut VideoWriter,
    converted: &Receiver<Converted>,
    recycle: &mpsc::Sender<frame::Video>,
    control: &dyn EncodeControl,
    progress: &Progress<'_>,
) -> Result<()> {
    loop {
        match converted.recv() {
            Ok(Converted::Frame(mut frame)) => {
                if control.aborted() {
                    return Err(EncodeError::aborted());
                }
                writer.write_converted(&mut frame)?;
                let _ = recycle.send(frame);
                progress.update(writer.frames_encoded());
            }
            Ok(Converted::Audio(samples)) => {
                if control.aborted() {
                    return Err(EncodeError::aborted());
                }
                writer.write_audio(&samples)?;
            }
            Ok(Converted::End) => return Ok(()),
            Ok(Converted::Failed(e)) => return Err(e),
            // The converter only stops without a word when stopped or aborted.
            Err(_) => return Err(EncodeError::aborted()),
        }
    }
}
