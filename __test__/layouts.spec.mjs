// The same picture given as NCHW, NHWC RGB, NHWC RGBA (any alpha), bare arrays and offset views
// must give the same video.
import test from 'ava';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { makeFramesNCHW, nchwToNhwc, nchwToRgba, wildAlpha, solidFramesNCHW } from './helpers/frames.mjs';
import { decodeRgb, psnr, maxAbsDiff, fmtDb, tmpDirFor, frameCountOf } from './helpers/media.mjs';

const require = createRequire(import.meta.url);
const { VideoEncoder } = require('../index.js');

const N = 6;
const H = 48;
const W = 64;
const LOSSLESS = { codec: 'libx264', pixelFormat: 'yuv444p', crf: 0 };
const nchw = makeFramesNCHW(N, H, W, { seed: 5 });
const nhwc = nchwToNhwc(nchw, N, H, W);
const rgba = nchwToRgba(nchw, N, H, W, { alpha: wildAlpha });
const rgbaOpaque = nchwToRgba(nchw, N, H, W, { alpha: 255 });

async function encodeDecode(frames, options) {
  const enc = new VideoEncoder(frames, { frameRate: 25, ...options });
  const buf = await enc.toBuffer('mkv', LOSSLESS);
  return decodeRgb(buf, W, H, { ext: 'mkv' });
}

let reference;
test.before(async () => {
  reference = await encodeDecode({ data: nchw, shape: [N, 3, H, W] });
});

test('the NCHW reference decodes to the source frames (lossless yuv444p)', (t) => {
  t.is(frameCountOf(reference, W, H), N);
  const p = psnr(reference, nhwc);
  t.log(`NCHW vs source: PSNR ${fmtDb(p)} dB, max abs diff ${maxAbsDiff(reference, nhwc)}`);
  t.true(p >= 40, `PSNR ${p}`);
});

const VARIANTS = [
  ['{data, shape, layout: NHWC} RGB', () => ({ data: nhwc, shape: [N, H, W, 3], layout: 'NHWC' })],
  ['{data, shape, layout: NHWC} RGBA with varying alpha', () => ({ data: rgba, shape: [N, H, W, 4], layout: 'NHWC' })],
  ['{data, shape, layout: NHWC} RGBA with opaque alpha', () => ({ data: rgbaOpaque, shape: [N, H, W, 4], layout: 'NHWC' })],
  ['a bare Uint8Array NCHW', () => nchw, { shape: [N, 3, H, W] }],
  ['a bare Buffer NCHW', () => Buffer.from(nchw), { shape: [N, 3, H, W] }],
  ['a bare Uint8ClampedArray NHWC RGB', () => new Uint8ClampedArray(nhwc), { shape: [N, H, W, 3], layout: 'NHWC' }],
  ['a bare Buffer NHWC RGBA (varying alpha)', () => Buffer.from(rgba), { shape: [N, H, W, 4], layout: 'NHWC' }],
];
for (const [label, make, opts] of VARIANTS) {
  test(`${label} gives the same decoded frames as NCHW`, async (t) => {
    const dec = await encodeDecode(make(), opts);
    t.is(frameCountOf(dec, W, H), N);
    const p = psnr(dec, reference);
    t.log(`${label} vs NCHW: PSNR ${fmtDb(p)} dB, max abs diff ${maxAbsDiff(dec, reference)}`);
    t.true(p >= 50, `PSNR ${p} dB against the NCHW encode`);
  });
}

// A frame store with other content before and after the frames we encode: a reader that ignores
// byteOffset would encode the decoy.
function embedded(src, offset) {
  const decoy = solidFramesNCHW(Math.ceil((offset + src.length + 333) / (3 * H * W)), H, W, [250, 0, 250]);
  const big = new Uint8Array(offset + src.length + 333);
  big.set(decoy.subarray(0, big.length));
  big.set(src, offset);
  return big;
}

const OFFSET_CASES = [
  ['Uint8Array.subarray NCHW at odd offset 777', (src) => embedded(src, 777).subarray(777, 777 + src.length), 'NCHW'],
  ['Buffer over a shared ArrayBuffer NCHW at offset 4096', (src) => {
    const big = embedded(src, 4096);
    return Buffer.from(big.buffer, 4096, src.length);
  }, 'NCHW'],
  ['Uint8Array view NHWC RGB at offset one whole frame', (src) => {
    const off = H * W * 3;
    return new Uint8Array(embedded(src, off).buffer, off, src.length);
  }, 'NHWC3'],
  ['Uint8ClampedArray view NHWC RGBA at offset 13', (src) => {
    const big = embedded(src, 13);
    return new Uint8ClampedArray(big.buffer, 13, src.length);
  }, 'NHWC4'],
];
for (const [label, view, layout] of OFFSET_CASES) {
  for (const form of ['{data, shape}', 'bare + options.shape']) {
    test(`a ${label} (${form}) encodes the viewed frames, not the bytes around them`, async (t) => {
      const src = layout === 'NCHW' ? nchw : layout === 'NHWC3' ? nhwc : rgba;
      const shape = layout === 'NCHW' ? [N, 3, H, W] : [N, H, W, layout === 'NHWC3' ? 3 : 4];
      const lay = layout === 'NCHW' ? 'NCHW' : 'NHWC';
      const data = view(src);
      t.not(data.byteOffset, 0);
      t.is(data.length, src.length);
      const dec =
        form === '{data, shape}'
          ? await encodeDecode({ data, shape, layout: lay })
          : await encodeDecode(data, { shape, layout: lay });
      const p = psnr(dec, reference);
      t.log(`${label}: PSNR vs NCHW reference ${fmtDb(p)} dB`);
      t.true(p >= 50, `PSNR ${p} dB against the NCHW encode`);
    });
  }
}

test('toFile from NHWC RGBA and from NCHW produce videos with identical decoded frames', async (t) => {
  const dir = tmpDirFor(t);
  const a = path.join(dir, 'a.mp4');
  const b = path.join(dir, 'b.mp4');
  await new VideoEncoder({ data: nchw, shape: [N, 3, H, W] }, { frameRate: 25 }).toFile(a);
  await new VideoEncoder({ data: rgba, shape: [N, H, W, 4], layout: 'NHWC' }, { frameRate: 25 }).toFile(b);
  t.true(fs.statSync(a).size > 0 && fs.statSync(b).size > 0);
  const da = decodeRgb(a, W, H);
  const db = decodeRgb(b, W, H);
  t.is(frameCountOf(da, W, H), N);
  const p = psnr(da, db);
  t.log(`default yuv420p, NCHW vs RGBA: PSNR ${fmtDb(p)} dB`);
  // lossy: a one-level rounding difference between the two input paths may steer x264 differently,
  // so this is looser than the lossless comparisons above
  t.true(p >= 40, `PSNR ${p}`);
  t.true(psnr(db, nhwc) >= 25, 'the RGBA encode still shows the source frames');
});
