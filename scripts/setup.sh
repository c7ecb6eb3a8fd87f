#!/usr/bin/env bash
# Installs everything framecodec needs on Debian/Ubuntu (pkg-config and clang for the FFmpeg bindings, the
# ffmpeg CLI used by tests and benchmarks, Chromium for the colour tests, mmdebstrap for the install
# check, npm packages), builds the FFmpeg that ships (scripts/ffmpeg/build.sh: static, from Debian's
# source packages, cached under ~/.cache), points cargo at it (.cargo/config.toml) and builds the native
# addon. Safe to rerun: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v pkg-config >/dev/null || missing+=(pkg-config)
{ command -v clang >/dev/null && ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1; } || missing+=(clang libclang-dev)
{ command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null; } || missing+=(ffmpeg)
command -v c++ >/dev/null || missing+=(g++)
# The colour tests play our videos in a real player: Debian's Chromium (driven by puppeteer-core).
command -v chromium >/dev/null || missing+=(chromium)
command -v valgrind >/dev/null || missing+=(valgrind) # the memory checks of npm test (scripts/valgrind/test.sh)
# The install check of npm test (scripts/install-check/run.sh) makes a clean Debian root filesystem from
# Debian's registry, verified with Debian's archive keys (already there on Debian; a package on Ubuntu).
command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || missing+=(debian-archive-keyring)
if ((${#missing[@]})); then
  echo "framecodec setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x node_modules/.bin/napi ] || [ ! -x node_modules/.bin/ava ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "framecodec setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

echo "framecodec setup: FFmpeg (scripts/ffmpeg/build.sh; a cold build takes about 7 minutes on 2 cores; then cached)"
prefix="$(bash scripts/ffmpeg/build.sh | tail -n 1)"
# Every cargo build and test of this repository links that FFmpeg (build.rs refuses to build without it).
# PKG_CONFIG_LIBDIR: ffmpeg-sys-next's pkg-config sees only that prefix, never the system's FFmpeg. The
# prefix's path holds its build's hash, so cargo relinks when FFmpeg changes.
config="# Written by scripts/setup.sh; not committed. Cargo links the static FFmpeg of scripts/ffmpeg/build.sh.
[env]
FRAMECODEC_FFMPEG_PREFIX = { value = \"$prefix\", force = true }
PKG_CONFIG_PATH = { value = \"$prefix/lib/pkgconfig\", force = true }
PKG_CONFIG_LIBDIR = { value = \"$prefix/lib/pkgconfig\", force = true }"
if [ "$(cat .cargo/config.toml 2>/dev/null)" != "$config" ]; then
  mkdir -p .cargo
  printf '%s\n' "$config" >.cargo/config.toml
fi

echo "framecodec setup: building the native addon (release)"
# --pipe: drops the loader's __napiBindingTarget export from index.js / index.d.ts (see the script)
npm run --silent build
