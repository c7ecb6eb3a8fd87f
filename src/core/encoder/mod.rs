//! The encoder stage: which codec, with which settings, opened on which frames.
//!
//! [`video::Encoder`] opens a codec for the frames it will take and turns frames into packets; it
//! knows nothing of the output. The muxer (`mux/`) takes its packets as one stream among others.

pub mod audio;
pub mod av_options;
pub mod codec;
mod file_options;
pub mod hw_frames;
pub mod rate;
pub mod settings;
pub mod video;
mod x264;
