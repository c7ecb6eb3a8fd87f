//! CUDA tests. Without a CUDA driver and device (CI, most machines) each GPU test prints why it is
//! skipped and passes; `cuda_absence_is_an_error_not_a_panic` checks that case. On a GPU machine
//! `scripts/gpu-check.sh` runs them all (with the ignored timing test) and prints a table.

use std::sync::Arc;
use std::time::Instant;

use ffmpeg_next as ff;

use super::cuda::{self, CudaFrames, DeviceBuffer, Gpu};
use super::tests::{decode_planes, encode_to_memory, nchw_frames, nchw_to_nhwc, ConvertSource};
use super::*;

fn gpu_or_skip(test: &str) -> Option<Arc<Gpu>> {
    if !cuda::is_available() {
        println!("SKIPPED {test}: no CUDA driver or device on this machine");
        return None;
    }
    Some(Gpu::get(0).expect("cuda:0 opens"))
}

#[test]
fn cuda_absence_is_an_error_not_a_panic() {
    if cuda::is_available() {
        println!("SKIPPED cuda_absence_is_an_error_not_a_panic: this machine has CUDA");
        return;
    }
    assert_eq!(cuda::device_count(), 0);
    let err = Gpu::get(0).err().expect("no GPU");
    assert_eq!(err.code, ErrorCode::CudaUnavailable, "{}", err.message);
    let err = CudaFrames::new(0x1000, [1, 3, 2, 2], Layout::Nchw, 0, None).err().expect("no GPU");
    assert_eq!(err.code, ErrorCode::CudaUnavailable);
}

/// Host test frames in each layout, with their shape.
fn layouts(n: usize, h: usize, w: usize) -> Vec<(&'static str, Vec<u8>, [i64; 4], Layout)> {
    let nchw = nchw_frames(n, h, w);
    vec![
        ("NCHW", nchw.clone(), [n as i64, 3, h as i64, w as i64], Layout::Nchw),
        ("NHWC", nchw_to_nhwc(&nchw, n, h, w, 3), [n as i64, h as i64, w as i64, 3], Layout::Nhwc),
        ("RGBA", nchw_to_nhwc(&nchw, n, h, w, 4), [n as i64, h as i64, w as i64, 4], Layout::Nhwc),
    ]
}

/// `data` uploaded to `gpu` as frames of `shape` (owning their allocation).
fn on_gpu(gpu: &Arc<Gpu>, data: &[u8], shape: [i64; 4], layout: Layout) -> CudaFrames {
    let buffer = Arc::new(DeviceBuffer::upload(gpu.clone(), data).unwrap());
    CudaFrames::new(buffer.ptr(), shape, layout, 0, Some(buffer)).unwrap()
}

fn plane_bytes(frame: &ff::frame::Video, plane: usize, width: usize, rows: usize) -> Vec<u8> {
    let stride = frame.stride(plane);
    (0..rows).flat_map(|y| frame.data(plane)[y * stride..y * stride + width].to_vec()).collect()
}

