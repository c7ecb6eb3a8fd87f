//! The core: frames in, encoded bytes out, Rust errors. Knows nothing of JavaScript.
//!
//! `FrameSource` (host layouts; CUDA later) → `Converter` (RGB→YUV with the `ColorSpec`) →
//! `VideoWriter` (codec open, options, send/receive, muxing) → `Sink` (file, memory, stream).

pub mod cuda;
mod convert;
mod encoder;
mod error;
pub(crate) mod ffi_util;
mod log;
mod mux;
mod picture;
mod pipeline;
mod sink;
mod source;
mod writer;

pub use encoder::codec::VideoCodec;
pub use convert::color::{ColorMatrix, ColorRange, ColorSpec};
pub use mux::container::Container;
pub use convert::{Converter, FrameFormat};
pub use sink::destination::local_path;
pub use pipeline::{encode, EncodeControl, Unwatched};
pub use error::{sys_error, EncodeError, ErrorCode, Result, SysCall};
pub use encoder::hw_frames::{CudaContextHandle, CudaHwFrames};
pub use picture::{FrameGeometry, InputPixels, Layout, RgbPicture};
pub use source::{Device, FrameConverter, FrameSource, HostBytes, HostFrames};
pub use encoder::settings::{EncodeSettings, OptionValue, Preset};
pub use encoder::rate::FrameRate;
pub use sink::{ChunkConsumer, FileSink, MemorySink, PendingFile, SharedSink, Sink, SinkOutput, StreamMode, StreamSink};
pub use writer::{EncodeSummary, VideoWriter, WriterConfig};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_gpu;
