//! `versions`: what this binary carries, for bug reports (as `sharp.versions`). index.js turns the pairs
//! into the frozen `versions` object.
// The #[napi] exports are only reached through Node's module registration, not from Rust test builds.
#![cfg_attr(test, allow(dead_code))]

use napi_derive::napi;

use crate::core::ffmpeg_versions::{binary_license, ffmpeg_is_bundled, library_versions};

/// `[name, version]` pairs: framecodec, FFmpeg and its libraries, the bundled codec libraries, then
/// `license` (the binary's, SPDX) and `ffmpegBuild` (`'static'` or `'system'`).
#[napi(catch_unwind, skip_typescript, js_name = "libraryVersions")]
pub fn library_versions_pairs() -> Vec<Vec<String>> {
    let mut pairs = vec![vec!["framecodec".to_string(), env!("CARGO_PKG_VERSION").to_string()]];
    pairs.extend(library_versions().into_iter().map(|(name, version)| vec![name, version]));
    pairs.push(vec!["license".into(), binary_license()]);
    pairs.push(vec!["ffmpegBuild".into(), if ffmpeg_is_bundled() { "static" } else { "system" }.into()]);
    pairs
}
