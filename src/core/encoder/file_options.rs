//! Codec options that would read or write files are refused (`ERR_INVALID_OPTION`).
//!
//! Why: an encode writes only to its destination (a file, memory or a stream), never anywhere else,
//! and reads nothing but the caller's frames. Some encoder options break that from inside the codec
//! library, where no sink of ours sees it: two-pass flags make libx264 write `x264_2pass.log` into
//! the working directory, `x264-params` / `x265-params` / `aom-params` take file names (stats,
//! dumps, CSV logs, analysis files, quantiser matrices), and the OpenMAX encoders load a shared
//! library by name. The muxer side is sealed elsewhere (no URL or multi-file muxer reaches FFmpeg).
//! Key lists are parsed as the encoder wrapper parses them, so no spelling gets past the check.

use ffmpeg_next::ffi;

use super::settings::OptionValue;
use crate::core::error::{EncodeError, Result};
use crate::core::ffmpeg::util::{cstring, text};

/// Private encoder options whose value is a file name (or a library to load).
const FILE_OPTIONS: &[(&str, &str)] = &[
    ("stats", "libx264 reads and writes its two-pass stats file"),
    ("passlogfile", "libx264 reads and writes its two-pass stats file"),
    ("omx_libname", "the OpenMAX encoder loads that shared library"),
    ("omx_libprefix", "the OpenMAX encoder loads a shared library from there"),
];

/// Keys of x264's parameter lists (`x264-params`, `x264opts`) that name files or write them.
const X264_KEYS: &[&str] = &["stats", "pass", "dump-yuv", "cqmfile", "qpfile", "opencl", "opencl-clbin"];

/// Keys of x265's `x265-params` that name files or write them (`pass` writes x265_2pass.log).
const X265_KEYS: &[&str] = &[
    "csv",
    "analysis-save",
    "analysis-load",
    "analysis-reuse-file",
    "analysis-file",
    "multi-pass-opt-analysis",
    "multi-pass-opt-distortion",
    "stats",
    "pass",
    "qpfile",
    "zonefile",
    "lambda-file",
    "scaling-list",
    "dhdr10-info",
    "dolby-vision-rpu",
    "film-grain",
    "recon",
];

/// Keys of libaom's `aom-params` that name files.
const AOM_KEYS: &[&str] =
    &["film-grain-table", "partition-info-path", "second-pass-log", "two-pass-output", "vmaf-model-path"];

/// Refuses an `extraOptions` entry for the codec that would make the encoder touch the file system.
pub fn refuse_file_option(key: &str, value: &OptionValue) -> Result<()> {
    if let Some((_, why)) = FILE_OPTIONS.iter().find(|(k, _)| *k == key) {
        return Err(refused(&format!("option '{key}'"), why));
    }
    let (keys, pairs): (&[&str], Vec<(String, String)>) = match key {
        "x264-params" => (X264_KEYS, dictionary_pairs(value)),
        "x264opts" => (X264_KEYS, x264opts_pairs(&value.to_ffmpeg_string())),
        "x265-params" => (X265_KEYS, dictionary_pairs(value)),
        "aom-params" => (AOM_KEYS, dictionary_pairs(value)),
        _ => return Ok(()),
    };
    for (sub_key, sub_value) in pairs {
        let name = library_key(&sub_key);
        // x265's scaling-list also takes the built-in names "off" and "default".
        if name == "scaling-list" && matches!(sub_value.trim(), "off" | "default") {
            continue;
        }
        if keys.contains(&name.as_str()) {
            return Err(refused(
                &format!("'{sub_key}' in option '{key}'"),
                "it names a file the library reads or writes",
            ));
        }
    }
    Ok(())
}

/// Refuses two-pass flags (`flags: '+pass1'` / `'+pass2'`, in any spelling), checked on the codec
/// context after every option was set: libx264 then writes or reads `x264_2pass.log`, libxvid temp files.
pub fn refuse_two_pass_flags(flags: i32) -> Result<()> {
    let two_pass = (ffi::AV_CODEC_FLAG_PASS1 | ffi::AV_CODEC_FLAG_PASS2) as i32;
    if flags & two_pass != 0 {
        return Err(refused(
            "option 'flags' with pass1/pass2",
            "two-pass encoding makes the encoder write or read its stats file (x264_2pass.log in the working directory)",
        ));
    }
    Ok(())
}

fn refused(what: &str, why: &str) -> EncodeError {
    EncodeError::invalid_option(format!(
        "{what} is refused: it would touch the file system ({why}); framecodec writes only to the destination you give"
    ))
}

