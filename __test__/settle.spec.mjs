// The last moments of an encode: an abort or a throwing onProgress is honoured until the Promise
// settles (the encoder's flush, the trailer, the rename), and a rejected toFile leaves dest as it was.
import test from 'ava';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { makeFramesNCHW, prng } from './helpers/frames.mjs';
import { probe, tmpDirFor } from './helpers/media.mjs';

const require = createRequire(import.meta.url);
const { VideoEncoder } = require('../index.js');

const OLD = Buffer.from('the previous file, which a rejected encode must leave as it was');

function withOldDest(t) {
  const dir = tmpDirFor(t);
  const dest = path.join(dir, 'out.mp4');
  fs.writeFileSync(dest, OLD);
  return { dir, dest };
}

function assertUntouched(t, { dir, dest }) {
  t.deepEqual(fs.readFileSync(dest), OLD, 'dest keeps its exact bytes');
  t.deepEqual(fs.readdirSync(dir), ['out.mp4'], 'no temporary file left');
}

const small = new VideoEncoder({ data: makeFramesNCHW(20, 48, 64, { seed: 5 }), shape: [20, 3, 48, 64] }, { frameRate: 25 });

test('onProgress throwing on its last call rejects toFile with that error and leaves dest as it was', async (t) => {
  const where = withOldDest(t);
  const thrown = new Error('the last progress call failed');
  const seen = [];
  const err = await t.throwsAsync(
    small.toFile(where.dest, {
      onProgress: ({ framesEncoded, totalFrames }) => {
        seen.push(framesEncoded);
        if (framesEncoded === totalFrames) throw thrown;
      },
    }),
  );
  t.is(err, thrown);
  t.is(seen.at(-1), 20, 'the throw came from the last call');
  assertUntouched(t, where);
});

test('an abort from the last onProgress call rejects with ABORT_ERR and leaves dest as it was', async (t) => {
  for (const method of ['toFile', 'toBuffer', 'toStream']) {
    const where = withOldDest(t);
    const ac = new AbortController();
    const reason = new Error(`stop ${method}`);
    const options = {
      signal: ac.signal,
      onProgress: ({ framesEncoded, totalFrames }) => framesEncoded === totalFrames && ac.abort(reason),
    };
    const run =
      method === 'toFile'
        ? small.toFile(where.dest, options)
        : method === 'toBuffer'
          ? small.toBuffer('mp4', options)
          : small.toStream(new PassThrough().resume(), 'mp4', options);
    const err = await t.throwsAsync(run, undefined, method);
    t.is(err.code, 'ABORT_ERR', method);
    t.is(err.name, 'AbortError', method);
    t.is(err.cause, reason, method);
    assertUntouched(t, where);
  }
});

// A slow flush: x264 'slow' with a 60-frame lookahead holds most frames until the end, so an abort in
// the second half of the encode lands in the flush or the trailer most of the time.
const FN = 90;
const flushy = new VideoEncoder({ data: makeFramesNCHW(FN, 144, 192, { seed: 6 }), shape: [FN, 3, 144, 192] }, { frameRate: 30 });
const flushOptions = { preset: 'slow', extraOptions: { 'rc-lookahead': 60, threads: 2 } };

function start(method, dest, options) {
  if (method === 'toFile') return flushy.toFile(dest, options);
  if (method === 'toBuffer') return flushy.toBuffer('mp4', options);
  return flushy.toStream(new PassThrough().resume(), 'mp4', options);
}

test.serial('an abort at any time up to the settle rejects with ABORT_ERR promptly, never resolves, leaves no file', async (t) => {
  const full = await flushy.toBuffer('mp4', flushOptions);
  t.is(Number(probe(full, { ext: 'mp4' }).video.nb_read_frames), FN);

  // Each abort is armed by progress (frames *encoded*, so past ~1/3 of the frames it lands in the flush
  // or the trailer, whatever the machine's speed), then fires at once or after a few milliseconds.
  const random = prng(2024);
  const latencies = [];
  let settledFirst = 0;
  for (let i = 0; i < 36; i++) {
    const method = ['toFile', 'toBuffer', 'toStream'][i % 3];
    const where = withOldDest(t);
    const ac = new AbortController();
    const reason = new Error(`abort ${i}`);
    const armAt = Math.ceil(FN * (0.3 + 0.7 * random()));
    const wait = random() < 0.5 ? 0 : 10 * random();
    let settledAt = null;
    let abortedAt = null;
    let alreadySettled = false;
    const abort = () => {
      abortedAt = performance.now();
      alreadySettled = settledAt !== null;
      ac.abort(reason);
    };
    const onProgress = ({ framesEncoded }) => {
      if (abortedAt !== null || framesEncoded < armAt) return;
      if (wait === 0) abort();
      else setTimeout(abort, wait);
      abortedAt ??= -1; // armed
    };
    const run = start(method, where.dest, { ...flushOptions, signal: ac.signal, onProgress });
    run.then(
      () => (settledAt ??= performance.now()),
      () => (settledAt ??= performance.now()),
    );
    const outcome = await run.then(
      (value) => ({ value }),
      (error) => ({ error }),
    );
    await new Promise((r) => setTimeout(r, 15)); // a timer-armed abort fires by now
    const label = `${method} #${i} (armed at ${armAt}/${FN}, +${wait.toFixed(1)} ms)`;
    if (alreadySettled) {
      // Settled before the abort: a success like any other, and the abort changes nothing.
      settledFirst++;
      t.truthy(outcome.value, `${label}: settled before the abort, so it must have succeeded`);
      if (method === 'toFile') t.not(fs.readFileSync(where.dest).length, OLD.length);
      continue;
    }
    t.truthy(outcome.error, `${label}: aborted before the settle but it resolved`);
    t.is(outcome.error?.code, 'ABORT_ERR', label);
    t.is(outcome.error?.cause, reason, label);
    latencies.push(settledAt - abortedAt);
    assertUntouched(t, where);
  }
  latencies.sort((a, b) => a - b);
  t.log(
    `${latencies.length} aborted (${settledFirst} had settled first); rejection after abort: median ${latencies[latencies.length >> 1]?.toFixed(1)} ms, max ${latencies.at(-1)?.toFixed(1)} ms`,
  );
  t.true(latencies.length >= 18, 'most aborts landed before the settle');
  // Design §1: within ~100 ms; the bound leaves room for a loaded 2-core CI machine.
  t.true(latencies.at(-1) < 400, `slowest rejection ${latencies.at(-1)} ms`);
});
