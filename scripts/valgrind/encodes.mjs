// Encodes through every host conversion path, for scripts/valgrind/test.sh to run under memcheck
// (`valgrind node --jitless`): the native kernel (NCHW, NHWC RGB, RGBA into yuv420p / yuv444p) and
// swscale (nv12, 10-bit, gray, 4:2:2, gif's rgb8, libx264rgb), with toBuffer, toFile and toStream;
// then VideoWriter through each output: one frame per write() from a buffer refilled after each
// write resolves, one write() of every frame, and batches of 2 and 1 as { data, shape }.
// With the native cases, the audio track: a one-shot with planar samples (aac, swresample fltp), a writer
// fed odd-sized interleaved chunks at 44.1 kHz into opus (resampled to 48 kHz), and flac (s16).
// The frames are exact-size heap blocks, so a read past their end is an error; a width of 30 is not a
// multiple of any SIMD vector, so every row ends in a partial vector.
// FRAMECODEC_ADDON: another build's index.js (to check that the suite catches a known bug).
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeFramesNCHW, nchwToNhwc, nchwToRgba, wildAlpha } from '../../__test__/helpers/frames.mjs';
import { collector } from '../../__test__/helpers/streams.mjs';

const require = createRequire(import.meta.url);
const { VideoEncoder, VideoWriter } = require(process.env.FRAMECODEC_ADDON || '../../index.js');

const [n, h, w] = [3, 18, 30];
const nchw = makeFramesNCHW(n, h, w, { seed: 9 });
const copy = (a) => new Uint8Array(a); // its own exact-size backing store
const inputs = {
  NCHW: () => ({ data: copy(nchw), shape: [n, 3, h, w] }),
  NHWC: () => ({ data: copy(nchwToNhwc(nchw, n, h, w)), shape: [n, h, w, 3], layout: 'NHWC' }),
  RGBA: () => ({ data: copy(nchwToRgba(nchw, n, h, w, { alpha: wildAlpha })), shape: [n, h, w, 4], layout: 'NHWC' }),
};
const only = process.argv[2]; // 'native' or 'swscale' (default: both)
const CASES = [
  ['native', 'NCHW', 'toBuffer', 'mp4', {}],
  ['native', 'NHWC', 'toFile', 'mp4', { pixelFormat: 'yuv444p' }],
  ['native', 'RGBA', 'toStream', 'mp4', {}],
  ['swscale', 'NHWC', 'toBuffer', 'mp4', { pixelFormat: 'nv12' }],
  ['swscale', 'NCHW', 'toBuffer', 'mp4', { pixelFormat: 'yuv420p10le' }],
  ['swscale', 'RGBA', 'toFile', 'mkv', { pixelFormat: 'gray' }],
  ['swscale', 'RGBA', 'toStream', 'mkv', { pixelFormat: 'yuv422p' }],
  ['swscale', 'NCHW', 'toBuffer', 'gif', {}],
  ['swscale', 'NHWC', 'toBuffer', 'nut', { codec: 'libx264rgb' }],
];
// VideoWriter: [conversion, input, output, format, options, batching]
const WRITER_CASES = [
  ['native', 'NCHW', 'toBuffer', 'mp4', {}, 'refilled'],
  ['native', 'NHWC', 'toStream', 'mp4', {}, 'all'],
  ['native', 'RGBA', 'toFile', 'mkv', { pixelFormat: 'yuv444p' }, 'split'],
  ['swscale', 'NHWC', 'toFile', 'mp4', { pixelFormat: 'nv12' }, 'refilled'],
];

/** Writes the frames of `input` (one { data, shape, layout }) to `writer` as `batching` says. */
async function writeFrames(writer, input, batching) {
  const frame = input.data.length / n;
  const layout = input.layout;
  const frameShape = input.shape.slice(1);
  if (batching === 'all') return writer.write(input.data);
  if (batching === 'refilled') {
    const buffer = new Uint8Array(frame); // one exact-size frame, refilled once its write resolved
    for (let i = 0; i < n; i++) {
      buffer.set(input.data.subarray(i * frame, (i + 1) * frame));
      await writer.write(buffer);
    }
    return undefined;
  }
  const first = copy(input.data.subarray(0, 2 * frame));
  const last = copy(input.data.subarray(2 * frame));
  await Promise.all([writer.write({ data: first, shape: [2, ...frameShape], layout }), writer.write({ data: last, shape: [n - 2, ...frameShape], layout })]);
  return undefined;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'framecodec-valgrind-'));
