//! CUDA input: frames in device memory, converted to YUV on the GPU.
//!
//! Why dynamic loading everywhere: the addon must build and load on machines with no CUDA at all (CI,
//! laptops). cudarc loads libcuda on first use; before any call we check that the library is present
//! (`CudaContext::new` panics otherwise) and every failure becomes `ERR_CUDA_UNAVAILABLE` or a precise
//! argument error, never a panic.
//!
//! The encode paths (see `frames.rs`): RGB → YUV on the GPU with the same integer arithmetic as the CPU
//! kernel, then only the YUV planes (half the bytes of RGB) come to the host for a CPU encoder, or go to
//! NVENC where the GPU has one.

mod buffer;
mod frames;
mod gpu;
mod pinned;

pub use buffer::DeviceBuffer;
pub use frames::{converter, CudaFrames};
pub use gpu::{device_count, is_available, Gpu};
#[cfg(test)]
pub(crate) use pinned::PlaneLayout;
