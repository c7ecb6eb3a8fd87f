//! A file sink: written beside its destination under a temporary name, renamed over it on success.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::{Sink, SinkOutput};
use crate::core::error::{sys_error, EncodeError, Result};

/// Writes to a temporary file beside `dest`, renamed over `dest` on [`Sink::finish`], removed if the
/// sink is dropped unfinished: a failed encode leaves no partial file and leaves an existing `dest` as it was.
pub struct FileSink {
    file: Option<File>,
    temp: PathBuf,
    dest: PathBuf,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The longest file name (one path component) Linux file systems take, in bytes (`NAME_MAX`).
const NAME_MAX: usize = 255;

impl FileSink {
    pub fn create(dest: &Path) -> Result<FileSink> {
        let name = dest.file_name().ok_or_else(|| {
            EncodeError::invalid_value(format!("destination '{}' is not a file path", dest.display()))
        })?;
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if dest.is_dir() {
            return Err(EncodeError::io(
                format!("cannot write '{}'", dest.display()),
                sys_error(io::Error::from_raw_os_error(libc::EISDIR), "open", dest, None),
            ));
        }
        // A name the file system cannot hold (ENAMETOOLONG), a parent that is a file (ENOTDIR), … fail
        // here, before any encoding, with the OS's own error; "not found" is the usual case.
        if let Err(e) = fs::symlink_metadata(dest) {
            if e.kind() != io::ErrorKind::NotFound {
                return Err(EncodeError::io(
                    format!("cannot create '{}'", dest.display()),
                    sys_error(e, "lstat", dest, None),
                ));
            }
        }
        let temp = dir.join(temp_name(name));
        let file = OpenOptions::new()
            .read(true) // muxers may read back what they wrote (mp4 +faststart)
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(|e| {
                EncodeError::io(format!("cannot create '{}'", dest.display()), sys_error(e, "open", &temp, None))
            })?;
        Ok(FileSink { file: Some(file), temp, dest: dest.to_path_buf() })
    }
}

/// The hidden, unique name of the temporary file beside a destination named `name`:
/// `.{name}.{pid}-{n}.framecodec-partial`, with `name` cut short so that the whole fits `NAME_MAX`
/// (a legal 255-byte destination name must work).
fn temp_name(name: &std::ffi::OsStr) -> std::ffi::OsString {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let suffix = format!(".{}-{}.framecodec-partial", std::process::id(), TEMP_COUNTER.fetch_add(1, Ordering::Relaxed));
    let room = NAME_MAX - 1 - suffix.len();
    let base = name.as_bytes();
    let mut temp = Vec::with_capacity(NAME_MAX);
    temp.push(b'.');
    temp.extend_from_slice(&base[..base.len().min(room)]);
    temp.extend_from_slice(suffix.as_bytes());
    std::ffi::OsString::from_vec(temp)
}

impl Sink for FileSink {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let file = self.file.as_mut().expect("file open until finish");
        file.write_all(buf).map_err(|e| sys_error(e, "write", &self.temp, None))
    }

    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let file = self.file.as_mut().expect("file open until finish");
        file.seek(pos).map_err(|e| sys_error(e, "lseek", &self.temp, None))
    }

    fn seekable(&self) -> bool {
        true
    }

    fn read_at(&mut self, pos: u64, buf: &mut [u8]) -> io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(self.file.as_ref().expect("file open until finish"), buf, pos)
            .map_err(|e| sys_error(e, "read", &self.temp, None))
    }

    fn finish(mut self: Box<Self>) -> io::Result<SinkOutput> {
        let file = self.file.take().expect("finish once");
        let pending = PendingFile { temp: Some(self.temp.clone()), dest: self.dest.clone() };
        // On failure `pending` is dropped, which removes the temporary file.
        file.sync_data().map_err(|e| sys_error(e, "fsync", &self.temp, None))?;
        drop(file);
        Ok(SinkOutput::File(pending))
    }
}

/// A complete output file under its temporary name, not yet at its destination.
///
/// Why two steps: the encode is not over when the file is complete. An abort or a throwing
/// `onProgress` can still arrive before the Promise settles, and must leave a pre-existing `dest`
/// as it was. So the rename is the very last step, taken by whoever settles the encode.
#[derive(Debug)]
pub struct PendingFile {
    temp: Option<PathBuf>,
    dest: PathBuf,
}

impl PendingFile {
    /// Renames the file over its destination.
    pub fn commit(mut self) -> io::Result<PathBuf> {
        let temp = self.temp.take().expect("commit once");
        fs::rename(&temp, &self.dest).map_err(|e| {
            let _ = fs::remove_file(&temp);
            sys_error(e, "rename", &temp, Some(&self.dest))
        })?;
        Ok(self.dest.clone())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            let _ = fs::remove_file(temp);
        }
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_sink_renames_on_finish_and_cleans_up_on_drop() {
        let dir = std::env::temp_dir().join(format!("framecodec-sink-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let dest = dir.join("out.bin");
        fs::write(&dest, b"old").unwrap();

        let mut sink = Box::new(FileSink::create(&dest).unwrap());
        sink.write_all(b"partial").unwrap();
        drop(sink);
        assert_eq!(fs::read(&dest).unwrap(), b"old", "dropped sink leaves dest untouched");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "no temp file left");

        let finished = || {
            let mut sink = Box::new(FileSink::create(&dest).unwrap());
            sink.write_all(b"hello world").unwrap();
            sink.seek(SeekFrom::Start(0)).unwrap();
            sink.write_all(b"J").unwrap();
            let SinkOutput::File(pending) = sink.finish().unwrap() else { panic!("a file") };
            pending
        };
        let pending = finished();
        assert_eq!(fs::read(&dest).unwrap(), b"old", "dest untouched until the commit");
        drop(pending);
        assert_eq!(fs::read(&dest).unwrap(), b"old", "an uncommitted file is discarded");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "no temp file left");

        assert_eq!(finished().commit().unwrap(), dest);
        assert_eq!(fs::read(&dest).unwrap(), b"Jello world");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn file_sink_in_missing_directory_is_an_io_error() {
        let err = FileSink::create(Path::new("/nonexistent-framecodec-dir/x.mp4")).err().unwrap();
        assert_eq!(err.code, crate::core::error::ErrorCode::Io);
        assert!(err.io_cause.is_some());
    }

    #[test]
    fn a_255_byte_name_works_and_a_256_byte_name_is_enametoolong() {
        let dir = std::env::temp_dir().join(format!("framecodec-sink-long-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let dest = dir.join(format!("{}.mp4", "é".repeat(125) + "x")); // 251 + 4 = 255 bytes, multi-byte
        assert_eq!(dest.file_name().unwrap().len(), 255);
        let sink = Box::new(FileSink::create(&dest).unwrap());
        let temp = sink.temp.file_name().unwrap().to_owned();
        assert!(temp.len() <= NAME_MAX && temp.to_string_lossy().starts_with('.'), "{temp:?}");
        let SinkOutput::File(pending) = sink.finish().unwrap() else { panic!("a file") };
        pending.commit().unwrap();
        assert!(dest.is_file());
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "only the destination is left");

        let too_long = dir.join("a".repeat(256));
        let err = FileSink::create(&too_long).err().unwrap();
        let (errno, call) = err.os_error().unwrap();
        assert_eq!(errno, libc::ENAMETOOLONG);
        assert_eq!(call.unwrap().syscall, "lstat");
        assert!(err.message.contains("File name too long"), "{}", err.message);
        fs::remove_dir_all(&dir).unwrap();
    }
}
