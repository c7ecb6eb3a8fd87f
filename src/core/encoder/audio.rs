//! An audio encoder: the codec chosen for the container, opened for the caller's channels and rate,
//! fed interleaved float32 samples in any chunk sizes.
//!
//! Notes (see [Resampling and the FIFO] in `convert/resample.rs` for how samples become frames):
//! - The encoder runs at the caller's rate where it can; otherwise at the nearest rate it supports
//!   above it (opus: 44.1 kHz → 48 kHz), and swresample converts.
//! - Timestamps: frame pts = samples sent so far, in a time base of 1/(the encoder's rate).
//! - Note: [Priming]. aac, opus and mp3 encoders start with `initial_padding` samples of priming: their
//!   first packet has pts −padding, and a player that honours the container's signalling skips it.
//!   mp4/mov signal it with an edit list; Matroska/WebM with CodecDelay (FFmpeg 7.1's muxer writes it for
//!   any codec with priming and offsets the track by it); Ogg with Opus's pre-skip — those muxers take the
//!   negative pts as it is. The other containers have no way to say it: there the audio packets are
//!   shifted to start at 0 (the priming plays as leading audio), because otherwise FFmpeg shifts *every*
//!   stream to non-negative time and the video would start late. (Matroska's timestamps are whole
//!   milliseconds: Opus's 312-sample delay is 6.5 ms, and Chromium then skips 24 samples more.)
//! - The end is exact: the last frame holds only the samples left (the encoders we ship take a short
//!   last frame), and the encoders mark their end padding on the last packet (its duration; Opus's
//!   discard padding), so the track lasts samples / rate.

use ffmpeg_next::{codec, ffi, frame, Codec, Packet, Rational};

use super::av_options::apply_audio_options;
use super::codec::{codec_id_name, encoder_for_id, find_encoder};
use super::settings::AudioSettings;
use crate::core::convert::resample::Resampler;
use crate::core::error::{EncodeError, ErrorCode, Result};
use crate::core::ffmpeg::log::LogCapture;
use crate::core::ffmpeg::util::{cstring, ffmpeg_failure, terminated_list, text};
use crate::core::mux::container::Container;

/// Channels any audio track may have (what the encoders we ship take at most without a list: flac's 8).
pub const MAX_CHANNELS: u32 = 8;
/// Highest sample rate a caller may give.
pub const MAX_SAMPLE_RATE: u32 = 768_000;

/// An open audio encoder and the resampler in front of it.
pub struct AudioEncoder {
    encoder: codec::encoder::audio::Encoder,
    codec: Codec,
    codec_name: String,
    time_base: Rational,
    resampler: Resampler,
    /// Samples per frame (for encoders that take any size, the size we send).
    frame_size: usize,
    /// The encoder takes any frame size, or a short last frame.
    short_last_frame: bool,
    channels: usize,
    /// Samples sent so far at the encoder's rate: the next frame's pts.
    sent: i64,
    /// Samples (per channel) given by the caller.
    samples_in: u64,
    /// Keep the priming's negative pts (the container signals it), see [Priming].
    keeps_priming: bool,
    /// Added to every packet's timestamps when the container cannot signal the priming.
    shift: Option<i64>,
    frame: frame::Audio,
    /// Samples are clipped to [-1, 1] first (see [`AudioEncoder::write`]); float PCM keeps them.
    clips: bool,
    /// The clipped samples of the last write.
    clipped: Vec<f32>,
}

