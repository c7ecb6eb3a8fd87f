//! Device memory that framecodec allocated (`cuda.upload`), freed exactly once.

use std::sync::Arc;

use cudarc::driver::result;

use super::gpu::Gpu;
use crate::core::error::Result;

/// A device allocation holding frames. Freed when dropped (the last owner: the JS object after
/// `free()`, or an encode still reading it).
pub struct DeviceBuffer {
    gpu: Arc<Gpu>,
    ptr: u64,
    len: usize,
}

impl DeviceBuffer {
    /// Copies `bytes` to a new allocation on `gpu`.
    pub fn upload(gpu: Arc<Gpu>, bytes: &[u8]) -> Result<DeviceBuffer> {
        gpu.bind()?;
        // SAFETY: a fresh allocation of `len` bytes, filled completely by the copy below.
        let ptr = unsafe { result::malloc_sync(bytes.len().max(1)) }
            .map_err(|e| gpu.error("cannot allocate device memory", e))?;
        let buffer = DeviceBuffer { gpu, ptr, len: bytes.len() };
        // SAFETY: `ptr` holds at least bytes.len() bytes.
        unsafe { result::memcpy_htod_sync(buffer.ptr, bytes) }
            .map_err(|e| buffer.gpu.error("cannot copy frames to the GPU", e))?;
        Ok(buffer)
    }

    pub fn ptr(&self) -> u64 {
        self.ptr
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn gpu(&self) -> &Arc<Gpu> {
        &self.gpu
    }
}

impl Drop for DeviceBuffer {
    fn drop(&mut self) {
        if self.gpu.bind().is_ok() {
            // SAFETY: we allocated `ptr` and free it once, here.
            let _ = unsafe { result::free_sync(self.ptr) };
        }
    }
}
