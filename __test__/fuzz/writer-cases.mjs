// The writer's fuzz cases (design §3): a random opener (toFile / toBuffer / toStream, or any arguments)
// with random options, then a random sequence of calls on the writer it gives — write() with frames of
// every kind (typed arrays of every type and length, shapes, layouts, Proxies, getters that call
// close() / abort() / write() on the same writer while it reads them, detached, resizable and shared
// buffers, buffers refilled or detached while their write is pending), writeAudio(), close(), abort(),
// framesWritten, writable(), Symbol.asyncDispose, gc(), awaited or not — and re-entrant user callbacks
// (onProgress, a Writable's or a WHATWG writer's methods, the signal's reason and removeEventListener)
// that call the writer; streams that drain or finish inside the call, or fail with odd values.
//
// The property: no method throws synchronously, each returns a Promise that settles in bounded time,
// resolving or rejecting with a documented code and Node's class for it (user exceptions by identity,
// ABORT_ERR with the reason given to abort() or signal.reason as cause); the state machine holds
// (every close() returns the first close()'s Promise; write() after close()/abort() rejects;
// ERR_INVALID_STATE only once the writer was closed, aborted or failed; abort() always resolves; a
// resolved close() reports every frame written, and its file, buffer or stream has its bytes; valid
// frames and options are accepted); no file or temporary file is left but a closed toFile's dest;
// nothing rejects unhandled; the process never crashes. Every Promise the case makes gets a handler.
//
// The audio cases (`writerAudioCaseSpec`, design §4) open writers with a random `audio` option
// (audio-cases.mjs: valid tracks, and invalid values of every kind) and call writeAudio() with samples
// of every kind — valid chunks of any size, NaN / ±Infinity, wrong types and lengths, detached arrays,
// element getters that call the writer back — among write(), close() and abort(), awaited or not.
// Beyond the property above: an opener refuses a faulty track with its documented code, and opens a
// valid one the container holds; writeAudio() refuses bad samples with the documented code (naming a
// non-finite sample's position) and leaves the writer usable; after close() / abort() it rejects with
// ERR_INVALID_STATE; a writer given only valid calls (and refused ones) closes, with `audioCodec` and
// the track in its output; a result without audio has no `audioCodec`.
import fc from 'fast-check';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { EventEmitter } from 'node:events';
import {
  CODES, TYPED, UINT8, CODECS, PIXFMTS, PRESETS, anyValue, dim, frameRate as anyFrameRate, objWrap, shapeWrap,
  extraOptionsSpec, signalSpec, progressSpec, destSpec, formatSpec, streamSpec,
  value, typedArray, wrapShape, wrapObject, buildSignal, buildProgress, buildDest, buildStream, collector,
  abortReason, brief, Hang, withTimeout,
} from './cases.mjs';
import {
  audioSpec, samplesSpec, WRITER_ACTIONS, buildAudio, buildSamples, samplesVerdict, trackOutcome, audioCodecVerdict,
  probeVerdict, detachAll,
} from './audio-cases.mjs';

const require = createRequire(import.meta.url);
const { VideoWriter } = require('../../index.js');

/** How long one call may take to settle (a tiny encode takes milliseconds). */
const CALL_MS = 10_000;

const maybe = (arb, pct) => fc.oneof({ arbitrary: fc.constant(undefined), weight: 100 - pct }, { arbitrary: arb, weight: pct });

// ---------------------------------------------------------------- arbitraries (descriptions only)

/** What a re-entrant user callback does to the writer. */
const ACTIONS = ['close', 'abort', 'write', 'writeBad', 'writeAudio', 'framesWritten', 'dispose', 'writableEnd'];
const action = fc.constantFrom(...ACTIONS);

/** Containers whose default encoder opens with the "good" options, and that encoder. */
const GOOD_FORMATS = { mp4: 'libx264', mov: 'libx264', mkv: 'libx264', nut: 'mpeg4', avi: 'mpeg4', ts: 'mpeg2video', webm: 'libvpx-vp9', gif: 'gif' };
const goodFormat = fc.constantFrom('mp4', 'mp4', 'mkv', 'mkv', 'nut', 'ts', 'mov', 'avi', 'webm', 'gif');

const goodGeo = fc.record({
  layout: fc.constantFrom(undefined, 'NCHW', 'NHWC', 'NHWC'),
  c: fc.constantFrom(undefined, 3, 3, 4),
  w: fc.constantFrom(16, 16, 16, 8, 2, 18),
  h: fc.constantFrom(16, 16, 16, 8, 2, 6),
}).map((g) => (g.layout === 'NHWC' || g.c !== 4 ? g : { ...g, c: 3 }));

const reenterSignal = fc.record({ kind: fc.constantFrom('reasonGetter', 'removeListener', 'addSync'), action, ms: fc.integer({ min: 0, max: 20 }) });
const writerSignal = fc.oneof({ arbitrary: signalSpec, weight: 3 }, { arbitrary: reenterSignal, weight: 2 });
const reenterProgress = fc.record({ kind: fc.constant('reenter'), action, at: fc.integer({ min: 1, max: 3 }) });
const writerProgress = fc.oneof({ arbitrary: progressSpec, weight: 3 }, { arbitrary: reenterProgress, weight: 2 });

const goodExtra = fc.constantFrom({ g: 1 }, { fflags: '+bitexact' }, { threads: 1 }, { g: 5, threads: 2 });

/** Options a writer must accept (given a good format and an even size, or gif). */
const goodOptions = fc.record({
  kind: fc.constant('good'),
  geo: goodGeo,
  frameRate: fc.constantFrom(30, 25, 29.97, 1, 0.5, 120),
  signal: maybe(writerSignal, 30),
  onProgress: maybe(writerProgress, 35),
  end: maybe(fc.boolean(), 30),
  extraOptions: maybe(goodExtra, 20),
  wrap: fc.constantFrom('plain', 'plain', 'frozen', 'proxy', 'nullProto', 'getters', 'classInstance'),
});

const randomOptions = fc.record({
  kind: fc.constant('random'),
  width: fc.oneof({ arbitrary: fc.constantFrom(16, 8), weight: 2 }, { arbitrary: dim, weight: 1 }),
  height: fc.oneof({ arbitrary: fc.constantFrom(16, 8), weight: 2 }, { arbitrary: dim, weight: 1 }),
  frameRate: fc.oneof({ arbitrary: fc.constant(30), weight: 2 }, { arbitrary: anyFrameRate, weight: 1 }),
  layout: maybe(fc.oneof(fc.constantFrom('NCHW', 'NHWC', 'nhwc', 'NHW', ''), anyValue), 40),
  channels: maybe(fc.oneof(fc.constantFrom(1, 2, 3, 4, 5, 3.5, '3', NaN, -0, 4n), anyValue), 40),
  device: maybe(fc.oneof(fc.constantFrom('cpu', 'cuda:0', 'cuda:1', 'cuda:', 'CUDA:0', 'cuda:00001', 'cuda:-1', 'gpu', 'cpu ', 'cuda:99999'), anyValue), 25),
  codec: maybe(fc.oneof({ arbitrary: fc.constantFrom(...CODECS), weight: 5 }, { arbitrary: anyValue, weight: 1 }), 40),
  pixelFormat: maybe(fc.oneof({ arbitrary: fc.constantFrom(...PIXFMTS), weight: 5 }, { arbitrary: anyValue, weight: 1 }), 35),
  crf: maybe(fc.oneof(fc.integer({ min: -5, max: 70 }), fc.constantFrom(NaN, Infinity, 23.5), anyValue), 25),
  preset: maybe(fc.oneof({ arbitrary: fc.constantFrom(...PRESETS), weight: 5 }, { arbitrary: anyValue, weight: 1 }), 25),
  extraOptions: maybe(extraOptionsSpec, 30),
  signal: maybe(writerSignal, 30),
  onProgress: maybe(writerProgress, 30),
  end: maybe(fc.oneof(fc.boolean(), anyValue), 25),
  unknownKey: maybe(fc.constantFrom('foo', 'shape', 'audio', 'fps', 'format', 'frames', 'constructor'), 12),
  wrap: objWrap,
  fastPreset: fc.boolean(),
});

