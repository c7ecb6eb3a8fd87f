//! Argument parsing: JS values into core types, with the exact errors of the public API.

pub mod audio;
pub mod frames;
pub mod memory;
pub mod options;
pub mod output;
pub mod shape;
pub mod writer_options;
