//! Host frames in page-locked ("pinned") memory, for the YUV planes converted on the GPU.
//!
//! Why: a device-to-host copy into ordinary (pageable) memory goes through a driver bounce buffer
//! (about 14 GB/s on an H200); into pinned memory it is a direct DMA (about 55 GB/s). The frames still
//! reach the encoder as ordinary AVFrames: their buffers come from an `AVBufferPool` whose allocations
//! are pinned, so an encoder that keeps a reference to a frame (to reorder B-frames) keeps its memory
//! alive, and a buffer goes back to the pool when its last reference goes. The planes of a frame lie in
//! one buffer, in the same layout as the device staging buffer, so one copy brings a whole frame down.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use cudarc::driver::{result, sys};
use ffmpeg_next::{ffi, frame};

use super::gpu::Gpu;
use crate::core::convert::FrameFormat;
use crate::core::error::{EncodeError, ErrorCode, Result};

/// Where the planes of an 8-bit YUV frame lie in one buffer: row pitches (multiples of 64 bytes, as
/// FFmpeg's own frames) and rows per plane; plane `p` starts after the planes before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaneLayout {
    pub strides: [usize; 3],
    pub rows: [usize; 3],
    pub planes: usize,
}

/// Spare bytes after the last plane: SIMD code in encoders may read a little past a row's end.
const PADDING: usize = 64;

impl PlaneLayout {
    /// 4:2:0 (`subsampled`) or 4:4:4, with U and V planar, or interleaved in one plane (NV12).
    pub fn new(width: usize, height: usize, subsampled: bool, interleaved: bool) -> PlaneLayout {
        let pitch = |bytes: usize| bytes.div_ceil(64) * 64;
        let (cw, ch) = if subsampled { (width.div_ceil(2), height.div_ceil(2)) } else { (width, height) };
        if interleaved {
            PlaneLayout { strides: [pitch(width), pitch(2 * cw), 0], rows: [height, ch, 0], planes: 2 }
        } else {
            PlaneLayout { strides: [pitch(width), pitch(cw), pitch(cw)], rows: [height, ch, ch], planes: 3 }
        }
    }

    pub fn plane_size(&self, plane: usize) -> usize {
        self.strides[plane] * self.rows[plane]
    }

    pub fn offset(&self, plane: usize) -> usize {
        (0..plane).map(|p| self.plane_size(p)).sum()
    }

    /// Bytes of all planes (without the padding).
    pub fn len(&self) -> usize {
        self.offset(self.planes)
    }
}

/// A pool of pinned host frame buffers of one layout, on one GPU.
pub struct PinnedFramePool {
    pool: *mut ffi::AVBufferPool,
    layout: PlaneLayout,
}

// SAFETY: AVBufferPool is thread-safe; the layout is plain data.
unsafe impl Send for PinnedFramePool {}

impl PinnedFramePool {
    pub fn new(gpu: Arc<Gpu>, layout: PlaneLayout) -> Result<PinnedFramePool> {
        let opaque = Arc::into_raw(gpu) as *mut c_void;
        // SAFETY: `opaque` is an Arc<Gpu> that the pool owns from here: `release_gpu` drops it once the
        // pool and every buffer from it are gone.
        let pool =
            unsafe { ffi::av_buffer_pool_init2(layout.len() + PADDING, opaque, Some(alloc_pinned), Some(release_gpu)) };
        if pool.is_null() {
            // SAFETY: the pool did not take `opaque`.
            drop(unsafe { Arc::from_raw(opaque as *const Gpu) });
            return Err(EncodeError::new(ErrorCode::Encode, "cannot create a pool of host frames"));
        }
        Ok(PinnedFramePool { pool, layout })
    }

    pub fn layout(&self) -> PlaneLayout {
        self.layout
    }

