//! One GPU: its context (the device's primary context) and the conversion kernels loaded on it.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, OnceLock};

use cudarc::driver::{result, sys, CudaContext, CudaFunction, CudaModule};
use cudarc::nvrtc::Ptx;

use crate::core::error::{EncodeError, ErrorCode, Result};

/// The kernels, generated from `kernels.cu` by `scripts/gen-ptx.sh` (no NVRTC needed at run time).
const KERNELS_PTX: &str = include_str!("kernels.ptx");

/// Whether the CUDA driver library can be loaded at all (without it cudarc panics).
fn driver_present() -> bool {
    // SAFETY: only probes for the shared library.
    catch_unwind(|| unsafe { sys::is_culib_present() }).unwrap_or(false)
}

/// Number of CUDA devices; 0 without a driver or device.
pub fn device_count() -> usize {
    if !driver_present() {
        return 0;
    }
    catch_unwind(|| result::init().and_then(|_| result::device::get_count()).map(|n| n.max(0) as usize).unwrap_or(0)).unwrap_or(0)
}

/// A CUDA driver is loaded and at least one device is present.
pub fn is_available() -> bool {
    device_count() > 0
}

fn unavailable(why: impl std::fmt::Display) -> EncodeError {
    EncodeError::new(ErrorCode::CudaUnavailable, format!("CUDA is not available: {why}"))
}

/// A device's context and kernels. One per device per process, shared.
pub struct Gpu {
    pub ctx: Arc<CudaContext>,
    pub ordinal: usize,
    pub name: String,
    _module: Arc<CudaModule>,
    pub yuv420: CudaFunction,
    pub yuv444: CudaFunction,
}

static GPUS: OnceLock<Mutex<HashMap<usize, Arc<Gpu>>>> = OnceLock::new();

impl Gpu {
    /// The GPU with this ordinal, opened once per process.
    pub fn get(ordinal: usize) -> Result<Arc<Gpu>> {
        if !driver_present() {
            return Err(unavailable("no CUDA driver (libcuda) on this machine"));
        }
        let count = device_count();
        if count == 0 {
            return Err(unavailable("the CUDA driver reports no device"));
        }
        if ordinal >= count {
            return Err(EncodeError::invalid_value(format!(
                "device {ordinal} is out of range: this machine has {count} CUDA device{} (0..{})",
                if count == 1 { "" } else { "s" },
                count - 1
            )));
        }
        let mut gpus = GPUS.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
        if let Some(gpu) = gpus.get(&ordinal) {
            return Ok(gpu.clone());
        }
        let gpu = Arc::new(Gpu::open(ordinal)?);
        gpus.insert(ordinal, gpu.clone());
        Ok(gpu)
    }

    fn open(ordinal: usize) -> Result<Gpu> {
        let opened = catch_unwind(AssertUnwindSafe(|| -> std::result::Result<Gpu, String> {
            let ctx = CudaContext::new(ordinal).map_err(|e| e.to_string())?;
            let name = ctx.name().unwrap_or_else(|_| format!("cuda:{ordinal}"));
            let module = ctx.load_module(Ptx::from_src(KERNELS_PTX)).map_err(|e| format!("cannot load the conversion kernels: {e}"))?;
            let yuv420 = module.load_function("rgb_to_yuv420").map_err(|e| e.to_string())?;
            let yuv444 = module.load_function("rgb_to_yuv444").map_err(|e| e.to_string())?;
            Ok(Gpu { ctx, ordinal, name, _module: module, yuv420, yuv444 })
        }));
        match opened {
            Ok(Ok(gpu)) => Ok(gpu),
            Ok(Err(e)) => Err(unavailable(format!("cannot use cuda:{ordinal}: {e}"))),
            Err(_) => Err(unavailable(format!("cannot use cuda:{ordinal}: the CUDA driver failed"))),
        }
    }

    /// Makes this GPU's context current on the calling thread.
    pub fn bind(&self) -> Result<()> {
        self.ctx.bind_to_thread().map_err(|e| EncodeError::new(ErrorCode::Encode, format!("CUDA on {}: {e}", self.name)))
    }

    /// A CUDA failure on this GPU as an encode error.
    pub fn error(&self, what: &str, e: impl std::fmt::Display) -> EncodeError {
        EncodeError::new(ErrorCode::Encode, format!("{what} on {} (cuda:{}): {e}", self.name, self.ordinal))
    }
}

#[cfg(test)]
mod tests {
    /// The shipped PTX must come from the current kernels.cu (regenerate with scripts/gen-ptx.sh).
    #[test]
    fn ptx_is_generated_from_the_current_kernel_source() {
        let source = include_bytes!("kernels.cu");
        let hash = source.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3));
        let stamp = format!("// kernels.cu fnv1a64: {hash:016x}");
        assert!(super::KERNELS_PTX.contains(&stamp), "kernels.ptx is stale: run scripts/gen-ptx.sh (expected '{stamp}')");
    }
}
