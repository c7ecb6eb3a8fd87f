#!/usr/bin/env bash
# GPU checks for the lent GPU machine, which has a CUDA driver but no Node, no Rust and no FFmpeg.
#
#   bash scripts/gpu-check.sh            # here: builds the test binary and a bundle with the FFmpeg
#                                        # libraries it needs, in .gpu-bundle/ (git-ignored, < 64 MiB)
#   then run on the GPU machine (the device tool, carry: [".gpu-bundle"]):
#     bash .gpu-bundle/run.sh
#
# run.sh unpacks the bundle in /tmp and runs every CUDA test (conversion GPU vs CPU, round trip,
# pointer/size/device errors, pinned frames, NVENC input frames, NVENC detection) and the 1080p
# timings, printing one short table.
#
# Before it is carried, the bundle is run here under the stand-in CUDA driver
# (scripts/cuda-emulation), without the timings, so that a broken bundle costs no device time.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.gpu-bundle
rm -rf "$out" && mkdir -p "$out/stage/lib"

echo "gpu-check: building the Rust test binary (release, core only)"
bin=$(cargo test --release --no-default-features --no-run --message-format=json 2>/dev/null |
  python3 -c 'import sys, json
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "framecodec":
        print(m["executable"])' | tail -1)
[ -n "$bin" ] || { echo "gpu-check: no test binary found" >&2; exit 1; }
cp "$bin" "$out/stage/framecodec-tests"
strip --strip-debug "$out/stage/framecodec-tests" 2>/dev/null || true

echo "gpu-check: collecting the shared libraries it needs (all but glibc's)"
ldd "$bin" | awk '/=>/ {print $3}' | grep -vE '/(libc|libm|libdl|libpthread|librt|ld-linux[^/]*|libgcc_s)\.so' | while read -r lib; do
  cp -L "$lib" "$out/stage/lib/"
done

cat > "$out/stage/run-tests.sh" <<'INNER'
#!/usr/bin/env bash
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
cd "$here"
echo "== machine"; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "(no nvidia-smi)"
echo "== CUDA tests"
# FRAMECODEC_GPU_CHECK_QUICK=1 (the self-test here): without the 1080p timings.
ignored="--include-ignored"; [ -n "${FRAMECODEC_GPU_CHECK_QUICK:-}" ] && ignored=""
./framecodec-tests tests_gpu $ignored --nocapture --test-threads=1 > tests.log 2>&1
status=$?
echo "| check | result |"
echo "|---|---|"
grep -oE '\| .*\|$' tests.log
echo
grep -E '^(SKIPPED|test result|thread .* panicked|  left|  right|failures:)' tests.log
[ "$status" -eq 0 ] || { echo "== full log"; cat tests.log; }
exit "$status"
INNER
chmod +x "$out/stage/run-tests.sh"
tar -C "$out/stage" -cJf "$out/bundle.tar.xz" .
rm -rf "$out/stage"
cat > "$out/run.sh" <<'RUN'
#!/usr/bin/env bash
# Runs on the GPU machine: unpack and run the CUDA checks.
set -euo pipefail
dest=/tmp/framecodec-gpu && rm -rf "$dest" && mkdir -p "$dest"
tar -C "$dest" -xJf "$(dirname "$0")/bundle.tar.xz"
"$dest/run-tests.sh"
RUN
chmod +x "$out/run.sh"
size=$(du -m "$out/bundle.tar.xz" | cut -f1)
echo "gpu-check: $out/bundle.tar.xz is ${size} MiB; on the GPU machine run: bash $out/run.sh"
[ "$size" -lt 64 ] || { echo "gpu-check: the bundle is too large for the device tool (64 MiB)" >&2; exit 1; }

echo "gpu-check: self-test of the bundle under the stand-in CUDA driver"
log=$(FRAMECODEC_GPU_CHECK_QUICK=1 bash scripts/cuda-emulation/run-with-fake-cuda.sh bash "$out/run.sh" 2>&1) || true
echo "$log" | grep -E '^(\||test result)' || true
echo "$log" | grep -qE '^test result: ok\. [1-9]' || { echo "$log" >&2; echo "gpu-check: the bundle fails under the stand-in driver" >&2; exit 1; }
echo "gpu-check: ready; on the GPU machine run: bash $out/run.sh"
