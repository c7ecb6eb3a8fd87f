//! A muxer: one output container written into a sink, with N streams whose packets it interleaves.
//!
//! Notes:
//! - A stream's time base starts as its packets' (the encoder's 1/rate), as the ffmpeg CLI does, and
//!   the muxer may change it in `write_header` (mp4 picks a timescale ≥ 10000), so packets are
//!   rescaled to whatever the stream ends up with.
//! - The sink is created only once everything is validated and the encoders are open (by the caller);
//!   a failure after that drops the muxer and the sink, which discards the partial output.

use ffmpeg_next::format::context::StreamIo;
use ffmpeg_next::{codec, ffi, format, Codec, Packet, Rational};

use super::container::Container;
use super::read_back::ReadBack;
use crate::core::encoder::av_options::apply_to_muxer;
use crate::core::encoder::settings::OptionValue;
use crate::core::error::{EncodeError, ErrorCode, Result};
use crate::core::ffmpeg::log::LogCapture;
use crate::core::ffmpeg::util::ffmpeg_failure;
use crate::core::sink::{SharedSink, SinkOutput};

/// One stream: the time base its packets come in, the one the muxer chose, and the last dts written.
struct StreamTimes {
    packets: Rational,
    stream: Rational,
    last_dts: Option<i64>,
}

/// An open output: streams are added, then the header, packets and the trailer are written.
pub struct Muxer {
    // Field order is drop order: the output (which flushes into the sink) goes before the sink handle.
    output: format::context::Output,
    /// Serves the muxer's read-back of its own output; freed after `output`.
    _read_back: Box<ReadBack>,
    sink: SharedSink,
    format_name: String,
    streams: Vec<StreamTimes>,
    /// Each stream's dts must increase (not only never go back): all muxers but `AVFMT_TS_NONSTRICT` ones.
    strict_dts: bool,
}

impl Muxer {
    /// Creates the container's muxer writing into `sink`, with its `options` (checked beforehand by
    /// [`crate::core::encoder::av_options::check_muxer_options`]).
    pub fn open(
        container: &Container,
        sink: SharedSink,
        options: &[(String, OptionValue)],
        log: &LogCapture,
    ) -> Result<Muxer> {
        let io =
            if sink.seekable() { StreamIo::from_write_seek(sink.clone()) } else { StreamIo::from_write(sink.clone()) }
                .map_err(|e| ffmpeg_failure(ErrorCode::Encode, "cannot set up output I/O", e.into(), log))?;
        let format_name = container.name();
        let mut output = format::output_to_stream(io, None, Some(&format_name)).map_err(|e| {
            ffmpeg_failure(ErrorCode::Encode, &format!("cannot create a {format_name} muxer"), e.into(), log)
        })?;
        // SAFETY: the output context and its private data are live; `read_back` is kept in the muxer,
        // which frees it after the context.
        let read_back = unsafe { ReadBack::install(output.as_mut_ptr(), sink.clone()) };
        // SAFETY: the same live output context, its muxer's private data allocated.
        unsafe { apply_to_muxer(output.as_mut_ptr(), options, &format_name)? };
        let strict_dts = container.flags() & ffi::AVFMT_TS_NONSTRICT as i32 == 0;
        Ok(Muxer { output, _read_back: read_back, sink, format_name, streams: Vec::new(), strict_dts })
    }

    /// The muxer's name (`matroska` for mkv).
    pub fn format_name(&self) -> &str {
        &self.format_name
    }

    /// Adds a stream for the packets of an opened encoder (`codec`, its `context`) whose packets
    /// come in `time_base`; `frame_rate` for video. Returns the stream's index.
    pub fn add_stream(
        &mut self,
        codec: Codec,
        context: &codec::Context,
        time_base: Rational,
        frame_rate: Option<Rational>,
        log: &LogCapture,
    ) -> Result<usize> {
        let mut stream = self
            .output
            .add_stream(codec)
            .map_err(|e| ffmpeg_failure(ErrorCode::Encode, "cannot add a stream", e.into(), log))?;
        stream.set_time_base(time_base);
        if let Some(rate) = frame_rate {
            stream.set_avg_frame_rate(rate);
            stream.set_rate(rate);
        }
        // SAFETY: both pointers are live; this copies codec parameters (and extradata) into the stream.
        let ret = unsafe { ffi::avcodec_parameters_from_context((*stream.as_mut_ptr()).codecpar, context.as_ptr()) };
        if ret < 0 {
            return Err(ffmpeg_failure(ErrorCode::Encode, "cannot set the stream parameters", ret, log));
        }
        self.streams.push(StreamTimes { packets: time_base, stream: time_base, last_dts: None });
        Ok(self.streams.len() - 1)
    }

