//! The push-based encoder: open → write frames (any number, in any batches) → finish.
//!
//! Notes on the loop (the parts FFmpeg does not make obvious):
//! - Timestamps: frame `i` gets pts `i` in a codec time base of 1/rate (an exact rational, see
//!   `rate.rs`). The stream's time base starts as that too, as the ffmpeg CLI does, and the muxer may
//!   change it in `write_header` (mp4 picks a timescale ≥ 10000), so packets are rescaled to whatever
//!   the stream ends up with.
//! - libx264 on FFmpeg 5.1 can emit packets with `duration == 0`; the mp4 muxer then makes the last
//!   frame zero-length and the file one frame short. Every frame lasts one tick, so we set 1.
//! - Frames are reused: `av_frame_make_writable` gives us a fresh buffer only while the encoder still
//!   holds a reference to the previous one, so the steady state allocates nothing.
//! - Encoders may buffer frames (x264's lookahead, B-frames): packets come out later, and
//!   `finish` drains them (send EOF, receive until EOF) before the trailer is written.
//! - Everything is validated and the codec opened *before* the sink is created, so a bad option never
//!   creates a file; a failure after that drops the sink, which discards its partial output.

use ffmpeg_next::format::context::StreamIo;
use ffmpeg_next::{codec, ffi, format, frame, Packet, Rational};

use super::codec::VideoCodec;
use super::ffi_util::is_rgb_format;
use super::container::Container;
use super::convert::{Converter, FrameFormat};
use super::error::{EncodeError, ErrorCode, Result};
use super::ffi_util::{ffmpeg_failure, pix_fmt_name};
use super::picture::{InputPixels, RgbPicture};
use super::log::LogCapture;
use super::options::{apply_to_muxer, check_muxer_options, EncodeSettings};
use super::rate::FrameRate;
use super::reopen::ReadBack;
use super::hw_frames::{CudaContextHandle, CudaHwFrames};
use std::sync::Arc;
use super::sink::{SharedSink, Sink, SinkOutput};

/// What one encode is: frame size and input pixels, rate, container and settings.
#[derive(Debug, Clone)]
pub struct WriterConfig {
    pub width: usize,
    pub height: usize,
    pub input: InputPixels,
    pub frame_rate: FrameRate,
    pub container: Container,
    pub settings: EncodeSettings,
    /// For frames on a GPU: its CUDA context, so that NVENC can take GPU frames.
    pub cuda_context: Option<CudaContextHandle>,
}

/// What a finished encode produced (`EncodeResult` in the JS API).
#[derive(Debug)]
pub struct EncodeSummary {
    /// The muxer's name (`matroska` for mkv).
    pub format: String,
    /// The encoder's name (`libx264`).
    pub codec: String,
    pub pixel_format: String,
    pub frames: u64,
    pub bytes: u64,
    pub output: SinkOutput,
}

/// An open encoder writing into a sink.
pub struct VideoWriter {
    // Field order is drop order: the muxer (which flushes into the sink) goes before the sink handle.
    output: format::context::Output,
    encoder: codec::encoder::video::Encoder,
    /// For `write` of host pictures; made on first use.
    converter: Option<Converter>,
    input: super::picture::InputPixels,
    frame: frame::Video,
    packet: Packet,
    codec_time_base: Rational,
    stream_time_base: Rational,
    frames: i64,
    /// Packets muxed so far: frames the encoder has finished.
    packets: u64,
    /// Serves the muxer's read-back of its own output; freed after `output`.
    _read_back: Box<ReadBack>,
    sink: SharedSink,
    format_name: String,
    codec_name: String,
    pixel_format: ffi::AVPixelFormat,
    /// The frames the encoder takes.
    format: FrameFormat,
}

