//! A video encoder: the codec chosen for the container and settings, opened on frames of one size.
//!
//! Notes (the parts FFmpeg does not make obvious):
//! - Timestamps: frame `i` gets pts `i` in a codec time base of 1/rate (an exact rational, see
//!   `rate.rs`); the muxer rescales packets to whatever its stream ends up with.
//! - libx264 on FFmpeg 5.1 can emit packets with `duration == 0`; the mp4 muxer then makes the last
//!   frame zero-length and the file one frame short. Every frame lasts one tick, so we set 1.
//! - Encoders may buffer frames (x264's lookahead, B-frames): packets come out later, and a flush
//!   (send EOF, receive until EOF) drains them.

use std::sync::Arc;

use ffmpeg_next::{codec, ffi, frame, Codec, Packet, Rational};

use super::codec::VideoCodec;
use super::hw_frames::{CudaContextHandle, CudaHwFrames};
use super::rate::FrameRate;
use super::settings::{EncodeSettings, OptionValue};
use crate::core::convert::FrameFormat;
use crate::core::error::{EncodeError, ErrorCode, Result};
use crate::core::ffmpeg::log::LogCapture;
use crate::core::ffmpeg::util::{ffmpeg_failure, is_rgb_format};
use crate::core::mux::container::Container;

/// What an encoder is opened for: the frames it takes, their rate, the container it writes into.
pub struct VideoParams<'a> {
    pub width: usize,
    pub height: usize,
    pub frame_rate: FrameRate,
    pub container: &'a Container,
    pub settings: &'a EncodeSettings,
    /// For frames on a GPU: its CUDA context, so that NVENC can take GPU frames.
    pub cuda_context: Option<CudaContextHandle>,
}

/// An open video encoder.
pub struct Encoder {
    encoder: codec::encoder::video::Encoder,
    codec: Codec,
    codec_name: String,
    time_base: Rational,
    frame_rate: FrameRate,
    /// The pixel format it encodes, for the summary (NV12 for CUDA frames).
    pixel_format: ffi::AVPixelFormat,
    /// The frames it takes.
    format: FrameFormat,
    /// Frames sent so far: the next frame's pts.
    frames: i64,
    /// The dts of the last packet received, in codec time base (see [`repair_dts`]).
    last_dts: Option<i64>,
}