const writerOptions = fc.oneof(
  { arbitrary: goodOptions, weight: 8 },
  { arbitrary: randomOptions, weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant('value'), value: anyValue }), weight: 1 },
);

const goodDest = fc.record({
  fz: fc.constant('good'),
  kind: fc.constant('path'),
  name: fc.constantFrom('w', 'out', 'a b', 'é'),
  ext: fc.constantFrom('.mp4', '.mp4', '.mkv', '.nut', '.ts', '.mov', '.avi', '.webm', '.gif'),
  how: fc.constantFrom('abs', 'abs', 'abs', 'relative', 'existingFile'),
});
const goodStream = fc.record({ kind: fc.constantFrom('collect', 'collect', 'collectSmallHwm', 'slow', 'passThrough', 'whatwg', 'whatwgSmallHwm') });
const reenterStream = fc.record({ kind: fc.constant('reenter'), where: fc.constantFrom('write', 'end', 'removeListener'), action, at: fc.integer({ min: 0, max: 2 }) });
// a stream that fails with an odd value: a function or Proxy whose `message` throws, a primitive, nothing
// streams that answer in the same call: 'drain' emitted inside write() (returning false), 'finish' inside end()
const eagerStream = fc.record({ kind: fc.constant('eager'), drain: fc.constantFrom('sync', 'sync', 'never', 'microtask'), finish: fc.constantFrom('sync', 'later') });
// a WHATWG WritableStream whose writer's methods call the writer back
const reenterWebStream = fc.record({ kind: fc.constant('reenterWeb'), where: fc.constantFrom('write', 'close', 'releaseLock'), action, at: fc.integer({ min: 0, max: 2 }) });
const oddErrorStream = fc.record({ kind: fc.constant('failWith'), what: fc.constantFrom('throwingMessageFn', 'throwingMessageObj', 'throwingProxy', 'string', 'undefined'), how: fc.constantFrom('destroy', 'callback'), at: fc.integer({ min: 0, max: 2 }) });

const opener = fc.oneof(
  { arbitrary: fc.record({ how: fc.constant('toFile'), dest: fc.oneof({ arbitrary: goodDest, weight: 4 }, { arbitrary: destSpec, weight: 1 }) }), weight: 4 },
  { arbitrary: fc.record({ how: fc.constant('toBuffer'), format: fc.oneof({ arbitrary: goodFormat, weight: 4 }, { arbitrary: formatSpec, weight: 1 }) }), weight: 4 },
  {
    arbitrary: fc.record({
      how: fc.constant('toStream'),
      stream: fc.oneof({ arbitrary: goodStream, weight: 5 }, { arbitrary: reenterStream, weight: 2 }, { arbitrary: oddErrorStream, weight: 1 }, { arbitrary: eagerStream, weight: 1 }, { arbitrary: reenterWebStream, weight: 1 }, { arbitrary: streamSpec, weight: 2 }),
      format: fc.oneof({ arbitrary: goodFormat, weight: 4 }, { arbitrary: formatSpec, weight: 1 }),
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ how: fc.constant('args'), method: fc.constantFrom('toFile', 'toBuffer', 'toStream'), args: fc.array(anyValue, { maxLength: 4 }) }), weight: 1 },
);

/** The frames of one write(), relative to the writer's frame (its size, layout and channels). */
export const writeFrames = fc.oneof(
  // the common case: a Uint8Array of k whole frames (refilled, or a new one)
  { arbitrary: fc.record({ t: fc.constant('plain'), k: fc.constantFrom(1, 1, 1, 2, 4), refill: fc.boolean() }), weight: 6 },
  {
    arbitrary: fc.record({
      t: fc.constant('good'),
      k: fc.constantFrom(1, 1, 1, 2, 3),
      type: fc.oneof({ arbitrary: fc.constantFrom('Uint8Array', 'Uint8Array', 'Buffer', 'Uint8ClampedArray', 'SharedUint8Array', 'ResizableUint8Array', 'LengthTrackingUint8Array'), weight: 8 }, { arbitrary: fc.constantFrom(...TYPED), weight: 2 }),
      offset: fc.constantFrom(0, 0, 0, 1, 7),
      lenDelta: fc.oneof({ arbitrary: fc.constant(0), weight: 8 }, { arbitrary: fc.constantFrom(-1, 1, 'half', 'zero', 'lessOneFrame'), weight: 2 }),
      form: fc.constantFrom('bare', 'bare', 'bare', 'data', 'shape', 'shapeLayout', 'layoutOnly', 'wrongLayout', 'wrongShape', 'wrongCount'),
      shapeWrap,
      wrap: objWrap,
      refill: fc.constantFrom(false, false, true), // the previous write's buffer again (the caller refills it)
    }),
    weight: 10,
  },
  { arbitrary: fc.record({ t: fc.constant('reenter'), where: fc.constantFrom('data', 'shape', 'layout', 'proxy', 'shapeIndex'), action, k: fc.constantFrom(1, 2) }), weight: 3 },
  { arbitrary: fc.record({ t: fc.constant('spoof'), trick: fc.constantFrom('lie', 'detach', 'resize0', 'close', 'abort', 'write'), resizable: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('cuda'), cudaPtr: fc.oneof(fc.bigInt({ min: -1n, max: 2n ** 65n }), anyValue), shape: fc.boolean(), device: maybe(anyValue, 30) }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('value'), value: anyValue }), weight: 1 },
);

const awaited = fc.constantFrom(true, true, false);
const opSpec = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('write'), frames: writeFrames, awaited }), weight: 10 },
  { arbitrary: fc.record({ op: fc.constant('close'), awaited }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('abort'), reason: fc.constantFrom('undefined', 'error', 'string', 'object', 'none'), awaited }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('writeAudio'), samples: fc.oneof(fc.constantFrom('float32', 'planar'), anyValue) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('framesWritten') }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('tick'), ms: fc.integer({ min: 0, max: 5 }) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('gc') }), weight: 1 }, // (frees what a detach left behind, when run with --expose-gc)
  { arbitrary: fc.record({ op: fc.constant('args'), method: fc.constantFrom('write', 'writeAudio', 'close', 'abort'), args: fc.array(anyValue, { maxLength: 3 }) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('writable'), what: fc.constantFrom('write', 'end', 'destroy', 'writeBad', 'writeEnd') }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('dispose') }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('detach'), how: fc.constantFrom('structuredClone', 'postMessage', 'transfer', 'resize0', 'resizeGrow'), awaitFirst: fc.boolean() }), weight: 1 },
);

/** One writer case. */
export const writerCaseSpec = fc.record({
  m: fc.constant('writer'),
  open: opener,
  opts: writerOptions,
  ops: fc.array(opSpec, { minLength: 0, maxLength: 7 }),
  finalClose: fc.constantFrom(true, true, false),
});

// ---------------------------------------------------------------- the audio cases

