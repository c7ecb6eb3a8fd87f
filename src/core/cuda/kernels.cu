// RGB -> 8-bit YUV conversion kernels for framecodec's CUDA input path.
//
// The arithmetic is exactly the CPU kernel's (src/core/yuv_kernel.rs): 15-bit fixed-point coefficients
// of the tagged matrix and range (passed in by the host, computed by YuvCoefficients), round-half-up,
// clamp; 4:2:0 chroma from the sum of each 2x2 block (the last row/column repeats on odd sizes). So the
// GPU output is bit-identical to the CPU path's.
//
// The PTX the addon loads (kernels.ptx, next to this file) is generated from this source by
// scripts/gen-ptx.sh with NVRTC (no GPU needed) for compute_52, and its .version lowered so that old
// drivers load it. Layouts: 0 = NCHW (planar R, G, B planes), 1 = NHWC RGB, 2 = NHWC RGBA.

#define SHIFT 15

struct Pixel { int r, g, b; };

__device__ __forceinline__ Pixel load(const unsigned char* src, int layout, int width, int height, int x, int y) {
    Pixel p;
    if (layout == 0) {
        long plane = (long)width * height;
        long i = (long)y * width + x;
        p.r = src[i]; p.g = src[plane + i]; p.b = src[2 * plane + i];
    } else {
        int c = layout == 1 ? 3 : 4;
        long i = ((long)y * width + x) * c;
        p.r = src[i]; p.g = src[i + 1]; p.b = src[i + 2];
    }
    return p;
}

__device__ __forceinline__ unsigned char clamp8(int v) { return (unsigned char)min(max(v, 0), 255); }

__device__ __forceinline__ unsigned char luma(Pixel p, int yr, int yg, int yb, int y_off) {
    return clamp8((yr * p.r + yg * p.g + yb * p.b + (y_off << SHIFT) + (1 << (SHIFT - 1))) >> SHIFT);
}

// `r, g, b` are sums of 2^extra pixels.
__device__ __forceinline__ unsigned char chroma(int r, int g, int b, int cr, int cg, int cb, int extra) {
    int shift = SHIFT + extra;
    return clamp8((cr * r + cg * g + cb * b + (128 << shift) + (1 << (shift - 1))) >> shift);
}

// One thread per 2x2 block. `uv_step` is 1 for planar U and V (yuv420p), 2 for interleaved UV (nv12,
// where `v` = `u` + 1).
extern "C" __global__ void rgb_to_yuv420(
    const unsigned char* src, int layout, int width, int height,
    unsigned char* y_plane, int y_pitch, unsigned char* u_plane, unsigned char* v_plane, int uv_pitch, int uv_step,
    int yr, int yg, int yb, int ur, int ug, int ub, int vr, int vg, int vb, int y_off)
{
    int cx = blockIdx.x * blockDim.x + threadIdx.x;
    int cy = blockIdx.y * blockDim.y + threadIdx.y;
    if (cx >= (width + 1) / 2 || cy >= (height + 1) / 2) return;
    int x0 = 2 * cx, y0 = 2 * cy;
    int x1 = min(x0 + 1, width - 1), y1 = min(y0 + 1, height - 1);
    Pixel a = load(src, layout, width, height, x0, y0);
    Pixel b = load(src, layout, width, height, x1, y0);
    Pixel c = load(src, layout, width, height, x0, y1);
    Pixel d = load(src, layout, width, height, x1, y1);
    y_plane[(long)y0 * y_pitch + x0] = luma(a, yr, yg, yb, y_off);
    if (x1 != x0) y_plane[(long)y0 * y_pitch + x1] = luma(b, yr, yg, yb, y_off);
    if (y1 != y0) {
        y_plane[(long)y1 * y_pitch + x0] = luma(c, yr, yg, yb, y_off);
        if (x1 != x0) y_plane[(long)y1 * y_pitch + x1] = luma(d, yr, yg, yb, y_off);
    }
    int r = a.r + b.r + c.r + d.r, g = a.g + b.g + c.g + d.g, bl = a.b + b.b + c.b + d.b;
    long o = (long)cy * uv_pitch + (long)cx * uv_step;
    u_plane[o] = chroma(r, g, bl, ur, ug, ub, 2);
    v_plane[o] = chroma(r, g, bl, vr, vg, vb, 2);
}

// One thread per pixel, full-resolution chroma (yuv444p).
extern "C" __global__ void rgb_to_yuv444(
    const unsigned char* src, int layout, int width, int height,
    unsigned char* y_plane, int y_pitch, unsigned char* u_plane, unsigned char* v_plane, int uv_pitch, int uv_step,
    int yr, int yg, int yb, int ur, int ug, int ub, int vr, int vg, int vb, int y_off)
{
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= width || y >= height) return;
    Pixel p = load(src, layout, width, height, x, y);
    y_plane[(long)y * y_pitch + x] = luma(p, yr, yg, yb, y_off);
    long o = (long)y * uv_pitch + (long)x * uv_step;
    u_plane[o] = chroma(p.r, p.g, p.b, ur, ug, ub, 0);
    v_plane[o] = chroma(p.r, p.g, p.b, vr, vg, vb, 0);
}
