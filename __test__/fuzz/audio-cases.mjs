// The audio track's fuzz cases (design §4): fast-check descriptions of the `audio` option (valid
// tracks — sampleRate 8 k…96 kHz, 1–2 channels and up to 8, the container's default codec or aac /
// libopus / libmp3lame / flac / pcm_s16le — and invalid values of every kind, with the code each must
// give) and of samples for writeAudio() and audio.samples (interleaved and planar chunks of every size,
// 0 included, and storage; NaN / ±Infinity at a random position; values outside [-1, 1]; wrong types,
// lengths and array counts; detached arrays; Proxies; arrays whose element getters run code — call the
// writer back, detach a plane, throw). Each description is built into real values with `expect`, the
// outcome the contract gives it; writer-cases.mjs judges writeAudio() calls with it, and
// `runAudioCtorCall` here judges the one-shot API: new VideoEncoder(frames, { frameRate, audio }) either
// throws a documented argument error or gives an encoder whose encode resolves (valid tracks, with
// `audioCodec` and the track in the output) or rejects with the codec / container / option code.
import fc from 'fast-check';
import path from 'node:path';
import { types } from 'node:util';
import { createRequire } from 'node:module';
import { anyValue, value, brief, judgeError, withTimeout, Hang, collector } from './cases.mjs';
import { probeAudio } from '../helpers/audio.mjs';

const require = createRequire(import.meta.url);
const { VideoEncoder } = require('../../index.js');

const maybe = (arb, pct) => fc.oneof({ arbitrary: fc.constant(undefined), weight: 100 - pct }, { arbitrary: arb, weight: pct });
const TYPE = 'ERR_INVALID_ARG_TYPE';
const VALUE = 'ERR_INVALID_ARG_VALUE';
const RANGE = 'ERR_OUT_OF_RANGE';
const OPTION = 'ERR_INVALID_OPTION';

// ---------------------------------------------------------------- what the contract says (design §4)

export const RATES = [8000, 22050, 44100, 48000, 96000];
/** The audio encoder of each container when `audio.codec` is not given. */
export const DEFAULT_AUDIO = { mp4: 'aac', mov: 'aac', mkv: 'aac', ts: 'aac', webm: 'libopus', avi: 'libmp3lame', flv: 'libmp3lame', nut: 'libmp3lame' };
const ALIASES = { opus: 'libopus', mp3: 'libmp3lame' };
/**
 * Channels each encoder takes (libmp3lame: 1, 2; the others 1–8). (Found by this fuzz, fixed: libopus with
 * 3 or 4 channels was refused — it was given FFmpeg's default layouts 2.1 / 4.0, not Opus's 3.0 / quad.)
 */
const MAX_CHANNELS = { aac: 8, libopus: 8, libmp3lame: 2, flac: 8, pcm_s16le: 8 };
/** ffprobe's codec_name of each encoder's output. */
const CODEC_NAMES = { aac: 'aac', libopus: 'opus', libmp3lame: 'mp3', flac: 'flac', pcm_s16le: 'pcm_s16le' };
/** The rates an encoder runs at (it takes the caller's, else the next above it, else its highest); none listed: any. */
const ENCODER_RATES = {
  libopus: [8000, 12000, 16000, 24000, 48000],
  libmp3lame: [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000],
  aac: [7350, 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000],
};
const all = () => true;
/**
 * The encoders each container must take (at the rates `ok(rate)` says); pairs not listed may open or
 * be refused with ERR_ENCODE. (mp3 at 8 kHz is MPEG-2.5, which mp4 cannot signal; FLV flags only
 * 11.025/22.05/44.1 kHz mp3, 48 kHz stored as 44.1.)
 */
const HOLDS = {
  mkv: { aac: all, libopus: all, libmp3lame: all, flac: all, pcm_s16le: all },
  nut: { aac: all, libopus: all, libmp3lame: all, flac: all, pcm_s16le: all },
  mp4: { aac: all, libopus: all, flac: all, libmp3lame: (r) => r >= 16000 },
  mov: { aac: all, libmp3lame: all, pcm_s16le: all },
  ts: { aac: all, libopus: all, libmp3lame: all },
  avi: { aac: all, libmp3lame: all, pcm_s16le: all },
  flv: { aac: all, libmp3lame: (r) => r >= 22050 },
  webm: { libopus: all },
  gif: {},
};

/** The encoder a track of `codec` (undefined: the default) gets in `format`; null when unknown. */
export function encoderOf(format, codec) {
  if (codec === undefined || codec === null) return DEFAULT_AUDIO[format] ?? null;
  const name = ALIASES[codec] ?? codec;
  return Object.hasOwn(MAX_CHANNELS, name) ? name : null;
}

/** The rate the encoder runs at for samples at `rate`. */
export function encoderRate(encoder, rate) {
  const rates = ENCODER_RATES[encoder];
  if (!rates || rates.includes(rate)) return rate;
  return rates.filter((r) => r > rate).sort((a, b) => a - b)[0] ?? Math.max(...rates);
}

/**
 * What opening a valid track (`a`: { sampleRate, channels, codec }) in `format` must do:
 * { must: true } — open and encode; { codes } — be refused with one of those codes; { any: true }.
 */
export function trackOutcome(format, a) {
  const enc = encoderOf(format, a.codec);
  const codes = [];
  // "format gif cannot hold an audio track"; webm holds opus only (a container that cannot hold it)
  if (format === 'gif' || (format === 'webm' && enc !== null && enc !== 'libopus')) codes.push('ERR_ENCODE');
  if (enc !== null && a.channels > MAX_CHANNELS[enc]) codes.push(VALUE); // more channels than the encoder takes
  if (codes.length) return { codes };
  if (enc === null) return { any: true };
  const holds = HOLDS[format]?.[enc];
  return holds && holds(a.sampleRate) ? { must: true, encoder: enc } : { any: true, encoder: enc };
}

