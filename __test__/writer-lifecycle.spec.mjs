// VideoWriter's contract for everything but the happy path (design §3): the openers and calls never
// throw, every error has its code and Node's class, lifecycle errors are ERR_INVALID_STATE, aborts and
// failures reject the pending and later calls and leave nothing behind.
import test from 'ava';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { makeFramesNCHW } from './helpers/frames.mjs';
import { classOf, rejectsCode } from './helpers/assert.mjs';
import { probe, tmpDirFor } from './helpers/media.mjs';
import { collector } from './helpers/streams.mjs';

const require = createRequire(import.meta.url);
const { VideoWriter } = require('../index.js');

const H = 32;
const W = 48;
const FRAME = 3 * H * W;
const DATA = makeFramesNCHW(8, H, W, { seed: 201 });
const frameOf = (i) => DATA.slice(i * FRAME, (i + 1) * FRAME);
const options = (extra = {}) => ({ width: W, height: H, frameRate: 25, ...extra });
const OLD = Buffer.from('the old file');

/** A dest in a fresh directory that already holds an old file (which must survive a failed writer). */
function destIn(t, name = 'out.mp4') {
  const dir = tmpDirFor(t);
  const dest = path.join(dir, name);
  fs.writeFileSync(dest, OLD);
  return { dir, dest, untouched: () => t.deepEqual(fs.readdirSync(dir), [name]) || t.deepEqual(fs.readFileSync(dest), OLD) };
}

function checkAbortError(t, err, reason) {
  t.is(err.name, 'AbortError');
  t.is(err.code, 'ABORT_ERR');
  t.is(err.cause, reason);
}

// ------------------------------------------------------------------ openers