#[test]
fn gpu_conversion_matches_the_cpu_conversion() {
    let Some(gpu) = gpu_or_skip("gpu_conversion_matches_the_cpu_conversion") else { return };
    let (n, h, w) = (2, 37, 50); // odd height: the last row repeats
    use ff::ffi::AVPixelFormat::*;
    for (name, data, shape, layout) in layouts(n, h, w) {
        let host = HostFrames::new(Arc::new(data.clone()), shape, layout).unwrap();
        let device = on_gpu(&gpu, &data, shape, layout);
        let mut worst = [0i32; 3]; // Y, U, V over every format and color spec
        for fmt in [AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUV444P, AV_PIX_FMT_NV12] {
            for color in [ColorSpec::default(), ColorSpec { matrix: ColorMatrix::Bt470bg, range: ColorRange::Full }] {
                let format = FrameFormat { pixel_format: fmt, width: w, height: h, color, hw: None };
                let (mut a, mut b) = (ff::frame::Video::empty(), ff::frame::Video::empty());
                device.converter(&format).unwrap().convert(1, &mut a).unwrap();
                // The CPU path writes NV12 with swscale; compare NV12 against our own 4:2:0 kernel.
                let cpu_format = if fmt == AV_PIX_FMT_NV12 {
                    FrameFormat { pixel_format: AV_PIX_FMT_YUV420P, ..format.clone() }
                } else {
                    format.clone()
                };
                host.converter(&cpu_format).unwrap().convert(1, &mut b).unwrap();
                let (cw, ch) = if fmt == AV_PIX_FMT_YUV444P { (w, h) } else { (w.div_ceil(2), h.div_ceil(2)) };
                let gpu_planes = if fmt == AV_PIX_FMT_NV12 {
                    let uv = plane_bytes(&a, 1, 2 * cw, ch);
                    [
                        plane_bytes(&a, 0, w, h),
                        uv.iter().step_by(2).copied().collect(),
                        uv.iter().skip(1).step_by(2).copied().collect(),
                    ]
                } else {
                    [plane_bytes(&a, 0, w, h), plane_bytes(&a, 1, cw, ch), plane_bytes(&a, 2, cw, ch)]
                };
                for (p, gpu_plane) in gpu_planes.iter().enumerate() {
                    let cpu_plane = if p == 0 { plane_bytes(&b, 0, w, h) } else { plane_bytes(&b, p, cw, ch) };
                    assert_eq!(gpu_plane.len(), cpu_plane.len());
                    let max =
                        gpu_plane.iter().zip(&cpu_plane).map(|(x, y)| (*x as i32 - *y as i32).abs()).max().unwrap();
                    assert!(
                        max <= 1,
                        "{name} {} {color:?} plane {p}: max abs diff {max}",
                        ffmpeg::util::pix_fmt_name(fmt)
                    );
                    worst[p] = worst[p].max(max);
                }
            }
        }
        println!(
            "| GPU vs CPU conversion, {name} | max abs diff Y {} U {} V {} (yuv420p, yuv444p, nv12; bt709/tv, bt470bg/pc; {w}x{h}) |",
            worst[0], worst[1], worst[2]
        );
    }
}

/// The memory type the CUDA driver reports for `ptr` (host: 1, device: 2), or None if it does not know it.
fn memory_type(gpu: &Gpu, ptr: *const u8) -> Option<u32> {
    gpu.bind().unwrap();
    let mut kind = 0u32;
    // SAFETY: writes one unsigned int.
    let r = unsafe {
        cudarc::driver::sys::cuPointerGetAttribute(
            (&mut kind as *mut u32).cast(),
            cudarc::driver::sys::CUpointer_attribute::CU_POINTER_ATTRIBUTE_MEMORY_TYPE,
            ptr as u64,
        )
    };
    (r == cudarc::driver::sys::CUresult::CUDA_SUCCESS).then_some(kind)
}

#[test]
fn gpu_converted_frames_are_pinned_and_reused_once_the_encoder_lets_go() {
    let Some(gpu) = gpu_or_skip("gpu_converted_frames_are_pinned_and_reused_once_the_encoder_lets_go") else { return };
    let (n, h, w) = (3, 30, 44);
    let data = nchw_frames(n, h, w);
    let device = on_gpu(&gpu, &data, [n as i64, 3, h as i64, w as i64], Layout::Nchw);
    let format = FrameFormat {
        pixel_format: ff::ffi::AVPixelFormat::AV_PIX_FMT_YUV420P,
        width: w,
        height: h,
        color: ColorSpec::default(),
        hw: None,
    };
    let mut conv = device.converter(&format).unwrap();
    let mut frame = ff::frame::Video::empty();
    conv.convert(0, &mut frame).unwrap();
    let first = frame.data(0).as_ptr();
    assert_eq!(memory_type(&gpu, first), Some(1), "the converted planes are in page-locked host memory");
    conv.convert(1, &mut frame).unwrap();
    assert_eq!(frame.data(0).as_ptr(), first, "a frame nobody else holds is converted in place");
    // The encoder keeps a reference (as for B-frame reordering): the next frame must not overwrite it.
    let mut held = ff::frame::Video::empty();
    // SAFETY: both frames are live; the new reference is released when `held` drops.
    assert!(unsafe { ff::ffi::av_frame_ref(held.as_mut_ptr(), frame.as_ptr()) } >= 0);
    let before = plane_bytes(&held, 0, w, h);
    conv.convert(2, &mut frame).unwrap();
    assert_ne!(frame.data(0).as_ptr(), first, "a held frame gets a fresh buffer");
    assert_eq!(memory_type(&gpu, frame.data(0).as_ptr()), Some(1), "from the pinned pool");
    assert_eq!(plane_bytes(&held, 0, w, h), before, "the held frame is untouched");
    assert_ne!(plane_bytes(&frame, 0, w, h), before, "frame 2 differs from frame 1");
    drop(conv); // the pool goes; the buffer the held frame uses stays valid until it is released
    assert_eq!(plane_bytes(&held, 0, w, h), before);
    println!("| pinned host frames | page-locked, reused in place, a fresh one while the encoder holds one |");
}

