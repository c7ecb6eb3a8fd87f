//! One whole encode of a [`FrameSource`]: the loop around [`VideoWriter`] with cancellation and progress.

use super::container::Container;
use super::error::{EncodeError, Result};
use super::frames::FrameSource;
use super::options::EncodeSettings;
use super::rate::FrameRate;
use super::sink::Sink;
use super::writer::{EncodeSummary, VideoWriter, WriterConfig};

/// How an encode is watched from outside: polled for cancellation, told about progress.
pub trait EncodeControl: Sync {
    /// Checked before every frame; `true` stops the encode with `ABORT_ERR`.
    fn aborted(&self) -> bool {
        false
    }
    /// Called with non-decreasing counts, at least once per 5% of the frames, and last with
    /// `frames_encoded == total` once the file is complete.
    fn progress(&self, _frames_encoded: u64, _total: u64) {}
}

/// No cancellation, no progress.
pub struct Unwatched;
impl EncodeControl for Unwatched {}

/// Encodes every frame of `source` into a new sink and finishes it.
pub fn encode(
    source: &dyn FrameSource,
    frame_rate: FrameRate,
    container: Container,
    settings: &EncodeSettings,
    control: &dyn EncodeControl,
    open_sink: impl FnOnce() -> Result<Box<dyn Sink>>,
) -> Result<EncodeSummary> {
    if control.aborted() {
        return Err(EncodeError::aborted());
    }
    let geometry = source.geometry();
    let config = WriterConfig {
        width: geometry.width,
        height: geometry.height,
        input: geometry.input_pixels(),
        frame_rate,
        container,
        settings: settings.clone(),
    };
    // A failure while aborting (e.g. a stream write cut short by the abort) is the abort.
    let or_aborted = |e: EncodeError| if control.aborted() { EncodeError::aborted() } else { e };
    let mut writer = VideoWriter::open(&config, open_sink).map_err(or_aborted)?;
    let total = geometry.count as u64;
    let step = (total / 20).max(1);
    for index in 0..geometry.count {
        if control.aborted() {
            return Err(EncodeError::aborted());
        }
        writer.write(&source.picture(index)).map_err(or_aborted)?;
        let done = index as u64 + 1;
        if done % step == 0 && done < total {
            control.progress(done, total);
        }
    }
    if control.aborted() {
        return Err(EncodeError::aborted());
    }
    let summary = writer.finish().map_err(or_aborted)?;
    control.progress(total, total);
    Ok(summary)
}