test('the openers never throw: bad arguments reject with their code and class, creating nothing', async (t) => {
  const dir = tmpDirFor(t);
  const dest = path.join(dir, 'x.mp4');
  const cases = [
    ['options missing', () => VideoWriter.toFile(dest), 'ERR_INVALID_ARG_TYPE', 'width, height and frameRate'],
    ['options not an object', () => VideoWriter.toBuffer('mp4', 'fast'), 'ERR_INVALID_ARG_TYPE', 'string'],
    ['width missing', () => VideoWriter.toFile(dest, { height: H, frameRate: 25 }), 'ERR_INVALID_ARG_TYPE', 'width'],
    ['width a string', () => VideoWriter.toFile(dest, options({ width: '48' })), 'ERR_INVALID_ARG_TYPE', 'string'],
    ['width 0', () => VideoWriter.toFile(dest, options({ width: 0 })), 'ERR_OUT_OF_RANGE', '1 to 16384'],
    ['height fractional', () => VideoWriter.toFile(dest, options({ height: 31.5 })), 'ERR_OUT_OF_RANGE', '31.5'],
    ['height too large', () => VideoWriter.toFile(dest, options({ height: 20000 })), 'ERR_OUT_OF_RANGE', '20000'],
    ['frameRate missing', () => VideoWriter.toFile(dest, { width: W, height: H }), 'ERR_INVALID_ARG_TYPE', 'frameRate'],
    ['frameRate 0', () => VideoWriter.toFile(dest, options({ frameRate: 0 })), 'ERR_OUT_OF_RANGE', 'frameRate'],
    ['layout unknown', () => VideoWriter.toFile(dest, options({ layout: 'HWC' })), 'ERR_INVALID_ARG_VALUE', "'NCHW' or 'NHWC'"],
    ['channels 4 in NCHW', () => VideoWriter.toFile(dest, options({ channels: 4 })), 'ERR_INVALID_ARG_VALUE', "layout: 'NHWC'"],
    ['channels 2', () => VideoWriter.toFile(dest, options({ layout: 'NHWC', channels: 2 })), 'ERR_INVALID_ARG_VALUE', '3 (RGB) or 4'],
    ['device unknown', () => VideoWriter.toFile(dest, options({ device: 'gpu' })), 'ERR_INVALID_ARG_VALUE', "'cuda:N'"],
    ['device cuda:-1', () => VideoWriter.toFile(dest, options({ device: 'cuda:-1' })), 'ERR_INVALID_ARG_VALUE', 'cuda:-1'],
    ['unknown option', () => VideoWriter.toFile(dest, options({ fps: 30 })), 'ERR_INVALID_OPTION', "'fps'"],
    ['end outside toStream', () => VideoWriter.toFile(dest, options({ end: false })), 'ERR_INVALID_OPTION', 'only toStream'],
    ['an http: dest', () => VideoWriter.toFile('http://example.com/a.mp4', options()), 'ERR_INVALID_ARG_VALUE', 'http'],
    ['dest not a string', () => VideoWriter.toFile(42, options()), 'ERR_INVALID_ARG_TYPE', 'dest'],
    ['no extension', () => VideoWriter.toFile(path.join(dir, 'noext'), options()), 'ERR_UNKNOWN_FORMAT', 'extension'],
    ['unknown format', () => VideoWriter.toBuffer('nope', options()), 'ERR_UNKNOWN_FORMAT', "'nope'"],
    ['unknown codec', () => VideoWriter.toFile(dest, options({ codec: 'nope' })), 'ERR_UNKNOWN_CODEC', 'nope'],
    ['bad preset', () => VideoWriter.toFile(dest, options({ preset: 'warp' })), 'ERR_INVALID_OPTION', 'ultrafast'],
    ['bad pixel format', () => VideoWriter.toFile(dest, options({ pixelFormat: 'rgb48le' })), 'ERR_INVALID_PIXEL_FORMAT', 'yuv420p'],
    ['crf out of range', () => VideoWriter.toFile(dest, options({ crf: 99 })), 'ERR_OUT_OF_RANGE', 'crf'],
    ['odd size for 4:2:0', () => VideoWriter.toFile(dest, options({ width: 47 })), 'ERR_INVALID_ARG_VALUE', '47'],
    ['h264 in webm', () => VideoWriter.toBuffer('webm', options({ codec: 'libx264' })), 'ERR_ENCODE', 'webm'],
    ['vp9 in mov (refused by the muxer itself)', () => VideoWriter.toFile(path.join(dir, 'x.mov'), options({ codec: 'libvpx-vp9' })), 'ERR_ENCODE', 'mov'],
    ['missing directory', () => VideoWriter.toFile(path.join(dir, 'no', 'x.mp4'), options()), 'ERR_IO', 'No such file'],
    ['not a stream', () => VideoWriter.toStream({}, 'ts', options()), 'ERR_INVALID_ARG_TYPE', 'Writable'],
    ['signal not an AbortSignal', () => VideoWriter.toFile(dest, options({ signal: {} })), 'ERR_INVALID_ARG_TYPE', 'AbortSignal'],
  ];
  for (const [label, call, code, word] of cases) {
    let promise;
    t.notThrows(() => (promise = call()), `${label}: no synchronous throw`);
    t.true(promise instanceof Promise, label);
    const err = await promise.then(() => null, (e) => e);
    t.truthy(err, `${label}: rejects`);
    if (!err) continue;
    t.is(err.code, code, `${label}: ${err.message}`);
    t.is(err.constructor, classOf(code), `${label}: ${err.constructor.name}`);
    t.true(err.message.includes(word), `${label}: "${err.message}" names ${word}`);
  }
  t.deepEqual(fs.readdirSync(dir), [], 'no file, no temporary file');
});

test('device cuda:N without a CUDA driver: the opener rejects with ERR_CUDA_UNAVAILABLE', async (t) => {
  const { cuda } = require('../index.js');
  if (cuda.isAvailable()) return t.pass('a CUDA device is present (cuda.spec covers the writer on it)');
  await rejectsCode(t, VideoWriter.toBuffer('mp4', options({ device: 'cuda:0' })), 'ERR_CUDA_UNAVAILABLE');
});

