// One VideoWriter measurement in a fresh process: frames come from the raw rgb24 file, read in chunks
// of one frame while the previous frame is being written (two buffers, alternately refilled), as an
// app reading frames from a file or a socket would do. run.mjs times the whole process (start-up,
// reading, encoding, exit), like the CLI rows, which read their raw files too.
//
//   node benchmark/run-writer.mjs --rgb data/1280x720x300.rgb --width 1280 --height 720 \
//        --frames 300 --preset ultrafast --out /tmp/o.mp4 [--format ts] [--loop] [--audio]
//
// --audio adds a stereo 48 kHz track (the container's default codec): after each frame, its 1/30 s of a
// tone (1600 samples, one Float32Array refilled), written with writeAudio().
// --loop reads the file round and round until --frames frames were written (for long videos from a
// short file: the memory benchmark). Prints one line `RESULT {json}` on stdout: the EncodeResult,
// writeS (open → close resolved), rssAtStartBytes (after loading the addon) and peakRssBytes.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { measurementArgs } from './measure.mjs';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { a, width, height, n, preset } = measurementArgs(process.argv.slice(2),
  'run-writer.mjs --rgb FILE --width W --height H --frames N --preset P --out FILE [--movflags F] [--x264-params P] [--loop] [--audio]');

const { VideoWriter } = require(path.join(ROOT, 'index.js'));
const rssAtStartBytes = process.memoryUsage().rss;

const frameBytes = width * height * 3;
const fileFrames = Math.floor(fs.statSync(a.rgb).size / frameBytes);
if (!a.loop && fileFrames < n) throw new Error(`${a.rgb} holds ${fileFrames} frames, not ${n}`);
const file = await fs.promises.open(a.rgb, 'r');

/** Reads frame `index` (of the file, round and round with --loop) into `buffer`. */
async function readFrame(buffer, index) {
  const position = (index % fileFrames) * frameBytes;
  for (let off = 0; off < frameBytes; ) {
    const { bytesRead } = await file.read(buffer, off, frameBytes - off, position + off);
    if (bytesRead <= 0) throw new Error(`${a.rgb}: short read`);
    off += bytesRead;
  }
}

const options = { width, height, frameRate: 30, layout: 'NHWC', codec: 'libx264', preset, crf: 23, pixelFormat: 'yuv420p' };
if (a.movflags) options.extraOptions = { movflags: String(a.movflags) };
// --x264-params asm=auto: x264 with AVX-512 (framecodec leaves it out by default, for determinism)
if (a['x264-params']) options.extraOptions = { ...options.extraOptions, 'x264-params': String(a['x264-params']) };
if (a.audio) options.audio = { sampleRate: 48000, channels: 2 };
const AUDIO_PER_FRAME = 1600;
const audio = new Float32Array(AUDIO_PER_FRAME * 2);
/** The tone's samples for frame `index` into `audio` (interleaved stereo). */
function fillAudio(index) {
  for (let i = 0; i < AUDIO_PER_FRAME; i++) {
    const v = 0.3 * Math.sin((2 * Math.PI * 440 * (index * AUDIO_PER_FRAME + i)) / 48000);
    audio[2 * i] = v;
    audio[2 * i + 1] = v;
  }
}
const t0 = performance.now();
const writer = await VideoWriter.toFile(a.out, options);
// Two buffers: while frame i is being written (framecodec reads it), frame i + 1 is read into the other.
const buffers = [Buffer.allocUnsafeSlow(frameBytes), Buffer.allocUnsafeSlow(frameBytes)];
await readFrame(buffers[0], 0);
for (let i = 0; i < n; i++) {
  const writing = writer.write(buffers[i % 2]);
  if (i + 1 < n) await readFrame(buffers[(i + 1) % 2], i + 1);
  await writing;
  if (a.audio) {
    fillAudio(i);
    await writer.writeAudio(audio);
  }
}
const result = await writer.close();
const writeS = (performance.now() - t0) / 1000;
await file.close();

const out = {
  preset,
  width,
  height,
  frames: n,
  writeS,
  rssAtStartBytes,
  peakRssBytes: process.resourceUsage().maxRSS * 1024,
  result,
};
process.stdout.write(`RESULT ${JSON.stringify(out)}\n`);