/** The formats audio cases write, with their default video encoder (flv: FLV1). */
const AUDIO_FORMATS = { ...GOOD_FORMATS, flv: 'flv' };
const audioFormat = fc.constantFrom('mp4', 'mp4', 'mkv', 'mkv', 'nut', 'ts', 'mov', 'avi', 'webm', 'flv', 'gif');
const audioOpener = fc.oneof(
  { arbitrary: fc.record({ how: fc.constant('toFile'), dest: fc.record({ fz: fc.constant('good'), kind: fc.constant('path'), name: fc.constantFrom('a', 'track'), ext: audioFormat.map((f) => `.${f}`), how: fc.constant('abs') }) }), weight: 3 },
  { arbitrary: fc.record({ how: fc.constant('toBuffer'), format: audioFormat }), weight: 4 },
  { arbitrary: fc.record({ how: fc.constant('toStream'), stream: fc.oneof({ arbitrary: goodStream, weight: 5 }, { arbitrary: reenterStream, weight: 1 }), format: audioFormat }), weight: 3 },
);
const audioAwaited = fc.constantFrom(true, true, false);
const audioOpSpec = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('audio'), samples: samplesSpec(WRITER_ACTIONS), awaited: audioAwaited }), weight: 10 },
  { arbitrary: fc.record({ op: fc.constant('write'), frames: fc.oneof({ arbitrary: fc.record({ t: fc.constant('plain'), k: fc.constantFrom(1, 1, 2), refill: fc.boolean() }), weight: 6 }, { arbitrary: writeFrames, weight: 1 }), awaited: audioAwaited }), weight: 8 },
  { arbitrary: fc.record({ op: fc.constant('close'), awaited: audioAwaited }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('abort'), reason: fc.constantFrom('undefined', 'error', 'none'), awaited: audioAwaited }), weight: 1 },
  // the samples of the last writeAudio() (copied at the call) detached, or overwritten with NaN or huge values, at once
  { arbitrary: fc.record({ op: fc.constant('reuseAudio'), how: fc.constantFrom('detach', 'nan', 'loud') }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('framesWritten') }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('tick'), ms: fc.integer({ min: 0, max: 3 }) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('gc') }), weight: 1 },
);

/** One writer with an audio track (or a faulty `audio` option). */
export const writerAudioCaseSpec = fc.record({
  m: fc.constant('writerAudio'),
  open: audioOpener,
  opts: goodOptions,
  audio: audioSpec,
  samplesKey: fc.constantFrom(...Array(30).fill(false), true), // audio.samples given to a VideoWriter
  ops: fc.array(audioOpSpec, { minLength: 0, maxLength: 8 }),
  finalClose: fc.constantFrom(true, true, true, false),
});

// ---------------------------------------------------------------- building real values

/** The writer's frame as the case knows it (null where the options were not plain numbers). */
function frameOf(geo) {
  if (!geo) return null;
  const nhwc = geo.layout === 'NHWC';
  const c = geo.c ?? 3;
  return { w: geo.w, h: geo.h, c, layout: nhwc ? 'NHWC' : 'NCHW', bytes: geo.w * geo.h * c, shape: (k) => (nhwc ? [k, geo.h, geo.w, c] : [k, 3, geo.h, geo.w]) };
}

function buildWriterSignal(s, ctx) {
  if (s.kind !== 'reasonGetter' && s.kind !== 'removeListener' && s.kind !== 'addSync') return buildSignal(s, ctx);
  const c = new AbortController();
  const signal = c.signal;
  if (s.kind !== 'reasonGetter') ctx.signal = signal; // (reading reason would call the writer)
  if (s.kind === 'reasonGetter') {
    const reason = new Error('signal reason');
    ctx.abortCauses.add(reason);
    // framecodec reads signal.reason for the AbortError's cause: the getter calls the writer then
    Object.defineProperty(signal, 'reason', { get() { act(ctx, s.action, 'signal.reason'); return reason; } });
    const t = setTimeout(() => c.abort(reason), s.ms);
    ctx.cleanups.push(() => clearTimeout(t));
  } else if (s.kind === 'removeListener') {
    Object.defineProperty(signal, 'removeEventListener', {
      value(...a) { act(ctx, s.action, 'signal.removeEventListener'); return EventTarget.prototype.removeEventListener.apply(this, a); },
    });
    if (s.ms > 10) { const t = setTimeout(() => c.abort(), s.ms); ctx.cleanups.push(() => clearTimeout(t)); }
  } else {
    // addEventListener calls the listener at once: the writer is aborted as it opens
    Object.defineProperty(signal, 'addEventListener', {
      value(type, listener, ...rest) { EventTarget.prototype.addEventListener.call(this, type, listener, ...rest); if (typeof listener === 'function') listener(); },
    });
  }
  return signal;
}

function buildWriterProgress(p, ctx) {
  if (p.kind !== 'reenter') return buildProgress(p, ctx);
  let n = 0;
  return () => { if (++n === p.at) act(ctx, p.action, 'onProgress'); };
}

/** A value a stream fails with (user code's: passed through by identity). */
function oddError(what, ctx) {
  const thrower = () => { throw ctx.userError('message getter'); };
  switch (what) {
    case 'throwingMessageFn': { const f = function odd() {}; Object.defineProperty(f, 'message', { get: thrower }); ctx.userThrown.add(f); return f; }
    case 'throwingMessageObj': { const o = {}; Object.defineProperty(o, 'message', { get: thrower }); ctx.userThrown.add(o); return o; }
    case 'throwingProxy': { const p = new Proxy({}, { get: thrower, has: thrower, getPrototypeOf: thrower }); ctx.userThrown.add(p); return p; }
    case 'string': ctx.userThrown.add('stream failed'); return 'stream failed';
    default: return undefined;
  }
}

function buildWriterStream(s, ctx) {
  if (s.kind === 'eager') {
    // duck-typed: an EventEmitter with write() and end() (framecodec takes those as a Writable)
    const c = { bytes: 0 };
    const e = new EventEmitter();
    e.write = (chunk) => {
      c.bytes += chunk.length;
      if (s.drain === 'sync') { e.emit('drain'); return false; }
      if (s.drain === 'microtask') { queueMicrotask(() => e.emit('drain')); return false; }
      return true;
    };
    e.end = () => { if (s.finish === 'sync') e.emit('finish'); else setImmediate(() => e.emit('finish')); return e; };
    return { v: e, c };
  }
  if (s.kind === 'reenterWeb') {
    const c = { bytes: 0 };
    const ws = new WritableStream({ write(chunk) { c.bytes += chunk.byteLength; } });
    const getWriter = ws.getWriter.bind(ws);
    let n = 0;
    ws.getWriter = () => {
      const writer = getWriter();
      const orig = writer[s.where].bind(writer);
      writer[s.where] = (...a) => { if (n++ === s.at) act(ctx, s.action, `WritableStream writer.${s.where}`); return orig(...a); };
      return writer;
    };
    return { v: ws, c };
  }
  if (s.kind === 'failWith') {
    let n = 0;
    const value = oddError(s.what, ctx);
    const w = new Writable({ write(chunk, enc, cb) { if (n++ === s.at) { if (s.how === 'destroy') { w.destroy(value); cb(); } else cb(value ?? new Error('write failed')); } else cb(); } });
    w.on('error', () => {});
    return { v: w, c: null };
  }
  if (s.kind !== 'reenter') return buildStream(s, ctx);
  const { w, c } = collector(ctx);
  let n = 0;
  if (s.where === 'write') {
    const orig = w.write.bind(w);
    w.write = (...a) => { if (n++ === s.at) act(ctx, s.action, 'stream.write'); return orig(...a); };
  } else if (s.where === 'end') {
    const orig = w.end.bind(w);
    w.end = (...a) => { act(ctx, s.action, 'stream.end'); return orig(...a); };
  } else {
    const orig = w.removeListener.bind(w);
    w.removeListener = (...a) => { if (n++ === s.at) act(ctx, s.action, 'stream.removeListener'); return orig(...a); };
  }
  return { v: w, c };
}