impl Encoder {
    /// Chooses the codec and pixel format, applies the settings and opens the codec. Returns the
    /// `extraOptions` that belong to the muxer, checked against its option table but not yet set.
    pub fn open(params: &VideoParams<'_>, log: &LogCapture) -> Result<(Encoder, Vec<(String, OptionValue)>)> {
        let VideoParams { width, height, frame_rate: rate, container, settings, cuda_context } = *params;
        let vcodec = VideoCodec::find(settings.codec.as_deref(), container)?;
        let codec_name = vcodec.name();
        if !container.accepts(vcodec.id()) {
            return Err(EncodeError::new(
                ErrorCode::Encode,
                format!(
                    "format {} cannot hold video encoded by {codec_name}; pick another codec or format",
                    container.name()
                ),
            ));
        }
        let mut pixel_format = vcodec.choose_pixel_format(settings.pixel_format.as_deref(), width, height)?;
        let color = settings.color_spec()?;
        // NVENC with frames on the GPU: hand it GPU frames (NV12 in a CUDA frames pool) made on the
        // frames' own context. Where that cannot be set up, it gets host frames as any encoder.
        let hw = match cuda_context {
            Some(cuda)
                if settings.pixel_format.is_none()
                    && vcodec.pixel_formats().contains(&ffi::AVPixelFormat::AV_PIX_FMT_CUDA) =>
            {
                CudaHwFrames::new(cuda, width, height).ok().map(Arc::new)
            }
            _ => None,
        };
        let reported_format = if hw.is_some() { ffi::AVPixelFormat::AV_PIX_FMT_NV12 } else { pixel_format };
        if hw.is_some() {
            pixel_format = ffi::AVPixelFormat::AV_PIX_FMT_CUDA;
        }
        let time_base = rate.time_base();

        // SAFETY: vcodec points into libavcodec's static table.
        let ff_codec = unsafe { Codec::wrap(vcodec.as_ptr()) };
        let mut ctx = codec::context::Context::new_with_codec(ff_codec)
            .encoder()
            .video()
            .map_err(|e| ffmpeg_failure(ErrorCode::Encode, "cannot allocate the encoder", e.into(), log))?;
        let muxer_options = unsafe {
            // SAFETY: ctx is a live, unopened context for this codec; we set plain fields.
            let raw = ctx.as_mut_ptr();
            (*raw).width = width as i32;
            (*raw).height = height as i32;
            (*raw).pix_fmt = pixel_format;
            if let Some(hw) = &hw {
                (*raw).sw_pix_fmt = ffi::AVPixelFormat::AV_PIX_FMT_NV12;
                (*raw).hw_frames_ctx = hw.new_frames_ref();
            }
            (*raw).time_base = time_base.into();
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
            settings.apply_to_codec(raw, &codec_name, container)?
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
            ffmpeg_failure(code, &context, e.into(), log)
        })?;
        let format = FrameFormat { pixel_format, width, height, color, hw };
        let encoder = Encoder {
            encoder,
            codec: ff_codec,
            codec_name,
            time_base,
            frame_rate: rate,
            pixel_format: reported_format,
            format,
            frames: 0,
            last_dts: None,
        };
        Ok((encoder, muxer_options))
    }

    /// The encoder's name (`libx264`).
    pub fn codec_name(&self) -> &str {
        &self.codec_name
    }

    /// The codec, for the muxer's stream.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// The opened codec context, whose parameters the muxer's stream copies.
    pub fn context(&self) -> &codec::Context {
        &self.encoder
    }

    /// The time base of its packets (1/rate).
    pub fn time_base(&self) -> Rational {
        self.time_base
    }

    pub fn frame_rate(&self) -> FrameRate {
        self.frame_rate
    }

    /// The pixel format it encodes (NV12 for GPU frames).
    pub fn pixel_format(&self) -> ffi::AVPixelFormat {
        self.pixel_format
    }

    /// The frames [`Encoder::send`] takes.
    pub fn frame_format(&self) -> &FrameFormat {
        &self.format
    }

    /// Frames sent so far.
    pub fn frames(&self) -> u64 {
        self.frames as u64
    }

    /// Sends one frame of [`Encoder::frame_format`], stamped with the next pts.
    pub fn send(&mut self, frame: &mut frame::Video, log: &LogCapture) -> Result<()> {
        frame.set_pts(Some(self.frames));
        self.encoder.send_frame(frame).map_err(|e| {
            ffmpeg_failure(
                ErrorCode::Encode,
                &format!("{} failed to encode frame {}", self.codec_name, self.frames),
                e.into(),
                log,
            )
        })?;
        self.frames += 1;
        Ok(())
    }

    /// Tells the encoder no more frames come: [`Encoder::receive`] then drains what it holds.
    pub fn send_eof(&mut self, log: &LogCapture) -> Result<()> {
        self.encoder
            .send_eof()
            .map_err(|e| ffmpeg_failure(ErrorCode::Encode, "cannot flush the encoder", e.into(), log))
    }

    /// The next finished packet into `packet` (true), or false when the encoder needs more frames
    /// (or, after [`Encoder::send_eof`], has no more).
    pub fn receive(&mut self, packet: &mut Packet, log: &LogCapture) -> Result<bool> {
        match self.encoder.receive_packet(packet) {
            Ok(()) => {
                if packet.duration() <= 0 {
                    packet.set_duration(1);
                }
                repair_dts(packet, &mut self.last_dts);
                Ok(true)
            }
            Err(ffmpeg_next::Error::Eof) => Ok(false),
            Err(ffmpeg_next::Error::Other { errno }) if errno == libc::EAGAIN => Ok(false),
            Err(e) => {
                Err(ffmpeg_failure(ErrorCode::Encode, &format!("{} failed to encode", self.codec_name), e.into(), log))
            }
        }
    }
}

/// A packet whose dts is after its pts cannot be muxed (`pts < dts`): libx265 with B-frames emits one
/// now and then when its threads race (seen: 1 in ~300 two-frame encodes with others running). As the
/// ffmpeg CLI does, both become the median of pts, dts and the previous dts + 1, which keeps dts
/// increasing and the packet presentable.
fn repair_dts(packet: &mut Packet, last_dts: &mut Option<i64>) {
    if let (Some(pts), Some(dts)) = (packet.pts(), packet.dts()) {
        if dts > pts {
            let next = last_dts.map_or(i64::MIN, |d| d.saturating_add(1));
            let mut three = [pts, dts, next];
            three.sort_unstable();
            packet.set_pts(Some(three[1]));
            packet.set_dts(Some(three[1]));
        }
    }
    if packet.dts().is_some() {
        *last_dts = packet.dts();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(pts: i64, dts: i64) -> Packet {
        let mut p = Packet::empty();
        p.set_pts(Some(pts));
        p.set_dts(Some(dts));
        p
    }

    #[test]
    fn a_dts_after_its_pts_is_repaired_as_the_ffmpeg_cli_does() {
        let mut last = None;
        // libx265's racy first packet: pts 0, dts 1 (a B-frame stream's first dts is normally -1).
        let mut p = packet(0, 1);
        repair_dts(&mut p, &mut last);
        assert_eq!((p.pts(), p.dts()), (Some(0), Some(0)));
        // The next one: median of pts 2, dts 3 and the last dts + 1 = 1.
        let mut p = packet(2, 3);
        repair_dts(&mut p, &mut last);
        assert_eq!((p.pts(), p.dts()), (Some(2), Some(2)));
        // Valid packets are left alone.
        let mut p = packet(5, 3);
        repair_dts(&mut p, &mut last);
        assert_eq!((p.pts(), p.dts()), (Some(5), Some(3)));
        assert_eq!(last, Some(3));
    }
}
