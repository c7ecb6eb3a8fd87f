// Worker of hostile.mjs: opens a VideoWriter (toFile into `dir`, or toStream into a Writable of its
// own), writes `n` frames and closes it, telling its parent each step: 'opened', 'writing' (the first
// write() was called), 'closing' (close() was called), { closed } (close() resolved). The parent
// terminates it at one of those points. With `idle`, it opens the writer and then waits. With `audio`,
// the writer has an audio track (48 kHz stereo) and each frame's 1/30 s of samples goes to writeAudio()
// before it (one Float32Array, refilled each time: the samples are copied at the call).
import { parentPort, workerData } from 'node:worker_threads';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createRequire } from 'node:module';
import { makeFramesNCHW } from '../helpers/frames.mjs';
import { tone } from '../helpers/audio.mjs';

const require = createRequire(import.meta.url);
const { VideoWriter } = require('../../index.js');

const { n, h, w, dir, method, idle, awaitWrites, audio } = workerData;
const frames = makeFramesNCHW(n, h, w, { seed: 5 });
const size = 3 * h * w;
const RATE = 48000;
const PER_FRAME = RATE / 30;
const options = { width: w, height: h, frameRate: 30, preset: 'medium', onProgress: () => {}, ...(audio ? { audio: { sampleRate: RATE, channels: 2 } } : {}) };
const sink = new Writable({ write(_chunk, _encoding, callback) { setImmediate(callback); } });
sink.on('error', () => {});
const writer = method === 'toFile'
  ? await VideoWriter.toFile(path.join(dir, 'out.mp4'), options)
  : await VideoWriter.toStream(sink, 'mkv', options);
parentPort.postMessage('opened');
if (!idle) {
  const writes = [];
  const samples = new Float32Array(2 * PER_FRAME);
  for (let i = 0; i < n; i++) {
    if (audio) {
      const mono = tone(440 + 10 * i, PER_FRAME, RATE);
      for (let k = 0; k < PER_FRAME; k++) samples[2 * k] = samples[2 * k + 1] = mono[k];
      const a = writer.writeAudio(samples).catch(() => {});
      if (awaitWrites) await a;
      else writes.push(a);
    }
    const p = writer.write(frames.subarray(i * size, (i + 1) * size)).catch(() => {});
    if (i === 0) parentPort.postMessage('writing');
    if (awaitWrites) await p;
    else writes.push(p);
  }
  const closing = writer.close();
  parentPort.postMessage('closing');
  closing.then((r) => parentPort.postMessage({ closed: r.bytes, audioCodec: r.audioCodec }), (e) => parentPort.postMessage({ failed: String(e?.code) }));
} else {
  setInterval(() => {}, 1000); // keeps the worker alive while the writer sits idle
}
