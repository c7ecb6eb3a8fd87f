//! libx264 without its AVX-512 code, so that the same frames give the same bytes.
//!
//! Note: [Deterministic x264]. On CPUs with AVX-512, libx264 (0.164, Debian 12's and trixie's) reads
//! memory it allocated and never initialised in its MB-tree lookahead (frame widths that are not a
//! multiple of 128 pixels; `rc-lookahead=0` or `mbtree=0` hides it, so does `asm=AVX2`): the output then
//! follows leftover heap contents and changes from run to run (with `GLIBC_TUNABLES=glibc.malloc.perturb=N`,
//! with every N). The ffmpeg CLI does the same. So unless the caller picks x264's CPU flags itself
//! (`asm` in `x264-params` or `x264opts`), we hand libx264 the flags it would detect minus AVX-512
//! (CPU time within 5%, 720p on an AMD EPYC). Our own frames are fully defined too: see [Defined frame
//! bytes] in `convert/frame_format.rs`.

use ffmpeg_next::ffi;

use super::file_options::{library_key, x264opts_pairs};
use crate::core::error::{EncodeError, Result};
use crate::core::ffmpeg::util::cstring;

/// x264's CPU flags (`X264_CPU_*` in x264.h, stable across x264 builds).
mod flag {
    pub const MMX: u32 = 1 << 0;
    pub const MMX2: u32 = 1 << 1;
    pub const SSE: u32 = 1 << 2;
    pub const SSE2: u32 = 1 << 3;
    pub const LZCNT: u32 = 1 << 4;
    pub const SSE3: u32 = 1 << 5;
    pub const SSSE3: u32 = 1 << 6;
    pub const SSE4: u32 = 1 << 7;
    pub const SSE42: u32 = 1 << 8;
    pub const AVX: u32 = 1 << 9;
    pub const XOP: u32 = 1 << 10;
    pub const FMA4: u32 = 1 << 11;
    pub const FMA3: u32 = 1 << 12;
    pub const BMI1: u32 = 1 << 13;
    pub const BMI2: u32 = 1 << 14;
    pub const AVX2: u32 = 1 << 15;
    pub const SSE2_IS_SLOW: u32 = 1 << 19;
    pub const SSE2_IS_FAST: u32 = 1 << 20;
    pub const SLOW_ATOM: u32 = 1 << 23;
    pub const SLOW_PSHUFB: u32 = 1 << 24;
}

/// The x264 CPU flags for this CPU without AVX-512, from libavutil's detection (which checks OS
/// support as x264 does); `None` off x86-64 (no AVX-512 there).
pub fn cpu_flags_without_avx512() -> Option<u32> {
    if !cfg!(target_arch = "x86_64") {
        return None;
    }
    // SAFETY: a plain query.
    let av = unsafe { ffi::av_get_cpu_flags() };
    let has = |f: i32| av & f != 0;
    let map = [
        (ffi::AV_CPU_FLAG_MMX, flag::MMX),
        (ffi::AV_CPU_FLAG_MMXEXT, flag::MMX2),
        (ffi::AV_CPU_FLAG_SSE, flag::SSE),
        (ffi::AV_CPU_FLAG_SSE2, flag::SSE2),
        (ffi::AV_CPU_FLAG_SSE3, flag::SSE3),
        (ffi::AV_CPU_FLAG_SSSE3, flag::SSSE3),
        (ffi::AV_CPU_FLAG_SSE4, flag::SSE4),
        (ffi::AV_CPU_FLAG_SSE42, flag::SSE42),
        (ffi::AV_CPU_FLAG_AVX, flag::AVX),
        (ffi::AV_CPU_FLAG_XOP, flag::XOP),
        (ffi::AV_CPU_FLAG_FMA4, flag::FMA4),
        (ffi::AV_CPU_FLAG_FMA3, flag::FMA3),
        (ffi::AV_CPU_FLAG_BMI1, flag::BMI1),
        (ffi::AV_CPU_FLAG_BMI2, flag::BMI2),
        (ffi::AV_CPU_FLAG_AVX2, flag::AVX2),
        (ffi::AV_CPU_FLAG_SSE2SLOW, flag::SSE2_IS_SLOW),
        (ffi::AV_CPU_FLAG_ATOM, flag::SLOW_ATOM | flag::SLOW_PSHUFB),
    ];
    let mut flags = map.iter().filter(|(av, _)| has(*av)).fold(0, |acc, (_, x)| acc | x);
    if lzcnt() {
        flags |= flag::LZCNT;
    }
    // As x264's own detection: SSSE3 CPUs are fast at SSE2 unless known to be slow at it.
    if flags & flag::SSSE3 != 0 && flags & flag::SSE2_IS_SLOW == 0 {
        flags |= flag::SSE2_IS_FAST;
    }
    Some(flags)
}

#[cfg(target_arch = "x86_64")]
fn lzcnt() -> bool {
    std::arch::is_x86_feature_detected!("lzcnt")
}

#[cfg(not(target_arch = "x86_64"))]
fn lzcnt() -> bool {
    false
}

