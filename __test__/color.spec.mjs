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

// Primaries and transfer are tagged with the matrix's own standard's (BT.601-625 and -525 use the
// SMPTE 170M transfer), in every container that stores them: players such as Chromium ignore a matrix
// whose primaries/transfer are "unknown" (see chromium.spec.mjs).
const TAGS = [
  // extraOptions, [color_space, color_primaries, color_transfer, color_range] as ffprobe names them
  [undefined, ['bt709', 'bt709', 'bt709', 'tv']],
  [{ colorspace: 'bt709', color_range: 'pc' }, ['bt709', 'bt709', 'bt709', 'pc']],
  [{ colorspace: 'bt470bg' }, ['bt470bg', 'bt470bg', 'smpte170m', 'tv']],
  [{ colorspace: 'bt601', color_range: 'pc' }, ['bt470bg', 'bt470bg', 'smpte170m', 'pc']],
  [{ colorspace: 'smpte170m' }, ['smpte170m', 'smpte170m', 'smpte170m', 'tv']],
  [{ colorspace: 'fcc' }, ['fcc', 'bt470m', 'bt470m', 'tv']],
  [{ colorspace: 'smpte240m' }, ['smpte240m', 'smpte240m', 'smpte240m', 'tv']],
  [{ colorspace: 'bt2020nc' }, ['bt2020nc', 'bt2020', 'bt709', 'tv']],
  // The user's color_primaries / color_trc win over the defaults.
  [{ color_primaries: 'bt2020', color_trc: 'smpte2084' }, ['bt709', 'bt2020', 'smpte2084', 'tv']],
  [{ colorspace: 'bt470bg', color_primaries: 'bt709', color_trc: 'iec61966-2-1' }, ['bt470bg', 'bt709', 'iec61966-2-1', 'tv']],
  [{ color_trc: 'linear' }, ['bt709', 'bt709', 'linear', 'tv']],
];
const TAG_TARGETS = [
  ['mp4', 'libx264'],
  ['mov', 'libx264'],
  ['mkv', 'libx264'],
  ['webm', 'libvpx'], // VP8's bitstream has no colour fields: only the container carries them
  ['webm', 'libvpx-vp9'],
];
const tagNames = (v) => [v.color_space, v.color_primaries, v.color_transfer, v.color_range];

for (const [extra, want] of TAGS) {
  test(`${extra ? JSON.stringify(extra) : 'default options'}: tagged ${want.join(' / ')} in mp4, mov, mkv, webm (vp8, vp9)`, async (t) => {
    const enc = new VideoEncoder({ data: solidFramesNCHW(2, 16, 16, COLOR), shape: [2, 3, 16, 16] }, { frameRate: 25 });
    for (const [ext, codec] of TAG_TARGETS) {
      const buf = await enc.toBuffer(ext, { codec, extraOptions: extra });
      const got = tagNames(probe(buf, { ext }).video);
      if (codec === 'libvpx-vp9' && want[0] === 'fcc') {
        // VP9's bitstream has no code for the FCC matrix (libvpx writes "unknown"), and that is what
        // decoders (and ffprobe) report; primaries, transfer and range come from the container.
        t.deepEqual(got, [undefined, ...want.slice(1)], `${ext} ${codec}`);
        continue;
      }
      t.deepEqual(got, want, `${ext} ${codec}`);
      if (ext === 'mp4' || ext === 'mov') {
        // The container's own colour box, not only the H.264 VUI: mp4 'colr' nclx, mov 'colr' nclc.
        t.true(buf.includes(ext === 'mp4' ? 'colrnclx' : 'colrnclc'), `${ext} has a colr box`);
      }
    }
  });
}

test('10- and 12-bit bt2020nc are tagged with the BT.2020 transfer of their depth', async (t) => {
  const enc = new VideoEncoder({ data: solidFramesNCHW(2, 16, 16, COLOR), shape: [2, 3, 16, 16] }, { frameRate: 25 });
  const ten = await enc.toBuffer('mkv', { codec: 'libx265', pixelFormat: 'yuv420p10le', extraOptions: { colorspace: 'bt2020nc' } });
  t.deepEqual(tagNames(probe(ten, { ext: 'mkv' }).video), ['bt2020nc', 'bt2020', 'bt2020-10', 'tv']);
  const twelve = await enc.toBuffer('mkv', { codec: 'libx265', pixelFormat: 'yuv420p12le', extraOptions: { colorspace: 'bt2020nc' } });
  t.deepEqual(tagNames(probe(twelve, { ext: 'mkv' }).video), ['bt2020nc', 'bt2020', 'bt2020-12', 'tv']);
});

test('RGB output carries no colour tags', async (t) => {
  const enc = new VideoEncoder({ data: solidFramesNCHW(2, 16, 16, COLOR), shape: [2, 3, 16, 16] }, { frameRate: 25 });
  const v = probe(await enc.toBuffer('mkv', { codec: 'libx264rgb' }), { ext: 'mkv' }).video;
  t.log(`libx264rgb in mkv: ${tagNames(v).join(' / ')}`);
  t.true([undefined, 'unknown'].includes(v.color_primaries), `primaries ${v.color_primaries}`);
  t.true([undefined, 'unknown'].includes(v.color_transfer), `transfer ${v.color_transfer}`);
});