test('new VideoWriter() is refused: writers come from VideoWriter.toFile / toBuffer / toStream', (t) => {
  t.throws(() => new VideoWriter());
});

test('an already-aborted signal rejects the opener with AbortError and creates nothing', async (t) => {
  const { dir, dest, untouched } = destIn(t);
  const reason = new Error('cancelled before start');
  const err = await t.throwsAsync(VideoWriter.toFile(dest, options({ signal: AbortSignal.abort(reason) })));
  checkAbortError(t, err, reason);
  untouched();
  void dir;
});

// ------------------------------------------------------------------ write()

test('frames of another shape reject with ERR_INVALID_ARG_VALUE naming both shapes; nothing of the call is written, the writer stays usable', async (t) => {
  const writer = await VideoWriter.toBuffer('mkv', options({ extraOptions: { fflags: '+bitexact' } }));
  await writer.write(frameOf(0));
  const bad = [
    [new Uint8Array(FRAME + 1), [`${FRAME + 1} bytes`, `${FRAME} bytes`, '[k, 3, 32, 48] (NCHW)']],
    [new Uint8Array(0), ['0 bytes']],
    [{ data: new Uint8Array(3 * 16 * 16), shape: [1, 3, 16, 16] }, ['[1, 3, 16, 16] (NCHW)', '[k, 3, 32, 48] (NCHW)']],
    [{ data: new Uint8Array(FRAME), shape: [1, H, W, 3], layout: 'NHWC' }, ['[1, 32, 48, 3] (NHWC)', '[k, 3, 32, 48] (NCHW)']],
    [{ data: new Uint8Array(FRAME), layout: 'NHWC' }, ['NHWC', '[k, 3, 32, 48] (NCHW)']],
    [{ data: new Uint8Array(2 * FRAME), shape: [1, 3, H, W] }, [`${2 * FRAME} bytes`, `${FRAME} bytes`]],
  ];
  for (const [frames, words] of bad) {
    await rejectsCode(t, writer.write(frames), 'ERR_INVALID_ARG_VALUE', { includes: words });
  }
  for (const [frames, word] of [[new Float32Array(FRAME), 'Float32Array'], [[1, 2, 3], 'Array'], [null, 'null'], [{ data: 'x', shape: [1, 3, H, W] }, 'string']]) {
    await rejectsCode(t, writer.write(frames), 'ERR_INVALID_ARG_TYPE', { includes: [word] });
  }
  t.is(writer.framesWritten, 1, 'refused calls add no frames');
  await writer.write(frameOf(1));
  const { buffer, frames } = await writer.close();
  t.is(frames, 2);
  t.is(Number(probe(buffer, { ext: 'mkv' }).video.nb_read_frames), 2);
});

test('CUDA frames to a writer of host frames are refused with ERR_INVALID_ARG_VALUE', async (t) => {
  const writer = await VideoWriter.toBuffer('mp4', options());
  await rejectsCode(t, writer.write({ cudaPtr: 0x7f0000000000n, shape: [1, 3, H, W] }), 'ERR_INVALID_ARG_VALUE', { includes: ["device: 'cuda:N'"] });
  await writer.abort();
});

test('writeAudio() on a writer opened without audio: ERR_INVALID_STATE ("no audio track")', async (t) => {
  const writer = await VideoWriter.toBuffer('mp4', options());
  await rejectsCode(t, writer.writeAudio(new Float32Array(480)), 'ERR_INVALID_STATE', { includes: ['no audio track'] });
  await writer.abort();
});

// ------------------------------------------------------------------ close()

test('close(): every later call returns the same Promise; write() after it is ERR_INVALID_STATE', async (t) => {
  const writer = await VideoWriter.toBuffer('mp4', options());
  await writer.write(frameOf(0));
  const closing = writer.close();
  t.is(writer.close(), closing, 'while pending');
  await rejectsCode(t, writer.write(frameOf(1)), 'ERR_INVALID_STATE', { includes: ['close()'] });
  const result = await closing;
  t.is(writer.close(), closing, 'once resolved');
  t.is(await writer.close(), result);
  await rejectsCode(t, writer.write(frameOf(1)), 'ERR_INVALID_STATE');
  await rejectsCode(t, writer.writeAudio(new Float32Array(4)), 'ERR_INVALID_STATE');
  t.is(result.frames, 1);
});

