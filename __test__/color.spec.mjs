// Color: BT.709 limited range by default, tagged; extraOptions colorspace / color_range change both
// the RGB→YUV conversion and the tags.
import test from 'ava';
import { createRequire } from 'node:module';
import { makeFramesNCHW, nchwToNhwc, nchwToRgba, solidFramesNCHW } from './helpers/frames.mjs';
import { decodeRaw, decodeRgb, probe, psnr, fmtDb } from './helpers/media.mjs';

const require = createRequire(import.meta.url);
const { VideoEncoder } = require('../index.js');

const COEFFS = {
  bt709: [0.2126, 0.0722],
  bt470bg: [0.299, 0.114],
  smpte170m: [0.299, 0.114],
  bt2020nc: [0.2627, 0.0593],
  fcc: [0.3, 0.11],
  smpte240m: [0.212, 0.087],
};

/** Expected 8-bit Y, Cb, Cr for an RGB color under a matrix and range. */
function expectedYuv([r, g, b], matrix, range) {
  const [kr, kb] = COEFFS[matrix];
  const kg = 1 - kr - kb;
  const [R, G, B] = [r / 255, g / 255, b / 255];
  const y = kr * R + kg * G + kb * B;
  const pb = (B - y) / (2 * (1 - kb));
  const pr = (R - y) / (2 * (1 - kr));
  const clip = (v) => Math.min(255, Math.max(0, v));
  if (range === 'pc') return [clip(255 * y), clip(128 + 255 * pb), clip(128 + 255 * pr)];
  return [16 + 219 * y, 128 + 224 * pb, 128 + 224 * pr];
}

const SH = 16;
const SW = 16;
const SN = 3;
const LOSSLESS = { codec: 'libx264', pixelFormat: 'yuv444p', crf: 0 };

/** Encode a solid color losslessly, decode raw yuv444p, return the mean Y, U, V of all frames. */
async function solidYuv(color, extraOptions, layout = 'NCHW') {
  const nchw = solidFramesNCHW(SN, SH, SW, color);
  const frames =
    layout === 'NCHW'
      ? { data: nchw, shape: [SN, 3, SH, SW] }
      : layout === 'RGB'
        ? { data: nchwToNhwc(nchw, SN, SH, SW), shape: [SN, SH, SW, 3], layout: 'NHWC' }
        : { data: nchwToRgba(nchw, SN, SH, SW, { alpha: 17 }), shape: [SN, SH, SW, 4], layout: 'NHWC' };
  const buf = await new VideoEncoder(frames, { frameRate: 25 }).toBuffer('mkv', { ...LOSSLESS, extraOptions });
  const raw = decodeRaw(buf, 'yuv444p', { ext: 'mkv' });
  const plane = SH * SW;
  const mean = [0, 0, 0];
  const nframes = raw.length / (3 * plane);
  for (let f = 0; f < nframes; f++) {
    for (let p = 0; p < 3; p++) {
      let s = 0;
      for (let i = 0; i < plane; i++) s += raw[(f * 3 + p) * plane + i];
      mean[p] += s / plane / nframes;
    }
  }
  return { yuv: mean, info: probe(buf, { ext: 'mkv' }), nframes };
}

const COLOR = [200, 30, 40];

const CONVERSIONS = [
  [undefined, 'bt709', 'tv', 'NCHW'],
  [undefined, 'bt709', 'tv', 'RGB'],
  [undefined, 'bt709', 'tv', 'RGBA'],
  [{ colorspace: 'bt470bg', color_range: 'pc' }, 'bt470bg', 'pc', 'NCHW'],
  [{ colorspace: 'bt470bg', color_range: 'pc' }, 'bt470bg', 'pc', 'RGB'],
  [{ colorspace: 'bt470bg', color_range: 'pc' }, 'bt470bg', 'pc', 'RGBA'],
  [{ colorspace: 'bt470bg' }, 'bt470bg', 'tv', 'NCHW'],
  [{ colorspace: 'smpte170m', color_range: 'tv' }, 'smpte170m', 'tv', 'NCHW'],
  [{ color_range: 'pc' }, 'bt709', 'pc', 'NCHW'],
  [{ colorspace: 'bt2020nc' }, 'bt2020nc', 'tv', 'NCHW'],
];

