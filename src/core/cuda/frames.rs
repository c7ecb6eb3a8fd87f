//! Frames in CUDA device memory, and their conversion on the GPU.
//!
//! Path "GPU convert, CPU encode" (the one GPUs without NVENC — A100, H100, H200 — can run, and the
//! fallback elsewhere): one kernel turns frame `i` into the encoder's YUV layout in a device buffer
//! laid out like the host frame, then only those YUV planes (half the bytes of RGB for 4:2:0) come
//! down, in one copy into pinned host memory (`pinned.rs`). This runs on the encode's conversion
//! thread, so it overlaps with the encoder working on the frames before.
//! Path "NVENC": the kernel writes NV12 straight into the encoder's CUDA frames; nothing crosses PCIe.
//! Pixel formats the kernels do not write (gif's rgb8, 10-bit, …) fall back to copying the RGB frame
//! to the host and converting on the CPU.

use std::sync::Arc;

use cudarc::driver::{result, sys, LaunchConfig, PushKernelArg};
use ffmpeg_next::{ffi, frame};

use super::buffer::DeviceBuffer;
use super::gpu::Gpu;
use super::pinned::{PinnedFramePool, PlaneLayout};
use crate::core::convert::yuv_kernel::YuvCoefficients;
use crate::core::convert::{Converter, FrameFormat};
use crate::core::error::{EncodeError, Result};
use crate::core::picture::{FrameGeometry, InputPixels, Layout, RgbPicture};
use crate::core::source::{Device, FrameConverter, FrameSource, SourceFrame};
use crate::core::CudaContextHandle;

/// Frames at a device pointer (not owned, unless they come from [`DeviceBuffer`]).
#[derive(Clone)]
pub struct CudaFrames {
    gpu: Arc<Gpu>,
    ptr: u64,
    geometry: FrameGeometry,
    /// Keeps a framecodec-owned allocation alive while encoders use it.
    _owner: Option<Arc<DeviceBuffer>>,
}

impl CudaFrames {
    /// Frames of `shape` (in `layout`) at `ptr` on device `ordinal`. Checks that `ptr` is device memory
    /// of that device and that the memory from there holds all the frames (a kernel reading past it
    /// would fault, and a fault poisons the whole CUDA context, the application's too).
    pub fn new(
        ptr: u64,
        shape: [i64; 4],
        layout: Layout,
        ordinal: usize,
        owner: Option<Arc<DeviceBuffer>>,
    ) -> Result<CudaFrames> {
        let geometry = FrameGeometry::new(shape, layout)?;
        let gpu = Gpu::get(ordinal)?;
        let total = geometry.total_bytes().ok_or_else(|| EncodeError::invalid_value("shape is too large"))?;
        gpu.bind()?;
        let available = match mapped_bytes_from(ptr, total as u64) {
            Ok(bytes) => bytes,
            Err(found) => {
                return Err(EncodeError::invalid_value(format!(
                    "cudaPtr 0x{ptr:x} is not device memory on cuda:{ordinal} ({}): the CUDA driver says {found:?}",
                    gpu.name
                )))
            }
        };
        let mut device: i32 = -1;
        // SAFETY: writes one int.
        let ordinal_known = unsafe {
            sys::cuPointerGetAttribute(
                (&mut device as *mut i32).cast(),
                sys::CUpointer_attribute::CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL,
                ptr,
            )
        } == sys::CUresult::CUDA_SUCCESS;
        if ordinal_known && device >= 0 && device as usize != ordinal {
            return Err(EncodeError::invalid_value(format!(
                "cudaPtr 0x{ptr:x} is memory of cuda:{device}, not of cuda:{ordinal}: pass device: {device}"
            )));
        }
        if (total as u64) > available {
            return Err(EncodeError::invalid_value(format!(
                "the allocation at cudaPtr 0x{ptr:x} has {available} bytes from there, but shape [{}] needs {total} bytes",
                shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")
            )));
        }
        Ok(CudaFrames { gpu, ptr, geometry, _owner: owner })
    }

    pub fn gpu(&self) -> &Arc<Gpu> {
        &self.gpu
    }

    pub(crate) fn frame_ptr(&self, index: usize) -> u64 {
        self.ptr + (index * self.geometry.frame_bytes()) as u64
    }
}

