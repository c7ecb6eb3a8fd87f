//! FFmpeg itself, beneath every stage: its log captured per encode, small FFI helpers, and what is
//! linked in (`versions.rs`).

pub mod log;
pub mod util;
pub mod versions;
