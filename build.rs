//! Build script: napi-rs's set-up for the Node addon; the check that FFmpeg is the static build that
//! ships; and the list of codec libraries bundled in it (from the manifest `scripts/ffmpeg/build.sh`
//! writes into its prefix), for `versions` (src/core/ffmpeg/versions.rs).

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    // napi_build only matters for the Node addon; the core's `cargo test` links without it.
    if env::var_os("CARGO_FEATURE_NODE").is_some() {
        napi_build::setup();
    }
    let prefix = require_static_ffmpeg();
    bundled_libraries(&prefix);
}

/// FFmpeg is linked statically from the prefix scripts/ffmpeg/build.sh made: scripts/setup.sh names it
/// in .cargo/config.toml ([env] FRAMECODEC_FFMPEG_PREFIX, and PKG_CONFIG_PATH / PKG_CONFIG_LIBDIR for
/// ffmpeg-sys-next). Without it ffmpeg-sys-next would find the system's FFmpeg, which is not what ships.
fn require_static_ffmpeg() -> PathBuf {
    for var in ["FRAMECODEC_FFMPEG_PREFIX", "PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let prefix = env::var("FRAMECODEC_FFMPEG_PREFIX").unwrap_or_default();
    let pkgconfig = Path::new(&prefix).join("lib/pkgconfig");
    let complete = !prefix.is_empty() && Path::new(&prefix).join(".framecodec-complete").is_file();
    let searched = env::var("PKG_CONFIG_LIBDIR").map(|dir| Path::new(&dir) == pkgconfig).unwrap_or(false);
    if !complete || !searched {
        panic!(
            "framecodec links the static FFmpeg built by scripts/ffmpeg/build.sh, and this build does not name a \
             finished one (FRAMECODEC_FFMPEG_PREFIX='{prefix}'). Run `bash scripts/setup.sh` (or `npm run setup`): \
             it builds FFmpeg (cached) and writes .cargo/config.toml, which points cargo at it."
        );
    }
    PathBuf::from(prefix)
}

/// Writes `$OUT_DIR/bundled_libraries.rs` from `<prefix>/share/framecodec/manifest.json`:
/// `BUNDLED_LIBRARIES` (name, version, licence) and `BUNDLED_LICENSE` (the licence of the whole binary).
fn bundled_libraries(prefix: &Path) {
    let path = prefix.join("share/framecodec/manifest.json");
    println!("cargo:rerun-if-changed={}", path.display());
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let field = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    let libraries: Vec<(String, String, String)> = manifest
        .get("libraries")
        .and_then(|l| l.as_array())
        .into_iter()
        .flatten()
        .map(|library| (field(library, "name"), field(library, "version"), field(library, "license")))
        .collect();
    let license = Some(field(&manifest, "license")).filter(|l| !l.is_empty());
    let items: String = libraries.iter().map(|(n, v, l)| format!("    ({n:?}, {v:?}, {l:?}),\n")).collect();
    let code = format!(
        "/// Codec libraries inside the static FFmpeg build: (name, version, licence).\npub const BUNDLED_LIBRARIES: &[(&str, &str, &str)] = &[\n{items}];\n/// The licence of the binary, for a static build.\npub const BUNDLED_LICENSE: Option<&str> = {license:?};\n"
    );
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("bundled_libraries.rs");
    fs::write(out, code).expect("cannot write bundled_libraries.rs");
}