/// A test hook of the stand-in driver (scripts/cuda-emulation), or None under a real driver. Panics
/// if the stand-in lacks it.
///
/// # Safety
/// `F` must be the hook's C signature.
unsafe fn fake_driver_hook<F: Copy>(name: &str) -> Option<F> {
    std::env::var_os("FRAMECODEC_FAKE_CUDA")?;
    // SAFETY: the caller gives the symbol's type; the library stays loaded for the process.
    let symbol = unsafe { cudarc::driver::sys::culib().get::<F>(name.as_bytes()) };
    Some(*symbol.unwrap_or_else(|e| panic!("the stand-in driver has no hook {name}: {e}")))
}

/// Under the stand-in driver: marks `ptr`'s allocation as still being written by queued work.
fn fake_driver_write_pending(ptr: u64) -> bool {
    // SAFETY: the hook's signature.
    let Some(hook) = (unsafe { fake_driver_hook::<unsafe extern "C" fn(u64)>("fake_cuda_write_pending") }) else {
        return false;
    };
    // SAFETY: the hook only records the address.
    unsafe { hook(ptr) };
    true
}

/// Under the stand-in driver: live allocations of exactly `size` bytes (pinned host memory if `host`).
fn fake_driver_live_allocations(size: usize, host: bool) -> Option<i32> {
    // SAFETY: the hook's signature; it only reads the driver's table.
    unsafe {
        fake_driver_hook::<unsafe extern "C" fn(usize, i32) -> i32>("fake_cuda_live_allocations")
            .map(|hook| hook(size, host as i32))
    }
}

#[test]
fn encodes_free_their_gpu_and_pinned_memory() {
    let Some(gpu) = gpu_or_skip("encodes_free_their_gpu_and_pinned_memory") else { return };
    let (n, h, w) = (6, 26, 34); // a size no other test uses: its buffers are this test's
    let device = on_gpu(&gpu, &nchw_frames(n, h, w), [n as i64, 3, h as i64, w as i64], Layout::Nchw);
    let layout = super::cuda::PlaneLayout::new(w, h, true, false);
    let live =
        || (fake_driver_live_allocations(layout.len(), false), fake_driver_live_allocations(layout.len() + 64, true));
    if live().0.is_none() {
        println!("SKIPPED encodes_free_their_gpu_and_pinned_memory: needs the stand-in driver to count allocations");
        return;
    }
    let format = FrameFormat {
        pixel_format: ff::ffi::AVPixelFormat::AV_PIX_FMT_YUV420P,
        width: w,
        height: h,
        color: ColorSpec::default(),
        hw: None,
    };
    {
        let mut conv = device.converter(&format).unwrap();
        let mut frame = ff::frame::Video::empty();
        conv.convert(0, &mut frame).unwrap();
        assert_eq!(live(), (Some(1), Some(1)), "while converting: one staging buffer, one pinned frame");
    }
    assert_eq!(live(), (Some(0), Some(0)), "a dropped converter and frame leave nothing");
    for _ in 0..3 {
        encode_to_memory(Arc::new(device.clone()), 30.0, "mp4", &EncodeSettings::default()).unwrap();
        assert_eq!(live(), (Some(0), Some(0)), "a finished encode leaves no device or pinned memory behind");
    }
}

#[test]
fn an_encode_waits_for_work_still_writing_the_frames() {
    let Some(gpu) = gpu_or_skip("an_encode_waits_for_work_still_writing_the_frames") else { return };
    let (n, h, w) = (2, 16, 16);
    let device = on_gpu(&gpu, &nchw_frames(n, h, w), [n as i64, 3, h as i64, w as i64], Layout::Nchw);
    if !fake_driver_write_pending(device.frame_ptr(0)) {
        println!("SKIPPED an_encode_waits_for_work_still_writing_the_frames: needs the stand-in driver to model pending writes");
        return;
    }
    let format = FrameFormat {
        pixel_format: ff::ffi::AVPixelFormat::AV_PIX_FMT_YUV420P,
        width: w,
        height: h,
        color: ColorSpec::default(),
        hw: None,
    };
    let mut frame = ff::frame::Video::empty();
    device
        .converter(&format)
        .unwrap()
        .convert(0, &mut frame)
        .expect("the frames are read only after the queued work is done");
}

