//! Build script: napi-rs's set-up for the Node addon, and the list of codec libraries bundled in a
//! static FFmpeg build (read from the manifest `scripts/ffmpeg/build.sh` writes into its prefix), for
//! `versions` (src/core/ffmpeg/versions.rs).

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    // napi_build only matters for the Node addon; the core's `cargo test` links without it.
    if env::var_os("CARGO_FEATURE_NODE").is_some() {
        napi_build::setup();
    }
    bundled_libraries();
}

/// The static FFmpeg build's manifest: `$FRAMECODEC_FFMPEG_PREFIX`, else a `PKG_CONFIG_PATH` entry
/// `<prefix>/lib/pkgconfig`, holding `<prefix>/share/framecodec/manifest.json`.
fn manifest_path() -> Option<PathBuf> {
    println!("cargo:rerun-if-env-changed=FRAMECODEC_FFMPEG_PREFIX");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    let in_prefix = |prefix: &Path| prefix.join("share/framecodec/manifest.json");
    if let Some(prefix) = env::var_os("FRAMECODEC_FFMPEG_PREFIX") {
        return Some(in_prefix(Path::new(&prefix)));
    }
    let paths = env::var_os("PKG_CONFIG_PATH")?;
    env::split_paths(&paths).filter_map(|dir| dir.parent()?.parent().map(in_prefix)).find(|p| p.is_file())
}

/// Writes `$OUT_DIR/bundled_libraries.rs`: `BUNDLED_LIBRARIES` (name, version, licence) and
/// `BUNDLED_LICENSE` (the licence of the whole binary), empty / `None` without a static build.
fn bundled_libraries() {
    let mut libraries = Vec::new();
    let mut license = None;
    if let Some(path) = manifest_path() {
        println!("cargo:rerun-if-changed={}", path.display());
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let manifest: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let field = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
        for library in manifest.get("libraries").and_then(|l| l.as_array()).into_iter().flatten() {
            libraries.push((field(library, "name"), field(library, "version"), field(library, "license")));
        }
        license = Some(field(&manifest, "license"));
    }
    let items: String = libraries.iter().map(|(n, v, l)| format!("    ({n:?}, {v:?}, {l:?}),\n")).collect();
    let code = format!(
        "/// Codec libraries inside the static FFmpeg build: (name, version, licence).\npub const BUNDLED_LIBRARIES: &[(&str, &str, &str)] = &[\n{items}];\n/// The licence of the binary, for a static build.\npub const BUNDLED_LICENSE: Option<&str> = {license:?};\n"
    );
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("bundled_libraries.rs");
    fs::write(out, code).expect("cannot write bundled_libraries.rs");
}
