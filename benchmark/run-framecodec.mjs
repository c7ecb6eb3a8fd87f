// One framecodec measurement in a fresh process (run.mjs spawns this once per run, so peak RSS is
// per run). Loads the raw rgb24 file into the layout asked for, then times only the encode.
//
//   node benchmark/run-framecodec.mjs --rgb data/1280x720x300.rgb --width 1280 --height 720 \
//        --frames 300 --layout nchw|nhwc|rgba --preset ultrafast --target file|buffer --out /tmp/o.mp4
//
// Prints one line `RESULT {json}` on stdout:
//   loadS          seconds to read the file and derive the layout (not part of encodeS)
//   encodeS        wall seconds of the toFile / toBuffer call itself
//   cpuS           user+system CPU seconds of this process (all threads) during the encode
//   inputBytes     bytes of the frames handed to the encoder
//   rssAtStartBytes RSS after loading the addon, before the frames (the process's own baseline)
//   rssBeforeBytes RSS right before the encode (Node + input)
//   peakRssBytes   process.resourceUsage().maxRSS at the end (peak over the process's life)
//   eventLoop      { maxMs, p99Ms, meanMs } from perf_hooks.monitorEventLoopDelay (10 ms resolution is
//                  the default; we use 5), and intervalMaxGapMs: the largest gap between ticks of a
//                  5 ms setInterval, minus 5 (how late a timer ran at worst)
//   result         the EncodeResult (toBuffer: { bytes, frames: N })
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { measurementArgs } from './measure.mjs';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { a, width, height, n, preset } = measurementArgs(process.argv.slice(2),
  'run-framecodec.mjs --rgb FILE --width W --height H --frames N --layout nchw|nhwc|rgba --preset P --target file|buffer --out FILE');
const layout = String(a.layout ?? 'nhwc');
const target = String(a.target ?? 'file');

const { VideoEncoder } = require(path.join(ROOT, 'index.js'));
// Node + the addon (FFmpeg's libraries mapped and initialised) before any frames exist.
const rssAtStartBytes = process.memoryUsage().rss;

/**
 * Read the first n frames of the rgb24 file into exactly one buffer of the wanted layout. The file is
 * read frame by frame into a small scratch buffer, so the only large allocation is the input itself
 * (peak RSS − input bytes then measures the encoder, not the loader).
 */
function load() {
  const plane = width * height;
  const frameBytes = plane * 3;
  const fd = fs.openSync(a.rgb, 'r');
  try {
    if (layout === 'nhwc') {
      const data = Buffer.allocUnsafeSlow(frameBytes * n);
      const chunk = 64 * 1024 * 1024;
      for (let off = 0; off < data.length; ) {
        const got = fs.readSync(fd, data, off, Math.min(chunk, data.length - off), off);
        if (got <= 0) throw new Error(`${a.rgb}: short read`);
        off += got;
      }
      return { data, shape: [n, height, width, 3], layout: 'NHWC' };
    }
    const scratch = Buffer.allocUnsafe(frameBytes);
    const readFrame = (f) => {
      let off = 0;
      while (off < frameBytes) {
        const got = fs.readSync(fd, scratch, off, frameBytes - off, f * frameBytes + off);
        if (got <= 0) throw new Error(`${a.rgb}: short read`);
        off += got;
      }
    };
    if (layout === 'nchw') {
      const data = Buffer.allocUnsafeSlow(frameBytes * n);
      for (let f = 0; f < n; f++) {
        readFrame(f);
        const r = f * frameBytes;
        const g = r + plane;
        const b = g + plane;
        for (let i = 0, k = 0; i < plane; i++, k += 3) {
          data[r + i] = scratch[k];
          data[g + i] = scratch[k + 1];
          data[b + i] = scratch[k + 2];
        }
      }
      return { data, shape: [n, 3, height, width] };
    }
    if (layout === 'rgba') {
      const data = Buffer.allocUnsafeSlow(plane * 4 * n);
      const u32 = new Uint32Array(data.buffer, data.byteOffset, data.length / 4);
      for (let f = 0; f < n; f++) {
        readFrame(f);
        const o = f * plane;
        // little-endian: bytes R, G, B, A=255
        for (let i = 0, k = 0; i < plane; i++, k += 3) {
          u32[o + i] = (scratch[k] | (scratch[k + 1] << 8) | (scratch[k + 2] << 16) | 0xff000000) >>> 0;
        }
      }
      return { data, shape: [n, height, width, 4], layout: 'NHWC' };
    }
    throw new Error(`unknown layout ${layout}`);
  } finally {
    fs.closeSync(fd);
  }
}

const tLoad = performance.now();
const frames = load();
const loadS = (performance.now() - tLoad) / 1000;
const encoder = new VideoEncoder(frames, { frameRate: 30 });
const opts = { codec: 'libx264', preset, crf: 23, pixelFormat: 'yuv420p' };

globalThis.gc?.();
const rssBeforeBytes = process.memoryUsage().rss;
const peakBeforeBytes = process.resourceUsage().maxRSS * 1024;

const eld = monitorEventLoopDelay({ resolution: 5 });
let lastTick = performance.now();
let maxGap = 0;
const timer = setInterval(() => {
  const now = performance.now();
  if (now - lastTick > maxGap) maxGap = now - lastTick;
  lastTick = now;
}, 5);
eld.enable();

const cpu0 = process.cpuUsage();
const t0 = performance.now();
let result;
if (target === 'buffer') {
  const buf = await encoder.toBuffer('mp4', opts);
  const encodeS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  result = { bytes: buf.length, frames: n, encodeS, cpu };
  fs.writeFileSync(a.out, buf); // for size / PSNR; after the clock stopped
} else {
  const r = await encoder.toFile(a.out, opts);
  result = { ...r, encodeS: (performance.now() - t0) / 1000, cpu: process.cpuUsage(cpu0) };
}
eld.disable();
clearInterval(timer);

const ru = process.resourceUsage();
const out = {
  layout,
  target,
  preset,
  width,
  height,
  frames: n,
  loadS,
  encodeS: result.encodeS,
  cpuS: (result.cpu.user + result.cpu.system) / 1e6,
  inputBytes: frames.data.length,
  rssAtStartBytes,
  rssBeforeBytes,
  peakBeforeBytes,
  peakRssBytes: ru.maxRSS * 1024,
  eventLoop: {
    maxMs: eld.max / 1e6,
    p99Ms: eld.percentile(99) / 1e6,
    meanMs: eld.mean / 1e6,
    intervalMaxGapMs: Math.max(0, maxGap - 5),
  },
  result: { format: result.format, codec: result.codec, pixelFormat: result.pixelFormat, frames: result.frames, bytes: result.bytes },
};
process.stdout.write(`RESULT ${JSON.stringify(out)}\n`);
