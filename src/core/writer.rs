//! The push-based writer: open → write frames (any number, in any batches) → finish.
//!
//! It joins the stages: a video [`Encoder`] (`encoder/video.rs`), a [`Muxer`] (`mux/muxer.rs`)
//! holding the encoder's packets as its stream, and the sink the muxer writes into.
//! - Frames are reused: `av_frame_make_writable` gives us a fresh buffer only while the encoder still
//!   holds a reference to the previous one, so the steady state allocates nothing.
//! - `finish` drains the encoder (send EOF, receive until EOF) before the trailer is written.
//! - Everything is validated and the codec opened *before* the sink is created, so a bad option never
//!   creates a file; a failure after that drops the sink, which discards its partial output.
//! - The container header is written with the first frame, not at `open`: an output opened and then
//!   abandoned (or closed with no frames, which is an error) never received a byte.

use ffmpeg_next::{frame, Packet};

use super::convert::{Converter, FrameFormat};
use super::encoder::audio::AudioEncoder;
use super::encoder::av_options::check_muxer_options;
use super::encoder::hw_frames::CudaContextHandle;
use super::encoder::rate::FrameRate;
use super::encoder::settings::{AudioSettings, EncodeSettings};
use super::encoder::video::{Encoder, VideoParams};
use super::error::{EncodeError, ErrorCode, Result};
use super::ffmpeg::log::LogCapture;
use super::ffmpeg::util::pix_fmt_name;
use super::mux::container::Container;
use super::mux::fragments::with_fragment_defaults;
use super::mux::muxer::Muxer;
use super::mux::timescale::with_audio_timescale;
use super::picture::{InputPixels, RgbPicture};
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
    /// An audio track beside the video.
    pub audio: Option<AudioSettings>,
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
    /// The audio encoder's name, with an audio track.
    pub audio_codec: Option<String>,
    /// Audio samples (per channel) written, at the rate they were given.
    pub audio_samples: u64,
    pub bytes: u64,
    pub output: SinkOutput,
}

/// The audio encoder and its stream of the muxer.
struct AudioTrack {
    encoder: AudioEncoder,
    stream: usize,
    /// Packets encoded before the header was written (audio written before the first frame).
    held: Vec<Packet>,
}

/// An open encoder writing into a sink through its muxer.
pub struct VideoWriter {
    // Field order is drop order: the muxer (which flushes into the sink) goes first.
    muxer: Muxer,
    encoder: Encoder,
    /// The muxer's stream that holds the encoder's packets.
    stream: usize,
    /// For `write` of host pictures; made on first use.
    converter: Option<Converter>,
    input: InputPixels,
    frame: frame::Video,
    packet: Packet,
    /// Packets muxed so far: frames the encoder has finished.
    packets: u64,
    header_written: bool,
    audio: Option<AudioTrack>,
}

impl VideoWriter {
    /// Validates the settings, opens the encoder, then creates the sink with `open_sink` and the muxer
    /// on it with the encoder's stream. The header is written with the first frame.
    pub fn open(config: &WriterConfig, open_sink: impl FnOnce() -> Result<Box<dyn Sink>>) -> Result<VideoWriter> {
        let log = LogCapture::start();
        let params = VideoParams {
            width: config.width,
            height: config.height,
            frame_rate: config.frame_rate,
            container: &config.container,
            settings: &config.settings,
            cuda_context: config.cuda_context,
        };
        let (encoder, muxer_options) = Encoder::open(&params, &log)?;
        let audio = config.audio.as_ref().map(|a| AudioEncoder::open(a, &config.container, &log)).transpose()?;
        // What the encoders logged while opening (a default bit rate, a CRF note) is not the muxer's story.
        let _ = log.take();
        check_muxer_options(&config.container, &muxer_options)?;
        let muxer_options = with_fragment_defaults(&config.container, muxer_options);
        let muxer_options =
            with_audio_timescale(&config.container, muxer_options, audio.as_ref().map(|a| a.sample_rate()));

        let sink = SharedSink::new(open_sink()?);
        let mut muxer = Muxer::open(&config.container, sink, &muxer_options, &log)?;
        let rate = encoder.frame_rate().rational();
        let stream = muxer.add_stream(encoder.codec(), encoder.context(), encoder.time_base(), Some(rate), &log)?;
        let audio = match audio {
            Some(audio) => {
                let stream = muxer.add_stream(audio.codec(), audio.context(), audio.time_base(), None, &log)?;
                Some(AudioTrack { encoder: audio, stream, held: Vec::new() })
            }
            None => None,
        };
        muxer.init(&log)?;
        Ok(VideoWriter {
            muxer,
            encoder,
            stream,
            converter: None,
            input: config.input,
            frame: frame::Video::empty(),
            packet: Packet::empty(),
            packets: 0,
            header_written: false,
            audio,
        })
    }

