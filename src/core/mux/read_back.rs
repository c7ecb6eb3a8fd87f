//! Letting a muxer read back what it wrote: mp4/mov `movflags=+faststart`.
//!
//! Why: with `+faststart` the mov muxer moves the index (moov) to the front at the end of the encode by
//! re-opening its output *by name* for reading (`io_open`) and shifting the data. Our output has no
//! name FFmpeg may open (we never let paths reach FFmpeg's protocol layer), so we answer `io_open`
//! ourselves: a read-only view of the sink's bytes, like a second file descriptor on the same file.
//! Opening anything for writing is refused, so no muxer can create files of its own.

use std::ffi::{c_char, c_int};
use std::io::{self, Read, Seek, SeekFrom};
use std::panic::{catch_unwind, AssertUnwindSafe};

use ffmpeg_next::ffi;
use ffmpeg_next::format::context::StreamIo;

use crate::core::sink::SharedSink;

/// Reads a sink's bytes at its own position.
struct SinkReader {
    sink: SharedSink,
    pos: u64,
}

impl Read for SinkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.sink.read_at(self.pos, buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SinkReader {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let target = match pos {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => self.sink.len().checked_add_signed(d),
        };
        self.pos = target.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before start"))?;
        Ok(self.pos)
    }
}

/// The state behind a format context's `io_open` / `io_close2`; must outlive the context.
pub struct ReadBack {
    sink: SharedSink,
    readers: Vec<StreamIo>,
}

impl ReadBack {
    /// Installs the callbacks on `ctx`. The returned box must be kept alive until `ctx` is freed.
    ///
    /// # Safety
    /// `ctx` is a live output context; nothing else uses its `opaque`, `io_open` or `io_close2`.
    pub unsafe fn install(ctx: *mut ffi::AVFormatContext, sink: SharedSink) -> Box<ReadBack> {
        let mut state = Box::new(ReadBack { sink, readers: Vec::new() });
        unsafe {
            (*ctx).opaque = (&mut *state as *mut ReadBack).cast();
            (*ctx).io_open = Some(io_open);
            (*ctx).io_close2 = Some(io_close2);
        }
        state
    }
}

unsafe extern "C" fn io_open(
    s: *mut ffi::AVFormatContext,
    pb: *mut *mut ffi::AVIOContext,
    _url: *const c_char,
    flags: c_int,
    _options: *mut *mut ffi::AVDictionary,
) -> c_int {
    catch_unwind(AssertUnwindSafe(|| unsafe {
        if flags & ffi::AVIO_FLAG_WRITE as c_int != 0 || (*s).opaque.is_null() {
            return ffi::AVERROR(ffi::EPERM);
        }
        let state = &mut *((*s).opaque as *mut ReadBack);
        match StreamIo::from_read_seek(SinkReader { sink: state.sink.clone(), pos: 0 }) {
            Ok(mut io) => {
                *pb = io.as_mut_ptr();
                state.readers.push(io);
                0
            }
            Err(e) => e.into(),
        }
    }))
    .unwrap_or(ffi::AVERROR(ffi::EIO))
}

unsafe extern "C" fn io_close2(s: *mut ffi::AVFormatContext, pb: *mut ffi::AVIOContext) -> c_int {
    catch_unwind(AssertUnwindSafe(|| unsafe {
        if !(*s).opaque.is_null() {
            let state = &mut *((*s).opaque as *mut ReadBack);
            state.readers.retain_mut(|io| io.as_mut_ptr() != pb);
        }
        0
    }))
    .unwrap_or(ffi::AVERROR(ffi::EIO))
}