/// Whether `ptr` lies in memory mapped with CUDA's virtual memory API (cuMemCreate + cuMemMap).
fn is_vmm_mapped(ptr: u64) -> bool {
    let mut handle = 0;
    // SAFETY: succeeds only for VMM mappings, and then takes a reference that we release at once.
    unsafe {
        if sys::cuMemRetainAllocationHandle(&mut handle, ptr as *mut std::ffi::c_void) != sys::CUresult::CUDA_SUCCESS {
            return false;
        }
        let _ = sys::cuMemRelease(handle);
    }
    true
}

/// How many bytes of device memory the driver knows from `ptr` on. Memory mapped with CUDA's virtual
/// memory API (PyTorch's expandable segments) is reported one physical segment at a time, so for it
/// the contiguous mapped ranges are walked until `needed` bytes are covered; ordinary allocations
/// count alone (another allocation may happen to follow it).
fn mapped_bytes_from(ptr: u64, needed: u64) -> std::result::Result<u64, sys::CUresult> {
    let range_at = |at: u64| {
        let (mut base, mut size) = (0u64, 0usize);
        // SAFETY: a query about an address; the driver validates it.
        match unsafe { sys::cuMemGetAddressRange_v2(&mut base, &mut size, at) } {
            sys::CUresult::CUDA_SUCCESS => Ok((base, base + size as u64)),
            failed => Err(failed),
        }
    };
    let (_, mut end) = range_at(ptr)?;
    if end - ptr < needed && is_vmm_mapped(ptr) {
        while end - ptr < needed && is_vmm_mapped(end) {
            match range_at(end) {
                Ok((base, next_end)) if base == end && next_end > end => end = next_end,
                _ => break,
            }
        }
    }
    Ok(end - ptr)
}

impl FrameSource for CudaFrames {
    fn geometry(&self) -> FrameGeometry {
        self.geometry
    }

    fn device(&self) -> Device {
        Device::Cuda(self.gpu.ordinal as u32)
    }

    fn device_name(&self) -> String {
        format!("{} (cuda:{})", self.gpu.name, self.gpu.ordinal)
    }

    fn cuda_context(&self) -> Option<CudaContextHandle> {
        Some(self.gpu.context_handle())
    }

    fn prepare(&self) -> Result<()> {
        // The frames may still be being written by work the application queued on another stream
        // (one that does not wait for, nor is waited for by, the default stream our kernels use): wait
        // for everything queued on the device's context once, before the batch is read.
        self.gpu.bind()?;
        self.gpu.ctx.synchronize().map_err(|e| self.gpu.error("cannot wait for the work queued on the GPU", e))
    }

    fn frame(&self, index: usize) -> SourceFrame<'_> {
        SourceFrame::Cuda(self.frame_ptr(index))
    }
}

/// A converter of frames on `gpu` (of `input` pixels, any batch) into encoder frames of `format`:
/// NV12 straight into NVENC's GPU frames, the kernels' YUV layouts through pinned host memory, and
/// other formats through a host copy of the RGB frame.
pub fn converter(gpu: Arc<Gpu>, input: InputPixels, format: &FrameFormat) -> Result<Box<dyn FrameConverter>> {
    use ffi::AVPixelFormat::*;
    let coefficients = YuvCoefficients::new(format.color).as_array();
    let layout = match format.pixel_format {
        AV_PIX_FMT_YUV420P | AV_PIX_FMT_YUVJ420P => Some((true, false)),
        AV_PIX_FMT_NV12 => Some((true, true)),
        AV_PIX_FMT_YUV444P | AV_PIX_FMT_YUVJ444P => Some((false, false)),
        _ => None,
    };
    Ok(if format.hw.is_some() {
        Box::new(GpuFramesConverter { gpu, input, format: format.clone(), coefficients })
    } else {
        match layout {
            Some((subsampled, interleaved)) => {
                Box::new(GpuConverter::new(gpu, input, format.clone(), subsampled, interleaved)?)
            }
            None => Box::new(HostFallback {
                gpu,
                input,
                converter: format.converter(input)?,
                format: format.clone(),
                rgb: Vec::new(),
            }),
        }
    })
}

/// The device pointer of a frame given to a CUDA converter.
fn device_frame(frame: SourceFrame<'_>) -> Result<u64> {
    match frame {
        SourceFrame::Cuda(ptr) => Ok(ptr),
        SourceFrame::Host(_) => {
            Err(EncodeError::invalid_value("host frames were given to an encode of frames on a GPU"))
        }
    }
}

/// Converts on the GPU into a device YUV buffer laid out like the host frame, then copies it down
/// in one piece into a pinned host frame.
struct GpuConverter {
    gpu: Arc<Gpu>,
    input: InputPixels,
    format: FrameFormat,
    subsampled: bool,
    coefficients: [i32; 10],
    /// The device YUV buffer, in the pool's plane layout.
    staging: DeviceAlloc,
    pool: PinnedFramePool,
}

