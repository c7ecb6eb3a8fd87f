//! How `crf`, `preset` and `extraOptions` reach FFmpeg.
//!
//! Why so strict: FFmpeg silently keeps option keys nobody recognised (they stay in the dictionary) and
//! checks many values only deep inside `avcodec_open2`, where the error is a bare EINVAL. torchcodec
//! ignores typos the same way. We look every key up in the AVOption tables of each layer — the codec
//! context, the encoder's private options, then the muxer and its private options — and check numbers
//! against the option's own range before anything is opened, so a mistake is named with what is allowed.

use std::ffi::{c_void, CStr};

use ffmpeg_next::ffi;

use super::file_options::{refuse_file_option, refuse_two_pass_flags};
use super::settings::{EncodeSettings, OptionValue, COLOR_KEYS};
use crate::core::error::{EncodeError, ErrorCode, Result};
use crate::core::ffmpeg::util::{av_error_text, cstring, text};
use crate::core::mux::container::Container;

impl EncodeSettings {
    /// Sets `crf`, `preset` and the codec-level `extraOptions` on an allocated (unopened) codec context
    /// and returns the options that belong to the muxer, checked but not yet set.
    ///
    /// # Safety
    /// `ctx` is a live codec context allocated for `encoder_name`'s codec (its private data exists).
    pub unsafe fn apply_to_codec(
        &self,
        ctx: *mut ffi::AVCodecContext,
        encoder_name: &str,
        container: &Container,
    ) -> Result<Vec<(String, OptionValue)>> {
        let owner = format!("encoder {encoder_name}");
        if let Some(crf) = self.crf {
            let found = unsafe { find_option(ctx.cast(), "crf", 0) }.ok_or_else(|| {
                EncodeError::invalid_option(format!(
                    "crf is not an option of {owner}: it has no constant-quality mode of that name (use extraOptions such as {{ b: 2000000 }} or {{ qscale: 3 }})"
                ))
            })?;
            unsafe { set_checked(ctx.cast(), &found, "crf", &OptionValue::Num(crf), &owner) }?;
        }
        if let Some(preset) = &self.preset {
            let found = unsafe { find_option(ctx.cast(), "preset", 0) }.ok_or_else(|| {
                EncodeError::invalid_option(format!("preset is not an option of {owner}: it has no presets"))
            })?;
            check_known_values(encoder_name, "preset", preset)?;
            unsafe { set_checked(ctx.cast(), &found, "preset", preset, &owner) }?;
        }
        let mut muxer = Vec::new();
        for (key, value) in &self.extra {
            if COLOR_KEYS.contains(&key.as_str()) {
                continue;
            }
            refuse_file_option(key, value)?;
            if let Some(found) = unsafe { find_option(ctx.cast(), key, ffi::AV_OPT_FLAG_ENCODING_PARAM as i32) } {
                check_known_values(encoder_name, key, value)?;
                unsafe { set_checked(ctx.cast(), &found, key, value, &owner) }?;
            } else if let Some(found) = find_muxer_option(container, key) {
                check_number(&found, key, value, &format!("muxer {}", container.name()))?;
                muxer.push((key.clone(), value.clone()));
            } else {
                return Err(EncodeError::invalid_option(format!(
                    "unknown option '{key}' in extraOptions: it is not an option of {owner} nor of muxer {}",
                    container.name()
                )));
            }
        }
        // SAFETY: `ctx` is live (caller's contract); every spelling of the flags has been applied by now.
        refuse_two_pass_flags(unsafe { (*ctx).flags })?;
        Ok(muxer)
    }
}

