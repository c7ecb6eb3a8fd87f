//! The core: frames in, encoded bytes out, Rust errors. Knows nothing of JavaScript.
//!
//! Folders are the stages of the pipeline, in the order frames flow through them:
//! `source/` (`FrameSource`: host layouts, CUDA frames) → `convert/` (`Converter`: RGB→YUV with the
//! `ColorSpec`) → `encoder/` (codec open, options, send/receive) → `mux/` (one output, its streams)
//! → `sink/` (file, memory, stream). `picture.rs` is what a frame is (read by every stage),
//! `writer.rs` joins encoder, muxer and sink, `pipeline.rs` runs an encode fed batch by batch (the
//! JS writer's `write()` calls, or one batch of every frame for the one-shot encode), and
//! `ffmpeg/` and `cuda/` are what the stages stand on.

mod convert;
pub mod cuda;
mod encoder;
mod error;
mod ffmpeg;
mod mux;
mod picture;
mod pipeline;
mod sink;
mod source;
mod writer;

pub use convert::color::{ColorMatrix, ColorRange, ColorSpec};
pub use convert::{Converter, FrameFormat};
pub use encoder::audio::{first_non_finite, MAX_CHANNELS, MAX_SAMPLE_RATE};
pub use encoder::codec::VideoCodec;
pub use encoder::hw_frames::{CudaContextHandle, CudaHwFrames};
pub use encoder::rate::FrameRate;
pub use encoder::settings::{AudioSettings, EncodeSettings, OptionValue, Preset};
pub use error::{number_text, sys_error, EncodeError, ErrorCode, Result, SysCall};
pub use ffmpeg::versions as ffmpeg_versions;
pub use mux::container::Container;
pub use picture::{FrameGeometry, InputPixels, Layout, RgbPicture};
pub use pipeline::{encode, AudioChunk, AudioInput, Batch, EncodeControl, Feed, Pipeline, PipelineSpec, Unwatched};
pub use sink::destination::local_path;
pub use sink::{
    ChunkConsumer, FileSink, MemorySink, PendingFile, SharedSink, Sink, SinkOutput, StreamMode, StreamSink,
};
pub use source::{Device, FrameConverter, FrameSource, HostBytes, HostConverter, HostFrames, SourceFrame};
pub use writer::{EncodeSummary, VideoWriter, WriterConfig};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_audio;
#[cfg(test)]
mod tests_gpu;
#[cfg(test)]
mod tests_pipeline;
