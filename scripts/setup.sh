#!/usr/bin/env bash
# Installs everything framecodec needs on Debian/Ubuntu (FFmpeg dev packages, clang for bindgen, the
# ffmpeg CLI used by tests and benchmarks, Chromium for the colour tests, mmdebstrap for the install
# check, npm packages), then builds the native addon. Safe to rerun: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
pkg-config --exists libavcodec libavformat libavutil libswscale 2>/dev/null ||
  missing+=(pkg-config libavcodec-dev libavformat-dev libavutil-dev libswscale-dev)
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

echo "framecodec setup: building the native addon (release)"
# --pipe: drops the loader's __napiBindingTarget export from index.js / index.d.ts (see the script)
npm run --silent build
