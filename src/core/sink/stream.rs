//! Streaming output: bytes go to a consumer (a Node `Writable` in the binding layer) in order, with
//! the consumer's backpressure, and with **seek emulation** for muxers that seek back.
//!
//! Why two modes: mp4/mov rewrite their header at the end and matroska/webm its sizes, seek head and
//! cues; given a non-seekable output, mp4 refuses ("muxer does not support non seekable output") and
//! matroska writes a file without an index. So those muxers write into a seekable in-memory buffer,
//! released to the consumer at the end, when nothing can be rewritten any more (and mp4 can even go out
//! index-first with `+faststart`). The bytes at the start of these files stay rewritable until the very
//! end, so nothing can be released earlier without breaking the order. Muxers that never seek back
//! (mpegts, flv, fragmented mp4, matroska with `live`, raw streams, …) get a non-seekable output and
//! their bytes go straight to the consumer: memory stays bounded however long the video.

use std::io::{self, SeekFrom};

use super::{MemorySink, Sink, SinkOutput};
use crate::core::encoder::settings::{EncodeSettings, OptionValue};
use crate::core::mux::container::Container;

/// Receives the output in order. `consume` may block until the consumer accepts more (backpressure).
pub trait ChunkConsumer: Send {
    fn consume(&mut self, chunk: Vec<u8>) -> io::Result<()>;
    /// All bytes were consumed; end the stream (or not) and wait until it is done.
    fn close(&mut self) -> io::Result<()>;
}

/// How a muxer's output reaches a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamMode {
    /// Bytes go out as the muxer writes them (bounded memory).
    Direct,
    /// Bytes are held in a seekable buffer until the muxer has finished.
    SeekEmulation,
}

/// Chunks released from the seek-emulation buffer at the end: small, so a slow consumer's buffer
/// stays within its highWaterMark plus 64 KiB.
const RELEASE_CHUNK: usize = 64 << 10;

impl StreamMode {
    /// Whether the muxer (with these settings) writes strictly forward.
    pub fn for_output(container: &Container, settings: &EncodeSettings) -> StreamMode {
        let option = |key: &str| settings.extra.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v);
        let name = container.name();
        let forward_only = match name.as_str() {
            "mp4" | "mov" | "ipod" | "3gp" | "3g2" | "psp" | "ismv" | "f4v" => matches!(
                option("movflags"),
                Some(OptionValue::Str(flags)) if ["frag_keyframe", "empty_moov", "frag_every_frame", "frag_custom", "dash", "cmaf"]
                    .iter()
                    .any(|f| flags.contains(f))
            ),
            "matroska" | "webm" => match option("live") {
                Some(OptionValue::Bool(b)) => *b,
                Some(OptionValue::Num(n)) => *n != 0.0,
                Some(OptionValue::Str(s)) => !matches!(s.as_str(), "0" | "false" | ""),
                None => false,
            },
            "mpegts" | "mpeg" | "vob" | "svcd" | "vcd" | "dvd" | "flv" | "gif" | "ivf" | "nut" | "h264" | "hevc"
            | "rawvideo" | "mjpeg" | "yuv4mpegpipe" | "m4v" | "mpeg1video" | "mpeg2video" | "obu" | "image2pipe"
            | "apng" => true,
            _ => false,
        };
        if forward_only {
            StreamMode::Direct
        } else {
            StreamMode::SeekEmulation
        }
    }
}

/// A [`Sink`] that delivers to a [`ChunkConsumer`].
pub struct StreamSink {
    consumer: Box<dyn ChunkConsumer>,
    /// The seek-emulation buffer; `None` in direct mode.
    held: Option<MemorySink>,
}

impl StreamSink {
    pub fn new(mode: StreamMode, consumer: Box<dyn ChunkConsumer>) -> StreamSink {
        let held = (mode == StreamMode::SeekEmulation).then(MemorySink::new);
        StreamSink { consumer, held }
    }
}

