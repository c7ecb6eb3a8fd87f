//! The muxer stage: one output container, its streams, and the sink its bytes go to.

pub mod container;
pub mod muxer;
mod read_back;