#[test]
fn nvenc_input_frames_get_the_same_nv12_as_host_frames() {
    let Some(gpu) = gpu_or_skip("nvenc_input_frames_get_the_same_nv12_as_host_frames") else { return };
    let (n, h, w) = (2, 37, 50);
    for (name, data, shape, layout) in layouts(n, h, w) {
        let device = on_gpu(&gpu, &data, shape, layout);
        let hw =
            CudaHwFrames::new(device.cuda_context().unwrap(), w, h).expect("FFmpeg's CUDA frames pool on our context");
        let nv12 = ff::ffi::AVPixelFormat::AV_PIX_FMT_NV12;
        let on_gpu = FrameFormat {
            pixel_format: ff::ffi::AVPixelFormat::AV_PIX_FMT_CUDA,
            width: w,
            height: h,
            color: ColorSpec::default(),
            hw: Some(Arc::new(hw)),
        };
        let on_host = FrameFormat { pixel_format: nv12, width: w, height: h, color: ColorSpec::default(), hw: None };
        let (mut a, mut b) = (ff::frame::Video::empty(), ff::frame::Video::empty());
        device.converter(&on_gpu).unwrap().convert(1, &mut a).unwrap();
        device.converter(&on_host).unwrap().convert(1, &mut b).unwrap();
        // Download the pool frame's planes row by row (pitch may differ from the host frame's).
        gpu.bind().unwrap();
        // SAFETY: a CUDA frame: data[0] (Y) and data[1] (UV) are device pointers with these pitches.
        let (y, uv, y_pitch, uv_pitch) = unsafe {
            let f = &*a.as_ptr();
            (f.data[0] as u64, f.data[1] as u64, f.linesize[0] as u64, f.linesize[1] as u64)
        };
        assert_eq!(memory_type(&gpu, y as *const u8), Some(2), "{name}: the encoder's frame is in device memory");
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let down = |base: u64, pitch: u64, width: usize, rows: usize| -> Vec<u8> {
            let mut out = vec![0u8; width * rows];
            for (r, row) in out.chunks_mut(width).enumerate() {
                // SAFETY: one row of a plane of the pool frame.
                unsafe { cudarc::driver::result::memcpy_dtoh_sync(row, base + r as u64 * pitch) }.unwrap();
            }
            out
        };
        assert_eq!(down(y, y_pitch, w, h), plane_bytes(&b, 0, w, h), "{name}: Y");
        assert_eq!(down(uv, uv_pitch, 2 * cw, ch), plane_bytes(&b, 1, 2 * cw, ch), "{name}: UV");
        println!("| NVENC input frames, {name} | NV12 written into FFmpeg's CUDA frames = the host NV12 conversion |");
    }
}

/// PSNR (dB) of decoded luma planes against the exact BT.709 limited-range luma of NCHW `source`.
fn luma_psnr(source: &[u8], decoded: &[[Vec<u8>; 3]], h: usize, w: usize) -> f64 {
    let spec = ColorSpec::default();
    let plane = h * w;
    let mut squared = 0.0;
    for (i, frame) in decoded.iter().enumerate() {
        let rgb = &source[i * 3 * plane..(i + 1) * 3 * plane];
        for (p, &y) in frame[0].iter().enumerate() {
            let (reference, _, _) = spec.reference_yuv(rgb[p], rgb[plane + p], rgb[2 * plane + p]);
            squared += (y as f64 - reference).powi(2);
        }
    }
    let mse = squared / (decoded.len() * plane) as f64;
    10.0 * (255.0f64.powi(2) / mse.max(1e-12)).log10()
}

