//! Float samples → what the audio encoder takes, in frames of its frame size.
//!
//! Note: [Resampling and the FIFO]. Callers give interleaved float32 samples at their own rate, in any
//! chunk sizes; encoders take frames of exactly `frame_size` samples (1024 for aac, 960 for opus at
//! 48 kHz, 1152 for mp3) in their own sample format and at a rate they support. swresample converts
//! format, layout and rate (it holds back a few samples of filter delay until [`Resampler::flush`]);
//! an `AVAudioFifo` collects what it gives until a whole frame is there. Nothing is dithered, so the
//! same samples give the same bytes.
//!
//! The end: swresample's flush gives back nothing of an input shorter than its filter (32 samples at
//! 96 kHz → 48 kHz came out as 0: a short track was lost). So the flush feeds silence after the last
//! sample and keeps exactly round(samples × out_rate / in_rate) samples in all.

use std::ffi::c_void;
use std::ptr;

use ffmpeg_next::ffi;

use crate::core::error::{EncodeError, ErrorCode, Result};
use crate::core::ffmpeg::util::av_error_text;

/// One conversion: interleaved float32 at `in_rate` → the encoder's format, layout and rate, queued.
pub struct Resampler {
    swr: *mut ffi::SwrContext,
    fifo: *mut ffi::AVAudioFifo,
    format: ffi::AVSampleFormat,
    channels: usize,
    /// swresample's output before it goes into the FIFO: one buffer per plane.
    scratch: Vec<Vec<u8>>,
    in_rate: u32,
    out_rate: u32,
    /// Samples (per channel) pushed, and put into the FIFO.
    pushed: u64,
    queued_total: u64,
    /// At the flush: the samples the whole track has at the output rate; nothing beyond is queued.
    limit: Option<u64>,
}

// SAFETY: the SwrContext and the FIFO are owned by this value alone and used from one thread at a time.
unsafe impl Send for Resampler {}

impl Resampler {
    /// A resampler from `channels` interleaved float32 channels at `in_rate` into `format` / `layout`
    /// at `out_rate`.
    pub fn new(
        in_rate: u32,
        layout: &ffi::AVChannelLayout,
        format: ffi::AVSampleFormat,
        out_rate: u32,
    ) -> Result<Resampler> {
        let channels = layout.nb_channels as usize;
        let mut swr = ptr::null_mut();
        // SAFETY: `layout` is a valid channel layout (the encoder's); swr receives a new context or stays null.
        let ret = unsafe {
            ffi::swr_alloc_set_opts2(
                &mut swr,
                layout,
                format,
                out_rate as i32,
                layout,
                ffi::AVSampleFormat::AV_SAMPLE_FMT_FLT,
                in_rate as i32,
                0,
                ptr::null_mut(),
            )
        };
        if ret < 0 || swr.is_null() {
            return Err(failure("cannot set up the audio resampler", ret));
        }
        // SAFETY: swr was just allocated with its options set.
        let ret = unsafe { ffi::swr_init(swr) };
        if ret < 0 {
            // SAFETY: frees the context allocated above.
            unsafe { ffi::swr_free(&mut swr) };
            return Err(failure("cannot start the audio resampler", ret));
        }
        // SAFETY: a plain allocation; freed in Drop.
        let fifo = unsafe { ffi::av_audio_fifo_alloc(format, channels as i32, 4096) };
        if fifo.is_null() {
            // SAFETY: as above.
            unsafe { ffi::swr_free(&mut swr) };
            return Err(EncodeError::new(ErrorCode::Encode, "cannot allocate the audio FIFO"));
        }
        // SAFETY: a plain query.
        let planar = unsafe { ffi::av_sample_fmt_is_planar(format) } != 0;
        Ok(Resampler {
            swr,
            fifo,
            format,
            channels,
            scratch: vec![Vec::new(); if planar { channels } else { 1 }],
            in_rate,
            out_rate,
            pushed: 0,
            queued_total: 0,
            limit: None,
        })
    }

