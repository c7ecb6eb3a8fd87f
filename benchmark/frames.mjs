// Deterministic benchmark frames for framecodec: realistic content for a video encoder.
//
// Each frame is a camera panning (sub-pixel, varying speed) over a large procedural "landscape"
// (fBm value noise in color, with fine detail), plus sharp moving objects (an anti-aliased textured
// disc, a rotating bar, rectangles), a scrolling high-contrast "ticker" band (text-like edges), and
// film grain that changes every frame. No Math.random: everything comes from seeded PRNGs, so the
// same parameters always give the same bytes.
//
// The raw files are written once under benchmark/data/ (gitignored) and reused when present with the
// right size and generator version:
//   <W>x<H>x<N>.rgb      rgb24, NHWC (N×H×W×3), the source for every row
//   <W>x<H>x<N>.yuv      the same frames converted by the ffmpeg CLI to yuv420p, BT.709 limited range
//                        (the "encoder floor" row reads this)
//
//   node benchmark/frames.mjs            writes the two benchmark sizes (720p×300, 1080p×120)
//   node benchmark/frames.mjs 640 360 30 writes one size
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
// The tests' seeded PRNG (mulberry32): the same numbers for the same seed.
import { prng } from '../__test__/helpers/frames.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const DATA_DIR = path.join(HERE, 'data');
export const FRAME_RATE = 30;
// Bump when the generator changes: cached files with another version are regenerated.
export const GENERATOR_VERSION = 1;

/** The two benchmark sizes (issue 5). */
export const SIZES = [
  { name: '720p', width: 1280, height: 720, frames: 300 },
  { name: '1080p', width: 1920, height: 1080, frames: 120 },
];

const clamp8 = (v) => (v < 0 ? 0 : v > 255 ? 255 : v | 0);

/** A value-noise lattice (size g×g, wrapping), sampled with smoothstep interpolation. */
function lattice(rnd, g) {
  const t = new Float32Array(g * g);
  for (let i = 0; i < t.length; i++) t[i] = rnd();
  return (x, y) => {
    const xi = Math.floor(x);
    const yi = Math.floor(y);
    let fx = x - xi;
    let fy = y - yi;
    fx = fx * fx * (3 - 2 * fx);
    fy = fy * fy * (3 - 2 * fy);
    const x0 = ((xi % g) + g) % g;
    const y0 = ((yi % g) + g) % g;
    const x1 = (x0 + 1) % g;
    const y1 = (y0 + 1) % g;
    const a = t[y0 * g + x0];
    const b = t[y0 * g + x1];
    const c = t[y1 * g + x0];
    const d = t[y1 * g + x1];
    return a + (b - a) * fx + (c - a) * fy + (a - b - c + d) * fx * fy;
  };
}

/**
 * A scene for frames of width × height, `frames` long. Returns { render(f, out) } where `out` is a
 * Uint8Array of width*height*3 bytes that receives frame f as rgb24.
 */
