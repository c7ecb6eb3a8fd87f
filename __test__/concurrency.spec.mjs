// Encoding runs off the JS thread: the event loop stays responsive, several encodes run at once,
// and one VideoEncoder can be reused (concurrently and sequentially) with the same result.
import test from 'ava';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { makeFramesNCHW, nchwToNhwc } from './helpers/frames.mjs';
import { decodeRgb, probe, psnr, fmtDb, tmpDirFor, frameCountOf } from './helpers/media.mjs';

const require = createRequire(import.meta.url);
const { VideoEncoder } = require('../index.js');

const LOSSLESS = { codec: 'libx264', pixelFormat: 'yuv444p', crf: 0 };

test.serial('the event loop stays responsive during a multi-second encode (setInterval 10 ms, max delay < 100 ms)', async (t) => {
  const n = 300;
  const h = 240;
  const w = 320;
  const enc = new VideoEncoder({ data: makeFramesNCHW(n, h, w, { seed: 81 }), shape: [n, 3, h, w] }, { frameRate: 30 });
  const dir = tmpDirFor(t);
  let last = performance.now();
  let maxDelay = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxDelay = Math.max(maxDelay, now - last - 10);
    last = now;
    ticks++;
  }, 10);
  const start = performance.now();
  let result;
  try {
    result = await enc.toFile(path.join(dir, 'long.mp4'), { preset: 'slow' });
  } finally {
    clearInterval(timer);
  }
  const end = performance.now();
  // a blocking encode would show as one long gap before the promise settles
  maxDelay = Math.max(maxDelay, end - last - 10);
  const duration = end - start;
  t.log(`encode of ${n} frames ${w}x${h} (preset slow) took ${duration.toFixed(0)} ms; ${ticks} ticks; max event-loop delay ${maxDelay.toFixed(1)} ms`);
  t.is(result.frames, n);
  t.true(duration > 500, 'the encode is long enough to measure');
  t.true(maxDelay < 100, `max event-loop delay ${maxDelay.toFixed(1)} ms`);
  t.true(ticks >= duration / 10 / 3, `only ${ticks} ticks in ${duration.toFixed(0)} ms`);
});

test('four encodes at once (different encoders, formats and sinks) all produce the right videos', async (t) => {
  const h = 48;
  const w = 64;
  const n = 12;
  const dir = tmpDirFor(t);
  const sources = [1, 2, 3, 4].map((seed) => makeFramesNCHW(n, h, w, { seed: 90 + seed }));
  const encoders = sources.map((data) => new VideoEncoder({ data, shape: [n, 3, h, w] }, { frameRate: 25 }));
  const jobs = [
    encoders[0].toFile(path.join(dir, 'a.mp4'), LOSSLESS),
    encoders[1].toFile(path.join(dir, 'b.webm'), { codec: 'libvpx-vp9', pixelFormat: 'yuv444p', extraOptions: { lossless: 1 } }),
    encoders[2].toBuffer('mkv', LOSSLESS),
    encoders[3].toBuffer('mov', LOSSLESS),
  ];
  const [ra, rb, bc, bd] = await Promise.all(jobs);
  t.is(ra.frames, n);
  t.is(rb.frames, n);
  const decoded = [
    decodeRgb(path.join(dir, 'a.mp4'), w, h),
    decodeRgb(path.join(dir, 'b.webm'), w, h),
    decodeRgb(bc, w, h, { ext: 'mkv' }),
    decodeRgb(bd, w, h, { ext: 'mov' }),
  ];
  decoded.forEach((d, i) => {
    t.is(frameCountOf(d, w, h), n, `job ${i} frame count`);
    const own = psnr(d, nchwToNhwc(sources[i], n, h, w));
    const other = psnr(d, nchwToNhwc(sources[(i + 1) % 4], n, h, w));
    t.log(`job ${i}: PSNR vs own source ${fmtDb(own)} dB, vs another job's source ${fmtDb(other)} dB`);
    t.true(own >= 40, `job ${i}: PSNR ${own}`);
    t.true(own > other + 10, `job ${i} shows its own frames`);
  });
});

test('one VideoEncoder encoded several times at once gives the same frames each time', async (t) => {
  const h = 48;
  const w = 64;
  const n = 10;
  const nchw = makeFramesNCHW(n, h, w, { seed: 95 });
  const enc = new VideoEncoder({ data: nchw, shape: [n, 3, h, w] }, { frameRate: 25 });
  const bufs = await Promise.all([1, 2, 3, 4].map(() => enc.toBuffer('mkv', LOSSLESS)));
  const decoded = bufs.map((b) => decodeRgb(b, w, h, { ext: 'mkv' }));
  const src = nchwToNhwc(nchw, n, h, w);
  t.true(psnr(decoded[0], src) >= 40);
  for (let i = 1; i < decoded.length; i++) {
    t.is(frameCountOf(decoded[i], w, h), n);
    t.deepEqual(decoded[i], decoded[0], `concurrent encode ${i} decodes identically`);
  }
});

test('one VideoEncoder encoded one after another (toFile, toBuffer, toFile) gives the same frames', async (t) => {
  const h = 48;
  const w = 64;
  const n = 10;
  const nchw = makeFramesNCHW(n, h, w, { seed: 96 });
  const enc = new VideoEncoder({ data: nchw, shape: [n, 3, h, w] }, { frameRate: 25 });
  const dir = tmpDirFor(t);
  const r1 = await enc.toFile(path.join(dir, '1.mp4'), LOSSLESS);
  const b2 = await enc.toBuffer('mp4', LOSSLESS);
  const r3 = await enc.toFile(path.join(dir, '3.mp4'), LOSSLESS);
  t.is(r1.frames, n);
  t.is(r3.frames, n);
  t.is(r1.bytes, r3.bytes, 'the same encode twice gives the same size');
  const d1 = decodeRgb(path.join(dir, '1.mp4'), w, h);
  const d2 = decodeRgb(b2, w, h, { ext: 'mp4' });
  const d3 = decodeRgb(path.join(dir, '3.mp4'), w, h);
  t.true(psnr(d1, nchwToNhwc(nchw, n, h, w)) >= 40);
  t.deepEqual(d2, d1);
  t.deepEqual(d3, d1);
  // the encoder's properties are unchanged by use
  t.is(enc.frameCount, n);
  t.is(enc.width, w);
  t.is(enc.height, h);
});

test('the input stays alive while an encode runs even if the caller drops every reference', async (t) => {
  const h = 48;
  const w = 64;
  const n = 30;
  const dir = tmpDirFor(t);
  const dest = path.join(dir, 'gc.mkv');
  const p = (() => {
    const data = makeFramesNCHW(n, h, w, { seed: 97 });
    return new VideoEncoder({ data, shape: [n, 3, h, w] }, { frameRate: 25 }).toFile(dest, LOSSLESS);
  })();
  // churn the heap while the encode runs
  for (let i = 0; i < 50; i++) {
    new Uint8Array(1 << 20).fill(i); // eslint-disable-line no-new
    await new Promise((r) => setImmediate(r));
  }
  if (global.gc) global.gc();
  const result = await p;
  t.is(result.frames, n);
  const dec = decodeRgb(dest, w, h);
  const p2 = psnr(dec, nchwToNhwc(makeFramesNCHW(n, h, w, { seed: 97 }), n, h, w));
  t.true(p2 >= 40, `PSNR ${p2}`);
  t.is(Number(probe(dest).video.nb_read_frames), n);
  t.true(fs.statSync(dest).size > 0);
});
