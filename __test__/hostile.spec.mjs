// Hostile programs, each in a child process (fuzz/hostile.mjs, run with --expose-gc) so that a crash
// fails a test instead of killing the runner: the frames' ArrayBuffer detached (structuredClone with
// transfer, postMessage to a worker with a transfer list, ArrayBuffer.prototype.transfer where it
// exists) or a resizable one shrunk, before / right after the call / during the encode, then gc();
// worker.terminate() during an encode started in that worker and right after its result arrived; and
// ≥ 200 aborts at seeded random times over the encode's whole life.
// The same for VideoWriter: its frames' buffers detached, shrunk, or lying about being resizable before /
// right after write() / while it is pending; worker.terminate() while a writer opened in that worker is
// idle, writing, closing, or has just closed; writers dropped unclosed (gc(), or the program ending with
// them open: the process exits by itself, no temporary file stays); seeded aborts (abort() and signal)
// while it opens, writes and closes. Writers with an audio track too: worker.terminate() while a writer
// with audio writes (writeAudio() before each write()), and seeded aborts of a writer with audio, some
// made from a getter of the samples writeAudio() is reading.
// Contract: the process never crashes; after a detach or shrink the encode completes with the output
// of the intact frames (memory kept valid) or rejects with ERR_INVALID_STATE / ERR_INVALID_ARG_VALUE;
// an abort() called before the Promise settled makes it reject with ABORT_ERR (cause = signal.reason)
// and leaves no file. Replay one: node --expose-gc __test__/fuzz/hostile.mjs <scenario args>.
import test from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fuzz', 'hostile.mjs');
const SEED = process.env.FRAMECODEC_FUZZ_SEED !== undefined ? Number(process.env.FRAMECODEC_FUZZ_SEED) : 20261201;
const METHODS = ['toFile', 'toBuffer', 'toStream'];
const CHILD_LIMIT_MS = 60_000;

// at most two children at once, across the tests of this file
let running = 0;
const waiting = [];
async function limited(fn) {
  if (running >= 2) await new Promise((resolve) => waiting.push(resolve));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** Run one scenario; resolves with { args, code, signal, verdict, stderr }. */
function scenario(args) {
  return limited(() => new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', SCRIPT, ...args.map(String)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-3000); });
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_LIMIT_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      let verdict = null;
      try { verdict = JSON.parse(stdout.trim().split('\n').pop()); } catch { /* crashed before it could say */ }
      resolve({ args: args.join(' '), code, signal, verdict, stderr });
    });
  }));
}

function judge(t, runs) {
  const bad = runs.filter((r) => r.code !== 0 || r.signal !== null || !r.verdict || r.verdict.ok !== true);
  for (const r of bad) {
    const how = r.code !== 0 || !r.verdict ? `crashed (exit ${r.code}, signal ${r.signal}): ${r.stderr.split('\n').filter(Boolean).slice(-3).join(' | ').slice(0, 300)}` : JSON.stringify(r.verdict).slice(0, 1200);
    t.log(`✗ ${r.args}: ${how}`);
  }
  const skipped = runs.filter((r) => r.verdict?.skipped);
  if (skipped.length) t.log(`${skipped.length} skipped: ${skipped[0].verdict.skipped}`);
  t.is(bad.length, 0, `${bad.length} of ${runs.length} runs broke the contract`);
}

test('detaching the frames’ ArrayBuffer before or during an encode, then gc(): no crash; intact output or ERR_INVALID_STATE', async (t) => {
  const runs = [];
  for (const m of METHODS) for (const how of ['structuredClone', 'postMessage', 'transfer']) for (const when of ['before', 'sync', 'progress']) runs.push(scenario(['detach', m, how, when]));
  judge(t, await Promise.all(runs));
});

test('shrinking a resizable ArrayBuffer (resize(0)) after the constructor: no crash; intact output or a coded error', async (t) => {
  const runs = [];
  for (const m of METHODS) for (const when of ['before', 'sync', 'progress']) for (const view of ['fixed', 'tracking']) runs.push(scenario(['shrink', m, when, view]));
  judge(t, await Promise.all(runs));
});

test('worker.terminate() during an encode started in that worker (10 runs): the process lives on', async (t) => {
  judge(t, await Promise.all(Array.from({ length: 10 }, (_, i) => scenario(['worker-during', SEED + i]))));
});

test('4 workers × 30 frames, each terminated as soon as its result arrives (12 runs): the process lives on', async (t) => {
  judge(t, await Promise.all(Array.from({ length: 12 }, (_, i) => scenario(['worker-after', SEED + i]))));
});

