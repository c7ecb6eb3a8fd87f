#!/usr/bin/env bash
# Memory checks (a step of `npm test`): valgrind memcheck fails the run on any invalid read or write, or
# on a decision or a syscall that depends on uninitialised bytes:
#  1. the Rust conversion tests (native kernel, swscale, every input layout, frames for the encoder), the
#     resampler and the audio track in every default container;
#  2. JS encodes through every host conversion path (scripts/valgrind/encodes.mjs) in `node --jitless`
#     (V8's JIT writes code valgrind cannot follow; the interpreter runs fine under it), and VideoWriter
#     into each output: a frame per write() from one refilled buffer, all frames in one write(), batches.
# Nothing is suppressed: Node 20 under --jitless reports no errors of its own here. valgrind hides
# AVX-512 from the program, so encoders take their AVX2 code paths. About 1 min on 2 cores.
# FRAMECODEC_ADDON=<index.js of another build> checks that build's JS side instead.
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v valgrind >/dev/null || { echo "valgrind: not installed (scripts/setup.sh installs it)" >&2; exit 1; }
vg=(valgrind -q --error-exitcode=1 --num-callers=30)

echo "valgrind: Rust conversion tests"
bin=$(cargo test --release --no-default-features --no-run --message-format=json 2>/dev/null |
  grep -o '"executable":"[^"]*"' | cut -d'"' -f4 | head -1)
[ -x "$bin" ] || { echo "valgrind: cannot find the Rust test binary" >&2; exit 1; }
"${vg[@]}" "$bin" --test-threads=2 yuv_kernel:: swscale:: convert:: picture:: source:: \
  nchw_nhwc_and_rgba_inputs_encode_identically lossless_encode_matches_bt709_limited_reference \
  tests_audio::the_resampler tests_audio::every_default_container

echo "valgrind: JS encodes through every conversion path (node --jitless)"
# Two processes, one per converter, run side by side.
"${vg[@]}" node --jitless scripts/valgrind/encodes.mjs native &
native=$!
status=0
"${vg[@]}" node --jitless scripts/valgrind/encodes.mjs swscale || status=$?
wait "$native" || status=$?
if [ "$status" -ne 0 ]; then
  echo "valgrind: memcheck found errors (see above)" >&2
  exit "$status"
fi
echo "valgrind: no errors"
