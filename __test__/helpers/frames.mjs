// Deterministic synthetic video frames for the framecodec tests.
// No Math.random anywhere: every generator takes a seed and uses a small PRNG.

/** mulberry32: a tiny seeded PRNG returning floats in [0, 1). */
export function prng(seed = 1) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const clamp = (v) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));
// Triangle wave 0..255..0 with period 510: a smooth gradient that can move without a hard wrap edge.
const tri = (v) => {
  const m = ((v % 510) + 510) % 510;
  return m <= 255 ? m : 510 - m;
};

/**
 * N×3×H×W planar RGB frames (the NCHW layout) with realistic content:
 * a moving gradient background, three moving saturated shapes (rectangle, circle, square),
 * a patch of fine texture (1-pixel checkerboard and stripes) and a little seeded noise.
 * Different seeds give different content (shape phases, noise).
 */
export function makeFramesNCHW(
  n,
  h,
  w,
  { seed = 1, noise = 3, shapes = true, texture = true } = {},
) {
  const rnd = prng(seed);
  const out = new Uint8Array(n * 3 * h * w);
  const plane = h * w;
  const phase = Math.floor(rnd() * 1000);
  const even = (v) => v - (v & 1);
  // rectangles have even sizes and sit on even coordinates (clean 4:2:0 chroma blocks);
  // the circle has a soft (anti-aliased) edge, like real content.
  const rw = Math.max(2, even(Math.floor(w / 4)));
  const rh = Math.max(2, even(Math.floor(h / 4)));
  const radius = Math.max(2, Math.floor(Math.min(w, h) / 6));
  const sq = Math.max(2, even(Math.floor(Math.min(w, h) / 8)));
  const colors = [
    [230, 20, 35], // rectangle: saturated red
    [25, 210, 50], // circle: saturated green
    [30, 45, 225], // square: saturated blue
  ];
  // seeded noise table (integers in [-noise, noise]), indexed with a per-frame offset
  const NT = 1 << 16;
  const noiseTab = new Float32Array(NT);
  for (let i = 0; i < NT; i++) noiseTab[i] = Math.round((rnd() * 2 - 1) * noise);
  const offsets = Array.from({ length: n }, () => Math.floor(rnd() * NT));
  const R = new Float32Array(plane);
  const G = new Float32Array(plane);
  const B = new Float32Array(plane);
  const bgR = new Float32Array(w);
  const bgG = new Float32Array(h);
  const bgB = new Float32Array(w + h);
  for (let t = 0; t < n; t++) {
    const tp = t + phase;
    // moving gradient background
    for (let x = 0; x < w; x++) bgR[x] = tri((x * 400) / w + tp * 9);
    for (let y = 0; y < h; y++) bgG[y] = tri((y * 400) / h + tp * 5);
    for (let s = 0; s < w + h; s++) bgB[s] = tri((s * 300) / (w + h) + 128 - tp * 6);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        R[i] = bgR[x];
        G[i] = bgG[y];
        B[i] = bgB[x + y];
      }
    }
    // fine (luma) texture in the lower-left quadrant: checkerboard + vertical stripes
    if (texture) {
      for (let y = Math.ceil(h / 2); y < h; y++) {
        for (let x = 0; x < w / 2; x++) {
          const c = ((x + y) & 1 ? 12 : -12) + (x % 3 === 0 ? 8 : 0);
          const i = y * w + x;
          R[i] += c;
          G[i] += c;
          B[i] += c;
        }
      }
    }
    if (shapes) {
      const fillRect = (x0, y0, ww, hh, [cr, cg, cb]) => {
        for (let y = Math.max(0, y0); y < Math.min(h, y0 + hh); y++) {
          for (let x = Math.max(0, x0); x < Math.min(w, x0 + ww); x++) {
            const i = y * w + x;
            R[i] = cr;
            G[i] = cg;
            B[i] = cb;
          }
        }
      };
      // red rectangle moving right
      fillRect(even((tp * 4) % Math.max(1, w - rw)), even(Math.floor(h / 8)), rw, rh, colors[0]);
      // green circle bouncing diagonally
      const spanX = Math.max(1, w - 2 * radius);
      const spanY = Math.max(1, h - 2 * radius);
      const bx = (tp * 2) % (2 * spanX);
      const by = tp % (2 * spanY);
      const cx = radius + (bx < spanX ? bx : 2 * spanX - bx);
      const cy = radius + (by < spanY ? by : 2 * spanY - by);
      const [gr, gg, gb] = colors[1];
      for (let y = Math.max(0, cy - radius - 2); y < Math.min(h, cy + radius + 2); y++) {
        for (let x = Math.max(0, cx - radius - 2); x < Math.min(w, cx + radius + 2); x++) {
          // coverage: 1 inside, 0 outside, a 2-pixel linear ramp across the edge
          const dist = Math.sqrt((x - cx) ** 2 + (y - cy) ** 2);
          const cov = Math.min(1, Math.max(0, (radius - dist) / 2 + 0.5));
          if (cov > 0) {
            const i = y * w + x;
            R[i] = R[i] * (1 - cov) + gr * cov;
            G[i] = G[i] * (1 - cov) + gg * cov;
            B[i] = B[i] * (1 - cov) + gb * cov;
          }
        }
      }
      // blue square moving up-left
      fillRect(
        even(w - sq - ((tp * 2) % Math.max(1, w - sq))),
        even(h - sq - ((tp * 2) % Math.max(1, h - sq))),
        sq,
        sq,
        colors[2],
      );
    }
    const base = t * 3 * plane;
    const off = offsets[t];
    for (let i = 0; i < plane; i++) {
      const k = off + i * 3;
      out[base + i] = clamp(R[i] + noiseTab[k & (NT - 1)]);
      out[base + plane + i] = clamp(G[i] + noiseTab[(k + 1) & (NT - 1)]);
      out[base + 2 * plane + i] = clamp(B[i] + noiseTab[(k + 2) & (NT - 1)]);
    }
  }
  return out;
}

