// Worker of hostile.mjs: opens a VideoWriter (toFile into `dir`, or toStream into a Writable of its
// own), writes `n` frames and closes it, telling its parent each step: 'opened', 'writing' (the first
// write() was called), 'closing' (close() was called), { closed } (close() resolved). The parent
// terminates it at one of those points. With `idle`, it opens the writer and then waits.
import { parentPort, workerData } from 'node:worker_threads';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createRequire } from 'node:module';
import { makeFramesNCHW } from '../helpers/frames.mjs';

const require = createRequire(import.meta.url);
const { VideoWriter } = require('../../index.js');

const { n, h, w, dir, method, idle, awaitWrites } = workerData;
const frames = makeFramesNCHW(n, h, w, { seed: 5 });
const size = 3 * h * w;
const options = { width: w, height: h, frameRate: 30, preset: 'medium', onProgress: () => {} };
const sink = new Writable({ write(_chunk, _encoding, callback) { setImmediate(callback); } });
sink.on('error', () => {});
const writer = method === 'toFile'
  ? await VideoWriter.toFile(path.join(dir, 'out.mp4'), options)
  : await VideoWriter.toStream(sink, 'mkv', options);
parentPort.postMessage('opened');
if (!idle) {
  const writes = [];
  for (let i = 0; i < n; i++) {
    const p = writer.write(frames.subarray(i * size, (i + 1) * size)).catch(() => {});
    if (i === 0) parentPort.postMessage('writing');
    if (awaitWrites) await p;
    else writes.push(p);
  }
  const closing = writer.close();
  parentPort.postMessage('closing');
  closing.then((r) => parentPort.postMessage({ closed: r.bytes }), (e) => parentPort.postMessage({ failed: String(e?.code) }));
} else {
  setInterval(() => {}, 1000); // keeps the worker alive while the writer sits idle
}