/** The opener's options; `geo` is the frame they declare (when plain), `good` whether they must be accepted. */
function buildOptions(spec, ctx, { forStream, format, audio = null, formats = GOOD_FORMATS }) {
  if (spec.kind === 'value') return { v: value(spec.value, ctx), geo: null, good: false };
  const o = {};
  let geo = null;
  let good = false;
  if (spec.kind === 'good') {
    const g = spec.geo;
    o.width = g.w;
    o.height = g.h;
    o.frameRate = spec.frameRate;
    if (g.layout !== undefined) o.layout = g.layout;
    if (g.c !== undefined) o.channels = g.c;
    geo = { w: g.w, h: g.h, layout: g.layout ?? 'NCHW', c: g.c ?? 3 };
    const codec = Object.hasOwn(formats, format) ? formats[format] : undefined;
    if (codec === 'libx264') o.preset = 'ultrafast';
    if (codec === 'libvpx-vp9') o.extraOptions = { deadline: 'realtime', 'cpu-used': 8 };
    if (spec.extraOptions) o.extraOptions = { ...o.extraOptions, ...spec.extraOptions };
    const channelsOk = geo.c === 3 || (geo.c === 4 && geo.layout === 'NHWC');
    const evenOk = codec === 'gif' || (geo.w % 2 === 0 && geo.h % 2 === 0);
    const rateOk = codec !== 'mpeg2video' || [30, 25, 29.97].includes(spec.frameRate);
    good = codec !== undefined && channelsOk && evenOk && rateOk;
    if (!channelsOk) geo = null;
  } else {
    o.width = value(spec.width, ctx);
    o.height = value(spec.height, ctx);
    o.frameRate = value(spec.frameRate, ctx);
    if (spec.layout !== undefined) o.layout = value(spec.layout, ctx);
    if (spec.channels !== undefined) o.channels = value(spec.channels, ctx);
    if (spec.device !== undefined) o.device = value(spec.device, ctx);
    if (spec.codec !== undefined) o.codec = value(spec.codec, ctx);
    if (spec.pixelFormat !== undefined) o.pixelFormat = value(spec.pixelFormat, ctx);
    if (spec.crf !== undefined) o.crf = value(spec.crf, ctx);
    if (spec.preset !== undefined) o.preset = value(spec.preset, ctx);
    else if (spec.fastPreset && (o.codec === undefined || o.codec === 'libx264')) o.preset = 'ultrafast';
    if (spec.extraOptions !== undefined) o.extraOptions = value(spec.extraOptions, ctx);
    if (spec.unknownKey !== undefined) o[spec.unknownKey] = 1;
    const n = (v) => typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 64;
    const layout = o.layout === undefined || o.layout === null ? 'NCHW' : o.layout;
    const c = o.channels === undefined || o.channels === null ? 3 : o.channels;
    if (n(o.width) && n(o.height) && (layout === 'NCHW' || layout === 'NHWC') && (c === 3 || c === 4)) geo = { w: o.width, h: o.height, layout, c };
  }
  if (spec.signal !== undefined) o.signal = buildWriterSignal(spec.signal, ctx);
  if (spec.signal?.kind === 'fakeObject') ctx.abortCauses.add(o.signal.reason);
  if (spec.signal?.kind === 'value') ctx.anyCause = true;
  if (spec.onProgress !== undefined) o.onProgress = buildWriterProgress(spec.onProgress, ctx);
  if (forStream && spec.end !== undefined) o.end = value(spec.end, ctx);
  // a signal that may fire, a callback that may throw or call the writer: the writer may end by itself
  if (o.signal !== undefined || (o.onProgress !== undefined && !['fn', 'async'].includes(spec.onProgress.kind))) ctx.mayEnd = true;
  if (spec.signal && !['never', 'later', 'timeout', 'aborted', 'reasonGetter', 'removeListener', 'addSync'].includes(spec.signal.kind)) good = false;
  if (spec.onProgress && spec.onProgress.kind === 'value') good = false;
  if (spec.kind === 'good' && forStream && spec.end === false) ctx.streamEnded = false;
  if (audio) o.audio = audio.v;
  const w = wrapObject(o, spec.wrap, ctx);
  return { v: w.v, geo, good: good && w.keeps };
}

/** The frames of a write() described by `f`, for the writer's frame; `valid` if they must be accepted. */
function buildFrames(f, ctx) {
  const fr = frameOf(ctx.geo) ?? frameOf({ w: 16, h: 16, layout: 'NCHW', c: 3 });
  switch (f.t) {
    case 'plain': {
      const len = f.k * fr.bytes;
      const last = ctx.lastData;
      const data = f.refill && last instanceof Uint8Array && last.length === len && len > 0 ? last.fill(ctx.fills++ & 255) : new Uint8Array(len).fill(ctx.fills++ & 255);
      ctx.lastData = data;
      return { v: data, valid: true, data };
    }
    case 'good': {
      const want = f.k * fr.bytes;
      const len = f.lenDelta === 0 ? want : f.lenDelta === 'half' ? Math.floor(want / 2) : f.lenDelta === 'zero' ? 0 : f.lenDelta === 'lessOneFrame' ? want - fr.bytes : Math.max(0, want + f.lenDelta);
      let data;
      const last = ctx.lastData;
      if (f.refill && (last instanceof Uint8Array || last instanceof Uint8ClampedArray) && last.length === len && len > 0 && UINT8.has(f.type)) {
        data = ctx.lastData;
        data.fill(ctx.fills++ & 255); // the caller refills the buffer (its own race, never a crash)
      } else {
        data = typedArray(f.type, len, f.offset);
      }
      ctx.lastData = data;
      let frames;
      let keeps = true;
      switch (f.form) {
        case 'bare': frames = data; break;
        case 'data': frames = { data }; break;
        // (a shape without a layout is NCHW's)
        case 'shape': { const s = wrapShape(fr.shape(f.k), f.shapeWrap, ctx); keeps = s.keeps && fr.layout === 'NCHW'; frames = { data, shape: s.v }; break; }
        case 'shapeLayout': { const s = wrapShape(fr.shape(f.k), f.shapeWrap, ctx); keeps = s.keeps; frames = { data, shape: s.v, layout: fr.layout }; break; }
        case 'layoutOnly': frames = { data, layout: fr.layout }; break;
        case 'wrongLayout': frames = { data, layout: fr.layout === 'NCHW' ? 'NHWC' : 'NCHW' }; keeps = false; break;
        case 'wrongShape': frames = { data, shape: fr.layout === 'NHWC' ? [f.k, fr.h + 2, fr.w, fr.c] : [f.k, 3, fr.h, fr.w + 2], layout: fr.layout }; keeps = false; break;
        case 'wrongCount': frames = { data, shape: fr.shape(f.k + 1) }; keeps = false; break;
        default: throw new Error(f.form);
      }
      if (f.form !== 'bare') {
        const w = wrapObject(frames, f.wrap, ctx);
        frames = w.v;
        keeps = keeps && w.keeps;
      }
      const valid = UINT8.has(f.type) && f.lenDelta === 0 && keeps && !['wrongLayout', 'wrongShape', 'wrongCount'].includes(f.form);
      return { v: frames, valid, data };
    }
    case 'reenter': {
      const data = new Uint8Array(f.k * fr.bytes);
      const shape = fr.shape(f.k);
      const call = () => act(ctx, f.action, `write(frames.${f.where})`);
      switch (f.where) {
        case 'data': return { v: { get data() { call(); return data; }, shape }, data };
        case 'shape': return { v: { data, get shape() { call(); return shape; } }, data };
        case 'layout': return { v: { data, shape, get layout() { call(); return fr.layout; } }, data };
        case 'proxy': { let once = false; return { v: new Proxy({ data, shape }, { get(t, k) { if (!once) { once = true; call(); } return Reflect.get(t, k); } }), data }; }
        default: { const s = [...shape]; let once = false; Object.defineProperty(s, 0, { get() { if (!once) { once = true; call(); } return f.k; }, enumerable: true }); return { v: { data, shape: s }, data }; }
      }
    }
    case 'spoof': {
      // an ArrayBuffer whose own `resizable` property lies, or runs code when read
      const ab = f.resizable ? new ArrayBuffer(fr.bytes, { maxByteLength: 2 * fr.bytes }) : new ArrayBuffer(fr.bytes);
      const data = new Uint8Array(ab);
      Object.defineProperty(ab, 'resizable', {
        get() {
          switch (f.trick) {
            case 'detach': try { structuredClone(ab, { transfer: [ab] }); } catch { /* untransferable */ } return false;
            case 'resize0': if (f.resizable) try { ab.resize(0); } catch { /* not resizable */ } return f.resizable;
            case 'lie': return false;
            default: act(ctx, f.trick, 'ArrayBuffer.resizable getter'); return f.resizable;
          }
        },
      });
      ctx.afterCall = () => { if (f.trick === 'lie' && f.resizable) ab.resize(0); };
      return { v: data, data };
    }
    case 'cuda': {
      const o = { cudaPtr: value(f.cudaPtr, ctx) };
      if (f.shape) o.shape = fr.shape(1);
      if (f.device !== undefined) o.device = value(f.device, ctx);
      return { v: o };
    }
    default: return { v: value(f.value, ctx) };
  }
}