for (const [extra, matrix, range, layout] of CONVERSIONS) {
  const label = extra ? JSON.stringify(extra) : 'default options';
  test(`${label}, ${layout} input: solid (${COLOR}) converts with ${matrix} ${range} range and is tagged so`, async (t) => {
    const { yuv, info, nframes } = await solidYuv(COLOR, extra, layout);
    t.is(nframes, SN);
    const want = expectedYuv(COLOR, matrix, range);
    t.log(`YUV ${yuv.map((v) => v.toFixed(1)).join(', ')}; expected ${want.map((v) => v.toFixed(1)).join(', ')}`);
    ['Y', 'U', 'V'].forEach((name, i) => {
      t.true(Math.abs(yuv[i] - want[i]) <= 2, `${name} = ${yuv[i].toFixed(2)}, expected ${want[i].toFixed(2)} (±2)`);
    });
    t.is(info.video.color_space, matrix);
    t.is(info.video.color_range, range);
  });
}

test('the bt709/tv and bt470bg/pc conversions of the same color really differ', async (t) => {
  const a = (await solidYuv(COLOR)).yuv;
  const b = (await solidYuv(COLOR, { colorspace: 'bt470bg', color_range: 'pc' })).yuv;
  t.true(Math.abs(a[0] - b[0]) > 5 || Math.abs(a[2] - b[2]) > 5, `${a} vs ${b}`);
});

test('default output is tagged bt709 / tv (mp4, mkv, webm)', async (t) => {
  const n = 4;
  const enc = new VideoEncoder({ data: makeFramesNCHW(n, 32, 32), shape: [n, 3, 32, 32] }, { frameRate: 25 });
  for (const ext of ['mp4', 'mkv', 'webm']) {
    const v = probe(await enc.toBuffer(ext), { ext }).video;
    t.is(v.color_space, 'bt709', `${ext} color_space`);
    t.is(v.color_range, 'tv', `${ext} color_range`);
  }
});

test('a video encoded with bt470bg/pc decodes right with BT.601 full range and worse with BT.709 limited', async (t) => {
  const n = 4;
  const h = 48;
  const w = 64;
  const nchw = makeFramesNCHW(n, h, w, { seed: 8 });
  const src = nchwToNhwc(nchw, n, h, w);
  const buf = await new VideoEncoder({ data: nchw, shape: [n, 3, h, w] }, { frameRate: 25 })
    .toBuffer('mp4', { ...LOSSLESS, extraOptions: { colorspace: 'bt470bg', color_range: 'pc' } });
  const right = psnr(decodeRgb(buf, w, h, { matrix: 'bt470bg', range: 'pc', ext: 'mp4' }), src);
  const wrong = psnr(decodeRgb(buf, w, h, { matrix: 'bt709', range: 'tv', ext: 'mp4' }), src);
  t.log(`decoded as BT.601 full: ${fmtDb(right)} dB, as BT.709 limited: ${fmtDb(wrong)} dB`);
  t.true(right >= 40, `PSNR ${right}`);
  t.true(right > wrong + 6);
});

test('an unknown colorspace value is refused with a coded error naming it', async (t) => {
  const enc = new VideoEncoder({ data: solidFramesNCHW(2, 16, 16, COLOR), shape: [2, 3, 16, 16] }, { frameRate: 25 });
  const err = await t.throwsAsync(enc.toBuffer('mp4', { extraOptions: { colorspace: 'rainbow' } }));
  t.true(['ERR_INVALID_OPTION', 'ERR_INVALID_ARG_VALUE'].includes(err.code), `code ${err.code}`);
  t.true(err.message.includes('rainbow'));
});