test('close() with no frames written: ERR_INVALID_STATE ("no frames were written"), no file, an existing dest untouched', async (t) => {
  const { dest, untouched } = destIn(t);
  const writer = await VideoWriter.toFile(dest, options());
  const closing = writer.close();
  await rejectsCode(t, closing, 'ERR_INVALID_STATE', { includes: ['no frames were written'] });
  t.is(writer.close(), closing);
  untouched();
});

// ------------------------------------------------------------------ abort()

test('abort(reason): pending write() and close() reject with AbortError (cause: reason), later calls with ERR_INVALID_STATE, no file', async (t) => {
  const { dest, untouched } = destIn(t);
  const big = makeFramesNCHW(30, 240, 320, { seed: 202 });
  const size = 3 * 240 * 320;
  const writer = await VideoWriter.toFile(dest, { width: 320, height: 240, frameRate: 25, preset: 'veryslow' });
  const writes = Array.from({ length: 30 }, (_, i) => writer.write(big.subarray(i * size, (i + 1) * size)).then(() => 'written', (e) => e));
  const closing = writer.close().then(() => 'closed', (e) => e);
  const reason = new Error('user pressed cancel');
  const aborting = writer.abort(reason);
  t.is(await aborting, undefined, 'abort() resolves once the output is discarded');
  untouched();
  const settled = await Promise.all(writes);
  const rejected = settled.filter((s) => s !== 'written');
  t.true(rejected.length > 0, 'some writes were still pending');
  for (const err of rejected) checkAbortError(t, err, reason);
  checkAbortError(t, await closing, reason);
  await rejectsCode(t, writer.write(frameOf(0)), 'ERR_INVALID_STATE', { includes: ['close()'] });
  t.is(await writer.abort(new Error('again')), undefined, 'a second abort() resolves and changes nothing');
  checkAbortError(t, await writer.close().then(() => null, (e) => e), reason);
});

test('abort() before close(): close() then rejects with ERR_INVALID_STATE, and returns that Promise again', async (t) => {
  const writer = await VideoWriter.toBuffer('mp4', options());
  await writer.write(frameOf(0));
  await writer.abort();
  const closing = writer.close();
  await rejectsCode(t, closing, 'ERR_INVALID_STATE', { includes: ['abort()'] });
  t.is(writer.close(), closing);
});

test('abort() after close() resolved changes nothing: the file stays', async (t) => {
  const dir = tmpDirFor(t);
  const dest = path.join(dir, 'kept.mp4');
  const writer = await VideoWriter.toFile(dest, options());
  await writer.write(frameOf(0));
  const result = await writer.close();
  await writer.abort(new Error('too late'));
  t.is(fs.statSync(dest).size, result.bytes);
  t.is(await writer.close(), result);
});

test('the signal option: aborting it mid-way does what abort(signal.reason) does', async (t) => {
  const { dest, untouched } = destIn(t, 'sig.mkv');
  const ac = new AbortController();
  const writer = await VideoWriter.toFile(dest, options({ signal: ac.signal }));
  await writer.write(frameOf(0));
  const pending = writer.write(frameOf(1)).then(() => 'written', (e) => e);
  const reason = new Error('navigated away');
  ac.abort(reason);
  const closed = await writer.close().then(() => 'closed', (e) => e);
  const written = await pending;
  if (written !== 'written') checkAbortError(t, written, reason);
  checkAbortError(t, closed, reason);
  untouched();
  await rejectsCode(t, writer.write(frameOf(2)), 'ERR_INVALID_STATE');
});