/// Sets an audio track's `extraOptions` on its allocated (unopened) codec context: codec-level and the
/// encoder's private options only (the muxer's options belong to the video's `extraOptions`).
///
/// # Safety
/// `ctx` is a live codec context allocated for `encoder_name`'s codec (its private data exists).
pub unsafe fn apply_audio_options(
    ctx: *mut ffi::AVCodecContext,
    encoder_name: &str,
    extra: &[(String, OptionValue)],
) -> Result<()> {
    let owner = format!("audio encoder {encoder_name}");
    for (key, value) in extra {
        refuse_file_option(key, value)?;
        let Some(found) = (unsafe { find_option(ctx.cast(), key, ffi::AV_OPT_FLAG_ENCODING_PARAM as i32) }) else {
            return Err(EncodeError::invalid_option(format!(
                "unknown option '{key}' in audio.extraOptions: it is not an option of {owner} (muxer options go in the video's extraOptions)"
            )));
        };
        check_known_values(encoder_name, key, value)?;
        unsafe { set_checked(ctx.cast(), &found, key, value, &owner) }?;
    }
    Ok(())
}

/// Sets muxer options (returned by [`EncodeSettings::apply_to_codec`]) on an output context.
///
/// # Safety
/// `fmt_ctx` is a live output format context whose muxer private data is allocated.
pub unsafe fn apply_to_muxer(
    fmt_ctx: *mut ffi::AVFormatContext,
    options: &[(String, OptionValue)],
    muxer: &str,
) -> Result<()> {
    for (key, value) in options {
        let found = unsafe { find_option(fmt_ctx.cast(), key, 0) }
            .ok_or_else(|| EncodeError::invalid_option(format!("unknown option '{key}' for muxer {muxer}")))?;
        unsafe { set_checked(fmt_ctx.cast(), &found, key, value, &format!("muxer {muxer}")) }?;
    }
    Ok(())
}

/// Checks muxer options by setting them on a scratch output context of the same muxer, so a bad
/// value (e.g. an unknown `movflags` flag) is refused before any output exists.
pub fn check_muxer_options(container: &Container, options: &[(String, OptionValue)]) -> Result<()> {
    if options.is_empty() {
        return Ok(());
    }
    let mut ctx = std::ptr::null_mut();
    // SAFETY: allocates a context for the static muxer; freed below on every path.
    let ret = unsafe {
        ffi::avformat_alloc_output_context2(&mut ctx, container.as_ptr(), std::ptr::null(), std::ptr::null())
    };
    if ret < 0 || ctx.is_null() {
        return Err(EncodeError::new(
            ErrorCode::Encode,
            format!("cannot create a {} muxer: {}", container.name(), av_error_text(ret)),
        ));
    }
    let result = unsafe { apply_to_muxer(ctx, options, &container.name()) };
    unsafe { ffi::avformat_free_context(ctx) };
    result
}

/// An option found on an object or one of its children, and the object that holds it.
struct FoundOption {
    opt: *const ffi::AVOption,
    target: *mut c_void,
}

impl FoundOption {
    fn opt(&self) -> &ffi::AVOption {
        // SAFETY: AVOption tables are static.
        unsafe { &*self.opt }
    }
}

/// Looks `key` up on `obj` and its children (a codec context's private data, a muxer's).
unsafe fn find_option(obj: *mut c_void, key: &str, opt_flags: i32) -> Option<FoundOption> {
    let c_key = cstring(key);
    let mut target = std::ptr::null_mut();
    let opt = unsafe {
        ffi::av_opt_find2(
            obj,
            c_key.as_ptr(),
            std::ptr::null(),
            opt_flags,
            ffi::AV_OPT_SEARCH_CHILDREN as i32,
            &mut target,
        )
    };
    if opt.is_null() || key.is_empty() || unsafe { (*opt).type_ } == ffi::AVOptionType::AV_OPT_TYPE_CONST {
        None
    } else {
        Some(FoundOption { opt, target })
    }
}