impl Sink for StreamSink {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self.held.as_mut() {
            Some(held) => held.write_all(buf),
            None => self.consumer.consume(buf.to_vec()),
        }
    }

    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match self.held.as_mut() {
            Some(held) => held.seek(pos),
            None => Err(io::Error::new(io::ErrorKind::Unsupported, "this stream output cannot seek")),
        }
    }

    fn seekable(&self) -> bool {
        self.held.is_some()
    }

    fn read_at(&mut self, pos: u64, buf: &mut [u8]) -> io::Result<usize> {
        match self.held.as_mut() {
            Some(held) => held.read_at(pos, buf),
            None => Err(io::Error::new(io::ErrorKind::Unsupported, "this stream output cannot be read back")),
        }
    }

    fn finish(mut self: Box<Self>) -> io::Result<SinkOutput> {
        if let Some(held) = self.held.take() {
            let SinkOutput::Memory(bytes) = Box::new(held).finish()? else { unreachable!("memory sink") };
            // Release in small chunks, each waiting for the consumer, so its buffer stays small.
            for chunk in bytes.chunks(RELEASE_CHUNK) {
                self.consumer.consume(chunk.to_vec())?;
            }
        }
        self.consumer.close()?;
        Ok(SinkOutput::Streamed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Collect(Arc<Mutex<(Vec<Vec<u8>>, bool)>>);

    impl ChunkConsumer for Collect {
        fn consume(&mut self, chunk: Vec<u8>) -> io::Result<()> {
            self.0.lock().unwrap().0.push(chunk);
            Ok(())
        }
        fn close(&mut self) -> io::Result<()> {
            self.0.lock().unwrap().1 = true;
            Ok(())
        }
    }

    fn settings(extra: &[(&str, OptionValue)]) -> EncodeSettings {
        EncodeSettings { extra: extra.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(), ..Default::default() }
    }

    #[test]
    fn modes_follow_the_muxer_and_its_options() {
        let mode = |fmt: &str, extra: &[(&str, OptionValue)]| {
            StreamMode::for_output(&Container::resolve(fmt).unwrap(), &settings(extra))
        };
        assert_eq!(mode("mp4", &[]), StreamMode::SeekEmulation);
        assert_eq!(
            mode("mp4", &[("movflags", OptionValue::Str("+frag_keyframe+empty_moov".into()))]),
            StreamMode::Direct
        );
        assert_eq!(mode("mp4", &[("movflags", OptionValue::Str("+faststart".into()))]), StreamMode::SeekEmulation);
        assert_eq!(mode("mkv", &[]), StreamMode::SeekEmulation);
        assert_eq!(mode("webm", &[("live", OptionValue::Bool(true))]), StreamMode::Direct);
        assert_eq!(mode("ts", &[]), StreamMode::Direct);
        assert_eq!(mode("flv", &[]), StreamMode::Direct);
        assert_eq!(mode("avi", &[]), StreamMode::SeekEmulation);
    }

    #[test]
    fn seek_emulation_releases_the_final_bytes_in_order_at_the_end() {
        let collect = Collect::default();
        let mut sink = Box::new(StreamSink::new(StreamMode::SeekEmulation, Box::new(collect.clone())));
        sink.write_all(b"hello world").unwrap();
        sink.seek(SeekFrom::Start(0)).unwrap();
        sink.write_all(b"J").unwrap();
        assert!(collect.0.lock().unwrap().0.is_empty(), "nothing released before the end");
        sink.finish().unwrap();
        let (chunks, closed) = collect.0.lock().unwrap().clone();
        assert_eq!(chunks.concat(), b"Jello world");
        assert!(closed);
    }

    #[test]
    fn direct_mode_passes_writes_through_and_cannot_seek() {
        let collect = Collect::default();
        let mut sink = Box::new(StreamSink::new(StreamMode::Direct, Box::new(collect.clone())));
        assert!(!sink.seekable());
        sink.write_all(b"ab").unwrap();
        assert_eq!(collect.0.lock().unwrap().0, vec![b"ab".to_vec()]);
        assert!(sink.seek(SeekFrom::Start(0)).is_err());
        sink.finish().unwrap();
        assert!(collect.0.lock().unwrap().1);
    }
}