// ---------------------------------------------------------------- the `audio` option

/**
 * Values of each option the contract refuses, and the code each must give: `at: 'parse'` when the
 * options are read (the constructor throws; an opener rejects), `'open'` when the encoder opens (the
 * encode or the opener rejects). '__missing' leaves the key out.
 */
const BAD = {
  sampleRate: [
    ...[0, -1, 44100.5, NaN, Infinity, -Infinity, 768001, 2 ** 53, -0, 1e-9].map((v) => [v, RANGE]),
    ...['44100', null, '__missing', true, 48000n, [44100], { __fz: 'date' }, { __fz: 'symbol' }].map((v) => [v, TYPE]),
  ],
  channels: [
    ...[0, 9, -1, 1.5, NaN, Infinity, 255, -0, 2 ** 32 + 2].map((v) => [v, VALUE]),
    ...['2', null, '__missing', 2n, true, [2], { __fz: 'function' }].map((v) => [v, TYPE]),
  ],
  codec: [
    ...[1, true, {}, ['aac'], { __fz: 'symbol' }].map((v) => [v, TYPE]),
    ...['nope', '', 'libx264', 'mpeg4', 'gif', 'subrip', 'AAC', 'aac ', 'pcm_s16le\u0000', 'h264'].map((v) => [v, 'ERR_UNKNOWN_CODEC', 'open']),
  ],
  bitRate: [
    ...[0, -1, 1.5, 10_000_001, NaN, Infinity, -Infinity].map((v) => [v, RANGE]),
    ...['128k', true, {}, 128000n].map((v) => [v, TYPE]),
  ],
  extraOptions: [
    ...['voip', 1, [1], true].map((v) => [v, TYPE]),
    ...[{ application: {} }, { x: NaN }, { x: null }, { x: Infinity }].map((v) => [v, OPTION]),
    ...[{ foo: 1 }, { nope: 'x' }, { x264opts: 'keyint=1' }, { '': 1 }].map((v) => [v, OPTION, 'open']),
  ],
  unknownKey: ['foo', 'rate', 'format', 'sample_rate', 'bitrate', 'layout', 'constructor'].map((k) => [k, OPTION]),
};
const FAULTS = Object.keys(BAD);

/**
 * extraOptions that name real options of FFmpeg's audio encoders, generic ones included (ch_layout,
 * ar, frame_size, cutoff): valid or not for the track, they must open, or be refused with a code.
 * (Found by this fuzz, fixed: a `ch_layout` of another channel count than `channels` crashed the process;
 * it is ERR_INVALID_OPTION now.)
 */
const RISKY_EXTRA = [
  { ch_layout: 'mono' }, { ch_layout: 'stereo' }, { ch_layout: '5.1' }, { ch_layout: '7.1' }, { ch_layout: 'bogus' },
  { ar: 8000 }, { ar: 48000 }, { ar: 7 }, { frame_size: 1 }, { frame_size: 100000 }, { cutoff: 1000 },
  { application: 'voip' }, { application: 'nope' }, { compression_level: 0 }, { compression_level: 99 },
  { reservoir: false }, { aac_coder: 'fast' }, { vbr: 'off' }, { strict: -2 }, { global_quality: 5 },
];

const goodTrack = fc.record({
  sampleRate: fc.constantFrom(...RATES),
  channels: fc.oneof({ arbitrary: fc.constantFrom(1, 2), weight: 10 }, { arbitrary: fc.integer({ min: 3, max: 8 }), weight: 2 }),
  codec: fc.constantFrom(undefined, undefined, undefined, undefined, 'aac', 'libopus', 'libmp3lame', 'flac', 'pcm_s16le', 'opus', 'mp3'),
  bitRate: maybe(fc.constantFrom(32000, 64000, 96000, 128000), 15),
  extra: fc.constantFrom('none', 'none', 'none', 'empty', 'fitting'),
});

/** How the audio object is wrapped: keeps its values, or a getter / Proxy trap throws (user code). */
const audioWrap = fc.oneof(
  { arbitrary: fc.constantFrom('plain', 'plain', 'plain', 'plain', 'frozen', 'proxy', 'getters', 'nullProto', 'classInstance'), weight: 12 },
  // (found by this fuzz, fixed: a throwing `codec` getter made VideoWriter's openers throw synchronously)
  { arbitrary: fc.record({ hostile: fc.constant('throw'), key: fc.constantFrom('sampleRate', 'channels', 'codec', 'bitRate', 'extraOptions', 'samples') }), weight: 1 },
  { arbitrary: fc.record({ hostile: fc.constant('throwingProxy') }), weight: 1 },
);

export const audioSpec = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('good'), track: goodTrack, wrap: audioWrap }), weight: 12 },
  {
    arbitrary: fc.record({
      kind: fc.constant('bad'),
      track: goodTrack,
      faults: fc.uniqueArray(fc.constantFrom(...FAULTS), { minLength: 1, maxLength: 2 }),
      pick: fc.array(fc.nat(), { minLength: 2, maxLength: 2 }),
      wrap: audioWrap,
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ kind: fc.constant('risky'), track: goodTrack, extra: fc.constantFrom(...RISKY_EXTRA), bitRate: maybe(fc.constantFrom(1, 500, 10_000_000), 40) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('value'), value: fc.oneof(fc.constantFrom('aac', 42, true, [], [{ sampleRate: 48000, channels: 2 }]), fc.constant({ __fz: 'symbol' }), fc.constant({ __fz: 'function' }), fc.constant({ __fz: 'throwingProxy' }), anyValue) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('none'), value: fc.constantFrom(undefined, null) }), weight: 1 },
);

