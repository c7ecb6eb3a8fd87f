// Codecs by spec name (h264, hevc, vp9, av1, mpeg4) and by implementation name.
import test from 'ava';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { makeFramesNCHW, nchwToNhwc } from './helpers/frames.mjs';
import { decodeRgb, probe, psnr, fmtDb, frameCountOf, tmpDirFor } from './helpers/media.mjs';

const require = createRequire(import.meta.url);
const { VideoEncoder } = require('../index.js');

const N = 5;
const H = 64;
const W = 64;
const nchw = makeFramesNCHW(N, H, W, { seed: 31 });
const source = nchwToNhwc(nchw, N, H, W);
const enc = new VideoEncoder({ data: nchw, shape: [N, 3, H, W] }, { frameRate: 25 });

// format, codec option, expected EncodeResult.codec (or acceptable ones), ffprobe codec_name
const CASES = [
  ['mp4', 'h264', 'libx264', 'h264'],
  ['mp4', 'libx264', 'libx264', 'h264'],
  ['mkv', 'h264', 'libx264', 'h264'],
  ['mp4', 'hevc', 'libx265', 'hevc'],
  ['mkv', 'libx265', 'libx265', 'hevc'],
  ['webm', 'vp9', 'libvpx-vp9', 'vp9'],
  ['webm', 'libvpx-vp9', 'libvpx-vp9', 'vp9'],
  ['mkv', 'vp9', 'libvpx-vp9', 'vp9'],
  ['avi', 'mpeg4', 'mpeg4', 'mpeg4'],
  ['mp4', 'mpeg4', 'mpeg4', 'mpeg4'],
  ['webm', 'vp8', 'libvpx', 'vp8'],
  ['mkv', 'av1', ['libaom-av1', 'libsvtav1', 'librav1e'], 'av1'],
];

for (const [format, codec, encoderName, codecName] of CASES) {
  const names = [].concat(encoderName);
  test(`codec "${codec}" into ${format}: EncodeResult.codec ${names.join('|')}, ffprobe codec_name ${codecName}`, async (t) => {
    const dir = tmpDirFor(t);
    const dest = path.join(dir, `${codec}.${format}`);
    const options = { codec };
    const result = await enc.toFile(dest, options);
    t.true(names.includes(result.codec), `EncodeResult.codec is ${result.codec}`);
    t.is(result.pixelFormat, 'yuv420p');
    t.is(result.frames, N);
    t.is(result.bytes, fs.statSync(dest).size);
    const info = probe(dest);
    t.is(info.video.codec_name, codecName);
    t.is(Number(info.video.nb_read_frames), N);
    const decoded = decodeRgb(dest, W, H, { matrix: 'auto' });
    t.is(frameCountOf(decoded, W, H), N);
    const p = psnr(decoded, source);
    t.log(`${codec} → ${format}: ${result.codec}, ${result.bytes} bytes, PSNR ${fmtDb(p)} dB`);
    t.true(p >= 24, `PSNR ${p}`);
  });
}

test('toBuffer with a spec name ("hevc") writes hevc', async (t) => {
  const buf = await enc.toBuffer('mkv', { codec: 'hevc' });
  t.is(probe(buf, { ext: 'mkv' }).video.codec_name, 'hevc');
});

test('an encoder that is not the container default works with a non-default pixel format (libx265 yuv444p into mov)', async (t) => {
  const dir = tmpDirFor(t);
  const dest = path.join(dir, 'x265.mov');
  const result = await enc.toFile(dest, { codec: 'libx265', pixelFormat: 'yuv444p' });
  t.is(result.codec, 'libx265');
  t.is(result.pixelFormat, 'yuv444p');
  const info = probe(dest);
  t.is(info.video.codec_name, 'hevc');
  t.is(info.video.pix_fmt, 'yuv444p');
});