try {
  for (const [conversion, input, method, format, options] of CASES) {
    if (only && only !== conversion) continue;
    const enc = new VideoEncoder(inputs[input](), { frameRate: 10 });
    let bytes;
    if (method === 'toBuffer') {
      bytes = (await enc.toBuffer(format, options)).length;
    } else if (method === 'toFile') {
      const dest = path.join(dir, `out.${format}`);
      if ((await enc.toFile(dest, options)).frames !== n) throw new Error('frames missing');
      bytes = fs.statSync(dest).size;
    } else {
      const stream = collector();
      await enc.toStream(stream, format, options);
      bytes = (await stream.done).length;
    }
    if (!(bytes > 0)) throw new Error(`${conversion} ${input} ${method} ${format}: no output`);
    console.log(`ok ${conversion} ${input} ${method} ${format} ${JSON.stringify(options)}: ${bytes} B`);
  }
  for (const [conversion, input, output, format, options, batching] of WRITER_CASES) {
    if (only && only !== conversion) continue;
    const frames = inputs[input]();
    const [, a, b, c] = frames.shape;
    const geometry = frames.layout === 'NHWC' ? { width: b, height: a, layout: 'NHWC', channels: c } : { width: c, height: b };
    const opts = { ...geometry, frameRate: 10, ...options };
    let writer;
    let stream;
    const dest = path.join(dir, `writer.${format}`);
    if (output === 'toBuffer') writer = await VideoWriter.toBuffer(format, opts);
    else if (output === 'toFile') writer = await VideoWriter.toFile(dest, opts);
    else writer = await VideoWriter.toStream((stream = collector()), format, opts);
    await writeFrames(writer, frames, batching);
    const result = await writer.close();
    const bytes = output === 'toBuffer' ? result.buffer.length : output === 'toFile' ? fs.statSync(dest).size : (await stream.done).length;
    if (result.frames !== n || !(bytes > 0) || bytes !== result.bytes) throw new Error(`writer ${conversion} ${input} ${output} ${format}: ${result.frames} frames, ${bytes} B (result: ${result.bytes})`);
    console.log(`ok writer ${conversion} ${input} ${output} ${format} ${JSON.stringify(options)} ${batching}: ${bytes} B`);
  }
  if (!only || only === 'native') await audioCases();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** A tone of `count` samples per channel as exact-size Float32Arrays, interleaved or one per channel. */
function tone(count, channels, rate, planar) {
  const planes = Array.from({ length: channels }, (_, c) => Float32Array.from({ length: count }, (_, i) => 0.4 * Math.sin((2 * Math.PI * 330 * (c + 1) * i) / rate)));
  if (planar) return planes;
  const out = new Float32Array(count * channels);
  for (let i = 0; i < count; i++) for (let c = 0; c < channels; c++) out[i * channels + c] = planes[c][i];
  return out;
}

async function audioCases() {
  const frames = inputs.NCHW();
  const oneShot = new VideoEncoder(frames, { frameRate: 10, audio: { sampleRate: 48000, channels: 2, samples: tone(14000, 2, 48000, true) } });
  const mp4 = await oneShot.toBuffer('mp4');
  console.log(`ok audio one-shot planar aac mp4: ${mp4.length} B`);
  for (const [format, rate, codec] of [['webm', 44100, undefined], ['mkv', 48000, 'flac']]) {
    const writer = await VideoWriter.toBuffer(format, { width: w, height: h, frameRate: 10, audio: { sampleRate: rate, channels: 2, codec } });
    for (let i = 0; i < n; i++) {
      await writer.write(copy(nchw.subarray(i * 3 * h * w, (i + 1) * 3 * h * w)));
      for (const count of [1, 999, 3410]) await writer.writeAudio(tone(count, 2, rate, false));
    }
    const result = await writer.close();
    if (!result.audioCodec || !(result.buffer.length > 0)) throw new Error(`audio writer ${format}: ${JSON.stringify(result)}`);
    console.log(`ok audio writer ${format} ${result.audioCodec} at ${rate} Hz: ${result.buffer.length} B`);
  }
}