impl VideoWriter {
    /// Validates the settings, opens the encoder, then creates the sink with `open_sink` and writes
    /// the container header.
    pub fn open(config: &WriterConfig, open_sink: impl FnOnce() -> Result<Box<dyn Sink>>) -> Result<VideoWriter> {
        let log = LogCapture::start();
        let settings = &config.settings;
        let container = config.container;
        let vcodec = VideoCodec::find(settings.codec.as_deref(), &container)?;
        let codec_name = vcodec.name();
        if !container.accepts(vcodec.id()) {
            return Err(EncodeError::new(
                ErrorCode::Encode,
                format!("format {} cannot hold video encoded by {codec_name}; pick another codec or format", container.name()),
            ));
        }
        let mut pixel_format = vcodec.choose_pixel_format(settings.pixel_format.as_deref(), config.width, config.height)?;
        let color = settings.color_spec()?;
        // NVENC with frames on the GPU: hand it GPU frames (NV12 in a CUDA frames pool) made on the
        // frames' own context. Where that cannot be set up, it gets host frames as any encoder.
        let hw = match config.cuda_context {
            Some(cuda) if settings.pixel_format.is_none() && vcodec.pixel_formats().contains(&ffi::AVPixelFormat::AV_PIX_FMT_CUDA) => {
                CudaHwFrames::new(cuda, config.width, config.height).ok().map(Arc::new)
            }
            _ => None,
        };
        let reported_format = if hw.is_some() { ffi::AVPixelFormat::AV_PIX_FMT_NV12 } else { pixel_format };
        if hw.is_some() {
            pixel_format = ffi::AVPixelFormat::AV_PIX_FMT_CUDA;
        }
        let rate = config.frame_rate;
        let codec_time_base = rate.time_base();

        // SAFETY: vcodec points into libavcodec's static table.
        let ff_codec = unsafe { ffmpeg_next::Codec::wrap(vcodec.as_ptr()) };
        let mut ctx = codec::context::Context::new_with_codec(ff_codec)
            .encoder()
            .video()
            .map_err(|e| ffmpeg_failure(ErrorCode::Encode, "cannot allocate the encoder", e.into(), &log))?;
        let muxer_options = unsafe {
            // SAFETY: ctx is a live, unopened context for this codec; we set plain fields.
            let raw = ctx.as_mut_ptr();
            (*raw).width = config.width as i32;
            (*raw).height = config.height as i32;
            (*raw).pix_fmt = pixel_format;
            if let Some(hw) = &hw {
                (*raw).sw_pix_fmt = ffi::AVPixelFormat::AV_PIX_FMT_NV12;
                (*raw).hw_frames_ctx = hw.new_frames_ref();
            }
            (*raw).time_base = codec_time_base.into();
            (*raw).framerate = rate.rational().into();
            (*raw).sample_aspect_ratio = Rational::new(1, 1).into();
            // 0 = the codec's automatic thread count (libavcodec's default is 1); extraOptions.threads overrides.
            (*raw).thread_count = 0;
            if !is_rgb_format(reported_format) {
                color.tag(raw, reported_format);
            }
            if container.needs_global_header() {
                (*raw).flags |= ffi::AV_CODEC_FLAG_GLOBAL_HEADER as i32;
            }
            settings.apply_to_codec(raw, &codec_name, &container)?
        };
        // SAFETY: the same live, unopened context.
        unsafe { super::x264::keep_deterministic(ctx.as_mut_ptr(), &codec_name)? };
        let encoder = ctx.open_as(ff_codec).map_err(|e| {
            let code = if vcodec.is_hardware() { ErrorCode::EncoderUnavailable } else { ErrorCode::Encode };
            let context = if vcodec.is_hardware() {
                format!("encoder {codec_name} cannot run on this machine (it needs its hardware)")
            } else {
                format!("cannot open encoder {codec_name} with these settings")
            };
            ffmpeg_failure(code, &context, e.into(), &log)
        })?;

        check_muxer_options(&container, &muxer_options)?;
        let format = FrameFormat { pixel_format, width: config.width, height: config.height, color, hw };
        let input = config.input;

        let sink = SharedSink::new(open_sink()?);
        let io = if sink.seekable() { StreamIo::from_write_seek(sink.clone()) } else { StreamIo::from_write(sink.clone()) }
            .map_err(|e| ffmpeg_failure(ErrorCode::Encode, "cannot set up output I/O", e.into(), &log))?;
        let format_name = container.name();
        let mut output = format::output_to_stream(io, None, Some(&format_name))
            .map_err(|e| ffmpeg_failure(ErrorCode::Encode, &format!("cannot create a {format_name} muxer"), e.into(), &log))?;
        // SAFETY: the output context and its private data are live; `read_back` is kept in the writer,
        // which frees it after the context.
        let read_back = unsafe { ReadBack::install(output.as_mut_ptr(), sink.clone()) };
        unsafe { apply_to_muxer(output.as_mut_ptr(), &muxer_options, &format_name)? };
        {
            let mut stream = output
                .add_stream(ff_codec)
                .map_err(|e| ffmpeg_failure(ErrorCode::Encode, "cannot add the video stream", e.into(), &log))?;
            stream.set_time_base(codec_time_base);
            stream.set_avg_frame_rate(rate.rational());
            stream.set_rate(rate.rational());
            // SAFETY: both pointers are live; this copies codec parameters (and extradata) into the stream.
            let ret = unsafe { ffi::avcodec_parameters_from_context((*stream.as_mut_ptr()).codecpar, encoder.as_ptr()) };
            if ret < 0 {
                return Err(ffmpeg_failure(ErrorCode::Encode, "cannot set the stream parameters", ret, &log));
            }
        }
        output
            .write_header()
            .map_err(|e| output_failure(&sink, &format!("cannot write the {format_name} header"), e.into(), &log))?;
        let stream_time_base = output.stream(0).map(|s| s.time_base()).unwrap_or(codec_time_base);

        Ok(VideoWriter {
            output,
            encoder,
            converter: None,
            input,
            frame: frame::Video::empty(),
            packet: Packet::empty(),
            codec_time_base,
            stream_time_base,
            frames: 0,
            packets: 0,
            _read_back: read_back,
            sink,
            format_name,
            codec_name,
            pixel_format: reported_format,
            format,
        })
    }