test('a signal aborted while the writer opens rejects the opener with AbortError', async (t) => {
  const dir = tmpDirFor(t);
  const ac = new AbortController();
  const reason = new Error('changed my mind');
  const opening = VideoWriter.toFile(path.join(dir, 'o.mp4'), options({ signal: ac.signal, preset: 'placebo' }));
  ac.abort(reason);
  const err = await opening.then(() => null, (e) => e);
  if (err) checkAbortError(t, err, reason);
  else t.log('the writer was open before the abort (it then aborted as a writer)');
  await new Promise((r) => setTimeout(r, 100));
  t.deepEqual(fs.readdirSync(dir), []);
});

test('a primitive abort reason is the cause as given', async (t) => {
  const writer = await VideoWriter.toBuffer('mp4', options());
  await writer.write(frameOf(0));
  const closing = writer.close();
  await writer.abort('because');
  const err = await closing.then(() => null, (e) => e);
  if (err) checkAbortError(t, err, 'because');
  else t.log('close() completed before the abort');
});

// ------------------------------------------------------------------ failures

test('a failing stream rejects the pending and every later call with ERR_IO and the same cause', async (t) => {
  // The stream fails its first write, which comes once FFmpeg's 32 KiB output buffer fills, a dozen
  // frames in: the writes still pending then (conversion runs only a few frames ahead) are rejected.
  const failure = new Error('peer reset');
  const broken = new Writable({
    write(_chunk, _e, callback) {
      callback(failure);
    },
  });
  broken.on('error', () => {});
  const writer = await VideoWriter.toStream(broken, 'ts', options({ codec: 'libx264', crf: 0, extraOptions: { tune: 'zerolatency' } }));
  const big = makeFramesNCHW(60, H, W, { seed: 203, noise: 60 });
  const settled = await Promise.all(Array.from({ length: 60 }, (_, i) => writer.write(big.slice(i * FRAME, (i + 1) * FRAME)).then(() => null, (e) => e)));
  const rejected = settled.filter(Boolean);
  t.log(`${rejected.length} of 60 writes rejected`);
  t.true(rejected.length > 20);
  const closed = await writer.close().then(() => null, (e) => e);
  const later = await writer.write(frameOf(0)).then(() => null, (e) => e);
  for (const err of [...rejected, closed, later]) {
    t.is(err.code, 'ERR_IO');
    t.is(err.cause, failure);
  }
  t.is(rejected[0], closed, 'the same error, not a copy');
});

test('a failure before close(): later write() and close() reject with that error, code and cause', async (t) => {
  const sink = collector();
  sink.done.catch(() => {});
  const writer = await VideoWriter.toStream(sink, 'ts', options({ codec: 'libx264', extraOptions: { tune: 'zerolatency' } }));
  await writer.write(frameOf(0));
  const failure = new Error('disk full');
  sink.destroy(failure);
  let err;
  for (let i = 1; i < 200 && !err; i++) err = await writer.write(frameOf(i % 8)).then(() => null, (e) => e);
  t.truthy(err, 'a write rejects once the stream is gone');
  const later = await writer.write(frameOf(0)).then(() => null, (e) => e);
  const closed = await writer.close().then(() => null, (e) => e);
  for (const e of [err, later, closed]) {
    t.is(e.code, 'ERR_IO');
    t.is(e.cause, failure);
  }
  t.is(writer.close(), writer.close());
});