/**
 * The `audio` object of a spec (`samples`, when given, added as its `samples` key) and what the
 * contract makes of it:
 *   track     { sampleRate, channels, codec } the track it declares (null when not one)
 *   parse     codes of the faults found when the options are read (empty: none)
 *   open      codes of the faults found when the encoder opens
 *   user      a getter or trap may throw (its value passes through)
 *   lenient   the outcome is not known (random values, options FFmpeg may or may not take)
 *   none      no audio track
 */
export function buildAudio(spec, ctx, { samples, samplesGetter = null, withSamples = false, samplesKey = false } = {}) {
  if (spec.kind === 'none') return { v: spec.value, track: null, parse: [], open: [], none: true };
  if (spec.kind === 'value') {
    const v = value(spec.value, ctx);
    const nullish = v === undefined || v === null;
    return { v, track: null, parse: [], open: [], none: nullish, lenient: !nullish };
  }
  const t = spec.track;
  const o = { sampleRate: t.sampleRate, channels: t.channels };
  if (t.codec !== undefined) o.codec = t.codec;
  if (t.bitRate !== undefined) o.bitRate = t.bitRate;
  if (t.extra === 'empty') o.extraOptions = {};
  if (t.extra === 'fitting' && (t.codec === 'libopus' || t.codec === 'opus')) o.extraOptions = { application: 'voip' };
  const parse = [];
  const open = [];
  let lenient = false;
  if (spec.kind === 'risky') {
    o.extraOptions = { ...spec.extra };
    if (spec.bitRate !== undefined) o.bitRate = spec.bitRate;
    lenient = true;
  }
  if (spec.kind === 'bad') {
    spec.faults.forEach((f, k) => {
      const [v, code, at = 'parse'] = BAD[f][spec.pick[k] % BAD[f].length];
      (at === 'open' ? open : parse).push(code);
      if (f === 'unknownKey') o[v] = 1;
      else if (v === '__missing') delete o[f];
      else o[f] = value(v, ctx);
    });
  }
  if (withSamples && !samplesGetter) o.samples = samples;
  if (samplesKey) { o.samples = new Float32Array(2); parse.push(OPTION); } // VideoWriter takes none
  const wrapped = wrapAudio(o, spec.wrap ?? 'plain', ctx, withSamples ? samplesGetter : null);
  return {
    v: wrapped.v,
    track: { sampleRate: t.sampleRate, channels: t.channels, codec: t.codec },
    parse,
    open,
    user: wrapped.user,
    lenient,
  };
}

/** The audio object wrapped as `wrap` says; `samplesGetter` (when given) is its `samples` key's getter. */
function wrapAudio(o, wrap, ctx, samplesGetter) {
  const withGetter = (t) => {
    if (samplesGetter) Object.defineProperty(t, 'samples', { get: samplesGetter, enumerable: true, configurable: true });
    return t;
  };
  if (typeof wrap === 'string') {
    switch (wrap) {
      case 'plain': return { v: withGetter(o) };
      case 'frozen': return { v: Object.freeze(withGetter(o)) };
      case 'proxy': return { v: new Proxy(withGetter(o), {}) };
      case 'nullProto': return { v: withGetter(Object.assign(Object.create(null), o)) };
      case 'classInstance': { class AudioTrack {} return { v: withGetter(Object.assign(new AudioTrack(), o)) }; }
      case 'getters': {
        const g = {};
        for (const [k, val] of Object.entries(o)) Object.defineProperty(g, k, { get: () => val, enumerable: true });
        return { v: withGetter(g) };
      }
      default: throw new Error(wrap);
    }
  }
  if (wrap.hostile === 'throwingProxy') {
    return { v: new Proxy(withGetter(o), { get(t, k) { if (typeof k === 'string' && k !== 'then') throw ctx.userError(`audio proxy get ${k}`); return Reflect.get(t, k); } }), user: true };
  }
  // a getter on one key that throws (defined whether or not the key was set: reading it runs user code)
  const g = withGetter({ ...o });
  Object.defineProperty(g, wrap.key, { get() { throw ctx.userError(`audio.${wrap.key} getter`); }, enumerable: true, configurable: true });
  return { v: g, user: true };
}

// ---------------------------------------------------------------- samples

const frameCount = fc.oneof(
  { arbitrary: fc.constantFrom(0, 1, 2, 3, 576, 1023, 1024, 1025, 1152, 4608, 4609), weight: 2 },
  { arbitrary: fc.integer({ min: 0, max: 4800 }), weight: 3 },
);
const form = fc.constantFrom('interleaved', 'interleaved', 'planar');

/** What a getter of the planes array (or a Proxy trap) does while writeAudio() / the constructor reads it. */
export const WRITER_ACTIONS = ['close', 'abort', 'write', 'writeBad', 'writeAudio', 'writeAudioBad', 'framesWritten', 'dispose'];
const SAMPLE_ACTIONS = ['detachOther', 'detachSelf', 'truncate', 'throw'];
const WRONG_TYPES = ['Float64Array', 'Uint8Array', 'Int16Array', 'Int32Array', 'DataView', 'ArrayBuffer', 'numbers', 'string', 'number', 'null', 'undefined', 'object', 'boolean', 'bigint', 'planesF64', 'planesNumbers', 'planesNull', 'arrayLike', 'nested', 'symbol', 'function', 'date'];