    /// Samples (per channel) waiting for the encoder.
    pub fn queued(&self) -> usize {
        // SAFETY: the FIFO is live.
        unsafe { ffi::av_audio_fifo_size(self.fifo) as usize }
    }

    /// Converts interleaved samples (`channels` × n values) and queues them.
    pub fn push(&mut self, interleaved: &[f32]) -> Result<()> {
        let count = interleaved.len() / self.channels;
        self.pushed += count as u64;
        let input = [interleaved.as_ptr().cast::<u8>()];
        self.convert(input.as_ptr(), count)
    }

    /// Queues what swresample still holds (its filter delay): after the last [`Resampler::push`].
    pub fn flush(&mut self) -> Result<()> {
        let total = (self.pushed as u128 * self.out_rate as u128 + self.in_rate as u128 / 2) / self.in_rate as u128;
        self.limit = Some(total as u64);
        // Silence after the end, enough for any filter, so that swresample gives back every sample it holds.
        let silence = vec![0f32; 1024 * self.channels];
        let input = [silence.as_ptr().cast::<u8>()];
        self.convert(input.as_ptr(), 1024)?;
        self.convert(ptr::null(), 0)
    }

    /// Moves `count` queued samples (≤ [`Resampler::queued`]) into `frame`, whose buffers hold at least that many.
    pub fn pop_into(&mut self, frame: *mut ffi::AVFrame, count: usize) -> Result<()> {
        // SAFETY: `frame`'s data planes were allocated for ≥ count samples of this format and layout.
        let read = unsafe {
            ffi::av_audio_fifo_read(self.fifo, (*frame).data.as_mut_ptr().cast::<*mut c_void>(), count as i32)
        };
        if read != count as i32 {
            return Err(failure("cannot read the audio FIFO", read.min(-1)));
        }
        Ok(())
    }

    fn convert(&mut self, input: *const *const u8, count: usize) -> Result<()> {
        loop {
            // SAFETY: a live context; a query.
            let room = unsafe { ffi::swr_get_out_samples(self.swr, count as i32) }.max(0) as usize + 16;
            // SAFETY: a plain query.
            let bytes_per_sample = unsafe { ffi::av_get_bytes_per_sample(self.format) } as usize;
            let per_plane = room * bytes_per_sample * if self.scratch.len() == 1 { self.channels } else { 1 };
            let mut planes: Vec<*mut u8> = self
                .scratch
                .iter_mut()
                .map(|p| {
                    if p.len() < per_plane {
                        p.resize(per_plane, 0);
                    }
                    p.as_mut_ptr()
                })
                .collect();
            // SAFETY: `planes` point at buffers of `room` samples each; `input` is null (flush) or one
            // interleaved plane of `count` samples of `channels` floats, as the context was set up for.
            let made = unsafe { ffi::swr_convert(self.swr, planes.as_mut_ptr(), room as i32, input, count as i32) };
            if made < 0 {
                return Err(failure("cannot resample the audio", made));
            }
            let made = match self.limit {
                Some(limit) => made.min(limit.saturating_sub(self.queued_total) as i32),
                None => made,
            };
            if made > 0 {
                self.queued_total += made as u64;
                // SAFETY: `planes` hold `made` converted samples; the FIFO grows as needed.
                let ret =
                    unsafe { ffi::av_audio_fifo_write(self.fifo, planes.as_mut_ptr().cast::<*mut c_void>(), made) };
                if ret < made {
                    return Err(failure("cannot queue the audio", ret.min(-1)));
                }
            }
            // Input is consumed whole by one call; a flush repeats until swresample has nothing left.
            if !input.is_null() || made == 0 {
                return Ok(());
            }
        }
    }
}

impl Drop for Resampler {
    fn drop(&mut self) {
        // SAFETY: both were allocated in `new` and are freed once, here.
        unsafe {
            ffi::swr_free(&mut self.swr);
            ffi::av_audio_fifo_free(self.fifo);
        }
    }
}

fn failure(context: &str, averror: i32) -> EncodeError {
    EncodeError::new(ErrorCode::Encode, format!("{context}: {}", av_error_text(averror)))
}