test('a throwing onProgress ends the writer: later write() and close() reject with what it threw, at once (they hung)', async (t) => {
  for (const thrown of [new Error('progress handler failed'), 'a string', undefined]) {
    let calls = 0;
    // (mpeg4 has no lookahead: the first frame written is encoded, and reported, at once)
    const writer = await VideoWriter.toBuffer('nut', options({ codec: 'mpeg4', onProgress: () => { calls++; throw thrown; } }));
    const first = await writer.write(frameOf(0)).then(() => 'written', (e) => e);
    // wait until the job has settled (the throw stopped it): then nothing is running any more
    for (let i = 0; i < 400 && calls === 0; i++) await new Promise((r) => setTimeout(r, 5));
    t.is(calls, 1, 'onProgress was called (and threw)');
    await new Promise((r) => setTimeout(r, 100));
    const later = (p) => Promise.race([p.then(() => 'resolved', (e) => ({ e })), new Promise((r) => setTimeout(() => r('pending after 5 s'), 5000))]);
    const written = await later(writer.write(frameOf(1)));
    const closed = await later(writer.close());
    t.true(first === 'written' || first === thrown);
    for (const [what, got] of [['write()', written], ['close()', closed]]) {
      t.true(typeof got === 'object' && 'e' in got && got.e === thrown, `${what} after the throw (${String(thrown)}) rejects with it: ${String(got?.e ?? got)}`);
    }
    t.is(await writer.abort(), undefined);
  }
});

/** Calls each writer method as user code would; returns what each call gave: a Promise, or what it threw. */
function callEach(writer) {
  const calls = { write: () => writer.write(frameOf(0)), writeAudio: () => writer.writeAudio(new Float32Array(8)), close: () => writer.close(), abort: () => writer.abort(new Error('re-entrant')) };
  const got = {};
  for (const [name, call] of Object.entries(calls)) {
    try {
      const p = call();
      p.catch(() => {});
      got[name] = p instanceof Promise ? 'Promise' : typeof p;
    } catch (e) {
      got[name] = `threw ${e?.message}`;
    }
  }
  return got;
}

test('the writer settling reads signal.reason: a getter there may call the writer, which never throws (it threw "RefCell already borrowed")', async (t) => {
  const ac = new AbortController();
  const reason = new Error('the reason');
  let writer = null;
  const seen = [];
  Object.defineProperty(ac.signal, 'reason', { get() { if (writer) seen.push(callEach(writer)); return reason; } });
  writer = await VideoWriter.toBuffer('mp4', options({ signal: ac.signal }));
  await writer.write(frameOf(0));
  ac.abort(reason);
  const closed = await writer.close().then(() => null, (e) => e);
  checkAbortError(t, closed, reason);
  t.true(seen.length > 0, 'framecodec read signal.reason');
  for (const got of seen) t.deepEqual(got, { write: 'Promise', writeAudio: 'Promise', close: 'Promise', abort: 'Promise' });
});

test('the writer settling takes its listeners off the stream: a removeListener there may call the writer, which never throws (it threw "RefCell already mutably borrowed")', async (t) => {
  for (const end of ['close', 'abort']) {
    const sink = collector();
    sink.done.catch(() => {});
    let writer = null;
    const seen = [];
    const removeListener = sink.removeListener.bind(sink);
    sink.removeListener = (...args) => { if (writer) seen.push(callEach(writer)); return removeListener(...args); };
    writer = await VideoWriter.toStream(sink, 'ts', options());
    await writer.write(frameOf(0));
    if (end === 'close') await writer.close().catch(() => {});
    else await writer.abort();
    t.true(seen.length > 0, `${end}: framecodec removed its listeners`);
    for (const got of seen) t.deepEqual(got, { write: 'Promise', writeAudio: 'Promise', close: 'Promise', abort: 'Promise' }, end);
  }
});

test('a stream that emits \'drain\' inside write() (returning false) is not waited on forever (close() hung)', async (t) => {
  const { EventEmitter } = await import('node:events');
  const stream = new EventEmitter();
  let bytes = 0;
  stream.write = (chunk) => { bytes += chunk.length; stream.emit('drain'); return false; };
  stream.end = () => { setImmediate(() => stream.emit('finish')); return stream; };
  const writer = await VideoWriter.toStream(stream, 'ts', options());
  for (let i = 0; i < 3; i++) await writer.write(frameOf(i));
  const closed = await Promise.race([writer.close(), new Promise((r) => setTimeout(() => r('pending after 5 s'), 5000))]);
  if (closed === 'pending after 5 s') await writer.abort();
  t.is(closed?.bytes, bytes, `close(): ${JSON.stringify(closed)}`);
});

