// Child process of hostile.spec.mjs (run with --expose-gc): one hostile scenario per run, its verdict as
// the last line of stdout (JSON). A crash of this process is the failure the spec looks for.
//   node --expose-gc hostile.mjs detach <toFile|toBuffer|toStream> <structuredClone|postMessage|transfer> <before|sync|progress>
//   node --expose-gc hostile.mjs shrink <method> <before|sync|progress> <fixed|tracking>
//   node --expose-gc hostile.mjs worker-during <seed>
//   node --expose-gc hostile.mjs worker-after <seed>
//   node --expose-gc hostile.mjs aborts <method> <seed> <count>
// and the same for VideoWriter (its frames written in batches of BATCH frames, each its own buffer):
//   node --expose-gc hostile.mjs writer-detach <method> <structuredClone|postMessage|transfer> <before|sync|pending|after>
//   node --expose-gc hostile.mjs writer-shrink <method> <before|sync|pending> <fixed|tracking>
//   node --expose-gc hostile.mjs writer-spoof <method> <lie|shrinkLater|detach|resize0|shapeDetach|shapeShrink>
//   node --expose-gc hostile.mjs writer-worker <idle|mid-write|mid-close|after-close> <seed> [audio]
//   node --expose-gc hostile.mjs writer-dropped <idle|written|pending>
//   node --expose-gc hostile.mjs writer-exit <idle|written|gc>     (exits by itself: no process.exit)
//   node --expose-gc hostile.mjs writer-aborts <method> <seed> <count> [audio]
// (audio: the writer has an audio track, and each batch's samples go to writeAudio() before it)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { makeFramesNCHW, prng } from '../helpers/frames.mjs';
import { tone } from '../helpers/audio.mjs';

const require = createRequire(import.meta.url);
const { VideoEncoder, VideoWriter } = require('../../index.js');
const here = path.dirname(fileURLToPath(import.meta.url));

const [cmd, ...args] = process.argv.slice(2);
const verdict = (o) => { process.stdout.write(`${JSON.stringify(o)}\n`); };
const gc = globalThis.gc ?? (() => { throw new Error('run with --expose-gc'); });

// Frames big enough for their memory to be mmapped (freed = unmapped: a read after free faults) and for
// an encode to last tens of ms (a window to act in); width 256 keeps libx264's output deterministic.
const N = 24;
const H = 256;
const W = 256;
const SHAPE = [N, 3, H, W];
const OPTS = { preset: 'medium' };

const CODED = new Map([['ERR_INVALID_STATE', Error], ['ERR_INVALID_ARG_VALUE', TypeError]]);
function describe(e) {
  return e instanceof Error ? { class: e.constructor.name, code: e.code, message: String(e.message).slice(0, 200) } : { thrown: String(e) };
}

/** Collects what a toStream writes. */
function sink({ finalDelay = 0 } = {}) {
  const chunks = [];
  const w = new Writable({
    write(c, enc, cb) { chunks.push(Buffer.from(c)); cb(); },
    final(cb) { if (finalDelay) setTimeout(cb, finalDelay); else cb(); w.emit('fz-final'); },
  });
  w.on('error', () => {});
  w.bytes = () => Buffer.concat(chunks);
  return w;
}

/** Start one encode by `method`; returns { promise, output() } (output: the bytes it produced). */
// (a synchronous throw counts as a rejection)
let destSeq = 0;
function start(enc, method, dir, opts) {
  const { finalDelay, ...o } = opts ?? {};
  const call = (f) => { try { return f(); } catch (e) { return Promise.reject(e); } };
  if (method === 'toBuffer') {
    const promise = call(() => enc.toBuffer('mp4', o));
    return { promise, output: async () => promise.then((b) => b) };
  }
  if (method === 'toFile') {
    const dest = path.join(dir, `out-${destSeq++}.mp4`);
    const promise = call(() => enc.toFile(dest, o));
    return { promise, dest, output: async () => { await promise; return fs.readFileSync(dest); } };
  }
  const s = sink({ finalDelay });
  const promise = call(() => enc.toStream(s, 'mp4', o));
  return { promise, stream: s, output: async () => { await promise; return s.bytes(); } };
}

/** Detach an ArrayBuffer by one of the ways a program can. */
function detach(ab, how) {
  if (how === 'structuredClone') {
    let copy = structuredClone(ab, { transfer: [ab] });
    copy = null;
    return copy;
  }
  if (how === 'postMessage') {
    // to a worker that drops it and collects it: the memory is freed while the encode runs
    dropper.postMessage(ab, [ab]);
    return null;
  }
  if (typeof ab.transfer !== 'function') return 'unsupported';
  ab.transfer();
  return null;
}

