//! framecodec: raw video frames held in memory → a real video file, encoded by FFmpeg.
//!
//! Layers (README, "How it is built"):
//! - [`core`]: pure Rust, no Node. Frames in (a [`core::FrameSource`]), bytes out (a [`core::Sink`]),
//!   Rust errors with stable codes ([`core::EncodeError`]). Testable with `cargo test` alone.
//! - `js` (feature `node`): the thin napi-rs binding layer: converts JS values to core types and core
//!   errors to JS errors, runs encodes off the JS thread and settles their Promises.

// FFmpeg's constants change integer types between versions of its bindings; the casts that are
// no-ops against FFmpeg 5.1 keep the code building against newer ones.
#![allow(clippy::unnecessary_cast)]

pub mod core;

#[cfg(feature = "node")]
mod js;