test('a setter a program put on Object.prototype or Array.prototype never runs while the writer\'s state is held (close() from it threw "RefCell already mutably borrowed")', async (t) => {
  // (framecodec keeps a primitive abort reason or thrown value in a holder it makes; setting it there must not run user code)
  for (const proto of [Array.prototype, Object.prototype]) {
    for (const key of ['0', 'value']) {
      const writer = await VideoWriter.toBuffer('mp4', options());
      await writer.write(frameOf(0));
      let got = '';
      let inside = false;
      Object.defineProperty(proto, key, {
        set(v) {
          if (!inside) {
            inside = true;
            try { const p = writer.close(); p.catch(() => {}); got += 'Promise '; } catch (e) { got += `threw ${e.message} `; }
            inside = false;
          }
          Object.defineProperty(this, key, { value: v, writable: true, enumerable: true, configurable: true });
        },
        configurable: true,
      });
      let aborted;
      try {
        aborted = await writer.abort('a primitive reason').then(() => 'resolved', (e) => `rejected: ${e?.message}`);
      } finally {
        delete proto[key];
      }
      t.is(aborted, 'resolved');
      t.false(got.includes('threw'), `${key} setter: close() ${got}`);
    }
  }
});

test('refilling the buffer before write() resolves is the caller\'s race, but never a crash: detaching it is refused or copied', async (t) => {
  const writer = await VideoWriter.toBuffer('mp4', options());
  const frame = frameOf(0);
  const pending = writer.write(frame);
  // The ArrayBuffer is marked untransferable by write(): structuredClone copies instead of detaching.
  const copy = structuredClone(frame, { transfer: [frame.buffer] });
  t.is(frame.byteLength, FRAME, 'still attached');
  t.is(copy.byteLength, FRAME);
  await pending;
  const { frames } = await writer.close();
  t.is(frames, 1);
});

test('await using (TypeScript, compiled for Node 20): leaving the scope after close() keeps the file, leaving it early discards it', async (t) => {
  const { execFileSync } = await import('node:child_process');
  const dir = tmpDirFor(t);
  const out = path.join(dir, 'videos');
  fs.mkdirSync(out);
  const source = `
    import { VideoWriter } from ${JSON.stringify(require.resolve('../index.js'))}
    import fs from 'node:fs'
    const dir = process.argv[2]
    async function kept(): Promise<void> {
      await using writer = await VideoWriter.toFile(dir + '/kept.mp4', { width: 16, height: 16, frameRate: 10 })
      await writer.write(new Uint8Array(3 * 16 * 16))
      await writer.close()
    }
    async function dropped(): Promise<void> {
      await using writer = await VideoWriter.toFile(dir + '/dropped.mp4', { width: 16, height: 16, frameRate: 10 })
      await writer.write(new Uint8Array(3 * 16 * 16))
      throw new Error('render failed')
    }
    await kept()
    const failed = await dropped().then(() => 'no error', (e: Error) => e.message)
    console.log(JSON.stringify({ failed, files: fs.readdirSync(dir).sort() }))
  `;
  fs.writeFileSync(path.join(dir, 'using.mts'), source);
  const tsc = require.resolve('typescript/bin/tsc');
  const types = path.join(path.dirname(require.resolve('../index.js')), 'node_modules', '@types');
  execFileSync(process.execPath, [tsc, '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext',
    '--lib', 'es2022,esnext.disposable', '--types', 'node', '--typeRoots', types, '--outDir', dir, path.join(dir, 'using.mts')]);
  const ran = JSON.parse(execFileSync(process.execPath, [path.join(dir, 'using.mjs'), out]).toString());
  t.deepEqual(ran, { failed: 'render failed', files: ['kept.mp4'] });
  t.is(Number(probe(path.join(out, 'kept.mp4')).video.nb_read_frames), 1);
});
