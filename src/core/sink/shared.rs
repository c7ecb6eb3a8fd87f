//! The sink shared by the muxer and FFmpeg's I/O adapter.
//!
//! Why a shared slot: FFmpeg's output context owns the I/O adapter until it is freed, but we need the
//! sink back afterwards (to rename the file, to hand out the buffer) and the real `io::Error` of a
//! failed write (FFmpeg only sees EIO). Both live in one [`SinkSlot`] the muxer keeps a handle to.

use std::io::{self, Seek, SeekFrom, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use super::{Sink, SinkOutput};
use crate::core::error::copy_io_error;

/// The sink, the first error it returned, and the size of what was written.
pub struct SinkSlot {
    sink: Option<Box<dyn Sink>>,
    error: Option<io::Error>,
    position: u64,
    end: u64,
}

/// A handle to a [`SinkSlot`] shared by the encoder and FFmpeg's I/O adapter.
#[derive(Clone)]
pub struct SharedSink(Arc<Mutex<SinkSlot>>);

impl SharedSink {
    pub fn new(sink: Box<dyn Sink>) -> SharedSink {
        SharedSink(Arc::new(Mutex::new(SinkSlot { sink: Some(sink), error: None, position: 0, end: 0 })))
    }

    fn lock(&self) -> MutexGuard<'_, SinkSlot> {
        // A poisoned lock only means a panic elsewhere; the slot's data stays consistent.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn seekable(&self) -> bool {
        self.lock().sink.as_ref().is_some_and(|s| s.seekable())
    }

    /// The first error the sink returned, if any (FFmpeg only saw EIO).
    pub fn take_error(&self) -> Option<io::Error> {
        self.lock().error.take()
    }

    /// Bytes in the output (its end position).
    pub fn len(&self) -> u64 {
        self.lock().end
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads written bytes at `pos` (see [`Sink::read_at`]). A failure is recorded like a write
    /// failure: muxers tend to treat a failed read-back as the end of the data.
    pub fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<usize> {
        let result = match self.lock().sink.as_mut() {
            Some(sink) => sink.read_at(pos, buf),
            None => Err(io::Error::other("sink already finished")),
        };
        self.record(result)
    }

    /// Finishes the sink (rename / hand out the buffer).
    pub fn finish(&self) -> io::Result<SinkOutput> {
        let sink = self.lock().sink.take().ok_or_else(|| io::Error::other("sink already finished"))?;
        sink.finish()
    }

    fn record<T>(&self, result: io::Result<T>) -> io::Result<T> {
        if let Err(e) = &result {
            let mut slot = self.lock();
            if slot.error.is_none() {
                slot.error = Some(copy_io_error(e)); // the errno, call and path reach the JS error
            }
        }
        result
    }
}

impl Write for SharedSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let result = {
            let mut slot = self.lock();
            let slot = &mut *slot;
            match slot.sink.as_mut() {
                Some(sink) => sink.write_all(buf).map(|_| {
                    slot.position += buf.len() as u64;
                    slot.end = slot.end.max(slot.position);
                    buf.len()
                }),
                None => Err(io::Error::other("sink already finished")),
            }
        };
        self.record(result)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Seek for SharedSink {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let result = {
            let mut slot = self.lock();
            let slot = &mut *slot;
            match slot.sink.as_mut() {
                Some(sink) => {
                    // Size queries (SeekFrom::End(0) and back) are answered from what we know.
                    let target = match pos {
                        SeekFrom::Start(p) => Some(p),
                        SeekFrom::Current(d) => slot.position.checked_add_signed(d),
                        SeekFrom::End(d) => slot.end.checked_add_signed(d),
                    };
                    match target {
                        Some(t) if t == slot.position => Ok(t),
                        Some(t) => sink.seek(SeekFrom::Start(t)).inspect(|&p| {
                            slot.position = p;
                        }),
                        None => Err(io::Error::new(io::ErrorKind::InvalidInput, "seek before start")),
                    }
                }
                None => Err(io::Error::other("sink already finished")),
            }
        };
        self.record(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::sink::MemorySink;

    #[test]
    fn shared_sink_tracks_size_across_seeks() {
        let mut shared = SharedSink::new(Box::new(MemorySink::new()));
        shared.write_all(b"0123456789").unwrap();
        shared.seek(SeekFrom::Start(2)).unwrap();
        shared.write_all(b"ab").unwrap();
        assert_eq!(shared.seek(SeekFrom::End(0)).unwrap(), 10);
        assert_eq!(shared.len(), 10);
        match shared.finish().unwrap() {
            SinkOutput::Memory(v) => assert_eq!(v, b"01ab456789"),
            other => panic!("{other:?}"),
        }
    }
}
