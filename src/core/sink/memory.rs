//! A memory sink: the whole output in one buffer (for `toBuffer`, and behind stream seek emulation).

use std::io::{self, Seek, SeekFrom, Write};

use super::{Sink, SinkOutput};

/// Collects the whole file in memory (mp4's header rewrite seeks back into it).
#[derive(Default)]
pub struct MemorySink {
    buf: io::Cursor<Vec<u8>>,
}

impl MemorySink {
    pub fn new() -> MemorySink {
        MemorySink::default()
    }
}

impl Sink for MemorySink {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.buf.write_all(buf)
    }

    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.buf.seek(pos)
    }

    fn seekable(&self) -> bool {
        true
    }

    fn read_at(&mut self, pos: u64, buf: &mut [u8]) -> io::Result<usize> {
        let data = self.buf.get_ref();
        let start = (pos as usize).min(data.len());
        let n = buf.len().min(data.len() - start);
        buf[..n].copy_from_slice(&data[start..start + n]);
        Ok(n)
    }

    fn finish(self: Box<Self>) -> io::Result<SinkOutput> {
        Ok(SinkOutput::Memory(self.buf.into_inner()))
    }
}