/** One valid frame for the writer (re-entrant writes, the Writable). */
function goodFrame(ctx) {
  const fr = frameOf(ctx.geo) ?? frameOf({ w: 16, h: 16, layout: 'NCHW', c: 3 });
  return new Uint8Array(fr.bytes).fill(ctx.fills++ & 255);
}

// ---------------------------------------------------------------- calls and their judgement

function fail(ctx, sig, detail = '') {
  ctx.failures.push({ sig, detail: String(detail).slice(0, 500) });
}

const ARG_CODES = new Set(['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE']);

/** Whether a rejection obeys the contract (documented code and class; user values by identity). */
function judgeRejection(ctx, label, err) {
  if (ctx.isUserThrown(err)) return true;
  if (!(err instanceof Error)) return fail(ctx, `${label}: rejected with a non-Error (${typeof err})`, brief(err));
  if (typeof err.code !== 'string') return fail(ctx, `${label}: uncoded ${err.constructor.name}`, brief(err));
  if (!CODES.has(err.code)) return fail(ctx, `${label}: undocumented code ${err.code}`, brief(err));
  const cls = CODES.get(err.code);
  if (Object.getPrototypeOf(err) !== cls.prototype) return fail(ctx, `${label}: ${err.code} is a ${err.constructor.name}, not a ${cls.name}`, brief(err));
  if (typeof err.message !== 'string' || !err.message) return fail(ctx, `${label}: ${err.code} with an empty message`, brief(err));
  if (err.code === 'ABORT_ERR') {
    if (err.name !== 'AbortError') return fail(ctx, `${label}: ABORT_ERR named ${err.name}`, brief(err));
    const causes = new Set(ctx.abortCauses);
    if (ctx.signal) { try { causes.add(ctx.signal.reason); } catch { /* a throwing getter */ } }
    if (!ctx.anyCause && !causes.has(err.cause)) return fail(ctx, `${label}: ABORT_ERR whose cause is neither abort()'s reason nor signal.reason`, `${brief(err)}; cause ${brief(err.cause)}`);
  }
  return true;
}

/**
 * Calls `fn` (a writer method or opener) as user code would, and judges it: no synchronous throw, a
 * Promise back, settled in bounded time (checked when awaited or at the end of the case), resolving or
 * rejecting as `meta.kind` allows. Returns the judged settlement (a Promise that never rejects).
 */
function call(ctx, label, fn, meta = {}) {
  meta.endedBefore = ctx.closeCalled || ctx.abortCalled; // (re-entrant code may end it during the call)
  let p;
  try {
    p = fn();
  } catch (e) {
    fail(ctx, `${label} threw synchronously`, brief(e));
    return Promise.resolve({ threw: e });
  }
  if (!(p instanceof Promise)) {
    fail(ctx, `${label} did not return a Promise`, typeof p);
    return Promise.resolve({ notPromise: true });
  }
  const calledAfterEnd = ctx.closeCalled || ctx.abortCalled;
  const entry = p.then(
    (v) => { try { onResolved(ctx, label, meta, v, calledAfterEnd); } catch (e) { fail(ctx, 'fuzz harness error', e?.stack); } return { value: v }; },
    (e) => { try { onRejected(ctx, label, meta, e, calledAfterEnd); } catch (x) { fail(ctx, 'fuzz harness error', x?.stack); } return { error: e }; },
  );
  entry.label = label;
  ctx.pending.push(entry);
  return entry;
}

function onResolved(ctx, label, meta, v, calledAfterEnd) {
  switch (meta.kind) {
    case 'open':
      if (!(v instanceof VideoWriter)) fail(ctx, `${label}: resolved with ${brief(v)}, not a VideoWriter`);
      if (meta.audioMustFail) fail(ctx, `${label}: the opener accepted an audio option the contract refuses${meta.audioCodes ? ` (${[...meta.audioCodes].join(' or ')})` : ''}`, meta.audioWhat);
      break;
    case 'write':
      if (v !== undefined) fail(ctx, `${label}: resolved with ${brief(v)}`);
      if (calledAfterEnd) fail(ctx, `${label}: write() after close()/abort() resolved`);
      break;
    case 'writeAudio': {
      if (!ctx.audioCh) { fail(ctx, `${label}: writeAudio() on a writer without audio resolved`); break; }
      const x = meta.expect;
      if (v !== undefined) fail(ctx, `${label}: writeAudio() resolved with ${brief(v)}`);
      if (meta.endedBefore) fail(ctx, `${label}: writeAudio() after close()/abort() resolved`);
      else if (x?.state) fail(ctx, `${label}: writeAudio() resolved although its samples' getter closed or aborted the writer`);
      else if (x === 'any' || (typeof x === 'object' && !x.orOk)) fail(ctx, `${label}: writeAudio() accepted samples the contract refuses (${x === 'any' ? 'a random value' : x.codes?.join(' or ') ?? 'a getter threw'})`, JSON.stringify(x));
      break;
    }
    case 'abort':
      if (v !== undefined) fail(ctx, `${label}: abort() resolved with ${brief(v)}`);
      break;
    case 'close': {
      ctx.closedOk = true;
      const w = ctx.w;
      if (meta.framesAtCall === 0) fail(ctx, `${label}: close() with no frames written resolved`);
      if (!v || typeof v !== 'object') { fail(ctx, `${label}: close() resolved with ${brief(v)}`); break; }
      const badCodec = audioCodecVerdict(v, ctx.audioExpect);
      if (badCodec) fail(ctx, `${label}: ${badCodec}`, JSON.stringify(v).slice(0, 200));
      if (meta.first && ctx.audioOutcome?.must && !ctx.wild) {
        const bad = probeVerdict(ctx.open.how === 'toBuffer' ? v.buffer : ctx.open.how === 'toFile' ? ctx.destFile : null, ctx.format, ctx.audioTrack.track, ctx.audioOutcome.encoder, ctx.audioFrames);
        if (bad) fail(ctx, `${label}: ${bad}`);
      }
      if (!(v.bytes > 0) || typeof v.format !== 'string' || typeof v.codec !== 'string' || typeof v.pixelFormat !== 'string') fail(ctx, `${label}: close() result lacks bytes/format/codec/pixelFormat`, JSON.stringify(v).slice(0, 200));
      if (w && v.frames !== w.framesWritten) fail(ctx, `${label}: close() result.frames ≠ framesWritten`, `${v.frames} vs ${w.framesWritten}`);
      if (ctx.open.how === 'toBuffer' && !(Buffer.isBuffer(v.buffer) && v.buffer.length === v.bytes)) fail(ctx, `${label}: toBuffer close() without a buffer of result.bytes`, `${v.buffer?.length} vs ${v.bytes}`);
      if (ctx.open.how === 'toFile' && ctx.destFile) {
        const size = fs.existsSync(ctx.destFile) ? fs.statSync(ctx.destFile).size : -1;
        if (size !== v.bytes) fail(ctx, `${label}: toFile close() resolved but the file has N bytes, result.bytes N`, `${size} vs ${v.bytes}`);
      }
      if (ctx.counter && ctx.streamEnded !== false && ctx.counter.bytes !== v.bytes) fail(ctx, `${label}: the stream received N bytes, result.bytes N`, `${ctx.counter.bytes} vs ${v.bytes}`);
      break;
    }
    default:
      break;
  }
}

