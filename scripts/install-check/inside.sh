#!/usr/bin/env bash
# The user's side of the install check: run by scripts/install-check/run.sh inside the clean Debian root
# filesystem (chrooted, no network), where there is Node and npm and nothing of FFmpeg. Installs the two
# framecodec tarballs into a fresh app from the npm cache alone, then uses framecodec the ways apps do:
# require, import, tsc --strict on typed code, a jest test, an ava test, and one encode per default
# container into /results (decoded outside by run.sh). Each step prints PASS or FAIL with the reason;
# when the native binary does not load, the steps that need it say so instead of repeating the error.
#
#   inside.sh   (env: CHECK=/check  PKGS=/pkgs  NPM_CACHE=/npm-cache  RESULTS=/results  APP=/app
#                     TEST_DEPS="jest@… ava@… typescript@… @types/node@…")
set -euo pipefail

CHECK=${CHECK:-/check} PKGS=${PKGS:-/pkgs} NPM_CACHE=${NPM_CACHE:-/npm-cache} RESULTS=${RESULTS:-/results} APP=${APP:-/app}
read -r -a test_deps <<<"${TEST_DEPS:?the test tools to install, e.g. jest@30.5.2}"
failed=()
loads=yes

pass() { echo "install-check: PASS $1${2:+: $2}"; }
fail() { echo "install-check: FAIL $1: $2"; failed+=("$1"); }
step() { echo; echo "== $1"; }

step "the root filesystem has no FFmpeg and no codec library"
# File names of FFmpeg's libraries and of every codec library an FFmpeg build can link; a file of these
# names anywhere (the copied Node included) would make the proof worthless.
codec_libs='lib(av(codec|format|util|device|filter|resample)|sw(scale|resample)|postproc|x264|x265|vpx|aom|dav1d|svtav1|SvtAv1Enc|SvtAv1Dec|rav1e|openh264|kvazaar|theora|vorbis|vorbisenc|opus|mp3lame|fdk-aac|speex|webp|xvidcore|gsm|twolame|shine|openjp2|zvbi|vidstab|zimg|vmaf|ass|bluray|snappy|soxr|va|va-drm|vdpau|mfx|vpl|nvcuvid|nvidia-encode|cuda)([.-].*)?\.(so|a)(\..*)?'
found=$(find / -xdev -regextype posix-extended -regex ".*/${codec_libs}" 2>/dev/null || true)
found+=$(find / -xdev \( -name ffmpeg -o -name ffprobe \) -type f 2>/dev/null || true)
if [ -n "$found" ]; then
  fail no-ffmpeg "found $(echo "$found" | tr '\n' ' ')"
  echo "install-check: the root filesystem is not clean; nothing else is meaningful"
  exit 1
fi
pass no-ffmpeg "no libav*/libsw*/libpostproc/libx264/libx265/libvpx/libaom/libdav1d/SVT-AV1/… file, no ffmpeg or ffprobe"
echo "node $(node --version) ($(command -v node)), npm $(npm --version), $(ldd --version | head -1)"
missing=$(ldd "$(command -v node)" | grep 'not found' || true)
[ -z "$missing" ] || { fail node "the copied node binary lacks libraries here: $missing"; exit 1; }

step "no network in here"
# npm install below must be offline because it cannot be anything else: no interface is up.
if out=$(node -e "require('node:net').connect({ host: '151.101.0.162', port: 443, timeout: 3000 })
    .on('connect', () => { console.log('connected to the registry'); process.exit(1) })
    .on('timeout', () => { console.log('timed out'); process.exit(1) })
    .on('error', (e) => console.log(e.code))" 2>&1); then
  pass no-network "a connection to the npm registry fails: $out"
else
  fail no-network "$out"
  exit 1
fi

step "npm install --offline of the two tarballs (and the test tools) into a fresh app"
rm -rf "$APP"
mkdir -p "$APP"
cp "$CHECK"/app/* "$APP"/
cd "$APP"
tarballs=("$PKGS"/framecodec-linux-x64-gnu-*.tgz "$PKGS"/framecodec-[0-9]*.tgz)
if ! npm install --offline --cache "$NPM_CACHE" --no-audit --no-fund --loglevel=error "${tarballs[@]}" "${test_deps[@]}"; then
  fail npm-install "npm install --offline failed (see above)"
  exit 1
fi
node_file=$(ls node_modules/framecodec-linux-x64-gnu/*.node)
pass npm-install "framecodec $(node -p "require('framecodec/package.json').version"), $node_file ($(stat -c %s "$node_file") bytes)"
echo "what the dynamic loader finds for it here (ldd):"
ldd "$node_file" | sed 's/^/  /'

step "require('framecodec')"
if out=$(node require.cjs 2>&1); then
  pass require "$out"
else
  fail require "$out"
  loads=no
fi

# The steps that need the binary loaded: when require() failed they would all fail the same way.
runs() {
  if [ "$loads" = no ]; then
    echo "install-check: NOT RUN $1: the native binary does not load here (see require)"
    failed+=("$1")
    return 1
  fi
}

step "import { … } from 'framecodec'"
if runs import; then
  if out=$(node import.mjs 2>&1); then pass import "$out"; else fail import "$out"; fi
fi

step "tsc --noEmit --strict on a typed usage file"
# Needs no binary: checks the package's types as an app sees them (its own package.json "types").
if out=$(node_modules/.bin/tsc -p tsconfig.json 2>&1); then
  pass tsc "$(node_modules/.bin/tsc --version), usage.ts compiles and its @ts-expect-error misuses fail"
else
  fail tsc "$out"
fi

step "a jest test"
if runs jest; then
  if node_modules/.bin/jest --ci 2>&1; then pass jest; else fail jest "jest failed (see above)"; fi
fi

step "an ava test"
if runs ava; then
  if node_modules/.bin/ava 2>&1; then pass ava; else fail ava "ava failed (see above)"; fi
fi

step "one encode per default container into $RESULTS"
if runs encode; then
  if node encode-all.mjs "$RESULTS" 2>&1; then pass encode "$(ls "$RESULTS" | grep -c '^out\.') files"; else fail encode "encode-all.mjs failed (see above)"; fi
fi

echo
if ((${#failed[@]})); then
  echo "install-check: inside the clean root filesystem, failed: ${failed[*]}"
  exit 1
fi
echo "install-check: inside the clean root filesystem, everything passed"
