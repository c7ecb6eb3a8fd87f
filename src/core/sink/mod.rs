//! Where encoded bytes go: a file (`file.rs`: written beside its destination, renamed on success),
//! memory (`memory.rs`), or a stream (`stream.rs`, with seek emulation). Muxers write through FFmpeg's
//! custom I/O into a [`Sink`], held in a [`SharedSink`] (`shared.rs`).

pub mod destination;
mod file;
mod memory;
mod shared;
mod stream;

use std::io::{self, SeekFrom};

pub use file::{FileSink, PendingFile};
pub use memory::MemorySink;
pub use shared::SharedSink;
pub use stream::{ChunkConsumer, StreamMode, StreamSink};

/// What a finished sink produced.
#[derive(Debug)]
pub enum SinkOutput {
    /// A complete file, still under its temporary name: [`PendingFile::commit`] renames it over its
    /// destination, dropping it removes it.
    File(PendingFile),
    Memory(Vec<u8>),
    /// Bytes went elsewhere (a stream).
    Streamed,
}

/// A destination for muxed bytes.
pub trait Sink: Send {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()>;
    /// Moves the write position; only called when [`Sink::seekable`] is true.
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64>;
    fn seekable(&self) -> bool;
    /// Reads already-written bytes at `pos` without moving the write position (for muxers that read
    /// back their output, e.g. mp4 `+faststart`). Returns 0 at the end.
    fn read_at(&mut self, _pos: u64, _buf: &mut [u8]) -> io::Result<usize> {
        Err(io::Error::new(io::ErrorKind::Unsupported, "this output cannot be read back"))
    }
    /// Makes the output final (renames the file, hands out the buffer). Dropping a sink without
    /// finishing it discards what was written.
    fn finish(self: Box<Self>) -> io::Result<SinkOutput>;
}