/** Samples for a writer (`actions`: what re-entrant getters may do) or for the constructor. */
export function samplesSpec(actions) {
  return fc.oneof(
    {
      arbitrary: fc.record({
        t: fc.constant('valid'), form, n: frameCount,
        fill: fc.constantFrom('tone', 'tone', 'tone', 'zero', 'edge'),
        store: fc.constantFrom('plain', 'plain', 'plain', 'plain', 'offset', 'shared', 'resizable', 'tracking', 'subclass', 'frozenPlanes'),
      }),
      weight: 14,
    },
    { arbitrary: fc.record({ t: fc.constant('nonFinite'), form, n: fc.integer({ min: 1, max: 3000 }), what: fc.constantFrom('NaN', 'Infinity', '-Infinity'), pos: fc.nat(), second: fc.option(fc.nat(), { nil: null }) }), weight: 3 },
    // finite values outside [-1, 1]: the contract refuses only NaN / ±Infinity; whatever an encoder makes of
    // them, the process lives and every call settles (found by this fuzz, fixed by clipping to [-1, 1]:
    // libmp3lame aborted the process on samples of 1e6 and more; aac spun for ever on one of 1e8 and more)
    { arbitrary: fc.record({ t: fc.constant('loud'), form, n: fc.integer({ min: 1, max: 3000 }), v: fc.constantFrom(1.0001, 2, -8, 1e5, 1e6, 1e10, 1e30, 3.4e38, -3.4e38), pos: fc.nat(), all: fc.boolean() }), weight: 2 },
    { arbitrary: fc.record({ t: fc.constant('length'), how: fc.constantFrom('notMultiple', 'moreArrays', 'fewerArrays', 'unequal', 'emptyArray'), n: fc.integer({ min: 0, max: 2000 }) }), weight: 3 },
    { arbitrary: fc.record({ t: fc.constant('type'), what: fc.constantFrom(...WRONG_TYPES), n: fc.integer({ min: 0, max: 64 }) }), weight: 3 },
    { arbitrary: fc.record({ t: fc.constant('detached'), form, which: fc.nat(), n: fc.integer({ min: 0, max: 2000 }) }), weight: 2 },
    { arbitrary: fc.record({ t: fc.constant('proxy'), of: fc.constantFrom('planes', 'float32') }), weight: 1 },
    { arbitrary: fc.record({ t: fc.constant('reenter'), via: fc.constantFrom('getter', 'getter', 'getter', 'proxy'), at: fc.nat(), action: fc.constantFrom(...actions, ...SAMPLE_ACTIONS), n: fc.integer({ min: 0, max: 2000 }) }), weight: actions.length ? 5 : 2 },
    { arbitrary: fc.record({ t: fc.constant('value'), value: anyValue }), weight: 1 },
  );
}

/** n values of `fill` (a deterministic signal in [-1, 1]). */
function fillValues(fill, len, seed = 1) {
  const out = new Float32Array(len);
  if (fill === 'zero') return out;
  if (fill === 'edge') {
    const edge = [1, -1, 0, -0, 1e-40, -1e-40, 0.9999999, -0.9999999, 2 ** -149];
    for (let i = 0; i < len; i++) out[i] = edge[(i + seed) % edge.length];
    return out;
  }
  for (let i = 0; i < len; i++) out[i] = 0.5 * Math.sin(0.01 * (i + 1) * (seed + 1));
  return out;
}

/** A Float32Array of `len` values held as `store` says. */
function stored(store, values) {
  const len = values.length;
  let f;
  switch (store) {
    case 'offset': f = new Float32Array(new ArrayBuffer((len + 3) * 4), 12, len); break;
    case 'shared': f = new Float32Array(new SharedArrayBuffer(len * 4)); break;
    case 'resizable': f = new Float32Array(new ArrayBuffer(len * 4 + 8, { maxByteLength: len * 8 + 64 }), 0, len); break;
    case 'tracking': f = new Float32Array(new ArrayBuffer(len * 4, { maxByteLength: len * 8 + 64 })); break;
    case 'subclass': { class Samples extends Float32Array {} f = new Samples(len); break; }
    default: f = new Float32Array(len);
  }
  f.set(values);
  return f;
}

function detachF32(f) {
  structuredClone(f.buffer, { transfer: [f.buffer] });
}

/** Detach every Float32Array (or other view) of `v` that can be (not shared, not already detached, not through a Proxy). */
export function detachAll(v) {
  if (types.isProxy(v)) return 0;
  let n = 0;
  for (const f of ArrayBuffer.isView(v) ? [v] : Array.isArray(v) ? v : []) {
    if (!ArrayBuffer.isView(f) || types.isProxy(f) || f.buffer instanceof SharedArrayBuffer) continue;
    try { detachF32(f); n++; } catch { /* already detached */ }
  }
  return n;
}

const isDetached = (buffer) => { try { new Uint8Array(buffer); return false; } catch { return true; } };

/** Whether detachAll(v) would detach something (v holds an attached, unshared view). */
function detachable(v) {
  if (types.isProxy(v)) return false;
  const views = ArrayBuffer.isView(v) ? [v] : Array.isArray(v) ? [...v] : [];
  return views.some((f) => ArrayBuffer.isView(f) && !types.isProxy(f) && !(f.buffer instanceof SharedArrayBuffer) && !isDetached(f.buffer));
}

const codes = (...c) => ({ codes: c });