/// Looks `key` up among the muxer's options (generic format-context ones and its private ones)
/// without an allocated context.
fn find_muxer_option(container: &Container, key: &str) -> Option<FoundOption> {
    let c_key = cstring(key);
    let flags = ffi::AV_OPT_FLAG_ENCODING_PARAM as i32;
    let mut classes = vec![unsafe { ffi::avformat_get_class() }];
    if !container.priv_class().is_null() {
        classes.push(container.priv_class());
    }
    classes.into_iter().find_map(|class| {
        let mut class_ptr = class;
        // SAFETY: with AV_OPT_SEARCH_FAKE_OBJ, av_opt_find reads only the class pointed to.
        let opt = unsafe {
            ffi::av_opt_find(
                (&mut class_ptr as *mut *const ffi::AVClass).cast(),
                c_key.as_ptr(),
                std::ptr::null(),
                flags,
                ffi::AV_OPT_SEARCH_FAKE_OBJ as i32,
            )
        };
        (!opt.is_null() && unsafe { (*opt).type_ } != ffi::AVOptionType::AV_OPT_TYPE_CONST)
            .then_some(FoundOption { opt, target: std::ptr::null_mut() })
    })
}

fn is_integer_type(t: ffi::AVOptionType) -> bool {
    use ffi::AVOptionType::*;
    matches!(t, AV_OPT_TYPE_INT | AV_OPT_TYPE_INT64 | AV_OPT_TYPE_UINT64 | AV_OPT_TYPE_BOOL)
}

fn is_number_type(t: ffi::AVOptionType) -> bool {
    use ffi::AVOptionType::*;
    is_integer_type(t) || matches!(t, AV_OPT_TYPE_DOUBLE | AV_OPT_TYPE_FLOAT)
}

/// Checks a numeric value against the option's type and range. Names (constants such as
/// `threads: 'auto'`) are left to FFmpeg's parser.
fn check_number(found: &FoundOption, key: &str, value: &OptionValue, owner: &str) -> Result<()> {
    let opt = found.opt();
    let (min, max) = real_range(owner, key).unwrap_or((opt.min, opt.max));
    if !is_number_type(opt.type_) {
        return Ok(());
    }
    let Some(n) = value.as_number() else {
        if let OptionValue::Str(s) = value {
            if !opt.unit.is_null() || opt.type_ == ffi::AVOptionType::AV_OPT_TYPE_BOOL {
                return Ok(()); // a named constant, checked when set
            }
            return Err(EncodeError::invalid_option(format!("option '{key}' of {owner} takes a number, got '{s}'")));
        }
        return Ok(());
    };
    if is_integer_type(opt.type_) && n.fract() != 0.0 {
        return Err(EncodeError::invalid_option(format!("option '{key}' of {owner} takes an integer, got {n}")));
    }
    if n < min || n > max {
        return Err(EncodeError::new(
            ErrorCode::OutOfRange,
            format!(
                "option '{key}' = {n} is out of range for {owner}: allowed {} to {}",
                fmt_bound(min),
                fmt_bound(max)
            ),
        ));
    }
    Ok(())
}

fn fmt_bound(v: f64) -> String {
    if v >= i64::MAX as f64 / 2.0 || v == i32::MAX as f64 || v == u32::MAX as f64 {
        "max".into()
    } else if v <= i64::MIN as f64 / 2.0 || v == i32::MIN as f64 {
        "min".into()
    } else {
        format!("{v}")
    }
}

/// Checks, then sets one option on the object that holds it; FFmpeg's refusal becomes a named error.
unsafe fn set_checked(
    obj: *mut c_void,
    found: &FoundOption,
    key: &str,
    value: &OptionValue,
    owner: &str,
) -> Result<()> {
    check_number(found, key, value, owner)?;
    let c_key = cstring(key);
    let c_value = cstring(&value.to_ffmpeg_string());
    let ret = unsafe { ffi::av_opt_set(obj, c_key.as_ptr(), c_value.as_ptr(), ffi::AV_OPT_SEARCH_CHILDREN as i32) };
    if ret >= 0 {
        return Ok(());
    }
    if ret == ffi::AVERROR(ffi::ERANGE) {
        let opt = found.opt();
        return Err(EncodeError::new(
            ErrorCode::OutOfRange,
            format!(
                "option '{key}' = {} is out of range for {owner}: allowed {} to {}",
                value.describe(),
                fmt_bound(opt.min),
                fmt_bound(opt.max)
            ),
        ));
    }
    let names = unsafe { constant_names(found) };
    let allowed = if names.is_empty() { String::new() } else { format!("; allowed: {}", names.join(", ")) };
    Err(EncodeError::invalid_option(format!(
        "invalid value {} for option '{key}' of {owner} ({}){allowed}",
        value.describe(),
        av_error_text(ret)
    )))
}