    /// Frames written so far.
    pub fn frames(&self) -> u64 {
        self.frames as u64
    }

    /// Frames the encoder has finished (their packets are muxed). Lags [`VideoWriter::frames`] by
    /// what the encoder holds (x264's lookahead: up to ~60 frames).
    pub fn frames_encoded(&self) -> u64 {
        self.packets
    }

    /// Converts and encodes one host frame; muxes whatever packets the encoder has ready.
    pub fn write(&mut self, picture: &RgbPicture<'_>) -> Result<()> {
        if self.converter.is_none() {
            self.converter = Some(self.format.converter(self.input)?);
        }
        let mut frame = std::mem::replace(&mut self.frame, frame::Video::empty());
        let converter = self.converter.as_mut().expect("made above");
        let result = self.format.prepare(&mut frame).and_then(|_| converter.convert(picture, &mut frame));
        let result = result.and_then(|_| self.write_converted(&mut frame));
        self.frame = frame;
        result
    }

    /// The frames [`VideoWriter::write_converted`] takes (for converters on other threads or devices).
    pub fn frame_format(&self) -> FrameFormat {
        self.format.clone()
    }

    /// Encodes one frame already converted into [`VideoWriter::frame_format`].
    pub fn write_converted(&mut self, frame: &mut frame::Video) -> Result<()> {
        let log = LogCapture::start();
        frame.set_pts(Some(self.frames));
        self.encoder
            .send_frame(frame)
            .map_err(|e| ffmpeg_failure(ErrorCode::Encode, &format!("{} failed to encode frame {}", self.codec_name, self.frames), e.into(), &log))?;
        self.frames += 1;
        self.drain(&log, &mut |_| Ok(()))
    }

    /// Flushes the encoder, writes the trailer and finishes the sink.
    pub fn finish(self) -> Result<EncodeSummary> {
        self.finish_watched(&mut |_| Ok(()))
    }

    /// [`VideoWriter::finish`], calling `watch` with [`VideoWriter::frames_encoded`] after each packet
    /// of the flush and once more after the trailer, just before the sink is finished (a stream
    /// ended): an error from `watch` (an abort) stops there and discards the output.
    pub fn finish_watched(mut self, watch: &mut dyn FnMut(u64) -> Result<()>) -> Result<EncodeSummary> {
        let log = LogCapture::start();
        self.encoder
            .send_eof()
            .map_err(|e| ffmpeg_failure(ErrorCode::Encode, "cannot flush the encoder", e.into(), &log))?;
        self.drain(&log, watch)?;
        self.output
            .write_trailer()
            .map_err(|e| output_failure(&self.sink, &format!("cannot finish the {} file", self.format_name), e.into(), &log))?;
        watch(self.packets)?;
        let VideoWriter { output, _read_back, sink, format_name, codec_name, pixel_format, frames, .. } = self;
        drop(output); // flushes FFmpeg's I/O buffer into the sink
        drop(_read_back);
        if let Some(e) = sink.take_error() {
            return Err(EncodeError::io("cannot write the output", e));
        }
        let bytes = sink.len();
        let output = sink.finish().map_err(|e| EncodeError::io("cannot finish the output", e))?;
        Ok(EncodeSummary {
            format: format_name,
            codec: codec_name,
            pixel_format: pix_fmt_name(pixel_format),
            frames: frames as u64,
            bytes,
            output,
        })
    }

    fn drain(&mut self, log: &LogCapture, watch: &mut dyn FnMut(u64) -> Result<()>) -> Result<()> {
        loop {
            match self.encoder.receive_packet(&mut self.packet) {
                Ok(()) => {
                    if self.packet.duration() <= 0 {
                        self.packet.set_duration(1);
                    }
                    self.packet.set_stream(0);
                    self.packet.rescale_ts(self.codec_time_base, self.stream_time_base);
                    self.packet
                        .write_interleaved(&mut self.output)
                        .map_err(|e| output_failure(&self.sink, "cannot write a packet", e.into(), log))?;
                    self.packets += 1;
                    watch(self.packets)?;
                }
                Err(ffmpeg_next::Error::Eof) => return Ok(()),
                Err(ffmpeg_next::Error::Other { errno }) if errno == libc::EAGAIN => return Ok(()),
                Err(e) => {
                    return Err(ffmpeg_failure(ErrorCode::Encode, &format!("{} failed to encode", self.codec_name), e.into(), log))
                }
            }
        }
    }
}

/// A muxer failure: the sink's own I/O error if it had one (FFmpeg saw only EIO), else FFmpeg's.
fn output_failure(sink: &SharedSink, context: &str, averror: i32, log: &LogCapture) -> EncodeError {
    match sink.take_error() {
        Some(io) => {
            let _ = log.take();
            EncodeError::io(context, io)
        }
        None => ffmpeg_failure(ErrorCode::Encode, context, averror, log),
    }
}