/**
 * Real samples for a track of `ch` channels from a description, and `expect`: 'ok' (accepted),
 * 'loud' (finite values outside [-1, 1]: accepted or refused with ERR_INVALID_ARG_VALUE; the encoder
 * may fail later, never the process), { codes, includes?, orOk?, proxy? }, { user: true }, 'any'.
 * `name` is how messages call the argument (samples, audio.samples); `act(action)` runs a writer action.
 */
export function buildSamples(s, ch, ctx, { name = 'samples', act = () => {} } = {}) {
  switch (s.t) {
    case 'valid': {
      const vals = fillValues(s.fill, s.n * ch, s.n);
      if (s.form === 'interleaved') return { v: s.store === 'frozenPlanes' ? vals : stored(s.store, vals), expect: 'ok', frames: s.n };
      const planes = Array.from({ length: ch }, (_, c) => stored(s.store === 'frozenPlanes' ? 'plain' : s.store, fillValues(s.fill, s.n, c + s.n)));
      return { v: s.store === 'frozenPlanes' ? Object.freeze(planes) : planes, expect: 'ok', frames: s.n };
    }
    case 'nonFinite':
    case 'loud': {
      const len = s.n * ch;
      const vals = fillValues('tone', len);
      const bad = s.t === 'loud' ? s.v : Number(s.what);
      const at = [s.pos % len];
      if (s.t === 'nonFinite' && s.second !== null) at.push(s.second % len);
      if (s.t === 'loud' && s.all) vals.fill(bad);
      for (const k of at) vals[k] = bad;
      const first = Math.min(...at); // (interleaved index: time order, then channel)
      const [c, i] = [first % ch, Math.floor(first / ch)];
      const v = s.form === 'interleaved' ? vals : Array.from({ length: ch }, (_, p) => Float32Array.from({ length: s.n }, (_, j) => vals[j * ch + p]));
      if (s.t === 'loud') return { v, expect: 'loud', frames: s.n };
      // "samples[1234] (channel 0, sample 617) is Infinity", "samples[1][617] (channel 1, sample 617) is NaN"
      const where = s.form === 'interleaved' ? `${name}[${first}] (channel ${c}, sample ${i}) is ${s.what}` : `${name}[${c}][${i}] (channel ${c}, sample ${i}) is ${s.what}`;
      return { v, expect: { codes: [VALUE], includes: where } };
    }
    case 'length': {
      const n = s.n;
      const plane = (k = n) => new Float32Array(k).fill(0.25);
      let how = s.how;
      if (ch === 1 && (how === 'notMultiple' || how === 'unequal')) how = 'moreArrays';
      switch (how) {
        case 'notMultiple': return { v: new Float32Array(n * ch + 1 + (n % (ch - 1))), expect: codes(VALUE) };
        case 'moreArrays': return { v: Array.from({ length: ch + 1 }, () => plane()), expect: codes(VALUE) };
        case 'fewerArrays': return { v: Array.from({ length: ch - 1 }, () => plane()), expect: codes(VALUE) };
        case 'unequal': return { v: Array.from({ length: ch }, (_, c) => plane(c === ch - 1 ? n + 1 : n)), expect: codes(VALUE) };
        default: return { v: [], expect: codes(VALUE) };
      }
    }
    case 'type': return wrongType(s, ch);
    case 'detached': {
      const n = s.n;
      if (s.form === 'interleaved') { const f = new Float32Array(n * ch); detachF32(f); return { v: f, expect: codes(VALUE) }; }
      const planes = Array.from({ length: ch }, () => new Float32Array(n));
      detachF32(planes[s.which % ch]);
      return { v: planes, expect: codes(VALUE) };
    }
    case 'proxy': {
      // A Proxy is no Float32Array (its brand is the target's): refused with ERR_INVALID_ARG_TYPE, or
      // (a Proxy of an array, an array to JS) accepted. A refusal must say it met a Proxy — the rule the
      // frames' shape follows (fuzz/cases.mjs) — not "got Float32Array" or "got Array" (found by this fuzz,
      // fixed: the messages said those).
      if (s.of === 'float32') return { v: new Proxy(new Float32Array(4 * ch), {}), expect: { codes: [TYPE], proxy: true } };
      return { v: new Proxy(Array.from({ length: ch }, () => new Float32Array(4)), {}), expect: { codes: [TYPE], proxy: true, orOk: true } };
    }
    case 'reenter': return reentrant(s, ch, ctx, act);
    default: return { v: value(s.value, ctx), expect: 'any' };
  }
}

function wrongType(s, ch) {
  const n = s.n;
  const type = (v) => ({ v, expect: codes(TYPE) });
  const planes = (make) => ({ v: Array.from({ length: ch }, make), expect: codes(TYPE) });
  switch (s.what) {
    case 'Float64Array': return type(new Float64Array(n * ch));
    case 'Uint8Array': return type(new Uint8Array(n * ch));
    case 'Int16Array': return type(new Int16Array(n * ch));
    case 'Int32Array': return type(new Int32Array(n * ch));
    case 'DataView': return type(new DataView(new ArrayBuffer(n * ch * 4)));
    case 'ArrayBuffer': return type(new ArrayBuffer(n * ch * 4));
    case 'numbers': return type(Array.from({ length: ch }, () => 0.1)); // ch numbers: the count fits, the type does not
    case 'string': return type('0.1,0.2');
    case 'number': return type(0.5);
    case 'null': return type(null);
    case 'undefined': return type(undefined);
    case 'object': return type({ data: new Float32Array(n * ch) });
    case 'boolean': return type(true);
    case 'bigint': return type(1n);
    case 'planesF64': return planes(() => new Float64Array(n));
    case 'planesNumbers': return planes(() => [0.1, 0.2]);
    case 'planesNull': return planes((_, c) => (c === ch - 1 ? null : new Float32Array(n)));
    case 'arrayLike': { const o = { length: ch }; for (let c = 0; c < ch; c++) o[c] = new Float32Array(n); return type(o); }
    case 'nested': return planes(() => [new Float32Array(n)]);
    case 'symbol': return type(Symbol('samples'));
    case 'function': return type(() => new Float32Array(n * ch));
    case 'date': return type(new Date(0));
    default: throw new Error(s.what);
  }
}

