// signal (AbortSignal) and onProgress.
import test from 'ava';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { makeFramesNCHW } from './helpers/frames.mjs';
import { probe, tmpDirFor } from './helpers/media.mjs';

const require = createRequire(import.meta.url);
const { VideoEncoder } = require('../index.js');

const small = new VideoEncoder({ data: makeFramesNCHW(10, 48, 64, { seed: 71 }), shape: [10, 3, 48, 64] }, { frameRate: 25 });

// A long encode: 300 frames of 320x240 with a slow preset takes seconds on 2 cores.
const LN = 300;
const LH = 240;
const LW = 320;
let long;
test.before(() => {
  long = new VideoEncoder({ data: makeFramesNCHW(LN, LH, LW, { seed: 72 }), shape: [LN, 3, LH, LW] }, { frameRate: 30 });
});

function checkAbortError(t, err, reason) {
  t.true(err instanceof Error);
  t.is(err.name, 'AbortError');
  t.is(err.code, 'ABORT_ERR');
  t.is(err.cause, reason);
}

// ------------------------------------------------------------------ already aborted

test('an already-aborted signal rejects toFile with AbortError / ABORT_ERR / cause = reason, writing nothing', async (t) => {
  const dir = tmpDirFor(t);
  const ac = new AbortController();
  const reason = new Error('user cancelled');
  ac.abort(reason);
  let progressCalls = 0;
  const err = await t.throwsAsync(
    small.toFile(path.join(dir, 'a.mp4'), { signal: ac.signal, onProgress: () => progressCalls++ }),
  );
  checkAbortError(t, err, reason);
  t.deepEqual(fs.readdirSync(dir), []);
  t.is(progressCalls, 0, 'nothing was encoded');
});

test('an already-aborted signal rejects toBuffer with cause = reason (a non-Error reason too)', async (t) => {
  const ac = new AbortController();
  const reason = { why: 'a plain object reason' };
  ac.abort(reason);
  const err = await t.throwsAsync(small.toBuffer('mkv', { signal: ac.signal }));
  checkAbortError(t, err, reason);
});

test('an already-aborted signal without a reason: cause is the signal\'s default reason', async (t) => {
  const ac = new AbortController();
  ac.abort();
  const err = await t.throwsAsync(small.toBuffer('mp4', { signal: ac.signal }));
  checkAbortError(t, err, ac.signal.reason);
  t.is(err.cause.name, 'AbortError');
});

test('AbortSignal.abort(reason) works like a controller', async (t) => {
  const reason = new Error('static');
  const err = await t.throwsAsync(small.toBuffer('mp4', { signal: AbortSignal.abort(reason) }));
  checkAbortError(t, err, reason);
});

test('a signal that is never aborted does not disturb the encode', async (t) => {
  const ac = new AbortController();
  const buf = await small.toBuffer('mp4', { signal: ac.signal });
  t.is(Number(probe(buf, { ext: 'mp4' }).video.nb_read_frames), 10);
  ac.abort(); // after completion: harmless
  t.pass();
});

// ------------------------------------------------------------------ mid-encode abort

test.serial('aborting mid-encode (from onProgress) rejects promptly and leaves no file', async (t) => {
  const dir = tmpDirFor(t);
  const dest = path.join(dir, 'long.mp4');
  const ac = new AbortController();
  const reason = new Error('stop now');
  let abortedAt = 0;
  let framesAtAbort = 0;
  let maxSeen = 0;
  const start = Date.now();
  const err = await t.throwsAsync(
    long.toFile(dest, {
      preset: 'slow',
      signal: ac.signal,
      onProgress: ({ framesEncoded }) => {
        maxSeen = Math.max(maxSeen, framesEncoded);
        if (framesEncoded > 10 && !abortedAt) {
          abortedAt = Date.now();
          framesAtAbort = framesEncoded;
          ac.abort(reason);
        }
      },
    }),
  );
  const settled = Date.now();
  checkAbortError(t, err, reason);
  t.true(abortedAt > 0, 'onProgress reported more than 10 frames');
  const latency = settled - abortedAt;
  t.log(`aborted at ${framesAtAbort}/${LN} frames after ${abortedAt - start} ms; rejected ${latency} ms later; max framesEncoded seen ${maxSeen}`);
  t.true(latency < 750, `rejected ${latency} ms after abort()`);
  t.true(maxSeen < LN, 'the encode did not run to the end');
  t.false(fs.existsSync(dest));
  t.deepEqual(fs.readdirSync(dir), [], 'no temporary file left');
});