export function makeScene(width, height, frames, { seed = 20240605 } = {}) {
  const rnd = prng(seed);
  // Camera path: horizontal pan with a varying speed (1.5..3.5 px/frame), a slow vertical sway.
  const camX = new Float64Array(frames);
  const camY = new Float64Array(frames);
  let x = 0;
  for (let f = 0; f < frames; f++) {
    camX[f] = x;
    camY[f] = 12 + 10 * Math.sin(f / 37);
    x += 2.5 + Math.sin(f / 23);
  }
  const texW = Math.ceil(width + x + 4);
  const texH = height + 32;

  // Landscape texture (rgb float): fBm with 6 octaves, colored by height (sky/grass/rock-like
  // palette), plus a fine high-frequency octave for detail the encoder has to spend bits on.
  const oct = [];
  for (let o = 0; o < 6; o++) oct.push(lattice(rnd, 64));
  const tex = new Float32Array(texW * texH * 3);
  const base = Math.max(width, height) / 3;
  for (let ty = 0; ty < texH; ty++) {
    for (let tx = 0; tx < texW; tx++) {
      let v = 0;
      let amp = 0.5;
      let freq = 1 / base;
      let d = 0;
      for (let o = 0; o < 6; o++) {
        const n = oct[o](tx * freq + o * 17.3, ty * freq + o * 7.1);
        if (o < 4) v += amp * n;
        else d += amp * (n - 0.5);
        amp *= 0.5;
        freq *= 2.3;
      }
      // v in ~[0, 0.94]: palette
      const hgt = v + (ty / texH - 0.5) * 0.35;
      let r, g, b;
      if (hgt < 0.38) { r = 40 + 80 * hgt; g = 70 + 160 * hgt; b = 150 + 150 * hgt; }
      else if (hgt < 0.55) { r = 60 + 120 * (hgt - 0.38); g = 120 + 180 * (hgt - 0.38); b = 50; }
      else { r = 110 + 200 * (hgt - 0.55); g = 100 + 170 * (hgt - 0.55); b = 80 + 160 * (hgt - 0.55); }
      const det = d * 360; // fine detail, ± ~40
      const i = (ty * texW + tx) * 3;
      tex[i] = r + det;
      tex[i + 1] = g + det;
      tex[i + 2] = b + det * 0.8;
    }
  }

  // Grain table: gaussian-ish (sum of 3 uniforms), ±~6, luma-correlated with a little chroma.
  const GN = (1 << 20) + 7;
  const grain = new Int8Array(GN);
  for (let i = 0; i < GN; i++) grain[i] = Math.round((rnd() + rnd() + rnd() - 1.5) * 5);
  const grainOff = Array.from({ length: frames }, () => Math.floor(rnd() * GN));

  // Ticker band: a row pattern of "glyphs" (random bit columns), 1 px edges, scrolls 4 px/frame.
  const tickH = Math.max(8, Math.round(height / 18));
  const tickY = height - tickH - Math.round(height / 20);
  const glyphW = Math.max(3, Math.round(tickH / 4));
  const nGlyph = 512;
  const glyphs = new Uint8Array(nGlyph * 8);
  for (let i = 0; i < glyphs.length; i++) glyphs[i] = rnd() < 0.45 ? 1 : 0;

  const row = new Float32Array(width * 3);

  function render(f, out) {
    const cx = camX[f];
    const cy = camY[f];
    const ix = Math.floor(cx);
    const iy = Math.floor(cy);
    const fx = cx - ix;
    const fy = cy - iy;
    const w00 = (1 - fx) * (1 - fy);
    const w10 = fx * (1 - fy);
    const w01 = (1 - fx) * fy;
    const w11 = fx * fy;
    // objects for this frame
    const t = f / FRAME_RATE;
    const R = Math.round(Math.min(width, height) * 0.12);
    const bx = width * (0.5 + 0.38 * Math.sin(t * 0.9));
    const by = height * (0.45 + 0.3 * Math.sin(t * 1.7 + 1));
    const ang = t * 0.7;
    const ca = Math.cos(ang);
    const sa = Math.sin(ang);
    const barCx = width * 0.25;
    const barCy = height * 0.3;
    const barL = Math.min(width, height) * 0.28;
    const barT = Math.max(3, Math.round(height / 60));
    const rectX = Math.round((f * 5) % (width + width / 5)) - width / 10;
    const rectY = Math.round(height * 0.62);
    const rectW = Math.round(width / 10);
    const rectH = Math.round(height / 9);
    const tickShift = f * 4;
    let g = grainOff[f];

    for (let y = 0; y < height; y++) {
      // background: bilinear sample of the texture at the camera offset
      const r0 = ((iy + y) * texW + ix) * 3;
      const r1 = r0 + texW * 3;
      for (let x = 0, k = 0; x < width; x++, k += 3) {
        const a = r0 + k;
        const b = r1 + k;
        row[k] = tex[a] * w00 + tex[a + 3] * w10 + tex[b] * w01 + tex[b + 3] * w11;
        row[k + 1] = tex[a + 1] * w00 + tex[a + 4] * w10 + tex[b + 1] * w01 + tex[b + 4] * w11;
        row[k + 2] = tex[a + 2] * w00 + tex[a + 5] * w10 + tex[b + 2] * w01 + tex[b + 5] * w11;
      }
      // rectangle (solid, with a 2 px dark border)
      if (y >= rectY && y < rectY + rectH) {
        const x0 = Math.max(0, rectX);
        const x1 = Math.min(width, rectX + rectW);
        const border = y < rectY + 2 || y >= rectY + rectH - 2;
        for (let xx = x0; xx < x1; xx++) {
          const k = xx * 3;
          const edge = border || xx < rectX + 2 || xx >= rectX + rectW - 2;
          row[k] = edge ? 20 : 225;
          row[k + 1] = edge ? 20 : 190;
          row[k + 2] = edge ? 30 : 40;
        }
      }
      // rotating bar (anti-aliased by distance to its axis)
      {
        const dy = y - barCy;
        if (Math.abs(dy) < barL + barT) {
          const xs = Math.max(0, Math.floor(barCx - barL - barT));
          const xe = Math.min(width, Math.ceil(barCx + barL + barT));
          for (let xx = xs; xx < xe; xx++) {
            const dx = xx - barCx;
            const along = dx * ca + dy * sa;
            const across = -dx * sa + dy * ca;
            if (Math.abs(along) > barL) continue;
            const cov = Math.min(1, Math.max(0, barT / 2 - Math.abs(across) + 0.5));
            if (cov <= 0) continue;
            const k = xx * 3;
            row[k] += (245 - row[k]) * cov;
            row[k + 1] += (245 - row[k + 1]) * cov;
            row[k + 2] += (250 - row[k + 2]) * cov;
          }
        }
      }
      // textured disc (checker pattern inside that rotates with the disc), soft edge
      {
        const dy = y - by;
        if (Math.abs(dy) < R + 2) {
          const xs = Math.max(0, Math.floor(bx - R - 2));
          const xe = Math.min(width, Math.ceil(bx + R + 2));
          for (let xx = xs; xx < xe; xx++) {
            const dx = xx - bx;
            const dist = Math.sqrt(dx * dx + dy * dy);
            const cov = Math.min(1, Math.max(0, R - dist + 0.5));
            if (cov <= 0) continue;
            const u = dx * ca + dy * sa;
            const v = -dx * sa + dy * ca;
            const check = ((Math.floor(u / 9) + Math.floor(v / 9)) & 1) === 0;
            const k = xx * 3;
            const cr = check ? 200 : 150;
            const cg = check ? 40 : 20;
            const cb = check ? 60 : 110;
            row[k] += (cr - row[k]) * cov;
            row[k + 1] += (cg - row[k + 1]) * cov;
            row[k + 2] += (cb - row[k + 2]) * cov;
          }
        }
      }
      // ticker band: dark band with light glyph bits
      if (y >= tickY && y < tickY + tickH) {
        const gy = Math.floor(((y - tickY) * 8) / tickH);
        for (let xx = 0; xx < width; xx++) {
          const p = xx + tickShift;
          const gi = Math.floor(p / glyphW) % nGlyph;
          const on = glyphs[gi * 8 + gy] && p % glyphW !== 0;
          const k = xx * 3;
          const lv = on ? 235 : 25;
          row[k] = lv;
          row[k + 1] = lv;
          row[k + 2] = on ? 200 : 60;
        }
      }
      // grain + write
      const o = y * width * 3;
      for (let k = 0; k < width * 3; k += 3) {
        const n = grain[g];
        g = g + 1 === GN ? 0 : g + 1;
        const c = grain[g] >> 2; // small chroma component
        out[o + k] = clamp8(row[k] + n + c + 0.5);
        out[o + k + 1] = clamp8(row[k + 1] + n + 0.5);
        out[o + k + 2] = clamp8(row[k + 2] + n - c + 0.5);
      }
    }
  }
  return { width, height, frames, render };
}