function onRejected(ctx, label, meta, e, calledAfterEnd) {
  if (!judgeRejection(ctx, label, e)) return;
  const code = ctx.isUserThrown(e) ? 'user' : e.code;
  if (meta.kind === 'abort') return fail(ctx, `${label}: abort() rejected`, brief(e));
  if (meta.kind === 'open' && meta.good && code !== 'ABORT_ERR' && code !== 'user') return fail(ctx, `${label}: the opener refused valid options (${code})`, brief(e));
  if (meta.kind === 'open' && meta.audioCodes && !meta.audioCodes.has(code) && code !== 'ABORT_ERR' && code !== 'user') return fail(ctx, `${label}: refused the audio option with ${code}, not ${[...meta.audioCodes].join(' or ')}`, `${brief(e)}; ${meta.audioWhat}`);
  if (meta.kind === 'write' && meta.valid && ARG_CODES.has(code)) return fail(ctx, `${label}: valid frames refused (${code})`, brief(e));
  if (ctx.strict && !ctx.wild && !ctx.abortCalled && !meta.endedBefore && !calledAfterEnd && code !== 'user' && code !== 'ABORT_ERR') {
    // a writer with a valid track, given valid calls (and refused ones): nothing of it fails
    const valid = (meta.kind === 'write' && meta.valid) || (meta.kind === 'writeAudio' && meta.expect === 'ok') || (meta.kind === 'close' && meta.first && meta.framesAtCall > 0);
    if (valid) { ctx.strict = false; return fail(ctx, `${label}: a writer with a valid audio track, given valid samples and frames, failed (${meta.kind} rejected with ${code})`, brief(e)); }
  }
  if (meta.kind === 'writeAudio' && ctx.audioCh) return judgeAudioRejection(ctx, label, meta, e, code, calledAfterEnd);
  // (a writer that failed rejects every later call with its failure)
  if (meta.kind === 'writeAudio' && code !== 'ERR_INVALID_STATE' && code !== 'user' && !ctx.mayEnd) return fail(ctx, `${label}: writeAudio() rejected with ${code}, not ERR_INVALID_STATE`, brief(e));
  if ((meta.kind === 'write' || meta.kind === 'close') && code === 'ERR_INVALID_STATE') {
    const noFrames = meta.kind === 'close' && meta.framesAtCall === 0;
    if (!noFrames && !ctx.mayEnd && !ctx.closeCalled && !ctx.abortCalled) fail(ctx, `${label}: ERR_INVALID_STATE from a writer never closed, aborted or failed`, brief(e));
  }
  if ((meta.kind === 'write' || meta.kind === 'close') && !ARG_CODES.has(code) && code !== 'ERR_INVALID_STATE') ctx.mayEnd = ctx.failed = true; // it failed
  if (meta.kind === 'close') ctx.closeError = e;
}

/** A writeAudio() of a writer with an audio track rejected (code: 'user' for user code's values). */
function judgeAudioRejection(ctx, label, meta, e, code, calledAfterEnd) {
  const lenient = ctx.wild || ctx.failed; // the writer may have ended or failed on its own
  if (!ARG_CODES.has(code) && code !== 'ERR_INVALID_STATE' && code !== 'ABORT_ERR' && code !== 'user') ctx.mayEnd = ctx.failed = true;
  if (meta.endedBefore) {
    if (code !== 'ERR_INVALID_STATE' && !lenient) fail(ctx, `${label}: writeAudio() after close()/abort() rejected with ${code}, not ERR_INVALID_STATE`, brief(e));
    return;
  }
  const verdict = samplesVerdict(meta.expect, e, code);
  if (verdict === null) return;
  if (code === 'ABORT_ERR' && (ctx.abortCalled || ctx.cleanupAbort)) return; // pending when abort() came
  if (code === 'ERR_INVALID_STATE' && calledAfterEnd) return; // closed or aborted while its samples were read
  if (lenient && !ARG_CODES.has(code)) return; // (argument errors do not depend on the writer's state)
  fail(ctx, `${label}: ${verdict}`, brief(e));
}

/** What a re-entrant user callback (or an op) does to the writer. */
function act(ctx, what, origin) {
  const w = ctx.w;
  if (!w) return;
  const label = `${origin} → ${what}`;
  switch (what) {
    case 'close': return doClose(ctx, label);
    case 'abort': {
      const reason = new Error(`abort from ${origin}`);
      ctx.abortCauses.add(reason);
      ctx.abortCalled = true;
      ctx.mayEnd = true;
      return call(ctx, label, () => w.abort(reason), { kind: 'abort' });
    }
    case 'write': return call(ctx, label, () => w.write(goodFrame(ctx)), { kind: 'write', valid: true });
    case 'writeBad': return call(ctx, label, () => w.write(new Uint8Array(1)), { kind: 'write' });
    case 'writeAudio': {
      if (!ctx.audioCh) return call(ctx, label, () => w.writeAudio(new Float32Array(8)), { kind: 'writeAudio' });
      return call(ctx, label, () => w.writeAudio(new Float32Array(ctx.audioCh * 32).fill(0.1)), { kind: 'writeAudio', expect: 'ok' });
    }
    case 'writeAudioBad': {
      const bad = new Float32Array((ctx.audioCh ?? 1) * 4);
      bad[bad.length - 1] = NaN;
      return call(ctx, label, () => w.writeAudio(bad), { kind: 'writeAudio', expect: { codes: ['ERR_INVALID_ARG_VALUE'] } });
    }
    case 'framesWritten': return checkFramesWritten(ctx, label);
    case 'dispose': ctx.abortCalled = true; ctx.mayEnd = true; return call(ctx, label, () => w[Symbol.asyncDispose](), { kind: 'abort' });
    case 'writableEnd': {
      ctx.closeRequested = true; // (the Writable's final() calls close() once its writes are done)
      ctx.mayEnd = ctx.wild = true;
      let s;
      try { s = w.writable(); } catch (e) { return fail(ctx, `${label}: writable() threw`, brief(e)); }
      s.on('error', () => {});
      s.end();
      ctx.pending.push(Object.assign(new Promise((resolve) => { s.once('close', resolve); s.once('finish', resolve); }), { label }));
      return undefined;
    }
    default: throw new Error(what);
  }
}

function checkFramesWritten(ctx, label) {
  let n;
  try { n = ctx.w.framesWritten; } catch (e) { return fail(ctx, `${label}: framesWritten threw`, brief(e)); }
  if (!Number.isSafeInteger(n) || n < 0) return fail(ctx, `${label}: framesWritten is ${brief(n)}`);
  if (n < ctx.lastFramesWritten) fail(ctx, `${label}: framesWritten went down`, `${ctx.lastFramesWritten} → ${n}`);
  ctx.lastFramesWritten = n;
  return undefined;
}