/// A scratch device allocation, freed on drop.
struct DeviceAlloc {
    gpu: Arc<Gpu>,
    ptr: u64,
}

impl DeviceAlloc {
    /// `len` bytes, zeroed: the kernels write the pixels of a staging buffer, not its row padding, and
    /// the whole buffer is copied into the encoder's frames (see [Defined frame bytes] in `convert/frame_format.rs`).
    fn new(gpu: &Arc<Gpu>, len: usize) -> Result<DeviceAlloc> {
        gpu.bind()?;
        // SAFETY: a fresh allocation, freed by Drop.
        let ptr = unsafe { result::malloc_sync(len) }.map_err(|e| gpu.error("cannot allocate device memory", e))?;
        let alloc = DeviceAlloc { gpu: gpu.clone(), ptr };
        // SAFETY: `ptr` holds `len` bytes.
        unsafe { result::memset_d8_sync(alloc.ptr, 0, len) }.map_err(|e| gpu.error("cannot clear device memory", e))?;
        Ok(alloc)
    }
}

impl Drop for DeviceAlloc {
    fn drop(&mut self) {
        if self.gpu.bind().is_ok() {
            // SAFETY: allocated by us, freed once.
            let _ = unsafe { result::free_sync(self.ptr) };
        }
    }
}

impl GpuConverter {
    fn new(
        gpu: Arc<Gpu>,
        input: InputPixels,
        format: FrameFormat,
        subsampled: bool,
        interleaved: bool,
    ) -> Result<GpuConverter> {
        let coefficients = YuvCoefficients::new(format.color).as_array();
        let layout = PlaneLayout::new(format.width, format.height, subsampled, interleaved);
        let staging = DeviceAlloc::new(&gpu, layout.len())?;
        let pool = PinnedFramePool::new(gpu.clone(), layout)?;
        Ok(GpuConverter { gpu, input, format, subsampled, coefficients, staging, pool })
    }
}

impl FrameConverter for GpuConverter {
    fn convert(&mut self, frame: SourceFrame<'_>, dst: &mut frame::Video) -> Result<()> {
        let src = device_frame(frame)?;
        let gpu = &self.gpu;
        gpu.bind()?;
        let host = self.pool.fill(dst, &self.format)?;
        let layout = self.pool.layout();
        let base = self.staging.ptr;
        let u_ptr = base + layout.offset(1) as u64;
        let (v_ptr, uv_step) = if layout.planes == 2 { (u_ptr + 1, 2) } else { (base + layout.offset(2) as u64, 1) };
        let size = (self.format.width, self.format.height);
        let source = (gpu.as_ref(), src, self.input);
        launch_conversion(
            source,
            size,
            self.subsampled,
            (base, layout.strides[0]),
            (u_ptr, v_ptr, layout.strides[1], uv_step),
            &self.coefficients,
        )?;
        // SAFETY: `host` starts the frame's pooled buffer, which holds layout.len() bytes; the staging
        // buffer holds the same planes in the same layout.
        let host = unsafe { std::slice::from_raw_parts_mut(host, layout.len()) };
        unsafe { result::memcpy_dtoh_sync(host, base) }.map_err(|e| gpu.error("cannot copy a frame from the GPU", e))
    }
}

#[cfg(test)]
impl CudaFrames {
    /// Seconds per frame of the 4:2:0 kernel alone (into a device buffer, nothing copied down), over
    /// `rounds` launches: the conversion's own speed, for the GPU timings.
    pub(crate) fn time_kernel(&self, rounds: usize) -> Result<f64> {
        let (w, h) = (self.geometry.width, self.geometry.height);
        let layout = PlaneLayout::new(w, h, true, false);
        let staging = DeviceAlloc::new(&self.gpu, layout.len())?;
        let coefficients = YuvCoefficients::new(crate::core::ColorSpec::default()).as_array();
        let (y, u, v) = (staging.ptr, staging.ptr + layout.offset(1) as u64, staging.ptr + layout.offset(2) as u64);
        let input = self.geometry.input_pixels();
        let run = |i: usize| {
            let source = (self.gpu.as_ref(), self.frame_ptr(i % self.geometry.count), input);
            launch_conversion(source, (w, h), true, (y, layout.strides[0]), (u, v, layout.strides[1], 1), &coefficients)
        };
        run(0)?; // warm up (module load, first launch)
        let start = std::time::Instant::now();
        for i in 0..rounds {
            run(i)?;
        }
        Ok(start.elapsed().as_secs_f64() / rounds as f64)
    }
}