/// The named constants an option accepts (its unit's AV_OPT_TYPE_CONST entries).
unsafe fn constant_names(found: &FoundOption) -> Vec<String> {
    let opt = found.opt();
    if opt.unit.is_null() || found.target.is_null() {
        return Vec::new();
    }
    let unit = unsafe { CStr::from_ptr(opt.unit) };
    let mut names = Vec::new();
    let mut prev: *const ffi::AVOption = std::ptr::null();
    loop {
        // SAFETY: walks the static option table of the object's class.
        prev = unsafe { ffi::av_opt_next(found.target, prev) };
        if prev.is_null() {
            return names;
        }
        let o = unsafe { &*prev };
        if o.type_ == ffi::AVOptionType::AV_OPT_TYPE_CONST
            && !o.unit.is_null()
            && unsafe { CStr::from_ptr(o.unit) } == unit
        {
            names.push(unsafe { text(o.name) });
        }
    }
}

/// Ranges that the library behind an encoder enforces where FFmpeg's AVOption declares a wider one
/// (x264's and x265's crf is declared -1..FLT_MAX, but the libraries clamp to 0..51).
fn real_range(owner: &str, key: &str) -> Option<(f64, f64)> {
    match (owner.strip_prefix("encoder ")?, key) {
        ("libx264" | "libx264rgb" | "libx265", "crf") => Some((0.0, 51.0)),
        _ => None,
    }
}

/// Values that x264/x265 accept only as one of a fixed set of names, checked by the library at open
/// time with a bare EINVAL; we name the allowed ones up front.
fn known_values(encoder: &str, key: &str) -> Option<&'static [&'static str]> {
    const PRESETS: &[&str] =
        &["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"];
    const X264_TUNES: &[&str] =
        &["film", "animation", "grain", "stillimage", "psnr", "ssim", "fastdecode", "zerolatency"];
    const X265_TUNES: &[&str] = &["psnr", "ssim", "grain", "zerolatency", "fastdecode", "animation"];
    match (encoder, key) {
        ("libx264" | "libx264rgb" | "libx265", "preset") => Some(PRESETS),
        ("libx264" | "libx264rgb", "tune") => Some(X264_TUNES),
        ("libx265", "tune") => Some(X265_TUNES),
        _ => None,
    }
}

fn check_known_values(encoder: &str, key: &str, value: &OptionValue) -> Result<()> {
    let Some(allowed) = known_values(encoder, key) else {
        return Ok(());
    };
    let ok = match value {
        // x264 takes several tunes joined by ',' or '+' (e.g. "film,fastdecode").
        OptionValue::Str(s) => !s.is_empty() && s.split([',', '+']).all(|part| allowed.contains(&part)),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(EncodeError::invalid_option(format!(
            "invalid {key} {} for {encoder}: allowed values are {}",
            value.describe(),
            allowed.join(", ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x264_presets_and_tunes_are_checked_by_name() {
        assert!(check_known_values("libx264", "preset", &OptionValue::Str("veryslow".into())).is_ok());
        assert!(check_known_values("libx264", "tune", &OptionValue::Str("film,fastdecode".into())).is_ok());
        let err = check_known_values("libx264", "preset", &OptionValue::Str("superduper".into())).unwrap_err();
        assert!(err.message.contains("ultrafast") && err.message.contains("veryslow"), "{}", err.message);
        assert!(check_known_values("libx264", "preset", &OptionValue::Num(3.0)).is_err());
        assert!(check_known_values("libsvtav1", "preset", &OptionValue::Num(3.0)).is_ok());
    }

    #[test]
    fn muxer_options_are_found_without_a_context() {
        let mp4 = Container::resolve("mp4").unwrap();
        assert!(find_muxer_option(&mp4, "movflags").is_some());
        assert!(find_muxer_option(&mp4, "notAnOption").is_none());
    }
}
