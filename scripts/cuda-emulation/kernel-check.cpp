// Runs the CUDA conversion kernels (src/core/cuda/kernels.cu) on the CPU, one emulated thread at a
// time, and checks every output against the BT.709 limited-range formula (within rounding) for the
// three input layouts, 4:4:4, 4:2:0 and NV12, at an odd size. Catches indexing and rounding mistakes
// in the kernel source on machines without a GPU (CI). Run by scripts/cuda-emulation/test.sh.
#include <cstdio>
#include <cmath>
#include <vector>
#include <cstdlib>
#include "cuda-threads.h"
#include "../../src/core/cuda/kernels.cu"
int q(double x) { return (int)llround(x * 32768.0); }
int main() {
  double kr = 0.2126, kb = 0.0722, kg = 1 - kr - kb, ys = 219.0/255, cs = 224.0/255;
  int yr=q(kr*ys), yg=q(kg*ys), yb=q(kb*ys);
  int ur=q(-kr*cs/(2*(1-kb))), ug=q(-kg*cs/(2*(1-kb))), ub=q((1-kb)*cs/(2*(1-kb)));
  int vr=q((1-kr)*cs/(2*(1-kr))), vg=q(-kg*cs/(2*(1-kr))), vb=q(-kb*cs/(2*(1-kr)));
  int worst = 0;
  for (int layout = 0; layout < 3; layout++) for (int sub = 0; sub < 2; sub++) for (int nv = 0; nv < 2; nv++) {
    if (!sub && nv) continue;
    int W = 7, H = 5, C = layout == 2 ? 4 : 3;
    std::vector<unsigned char> src(W*H*C); srand(layout*7+sub);
    for (auto &v : src) v = rand() % 256;
    auto px = [&](int x, int y, int c) { return layout == 0 ? src[c*W*H + y*W + x] : src[(y*W + x)*C + c]; };
    int cw = sub ? (W+1)/2 : W, ch = sub ? (H+1)/2 : H;
    int ypitch = W + 3, uvpitch = nv ? 2*cw + 2 : cw + 1;
    std::vector<unsigned char> Y(ypitch*H, 0), U(uvpitch*ch, 0), V(uvpitch*ch, 0);
    unsigned char *u = U.data(), *v = nv ? U.data() + 1 : V.data();
    blockDim = {4, 4, 1};
    int gx = (cw + 3)/4, gy = (ch + 3)/4;
    for (int bx = 0; bx < gx; bx++) for (int by = 0; by < gy; by++) for (int tx = 0; tx < 4; tx++) for (int ty = 0; ty < 4; ty++) {
      blockIdx = {bx, by, 0}; threadIdx = {tx, ty, 0};
      if (sub) rgb_to_yuv420(src.data(), layout, W, H, Y.data(), ypitch, u, v, uvpitch, nv ? 2 : 1, yr,yg,yb,ur,ug,ub,vr,vg,vb,16);
      else rgb_to_yuv444(src.data(), layout, W, H, Y.data(), ypitch, u, v, uvpitch, 1, yr,yg,yb,ur,ug,ub,vr,vg,vb,16);
    }
    for (int y = 0; y < H; y++) for (int x = 0; x < W; x++) {
      double r = px(x,y,0), g = px(x,y,1), b = px(x,y,2);
      double ref = 16 + 219*(kr*r + kg*g + kb*b)/255;
      worst = std::max(worst, (int)std::ceil(std::fabs(Y[y*ypitch+x] - ref) - 0.51));
    }
    for (int cy = 0; cy < ch; cy++) for (int cx = 0; cx < cw; cx++) {
      double r=0,g=0,b=0; int n = sub ? 4 : 1;
      for (int k = 0; k < n; k++) { int x = sub ? std::min(2*cx + (k&1), W-1) : cx, y = sub ? std::min(2*cy + (k>>1), H-1) : cy; r += px(x,y,0); g += px(x,y,1); b += px(x,y,2); }
      r/=n; g/=n; b/=n; double yl = (kr*r+kg*g+kb*b)/255;
      double ru = 128 + 224*((b/255 - yl)/(2*(1-kb))), rv = 128 + 224*((r/255 - yl)/(2*(1-kr)));
      int o = cy*uvpitch + cx*(nv?2:1);
      double du = std::fabs(u[o] - ru), dv = std::fabs(v[o] - rv);
      if (du > 0.51 || dv > 0.51) { printf("layout %d sub %d nv %d chroma (%d,%d): %d vs %.2f, %d vs %.2f\n", layout, sub, nv, cx, cy, u[o], ru, v[o], rv); worst = 9; }
    }
    printf("layout %d %s%s ok\n", layout, sub ? "420" : "444", nv ? " nv12" : "");
  }
  printf("worst excess over rounding: %d\n", worst);
  return worst != 0;
}
