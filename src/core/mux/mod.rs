//! The muxer stage: one output container, its streams, and the sink its bytes go to.

pub mod container;
pub mod fragments;
pub mod muxer;
mod read_back;
pub mod timescale;