    /// Frames written so far.
    pub fn frames(&self) -> u64 {
        self.encoder.frames()
    }

    /// Frames the encoder has finished (their packets are muxed). Lags [`VideoWriter::frames`] by
    /// what the encoder holds (x264's lookahead: up to ~60 frames).
    pub fn frames_encoded(&self) -> u64 {
        self.packets
    }

    /// Converts and encodes one host frame; muxes whatever packets the encoder has ready.
    pub fn write(&mut self, picture: &RgbPicture<'_>) -> Result<()> {
        if self.converter.is_none() {
            self.converter = Some(self.encoder.frame_format().converter(self.input)?);
        }
        let mut frame = std::mem::replace(&mut self.frame, frame::Video::empty());
        let converter = self.converter.as_mut().expect("made above");
        let result =
            self.encoder.frame_format().prepare(&mut frame).and_then(|_| converter.convert(picture, &mut frame));
        let result = result.and_then(|_| self.write_converted(&mut frame));
        self.frame = frame;
        result
    }

    /// The frames [`VideoWriter::write_converted`] takes (for converters on other threads or devices).
    pub fn frame_format(&self) -> FrameFormat {
        self.encoder.frame_format().clone()
    }

    /// Encodes one frame already converted into [`VideoWriter::frame_format`].
    pub fn write_converted(&mut self, frame: &mut frame::Video) -> Result<()> {
        let log = LogCapture::start();
        if !self.header_written {
            self.muxer.write_header(&log)?;
            self.header_written = true;
            if let Some(track) = &mut self.audio {
                for mut packet in track.held.drain(..) {
                    self.muxer.write_packet(track.stream, &mut packet, &log)?;
                }
            }
        }
        self.encoder.send(frame, &log)?;
        self.drain(&log, &mut |_| Ok(()))
    }

    /// Encodes interleaved audio samples (`channels` × n) into the audio track; their packets are muxed
    /// with the video's (held until the header is written with the first frame).
    pub fn write_audio(&mut self, interleaved: &[f32]) -> Result<()> {
        let Some(AudioTrack { encoder, stream, held }) = &mut self.audio else {
            return Err(EncodeError::new(ErrorCode::InvalidState, "this output has no audio track"));
        };
        let log = LogCapture::start();
        let (muxer, stream, header_written) = (&mut self.muxer, *stream, self.header_written);
        encoder.write(interleaved, &log, &mut |packet| {
            if header_written {
                muxer.write_packet(stream, packet, &log)
            } else {
                held.push(std::mem::replace(packet, Packet::empty()));
                Ok(())
            }
        })
    }

    /// Flushes the encoder, writes the trailer and finishes the sink.
    pub fn finish(self) -> Result<EncodeSummary> {
        self.finish_watched(&mut |_| Ok(()))
    }

    /// [`VideoWriter::finish`], calling `watch` with [`VideoWriter::frames_encoded`] after each packet
    /// of the flush and once more after the trailer, just before the sink is finished (a stream
    /// ended): an error from `watch` (an abort) stops there and discards the output. With no frame
    /// written there is no video to finish: `ERR_INVALID_STATE`, and the output is discarded.
    pub fn finish_watched(mut self, watch: &mut dyn FnMut(u64) -> Result<()>) -> Result<EncodeSummary> {
        if !self.header_written {
            return Err(EncodeError::new(
                ErrorCode::InvalidState,
                "no frames were written: a video needs at least one frame",
            ));
        }
        let log = LogCapture::start();
        self.encoder.send_eof(&log)?;
        self.drain(&log, watch)?;
        if let Some(AudioTrack { encoder, stream, .. }) = &mut self.audio {
            let (muxer, stream) = (&mut self.muxer, *stream);
            encoder.finish(&log, &mut |packet| muxer.write_packet(stream, packet, &log))?;
        }
        self.muxer.write_trailer(&log)?;
        watch(self.packets)?;
        let VideoWriter { muxer, encoder, audio, .. } = self;
        let format = muxer.format_name().to_string();
        let (bytes, output) = muxer.finish()?;
        Ok(EncodeSummary {
            format,
            codec: encoder.codec_name().to_string(),
            pixel_format: pix_fmt_name(encoder.pixel_format()),
            frames: encoder.frames(),
            audio_codec: audio.as_ref().map(|a| a.encoder.codec_name().to_string()),
            audio_samples: audio.as_ref().map_or(0, |a| a.encoder.samples()),
            bytes,
            output,
        })
    }

    /// Muxes every packet the encoder has ready.
    fn drain(&mut self, log: &LogCapture, watch: &mut dyn FnMut(u64) -> Result<()>) -> Result<()> {
        while self.encoder.receive(&mut self.packet, log)? {
            self.muxer.write_packet(self.stream, &mut self.packet, log)?;
            self.packets += 1;
            watch(self.packets)?;
        }
        Ok(())
    }
}
