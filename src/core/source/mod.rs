//! Frame sources: where the encoder reads its RGB frames from, frame by frame.
//!
//! Host frames ([`host::HostFrames`]) are read in place, never copied as a whole; CUDA frames
//! ([`crate::core::cuda::CudaFrames`]) stand beside them behind the same [`FrameSource`] trait.

mod host;

use std::fmt;

use super::convert::FrameFormat;
use super::encoder::hw_frames::CudaContextHandle;
use super::error::Result;
use super::picture::FrameGeometry;

pub use host::{HostBytes, HostFrames};

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
    /// A converter that writes frame `index` into frames of the encoder's format (it may run on
    /// another thread than the one that created it).
    fn converter(&self, format: &FrameFormat) -> Result<Box<dyn FrameConverter + Send + '_>>;
}

/// Writes frames of a source, converted, into encoder frames.
pub trait FrameConverter {
    /// Converts frame `index` into `dst` (allocated in the target format when empty; reused otherwise).
    fn convert(&mut self, index: usize, dst: &mut ffmpeg_next::frame::Video) -> Result<()>;
}

