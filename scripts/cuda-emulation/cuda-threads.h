// Lets CUDA kernel source compile as ordinary C++ so that it runs on the CPU: one emulated thread at a
// time, with the built-in indices as thread-local variables that the caller sets before each call.
// Used by kernel-check.cpp (the kernels against the formula) and fake-libcuda.cpp (a CUDA driver
// stand-in for tests on machines without a GPU).
#pragma once
struct D3 { int x, y, z; };
static thread_local D3 blockIdx, blockDim, threadIdx;
static inline int min(int a, int b) { return a < b ? a : b; }
static inline int max(int a, int b) { return a > b ? a : b; }
#define __global__
#define __device__
#define __forceinline__ inline
