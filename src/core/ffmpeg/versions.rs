//! What FFmpeg and codec libraries this build carries, for bug reports (`versions` in the JS API).
//!
//! FFmpeg's own libraries answer at run time (the linked code, static or shared). The codec libraries
//! inside a static build (x264, x265, libvpx, …) have no common version call: their versions and licences
//! come from the manifest `scripts/ffmpeg/build.sh` writes next to the build, embedded by `build.rs`.

use ffmpeg_next::ffi;

use super::util::text;

include!(concat!(env!("OUT_DIR"), "/bundled_libraries.rs"));

/// One library and its version, in the order they are reported.
pub type LibraryVersion = (String, String);

/// `major.minor.micro` of an FFmpeg library's packed version number.
fn dotted(version: u32) -> String {
    format!("{}.{}.{}", version >> 16, (version >> 8) & 0xff, version & 0xff)
}

/// FFmpeg's version, its libraries', and the bundled codec libraries' (empty when FFmpeg is the
/// system's shared one).
pub fn library_versions() -> Vec<LibraryVersion> {
    // SAFETY: these FFmpeg calls take no arguments and return static data (a string FFmpeg owns for the
    // life of the process, or a number).
    let (ffmpeg, avcodec, avformat, avutil, swscale, swresample) = unsafe {
        (
            text(ffi::av_version_info()),
            ffi::avcodec_version(),
            ffi::avformat_version(),
            ffi::avutil_version(),
            ffi::swscale_version(),
            ffi::swresample_version(),
        )
    };
    let mut out = vec![
        ("ffmpeg".to_string(), ffmpeg),
        ("libavcodec".to_string(), dotted(avcodec)),
        ("libavformat".to_string(), dotted(avformat)),
        ("libavutil".to_string(), dotted(avutil)),
        ("libswscale".to_string(), dotted(swscale)),
        ("libswresample".to_string(), dotted(swresample)),
    ];
    out.extend(BUNDLED_LIBRARIES.iter().map(|(name, version, _)| (name.to_string(), version.to_string())));
    out
}

/// Whether FFmpeg is linked in statically (the shipped build) rather than the system's shared libraries.
pub fn ffmpeg_is_bundled() -> bool {
    BUNDLED_LICENSE.is_some()
}

/// The licence of the binary as an SPDX expression: the static build's (GPL-2.0-or-later with x264 and
/// x265 inside), else the linked FFmpeg's own (`avcodec_license()`).
pub fn binary_license() -> String {
    if let Some(license) = BUNDLED_LICENSE {
        return license.to_string();
    }
    // SAFETY: a static string FFmpeg owns for the life of the process.
    let words = unsafe { text(ffi::avcodec_license()) };
    match words.as_str() {
        "GPL version 2 or later" => "GPL-2.0-or-later".into(),
        "GPL version 3 or later" => "GPL-3.0-or-later".into(),
        "LGPL version 2.1 or later" => "LGPL-2.1-or-later".into(),
        "LGPL version 3 or later" => "LGPL-3.0-or-later".into(),
        _ => words,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_name_ffmpeg_and_its_libraries() {
        let versions = library_versions();
        let names: Vec<&str> = versions.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(&names[..5], ["ffmpeg", "libavcodec", "libavformat", "libavutil", "libswscale"]);
        for (name, version) in &versions {
            assert!(version.chars().any(|c| c.is_ascii_digit()), "{name}: {version}");
        }
        let license = binary_license();
        assert!(license.contains("GPL"), "{license}");
    }
}