test.serial('aborting mid-encode from a timer rejects promptly (toBuffer)', async (t) => {
  const ac = new AbortController();
  let lastProgress = 0;
  const start = Date.now();
  const timer = setTimeout(() => ac.abort(), 300);
  const p = long.toBuffer('mkv', {
    preset: 'slow',
    signal: ac.signal,
    onProgress: ({ framesEncoded }) => {
      lastProgress = framesEncoded;
    },
  });
  const err = await t.throwsAsync(p);
  clearTimeout(timer);
  const elapsed = Date.now() - start;
  t.is(err.name, 'AbortError');
  t.is(err.code, 'ABORT_ERR');
  t.is(err.cause, ac.signal.reason);
  t.log(`rejected ${elapsed} ms after start (abort at 300 ms), last progress ${lastProgress}/${LN}`);
  t.true(elapsed < 300 + 750, `took ${elapsed} ms`);
  t.true(lastProgress < LN);
});

// ------------------------------------------------------------------ onProgress

test('onProgress: non-decreasing, at least once per 10%, ends at totalFrames before the promise resolves', async (t) => {
  const n = 100;
  const enc = new VideoEncoder({ data: makeFramesNCHW(n, 48, 64, { seed: 73 }), shape: [n, 3, 48, 64] }, { frameRate: 25 });
  const events = [];
  const calls = [];
  const p = enc.toBuffer('mp4', {
    onProgress: (progress) => {
      calls.push({ ...progress });
      events.push('progress');
    },
  });
  const buf = await p;
  events.push('resolved');
  // let any stray callbacks arrive
  await new Promise((r) => setTimeout(r, 100));
  t.true(Buffer.isBuffer(buf));
  t.log(`${calls.length} progress calls: ${calls.map((c) => c.framesEncoded).join(' ')}`);
  t.true(calls.length >= 10, `${calls.length} calls`);
  for (const c of calls) {
    t.is(c.totalFrames, n);
    t.true(Number.isInteger(c.framesEncoded) && c.framesEncoded >= 0 && c.framesEncoded <= n, `framesEncoded ${c.framesEncoded}`);
  }
  for (let i = 1; i < calls.length; i++) {
    t.true(calls[i].framesEncoded >= calls[i - 1].framesEncoded, `call ${i}: ${calls[i - 1].framesEncoded} → ${calls[i].framesEncoded}`);
    t.true(calls[i].framesEncoded - calls[i - 1].framesEncoded <= n / 10, `gap larger than 10% at call ${i}`);
  }
  t.true(calls[0].framesEncoded <= n / 10, 'first call within the first 10%');
  t.is(calls.at(-1).framesEncoded, n);
  t.is(events.at(-1), 'resolved', 'no progress call after the promise resolved');
  t.is(events.indexOf('resolved'), events.length - 1);
});

test('onProgress runs on the JS main thread and may touch JS state (toFile)', async (t) => {
  const dir = tmpDirFor(t);
  const seen = new Map();
  let onMain = true;
  const result = await small.toFile(path.join(dir, 'p.mkv'), {
    onProgress: (p) => {
      onMain &&= isMainThread;
      seen.set(p.framesEncoded, p.totalFrames);
    },
  });
  t.true(onMain);
  t.is(result.frames, 10);
  t.is(seen.get(10), 10, 'last report is 10/10');
});

test('an onProgress callback does not run synchronously inside toBuffer()', async (t) => {
  let calls = 0;
  const p = small.toBuffer('mp4', { onProgress: () => calls++ });
  t.is(calls, 0, 'the encode runs off the JS thread');
  await p;
  t.true(calls >= 1);
});

test('a signal that only looks like an AbortSignal is refused with ERR_INVALID_ARG_TYPE (not Node\'s ERR_INVALID_THIS)', async (t) => {
  for (const signal of [Object.create(AbortSignal.prototype), { aborted: false }, new EventTarget()]) {
    const err = await t.throwsAsync(small.toBuffer('mp4', { signal }), { instanceOf: TypeError });
    t.is(err.code, 'ERR_INVALID_ARG_TYPE');
    t.regex(err.message, /signal must be an AbortSignal/);
  }
});