/** Paths of the raw files for one size. */
export function dataPaths({ width, height, frames }) {
  const stem = path.join(DATA_DIR, `${width}x${height}x${frames}`);
  return { rgb: `${stem}.rgb`, yuv: `${stem}.yuv`, meta: `${stem}.json` };
}

function upToDate(p, size, { width, height, frames }) {
  try {
    if (fs.statSync(p.rgb).size !== size.rgb || fs.statSync(p.yuv).size !== size.yuv) return false;
    const m = JSON.parse(fs.readFileSync(p.meta, 'utf8'));
    return m.version === GENERATOR_VERSION && m.width === width && m.height === height && m.frames === frames;
  } catch {
    return false;
  }
}

/**
 * Make sure the raw files for { width, height, frames } exist (generate them if missing, the wrong
 * size, or from another generator version). Returns { rgb, yuv } paths and byte sizes.
 */
export function ensureFrames(spec, { log = console.error } = {}) {
  const { width, height, frames } = spec;
  fs.mkdirSync(DATA_DIR, { recursive: true });
  const p = dataPaths(spec);
  const frameBytes = width * height * 3;
  const size = { rgb: frameBytes * frames, yuv: (width * height * 3 / 2) * frames };
  if (upToDate(p, size, spec)) return { ...p, rgbBytes: size.rgb, yuvBytes: size.yuv };

  log(`frames: generating ${width}x${height} × ${frames} (${(size.rgb / 2 ** 20).toFixed(0)} MiB rgb24) ...`);
  const t0 = performance.now();
  const scene = makeScene(width, height, frames);
  const buf = Buffer.alloc(frameBytes);
  const tmpRgb = `${p.rgb}.tmp`;
  const fd = fs.openSync(tmpRgb, 'w');
  try {
    for (let f = 0; f < frames; f++) {
      scene.render(f, buf);
      fs.writeSync(fd, buf, 0, frameBytes);
    }
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmpRgb, p.rgb);
  log(`frames: rgb24 written in ${((performance.now() - t0) / 1000).toFixed(1)} s; converting to yuv420p (BT.709 tv) with the ffmpeg CLI`);
  const tmpYuv = `${p.yuv}.tmp`;
  const r = spawnSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(FRAME_RATE), '-i', p.rgb,
    '-vf', 'scale=out_color_matrix=bt709:out_range=tv', '-pix_fmt', 'yuv420p',
    '-f', 'rawvideo', tmpYuv,
  ], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`ffmpeg rgb24 → yuv420p conversion failed (exit ${r.status})`);
  fs.renameSync(tmpYuv, p.yuv);
  if (fs.statSync(p.yuv).size !== size.yuv) throw new Error(`${p.yuv}: unexpected size`);
  fs.writeFileSync(p.meta, JSON.stringify({ version: GENERATOR_VERSION, width, height, frames, frameRate: FRAME_RATE }, null, 2));
  log(`frames: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { ...p, rgbBytes: size.rgb, yuvBytes: size.yuv };
}

/**
 * In memory: `total` frames of width×height rgb24 (NHWC) built by tiling `distinct` generated frames
 * (0,1,…,distinct-1,0,1,…) into one buffer, so the input is really `total` frames long.
 */
export function tiledFrames(width, height, distinct, total) {
  const frameBytes = width * height * 3;
  const scene = makeScene(width, height, distinct);
  const out = Buffer.allocUnsafeSlow(frameBytes * total);
  for (let f = 0; f < distinct && f < total; f++) scene.render(f, out.subarray(f * frameBytes, (f + 1) * frameBytes));
  for (let f = distinct; f < total; f++) {
    const src = (f % distinct) * frameBytes;
    out.copy(out, f * frameBytes, src, src + frameBytes);
  }
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [w, h, n] = process.argv.slice(2).map(Number);
  const specs = w ? [{ width: w, height: h, frames: n }] : SIZES;
  for (const s of specs) console.log(ensureFrames(s));
}