#[test]
fn cuda_input_encodes_like_host_input() {
    let Some(gpu) = gpu_or_skip("cuda_input_encodes_like_host_input") else { return };
    let (n, h, w) = (8, 48, 64);
    let encode_planes = |src: Arc<dyn FrameSource>, settings: &EncodeSettings| {
        decode_planes(&encode_to_memory(src, 30.0, "mkv", settings).unwrap().1, "mkv")
    };
    let lossless = EncodeSettings {
        codec: Some("libx264".into()),
        extra: vec![("qp".into(), OptionValue::Num(0.0)), ("threads".into(), OptionValue::Num(1.0))],
        ..Default::default()
    };
    let source = nchw_frames(n, h, w);
    for (name, data, shape, layout) in layouts(n, h, w) {
        let host = HostFrames::new(Arc::new(data.clone()), shape, layout).unwrap();
        let device = on_gpu(&gpu, &data, shape, layout);
        let (a, b) =
            (encode_planes(Arc::new(device.clone()), &lossless), encode_planes(Arc::new(host.clone()), &lossless));
        assert_eq!(a.len(), n);
        assert!(a == b, "{name}: CUDA-input and host-input encodes decode differently");
        let psnr = luma_psnr(&source, &a, h, w);
        assert!(psnr > 45.0, "{name}: lossless luma PSNR {psnr:.1} dB");
        println!("| round trip, {name}, libx264 lossless | luma PSNR {psnr:.1} dB vs the source; decodes identical to host input |");
    }
    let device = on_gpu(&gpu, &source, [n as i64, 3, h as i64, w as i64], Layout::Nchw);
    let psnr = luma_psnr(&source, &encode_planes(Arc::new(device.clone()), &EncodeSettings::default()), h, w);
    assert!(psnr > 30.0, "default settings: luma PSNR {psnr:.1} dB");
    println!("| round trip, NCHW, libx264 crf 23 | luma PSNR {psnr:.1} dB vs the source |");
}

#[test]
fn formats_the_kernels_do_not_write_are_converted_on_the_host() {
    let Some(gpu) = gpu_or_skip("formats_the_kernels_do_not_write_are_converted_on_the_host") else { return };
    let (n, h, w) = (4, 32, 48);
    let data = nchw_frames(n, h, w);
    let shape = [n as i64, 3, h as i64, w as i64];
    let host = HostFrames::new(Arc::new(data.clone()), shape, Layout::Nchw).unwrap();
    let device = on_gpu(&gpu, &data, shape, Layout::Nchw);
    for (codec, format) in [("gif", "gif"), ("libx264rgb", "mkv")] {
        let settings = EncodeSettings { codec: Some(codec.into()), ..Default::default() };
        let run = |src: Arc<dyn FrameSource>| {
            let (summary, bytes) = encode_to_memory(src, 10.0, format, &settings).unwrap();
            (summary.pixel_format, decode_planes(&bytes, format))
        };
        let ((pix, a), (_, b)) = (run(Arc::new(device.clone())), run(Arc::new(host.clone())));
        assert_eq!(a.len(), n, "{codec}");
        assert!(a == b, "{codec} ({pix}): CUDA input decodes differently from host input");
        println!("| host fallback, {codec} ({pix}) | CUDA input decodes identical to host input |");
    }
}

#[test]
fn bad_pointers_sizes_and_devices_are_errors() {
    let Some(gpu) = gpu_or_skip("bad_pointers_sizes_and_devices_are_errors") else { return };
    let buffer = Arc::new(DeviceBuffer::upload(gpu.clone(), &vec![0u8; 3 * 16 * 16]).unwrap());
    let too_big = CudaFrames::new(buffer.ptr(), [2, 3, 16, 16], Layout::Nchw, 0, None).err().unwrap();
    assert_eq!(too_big.code, ErrorCode::InvalidArgValue);
    assert!(too_big.message.contains("1536") && too_big.message.contains("768"), "{}", too_big.message);
    let bogus = CudaFrames::new(0x10, [1, 3, 16, 16], Layout::Nchw, 0, None).err().unwrap();
    assert_eq!(bogus.code, ErrorCode::InvalidArgValue, "{}", bogus.message);
    let device = CudaFrames::new(buffer.ptr(), [1, 3, 16, 16], Layout::Nchw, 999, None).err().unwrap();
    assert_eq!(device.code, ErrorCode::InvalidArgValue, "{}", device.message);
    let s = EncodeSettings { pixel_format: Some("yuv444p".into()), ..Default::default() };
    let frames = CudaFrames::new(buffer.ptr(), [1, 3, 16, 16], Layout::Nchw, 0, Some(buffer)).unwrap();
    let err = encode_to_memory(Arc::new(frames.clone()), 30.0, "mp4", &s).err().unwrap();
    assert_eq!(err.code, ErrorCode::InvalidArgValue);
    assert!(err.message.contains("pixelFormat"), "{}", err.message);
    println!("| errors | bad pointer, short allocation, device 999, pixelFormat on CUDA frames: refused with codes |");
}