/** close(), checking that every close() returns the first one's Promise. */
function doClose(ctx, label) {
  const w = ctx.w;
  ctx.closeCalled = true;
  ctx.mayEnd = true;
  let p;
  try { p = w.close(); } catch (e) { fail(ctx, `${label} threw synchronously`, brief(e)); return Promise.resolve({}); }
  if (ctx.closePromise && p !== ctx.closePromise) fail(ctx, `${label}: a later close() returned another Promise`);
  const first = !ctx.closePromise;
  ctx.closePromise ??= p;
  return call(ctx, label, () => p, { kind: 'close', framesAtCall: w.framesWritten, first });
}

async function settle(ctx, entry, label) {
  try {
    return await withTimeout(entry, CALL_MS);
  } catch (e) {
    if (e instanceof Hang) { ctx.hang = `${label}: did not settle within ${CALL_MS} ms`; return null; }
    throw e;
  }
}

function detachBuffer(data, how) {
  const ab = data.buffer;
  try {
    switch (how) {
      case 'structuredClone': structuredClone(ab, { transfer: [ab] }); break;
      case 'postMessage': { const { port1, port2 } = new MessageChannel(); port1.postMessage(ab, [ab]); port1.close(); port2.close(); break; }
      case 'transfer': if (typeof ab.transfer === 'function') ab.transfer(); break;
      case 'resize0': if (ab.resizable) ab.resize(0); break;
      case 'resizeGrow': if (ab.resizable) ab.resize(ab.maxByteLength); break;
      default: throw new Error(how);
    }
  } catch (e) {
    if (!(e instanceof Error) || e.message.includes('fuzz')) throw e; // DataCloneError / TypeError: untransferable
  }
}

async function runOp(ctx, op, i) {
  const w = ctx.w;
  const label = `op${i}.${op.op}`;
  switch (op.op) {
    case 'write': {
      let f;
      try { f = buildFrames(op.frames, ctx); } catch (e) { fail(ctx, 'fuzz harness: could not build the frames', e?.stack); return; }
      if (op.frames.t === 'spoof' || op.frames.t === 'cuda') ctx.wild = true; // (a coded refusal may end the writer)
      const entry = call(ctx, label, () => w.write(f.v), { kind: 'write', valid: f.valid });
      ctx.lastWrite = { entry, data: f.data };
      if (ctx.afterCall) { const after = ctx.afterCall; ctx.afterCall = null; try { after(); } catch { /* resize refused */ } }
      if (op.awaited) await settle(ctx, entry, label);
      return;
    }
    case 'close': { const entry = doClose(ctx, label); if (op.awaited) await settle(ctx, entry, label); return; }
    case 'abort': {
      const reason = op.reason === 'none' ? undefined : abortReason(op.reason, ctx);
      ctx.abortCauses.add(reason);
      ctx.abortCalled = true;
      ctx.mayEnd = true;
      const entry = call(ctx, label, () => (op.reason === 'none' ? w.abort() : w.abort(reason)), { kind: 'abort' });
      if (op.awaited) await settle(ctx, entry, label);
      return;
    }
    case 'writeAudio': {
      const s = op.samples === 'float32' ? new Float32Array(16) : op.samples === 'planar' ? [new Float32Array(8), new Float32Array(8)] : value(op.samples, ctx);
      await settle(ctx, call(ctx, label, () => w.writeAudio(s), { kind: 'writeAudio' }), label);
      return;
    }
    case 'audio': {
      let b;
      try { b = buildSamples(op.samples, ctx.audioCh ?? 2, ctx, { act: (a) => act(ctx, a, 'samples getter') }); } catch (e) { fail(ctx, 'fuzz harness: could not build the samples', e?.stack); return; }
      if (b.expect === 'loud') ctx.wild = true; // (an encoder may fail on them)
      const entry = call(ctx, label, () => w.writeAudio(b.v), { kind: 'writeAudio', expect: b.expect });
      if (b.expect === 'ok' && !b.reenters) { ctx.lastAudio = b.v; ctx.audioFrames += b.frames; }
      if (op.awaited) await settle(ctx, entry, label);
      return;
    }
    case 'reuseAudio': {
      // the samples were copied at the call: what the caller does with them next changes nothing
      const v = ctx.lastAudio;
      if (!v) return;
      if (op.how === 'detach') detachAll(v);
      else for (const f of ArrayBuffer.isView(v) ? [v] : v) try { f.fill(op.how === 'nan' ? NaN : 1e10); } catch { /* detached by an earlier reuse */ }
      return;
    }
    case 'framesWritten': checkFramesWritten(ctx, label); return;
    case 'tick': await new Promise((r) => setTimeout(r, op.ms)); return;
    case 'gc': globalThis.gc?.(); return;
    case 'args': {
      const args = op.args.map((a) => value(a, ctx));
      if (op.method === 'close') { ctx.closeCalled = true; ctx.mayEnd = true; }
      if (op.method === 'abort') { ctx.abortCalled = true; ctx.mayEnd = true; ctx.abortCauses.add(args[0]); }
      const meta = { kind: op.method, framesAtCall: w.framesWritten };
      const entry = op.method === 'close' ? doCloseWith(ctx, label, args) : call(ctx, label, () => w[op.method](...args), meta);
      await settle(ctx, entry, label);
      return;
    }
    case 'writable': {
      let s;
      try { s = w.writable(); } catch (e) { fail(ctx, `${label}: writable() threw`, brief(e)); return; }
      s.on('error', () => {});
      // a chunk it fails (a write after close(), say) destroys the Writable, which aborts the writer with that error
      ctx.anyCause = ctx.mayEnd = ctx.endRequested = true;
      const over = new Promise((resolve) => { s.once('close', resolve); s.once('finish', resolve); });
      const written = (chunk) => new Promise((resolve) => { s.write(chunk, () => resolve()); });
      if (op.what === 'write') { await settle(ctx, written(goodFrame(ctx)), label); return; }
      // a failed chunk destroys the Writable, which aborts the writer with that error (its cause)
      if (op.what === 'writeBad') ctx.mayEnd = ctx.endRequested = ctx.anyCause = true;
      if (op.what === 'destroy') {
        ctx.mayEnd = ctx.endRequested = true;
        const e = new Error('destroyed by the fuzz');
        ctx.abortCauses.add(e);
        s.destroy(e);
      }
      if (op.what === 'writeBad') s.write(new Uint8Array(3));
      if (op.what === 'end' || op.what === 'writeEnd') {
        ctx.mayEnd = ctx.closeRequested = true;
        if (op.what === 'writeEnd') s.write(goodFrame(ctx));
        s.end();
      }
      await settle(ctx, over, label);
      return;
    }
    case 'dispose': {
      ctx.abortCalled = true;
      ctx.mayEnd = true;
      await settle(ctx, call(ctx, label, () => w[Symbol.asyncDispose](), { kind: 'abort' }), label);
      return;
    }
    case 'detach': {
      const last = ctx.lastWrite;
      if (!last || !last.data || !ArrayBuffer.isView(last.data)) return;
      if (op.awaitFirst) await settle(ctx, last.entry, label);
      detachBuffer(last.data, op.how);
      return;
    }
    default: throw new Error(op.op);
  }
}

function doCloseWith(ctx, label, args) {
  const w = ctx.w;
  let p;
  try { p = w.close(...args); } catch (e) { fail(ctx, `${label} threw synchronously`, brief(e)); return Promise.resolve({}); }
  if (ctx.closePromise && p !== ctx.closePromise) fail(ctx, `${label}: a later close() returned another Promise`);
  const first = !ctx.closePromise;
  ctx.closePromise ??= p;
  return call(ctx, label, () => p, { kind: 'close', framesAtCall: w.framesWritten, first });
}

