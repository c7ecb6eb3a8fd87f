#!/usr/bin/env bash
# Runs a command with the stand-in CUDA driver (fake-libcuda.cpp) in place of libcuda and NVENC, so
# that framecodec's CUDA paths run on a machine without a GPU:
#
#   bash scripts/cuda-emulation/run-with-fake-cuda.sh cargo test --release --no-default-features tests_gpu
#
# Builds the library into target/fake-cuda/ when its sources changed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
lib_dir="$here/../../target/fake-cuda"
lib="$lib_dir/libcuda.so.1"
mkdir -p "$lib_dir"
if [ ! -f "$lib" ] || [ -n "$(find "$here" "$here/../../src/core/cuda/kernels.cu" -newer "$lib" -print -quit)" ]; then
  c++ -O2 -std=c++17 -shared -fPIC -Wall -o "$lib.tmp" "$here/fake-libcuda.cpp"
  mv "$lib.tmp" "$lib"
  ln -sf libcuda.so.1 "$lib_dir/libcuda.so"
  ln -sf libcuda.so.1 "$lib_dir/libnvidia-encode.so.1"
fi
export LD_LIBRARY_PATH="$(cd "$lib_dir" && pwd)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export FRAMECODEC_FAKE_CUDA=1
exec "$@"
