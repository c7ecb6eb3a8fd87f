//! The binding layer: converts JS values to core types and core errors to JS errors, and runs encodes
//! off the JS thread. No encoding logic lives here.
//!
//! The TypeScript shapes of the arguments (`HostFrames`, `EncodeOptions`, …) are written by hand in
//! `types.d.ts`, which napi-rs puts at the top of the generated `index.d.ts`.

#![deny(clippy::undocumented_unsafe_blocks)]

mod args;
mod cuda_api;
mod errno;
mod errors;
mod job;
mod node_api;
mod versions;
mod video_encoder;
mod video_writer;