    /// Makes `frame` a writable frame of `format` in pinned memory: kept if it is one of ours that
    /// the encoder no longer holds, else a fresh buffer from the pool. Returns the start of its planes.
    pub fn fill(&self, frame: &mut frame::Video, format: &FrameFormat) -> Result<*mut u8> {
        // SAFETY: the frame is ours; the fields set describe the pooled buffer, which holds
        // `layout.len()` bytes, and the frame holds a reference to it.
        unsafe {
            let f = frame.as_mut_ptr();
            let reusable = !(*f).buf[0].is_null()
                && (*f).buf[1].is_null()
                && ffi::av_frame_is_writable(f) != 0
                && (*(*f).buf[0]).size >= self.layout.len();
            if !reusable {
                ffi::av_frame_unref(f);
                let buf = ffi::av_buffer_pool_get(self.pool);
                if buf.is_null() {
                    return Err(EncodeError::new(
                        ErrorCode::Encode,
                        format!("cannot allocate {} bytes of pinned host memory", self.layout.len()),
                    ));
                }
                (*f).buf[0] = buf;
                (*f).format = format.pixel_format as i32;
                (*f).width = format.width as i32;
                (*f).height = format.height as i32;
                for p in 0..self.layout.planes {
                    (*f).data[p] = (*buf).data.add(self.layout.offset(p));
                    (*f).linesize[p] = self.layout.strides[p] as i32;
                }
                format.tag_color(frame);
            }
            Ok((*(*frame.as_ptr()).buf[0]).data)
        }
    }
}

impl Drop for PinnedFramePool {
    fn drop(&mut self) {
        // SAFETY: we own the pool; buffers still held by an encoder keep it alive until they return.
        unsafe { ffi::av_buffer_pool_uninit(&mut self.pool) };
    }
}

/// Runs `f` with `gpu`'s context current on this thread, restoring what was current before. The pool
/// calls back on whatever thread takes or frees a buffer (ours, or FFmpeg's).
fn with_context<T>(gpu: &Gpu, f: impl FnOnce() -> Option<T>) -> Option<T> {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: pushing a live context (the GPU's primary context, retained for the process) and
        // popping it again.
        unsafe {
            if sys::cuCtxPushCurrent_v2(gpu.ctx.cu_ctx()) != sys::CUresult::CUDA_SUCCESS {
                return None;
            }
            let out = f();
            let mut popped = std::ptr::null_mut();
            let _ = sys::cuCtxPopCurrent_v2(&mut popped);
            out
        }
    }))
    .ok()
    .flatten()
}

unsafe extern "C" fn alloc_pinned(opaque: *mut c_void, size: usize) -> *mut ffi::AVBufferRef {
    // SAFETY: the pool's opaque is the Arc<Gpu> it owns.
    let gpu = unsafe { &*(opaque as *const Gpu) };
    // SAFETY: a new pinned allocation of `size` bytes, zeroed, handed to a new AVBufferRef that frees it.
    with_context(gpu, || unsafe {
        let data = result::malloc_host(size, 0).ok()?;
        // Row padding and the tail are never written (the copy from the GPU brings the staging
        // buffer's planes, whose padding is zero too): see [Defined frame bytes] in `convert/frame_format.rs`.
        std::ptr::write_bytes(data as *mut u8, 0, size);
        let buf = ffi::av_buffer_create(data as *mut u8, size, Some(free_pinned), opaque, 0);
        if buf.is_null() {
            let _ = result::free_host(data);
            return None;
        }
        Some(buf)
    })
    .unwrap_or(std::ptr::null_mut())
}

unsafe extern "C" fn free_pinned(opaque: *mut c_void, data: *mut u8) {
    // SAFETY: as in alloc_pinned; `data` came from cuMemHostAlloc and is freed once, here.
    let gpu = unsafe { &*(opaque as *const Gpu) };
    with_context(gpu, || unsafe { result::free_host(data as *mut c_void).ok() });
}

unsafe extern "C" fn release_gpu(opaque: *mut c_void) {
    // SAFETY: the Arc<Gpu> given to av_buffer_pool_init2, released once when the pool is freed.
    drop(unsafe { Arc::from_raw(opaque as *const Gpu) });
}