#[test]
fn nvenc_is_used_where_it_runs_and_reported_where_it_does_not() {
    let Some(gpu) = gpu_or_skip("nvenc_is_used_where_it_runs_and_reported_where_it_does_not") else { return };
    let (n, h, w) = (8, 64, 64);
    let data = nchw_frames(n, h, w);
    let frames = on_gpu(&gpu, &data, [n as i64, 3, h as i64, w as i64], Layout::Nchw);
    let run = |codec: Option<&str>| {
        let s = EncodeSettings { codec: codec.map(String::from), ..Default::default() };
        encode_to_memory(Arc::new(frames.clone()), 30.0, "mp4", &s).map(|(summary, _)| summary)
    };
    let default = run(None).expect("the default codec always encodes");
    match run(Some("h264_nvenc")) {
        Ok(s) => {
            assert_eq!(default.codec, "h264_nvenc");
            assert_eq!(s.pixel_format, "nv12", "NVENC got GPU frames (cuda, NV12 underneath), not host frames");
            println!(
                "| NVENC on {} | present: h264_nvenc encoded {} GPU frames; default codec for CUDA frames: {} |",
                gpu.name, s.frames, default.codec
            );
        }
        Err(e) => {
            assert_eq!(e.code, ErrorCode::EncoderUnavailable, "{}", e.message);
            assert!(e.message.contains(&gpu.name), "names the GPU: {}", e.message);
            assert_eq!(default.codec, "libx264", "falls back to the CPU encoder");
            println!(
                "| NVENC on {} | absent, ERR_ENCODER_UNAVAILABLE ({}); default codec for CUDA frames: {} |",
                gpu.name, e.message, default.codec
            );
        }
    }
}

/// Timings on 1080p frames (run by scripts/gpu-check.sh: `--ignored`).
#[test]
#[ignore]
fn gpu_timings() {
    let Some(gpu) = gpu_or_skip("gpu_timings") else { return };
    let (n, h, w) = (120, 1080, 1920);
    let data = nchw_frames(n, h, w);
    let host = HostFrames::new(Arc::new(data.clone()), [n as i64, 3, h as i64, w as i64], Layout::Nchw).unwrap();
    let device = on_gpu(&gpu, &data, [n as i64, 3, h as i64, w as i64], Layout::Nchw);

    // Kernel + copy-down throughput, then the kernel alone.
    let format = FrameFormat {
        pixel_format: ff::ffi::AVPixelFormat::AV_PIX_FMT_YUV420P,
        width: w,
        height: h,
        color: ColorSpec::default(),
        hw: None,
    };
    let mut conv = device.converter(&format).unwrap();
    let mut frame = ff::frame::Video::empty();
    conv.convert(0, &mut frame).unwrap();
    let start = Instant::now();
    for i in 0..n {
        conv.convert(i, &mut frame).unwrap();
    }
    let per = start.elapsed().as_secs_f64() / n as f64;
    let bytes = (w * h * 3 + w * h * 3 / 2) as f64; // RGB read + YUV written
    println!(
        "| GPU convert + copy to pinned host, 1080p | {:.3} ms/frame, {:.0} frames/s, {:.1} GB/s effective |",
        per * 1e3,
        1.0 / per,
        bytes / per / 1e9
    );
    let kernel = device.time_kernel(10 * n).unwrap();
    println!(
        "| GPU conversion kernel alone, 1080p | {:.3} ms/frame, {:.0} frames/s, {:.1} GB/s effective |",
        kernel * 1e3,
        1.0 / kernel,
        bytes / kernel / 1e9
    );

    let mut cpu_conv = host.converter(&format).unwrap();
    let start = Instant::now();
    for i in 0..n {
        cpu_conv.convert(i, &mut frame).unwrap();
    }
    let per_cpu = start.elapsed().as_secs_f64() / n as f64;
    println!("| CPU convert (native kernel), 1080p | {:.3} ms/frame, {:.0} frames/s |", per_cpu * 1e3, 1.0 / per_cpu);

    for preset in ["ultrafast", "medium"] {
        let s = EncodeSettings {
            codec: Some("libx264".into()),
            preset: Some(OptionValue::Str(preset.into())),
            ..Default::default()
        };
        let time = |src: Arc<dyn FrameSource>| {
            let start = Instant::now();
            encode_to_memory(src, 30.0, "mp4", &s).unwrap();
            n as f64 / start.elapsed().as_secs_f64()
        };
        let (gpu_fps, cpu_fps) = (time(Arc::new(device.clone())), time(Arc::new(host.clone())));
        println!("| libx264 {preset}, 1080p x{n} | CUDA input {gpu_fps:.0} frames/s, host input {cpu_fps:.0} frames/s (ratio {:.2}) |", gpu_fps / cpu_fps);
    }
}
