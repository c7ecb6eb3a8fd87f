//! One GPU: its context (the device's primary context) and the conversion kernels loaded on it.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, OnceLock};

use cudarc::driver::{result, sys, CudaContext, CudaFunction, CudaModule, DriverError};
use cudarc::nvrtc::{compile_ptx_with_opts, CompileOptions, Ptx};

use crate::core::error::{EncodeError, ErrorCode, Result};

/// The kernels, generated from `kernels.cu` by `scripts/gen-ptx.sh` (no NVRTC needed at run time).
const KERNELS_PTX: &str = include_str!("kernels.ptx");
/// Their source, compiled at run time only where the driver refuses the shipped PTX.
const KERNELS_CU: &str = include_str!("kernels.cu");

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
    catch_unwind(|| result::init().and_then(|_| result::device::get_count()).map(|n| n.max(0) as usize).unwrap_or(0))
        .unwrap_or(0)
}

/// A CUDA driver is loaded and at least one device is present.
pub fn is_available() -> bool {
    device_count() > 0
}

/// A driver error as `CUDA_ERROR_NAME: the driver's description`.
pub fn driver_text(e: &DriverError) -> String {
    let description = e.error_string().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    if description.is_empty() {
        format!("{:?}", e.0)
    } else {
        format!("{:?}: {description}", e.0)
    }
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
    /// The context, for FFmpeg's CUDA device (NVENC's GPU frames are made in it).
    pub fn context_handle(&self) -> crate::core::CudaContextHandle {
        crate::core::CudaContextHandle(self.ctx.cu_ctx() as *mut std::ffi::c_void)
    }

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
            let ctx = CudaContext::new(ordinal).map_err(|e| driver_text(&e))?;
            let name = ctx.name().unwrap_or_else(|_| format!("cuda:{ordinal}"));
            let module = load_kernels(&ctx)?;
            let yuv420 = module.load_function("rgb_to_yuv420").map_err(|e| driver_text(&e))?;
            let yuv444 = module.load_function("rgb_to_yuv444").map_err(|e| driver_text(&e))?;
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
        self.ctx
            .bind_to_thread()
            .map_err(|e| EncodeError::new(ErrorCode::Encode, format!("CUDA on {}: {}", self.name, driver_text(&e))))
    }

    /// A CUDA failure on this GPU as an encode error.
    pub fn error(&self, what: &str, e: DriverError) -> EncodeError {
        EncodeError::new(
            ErrorCode::Encode,
            format!("{what} on {} (cuda:{}): {}", self.name, self.ordinal, driver_text(&e)),
        )
    }
}

/// Loads the conversion kernels: the shipped PTX (compute_52, which drivers JIT-compile for any newer
/// GPU); where a driver refuses it (one that dropped old PTX targets), the source compiled for this
/// GPU with NVRTC, if the machine has libnvrtc. The error names both failures.
fn load_kernels(ctx: &Arc<CudaContext>) -> std::result::Result<Arc<CudaModule>, String> {
    let shipped = match ctx.load_module(Ptx::from_src(KERNELS_PTX)) {
        Ok(module) => return Ok(module),
        Err(e) => driver_text(&e),
    };
    // SAFETY: only probes for the shared library (cudarc panics on first use without it).
    if !catch_unwind(|| unsafe { cudarc::nvrtc::sys::is_culib_present() }).unwrap_or(false) {
        return Err(format!(
            "cannot load the conversion kernels: the driver refused the shipped PTX ({shipped}), and there is no NVRTC library (libnvrtc) to compile them for this GPU"
        ));
    }
    let compiled = catch_unwind(AssertUnwindSafe(|| -> std::result::Result<Arc<CudaModule>, String> {
        let (major, minor) = ctx.compute_capability().map_err(|e| driver_text(&e))?;
        let options = CompileOptions {
            options: vec![format!("--gpu-architecture=compute_{major}{minor}"), "-default-device".into()],
            ..Default::default()
        };
        let ptx =
            compile_ptx_with_opts(KERNELS_CU, options).map_err(|e| format!("NVRTC could not compile them: {e}"))?;
        ctx.load_module(ptx).map_err(|e| format!("the driver refused NVRTC's PTX too: {}", driver_text(&e)))
    }))
    .unwrap_or_else(|_| Err("NVRTC failed".into()));
    compiled.map_err(|fallback| {
        format!("cannot load the conversion kernels: the driver refused the shipped PTX ({shipped}), and {fallback}")
    })
}

#[cfg(test)]
mod tests {
    /// The shipped PTX must come from the current kernels.cu (regenerate with scripts/gen-ptx.sh).
    #[test]
    fn ptx_is_generated_from_the_current_kernel_source() {
        let source = include_bytes!("kernels.cu");
        let hash = source.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3));
        let stamp = format!("// kernels.cu fnv1a64: {hash:016x}");
        assert!(
            super::KERNELS_PTX.contains(&stamp),
            "kernels.ptx is stale: run scripts/gen-ptx.sh (expected '{stamp}')"
        );
    }
}