/// The name x264 / x265 compare: '_' read as '-', a "no" / "no-" prefix (negation) removed, any case.
pub(super) fn library_key(key: &str) -> String {
    let name = key.trim().to_ascii_lowercase().replace('_', "-");
    let stripped = name.strip_prefix("no-").or_else(|| name.strip_prefix("no")).unwrap_or(&name);
    stripped.to_string()
}

/// A dictionary option's `key=value:key=value` list, split by FFmpeg's own parser (quotes and
/// backslash escapes included), exactly as `av_opt_set` will split it.
fn dictionary_pairs(value: &OptionValue) -> Vec<(String, String)> {
    let list = cstring(&value.to_ffmpeg_string());
    let (sep_kv, sep_pairs) = (cstring("="), cstring(":"));
    let mut dict: *mut ffi::AVDictionary = std::ptr::null_mut();
    // SAFETY: parses into a new dictionary that is freed below on every path; strings are NUL-terminated.
    unsafe { ffi::av_dict_parse_string(&mut dict, list.as_ptr(), sep_kv.as_ptr(), sep_pairs.as_ptr(), 0) };
    let mut pairs = Vec::new();
    let mut entry: *const ffi::AVDictionaryEntry = std::ptr::null();
    let empty = cstring("");
    loop {
        // SAFETY: iterates the live dictionary; AV_DICT_IGNORE_SUFFIX with "" visits every entry.
        entry = unsafe { ffi::av_dict_get(dict, empty.as_ptr(), entry, ffi::AV_DICT_IGNORE_SUFFIX as i32) };
        if entry.is_null() {
            break;
        }
        // SAFETY: entries of a live dictionary hold NUL-terminated key and value.
        pairs.push(unsafe { (text((*entry).key), text((*entry).value)) });
    }
    // SAFETY: frees what av_dict_parse_string allocated (null is fine).
    unsafe { ffi::av_dict_free(&mut dict) };
    pairs
}

/// libx264's own reading of `x264opts`: split at ':', the key runs to the first '=' (no escapes).
pub(super) fn x264opts_pairs(list: &str) -> Vec<(String, String)> {
    list.split(':')
        .map(|part| match part.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (part.to_string(), "1".to_string()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> OptionValue {
        OptionValue::Str(v.into())
    }

    #[test]
    fn file_keys_are_refused_in_every_spelling() {
        for (key, value) in [
            ("x264-params", "stats=/tmp/x.log"),
            ("x264-params", "keyint=10:dump-yuv=/tmp/y.yuv"),
            ("x264-params", "dump_yuv=/tmp/y.yuv"),
            ("x264-params", "nostats=1"),
            ("x264-params", "CQMFILE=/etc/passwd"),
            ("x264-params", "'stats'=a"),
            ("x264-params", "st\\ats=a"),
            ("x264-params", "pass=1"),
            ("x264opts", "keyint=10:stats=a"),
            ("x264opts", "opencl"),
            ("x265-params", "csv=/tmp/a.csv"),
            ("x265-params", "analysis-save=/tmp/a.dat"),
            ("x265-params", "analysis_load=/tmp/a.dat"),
            ("x265-params", "scaling-list=/tmp/list"),
            ("aom-params", "film-grain-table=/tmp/t"),
            ("stats", "/tmp/x.log"),
            ("passlogfile", "/tmp/x"),
            ("omx_libname", "/tmp/evil.so"),
        ] {
            let err = refuse_file_option(key, &s(value)).expect_err(&format!("{key}={value}"));
            assert!(err.message.contains("file system"), "{}", err.message);
        }
    }

    #[test]
    fn harmless_keys_pass() {
        for (key, value) in [
            ("x264-params", "keyint=10:min-keyint=5:psy-rd=1.0\\:0.2"),
            ("x264-params", "asm=AVX2"),
            ("x264opts", "keyint=10:no-scenecut"),
            ("x265-params", "scaling-list=default:csv-log-level=1:log-level=error"),
            ("psy-rd", "1.0:0.15"),
            ("tune", "film"),
        ] {
            assert!(refuse_file_option(key, &s(value)).is_ok(), "{key}={value}");
        }
    }

    #[test]
    fn two_pass_flags_are_refused() {
        assert!(refuse_two_pass_flags(0).is_ok());
        assert!(refuse_two_pass_flags(ffi::AV_CODEC_FLAG_PASS1 as i32).is_err());
        assert!(refuse_two_pass_flags(ffi::AV_CODEC_FLAG_PASS2 as i32 | ffi::AV_CODEC_FLAG_QSCALE as i32).is_err());
    }
}