/** N frames of one solid color, NCHW. */
export function solidFramesNCHW(n, h, w, [r, g, b]) {
  const out = new Uint8Array(n * 3 * h * w);
  const plane = h * w;
  for (let t = 0; t < n; t++) {
    const base = t * 3 * plane;
    out.fill(r, base, base + plane);
    out.fill(g, base + plane, base + 2 * plane);
    out.fill(b, base + 2 * plane, base + 3 * plane);
  }
  return out;
}

/** NCHW planar RGB → NHWC interleaved RGB (rgb24 frames). */
export function nchwToNhwc(data, n, h, w) {
  return interleave(data, n, h, w, 3);
}

/**
 * NCHW planar RGB → NHWC RGBA. `alpha` is a number (default 255) or a function
 * (t, y, x) => 0..255 to give arbitrary alpha (which the encoder must ignore).
 */
export function nchwToRgba(data, n, h, w, { alpha = 255 } = {}) {
  return interleave(data, n, h, w, 4, alpha);
}

/** NCHW planar RGB → NHWC with `channels` (3, or 4 with `alpha` as for nchwToRgba). */
function interleave(data, n, h, w, channels, alpha = 255) {
  const out = new Uint8Array(n * h * w * channels);
  const plane = h * w;
  for (let t = 0; t < n; t++) {
    const src = t * 3 * plane;
    const dst = t * plane * channels;
    for (let i = 0; i < plane; i++) {
      const o = dst + i * channels;
      out[o] = data[src + i];
      out[o + 1] = data[src + plane + i];
      out[o + 2] = data[src + 2 * plane + i];
      if (channels === 4) {
        out[o + 3] = typeof alpha === 'function' ? alpha(t, Math.floor(i / w), i % w) & 255 : alpha;
      }
    }
  }
  return out;
}

/** A varying alpha pattern (never constant) for RGBA inputs. */
export const wildAlpha = (t, y, x) => (x * 37 + y * 101 + t * 53) & 255;
