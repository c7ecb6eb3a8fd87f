// Worker of hostile.mjs: encodes seeded frames with toBuffer, reporting 'started', 'progress' (first call
// only) and { done, bytes } to its parent, which terminates it at some point of that life.
import { parentPort, workerData } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { makeFramesNCHW } from '../helpers/frames.mjs';

const require = createRequire(import.meta.url);
const { VideoEncoder } = require('../../index.js');

const { n, h, w, preset, progress } = workerData;
const enc = new VideoEncoder(makeFramesNCHW(n, h, w, { seed: 3 }), { frameRate: 30, shape: [n, 3, h, w] });
let told = false;
const onProgress = progress ? () => { if (!told) { told = true; parentPort.postMessage('progress'); } } : undefined;
const p = enc.toBuffer('mp4', { preset, onProgress });
parentPort.postMessage('started');
p.then((b) => parentPort.postMessage({ done: true, bytes: b.length }), (e) => parentPort.postMessage({ done: true, error: String(e?.message) }));