/// Launches the 4:2:0 or 4:4:4 kernel for the frame at `src` (of `input` pixels, on `gpu`) into
/// planes at device addresses, and waits.
fn launch_conversion(
    (gpu, src, input): (&Gpu, u64, InputPixels),
    (width, height): (usize, usize),
    subsampled: bool,
    (y_ptr, y_pitch): (u64, usize),
    (u_ptr, v_ptr, uv_pitch, uv_step): (u64, u64, usize, i32),
    coefficients: &[i32; 10],
) -> Result<()> {
    let layout: i32 = match input {
        InputPixels::PlanarRgb => 0,
        InputPixels::PackedRgb => 1,
        InputPixels::PackedRgba => 2,
    };
    let (w, h, y_pitch, uv_pitch) = (width as i32, height as i32, y_pitch as i32, uv_pitch as i32);
    let (cols, rows) = if subsampled { (width.div_ceil(2), height.div_ceil(2)) } else { (width, height) };
    let config = LaunchConfig {
        grid_dim: (cols.div_ceil(32) as u32, rows.div_ceil(8) as u32, 1),
        block_dim: (32, 8, 1),
        shared_mem_bytes: 0,
    };
    let stream = gpu.ctx.default_stream();
    let function = if subsampled { &gpu.yuv420 } else { &gpu.yuv444 };
    let mut launch = stream.launch_builder(function);
    launch.arg(&src).arg(&layout).arg(&w).arg(&h);
    launch.arg(&y_ptr).arg(&y_pitch).arg(&u_ptr).arg(&v_ptr).arg(&uv_pitch).arg(&uv_step);
    for c in coefficients {
        launch.arg(c);
    }
    // SAFETY: the kernel reads one frame at `src` (checked to lie in the allocation when its frames
    // were made) and writes within the planes described, which the callers size for these pitches.
    unsafe { launch.launch(config) }.map_err(|e| gpu.error("the conversion kernel failed to launch", e))?;
    stream.synchronize().map_err(|e| gpu.error("the conversion kernel failed", e))
}

/// Writes NV12 straight into NVENC's GPU input frames: nothing is copied to the host.
struct GpuFramesConverter {
    gpu: Arc<Gpu>,
    input: InputPixels,
    format: FrameFormat,
    coefficients: [i32; 10],
}

impl FrameConverter for GpuFramesConverter {
    fn convert(&mut self, frame: SourceFrame<'_>, dst: &mut frame::Video) -> Result<()> {
        let src = device_frame(frame)?;
        self.format.prepare(dst)?; // a frame from FFmpeg's CUDA pool: data[0] = Y, data[1] = UV (device)
        self.gpu.bind()?;
        // SAFETY: reading the plane pointers and pitches of a CUDA frame FFmpeg allocated (NV12).
        let (y, uv, y_pitch, uv_pitch) = unsafe {
            let f = &*dst.as_ptr();
            (f.data[0] as u64, f.data[1] as u64, f.linesize[0] as usize, f.linesize[1] as usize)
        };
        let size = (self.format.width, self.format.height);
        launch_conversion(
            (self.gpu.as_ref(), src, self.input),
            size,
            true,
            (y, y_pitch),
            (uv, uv + 1, uv_pitch, 2),
            &self.coefficients,
        )
    }
}

/// For output formats the kernels do not write: the RGB frame comes to the host, the CPU converts.
struct HostFallback {
    gpu: Arc<Gpu>,
    input: InputPixels,
    converter: Converter,
    format: FrameFormat,
    rgb: Vec<u8>,
}

impl FrameConverter for HostFallback {
    fn convert(&mut self, frame: SourceFrame<'_>, dst: &mut frame::Video) -> Result<()> {
        let src = device_frame(frame)?;
        self.format.prepare(dst)?;
        self.gpu.bind()?;
        let g = FrameGeometry::of_frame(self.format.width, self.format.height, self.input);
        self.rgb.resize(g.frame_bytes(), 0);
        // SAFETY: the frame lies within its source's checked allocation.
        unsafe { result::memcpy_dtoh_sync(&mut self.rgb[..], src) }
            .map_err(|e| self.gpu.error("cannot copy a frame from the GPU", e))?;
        let picture = RgbPicture::of_frame(&self.rgb, &g);
        self.converter.convert(&picture, dst)
    }
}
