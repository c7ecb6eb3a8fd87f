//! FFmpeg itself, beneath every stage: its log captured per encode, and small FFI helpers.

pub mod log;
pub mod util;
