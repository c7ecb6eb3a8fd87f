#!/usr/bin/env bash
# Compiles the CUDA kernels' source as C++ with thread emulation and checks their output (no GPU needed).
set -euo pipefail
cd "$(dirname "$0")"
out="${TMPDIR:-/tmp}/framecodec-kernel-emulation-$$"
trap 'rm -f "$out"' EXIT
c++ -O1 -std=c++17 -o "$out" kernel-emulation.cpp
"$out"