    /// Checks the streams against the container and sets the muxer up, writing nothing: what a muxer
    /// refuses (vp9 in mov, a codec tag it cannot store, …) is refused here, before any frame, rather than
    /// at the header, which goes out with the first frame.
    pub fn init(&mut self, log: &LogCapture) -> Result<()> {
        // SAFETY: the output context is live, its streams added; FFmpeg keeps the initialised state for
        // `avformat_write_header`, which then only writes. No options dictionary is passed.
        let ret = unsafe { ffi::avformat_init_output(self.output.as_mut_ptr(), std::ptr::null_mut()) };
        if ret < 0 {
            return Err(output_failure(
                &self.sink,
                &format!("format {} cannot take these streams", self.format_name),
                ret,
                log,
            ));
        }
        Ok(())
    }

    /// Writes the container header (the first bytes reach the sink) and learns each stream's time base.
    pub fn write_header(&mut self, log: &LogCapture) -> Result<()> {
        self.output.write_header().map_err(|e| {
            output_failure(&self.sink, &format!("cannot write the {} header", self.format_name), e.into(), log)
        })?;
        for (index, times) in self.streams.iter_mut().enumerate() {
            times.stream = self.output.stream(index).map(|s| s.time_base()).unwrap_or(times.packets);
        }
        Ok(())
    }

    /// Writes one packet of stream `stream`, interleaved with the other streams' packets.
    ///
    /// Two packets may land on the same tick once rescaled to a coarse stream time base (avi counts
    /// flac's frames: its short last frame and the empty packet carrying the final STREAMINFO share
    /// one), which muxers refuse ("non monotonically increasing dts"). As the ffmpeg CLI does, such a
    /// dts becomes the previous one + 1 (or equal, for muxers that allow it), the pts no earlier.
    pub fn write_packet(&mut self, stream: usize, packet: &mut Packet, log: &LogCapture) -> Result<()> {
        let strict = self.strict_dts;
        let times = &mut self.streams[stream];
        packet.set_stream(stream);
        packet.rescale_ts(times.packets, times.stream);
        if let (Some(dts), Some(last)) = (packet.dts(), times.last_dts) {
            let lowest = last + strict as i64;
            if dts < lowest {
                packet.set_dts(Some(lowest));
                packet.set_pts(packet.pts().map(|pts| if pts >= dts { pts.max(lowest) } else { pts }));
            }
        }
        times.last_dts = packet.dts().or(times.last_dts);
        packet
            .write_interleaved(&mut self.output)
            .map_err(|e| output_failure(&self.sink, "cannot write a packet", e.into(), log))
    }

    /// Writes the trailer (the streams are flushed by then).
    pub fn write_trailer(&mut self, log: &LogCapture) -> Result<()> {
        self.output.write_trailer().map_err(|e| {
            output_failure(&self.sink, &format!("cannot finish the {} file", self.format_name), e.into(), log)
        })
    }

    /// Closes the output and finishes the sink (after [`Muxer::write_trailer`]): the byte count and
    /// what the sink produced.
    pub fn finish(self) -> Result<(u64, SinkOutput)> {
        let Muxer { output, _read_back, sink, .. } = self;
        drop(output); // flushes FFmpeg's I/O buffer into the sink
        drop(_read_back);
        if let Some(e) = sink.take_error() {
            return Err(EncodeError::io("cannot write the output", e));
        }
        let bytes = sink.len();
        let output = sink.finish().map_err(|e| EncodeError::io("cannot finish the output", e))?;
        Ok((bytes, output))
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