impl AudioEncoder {
    /// Chooses the codec for `container` (the caller's or the container's default), checks channels
    /// and options against it, and opens it.
    pub fn open(settings: &AudioSettings, container: &Container, log: &LogCapture) -> Result<AudioEncoder> {
        let ptr = match settings.codec.as_deref() {
            Some(name) => find_encoder(
                name,
                ffi::AVMediaType::AVMEDIA_TYPE_AUDIO,
                "give an FFmpeg audio encoder name (aac, libopus, libmp3lame, flac, pcm_s16le, …) or a codec name (opus, mp3, …)",
            )?,
            None => default_encoder(container)?,
        };
        // SAFETY: a static codec table entry.
        let raw_codec = unsafe { &*ptr };
        // SAFETY: the entry's name is a static NUL-terminated string.
        let codec_name = unsafe { text(raw_codec.name) };
        if !container.accepts(raw_codec.id) {
            return Err(EncodeError::new(
                ErrorCode::Encode,
                format!(
                    "format {} cannot hold audio encoded by {codec_name}; pick another audio codec or format",
                    container.name()
                ),
            ));
        }
        let mut layout = channel_layout(raw_codec, &codec_name, settings.channels)?;
        let rate = sample_rate(raw_codec, settings.sample_rate);
        let format = sample_format(raw_codec);

        // SAFETY: ptr points into libavcodec's static table.
        let ff_codec = unsafe { Codec::wrap(ptr) };
        let mut ctx = codec::context::Context::new_with_codec(ff_codec)
            .encoder()
            .audio()
            .map_err(|e| ffmpeg_failure(ErrorCode::Encode, "cannot allocate the audio encoder", e.into(), log))?;
        // SAFETY: ctx is a live, unopened context for this codec; we set plain fields and copy a layout.
        let (rate, format) = unsafe {
            let raw = ctx.as_mut_ptr();
            (*raw).sample_rate = rate as i32;
            (*raw).sample_fmt = format;
            ffi::av_channel_layout_copy(&mut (*raw).ch_layout, &layout);
            if let Some(bits) = settings.bit_rate {
                (*raw).bit_rate = bits as i64;
            }
            if container.needs_global_header() {
                (*raw).flags |= ffi::AV_CODEC_FLAG_GLOBAL_HEADER as i32;
            }
            apply_audio_options(raw, &codec_name, &settings.extra)?;
            // extraOptions may set the rate (`ar`), the sample format (`sample_fmt`) or the layout
            // (`ch_layout`): read them back. A layout of another channel count would not describe the
            // samples given (the frames would be made for one count and filled for the other).
            if (*raw).ch_layout.nb_channels != settings.channels as i32 {
                return Err(EncodeError::invalid_option(format!(
                    "audio.extraOptions sets a channel layout of {} channels, but audio.channels is {}: give a layout of {} channels, or change audio.channels",
                    (*raw).ch_layout.nb_channels, settings.channels, settings.channels
                )));
            }
            let ret = ffi::av_channel_layout_copy(&mut layout, &(*raw).ch_layout);
            if ret < 0 {
                return Err(ffmpeg_failure(ErrorCode::Encode, "cannot copy the channel layout", ret, log));
            }
            (*raw).time_base = Rational::new(1, (*raw).sample_rate).into();
            ((*raw).sample_rate as u32, (*raw).sample_fmt)
        };
        let encoder = ctx.open_as(ff_codec).map_err(|e| {
            ffmpeg_failure(
                ErrorCode::Encode,
                &format!("cannot open audio encoder {codec_name} with these settings"),
                e.into(),
                log,
            )
        })?;
        // SAFETY: the opened context; plain fields.
        let (frame_size, caps) = unsafe { ((*encoder.as_ptr()).frame_size, raw_codec.capabilities as u32) };
        let variable = caps & ffi::AV_CODEC_CAP_VARIABLE_FRAME_SIZE != 0 || frame_size <= 0;
        let resampler = Resampler::new(settings.sample_rate, &layout, format, rate)?;
        Ok(AudioEncoder {
            encoder,
            codec: ff_codec,
            codec_name,
            time_base: Rational::new(1, rate as i32),
            resampler,
            frame_size: if variable { 1024 } else { frame_size as usize },
            short_last_frame: variable || caps & ffi::AV_CODEC_CAP_SMALL_LAST_FRAME != 0,
            channels: settings.channels as usize,
            sent: 0,
            samples_in: 0,
            keeps_priming: signals_priming(container, raw_codec.id),
            shift: None,
            frame: frame::Audio::empty(),
            clips: !matches!(
                raw_codec.id,
                ffi::AVCodecID::AV_CODEC_ID_PCM_F32LE
                    | ffi::AVCodecID::AV_CODEC_ID_PCM_F32BE
                    | ffi::AVCodecID::AV_CODEC_ID_PCM_F64LE
                    | ffi::AVCodecID::AV_CODEC_ID_PCM_F64BE
            ),
            clipped: Vec::new(),
        })
    }

