//! Frame sources: where the encoder reads its RGB frames from, frame by frame.
//!
//! Host frames ([`host::HostFrames`]) are read in place, never copied as a whole; CUDA frames
//! ([`crate::core::cuda::CudaFrames`]) stand beside them behind the same [`FrameSource`] trait.
//! A source only says where each frame is ([`SourceFrame`]); a [`FrameConverter`], made once per
//! encode for the device and layout, converts frames of every batch of that encode (a writer is fed
//! many small sources: converters hold scratch buffers, swscale contexts and pinned pools worth keeping).

mod host;

use std::fmt;

use super::encoder::hw_frames::CudaContextHandle;
use super::error::Result;
use super::picture::{FrameGeometry, RgbPicture};

pub use host::{HostBytes, HostConverter, HostFrames};

/// Where frames live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    Cpu,
    Cuda(u32),
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => f.write_str("cpu"),
            Device::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

/// One frame of a source, where a converter can read it.
#[derive(Clone, Copy)]
pub enum SourceFrame<'a> {
    /// Host memory, as planes FFmpeg can read in place.
    Host(RgbPicture<'a>),
    /// A device pointer to the frame (in the source's layout) on the source's GPU.
    Cuda(u64),
}

/// A batch of frames the encoder can read, frame by frame, in order.
pub trait FrameSource: Send + Sync {
    fn geometry(&self) -> FrameGeometry;
    fn device(&self) -> Device;
    /// Where the frames live, for messages: `cpu`, `NVIDIA H200 (cuda:0)`.
    fn device_name(&self) -> String {
        self.device().to_string()
    }
    /// The CUDA context the frames live in (NVENC then takes GPU frames made in it).
    fn cuda_context(&self) -> Option<CudaContextHandle> {
        None
    }
    /// Makes the frames safe to read; called once before the first frame of the batch is converted
    /// (CUDA: waits for the work queued on the device, which may still be writing them).
    fn prepare(&self) -> Result<()> {
        Ok(())
    }
    /// Frame `index` (< `geometry().count`).
    fn frame(&self, index: usize) -> SourceFrame<'_>;
}

/// Converts frames of one geometry on one device into encoder frames.
pub trait FrameConverter: Send {
    /// Converts `frame` into `dst` (allocated in the target format when empty; reused otherwise).
    fn convert(&mut self, frame: SourceFrame<'_>, dst: &mut ffmpeg_next::frame::Video) -> Result<()>;
}

/// Frames `start..start + count` of another source: a part of a batch, fed as a batch of its own (the
/// one-shot encode feeds its frames a second at a time, between the seconds of its audio).
pub struct FrameRange {
    pub source: std::sync::Arc<dyn FrameSource>,
    pub start: usize,
    pub count: usize,
}

impl FrameSource for FrameRange {
    fn geometry(&self) -> FrameGeometry {
        FrameGeometry { count: self.count, ..self.source.geometry() }
    }
    fn device(&self) -> Device {
        self.source.device()
    }
    fn device_name(&self) -> String {
        self.source.device_name()
    }
    fn cuda_context(&self) -> Option<CudaContextHandle> {
        self.source.cuda_context()
    }
    fn prepare(&self) -> Result<()> {
        self.source.prepare()
    }
    fn frame(&self, index: usize) -> SourceFrame<'_> {
        self.source.frame(self.start + index)
    }
}
