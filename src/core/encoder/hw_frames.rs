//! CUDA hardware frames for NVENC: frames that stay on the GPU from conversion to encoder.
//!
//! Why FFmpeg's hw frames: NVENC reads its input from device memory it has registered; FFmpeg's nvenc
//! wrapper does that for frames of pixel format `cuda` from a frames context (here NV12 underneath)
//! on a CUDA device context. We build that device context on *our* CUDA context (the one the frames
//! and kernels live in), so the conversion kernel writes straight into the encoder's input frames and
//! nothing crosses PCIe. FFmpeg does not destroy a context it was given.

use std::ffi::c_void;

use ffmpeg_next::{ffi, frame};

use crate::core::error::{EncodeError, ErrorCode, Result};
use crate::core::ffmpeg::util::av_error_text;

/// A CUDA device context and an NV12 frames pool on it. Owns both references.
pub struct CudaHwFrames {
    device: *mut ffi::AVBufferRef,
    frames: *mut ffi::AVBufferRef,
}

// SAFETY: AVBufferRefs are reference-counted thread-safely; the contexts behind them are immutable
// once initialised, and pool allocation is thread-safe.
unsafe impl Send for CudaHwFrames {}
unsafe impl Sync for CudaHwFrames {}

/// A raw CUDA context handed to FFmpeg.
#[derive(Debug, Clone, Copy)]
pub struct CudaContextHandle(pub *mut c_void);

// SAFETY: a CUcontext is a process-wide handle usable from any thread that makes it current.
unsafe impl Send for CudaContextHandle {}
unsafe impl Sync for CudaContextHandle {}

fn failed(what: &str, ret: i32) -> EncodeError {
    EncodeError::new(ErrorCode::Encode, format!("{what}: {}", av_error_text(ret)))
}

impl CudaHwFrames {
    /// NV12 frames of this size on `cuda_ctx` (which must outlive the frames).
    pub fn new(cuda_ctx: CudaContextHandle, width: usize, height: usize) -> Result<CudaHwFrames> {
        // SAFETY: each pointer is checked; on every error path the references made so far are
        // released by Drop (`frames` / `device` start null).
        unsafe {
            let mut hw = CudaHwFrames {
                device: ffi::av_hwdevice_ctx_alloc(ffi::AVHWDeviceType::AV_HWDEVICE_TYPE_CUDA),
                frames: std::ptr::null_mut(),
            };
            if hw.device.is_null() {
                return Err(EncodeError::new(ErrorCode::Encode, "this FFmpeg has no CUDA device support"));
            }
            let device_ctx = (*hw.device).data as *mut ffi::AVHWDeviceContext;
            let cuda = (*device_ctx).hwctx as *mut ffi::AVCUDADeviceContext;
            (*cuda).cuda_ctx = cuda_ctx.0 as _;
            let ret = ffi::av_hwdevice_ctx_init(hw.device);
            if ret < 0 {
                return Err(failed("cannot set up FFmpeg's CUDA device", ret));
            }
            hw.frames = ffi::av_hwframe_ctx_alloc(hw.device);
            if hw.frames.is_null() {
                return Err(EncodeError::new(ErrorCode::Encode, "cannot allocate CUDA frames"));
            }
            let frames_ctx = (*hw.frames).data as *mut ffi::AVHWFramesContext;
            (*frames_ctx).format = ffi::AVPixelFormat::AV_PIX_FMT_CUDA;
            (*frames_ctx).sw_format = ffi::AVPixelFormat::AV_PIX_FMT_NV12;
            (*frames_ctx).width = width as i32;
            (*frames_ctx).height = height as i32;
            let ret = ffi::av_hwframe_ctx_init(hw.frames);
            if ret < 0 {
                return Err(failed("cannot set up CUDA frames", ret));
            }
            Ok(hw)
        }
    }

    /// A new reference to the frames context (for `AVCodecContext.hw_frames_ctx`), or null.
    pub fn new_frames_ref(&self) -> *mut ffi::AVBufferRef {
        // SAFETY: `frames` is a live reference.
        unsafe { ffi::av_buffer_ref(self.frames) }
    }

    /// Gives `frame` a fresh buffer from the pool (the encoder may still hold the previous one).
    pub fn fill_from_pool(&self, frame: &mut frame::Video) -> Result<()> {
        // SAFETY: the frame is ours; the pool hands out a buffer the encoder does not hold.
        let ret = unsafe {
            ffi::av_frame_unref(frame.as_mut_ptr());
            ffi::av_hwframe_get_buffer(self.frames, frame.as_mut_ptr(), 0)
        };
        if ret < 0 {
            return Err(failed("cannot get a CUDA frame", ret));
        }
        Ok(())
    }
}

impl Drop for CudaHwFrames {
    fn drop(&mut self) {
        // SAFETY: we own one reference to each; av_buffer_unref accepts null.
        unsafe {
            ffi::av_buffer_unref(&mut self.frames);
            ffi::av_buffer_unref(&mut self.device);
        }
    }
}