    /// The encoder's name (`aac`).
    pub fn codec_name(&self) -> &str {
        &self.codec_name
    }

    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// The opened codec context, whose parameters the muxer's stream copies.
    pub fn context(&self) -> &codec::Context {
        &self.encoder
    }

    /// The time base of its packets (1/its sample rate).
    pub fn time_base(&self) -> Rational {
        self.time_base
    }

    /// The rate it encodes at (the caller's, or the one it was resampled to).
    pub fn sample_rate(&self) -> u32 {
        self.time_base.denominator() as u32
    }

    /// Samples per channel given so far.
    pub fn samples(&self) -> u64 {
        self.samples_in
    }

    /// Encodes interleaved samples (`channels` × n, n ≥ 0, finite); every packet ready goes to `on_packet`.
    ///
    /// Samples are clipped to [-1, 1], as a sound card would: the encoders take no more (libmp3lame
    /// aborts the process on an assertion for samples of ±1e6, FFmpeg's aac loops for ever on one of
    /// 1e8), and a louder sample has no meaning in any of them. Float PCM keeps what it is given.
    pub fn write(
        &mut self,
        interleaved: &[f32],
        log: &LogCapture,
        on_packet: &mut dyn FnMut(&mut Packet) -> Result<()>,
    ) -> Result<()> {
        debug_assert_eq!(interleaved.len() % self.channels, 0);
        if self.clips && interleaved.iter().any(|s| !(-1.0..=1.0).contains(s)) {
            self.clipped.clear();
            self.clipped.extend(interleaved.iter().map(|s| s.clamp(-1.0, 1.0)));
            self.resampler.push(&self.clipped)?;
        } else {
            self.resampler.push(interleaved)?;
        }
        self.samples_in += (interleaved.len() / self.channels) as u64;
        while self.resampler.queued() >= self.frame_size {
            self.send_queued(self.frame_size, log, on_packet)?;
        }
        Ok(())
    }

    /// Encodes what is left (the resampler's delay, a short last frame) and drains the encoder.
    pub fn finish(&mut self, log: &LogCapture, on_packet: &mut dyn FnMut(&mut Packet) -> Result<()>) -> Result<()> {
        self.resampler.flush()?;
        while self.resampler.queued() > 0 {
            let count = self.resampler.queued().min(self.frame_size);
            self.send_queued(count, log, on_packet)?;
        }
        self.encoder
            .send_eof()
            .map_err(|e| ffmpeg_failure(ErrorCode::Encode, "cannot flush the audio encoder", e.into(), log))?;
        self.drain(log, on_packet)
    }

    /// Sends one frame of `count` queued samples (padded with silence to a whole frame for encoders
    /// that take no short last frame), then drains what the encoder has ready.
    fn send_queued(
        &mut self,
        count: usize,
        log: &LogCapture,
        on_packet: &mut dyn FnMut(&mut Packet) -> Result<()>,
    ) -> Result<()> {
        let size = if self.short_last_frame { count } else { self.frame_size };
        // SAFETY: the frame is ours; it is unreferenced (the encoder keeps its own reference to what it was
        // sent), described and given fresh buffers of `size` samples.
        unsafe {
            let raw = self.frame.as_mut_ptr();
            ffi::av_frame_unref(raw);
            let ctx = self.encoder.as_ptr();
            (*raw).format = (*ctx).sample_fmt as i32;
            (*raw).sample_rate = (*ctx).sample_rate;
            (*raw).nb_samples = size as i32;
            ffi::av_channel_layout_copy(&mut (*raw).ch_layout, &(*ctx).ch_layout);
            let ret = ffi::av_frame_get_buffer(raw, 0);
            if ret < 0 {
                return Err(ffmpeg_failure(ErrorCode::Encode, "cannot allocate an audio frame", ret, log));
            }
            if size > count {
                ffi::av_samples_set_silence(
                    (*raw).extended_data,
                    0,
                    size as i32,
                    (*ctx).ch_layout.nb_channels,
                    (*ctx).sample_fmt,
                );
            }
            self.resampler.pop_into(raw, count)?;
            (*raw).pts = self.sent;
        }
        self.encoder.send_frame(&self.frame).map_err(|e| {
            ffmpeg_failure(
                ErrorCode::Encode,
                &format!("{} failed to encode audio at sample {}", self.codec_name, self.sent),
                e.into(),
                log,
            )
        })?;
        self.sent += size as i64;
        self.drain(log, on_packet)
    }

