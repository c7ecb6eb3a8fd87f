#!/usr/bin/env bash
# Regenerates and checks src/core/cuda/kernels.ptx (no GPU needed). Fetches NVIDIA's NVRTC and ptxas
# from PyPI into a temporary folder the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="${CUDA_TOOLS:-/tmp/framecodec-cuda-tools}"
if [ ! -e "$tools/nvidia/cuda_nvrtc/lib/libnvrtc.so.12" ] || [ ! -e "$tools/nvidia/cuda_nvcc/bin/ptxas" ]; then
  mkdir -p "$tools/wheels"
  python3 -m pip download --no-deps -q -d "$tools/wheels" nvidia-cuda-nvrtc-cu12==12.8.93 nvidia-cuda-nvcc-cu12==12.8.93
  for w in "$tools"/wheels/*.whl; do python3 -m zipfile -e "$w" "$tools"; done
  chmod +x "$tools/nvidia/cuda_nvcc/bin/ptxas"
fi
NVRTC_LIB="$tools/nvidia/cuda_nvrtc/lib/libnvrtc.so.12" python3 scripts/gen-ptx.py
"$tools/nvidia/cuda_nvcc/bin/ptxas" --gpu-name sm_52 -o /dev/null src/core/cuda/kernels.ptx
echo "ptxas: kernels.ptx assembles for sm_52"
