use std::path::Path;

fn main() {
    // napi_build only matters for the Node addon; the core's `cargo test` links without it.
    if std::env::var_os("CARGO_FEATURE_NODE").is_some() {
        napi_build::setup();
    }
    require_static_ffmpeg();
}

/// FFmpeg is linked statically from the prefix scripts/ffmpeg/build.sh made: scripts/setup.sh names it
/// in .cargo/config.toml ([env] FRAMECODEC_FFMPEG_PREFIX, and PKG_CONFIG_PATH / PKG_CONFIG_LIBDIR for
/// ffmpeg-sys-next). Without it ffmpeg-sys-next would find the system's FFmpeg, which is not what ships.
fn require_static_ffmpeg() {
    for var in ["FRAMECODEC_FFMPEG_PREFIX", "PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let prefix = std::env::var("FRAMECODEC_FFMPEG_PREFIX").unwrap_or_default();
    let pkgconfig = Path::new(&prefix).join("lib/pkgconfig");
    let complete = !prefix.is_empty() && Path::new(&prefix).join(".framecodec-complete").is_file();
    let searched = std::env::var("PKG_CONFIG_LIBDIR").map(|dir| Path::new(&dir) == pkgconfig).unwrap_or(false);
    if !complete || !searched {
        panic!(
            "framecodec links the static FFmpeg built by scripts/ffmpeg/build.sh, and this build does not name a \
             finished one (FRAMECODEC_FFMPEG_PREFIX='{prefix}'). Run `bash scripts/setup.sh` (or `npm run setup`): \
             it builds FFmpeg (cached) and writes .cargo/config.toml, which points cargo at it."
        );
    }
}
