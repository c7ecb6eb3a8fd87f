//! Encode threads: one OS thread per encode, its threadsafe channel to the JS thread, and the bridge
//! to a `toStream` Writable.

pub mod encode;
pub mod stream_bridge;
