//! The core: frames in, encoded bytes out, Rust errors. Knows nothing of JavaScript.
//!
//! `FrameSource` (host layouts; CUDA later) → `Converter` (RGB→YUV with the `ColorSpec`) →
//! `VideoWriter` (codec open, options, send/receive, muxing) → `Sink` (file, memory, stream).

mod codec;
mod container;
pub mod cuda;
mod convert;
mod destination;
mod encode;
mod error;
mod file_options;
pub(crate) mod ffi_util;
mod hw_frames;
mod log;
mod options;
mod picture;
mod rate;
mod reopen;
mod sink;
mod source;
mod stream_sink;
mod writer;
mod x264;

pub use codec::VideoCodec;
pub use convert::color::{ColorMatrix, ColorRange, ColorSpec};
pub use container::Container;
pub use convert::{Converter, FrameFormat};
pub use destination::local_path;
pub use encode::{encode, EncodeControl, Unwatched};
pub use error::{sys_error, EncodeError, ErrorCode, Result, SysCall};
pub use hw_frames::{CudaContextHandle, CudaHwFrames};
pub use picture::{FrameGeometry, InputPixels, Layout, RgbPicture};
pub use source::{Device, FrameConverter, FrameSource, HostBytes, HostFrames};
pub use options::{EncodeSettings, OptionValue, Preset};
pub use rate::FrameRate;
pub use sink::{FileSink, MemorySink, PendingFile, SharedSink, Sink, SinkOutput};
pub use stream_sink::{ChunkConsumer, StreamMode, StreamSink};
pub use writer::{EncodeSummary, VideoWriter, WriterConfig};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_gpu;