/** A worker that drops and collects what it is sent, then says 'freed' (a worker inherits --expose-gc). */
async function startDropper() {
  const w = new Worker("const { parentPort } = require('node:worker_threads'); parentPort.on('message', () => setTimeout(() => { globalThis.gc(); globalThis.gc(); parentPort.postMessage('freed'); }, 1));", { eval: true });
  await new Promise((resolve) => w.once('online', resolve));
  w.unref();
  return w;
}
let dropper;

/** Collect garbage and overwrite freed memory with new allocations, so a stale read shows. */
function churn() {
  gc();
  const keep = [];
  for (let i = 0; i < 8; i++) keep.push(new Uint8Array(N * 3 * H * W).fill(0xa5));
  gc();
  return keep.length;
}

async function detachScenario([method, how, when]) {
  if (how === 'transfer' && typeof ArrayBuffer.prototype.transfer !== 'function') return { ok: true, skipped: 'ArrayBuffer.prototype.transfer does not exist in this Node' };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'framecodec-hostile-'));
  try {
    const frames = makeFramesNCHW(N, H, W, { seed: 7 });
    const ref = await start(new VideoEncoder(frames.slice(), { frameRate: 30, shape: SHAPE }), method, dir, OPTS).output();
    const enc = new VideoEncoder(frames, { frameRate: 30, shape: SHAPE });
    let detached = false;
    const doDetach = () => {
      if (detached) return;
      detached = true;
      if (detach(frames.buffer, how) === 'unsupported') detached = 'unsupported';
      churn();
    };
    if (how === 'postMessage') dropper = await startDropper();
    if (when === 'before') {
      doDetach();
      if (how === 'postMessage') await new Promise((resolve) => dropper.once('message', resolve));
      churn();
    }
    const opts = { ...OPTS, onProgress: () => { if (when === 'progress') doDetach(); } };
    const job = start(enc, method, dir, opts);
    if (when === 'sync') doDetach();
    const timer = setInterval(churn, 5);
    let out;
    try {
      out = await job.output();
    } catch (e) {
      clearInterval(timer);
      churn();
      const cls = CODED.get(e?.code);
      const leftovers = fs.readdirSync(dir).filter((f) => !f.startsWith('out-') || (job.dest && path.basename(job.dest) === f));
      if (!cls) return { ok: false, why: 'rejected with an error other than ERR_INVALID_STATE / ERR_INVALID_ARG_VALUE', error: describe(e) };
      if (Object.getPrototypeOf(e) !== cls.prototype) return { ok: false, why: `${e.code} is a ${e.constructor.name}, not a ${cls.name}`, error: describe(e) };
      if (method === 'toFile' && leftovers.length) return { ok: false, why: 'left a file', files: leftovers };
      return { ok: true, rejected: e.code };
    }
    clearInterval(timer);
    churn();
    if (!detached) return { ok: false, why: 'the encode settled before the detach (the scenario did not happen)' };
    if (!out.equals(ref)) return { ok: false, why: 'resolved, but the output differs from an encode of the intact frames (it read memory that was freed)', bytes: out.length, refBytes: ref.length };
    return { ok: true, resolved: out.length };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function shrinkScenario([method, when, view]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'framecodec-hostile-'));
  try {
    const frames = makeFramesNCHW(N, H, W, { seed: 8 });
    const ref = await start(new VideoEncoder(frames.slice(), { frameRate: 30, shape: SHAPE }), method, dir, OPTS).output();
    const ab = new ArrayBuffer(frames.length, { maxByteLength: frames.length * 2 });
    const data = view === 'tracking' ? new Uint8Array(ab) : new Uint8Array(ab, 0, frames.length);
    data.set(frames);
    const enc = new VideoEncoder(data, { frameRate: 30, shape: SHAPE });
    let shrunk = false;
    const shrink = () => { if (!shrunk) { shrunk = true; ab.resize(0); churn(); } };
    if (when === 'before') shrink();
    const job = start(enc, method, dir, { ...OPTS, onProgress: () => { if (when === 'progress') shrink(); } });
    if (when === 'sync') shrink();
    let out;
    try {
      out = await job.output();
    } catch (e) {
      const cls = CODED.get(e?.code);
      if (!cls) return { ok: false, why: 'rejected with an error other than ERR_INVALID_STATE / ERR_INVALID_ARG_VALUE', error: describe(e) };
      if (Object.getPrototypeOf(e) !== cls.prototype) return { ok: false, why: `${e.code} is a ${e.constructor.name}, not a ${cls.name}`, error: describe(e) };
      if (method === 'toFile' && fs.readdirSync(dir).some((f) => !f.startsWith('out-') || f === path.basename(job.dest))) return { ok: false, why: 'left a file' };
      return { ok: true, rejected: e.code };
    }
    if (!shrunk) return { ok: false, why: 'the encode settled before the resize (the scenario did not happen)' };
    if (!out.equals(ref)) return { ok: false, why: 'resolved, but the output differs from an encode of the intact frames (it read memory past the shrunk buffer)' };
    return { ok: true, resolved: out.length };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const WORKER = path.join(here, 'hostile-worker.mjs');

/** A worker starts an encode (with progress); it is terminated at a seeded moment while it runs. */
async function workerDuring([seed]) {
  const rnd = prng(Number(seed));
  const w = new Worker(WORKER, { workerData: { n: N, h: H, w: W, preset: 'medium', progress: true } });
  const how = rnd() < 0.5 ? 'first-progress' : 'delay';
  const delay = Math.floor(rnd() * 60);
  const started = await new Promise((resolve) => {
    w.on('message', (m) => {
      if (m === 'started' && how === 'delay') setTimeout(() => resolve(w.terminate().then(() => 'terminated after delay')), delay);
      if (m === 'progress' && how === 'first-progress') resolve(w.terminate().then(() => 'terminated at first progress'));
      if (m?.done) resolve('the encode finished first');
    });
    w.on('error', (e) => resolve(`worker error ${e?.message}`));
  });
  const what = await started;
  // the process must live on: give the encode thread time to touch whatever it would touch
  for (let i = 0; i < 20; i++) { churn(); await new Promise((r) => setTimeout(r, 10)); }
  return { ok: true, what, how, delay };
}

/** 4 workers each encode 30 frames; each is terminated as soon as its result arrives. */
async function workerAfter([seed]) {
  const rnd = prng(Number(seed));
  const runs = Array.from({ length: 4 }, () => new Promise((resolve) => {
    const w = new Worker(WORKER, { workerData: { n: 30, h: 64 + 16 * Math.floor(rnd() * 4), w: 64, preset: 'ultrafast', progress: rnd() < 0.5 } });
    w.on('message', (m) => { if (m?.done) w.terminate().then(() => resolve(m.bytes)); });
    w.on('error', (e) => resolve(`worker error ${e?.message}`));
  }));
  const results = await Promise.all(runs);
  for (let i = 0; i < 10; i++) { churn(); await new Promise((r) => setTimeout(r, 10)); }
  const bad = results.filter((r) => typeof r !== 'number' || r <= 0);
  return bad.length ? { ok: false, why: 'a worker did not finish its encode', results } : { ok: true, results };
}

/** `count` aborts at seeded random times over the whole encode (conversion, flush, trailer, stream end). */
async function aborts([method, seed, count]) {
  const rnd = prng(Number(seed));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'framecodec-aborts-'));
  const frames = makeFramesNCHW(N, H, W, { seed: 9 });
  const enc = new VideoEncoder(frames, { frameRate: 30, shape: SHAPE });
  const FINAL_DELAY = 15; // toStream: the stream takes this long to finish (a window at "stream end")
  // the encode's length (the median of 3), to spread the aborts over it
  let t0;
  const lengths = [];
  for (let i = 0; i < 3; i++) {
    t0 = performance.now();
    await start(enc, method, dir, { ...OPTS, finalDelay: FINAL_DELAY }).output();
    lengths.push(performance.now() - t0);
  }
  const duration = lengths.sort((x, y) => x - y)[1];
  for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
  const failures = [];
  const tally = { rejected: 0, resolvedBeforeAbort: 0, late: 0 };
  const phases = {};
  let inLife = 0; // aborts called before the Promise settled
  try {
    // until `count` aborts landed before the Promise settled (the others came too late to count)
    for (let k = 0; inLife < Number(count) && k < 4 * Number(count); k++) {
      const controller = new AbortController();
      const reason = new Error(`abort ${k}`);
      let settled = false;
      let abortedBeforeSettle = null;
      let abortAt = 0;
      const kind = rnd();
      // most at a random time; some at the last progress call or at the stream's final()
      const mode = kind < 0.7 ? 'timer' : kind < 0.85 ? 'lastProgress' : method === 'toStream' ? 'streamFinal' : 'immediate';
      const doAbort = (phase) => {
        if (controller.signal.aborted) return;
        abortedBeforeSettle = !settled;
        abortAt = performance.now();
        phases[phase] = (phases[phase] ?? 0) + 1;
        controller.abort(reason);
      };
      const opts = { ...OPTS, signal: controller.signal, finalDelay: FINAL_DELAY };
      opts.onProgress = (p) => { if (mode === 'lastProgress' && p.framesEncoded === p.totalFrames) doAbort('lastProgress'); };
      t0 = performance.now();
      const job = start(enc, method, dir, opts);
      let outcome;
      const p = job.promise.then((v) => { settled = true; outcome = { resolved: v }; }, (e) => { settled = true; outcome = { rejected: e }; });
      let timer;
      if (mode === 'timer') {
        const at = rnd() * (duration + FINAL_DELAY) * 1.1;
        timer = setTimeout(() => doAbort(`timer:${Math.min(9, Math.floor((10 * at) / (duration + FINAL_DELAY)))}0%`), at);
      } else if (mode === 'immediate') setImmediate(() => doAbort('immediate'));
      else if (mode === 'streamFinal') job.stream.once('fz-final', () => doAbort('streamFinal'));
      await p;
      clearTimeout(timer);
      const settleAt = performance.now();
      if (abortedBeforeSettle === null || abortedBeforeSettle === false) {
        if (outcome.rejected) failures.push({ k, mode, why: 'no abort before it settled, yet it rejected', error: describe(outcome.rejected) });
        else tally.resolvedBeforeAbort++;
        if (job.dest) fs.rmSync(job.dest, { force: true });
        continue;
      }
      inLife++;
      const e = outcome.rejected;
      if (!e) { failures.push({ k, mode, why: `aborted ${(settleAt - abortAt).toFixed(1)} ms before it settled, yet it resolved`, at: (abortAt - t0).toFixed(1) }); if (job.dest) fs.rmSync(job.dest, { force: true }); continue; }
      if (e.code !== 'ABORT_ERR' || e.name !== 'AbortError' || e.cause !== reason || Object.getPrototypeOf(e) !== Error.prototype) {
        failures.push({ k, mode, why: 'rejected, but not with an AbortError (code ABORT_ERR, cause = signal.reason)', error: describe(e) });
      } else tally.rejected++;
      if (settleAt - abortAt > 1000) { tally.late++; failures.push({ k, mode, why: `rejected ${(settleAt - abortAt).toFixed(0)} ms after abort()` }); }
      const left = fs.readdirSync(dir);
      if (left.length) { failures.push({ k, mode, why: 'an aborted toFile left files', files: left }); for (const f of left) fs.rmSync(path.join(dir, f), { force: true }); }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (inLife < Number(count)) failures.push({ why: `only ${inLife} aborts landed before the Promise settled` });
  return { ok: failures.length === 0, inLife, duration: Math.round(duration), tally, phases, failures: failures.slice(0, 8), failureCount: failures.length };
}


// ------------------------------------------------------------------ VideoWriter

const BATCH = 4; // frames per write()
const FRAME = 3 * H * W;
const WOPTS = { width: W, height: H, frameRate: 30, preset: 'medium' };

/** Open a writer by `method`; `output()` (after close() resolved) gives its bytes. */
async function openWriter(method, dir, opts = {}) {
  if (method === 'toBuffer') {
    const writer = await VideoWriter.toBuffer('mp4', { ...WOPTS, ...opts });
    return { writer, output: (r) => r.buffer };
  }
  if (method === 'toFile') {
    const dest = path.join(dir, `out-${destSeq++}.mp4`);
    const writer = await VideoWriter.toFile(dest, { ...WOPTS, ...opts });
    return { writer, dest, output: () => fs.readFileSync(dest) };
  }
  const s = sink();
  const writer = await VideoWriter.toStream(s, 'mp4', { ...WOPTS, ...opts });
  return { writer, output: () => s.bytes() };
}

/** The frames in batches, each a copy in its own ArrayBuffer (made by `make(bytes)`). */
function batchesOf(frames, make = (b) => b.slice()) {
  return Array.from({ length: N / BATCH }, (_, i) => make(frames.subarray(i * BATCH * FRAME, (i + 1) * BATCH * FRAME)));
}

/** The writer's output for intact frames, written in the same batches (each after its audio, with `audio`). */
async function writerReference(method, dir, frames, { audio = false } = {}) {
  const w = await openWriter(method, dir, audio ? { audio: AUDIO } : {});
  const sound = audio ? batchAudio() : [];
  for (const [i, b] of batchesOf(frames).entries()) {
    if (audio) await w.writer.writeAudio(sound[i]);
    await w.writer.write(b);
  }
  return Buffer.from(w.output(await w.writer.close()));
}

/** Interleaved stereo samples as two planes, whose second element is a getter that calls `onRead` first. */
function planesReading(interleaved, onRead) {
  const n = interleaved.length / 2;
  const planes = [0, 1].map((c) => Float32Array.from({ length: n }, (_, k) => interleaved[2 * k + c]));
  const arr = [planes[0]];
  Object.defineProperty(arr, 1, { get() { onRead(); return planes[1]; }, enumerable: true });
  return arr;
}

/** The audio track of the writers with audio: 48 kHz stereo; each batch's 4/30 s of samples, interleaved. */
const AUDIO = { sampleRate: 48000, channels: 2 };
function batchAudio() {
  const n = (BATCH * AUDIO.sampleRate) / 30;
  return Array.from({ length: N / BATCH }, (_, i) => {
    const mono = tone(330 + 40 * i, n, AUDIO.sampleRate);
    const out = new Float32Array(2 * n);
    for (let k = 0; k < n; k++) out[2 * k] = out[2 * k + 1] = mono[k];
    return out;
  });
}

/**
 * Writes the batches (un-awaited), doing `hostile(batch, i)` at the point `when` says; a write refused
 * with ERR_INVALID_ARG_VALUE (a buffer detached or emptied before the call) is written again from an
 * intact copy. Returns the output, or the verdict of a contract break, or { rejected } for a coded error.
 */
async function hostileWrites(method, dir, frames, batches, when, hostile) {
  let fired = false;
  let called = 0; // batches handed to write() so far
  const fire = () => { if (!fired) { fired = true; batches.slice(0, when === 'before' ? batches.length : called).forEach((b, i) => hostile(b, i)); churn(); } };
  const w = await openWriter(method, dir, { onProgress: () => { if (when === 'pending') fire(); } });
  if (when === 'before') fire();
  const writes = [];
  for (let i = 0; i < batches.length; i++) {
    const intact = frames.subarray(i * BATCH * FRAME, (i + 1) * BATCH * FRAME);
    called = i + 1;
    const p = w.writer.write(batches[i]).catch((e) => {
      if (e?.code === 'ERR_INVALID_ARG_VALUE' && when === 'before') return w.writer.write(intact.slice()); // refused: an intact copy instead
      throw e;
    });
    if (when === 'sync') { fired = true; hostile(batches[i], i); }
    if (when === 'after') { await p; fired = true; hostile(batches[i], i); }
    if (when === 'before') await p; // a refused batch is written again before the next one
    writes.push(p);
  }
  const timer = setInterval(churn, 5);
  try {
    await Promise.all(writes);
    const r = await w.writer.close();
    clearInterval(timer);
    churn();
    return { out: Buffer.from(w.output(r)), fired };
  } catch (e) {
    clearInterval(timer);
    churn();
    const cls = CODED.get(e?.code);
    if (!cls) return { verdict: { ok: false, why: 'rejected with an error other than ERR_INVALID_STATE / ERR_INVALID_ARG_VALUE', error: describe(e) } };
    if (Object.getPrototypeOf(e) !== cls.prototype) return { verdict: { ok: false, why: `${e.code} is a ${e.constructor.name}, not a ${cls.name}`, error: describe(e) } };
    await w.writer.abort();
    if (method === 'toFile' && fs.existsSync(w.dest)) return { verdict: { ok: false, why: 'a failed writer left its file' } };
    return { verdict: { ok: true, rejected: e.code } };
  }
}

function judgeOutput(res, ref, what) {
  if (res.verdict) return res.verdict;
  if (!res.fired) return { ok: false, why: `the writer closed before the ${what} (the scenario did not happen)` };
  if (!res.out.equals(ref)) return { ok: false, why: `resolved, but the output differs from the intact frames' (it read memory that was freed or shrunk): ${what}`, bytes: res.out.length, refBytes: ref.length };
  return { ok: true, resolved: res.out.length };
}

async function writerDetach([method, how, when]) {
  if (how === 'transfer' && typeof ArrayBuffer.prototype.transfer !== 'function') return { ok: true, skipped: 'ArrayBuffer.prototype.transfer does not exist in this Node' };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'framecodec-hostile-'));
  try {
    const frames = makeFramesNCHW(N, H, W, { seed: 17 });
    const ref = await writerReference(method, dir, frames);
    if (how === 'postMessage') dropper = await startDropper();
    const res = await hostileWrites(method, dir, frames, batchesOf(frames), when, (b) => {
      try { detach(b.buffer, how); } catch { /* untransferable: DataCloneError */ }
    });
    return judgeOutput(res, ref, `${how} ${when}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function writerShrink([method, when, view]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'framecodec-hostile-'));
  try {
    const frames = makeFramesNCHW(N, H, W, { seed: 18 });
    const ref = await writerReference(method, dir, frames);
    const batches = batchesOf(frames, (b) => {
      const ab = new ArrayBuffer(b.length, { maxByteLength: 2 * b.length });
      const u = view === 'tracking' ? new Uint8Array(ab) : new Uint8Array(ab, 0, b.length);
      u.set(b);
      return u;
    });
    const res = await hostileWrites(method, dir, frames, batches, when, (b) => b.buffer.resize(0));
    return judgeOutput(res, ref, `resize(0) ${when}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * An ArrayBuffer whose own `resizable` property lies (a resizable buffer that says it is not, then is
 * shrunk), or whose getter detaches or shrinks it while write() reads it; or frames whose shape getter
 * detaches or shrinks their data while write() reads them.
 */
async function writerSpoof([method, trick]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'framecodec-hostile-'));
  try {
    const frames = makeFramesNCHW(N, H, W, { seed: 19 });
    const ref = await writerReference(method, dir, frames);
    const resizable = trick !== 'detach' && trick !== 'shapeDetach';
    const batches = batchesOf(frames, (b) => {
      const ab = resizable ? new ArrayBuffer(b.length, { maxByteLength: 2 * b.length }) : new ArrayBuffer(b.length);
      const u = new Uint8Array(ab);
      u.set(b);
      Object.defineProperty(ab, 'resizable', {
        get() {
          if (trick === 'detach') { structuredClone(ab, { transfer: [ab] }); churn(); return false; }
          if (trick === 'resize0') { ab.resize(0); churn(); return true; }
          return false; // lie, shrinkLater: "not resizable"
        },
      });
      return u;
    });
    const shrink = (b) => { if (trick === 'lie' || trick === 'shrinkLater') b.buffer.resize(0); };
    // shapeDetach, shapeShrink: { data, shape } whose shape getter detaches or shrinks data as write() reads it
    const wrap = trick.startsWith('shape')
      ? (b) => ({ data: b, get shape() { if (trick === 'shapeDetach') structuredClone(b.buffer, { transfer: [b.buffer] }); else b.buffer.resize(0); churn(); return [BATCH, 3, H, W]; } })
      : (b) => b;
    const res = await hostileWrites(method, dir, frames, batches.map(wrap), trick === 'shrinkLater' ? 'pending' : 'sync', (b) => shrink(b.data ?? b));
    return judgeOutput(res, ref, `a lying ArrayBuffer (${trick})`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const WRITER_WORKER = path.join(here, 'hostile-writer-worker.mjs');

/** A worker writes frames with a writer; it is terminated while the writer is idle, writing, closing, or right after close resolved. */
async function writerWorker([when, seed, audio]) {
  const rnd = prng(Number(seed));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'framecodec-hostile-worker-'));
  try {
    const method = rnd() < 0.6 ? 'toFile' : 'toStream';
    const delay = Math.floor(rnd() * 40);
    const w = new Worker(WRITER_WORKER, { workerData: { n: 30, h: H, w: W, dir, method, idle: when === 'idle', awaitWrites: rnd() < 0.5, audio: audio === 'audio' } });
    let badResult = null; // a writer with audio (mp4 or mkv: aac) closed without saying its audioCodec
    const what = await new Promise((resolve) => {
      const stop = (why) => resolve(w.terminate().then(() => why));
      w.on('message', (m) => {
        if (m?.closed !== undefined && audio === 'audio' && m.audioCodec !== 'aac') badResult = JSON.stringify(m);
        if (m === 'opened' && when === 'idle') setTimeout(() => stop('terminated while idle'), delay);
        if (m === 'writing' && when === 'mid-write') setTimeout(() => stop(`terminated ${delay} ms into writing`), delay);
        if (m === 'closing' && when === 'mid-close') setTimeout(() => stop(`terminated ${delay} ms into close()`), Math.floor(delay / 4));
        if (m?.closed !== undefined && when === 'after-close') stop('terminated as close() resolved');
        if ((m?.closed !== undefined || m?.failed) && when !== 'after-close') resolve(`the writer ended first: ${JSON.stringify(m)}`);
      });
      w.on('error', (e) => resolve(`worker error ${e?.message}`));
    });
    const result = await what;
    for (let i = 0; i < 20; i++) { churn(); await new Promise((r) => setTimeout(r, 10)); }
    const left = fs.readdirSync(dir).filter((f) => f !== 'out.mp4');
    if (left.length) return { ok: false, why: 'a temporary file was left', left, what: result, method };
    if (when === 'after-close' && method === 'toFile' && !fs.existsSync(path.join(dir, 'out.mp4'))) return { ok: false, why: 'close() resolved but its file is gone', what: result };
    if (when === 'idle' && fs.readdirSync(dir).length) return { ok: false, why: 'an idle writer left a file', what: result };
    if (badResult) return { ok: false, why: 'close() of a writer with audio resolved without audioCodec aac', result: badResult };
    return { ok: true, what: result, method, delay, audio: audio === 'audio' };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A writer dropped without close() (gc() collects it): its temporary file goes, its pending write settles. */
async function writerDropped([how]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'framecodec-hostile-drop-'));
  try {
    const frames = makeFramesNCHW(8, H, W, { seed: 20 });
    let pending = null;
    await (async () => {
      const writer = await VideoWriter.toFile(path.join(dir, 'dropped.mp4'), WOPTS);
      if (how === 'written') for (let i = 0; i < 4; i++) await writer.write(frames.subarray(i * FRAME, (i + 1) * FRAME));
      if (how === 'pending') pending = writer.write(frames.slice()).then(() => 'resolved', (e) => e);
    })();
    const t0 = performance.now();
    let left = fs.readdirSync(dir);
    while (performance.now() - t0 < 5000) {
      gc();
      await new Promise((r) => setTimeout(r, 20));
      left = fs.readdirSync(dir);
      if (left.length === 0 && (how !== 'idle' || performance.now() - t0 > 200)) break;
    }
    const settled = pending ? await Promise.race([pending, new Promise((r) => setTimeout(() => r('pending'), 5000))]) : null;
    if (left.length) return { ok: false, why: 'the dropped writer’s temporary file stayed (5 s)', left };
    if (settled === 'pending') return { ok: false, why: 'the write() of a dropped writer never settled' };
    if (settled instanceof Error && settled.code !== 'ABORT_ERR') return { ok: false, why: 'the write() of a dropped writer rejected with another code than ABORT_ERR', error: describe(settled) };
    return { ok: true, ms: Math.round(performance.now() - t0), write: settled instanceof Error ? settled.code : settled };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A writer left open when the program ends: the process exits by itself; the parent checks `dir` is empty. */
async function writerExit([how]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'framecodec-hostile-exit-'));
  const frames = makeFramesNCHW(4, H, W, { seed: 21 });
  await (async () => {
    const writer = await VideoWriter.toFile(path.join(dir, 'open.mp4'), WOPTS);
    if (how !== 'idle') for (let i = 0; i < 4; i++) await writer.write(frames.subarray(i * FRAME, (i + 1) * FRAME));
  })();
  if (how === 'gc') gc();
  return { ok: true, natural: true, dir };
}

/**
 * `count` aborts (abort(reason) or the signal) at seeded random points of a writer's life: while it
 * opens, while frames are written (awaited or queued), while close() runs (timers, the last progress
 * call). Each abort before close() settled must reject close() with ABORT_ERR (cause: the reason),
 * settle within a second, and leave no file; abort() always resolves.
 */
async function writerAborts([method, seed, count, audio]) {
  const rnd = prng(Number(seed));
  const withAudio = audio === 'audio';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'framecodec-writer-aborts-'));
  const frames = makeFramesNCHW(N, H, W, { seed: 22 });
  const sound = withAudio ? batchAudio() : [];
  const lengths = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await writerReference(method, dir, frames, { audio: withAudio });
    lengths.push(performance.now() - t0);
  }
  const duration = lengths.sort((x, y) => x - y)[1];
  for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
  const failures = [];
  const tally = { rejected: 0, closedBeforeAbort: 0, openerRejected: 0 };
  const phases = {};
  let inLife = 0;
  try {
    for (let k = 0; inLife < Number(count) && k < 4 * Number(count); k++) {
      const controller = new AbortController();
      const reason = new Error(`abort ${k}`);
      const bySignal = rnd() < 0.5;
      const kind = rnd();
      const mode = kind < 0.15 ? 'opening' : kind < 0.6 ? 'timer' : kind < 0.8 ? 'closing' : 'lastProgress';
      const queued = rnd() < 0.5; // writes made without awaiting
      // with audio, a quarter of the runs abort from the getter of a writeAudio()'s planes while it reads them
      const getterAt = withAudio && rnd() < 0.25 ? Math.floor(rnd() * (N / BATCH)) : -1;
      let writer = null;
      let closeSettled = false;
      let abortedBeforeClose = null;
      let abortAt = 0;
      let aborting = null;
      let closeCalled = false;
      let abortBeforeCloseCall = false;
      const doAbort = (phase) => {
        if (abortedBeforeClose !== null) return;
        abortedBeforeClose = !closeSettled;
        abortBeforeCloseCall = !closeCalled;
        abortAt = performance.now();
        phases[phase] = (phases[phase] ?? 0) + 1;
        if (bySignal || !writer) controller.abort(reason);
        else aborting = writer.abort(reason).then(() => 'resolved', (e) => e);
      };
      let written = 0;
      const opts = { signal: controller.signal, onProgress: (p) => { if (mode === 'lastProgress' && closeSettled === false && p.framesEncoded === N && written === N) doAbort('lastProgress'); } };
      if (withAudio) opts.audio = AUDIO;
      const t0 = performance.now();
      let timer;
      if (mode === 'timer') {
        const at = rnd() * duration * 1.1;
        timer = setTimeout(() => doAbort(`timer:${Math.min(9, Math.floor((10 * at) / duration))}0%`), at);
      }
      const opening = openWriter(method, dir, opts);
      if (mode === 'opening') (rnd() < 0.5 ? queueMicrotask : setImmediate)(() => doAbort('opening'));
      let w;
      try {
        w = await opening;
      } catch (e) {
        clearTimeout(timer);
        if (e?.code !== 'ABORT_ERR' || e.cause !== reason || abortedBeforeClose === null) failures.push({ k, mode, why: 'the opener rejected, but not with the AbortError of an abort made', error: describe(e) });
        else tally.openerRejected++;
        inLife++;
        continue;
      }
      writer = w.writer;
      const writes = [];
      let closing = null;
      for (const [i, b] of batchesOf(frames, (x) => x).entries()) {
        if (withAudio) {
          const samples = i === getterAt ? planesReading(sound[i], () => doAbort('audioGetter')) : sound[i];
          const a = writer.writeAudio(samples).then(() => 'resolved', (e) => e);
          writes.push(a);
          if (!queued) await a;
        }
        const p = writer.write(b).then(() => 'resolved', (e) => e);
        written += BATCH;
        writes.push(p);
        if (!queued) await p;
      }
      if (mode === 'closing') setTimeout(() => doAbort('closing'), rnd() * duration * 0.3);
      closeCalled = true;
      closing = writer.close().then((r) => { closeSettled = true; return r; }, (e) => { closeSettled = true; return { rejected: e }; });
      const outcome = await closing;
      const settleAt = performance.now();
      clearTimeout(timer);
      const abortResult = await aborting;
      if (aborting && abortResult !== 'resolved') failures.push({ k, mode, why: 'abort() did not resolve', error: describe(abortResult) });
      const writeResults = await Promise.all(writes);
      if (abortedBeforeClose === null || abortedBeforeClose === false) {
        if (outcome.rejected) failures.push({ k, mode, why: 'no abort before close() settled, yet it rejected', error: describe(outcome.rejected) });
        else tally.closedBeforeAbort++;
        if (w.dest) fs.rmSync(w.dest, { force: true });
        if (abortedBeforeClose === null) await writer.abort(); // (changes nothing)
        continue;
      }
      inLife++;
      const e = outcome.rejected;
      if (!e) { failures.push({ k, mode, why: `aborted ${(settleAt - abortAt).toFixed(1)} ms before close() settled, yet it resolved`, at: (abortAt - t0).toFixed(1) }); if (w.dest) fs.rmSync(w.dest, { force: true }); continue; }
      const isAbort = (x) => x?.code === 'ABORT_ERR' && x.name === 'AbortError' && x.cause === reason && Object.getPrototypeOf(x) === Error.prototype;
      // (an abort before close() was called makes close() reject with ERR_INVALID_STATE once it took effect)
      const stateError = abortBeforeCloseCall && e.code === 'ERR_INVALID_STATE' && Object.getPrototypeOf(e) === Error.prototype;
      if (!isAbort(e) && !stateError) failures.push({ k, mode, why: 'close() rejected, but not with an AbortError (code ABORT_ERR, cause = the reason)', error: describe(e) });
      else tally.rejected++;
      const badWrite = writeResults.find((r) => r !== 'resolved' && !isAbort(r) && r?.code !== 'ERR_INVALID_STATE');
      if (badWrite) failures.push({ k, mode, why: 'a write() or writeAudio() rejected with something else than ABORT_ERR / ERR_INVALID_STATE', error: describe(badWrite) });
      if (settleAt - abortAt > 1000) failures.push({ k, mode, why: `close() rejected ${(settleAt - abortAt).toFixed(0)} ms after the abort` });
      const later = await writer.write(frames.subarray(0, FRAME)).then(() => null, (x) => x);
      if (later?.code !== 'ERR_INVALID_STATE') failures.push({ k, mode, why: 'write() after the abort did not reject with ERR_INVALID_STATE', error: later && describe(later) });
      if (withAudio) {
        const laterAudio = await writer.writeAudio(sound[0]).then(() => null, (x) => x);
        if (laterAudio?.code !== 'ERR_INVALID_STATE') failures.push({ k, mode, why: 'writeAudio() after the abort did not reject with ERR_INVALID_STATE', error: laterAudio && describe(laterAudio) });
      }
      const left = fs.readdirSync(dir);
      if (left.length) { failures.push({ k, mode, why: 'an aborted writer left files', files: left }); for (const f of left) fs.rmSync(path.join(dir, f), { force: true }); }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (inLife < Number(count)) failures.push({ why: `only ${inLife} aborts landed before close() settled` });
  return { ok: failures.length === 0, inLife, duration: Math.round(duration), tally, phases, failures: failures.slice(0, 8), failureCount: failures.length };
}

const scenarios = {
  detach: detachScenario, shrink: shrinkScenario, 'worker-during': workerDuring, 'worker-after': workerAfter, aborts,
  'writer-detach': writerDetach, 'writer-shrink': writerShrink, 'writer-spoof': writerSpoof, 'writer-worker': writerWorker,
  'writer-dropped': writerDropped, 'writer-exit': writerExit, 'writer-aborts': writerAborts,
};
let result;
try {
  result = await scenarios[cmd](args);
} catch (e) {
  result = { ok: false, why: 'the scenario threw', error: describe(e), stack: String(e?.stack).slice(0, 600) };
}
verdict(result);
// writer-exit: the process must end by itself (an open writer does not hold the event loop)
if (!result.natural) process.exit(0);
