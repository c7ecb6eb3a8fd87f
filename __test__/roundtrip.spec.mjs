// Round trip: encode known frames, decode them with the ffmpeg CLI, compare frame by frame.
import test from 'ava';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { makeFramesNCHW, nchwToNhwc } from './helpers/frames.mjs';
import {
  decodeRgb, probe, psnr, perFramePsnr, maxAbsDiff, fmtDb, tmpDirFor, frameCountOf,
} from './helpers/media.mjs';

const require = createRequire(import.meta.url);
const { VideoEncoder } = require('../index.js');

const N = 10;
const H = 48;
const W = 64;
const nchw = makeFramesNCHW(N, H, W, { seed: 1 });
const source = nchwToNhwc(nchw, N, H, W);

const LOSSLESS = [
  ['mp4', { codec: 'libx264', pixelFormat: 'yuv444p', crf: 0 }, 'libx264', 'h264'],
  ['mov', { codec: 'libx264', pixelFormat: 'yuv444p', crf: 0 }, 'libx264', 'h264'],
  ['mkv', { codec: 'libx264', pixelFormat: 'yuv444p', crf: 0 }, 'libx264', 'h264'],
  ['webm', { codec: 'libvpx-vp9', pixelFormat: 'yuv444p', extraOptions: { lossless: 1 } }, 'libvpx-vp9', 'vp9'],
];

for (const [ext, options, encoderName, codecName] of LOSSLESS) {
  test(`lossless round trip through ${ext} (${encoderName} yuv444p): every frame PSNR >= 40 dB`, async (t) => {
    const dir = tmpDirFor(t);
    const dest = path.join(dir, `roundtrip.${ext}`);
    const enc = new VideoEncoder({ data: nchw, shape: [N, 3, H, W] }, { frameRate: 30 });
    const result = await enc.toFile(dest, options);
    t.is(result.codec, encoderName);
    t.is(result.pixelFormat, 'yuv444p');
    t.is(result.frames, N);
    t.is(result.bytes, fs.statSync(dest).size);

    const info = probe(dest);
    t.is(info.video.codec_name, codecName);
    t.is(info.video.pix_fmt, 'yuv444p');
    t.is(info.video.width, W);
    t.is(info.video.height, H);
    t.is(Number(info.video.nb_read_frames), N);

    const decoded = decodeRgb(dest, W, H, { matrix: 'bt709', range: 'tv' });
    t.is(frameCountOf(decoded, W, H), N);
    const per = perFramePsnr(decoded, source, W * H * 3);
    const min = Math.min(...per);
    t.log(`${ext}: per-frame PSNR ${per.map(fmtDb).join(' ')} (min ${fmtDb(min)} dB), ` +
      `overall ${fmtDb(psnr(decoded, source))} dB, max abs diff ${maxAbsDiff(decoded, source)}, ${result.bytes} bytes`);
    for (const [i, p] of per.entries()) t.true(p >= 40, `frame ${i}: PSNR ${p} dB`);
    // the decode shows these frames in this order: frame i matches source i better than source i+1
    const fb = W * H * 3;
    t.true(psnr(decoded.subarray(fb, 2 * fb), source.subarray(fb, 2 * fb)) >
      psnr(decoded.subarray(fb, 2 * fb), source.subarray(2 * fb, 3 * fb)) + 3);
  });
}

test('default options (mp4: libx264 yuv420p, default crf) keep the frames recognisable: PSNR >= 28 dB', async (t) => {
  const h = 96;
  const w = 128;
  const frames = makeFramesNCHW(N, h, w, { seed: 2 });
  const src = nchwToNhwc(frames, N, h, w);
  const dir = tmpDirFor(t);
  const dest = path.join(dir, 'default.mp4');
  const result = await new VideoEncoder({ data: frames, shape: [N, 3, h, w] }, { frameRate: 30 }).toFile(dest);
  t.is(result.format, 'mp4');
  t.is(result.codec, 'libx264');
  t.is(result.pixelFormat, 'yuv420p');
  t.is(result.frames, N);
  const decoded = decodeRgb(dest, w, h);
  t.is(frameCountOf(decoded, w, h), N);
  const per = perFramePsnr(decoded, src, w * h * 3);
  const overall = psnr(decoded, src);
  t.log(`default mp4: per-frame PSNR ${per.map(fmtDb).join(' ')}, overall ${fmtDb(overall)} dB, ${result.bytes} bytes`);
  t.true(overall >= 28, `overall PSNR ${overall}`);
  for (const [i, p] of per.entries()) t.true(p >= 26, `frame ${i}: PSNR ${p} dB`);
});

test('lossless round trip of an NHWC RGB input through mp4', async (t) => {
  const enc = new VideoEncoder({ data: source, shape: [N, H, W, 3], layout: 'NHWC' }, { frameRate: 30 });
  const buf = await enc.toBuffer('mp4', { codec: 'libx264', pixelFormat: 'yuv444p', crf: 0 });
  t.true(Buffer.isBuffer(buf));
  const decoded = decodeRgb(buf, W, H, { ext: 'mp4' });
  t.is(frameCountOf(decoded, W, H), N);
  const p = psnr(decoded, source);
  t.log(`NHWC mp4 lossless: PSNR ${fmtDb(p)} dB, max abs diff ${maxAbsDiff(decoded, source)}`);
  t.true(p >= 40);
});

test('extreme values (black, white, pure primaries) survive a lossless round trip', async (t) => {
  const colors = [[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]];
  const h = 16;
  const w = 16;
  const n = colors.length;
  const data = new Uint8Array(n * 3 * h * w);
  colors.forEach((c, i) => c.forEach((v, ch) => data.fill(v, (i * 3 + ch) * h * w, (i * 3 + ch + 1) * h * w)));
  const buf = await new VideoEncoder({ data, shape: [n, 3, h, w] }, { frameRate: 10 })
    .toBuffer('mkv', { codec: 'libx264', pixelFormat: 'yuv444p', crf: 0 });
  const decoded = decodeRgb(buf, w, h, { ext: 'mkv' });
  t.is(frameCountOf(decoded, w, h), n);
  for (let i = 0; i < n; i++) {
    const px = decoded.subarray(i * h * w * 3, i * h * w * 3 + 3);
    for (let ch = 0; ch < 3; ch++) {
      t.true(Math.abs(px[ch] - colors[i][ch]) <= 3, `frame ${i} (${colors[i]}) decoded as ${[...px]}`);
    }
  }
});