/**
 * Valid planes whose element `at` is a getter (or a Proxy trap at the first read) that does `action`:
 * calls the writer back (act), detaches a plane, shortens the array, or throws.
 */
function reentrant(s, ch, ctx, act) {
  const at = s.at % ch;
  const planes = Array.from({ length: ch }, (_, c) => fillValues('tone', s.n, c));
  const target = s.action === 'detachSelf' || ch === 1 ? at : (at + 1) % ch;
  let expect;
  let fired = false;
  const run = () => {
    if (fired) return;
    fired = true;
    switch (s.action) {
      case 'detachOther': case 'detachSelf': detachF32(planes[target]); break;
      case 'truncate': if (Array.isArray(arr)) arr.length = at; break;
      case 'throw': throw ctx.userError('samples element getter');
      default: act(s.action);
    }
  };
  switch (s.action) {
    // a detached plane read after the detach: refused; one read (copied) before it: accepted
    case 'detachSelf': expect = codes(VALUE); break;
    case 'detachOther': expect = target > at || s.via === 'proxy' ? codes(VALUE) : { codes: [VALUE], orOk: true }; break;
    // elements after `at` are gone: refused (a hole, or a count that no longer fits)
    case 'truncate': expect = at < ch - 1 ? codes(TYPE, VALUE) : 'ok'; break;
    case 'throw': expect = { user: true }; break;
    // the writer was closed or aborted while its argument was read: the call is refused
    case 'close': case 'abort': case 'dispose': expect = { codes: ['ERR_INVALID_STATE'], state: true }; break;
    default: expect = 'ok';
  }
  let arr;
  if (s.via === 'proxy') {
    // a Proxy of the planes: refused as a Proxy (see 'proxy'), or read through its traps
    arr = new Proxy(planes, { get(t, k, r) { if (k !== 'then' && typeof k === 'string') run(); return Reflect.get(t, k, r); } });
    if (s.action === 'throw') expect = { codes: [TYPE], user: true, orOk: false };
    else if (expect === 'ok' || expect.orOk) expect = { codes: [TYPE, ...(expect.codes ?? [])], orOk: true, proxy: true, state: expect.state };
    else expect = { ...expect, codes: [TYPE, ...expect.codes], proxy: true };
    return { v: arr, expect, reenters: true };
  }
  arr = [...planes];
  Object.defineProperty(arr, at, { get() { run(); return planes[at]; }, enumerable: true, configurable: true });
  return { v: arr, expect, reenters: true, frames: s.n };
}

/** Whether a rejection `e` (code `code`, 'user' for user code's own values) is what `expect` allows. */
export function samplesVerdict(expect, e, code) {
  if (expect === 'any') return code === 'user' || code === TYPE || code === VALUE ? null : `random samples refused with ${code}, not ERR_INVALID_ARG_TYPE / _VALUE`;
  if (expect === 'ok') return `valid samples refused (${code})`;
  if (expect === 'loud') return code === VALUE ? null : `finite samples outside [-1, 1] refused with ${code} (accept them, or ERR_INVALID_ARG_VALUE)`;
  if (expect.user && code === 'user') return null;
  if (!expect.codes || !expect.codes.includes(code)) return `expected ${expect.user ? 'the getter’s exception' : expect.codes.join(' or ')}, got ${code}`;
  if (expect.includes && !String(e.message).includes(expect.includes)) return `the message does not name the position as "${expect.includes.replace(/\d+/g, 'N')}"`;
  if (expect.proxy && code === TYPE && !/proxy/i.test(String(e.message))) return 'a Proxy refused without saying Proxy';
  return null;
}

// ---------------------------------------------------------------- the one-shot API

const W = 16;
const H = 16;
const VIDEO_OPTS = { mp4: { preset: 'ultrafast' }, mov: { preset: 'ultrafast' }, mkv: { preset: 'ultrafast' }, webm: { extraOptions: { deadline: 'realtime', 'cpu-used': 8 } } };
const ONE_SHOT_FORMATS = ['mp4', 'mp4', 'mkv', 'mkv', 'webm', 'avi', 'nut', 'ts', 'mov', 'flv', 'gif'];

/** One case of the one-shot API: a constructor with an audio track, then (if it gave an encoder) an encode. */
export const ctorAudioCaseSpec = fc.record({
  m: fc.constant('ctorAudio'),
  frames: fc.integer({ min: 1, max: 3 }),
  audio: audioSpec,
  samples: samplesSpec([]),
  samplesWhere: fc.constantFrom('key', 'key', 'key', 'key', 'getterDetaches', 'getterThrows', 'missing'),
  method: fc.constantFrom('toBuffer', 'toBuffer', 'toFile', 'toStream'),
  format: fc.constantFrom(...ONE_SHOT_FORMATS),
  detachAfter: fc.constantFrom(false, false, true), // the constructor copied the samples: detaching them after changes nothing
});

