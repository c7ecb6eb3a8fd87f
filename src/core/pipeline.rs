//! One whole encode of a [`FrameSource`]: the loop around [`VideoWriter`] with cancellation and progress.
//!
//! Why a conversion thread: the encoder's threads (x264's frame threads) go idle while the thread that
//! feeds them converts the next frame from RGB. So frames are converted on a thread of their own, a few
//! frames ahead, through a small bounded queue; the feeding thread only hands converted frames to the
//! encoder and recycles them back. Converted frames are reused, so the steady state allocates nothing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use ffmpeg_next::frame;

use super::mux::container::Container;
use super::error::{EncodeError, ErrorCode, Result};
use super::source::{Device, FrameConverter, FrameSource};
use super::encoder::settings::EncodeSettings;
use super::encoder::rate::FrameRate;
use super::sink::Sink;
use super::writer::{EncodeSummary, VideoWriter, WriterConfig};

/// Converted frames waiting for the encoder (beyond the one being converted and the one being encoded).
const QUEUE: usize = 2;

/// How an encode is watched from outside: polled for cancellation, told about progress.
pub trait EncodeControl: Sync {
    /// Checked before every frame; `true` stops the encode with `ABORT_ERR`.
    fn aborted(&self) -> bool {
        false
    }
    /// Called with non-decreasing counts of frames the encoder has *finished* (their packets are
    /// out, not frames handed to it: x264's lookahead holds up to ~60), at least once per 5% of the
    /// frames, and last with `frames_encoded == total` once the output is complete.
    fn progress(&self, _frames_encoded: u64, _total: u64) {}
}

/// No cancellation, no progress.
pub struct Unwatched;
impl EncodeControl for Unwatched {}

/// Encodes every frame of `source` into a new sink and finishes it.
pub fn encode(
    source: &dyn FrameSource,
    frame_rate: FrameRate,
    container: Container,
    settings: &EncodeSettings,
    control: &dyn EncodeControl,
    open_sink: impl FnOnce() -> Result<Box<dyn Sink>>,
) -> Result<EncodeSummary> {
    if control.aborted() {
        return Err(EncodeError::aborted());
    }
    let geometry = source.geometry();
    let config = WriterConfig {
        width: geometry.width,
        height: geometry.height,
        input: geometry.input_pixels(),
        frame_rate,
        container,
        settings: settings.clone(),
        cuda_context: source.cuda_context(),
    };
    // A failure while aborting (e.g. a stream write cut short by the abort) is the abort.
    let or_aborted = |e: EncodeError| if control.aborted() { EncodeError::aborted() } else { e };
    let mut writer = open_writer(source, &config, open_sink).map_err(or_aborted)?;
    let total = geometry.count as u64;
    let progress = Progress::new(control, total);
    let report = |writer: &VideoWriter| progress.update(writer.frames_encoded());

    let mut converter = source.converter(&writer.frame_format())?;
    if geometry.count < 2 * QUEUE {
        // Too short to be worth a thread.
        let mut frame = frame::Video::empty();
        for index in 0..geometry.count {
            if control.aborted() {
                return Err(EncodeError::aborted());
            }
            converter.convert(index, &mut frame).and_then(|_| writer.write_converted(&mut frame)).map_err(or_aborted)?;
            report(&writer);
        }
    } else {
        pipelined(converter.as_mut(), geometry.count, &mut writer, control, &report).map_err(or_aborted)?;
    }
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
    control.progress(total, total);
    Ok(summary)
}

/// Reports frames encoded to the control each time they cross another 5% of the total.
struct Progress<'a> {
    control: &'a dyn EncodeControl,
    total: u64,
    step: u64,
    reported: std::cell::Cell<u64>,
}

impl<'a> Progress<'a> {
    fn new(control: &'a dyn EncodeControl, total: u64) -> Progress<'a> {
        Progress { control, total, step: (total / 20).max(1), reported: std::cell::Cell::new(0) }
    }

    fn update(&self, encoded: u64) {
        let encoded = encoded.min(self.total);
        if encoded / self.step > self.reported.get() / self.step && encoded < self.total {
            self.reported.set(encoded);
            self.control.progress(encoded, self.total);
        }
    }
}

/// Opens the writer. For frames on a GPU with no codec asked for, tries the container's codec on NVENC
/// first (`h264_nvenc` for mp4, …) and falls back to the default CPU encoder where NVENC cannot run.
fn open_writer(source: &dyn FrameSource, config: &WriterConfig, open_sink: impl FnOnce() -> Result<Box<dyn Sink>>) -> Result<VideoWriter> {
    let on_gpu = source.device() != Device::Cpu;
    if on_gpu && config.settings.pixel_format.is_some() {
        return Err(EncodeError::invalid_value(
            "pixelFormat cannot be set for CUDA frames: the GPU converts them into the encoder's own format (leave pixelFormat unset)",
        ));
    }
    let on_device = |e: EncodeError| match e.code {
        ErrorCode::EncoderUnavailable if on_gpu => EncodeError::new(e.code, format!("{}; the frames are on {}", e.message, source.device_name())),
        _ => e,
    };
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
            other => return other.map_err(on_device),
        }
    }
    VideoWriter::open(config, &mut sink_once).map_err(on_device)
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
    super::encoder::codec::VideoCodec::find(Some(name), container).ok().map(|_| name.to_string())
}

/// Converts on a scoped thread while this thread feeds the encoder.
fn pipelined(
    converter: &mut (dyn FrameConverter + Send),
    count: usize,
    writer: &mut VideoWriter,
    control: &dyn EncodeControl,
    report: &dyn Fn(&VideoWriter),
) -> Result<()> {
    let (converted_tx, converted_rx) = mpsc::sync_channel::<Result<frame::Video>>(QUEUE);
    let (recycled_tx, recycled_rx) = mpsc::channel::<frame::Video>();
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let stop = &stop;
        std::thread::Builder::new()
            .name("framecodec-convert".into())
            .spawn_scoped(scope, move || {
                for index in 0..count {
                    if stop.load(Ordering::Relaxed) || control.aborted() {
                        return;
                    }
                    let mut frame = recycled_rx.try_recv().unwrap_or_else(|_| frame::Video::empty());
                    let converted = converter.convert(index, &mut frame).map(|_| frame);
                    let failed = converted.is_err();
                    if converted_tx.send(converted).is_err() || failed {
                        return;
                    }
                }
            })
            .map_err(|e| EncodeError::new(super::error::ErrorCode::Encode, format!("cannot start a conversion thread: {e}")))?;
        let fed = (|| {
            for _ in 0..count {
                if control.aborted() {
                    return Err(EncodeError::aborted());
                }
                // The converter only stops early when aborted.
                let mut frame = converted_rx.recv().map_err(|_| EncodeError::aborted())??;
                writer.write_converted(&mut frame)?;
                let _ = recycled_tx.send(frame);
                report(writer);
            }
            Ok(())
        })();
        // Unblock and end the converter whatever happened (it may be waiting on a full queue).
        stop.store(true, Ordering::Relaxed);
        drop(converted_rx);
        fed
    })
}