    fn drain(&mut self, log: &LogCapture, on_packet: &mut dyn FnMut(&mut Packet) -> Result<()>) -> Result<()> {
        let mut packet = Packet::empty();
        loop {
            match self.encoder.receive_packet(&mut packet) {
                Ok(()) => {
                    self.place(&mut packet);
                    on_packet(&mut packet)?;
                }
                Err(ffmpeg_next::Error::Eof) => return Ok(()),
                Err(ffmpeg_next::Error::Other { errno }) if errno == libc::EAGAIN => return Ok(()),
                Err(e) => {
                    return Err(ffmpeg_failure(
                        ErrorCode::Encode,
                        &format!("{} failed to encode audio", self.codec_name),
                        e.into(),
                        log,
                    ))
                }
            }
        }
    }

    /// See [Priming]: shifts packets to start at 0 where the container cannot signal the priming.
    fn place(&mut self, packet: &mut Packet) {
        if self.keeps_priming {
            return;
        }
        let shift = *self.shift.get_or_insert_with(|| packet.pts().map_or(0, |pts| (-pts).max(0)));
        if shift != 0 {
            packet.set_pts(packet.pts().map(|t| t + shift));
            packet.set_dts(packet.dts().map(|t| t + shift));
        }
    }
}

/// See [Priming]: the muxers that take an audio track starting before 0 and tell players to skip it —
/// the mov family's but ismv and f4v (no edit lists), Matroska's, and Ogg's for Opus.
fn signals_priming(container: &Container, codec: ffi::AVCodecID) -> bool {
    let muxer = container.name();
    let edit_lists = container.is_mov_family() && !matches!(muxer.as_str(), "ismv" | "f4v");
    let pre_skip =
        matches!(muxer.as_str(), "matroska" | "webm") || (codec == ffi::AVCodecID::AV_CODEC_ID_OPUS && muxer == "ogg");
    edit_lists || pre_skip
}

/// The audio encoder for a container when none is asked for: aac for the MP4 family, Matroska and
/// MPEG-TS, Opus for WebM, MP3 for AVI; otherwise FFmpeg's default for the muxer where this FFmpeg has
/// its encoder, else aac where the muxer takes it.
pub fn default_encoder(container: &Container) -> Result<*const ffi::AVCodec> {
    let name = container.name();
    // (None when this FFmpeg lacks the encoder.)
    let by_name = |n: &str| find_encoder(n, ffi::AVMediaType::AVMEDIA_TYPE_AUDIO, "").ok();
    let chosen = match name.as_str() {
        _ if container.is_mov_family() || matches!(name.as_str(), "matroska" | "mpegts") => by_name("aac"),
        "webm" => by_name("libopus"),
        "avi" => by_name("libmp3lame"),
        _ if container.default_audio_codec() == ffi::AVCodecID::AV_CODEC_ID_NONE => None,
        _ => encoder_for_id(container.default_audio_codec())
            .or_else(|| by_name("aac").filter(|_| container.accepts(ffi::AVCodecID::AV_CODEC_ID_AAC))),
    };
    chosen.ok_or_else(|| {
        let default = container.default_audio_codec();
        if default == ffi::AVCodecID::AV_CODEC_ID_NONE {
            EncodeError::new(
                ErrorCode::Encode,
                format!("format {name} cannot hold an audio track; write audio into mp4, mov, mkv, webm, avi, ts, …"),
            )
        } else {
            EncodeError::new(
                ErrorCode::UnknownCodec,
                format!(
                    "this FFmpeg has no encoder for {name}'s default audio codec {}: pass audio.codec",
                    codec_id_name(default)
                ),
            )
        }
    })
}