test('210 aborts at random times over the whole encode (3 methods): each abort before settling rejects with ABORT_ERR, no file left', async (t) => {
  t.timeout(4 * 60_000);
  t.log(`seed ${SEED} (FRAMECODEC_FUZZ_SEED)`);
  const runs = await Promise.all(METHODS.map((m, i) => scenario(['aborts', m, SEED + i, 70])));
  for (const r of runs) if (r.verdict) t.log(`${r.args}: encode ${r.verdict.duration} ms, ${JSON.stringify(r.verdict.tally)}, ${r.verdict.failureCount ?? 0} broke the contract; abort points ${JSON.stringify(r.verdict.phases)}`);
  judge(t, runs);
});

const WRITER_METHODS = ['toFile', 'toBuffer', 'toStream'];

test('writer: detaching a batch’s ArrayBuffer before, right after, while or after write() is pending, then gc(): no crash; intact output or a coded refusal', async (t) => {
  const runs = [];
  for (const m of WRITER_METHODS) for (const how of ['structuredClone', 'postMessage', 'transfer']) for (const when of ['before', 'sync', 'pending', 'after']) runs.push(scenario(['writer-detach', m, how, when]));
  judge(t, await Promise.all(runs));
});

test('writer: shrinking a resizable ArrayBuffer (resize(0)) before, right after or while write() is pending: no crash; intact output or a coded refusal', async (t) => {
  const runs = [];
  for (const m of WRITER_METHODS) for (const when of ['before', 'sync', 'pending']) for (const view of ['fixed', 'tracking']) runs.push(scenario(['writer-shrink', m, when, view]));
  judge(t, await Promise.all(runs));
});

test('writer: an ArrayBuffer whose own `resizable` lies, or a getter that detaches or shrinks the frames as write() reads them: no crash; intact output or a coded refusal', async (t) => {
  const runs = [];
  for (const m of WRITER_METHODS) for (const trick of ['lie', 'shrinkLater', 'detach', 'resize0', 'shapeDetach', 'shapeShrink']) runs.push(scenario(['writer-spoof', m, trick]));
  judge(t, await Promise.all(runs));
});

test('writer: worker.terminate() while its writer is idle, mid-write, mid-close, or as close() resolved (4 × 4 runs, half of them writing audio too): the process lives on, no temporary file stays', async (t) => {
  const runs = [];
  // (the odd runs' writers have an audio track: writeAudio() before each write(), in the loop the worker is terminated in)
  for (const when of ['idle', 'mid-write', 'mid-close', 'after-close']) for (let i = 0; i < 4; i++) runs.push(scenario(['writer-worker', when, SEED + i, ...(i % 2 ? ['audio'] : [])]));
  const done = await Promise.all(runs);
  for (const r of done) if (r.verdict?.what) t.log(`${r.args}: ${r.verdict.method ?? ''} ${r.verdict.what}`);
  judge(t, done);
});

test('writer: a writer dropped unclosed and collected (idle, written, a write pending): its temporary file goes, its pending write settles', async (t) => {
  judge(t, await Promise.all(['idle', 'written', 'pending'].map((how) => scenario(['writer-dropped', how]))));
});

test('writer: a program that ends with a writer open exits by itself and leaves no temporary file', async (t) => {
  const runs = await Promise.all(['idle', 'written', 'gc'].map((how) => scenario(['writer-exit', how])));
  for (const r of runs) {
    if (!r.verdict?.dir) continue;
    const left = fs.readdirSync(r.verdict.dir);
    fs.rmSync(r.verdict.dir, { recursive: true, force: true });
    if (left.length) r.verdict = { ok: false, why: 'files left after the process exited', left };
  }
  judge(t, runs);
});

test('writer: 150 aborts (abort() and signal) at random points while a writer opens, writes and closes (3 methods), and 75 while a writer with audio does, some from a getter of writeAudio()\'s samples: close() rejects with ABORT_ERR, no file left', async (t) => {
  t.timeout(4 * 60_000);
  t.log(`seed ${SEED} (FRAMECODEC_FUZZ_SEED)`);
  const runs = await Promise.all([
    ...WRITER_METHODS.map((m, i) => scenario(['writer-aborts', m, SEED + i, 50])),
    ...WRITER_METHODS.map((m, i) => scenario(['writer-aborts', m, SEED + 10 + i, 25, 'audio'])),
  ]);
  for (const r of runs) if (r.verdict) t.log(`${r.args}: writer life ${r.verdict.duration} ms, ${JSON.stringify(r.verdict.tally)}, ${r.verdict.failureCount ?? 0} broke the contract; abort points ${JSON.stringify(r.verdict.phases)}`);
  judge(t, runs);
});