/// For libx264 / libx264rgb: sets x264's `asm` (CPU flags) to [`cpu_flags_without_avx512`] unless the
/// caller's `x264-params` or `x264opts` already name it. See [Deterministic x264].
///
/// # Safety
/// `ctx` is a live, unopened codec context of `encoder_name`, its private options allocated.
pub unsafe fn keep_deterministic(ctx: *mut ffi::AVCodecContext, encoder_name: &str) -> Result<()> {
    if !matches!(encoder_name, "libx264" | "libx264rgb") {
        return Ok(());
    }
    let Some(flags) = cpu_flags_without_avx512() else { return Ok(()) };
    let search = ffi::AV_OPT_SEARCH_CHILDREN as i32;
    let (params_name, opts_name, asm) = (cstring("x264-params"), cstring("x264opts"), cstring("asm"));
    // SAFETY: option reads and writes on a live context; the dictionary and string we get are ours
    // and freed here.
    unsafe {
        let mut opts: *mut u8 = std::ptr::null_mut();
        if ffi::av_opt_get(ctx.cast(), opts_name.as_ptr(), search, &mut opts) >= 0 && !opts.is_null() {
            let text = std::ffi::CStr::from_ptr(opts.cast()).to_string_lossy().into_owned();
            ffi::av_free(opts.cast());
            if names_asm(x264opts_pairs(&text).iter().map(|(key, _)| key.as_str())) {
                return Ok(());
            }
        }
        let mut params: *mut ffi::AVDictionary = std::ptr::null_mut();
        if ffi::av_opt_get_dict_val(ctx.cast(), params_name.as_ptr(), search, &mut params) < 0 {
            return Ok(()); // not this libx264's options: leave it as it is
        }
        let mut keys = Vec::new();
        let mut entry: *const ffi::AVDictionaryEntry = std::ptr::null();
        let any = cstring("");
        loop {
            entry = ffi::av_dict_get(params, any.as_ptr(), entry, ffi::AV_DICT_IGNORE_SUFFIX as i32);
            if entry.is_null() {
                break;
            }
            keys.push(std::ffi::CStr::from_ptr((*entry).key).to_string_lossy().into_owned());
        }
        let mut ret = 0;
        if !names_asm(keys.iter().map(String::as_str)) {
            let value = cstring(&flags.to_string());
            ret = ffi::av_dict_set(&mut params, asm.as_ptr(), value.as_ptr(), 0);
            if ret >= 0 {
                ret = ffi::av_opt_set_dict_val(ctx.cast(), params_name.as_ptr(), params, search);
            }
        }
        ffi::av_dict_free(&mut params);
        if ret < 0 {
            return Err(EncodeError::new(crate::core::error::ErrorCode::Encode, "cannot set libx264's CPU flags"));
        }
    }
    Ok(())
}

/// Whether one of these x264 option names is `asm`, as x264 reads names (`no-asm`, `noasm`, `ASM` too).
fn names_asm<'a>(mut keys: impl Iterator<Item = &'a str>) -> bool {
    keys.any(|key| library_key(key) == "asm")
}

#[cfg(test)]
mod tests {
    use super::*;

    // x264's own CPU detection, in the libx264 linked in with libavcodec (static: the symbol is there).
    extern "C" {
        fn x264_cpu_detect() -> u32;
    }

    #[test]
    fn flags_are_what_x264_detects_without_avx512() {
        // SAFETY: x264_cpu_detect takes no arguments and only reads CPUID.
        let detected = unsafe { x264_cpu_detect() };
        const AVX512: u32 = 1 << 16;
        const CACHELINE: u32 = (1 << 17) | (1 << 18);
        // The cache-line hints only tune a few loads on old CPUs; everything else must match.
        assert_eq!(
            cpu_flags_without_avx512().map(|f| f & !CACHELINE),
            Some(detected & !AVX512 & !CACHELINE),
            "detected {detected:#x}"
        );
    }

    /// x264-params and x264opts of a libx264 context after `keep_deterministic`, given the caller's.
    fn options_after(params: Option<&str>, opts: Option<&str>) -> (String, String) {
        let codec = ffmpeg_next::encoder::find_by_name("libx264").expect("libx264");
        let search = ffi::AV_OPT_SEARCH_CHILDREN as i32;
        // SAFETY: a fresh context of libx264 (private options allocated), freed at the end.
        unsafe {
            let mut ctx = ffi::avcodec_alloc_context3(codec.as_ptr());
            for (name, value) in [("x264-params", params), ("x264opts", opts)] {
                if let Some(value) = value {
                    assert!(ffi::av_opt_set(ctx.cast(), cstring(name).as_ptr(), cstring(value).as_ptr(), search) >= 0);
                }
            }
            keep_deterministic(ctx, "libx264").unwrap();
            let read = |name: &str| {
                let mut out: *mut u8 = std::ptr::null_mut();
                assert!(ffi::av_opt_get(ctx.cast(), cstring(name).as_ptr(), search, &mut out) >= 0);
                let text = if out.is_null() {
                    String::new()
                } else {
                    std::ffi::CStr::from_ptr(out.cast()).to_string_lossy().into_owned()
                };
                ffi::av_free(out.cast());
                text
            };
            let result = (read("x264-params"), read("x264opts"));
            ffi::avcodec_free_context(&mut ctx);
            result
        }
    }

    #[test]
    fn asm_is_set_unless_the_caller_sets_it() {
        let asm = format!("asm={}", cpu_flags_without_avx512().unwrap());
        assert_eq!(options_after(None, None).0, asm);
        let (params, _) = options_after(Some("keyint=5:bframes=2"), None);
        assert_eq!(params, format!("keyint=5:bframes=2:{asm}"), "the caller's params are kept");
        assert_eq!(options_after(Some("asm=auto:keyint=5"), None).0, "asm=auto:keyint=5");
        assert_eq!(options_after(None, Some("keyint=5:asm=avx2")), (String::new(), "keyint=5:asm=avx2".to_string()));
        // x264's other spellings of the same option are the caller's choice too.
        assert_eq!(options_after(Some("no-asm=1"), None).0, "no-asm=1");
        assert_eq!(options_after(Some("ASM=avx2"), None).0, "ASM=avx2");
        assert_eq!(options_after(None, Some("noasm")), (String::new(), "noasm".to_string()));
    }
}
