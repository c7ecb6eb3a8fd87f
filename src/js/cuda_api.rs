//! The `cuda` helpers of the JS API (`cuda.isAvailable()`, `cuda.deviceCount()`, `cuda.upload()`) and
//! CUDA frames given to the `VideoEncoder` constructor.
// The #[napi] exports are only reached through Node's module registration, not from Rust test builds.
#![cfg_attr(test, allow(dead_code))]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, Weak};

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::core::cuda::{self as core_cuda, CudaFrames, DeviceBuffer, Gpu};
use crate::core::{EncodeError, ErrorCode, FrameGeometry, Layout};

use crate::js::args::shape::shape_and_layout;
use crate::js::errors::{self, Failure};
use crate::js::node_api::JsVal;

/// Allocations made by `cuda.upload`, by start address, so that frames given by pointer into one of
/// them keep it alive while encoding even if `free()` is called meanwhile.
static UPLOADS: Mutex<BTreeMap<u64, Weak<DeviceBuffer>>> = Mutex::new(BTreeMap::new());

fn owner_of(ptr: u64) -> Option<Arc<DeviceBuffer>> {
    let uploads = UPLOADS.lock().unwrap_or_else(|p| p.into_inner());
    let (_, weak) = uploads.range(..=ptr).next_back()?;
    weak.upgrade().filter(|b| ptr < b.ptr() + b.len().max(1) as u64)
}

/// `CudaFrames` from the constructor's arguments.
pub fn cuda_frames(
    cuda_ptr: JsVal,
    device: JsVal,
    shape: [i64; 4],
    layout: Layout,
) -> std::result::Result<CudaFrames, Failure> {
    let ptr = cuda_ptr.bigint_u64().ok_or_else(|| {
        Failure::Encode(EncodeError::new(
            ErrorCode::InvalidArgType,
            format!("cudaPtr must be a BigInt device pointer, got {}", cuda_ptr.describe_type()),
        ))
    })?;
    let ordinal = device_ordinal(device)?;
    FrameGeometry::new(shape, layout)?; // argument errors come before "no CUDA here"
    if !core_cuda::is_available() {
        return Err(Failure::Encode(EncodeError::new(
            ErrorCode::CudaUnavailable,
            "CUDA frames need a CUDA driver and device, and this machine has none (cuda.isAvailable() is false)",
        )));
    }
    Ok(CudaFrames::new(ptr, shape, layout, ordinal, owner_of(ptr))?)
}

fn device_ordinal(device: JsVal) -> std::result::Result<usize, Failure> {
    if device.is_nullish() {
        return Ok(0);
    }
    match device.number() {
        Some(n) if n >= 0.0 && n.fract() == 0.0 && n < 1024.0 => Ok(n as usize),
        _ => Err(Failure::Encode(EncodeError::invalid_value(format!(
            "device must be a CUDA device ordinal (an integer >= 0), got {}",
            device.number().map(|n| n.to_string()).unwrap_or_else(|| device.describe_type())
        )))),
    }
}

/// Whether a CUDA driver is loaded and at least one device is present. Never throws.
#[napi(namespace = "cuda", catch_unwind)]
pub fn is_available() -> bool {
    core_cuda::is_available()
}

/// Number of CUDA devices (0 without a CUDA driver). Never throws.
#[napi(namespace = "cuda", catch_unwind)]
pub fn device_count() -> u32 {
    core_cuda::device_count() as u32
}

/// Copies host frames to a new allocation on the GPU and returns them as CUDA frames, a valid
/// `VideoEncoder` input until `free()`. Throws `ERR_CUDA_UNAVAILABLE` without a CUDA driver or device.
#[napi(
    namespace = "cuda",
    catch_unwind,
    ts_args_type = "frames: HostFrames, options?: { device?: number }",
    ts_return_type = "DeviceFrames"
)]
pub fn upload(env: Env, frames: Unknown, options: Option<Unknown>) -> Result<DeviceFrames> {
    let raw = env.raw();
    (|| -> std::result::Result<DeviceFrames, Failure> {
        let frames = JsVal::new(raw, frames.raw());
        if !frames.is_object() || frames.typed_array().is_some() {
            return Err(Failure::Encode(EncodeError::new(
                ErrorCode::InvalidArgType,
                format!("frames must be {{ data, shape, layout? }}, got {}", frames.describe_type()),
            )));
        }
        let options = options.map(|o| JsVal::new(raw, o.raw()));
        let device = match options.filter(|o| o.is_object()) {
            Some(o) => o.get("device")?,
            None => crate::js::node_api::undefined(raw),
        };
        let ordinal = device_ordinal(device)?;
        let data = frames.get("data")?;
        let (shape, layout) = shape_and_layout(frames, crate::js::node_api::undefined(raw))?;
        // The bytes last: a shape or layout getter may have detached or shrunk the data (a resize(0)
        // made a stale view read unmapped memory); no JavaScript runs from here to the copy.
        let bytes = crate::js::args::memory::typed_bytes(data)?;
        let geometry = FrameGeometry::new(shape, layout)?;
        let data = crate::core::HostBytes::bytes(&bytes);
        geometry.check_len(data.len(), shape)?;
        let gpu = Gpu::get(ordinal)?;
        let buffer = Arc::new(DeviceBuffer::upload(gpu, data)?);
        UPLOADS.lock().unwrap_or_else(|p| p.into_inner()).insert(buffer.ptr(), Arc::downgrade(&buffer));
        Ok(DeviceFrames {
            buffer: Some(buffer),
            ptr: 0,
            shape: shape.map(|d| d as u32).to_vec(),
            layout: layout.name().to_string(),
            device: ordinal as u32,
        }
        .with_ptr())
    })()
    .map_err(|f| errors::throw(raw, f))
}

/// Frames in GPU memory allocated by `cuda.upload()`. Pass it to `new VideoEncoder(...)` like any
/// `CudaFrames`. `free()` releases the memory (encodes still running keep it until they finish).
#[napi]
pub struct DeviceFrames {
    buffer: Option<Arc<DeviceBuffer>>,
    ptr: u64,
    shape: Vec<u32>,
    layout: String,
    device: u32,
}

impl DeviceFrames {
    fn with_ptr(mut self) -> Self {
        self.ptr = self.buffer.as_ref().map(|b| b.ptr()).unwrap_or(0);
        self
    }
}

#[napi]
impl DeviceFrames {
    /// The device pointer (`0n` after `free()`).
    #[napi(getter)]
    pub fn cuda_ptr(&self) -> BigInt {
        BigInt::from(if self.buffer.is_some() { self.ptr } else { 0 })
    }

    #[napi(getter, ts_return_type = "[number, number, number, number]")]
    pub fn shape(&self) -> Vec<u32> {
        self.shape.clone()
    }

    #[napi(getter, ts_return_type = "Layout")]
    pub fn layout(&self) -> String {
        self.layout.clone()
    }

    /// The CUDA device ordinal.
    #[napi(getter)]
    pub fn device(&self) -> u32 {
        self.device
    }

    /// Size of the allocation in bytes (0 after `free()`).
    #[napi(getter)]
    pub fn byte_length(&self) -> f64 {
        self.buffer.as_ref().map(|b| b.len() as f64).unwrap_or(0.0)
    }

    /// Releases the GPU memory. Idempotent.
    #[napi(catch_unwind)]
    pub fn free(&mut self) {
        if let Some(buffer) = self.buffer.take() {
            UPLOADS.lock().unwrap_or_else(|p| p.into_inner()).remove(&buffer.ptr());
        }
    }
}
