#!/usr/bin/env bash
# The CUDA checks that need no GPU (the last step of `npm test`):
#  1. the conversion kernels' source, compiled as C++, against the BT.709 formula (kernel-check.cpp);
#  2. the Rust CUDA tests and the JS CUDA tests under the stand-in driver (fake-libcuda.cpp), with two
#     devices: upload, pointer checks, GPU conversion vs CPU, pinned frames, FFmpeg's CUDA frames, the
#     NVENC fallback, toFile/toBuffer/toStream; the Rust ones once more with device memory mapped in
#     segments, as CUDA's virtual memory API reports it.
# On a real GPU the same Rust tests run against the real driver (scripts/gpu-check.sh).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../.."

echo "cuda-emulation: kernel source vs the formula"
check="${TMPDIR:-/tmp}/framecodec-kernel-check-$$"
trap 'rm -f "$check"' EXIT
c++ -O1 -std=c++17 -o "$check" "$here/kernel-check.cpp"
"$check"

echo "cuda-emulation: Rust and JS CUDA tests under the stand-in driver"
export FAKE_CUDA_DEVICES=2
bash "$here/run-with-fake-cuda.sh" cargo test --release --no-default-features tests_gpu
echo "cuda-emulation: Rust CUDA tests again, device memory mapped in 4 KiB segments (as PyTorch's expandable segments)"
FAKE_CUDA_SEGMENT=4096 bash "$here/run-with-fake-cuda.sh" cargo test --release --no-default-features tests_gpu
bash "$here/run-with-fake-cuda.sh" npx ava __test__/cuda.spec.mjs