/// The layout for `channels`: the default one for that count, where the encoder takes it (or any with
/// that count it lists). Refused with the counts it takes otherwise.
fn channel_layout(codec: &ffi::AVCodec, name: &str, channels: u32) -> Result<ffi::AVChannelLayout> {
    // SAFETY: AVChannelLayout is plain data; the default layout of a count is a native-order mask.
    let mut layout: ffi::AVChannelLayout = unsafe { std::mem::zeroed() };
    // SAFETY: `layout` is a zeroed, unallocated layout that FFmpeg overwrites.
    unsafe { ffi::av_channel_layout_default(&mut layout, channels as i32) };
    // Opus's multichannel mapping takes Vorbis's layouts, which for 3 and 4 channels are not FFmpeg's
    // defaults (2.1 and 4.0 were refused: "Invalid channel layout 2.1 for specified mapping family -1").
    if codec.id == ffi::AVCodecID::AV_CODEC_ID_OPUS && (channels == 3 || channels == 4) {
        let name = cstring(if channels == 3 { "3.0" } else { "quad" });
        // SAFETY: `layout` is a plain layout (native order, nothing allocated) overwritten from a known name.
        let ret = unsafe { ffi::av_channel_layout_from_string(&mut layout, name.as_ptr()) };
        debug_assert_eq!(ret, 0);
        return Ok(layout);
    }
    // SAFETY: ch_layouts is null or a static list terminated by a zeroed layout (nb_channels 0).
    let listed = unsafe { terminated_list(codec.ch_layouts, |l| l.nb_channels == 0) };
    if listed.is_empty() {
        if channels == 0 || channels > MAX_CHANNELS {
            return Err(channels_refused(name, channels, &(1..=MAX_CHANNELS).collect::<Vec<_>>()));
        }
        return Ok(layout);
    }
    // SAFETY: both are valid layouts.
    if let Some(same) = listed.iter().find(|l| unsafe { ffi::av_channel_layout_compare(*l, &layout) } == 0) {
        return Ok(*same);
    }
    if let Some(same_count) = listed.iter().find(|l| l.nb_channels == channels as i32) {
        return Ok(*same_count);
    }
    let mut counts: Vec<u32> = listed.iter().map(|l| l.nb_channels as u32).collect();
    counts.sort_unstable();
    counts.dedup();
    Err(channels_refused(name, channels, &counts))
}

fn channels_refused(name: &str, channels: u32, allowed: &[u32]) -> EncodeError {
    let list = allowed.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ");
    EncodeError::invalid_value(format!("audio.channels is {channels}, but audio encoder {name} takes {list} channels"))
}

/// The caller's rate if the encoder takes it, else the lowest it takes above it (else its highest).
fn sample_rate(codec: &ffi::AVCodec, wanted: u32) -> u32 {
    // SAFETY: supported_samplerates is null or a static list terminated by 0.
    let rates: Vec<u32> =
        unsafe { terminated_list(codec.supported_samplerates, |r| *r == 0) }.into_iter().map(|r| r as u32).collect();
    if rates.is_empty() || rates.contains(&wanted) {
        return wanted;
    }
    rates.iter().copied().filter(|&r| r > wanted).min().unwrap_or_else(|| rates.iter().copied().max().unwrap_or(wanted))
}

/// Float where the encoder takes it (no quantisation), planar first; else the encoder's first format.
fn sample_format(codec: &ffi::AVCodec) -> ffi::AVSampleFormat {
    use ffi::AVSampleFormat::*;
    // SAFETY: sample_fmts is null or a static list terminated by AV_SAMPLE_FMT_NONE.
    let formats = unsafe { terminated_list(codec.sample_fmts, |f| *f == AV_SAMPLE_FMT_NONE) };
    [AV_SAMPLE_FMT_FLTP, AV_SAMPLE_FMT_FLT]
        .into_iter()
        .find(|f| formats.contains(f))
        .or_else(|| formats.first().copied())
        .unwrap_or(AV_SAMPLE_FMT_FLT)
}

/// The first sample (index into `interleaved`) that is NaN or ±Infinity, in time order.
pub fn first_non_finite(interleaved: &[f32]) -> Option<usize> {
    interleaved.iter().position(|s| !s.is_finite())
}
