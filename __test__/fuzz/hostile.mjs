// Child process of hostile.spec.mjs (run with --expose-gc): one hostile scenario per run, its verdict as
// the last line of stdout (JSON). A crash of this process is the failure the spec looks for.
//   node --expose-gc hostile.mjs detach <toFile|toBuffer|toStream> <structuredClone|postMessage|transfer> <before|sync|progress>
//   node --expose-gc hostile.mjs shrink <method> <before|sync|progress> <fixed|tracking>
//   node --expose-gc hostile.mjs worker-during <seed>
//   node --expose-gc hostile.mjs worker-after <seed>
//   node --expose-gc hostile.mjs aborts <method> <seed> <count>
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { makeFramesNCHW, prng } from '../helpers/frames.mjs';

const require = createRequire(import.meta.url);
const { VideoEncoder } = require('../../index.js');
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

const scenarios = { detach: detachScenario, shrink: shrinkScenario, 'worker-during': workerDuring, 'worker-after': workerAfter, aborts };
try {
  verdict(await scenarios[cmd](args));
} catch (e) {
  verdict({ ok: false, why: 'the scenario threw', error: describe(e), stack: String(e?.stack).slice(0, 600) });
}
process.exit(0);