/** Runs a one-shot case (for cases.mjs's runCase); `allowFile` names the one file a toFile may leave. */
export async function runAudioCtorCall(spec, ctx, allowFile) {
  let built;
  let samples;
  let where = spec.samplesWhere;
  try {
    const ch = spec.audio.track?.channels;
    samples = buildSamples(spec.samples, Number.isInteger(ch) && ch >= 1 && ch <= 8 ? ch : 2, ctx, { name: 'audio.samples' });
    if (samples.reenters && where === 'getterDetaches') where = 'key'; // (its own getters act on it)
    // audio.samples read through a getter that detaches the samples first, or throws
    const v = samples.v;
    const samplesGetter = where.startsWith('getter') ? () => {
      if (where === 'getterThrows') throw ctx.userError('audio.samples getter');
      detachAll(v);
      return v;
    } : null;
    built = buildAudio(spec.audio, ctx, { withSamples: where !== 'missing', samples: v, samplesGetter });
  } catch (e) {
    return { failure: { sig: 'fuzz harness: could not build the audio case', detail: String(e?.stack ?? e).slice(0, 400) } };
  }
  const frames = new Uint8Array(spec.frames * 3 * H * W).fill(90);
  const options = { frameRate: 30, shape: [spec.frames, 3, H, W], audio: built.v };
  // what the constructor must do
  const ctorCodes = new Set(built.parse);
  let samplesExpect = samples.expect;
  if (built.none || built.lenient) samplesExpect = 'any';
  const hasSamples = !built.none && !built.lenient && where !== 'missing';
  if (!built.none && !built.lenient && where === 'missing') ctorCodes.add(TYPE);
  if (hasSamples && where === 'getterDetaches' && detachable(samples.v)) {
    // the getter detached the samples before handing them over: a detached Float32Array is refused
    const x = samplesExpect;
    if (x === 'ok' || x === 'loud') samplesExpect = codes(VALUE);
    else if (x.codes) samplesExpect = { ...x, codes: [...new Set([...x.codes, VALUE])], includes: undefined, orOk: false };
  }
  const userMay = built.user || where === 'getterThrows' || samples.expect?.user;
  const validTrack = !built.none && !built.lenient && built.parse.length === 0 && where !== 'missing';
  let enc;
  try {
    enc = new VideoEncoder(frames, options);
  } catch (err) {
    const f = judgeError(err, ctx);
    if (f) return { failure: { ...f, sig: `a.ctor: ${f.sig}` } };
    const code = ctx.isUserThrown(err) ? 'user' : err.code;
    if (built.lenient) return { outcome: `a.ctor:${code}` };
    if (code === 'user' && userMay) return { outcome: 'a.ctor:user' };
    if (ctorCodes.has(code)) return { outcome: `a.ctor:${code}` };
    if (built.none) return { failure: { sig: `a.ctor: no audio track (audio: ${brief(built.v)}), yet it threw ${code}`, detail: brief(err) } };
    if (!validTrack) {
      // the track's own fault or the samples' (samples are read last: either may be named)
      const bad = samplesExpect === 'ok' ? 'valid samples' : null;
      const v = bad ? null : samplesVerdict(samplesExpect, err, code);
      if (!v && !bad) return { outcome: `a.ctor:${code}` };
      return { failure: { sig: `a.ctor: audio option faulty (${[...ctorCodes].join('|') || 'none at parse'}) threw ${code}${v ? `: ${v}` : ''}`.replace(/\d+/g, 'N'), detail: brief(err) } };
    }
    const v = samplesVerdict(samplesExpect, err, code);
    if (v) return { failure: { sig: `a.ctor: ${v}`.replace(/\d+/g, 'N'), detail: `${brief(err)} (${spec.samples.t})` } };
    return { outcome: `a.ctor:${code}` };
  }
  // the constructor gave an encoder
  if (!built.none && !built.lenient) {
    if (ctorCodes.size) return { failure: { sig: `a.ctor: accepted an audio option the contract refuses when it is read (${[...ctorCodes].join('|')})`, detail: JSON.stringify(spec.audio).slice(0, 300) } };
    if (samplesExpect !== 'ok' && samplesExpect !== 'loud' && !(samplesExpect.orOk)) return { failure: { sig: `a.ctor: accepted samples the contract refuses (${spec.samples.t}${spec.samples.what ? ` ${spec.samples.what}` : ''})`, detail: JSON.stringify(samplesExpect).slice(0, 200) } };
  }
  if (!built.none && !built.lenient && (built.user || where === 'getterThrows')) {
    return { failure: { sig: 'a.ctor: gave an encoder although a getter of its audio option threw', detail: JSON.stringify(spec.audio).slice(0, 300) } };
  }
  if (spec.detachAfter) {
    detachAll(samples.v);
    globalThis.gc?.();
  }
  return encodeWith(enc, spec, ctx, allowFile, { built, samplesExpect, validTrack, frames: samples.frames ?? 0 });
}