/**
 * The opener's judgement for a writer with an `audio` option, and what the case expects of the writer:
 * a faulty option must be refused (with its code, when the rest is valid); a valid track the container
 * holds must open (`good`), and then a writer given valid calls must close (`ctx.strict`).
 */
function audioOpenMeta(ctx, audio, format, videoGood, spec) {
  ctx.audioTrack = audio;
  ctx.wild = ctx.mayEnd; // a signal, a callback that throws, a stream that fails or calls back: it may end by itself
  const meta = { kind: 'open', good: false, audioWhat: JSON.stringify(spec, (k, v) => (typeof v === 'bigint' ? `${v}n` : v)).slice(0, 300) };
  if (audio.none) return { ...meta, good: videoGood };
  ctx.audioExpect = 'unknown';
  if (audio.lenient || format === null) { ctx.wild = true; return meta; }
  const outcome = trackOutcome(format, audio.track);
  const faults = [...audio.parse, ...audio.open];
  // a getter that throws, or a faulty value: never opens (a getter is read whatever the rest holds)
  if (audio.user) return { ...meta, audioMustFail: true };
  if (faults.length) return { ...meta, audioMustFail: true, audioCodes: videoGood ? new Set([...faults, ...(outcome.codes ?? [])]) : null };
  if (outcome.codes) return { ...meta, audioMustFail: true, audioCodes: videoGood ? new Set(outcome.codes) : null };
  ctx.audioOutcome = outcome;
  if (outcome.encoder) ctx.audioExpect = outcome.encoder;
  ctx.strict = videoGood && outcome.must === true && !ctx.wild;
  return { ...meta, good: videoGood && outcome.must === true };
}

/** Runs one writer case (for cases.mjs's runCase); `allowFile` names the one file it may leave. */
export async function runWriterCall(spec, ctx, allowFile) {
  Object.assign(ctx, {
    w: null, geo: null, failures: [], pending: [], abortCauses: new Set([undefined]), mayEnd: false, closeCalled: false, abortCalled: false, closeRequested: false, endRequested: false,
    closePromise: null, closedOk: false, lastFramesWritten: 0, fills: 1, lastData: null, lastWrite: null, afterCall: null, hang: null,
    open: spec.open, destFile: null, counter: null, streamEnded: true, closeError: null, anyCause: false,
    // the audio track: its channels once open, what close() must report, and what the case knows of the writer
    audioCh: null, audioTrack: null, audioOutcome: null, audioExpect: null, audioFrames: 0, lastAudio: null, format: null, strict: false, wild: false, failed: false, cleanupAbort: false,
  });
  let entry;
  const o = spec.open;
  const label = `open.${o.how}`;
  try {
    if (o.how === 'args') {
      const args = o.args.map((a) => value(a, ctx));
      entry = call(ctx, `VideoWriter.${o.method}(random args)`, () => VideoWriter[o.method](...args), { kind: 'open' });
    } else {
      let target;
      let format;
      let streamGood = true;
      if (o.how === 'toFile') {
        const d = buildDest(o.dest, ctx);
        target = d.v;
        ctx.destFile = d.file;
        if (d.file) allowFile(d.file);
        const m = typeof d.v === 'string' && d.file ? /\.([a-zA-Z0-9]+)$/.exec(d.v) : null;
        format = m && m[1] === m[1].toLowerCase() ? m[1] : null;
        if (o.dest.how === 'trailingSlash' || !d.file) format = null;
      } else {
        format = typeof o.format === 'string' ? o.format : null;
      }
      if (o.how === 'toStream') {
        const s = buildWriterStream(o.stream, ctx);
        target = s.v;
        ctx.counter = s.c;
        streamGood = ['collect', 'collectSmallHwm', 'slow', 'passThrough', 'whatwg', 'whatwgSmallHwm', 'reenter', 'reenterWeb'].includes(o.stream.kind) || (o.stream.kind === 'eager' && o.stream.drain !== 'never');
        if (!streamGood || o.stream.kind === 'reenter' || o.stream.kind === 'reenterWeb') ctx.mayEnd = true;
      }
      const audio = spec.audio ? buildAudio(spec.audio, ctx, { samplesKey: spec.samplesKey }) : null;
      const formats = audio ? AUDIO_FORMATS : GOOD_FORMATS;
      const opts = buildOptions(spec.opts, ctx, { forStream: o.how === 'toStream', format, audio, formats });
      ctx.geo = opts.geo;
      ctx.format = format;
      const destGood = o.how !== 'toFile' || o.dest.fz === 'good';
      const good = opts.good && streamGood && destGood && format !== null && Object.hasOwn(formats, format);
      const meta = audio ? audioOpenMeta(ctx, audio, format, good, spec.audio) : { kind: 'open', good };
      const method = o.how;
      entry = call(ctx, label, () => (method === 'toFile' ? VideoWriter.toFile(target, opts.v) : method === 'toBuffer' ? VideoWriter.toBuffer(format ?? value(o.format, ctx), opts.v) : VideoWriter.toStream(target, format ?? value(o.format, ctx), opts.v)), meta);
    }
  } catch (e) {
    return { failure: { sig: 'fuzz harness: could not build the case', detail: String(e?.stack ?? e).slice(0, 400) } };
  }
  const opened = await settle(ctx, entry, label);
  let outcome;
  if (opened && opened.value instanceof VideoWriter) {
    ctx.w = opened.value;
    if (ctx.audioTrack && !ctx.audioTrack.none) ctx.audioCh = ctx.audioTrack.track?.channels ?? null;
    for (let i = 0; i < spec.ops.length && !ctx.hang; i++) await runOp(ctx, spec.ops[i], i);
    if (spec.finalClose && !ctx.hang && !ctx.closeCalled && !ctx.abortCalled && !ctx.closeRequested && !ctx.endRequested) await settle(ctx, doClose(ctx, 'final close'), 'final close');
    // a close() made by the Writable (its final()) is seen through the Promise every close() returns
    else if ((ctx.closeCalled || ctx.closeRequested) && !ctx.closePromise && !ctx.hang) await settle(ctx, doClose(ctx, 'close after the Writable ended'), 'close after the Writable ended');
    // every writer ends aborted (a no-op once closed): abort() resolves once the output is discarded
    ctx.cleanupAbort = true;
    if (!ctx.hang) await settle(ctx, call(ctx, 'cleanup abort', () => ctx.w.abort(), { kind: 'abort' }), 'cleanup abort');
    outcome = ctx.closedOk ? 'ok' : ctx.closeError ? `close-${ctx.isUserThrown(ctx.closeError) ? 'user' : ctx.closeError.code}` : ctx.abortCalled || ctx.endRequested ? 'aborted' : 'unclosed';
  } else if (opened && opened.error !== undefined) {
    outcome = `open-${ctx.isUserThrown(opened.error) ? 'user' : opened.error?.code}`;
  } else {
    outcome = 'open-none';
  }
  // every call made, awaited or not, re-entrant ones included, settles
  if (!ctx.hang) {
    for (let i = 0; i < ctx.pending.length && !ctx.hang; i++) await settle(ctx, ctx.pending[i], ctx.pending[i].label);
  }
  const name = o.how === 'args' ? `w.args.${o.method}` : `${spec.audio ? 'aw' : 'w'}.${o.how}`;
  if (ctx.hang) return { failure: { sig: `${name}: hang: ${ctx.hang.replace(/op\d+\./, 'op.')}`, detail: ctx.hang }, hang: true };
  if (ctx.failures.length) {
    const f = ctx.failures[0];
    return { failure: { sig: `${name}: ${f.sig.replace(/op\d+\./g, 'op.').replace(/\d+/g, 'N')}`, detail: `${f.sig} ${f.detail}${ctx.failures.length > 1 ? ` (+${ctx.failures.length - 1} more)` : ''}` } };
  }
  return { outcome: `${name}:${outcome}` };
}