async function encodeWith(enc, spec, ctx, allowFile, { built, samplesExpect, validTrack, frames }) {
  const fmt = spec.format;
  const opts = VIDEO_OPTS[fmt];
  const label = `a.${spec.method}`;
  let dest = null;
  let sink = null;
  let p;
  try {
    if (spec.method === 'toFile') {
      dest = path.join(ctx.dirs.out, `audio.${fmt}`);
      allowFile(dest);
      p = enc.toFile(dest, opts);
    } else if (spec.method === 'toStream') {
      sink = collector(ctx);
      p = enc.toStream(sink.w, fmt, opts);
    } else {
      p = enc.toBuffer(fmt, opts);
    }
  } catch (err) {
    return { failure: { sig: `${label} threw synchronously`, detail: brief(err) } };
  }
  const outcome = built.none ? { any: false, none: true } : built.lenient || !validTrack ? { any: true } : trackOutcome(fmt, built.track);
  const openCodes = built.open;
  let r;
  try {
    r = await withTimeout(p, 10_000);
  } catch (err) {
    if (err instanceof Hang) return { failure: { sig: `${label}: hang`, detail: err.message }, hang: true };
    const f = judgeError(err, ctx);
    if (f) return { failure: { ...f, sig: `${label}: ${f.sig}` } };
    const code = ctx.isUserThrown(err) ? 'user' : err.code;
    const tag = `${label}:${fmt}:${code}`;
    if (outcome.any || samplesExpect === 'loud') return { outcome: tag };
    if (openCodes.length) return [...openCodes, ...(outcome.codes ?? [])].includes(code) ? { outcome: tag } : { failure: { sig: `${label}: a faulty audio option (${openCodes.join('|')}) rejected with ${code}`, detail: brief(err) } };
    if (outcome.codes) return outcome.codes.includes(code) ? { outcome: tag } : { failure: { sig: `${label}: ${fmt} with this track must reject with ${outcome.codes.join(' or ')}, got ${code}`, detail: `${brief(err)} ${JSON.stringify(built.track)}` } };
    // a valid track the container holds (or no track): the encode succeeds
    return { failure: { sig: `${label}: ${built.none ? 'an encode without audio' : `a valid track (${outcome.encoder} in ${fmt})`} rejected with ${code}`, detail: `${brief(err)} ${JSON.stringify(built.track)}` } };
  }
  // resolved
  if (!outcome.any) {
    if (openCodes.length) return { failure: { sig: `${label}: resolved despite a faulty audio option (${openCodes.join('|')})`, detail: JSON.stringify(spec.audio).slice(0, 300) } };
    if (outcome.codes) return { failure: { sig: `${label}: ${fmt} with this track resolved (expected ${outcome.codes.join(' or ')})`, detail: JSON.stringify(built.track) } };
  }
  const bytes = spec.method === 'toBuffer' ? r : null;
  if (spec.method === 'toBuffer' && !(Buffer.isBuffer(r) && r.length > 0)) return { failure: { sig: `${label}: resolved with ${brief(r)}`, detail: '' } };
  if (spec.method !== 'toBuffer') {
    if (!r || !(r.bytes > 0)) return { failure: { sig: `${label}: result.bytes ${r?.bytes}`, detail: '' } };
    const bad = audioCodecVerdict(r, built.none ? null : outcome.encoder ?? 'unknown');
    if (bad) return { failure: { sig: `${label}: ${bad}`, detail: JSON.stringify(r).slice(0, 200) } };
  }
  if (!built.none && outcome.must && samplesExpect === 'ok') {
    const bad = probeVerdict(bytes ?? dest, fmt, built.track, outcome.encoder, frames);
    if (bad) return { failure: { sig: `${label}: ${bad.replace(/\d+/g, 'N')}`, detail: bad } };
  }
  return { outcome: `${label}:${fmt}:ok` };
}

/** The result's `audioCodec`: the encoder that ran (`expected`; 'unknown': any string), absent without audio. */
export function audioCodecVerdict(result, expected) {
  if (expected === null) return Object.hasOwn(result, 'audioCodec') ? `a result without audio has audioCodec ${brief(result.audioCodec)}` : null;
  if (typeof result.audioCodec !== 'string') return `a result with audio lacks audioCodec (${brief(result.audioCodec)})`;
  if (expected !== 'unknown' && result.audioCodec !== expected) return `audioCodec is ${result.audioCodec}, expected ${expected}`;
  return null;
}

// The probe runs ffprobe (tens of ms): at most this many times per child process, and for every short
// resampled track (`frames` samples per channel at most SHORT, at a rate the encoder does not run at).
let probesLeft = 4;
const SHORT = 64;

/** The output's first audio stream (`frames` samples were written), probed: its codec, channels and rate are the track's. */
export function probeVerdict(output, format, track, encoder, frames) {
  // (ffprobe cannot tell a tiny MPEG-TS file's streams: it needs more packets than a few frames make)
  if (output === null || encoder === undefined || format === 'ts' || !(frames > 0)) return null;
  const short = frames <= SHORT && encoderRate(encoder, track.sampleRate) !== track.sampleRate;
  if (probesLeft <= 0 && !short) return null;
  if (!short) probesLeft--;
  let s;
  try {
    s = probeAudio(output, { ext: format === 'mkv' ? 'mkv' : format });
  } catch (e) {
    return `the output does not probe: ${String(e.message).slice(0, 120)}`;
  }
  // (mp4 / mov leave out a track without packets: every sample given must reach the encoder. Found by
  // this fuzz, fixed: a resampled track of a few dozen samples or fewer was lost in the resampler.)
  if (!s) return `the output has no audio stream (${frames <= SHORT ? 'a short track' : 'a track'} of ${frames} samples at ${track.sampleRate} Hz)`;
  if (s.codec_name !== CODEC_NAMES[encoder]) return `its audio stream is ${s.codec_name}, not ${CODEC_NAMES[encoder]}`;
  if (Number(s.channels) !== track.channels) return `its audio stream has ${s.channels} channels, not ${track.channels}`;
  // (an Opus stream decodes at 48 kHz whatever rate it was encoded at: demuxers report 48000)
  const rate = encoder === 'libopus' ? 48000 : encoderRate(encoder, track.sampleRate);
  if (Number(s.sample_rate) !== rate) return `its audio stream runs at ${s.sample_rate} Hz, not ${rate}`;
  return null;
}
