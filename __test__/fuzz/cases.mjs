// The fuzz's cases: fast-check arbitraries that generate *descriptions* of calls (plain values that
// fc.stringify prints and that replay from a seed), and `runCase`, which builds the real JS values
// (typed arrays, Proxies, throwing getters, AbortSignals, streams, …), makes the call and judges it.
//
// The property (design §1): every call either succeeds (and a success has a non-empty output) or
// throws / rejects with an Error whose `code` is a documented string and whose class is Node's for
// that code; an exception thrown by user code (a getter, a Proxy trap, onProgress, a stream's write)
// passes through unchanged, recognised by identity. A case whose inputs are valid by the contract
// must succeed. No call may leave a file behind, except the dest of a successful toFile.
import fc from 'fast-check';
import fs from 'node:fs';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Writable, Readable, PassThrough } from 'node:stream';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { VideoEncoder } = require('../../index.js');

/** Codes an error of framecodec may carry, and the class Node throws each as. */
export const CODES = new Map([
  ['ERR_UNKNOWN_CODEC', Error],
  ['ERR_UNKNOWN_FORMAT', Error],
  ['ERR_INVALID_PIXEL_FORMAT', Error],
  ['ERR_OUT_OF_RANGE', RangeError],
  ['ERR_INVALID_OPTION', Error],
  ['ERR_INVALID_ARG_VALUE', TypeError],
  ['ERR_INVALID_ARG_TYPE', TypeError],
  ['ERR_IO', Error],
  ['ABORT_ERR', Error],
  ['ERR_ENCODER_UNAVAILABLE', Error],
  ['ERR_ENCODE', Error],
  ['ERR_CUDA_UNAVAILABLE', Error],
  ['ERR_INVALID_STATE', Error],
]);

// ---------------------------------------------------------------- arbitraries (descriptions only)

const tag = (t, extra = {}) => ({ __fz: t, ...extra });
/** `arb` in `pct`% of the cases, else undefined. */
const maybe = (arb, pct) => fc.oneof({ arbitrary: fc.constant(undefined), weight: 100 - pct }, { arbitrary: arb, weight: pct });

/** A value of any JS type (tagged descriptions for the ones that are not plain data). */
export const leaf = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, 1, -1, 0.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 64, 1e308, Number.MIN_VALUE),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.string({ maxLength: 16 }),
  fc.constantFrom('', '0', '1', '-1', 'NaN', 'true', 'libx264', 'yuv420p', '\u0000', 'a'.repeat(5000), '💥', '__proto__'),
  fc.constant(tag('symbol')),
  fc.constant(tag('function')),
  fc.constant(tag('throwingGetterObject')),
  fc.constant(tag('throwingProxy')),
  fc.constant(tag('date')),
  fc.constant(tag('regexp')),
  fc.constant(tag('nullProto')),
  fc.constant(tag('uint8', { n: 4 })),
  fc.constant(tag('toPrimitiveThrows')),
);
export const anyValue = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, { arbitrary: leaf, weight: 6 }, tie('arr'), tie('obj')),
  arr: fc.array(tie('v'), { maxLength: 4 }),
  obj: fc.dictionary(fc.string({ maxLength: 6 }), tie('v'), { maxKeys: 4 }),
})).v;

export const dim = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 24 }), weight: 6 },
  { arbitrary: fc.constantFrom(0, -1, -16, 0.5, 16.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 32 + 16, 2 ** 53, 2 ** 53 + 2, 1e308, 16385, -0), weight: 3 },
  { arbitrary: fc.constantFrom(16n, 3n, -1n, 2n ** 64n), weight: 1 },
  { arbitrary: fc.constantFrom('16', '3', '', null, undefined, true), weight: 1 },
  { arbitrary: anyValue, weight: 1 },
);

export const shapeWrap = fc.constantFrom('plain', 'plain', 'plain', 'proxy', 'frozen', 'getterDims', 'int32Array', 'float64Array', 'extraProps', 'sparse', 'throwingIndex', 'arrayLike');
const shapeSpec = fc.oneof(
  { arbitrary: fc.record({ dims: fc.array(dim, { minLength: 0, maxLength: 6 }), wrap: shapeWrap }), weight: 4 },
  { arbitrary: fc.record({ value: anyValue }), weight: 1 },
);

export const TYPED = ['Uint8Array', 'Uint8ClampedArray', 'Buffer', 'Int8Array', 'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array', 'DataView', 'ArrayBuffer', 'SharedUint8Array', 'ResizableUint8Array', 'LengthTrackingUint8Array', 'DetachedUint8Array'];
export const UINT8 = new Set(['Uint8Array', 'Uint8ClampedArray', 'Buffer', 'SharedUint8Array', 'ResizableUint8Array', 'LengthTrackingUint8Array']);

/** Bytes: a typed array / buffer of some kind, length either the shape's byte count or another. */
const dataSpec = fc.record({
  type: fc.constantFrom(...TYPED, 'Uint8Array', 'Uint8Array', 'Buffer'),
  match: fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, { arbitrary: fc.constant(false), weight: 1 }),
  len: fc.oneof(fc.integer({ min: 0, max: 4096 }), fc.constant(0)),
  offset: fc.constantFrom(0, 0, 0, 1, 3, 8),
});

const layoutSpec = fc.oneof(
  { arbitrary: fc.constantFrom(undefined, 'NCHW', 'NHWC'), weight: 6 },
  { arbitrary: fc.constantFrom('nchw', 'NHW', 'NCHW ', '', 'CHW', 'NHWC\u0000'), weight: 1 },
  { arbitrary: anyValue, weight: 1 },
);

/** A valid-looking frames geometry (most cases), or random dims. */
const goodGeometry = fc.record({
  layout: fc.constantFrom(undefined, 'NCHW', 'NHWC'),
  n: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 1, max: 18 }),
  w: fc.integer({ min: 1, max: 18 }),
  c: fc.constantFrom(3, 3, 4, 1, 2, 5, 32),
});

export const objWrap = fc.constantFrom('plain', 'plain', 'plain', 'frozen', 'proxy', 'getters', 'nullProto', 'classInstance', 'throwingGetter', 'throwingProxy');

export const framesSpec = fc.oneof(
  // { data, shape, layout } with a geometry of small dims
  { arbitrary: fc.record({
    t: fc.constant('hostGood'), geo: goodGeometry, data: dataSpec, shapeWrap, wrap: objWrap,
    where: fc.constantFrom('frames', 'frames', 'options', 'both'),
    extras: maybe(fc.dictionary(fc.constantFrom('cudaPtr', 'device', 'width', 'height', 'foo', 'stride'), anyValue, { maxKeys: 2 }), 15),
  }), weight: 8 },
  // a bare typed array with options.shape
  { arbitrary: fc.record({ t: fc.constant('bare'), geo: goodGeometry, data: dataSpec, shapeWrap }), weight: 4 },
  // { data, shape, layout } of random parts
  { arbitrary: fc.record({ t: fc.constant('hostRandom'), data: dataSpec, shape: shapeSpec, layout: layoutSpec, wrap: objWrap }), weight: 4 },
  // CUDA frames
  { arbitrary: fc.record({
    t: fc.constant('cuda'), cudaPtr: fc.oneof(fc.bigInt({ min: -1n, max: 2n ** 65n }), anyValue), device: maybe(anyValue, 30),
    geo: goodGeometry, shape: maybe(shapeSpec, 50), layout: layoutSpec, wrap: objWrap,
  }), weight: 2 },
  // anything else: strings, symbols, null, arrays, numbers, plain objects, …
  { arbitrary: fc.record({ t: fc.constant('value'), value: anyValue }), weight: 2 },
);

export const frameRate = fc.oneof(
  { arbitrary: fc.constantFrom(30, 25, 29.97, 23.976, 59.94, 1, 0.5, 120, 1e-9), weight: 4 },
  { arbitrary: fc.double(), weight: 2 },
  { arbitrary: fc.constantFrom(0, -0, -30, NaN, Infinity, -Infinity, 1e308, 2 ** 53, Number.MIN_VALUE), weight: 2 },
  { arbitrary: anyValue, weight: 2 },
);
export const ctorOptionsSpec = fc.oneof(
  { arbitrary: fc.record({ frameRate, getter: fc.constantFrom(false, false, false, 'value', 'throws'), extra: maybe(fc.dictionary(fc.constantFrom('foo', 'codec', 'width', 'fps'), anyValue, { maxKeys: 2 }), 15), frozen: fc.boolean() }), weight: 8 },
  { arbitrary: fc.record({ value: anyValue }), weight: 1 },
);

/** The encoder the method cases call: tiny and valid (16x16x2 mostly; a few odd sizes). */
const encSpec = fc.record({
  layout: fc.constantFrom('NCHW', 'NHWC'),
  n: fc.constantFrom(2, 2, 2, 1, 3),
  h: fc.constantFrom(16, 16, 16, 8, 15),
  w: fc.constantFrom(16, 16, 16, 8, 2, 17),
  c: fc.constantFrom(3, 4),
  type: fc.constantFrom('Uint8Array', 'Buffer', 'Uint8ClampedArray', 'SharedUint8Array'),
  offset: fc.constantFrom(0, 0, 5),
});

export const FORMATS = ['mp4', 'mov', 'mkv', 'webm', 'avi', 'flv', 'gif', 'ts', 'nut', 'matroska', 'mpegts', 'y4m', 'rawvideo', 'mjpeg', 'apng', 'framemd5', 'md5', 'crc', 'ico', 'image2', 'hls', 'segment', 'tee', 'dash', 'null', 'fifo', 'pipe', 'MP4', '.mp4', 'mp4 ', 'Mkv', '', 'foo', 'con', 'mp4\u0000', 'file', 'ismv', 'f4v', '3gp', 'ogg', 'wav', 'h264', 'hevc', 'ivf', 'm4v', 'mxf', 'dv', 'swf', 'asf', 'wtv', 'a'.repeat(300)];
export const formatSpec = fc.oneof(
  { arbitrary: fc.constantFrom(...FORMATS), weight: 6 },
  { arbitrary: fc.constantFrom('mp4', 'mkv', 'nut', 'ts'), weight: 3 },
  { arbitrary: fc.string({ maxLength: 10 }), weight: 1 },
  { arbitrary: anyValue, weight: 1 },
);

export const CODECS = ['libx264', 'h264', 'hevc', 'libx265', 'libvpx-vp9', 'libvpx', 'vp8', 'vp9', 'mpeg4', 'ffv1', 'rawvideo', 'gif', 'mjpeg', 'png', 'flv', 'mpeg2video', 'h264_nvenc', 'hevc_nvenc', 'av1', 'libaom-av1', 'libsvtav1', 'aac', 'opus', 'pcm_s16le', 'subrip', 'nope', '', 'LIBX264', 'copy', 'h264_vaapi', 'h264_v4l2m2m', 'libxvid', 'prores', 'dnxhd', 'utvideo', 'qtrle'];
export const PIXFMTS = ['yuv420p', 'yuv444p', 'yuv422p', 'nv12', 'gray', 'rgb24', 'bgr0', 'rgba', 'yuv420p10le', 'yuv444p10le', 'yuvj420p', 'pal8', 'p010le', 'cuda', 'nope', '', 'YUV420P', 'monob', 'gbrp', 'yuva420p'];
export const PRESETS = ['ultrafast', 'superfast', 'veryfast', 'medium', 'veryslow', 'placebo', 'fast', 'p1', 'p7', 'slow', 'nope', '', 'ULTRAFAST', 0, 1, 4, 13, -1, 12.5];
const EXTRA_KEYS = ['g', 'bf', 'threads', 'tune', 'movflags', 'profile', 'level', 'refs', 'b', 'maxrate', 'bufsize', 'qp', 'crf', 'preset', 'x264-params', 'x264opts', 'flags', 'flags2', 'colorspace', 'color_range', 'color_primaries', 'color_trc', 'deadline', 'cpu-used', 'row-mt', 'lossless', 'aq-mode', 'keyint_min', 'sc_threshold', 'fflags', 'avioflags', 'brand', 'frag_duration', 'hls_time', 'segment_time', 'protocol_whitelist', 'loop', 'final_delay', 'metadata', 'pix_fmt', 'r', 's', 'strict', 'qmin', 'qmax', 'me_range', 'partitions', 'wpredp', 'slices', 'thread_type', 'mbd', 'trellis', 'write_tmcd', 'use_editlist', 'cluster_size_limit', 'reserve_index_space', 'live', 'mpegts_flags', 'muxrate', 'passlogfile', 'stats', 'foo', '', '__proto__', 'constructor', 'toString'];
const EXTRA_VALUES = ['+faststart', '+frag_keyframe+empty_moov', '+pass1', '+pass2', 'film', 'zerolatency', 'stillimage', 'stats=fz-stats.log', 'dump-yuv=fz.yuv', 'cqmfile=/etc/hostname', 'keyint=1', 'asm=AVX2', 'bt709', 'bt470bg', 'bt2020nc', 'pc', 'tv', 'baseline', 'high', 'high444', '4.1', 'realtime', 'good', 'abc', '', '1', '-1', '0', '1e9', 'nan', 'inf', '1:2', 'a'.repeat(1000), 1, 0, -1, 2, 60, 0.5, 1e9, -1e9, 2 ** 53, NaN, Infinity, true, false];
const extraValue = fc.oneof({ arbitrary: fc.constantFrom(...EXTRA_VALUES), weight: 5 }, { arbitrary: anyValue, weight: 2 }, { arbitrary: fc.integer({ min: -100, max: 100 }), weight: 2 });
export const extraOptionsSpec = fc.oneof(
  { arbitrary: fc.dictionary(fc.oneof({ arbitrary: fc.constantFrom(...EXTRA_KEYS), weight: 6 }, { arbitrary: fc.string({ maxLength: 8 }), weight: 1 }), extraValue, { maxKeys: 3 }), weight: 6 },
  { arbitrary: fc.record({ __fz: fc.constant('throwingGetterObject') }), weight: 1 },
  { arbitrary: anyValue, weight: 1 },
);

export const signalSpec = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('aborted'), reason: fc.constantFrom('undefined', 'error', 'string', 'object') }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('later'), ms: fc.integer({ min: 0, max: 30 }), reason: fc.constantFrom('undefined', 'error', 'string', 'object') }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('never') }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('timeout'), ms: fc.integer({ min: 0, max: 20 }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constantFrom('fakeObject', 'fakeProto', 'eventTarget', 'abortController') }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('value'), value: anyValue }), weight: 1 },
);
export const progressSpec = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('fn') }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('throws'), at: fc.integer({ min: 1, max: 4 }), what: fc.constantFrom('error', 'string', 'object', 'undefined') }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('async') }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('value'), value: anyValue }), weight: 1 },
);

export const encodeOptionsSpec = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 3 },
  // options that encode (mostly): the abort, progress and stream paths get real encodes
  { arbitrary: fc.record({
    codec: fc.constantFrom(undefined, undefined, 'libx264', 'mpeg4', 'ffv1', 'libvpx-vp9', 'rawvideo'),
    pixelFormat: fc.constantFrom(undefined, undefined, 'yuv444p', 'nv12', 'gray', 'yuv420p10le'),
    signal: maybe(signalSpec, 50),
    onProgress: maybe(progressSpec, 50),
    end: maybe(fc.boolean(), 50),
    wrap: fc.constant('plain'),
    fastPreset: fc.constant(true),
  }), weight: 8 },
  { arbitrary: fc.record({
    codec: maybe(fc.oneof({ arbitrary: fc.constantFrom(...CODECS), weight: 5 }, { arbitrary: anyValue, weight: 1 }), 50),
    pixelFormat: maybe(fc.oneof({ arbitrary: fc.constantFrom(...PIXFMTS), weight: 5 }, { arbitrary: anyValue, weight: 1 }), 50),
    crf: maybe(fc.oneof(fc.integer({ min: -5, max: 70 }), fc.double(), fc.constantFrom(NaN, Infinity, -0, 23.5, 1e308), anyValue), 50),
    preset: maybe(fc.oneof({ arbitrary: fc.constantFrom(...PRESETS), weight: 5 }, { arbitrary: anyValue, weight: 1 }), 30),
    extraOptions: maybe(extraOptionsSpec, 50),
    signal: maybe(signalSpec, 35),
    onProgress: maybe(progressSpec, 35),
    end: maybe(fc.oneof(fc.boolean(), anyValue), 35),
    unknownKey: maybe(fc.constantFrom('foo', 'frameRate', 'format', 'shape'), 10),
    wrap: fc.constantFrom('plain', 'plain', 'plain', 'frozen', 'proxy', 'throwingGetter', 'nullProto'),
    fastPreset: fc.boolean(),
  }), weight: 12 },
  { arbitrary: anyValue, weight: 1 },
);

const NAME_CHARS = ['a', 'b', 'Z', '0', '.', '-', '_', ' ', '%', '?', '#', ':', '\u0000', '\n', 'é', '💥', '\\', '*', '~'];
const fileName = fc.oneof(
  { arbitrary: fc.array(fc.constantFrom(...NAME_CHARS), { minLength: 1, maxLength: 12 }).map((a) => a.join('')), weight: 3 },
  { arbitrary: fc.constantFrom('out', 'a b', '.hidden', '..', '.', '', 'x'.repeat(227), 'x'.repeat(255), 'x'.repeat(256), 'x'.repeat(4096), 'dir', 'dir/', 'missing/deeper'), weight: 2 },
);
const ext = fc.constantFrom('.mp4', '.mp4', '.mkv', '.webm', '.ts', '.gif', '.nut', '.avi', '.mov', '', '.xyz', '.MP4', '.mp4.', '.tmp', '.framecodec-partial', '.png', '.ico', '.m3u8');
export const destSpec = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('path'), name: fileName, ext, how: fc.constantFrom('abs', 'abs', 'relative', 'dotdot', 'trailingSlash', 'existingDir', 'existingFile') }), weight: 8 },
  { arbitrary: fc.record({ kind: fc.constant('fileUrl'), name: fileName, ext, as: fc.constantFrom('string', 'URL', 'upper', 'localhost', 'remoteHost', 'encodedSlash', 'query') }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('scheme'), scheme: fc.constantFrom('http:', 'https:', 'rtmp:', 'pipe:', 'tcp:', 'udp:', 'data:', 'concat:', 'subfile:', 'crypto:', 'cache:', 'async:', 'tee:', 'fd:', 'unix:', 'md5:', 'ftp:', 'srt:', 'gopher:', 'HTTP:', 'jar:file:', 'blob:'), rest: fc.constantFrom('//127.0.0.1:1/x.mp4', '1', '0', 'x.mp4', '//[::1]:1/a.ts', '', 'x/y.mp4'), as: fc.constantFrom('string', 'string', 'URL') }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('value'), value: anyValue }), weight: 2 },
);

export const streamSpec = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constantFrom('collect', 'collect', 'collectSmallHwm', 'slow', 'passThrough', 'whatwg', 'whatwgSmallHwm') }), weight: 6 },
  { arbitrary: fc.record({ kind: fc.constantFrom('writeError', 'destroyLater', 'whatwgError', 'throwingWrite'), at: fc.integer({ min: 0, max: 3 }) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constantFrom('destroyed', 'ended', 'finished', 'destroyedWithError', 'whatwgLocked', 'whatwgClosed', 'whatwgErrored', 'fakeWhatwg', 'readable', 'plainObject', 'plainWrite', 'proxyWritable', 'throwingGetter', 'writableFalse', 'nullProto', 'objectMode') }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('value'), value: anyValue }), weight: 1 },
);

/** Frames and options the contract says must be accepted, in every form that keeps them valid. */
const validCtor = fc.record({
  m: fc.constant('ctor'),
  frames: fc.record({
    t: fc.constantFrom('hostGood', 'hostGood', 'bare'),
    geo: fc.record({ layout: fc.constantFrom(undefined, 'NCHW', 'NHWC'), n: fc.integer({ min: 1, max: 3 }), h: fc.integer({ min: 1, max: 18 }), w: fc.integer({ min: 1, max: 18 }), c: fc.constant(3) })
      .chain((g) => (g.layout === 'NHWC' ? fc.constantFrom(3, 4).map((c) => ({ ...g, c })) : fc.constant(g))),
    data: fc.record({ type: fc.constantFrom(...UINT8), match: fc.constant(true), len: fc.constant(0), offset: fc.constantFrom(0, 0, 1, 3, 8) }),
    shapeWrap: fc.constantFrom('plain', 'plain', 'proxy', 'frozen', 'getterDims', 'extraProps'),
    wrap: fc.constantFrom('plain', 'plain', 'frozen', 'proxy', 'getters', 'nullProto', 'classInstance'),
    where: fc.constant('frames'),
    extras: fc.constant(undefined),
  }),
  options: fc.record({ frameRate: fc.constantFrom(30, 25, 29.97, 23.976, 59.94, 1, 0.5, 120, 1000, 0.001), getter: fc.constantFrom(false, false, 'value'), extra: fc.constant(undefined), frozen: fc.boolean() }),
  encodeAfter: fc.constantFrom(false, false, true),
});

/** One fuzz case: a description of one call. */
export const caseSpec = fc.oneof(
  { arbitrary: validCtor, weight: 3 },
  { arbitrary: fc.record({ m: fc.constant('ctor'), frames: framesSpec, options: ctorOptionsSpec, encodeAfter: fc.constantFrom(false, false, false, false, true) }), weight: 10 },
  { arbitrary: fc.record({ m: fc.constant('toFile'), enc: encSpec, dest: destSpec, opts: encodeOptionsSpec }), weight: 4 },
  { arbitrary: fc.record({ m: fc.constant('toBuffer'), enc: encSpec, format: formatSpec, opts: encodeOptionsSpec }), weight: 4 },
  { arbitrary: fc.record({ m: fc.constant('toStream'), enc: encSpec, stream: streamSpec, format: formatSpec, opts: encodeOptionsSpec }), weight: 4 },
  { arbitrary: fc.record({ m: fc.constant('args'), enc: encSpec, method: fc.constantFrom('toFile', 'toBuffer', 'toStream'), args: fc.array(anyValue, { maxLength: 4 }) }), weight: 1 },
);

// ---------------------------------------------------------------- building real values

/** Per-case state: what user code threw (judged by identity), timers and streams to clean up. */
export class Ctx {
  constructor(dirs) {
    this.dirs = dirs;
    this.userThrown = new Set();
    this.cleanups = [];
    this.signal = null;
    this.collectors = [];
  }
  userError(label) {
    const e = new Error(`user code threw (${label})`);
    this.userThrown.add(e);
    return e;
  }
  userValue(what, label) {
    const v = what === 'string' ? `thrown by ${label}` : what === 'object' ? { thrownBy: label } : what === 'undefined' ? undefined : this.userError(label);
    if (what === 'undefined' || what === 'string') this.userThrown.add(v); // primitives: judged by value
    else this.userThrown.add(v);
    return v;
  }
  isUserThrown(e) {
    return this.userThrown.has(e);
  }
  cleanup() {
    for (const f of this.cleanups.splice(0)) {
      try { f(); } catch { /* ignore */ }
    }
  }
}

export function value(spec, ctx) {
  if (Array.isArray(spec)) return spec.map((v) => value(v, ctx));
  if (spec === null || typeof spec !== 'object') return spec;
  if (typeof spec.__fz !== 'string') {
    const o = {};
    for (const [k, v] of Object.entries(spec)) o[k] = value(v, ctx);
    return o;
  }
  switch (spec.__fz) {
    case 'symbol': return Symbol('fuzz');
    case 'function': return function fuzzFn() { return 1; };
    case 'throwingGetterObject': {
      const o = {};
      for (const k of ['codec', 'pixelFormat', 'g', 'data', 'shape', 'length', '0', 'write']) {
        Object.defineProperty(o, k, { enumerable: true, get() { throw ctx.userError(`getter ${k}`); } });
      }
      return o;
    }
    case 'throwingProxy':
      return new Proxy({}, {
        get() { throw ctx.userError('proxy get'); },
        has() { throw ctx.userError('proxy has'); },
        ownKeys() { throw ctx.userError('proxy ownKeys'); },
        getOwnPropertyDescriptor() { throw ctx.userError('proxy gOPD'); },
        getPrototypeOf() { throw ctx.userError('proxy getPrototypeOf'); },
      });
    case 'date': return new Date(0);
    case 'regexp': return /x/g;
    case 'nullProto': return Object.create(null);
    case 'uint8': return new Uint8Array(spec.n);
    case 'toPrimitiveThrows': return { [Symbol.toPrimitive]() { throw ctx.userError('toPrimitive'); }, toString() { throw ctx.userError('toString'); }, valueOf() { throw ctx.userError('valueOf'); } };
    default: throw new Error(`unknown tag ${spec.__fz}`);
  }
}

const MAX_BYTES = 1 << 16;

export function typedArray(type, len, offset) {
  const bytesPer = { Uint16Array: 2, Int16Array: 2, Uint32Array: 4, Int32Array: 4, Float32Array: 4, Float64Array: 8, BigInt64Array: 8, BigUint64Array: 8 }[type] ?? 1;
  const off = offset * bytesPer;
  const fill = (u8) => { for (let i = 0; i < u8.length; i++) u8[i] = (i * 37) & 255; return u8; };
  switch (type) {
    case 'Uint8Array': return new Uint8Array(fill(new Uint8Array(len + offset)).buffer, offset, len);
    case 'Uint8ClampedArray': return new Uint8ClampedArray(fill(new Uint8Array(len + offset)).buffer, offset, len);
    case 'Buffer': return Buffer.from(fill(new Uint8Array(len + offset)).buffer, offset, len);
    case 'SharedUint8Array': { const u = new Uint8Array(new SharedArrayBuffer(len + offset), offset, len); fill(u); return u; }
    case 'ResizableUint8Array': { const ab = new ArrayBuffer(len + offset, { maxByteLength: 2 * (len + offset) + 64 }); return fill(new Uint8Array(ab, offset, len)); }
    case 'LengthTrackingUint8Array': { const ab = new ArrayBuffer(len + offset, { maxByteLength: 2 * (len + offset) + 64 }); return fill(new Uint8Array(ab, offset)); }
    case 'DetachedUint8Array': { const u = new Uint8Array(len + offset); structuredClone(u.buffer, { transfer: [u.buffer] }); return u; }
    case 'DataView': return new DataView(new ArrayBuffer(len + offset), offset, len);
    case 'ArrayBuffer': return new ArrayBuffer(len);
    default: {
      const C = globalThis[type];
      return new C(new ArrayBuffer(off + len * bytesPer), off, len);
    }
  }
}

const isPosInt = (v) => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

function geoShape(geo) {
  const nhwc = geo.layout === 'NHWC';
  return nhwc ? [geo.n, geo.h, geo.w, geo.c] : [geo.n, geo.c, geo.h, geo.w];
}

/** The shape array a spec asks for; `valid` says whether its wrapper keeps an array of the given numbers. */
export function wrapShape(dims, wrap, ctx) {
  switch (wrap) {
    case 'plain': return { v: [...dims], keeps: true };
    // A Proxy of an array is an array to JS (Array.isArray): accepted, or refused by a message that says Proxy
    case 'proxy': return { v: new Proxy([...dims], {}), keeps: true, proxy: true };
    case 'frozen': return { v: Object.freeze([...dims]), keeps: true };
    case 'getterDims': {
      const a = [];
      dims.forEach((d, i) => Object.defineProperty(a, i, { get: () => d, enumerable: true }));
      return { v: a, keeps: true };
    }
    case 'extraProps': { const a = [...dims]; a.foo = 'bar'; a[-1] = 9; return { v: a, keeps: true }; }
    case 'int32Array': return { v: Int32Array.from(dims.map((d) => (typeof d === 'number' ? d : 0))), keeps: false };
    case 'float64Array': return { v: Float64Array.from(dims.map((d) => (typeof d === 'number' ? d : 0))), keeps: false };
    case 'sparse': { const a = new Array(dims.length); dims.forEach((d, i) => { if (i !== 1) a[i] = d; }); return { v: a, keeps: dims.length < 2 }; }
    case 'throwingIndex': {
      const a = [...dims];
      Object.defineProperty(a, 0, { get() { throw ctx.userError('shape[0] getter'); } });
      return { v: a, keeps: false };
    }
    case 'arrayLike': { const o = { length: dims.length }; dims.forEach((d, i) => { o[i] = d; }); return { v: o, keeps: false }; }
    default: throw new Error(wrap);
  }
}

function buildData(d, wantLen) {
  let len = d.match && wantLen !== null && wantLen <= MAX_BYTES ? wantLen : Math.min(d.len, MAX_BYTES);
  return { v: typedArray(d.type, len, d.offset), uint8: UINT8.has(d.type), len, exact: d.match && wantLen === len };
}

/** Wrap a frames/options object; `keeps` says whether the result reads as the same plain object. */
export function wrapObject(o, wrap, ctx) {
  switch (wrap) {
    case 'plain': return { v: o, keeps: true };
    case 'frozen': return { v: Object.freeze(o), keeps: true };
    case 'proxy': return { v: new Proxy(o, {}), keeps: true };
    case 'nullProto': return { v: Object.assign(Object.create(null), o), keeps: true };
    case 'classInstance': { class Frames {} return { v: Object.assign(new Frames(), o), keeps: true }; }
    case 'getters': {
      const g = {};
      for (const [k, val] of Object.entries(o)) Object.defineProperty(g, k, { get: () => val, enumerable: true });
      return { v: g, keeps: true };
    }
    case 'throwingGetter': {
      const keys = Object.keys(o);
      const k = keys.length ? keys[keys.length - 1] : 'data';
      const g = { ...o };
      Object.defineProperty(g, k, { get() { throw ctx.userError(`getter ${k}`); }, enumerable: true });
      return { v: g, keeps: false };
    }
    case 'throwingProxy':
      return { v: new Proxy(o, { get(t, k) { if (k === 'shape' || k === 'frameRate' || k === 'codec' || k === 'write') throw ctx.userError(`proxy get ${String(k)}`); return Reflect.get(t, k); } }), keeps: false };
    default: throw new Error(wrap);
  }
}

/** The constructor's arguments, and whether the contract says they must be accepted (`valid`). */
export function buildCtorArgs(spec, ctx) {
  const f = spec.frames;
  let frames;
  let valid = false;
  let shapeFromOptions;
  let layoutFromOptions;
  let proxyShape = false;
  if (f.t === 'hostGood' || f.t === 'bare') {
    const dims = geoShape(f.geo);
    const bytes = dims.reduce((a, b) => a * b, 1);
    const data = buildData(f.data, bytes);
    const shape = wrapShape(dims, f.shapeWrap, ctx);
    const channelsOk = f.geo.layout === 'NHWC' ? f.geo.c === 3 || f.geo.c === 4 : f.geo.c === 3;
    valid = data.uint8 && data.exact && shape.keeps && channelsOk && f.data.type !== 'DetachedUint8Array';
    proxyShape = shape.proxy === true;
    if (f.t === 'bare') {
      frames = data.v;
      shapeFromOptions = shape.v;
      layoutFromOptions = f.geo.layout;
    } else {
      const o = { data: data.v };
      if (f.where !== 'options') o.shape = shape.v;
      if (f.geo.layout !== undefined && f.where !== 'options') o.layout = f.geo.layout;
      if (f.where === 'options' || f.where === 'both') { shapeFromOptions = wrapShape(dims, f.shapeWrap, ctx).v; layoutFromOptions = f.geo.layout; }
      if (f.extras) {
        Object.assign(o, value(f.extras, ctx));
        valid = false; // extra keys (cudaPtr, device, …): the contract does not say
      }
      const w = wrapObject(o, f.wrap, ctx);
      frames = w.v;
      valid = valid && w.keeps && f.where === 'frames';
    }
  } else if (f.t === 'hostRandom') {
    const shapeV = f.shape.dims ? wrapShape(value(f.shape.dims, ctx), f.shape.wrap, ctx).v : value(f.shape.value, ctx);
    const dims = f.shape.dims ?? [];
    const bytes = dims.length === 4 && dims.every(isPosInt) ? dims.reduce((a, b) => a * b, 1) : null;
    const data = buildData(f.data, bytes);
    frames = wrapObject({ data: data.v, shape: shapeV, layout: value(f.layout, ctx) }, f.wrap, ctx).v;
  } else if (f.t === 'cuda') {
    const o = { cudaPtr: value(f.cudaPtr, ctx), shape: f.shape ? (f.shape.dims ? wrapShape(value(f.shape.dims, ctx), f.shape.wrap, ctx).v : value(f.shape.value, ctx)) : geoShape(f.geo), layout: value(f.layout, ctx) };
    if (f.device !== undefined) o.device = value(f.device, ctx);
    frames = wrapObject(o, f.wrap, ctx).v;
  } else {
    frames = value(f.value, ctx);
  }
  let options;
  const os = spec.options;
  if ('value' in os) {
    options = value(os.value, ctx);
    valid = false;
  } else {
    const fr = value(os.frameRate, ctx);
    const o = {};
    if (os.getter === 'value') Object.defineProperty(o, 'frameRate', { get: () => fr, enumerable: true });
    else if (os.getter === 'throws') Object.defineProperty(o, 'frameRate', { get() { throw ctx.userError('frameRate getter'); }, enumerable: true });
    else o.frameRate = fr;
    if (shapeFromOptions !== undefined) o.shape = shapeFromOptions;
    if (layoutFromOptions !== undefined) o.layout = layoutFromOptions;
    if (os.extra) Object.assign(o, value(os.extra, ctx));
    if (os.frozen) Object.freeze(o);
    options = o;
    const frOk = typeof fr === 'number' && fr >= 0.001 && fr <= 1000; // (the upper and lower limits are framecodec's)
    valid = valid && frOk && os.getter !== 'throws' && !os.extra;
  }
  return { frames, options, valid, proxyShape };
}

/** A tiny valid encoder for the method cases. */
export function buildEncoder(e) {
  const shape = e.layout === 'NHWC' ? [e.n, e.h, e.w, e.c] : [e.n, 3, e.h, e.w];
  const len = shape.reduce((a, b) => a * b, 1);
  return new VideoEncoder({ data: typedArray(e.type, len, e.offset), shape, layout: e.layout }, { frameRate: 30 });
}

export function abortReason(r, ctx) {
  return r === 'undefined' ? undefined : r === 'error' ? new Error('reason') : r === 'string' ? 'a reason' : { reason: true };
}

export function buildSignal(s, ctx) {
  switch (s.kind) {
    case 'aborted': { const c = new AbortController(); c.abort(abortReason(s.reason, ctx)); ctx.signal = c.signal; return c.signal; }
    case 'later': {
      const c = new AbortController();
      const t = setTimeout(() => c.abort(abortReason(s.reason, ctx)), s.ms);
      ctx.cleanups.push(() => clearTimeout(t));
      ctx.signal = c.signal;
      return c.signal;
    }
    case 'never': return new AbortController().signal;
    case 'timeout': { const sig = AbortSignal.timeout(s.ms); ctx.signal = sig; return sig; }
    case 'fakeObject': return { aborted: true, reason: 'x', addEventListener() {}, removeEventListener() {} };
    case 'fakeProto': return Object.create(AbortSignal.prototype);
    case 'eventTarget': return new EventTarget();
    case 'abortController': return new AbortController();
    default: return value(s.value, ctx);
  }
}

export function buildProgress(p, ctx) {
  switch (p.kind) {
    case 'fn': return () => {};
    case 'async': return async () => {}; // returns a Promise (ignored)
    case 'throws': {
      let n = 0;
      const thrown = ctx.userValue(p.what, 'onProgress');
      return () => { if (++n === p.at) throw thrown; };
    }
    default: return value(p.value, ctx);
  }
}

/** EncodeOptions from a spec (also `end` for toStream). */
export function buildEncodeOptions(spec, ctx, { forStream }) {
  if (spec === undefined) return undefined;
  if (spec === null || typeof spec !== 'object' || !('wrap' in spec)) return value(spec, ctx);
  const o = {};
  if (spec.codec !== undefined) o.codec = value(spec.codec, ctx);
  if (spec.pixelFormat !== undefined) o.pixelFormat = value(spec.pixelFormat, ctx);
  if (spec.crf !== undefined) o.crf = value(spec.crf, ctx);
  if (spec.preset !== undefined) o.preset = value(spec.preset, ctx);
  else if (spec.fastPreset && (o.codec === undefined || o.codec === 'libx264' || o.codec === 'h264')) o.preset = 'ultrafast';
  if (spec.extraOptions !== undefined) o.extraOptions = value(spec.extraOptions, ctx);
  if (spec.signal !== undefined) o.signal = buildSignal(spec.signal, ctx);
  if (spec.onProgress !== undefined) o.onProgress = buildProgress(spec.onProgress, ctx);
  if (forStream && spec.end !== undefined) o.end = value(spec.end, ctx);
  if (spec.unknownKey !== undefined) o[spec.unknownKey] = 1;
  return wrapObject(o, spec.wrap, ctx).v;
}

function destName(d) {
  return `${d.name}${d.ext}`;
}

/** A toFile dest inside the case's sandbox; `file` is where a success must have put its bytes. */
export function buildDest(d, ctx) {
  const { out, cwd } = ctx.dirs;
  switch (d.kind) {
    case 'path': {
      const name = destName(d);
      switch (d.how) {
        case 'abs': return { v: path.join(out, name.replace(/^\/+/, '')), file: path.join(out, name.replace(/^\/+/, '')) };
        case 'relative': return { v: name, file: path.resolve(cwd, name) };
        case 'dotdot': return { v: `${out}/sub/../${name}`, file: path.resolve(out, name) };
        case 'trailingSlash': return { v: `${out}/${name}/`, file: null };
        case 'existingDir': return { v: path.join(out, 'dir'), file: null };
        case 'existingFile': return { v: path.join(out, 'existing.mp4'), file: path.join(out, 'existing.mp4'), existing: true };
        default: throw new Error(d.how);
      }
    }
    case 'fileUrl': {
      const p = path.join(out, destName(d).replace(/^\/+/, ''));
      const u = pathToFileURL(p);
      switch (d.as) {
        case 'string': return { v: u.href, file: p };
        case 'URL': return { v: u, file: p };
        case 'upper': return { v: `FILE:${u.href.slice(5)}`, file: p };
        case 'localhost': return { v: `file://localhost${u.pathname}`, file: p };
        case 'remoteHost': return { v: `file://server${u.pathname}`, file: null };
        case 'encodedSlash': return { v: `file://${path.join(out, 'a%2Fb')}.mp4`, file: null };
        case 'query': return { v: `${u.href}?x=1#frag`, file: p }; // as fileURLToPath: query and fragment ignored
        default: throw new Error(d.as);
      }
    }
    case 'scheme': {
      const s = `${d.scheme}${d.rest}`;
      if (d.as === 'URL') { try { return { v: new URL(s), file: null }; } catch { return { v: s, file: null }; } }
      return { v: s, file: null };
    }
    default: return { v: value(d.value, ctx), file: null };
  }
}

export function collector(ctx, opts = {}) {
  const c = { bytes: 0, chunks: 0 };
  ctx.collectors.push(c);
  const w = new Writable({
    ...opts,
    write(chunk, enc, cb) { c.bytes += chunk.length; c.chunks++; cb(); },
  });
  w.on('error', () => {});
  return { w, c };
}

/** A stream for toStream; `c` counts what reached it (null when it is not a stream we can count). */
export function buildStream(s, ctx) {
  switch (s.kind) {
    case 'collect': { const { w, c } = collector(ctx); return { v: w, c }; }
    case 'collectSmallHwm': { const { w, c } = collector(ctx, { highWaterMark: 1 }); return { v: w, c }; }
    case 'slow': {
      const c = { bytes: 0 };
      const w = new Writable({ highWaterMark: 16, write(chunk, enc, cb) { c.bytes += chunk.length; setImmediate(cb); } });
      w.on('error', () => {});
      return { v: w, c };
    }
    case 'passThrough': { const p = new PassThrough(); p.resume(); p.on('error', () => {}); return { v: p, c: null }; }
    case 'whatwg':
    case 'whatwgSmallHwm': {
      const c = { bytes: 0 };
      const ws = new WritableStream({ write(chunk) { c.bytes += chunk.byteLength; } }, s.kind === 'whatwgSmallHwm' ? { highWaterMark: 1 } : undefined);
      return { v: ws, c, whatwg: true };
    }
    case 'writeError': {
      let n = 0;
      const w = new Writable({ write(chunk, enc, cb) { if (n++ >= s.at) cb(new Error('write failed')); else cb(); } });
      w.on('error', () => {});
      return { v: w, c: null };
    }
    case 'destroyLater': {
      let n = 0;
      const w = new Writable({ write(chunk, enc, cb) { if (n++ >= s.at) { w.destroy(); } cb(); } });
      w.on('error', () => {});
      return { v: w, c: null };
    }
    case 'whatwgError': {
      let n = 0;
      return { v: new WritableStream({ write() { if (n++ >= s.at) throw new Error('sink write failed'); } }), c: null };
    }
    case 'throwingWrite': {
      const w = new Writable({ write(chunk, enc, cb) { cb(); } });
      w.on('error', () => {});
      let n = 0;
      const orig = w.write.bind(w);
      w.write = (...a) => { if (n++ >= s.at) throw ctx.userError('stream.write'); return orig(...a); };
      return { v: w, c: null };
    }
    case 'destroyed': { const { w } = collector(ctx); w.destroy(); return { v: w, c: null }; }
    case 'destroyedWithError': { const { w } = collector(ctx); w.destroy(new Error('gone')); return { v: w, c: null }; }
    case 'ended': { const { w } = collector(ctx); w.end(); return { v: w, c: null }; }
    case 'finished': { const { w } = collector(ctx); w.end(Buffer.from('x')); return { v: w, c: null }; }
    case 'whatwgLocked': { const ws = new WritableStream(); ws.getWriter(); return { v: ws, c: null }; }
    case 'whatwgClosed': { const ws = new WritableStream(); ws.close().catch(() => {}); return { v: ws, c: null }; }
    case 'whatwgErrored': { const ws = new WritableStream(); ws.abort(new Error('aborted')).catch(() => {}); return { v: ws, c: null }; }
    case 'fakeWhatwg': return { v: Object.create(WritableStream.prototype), c: null };
    case 'readable': { const r = new Readable({ read() {} }); r.on('error', () => {}); return { v: r, c: null }; }
    case 'plainObject': return { v: {}, c: null };
    case 'plainWrite': {
      // duck-typed: an EventEmitter with write/end that emits 'finish' (not a stream.Writable)
      const c = { bytes: 0 };
      const e = new EventEmitter();
      e.write = (chunk, cb) => { c.bytes += chunk.length; if (typeof cb === 'function') queueMicrotask(cb); return true; };
      e.end = (cb) => { setImmediate(() => { e.emit('finish'); if (typeof cb === 'function') cb(); }); return e; };
      return { v: e, c };
    }
    case 'proxyWritable': { const { w, c } = collector(ctx); return { v: new Proxy(w, {}), c: null, proxied: c }; }
    case 'throwingGetter': {
      const { w } = collector(ctx);
      Object.defineProperty(w, 'writable', { get() { throw ctx.userError('stream.writable getter'); } });
      return { v: w, c: null };
    }
    case 'writableFalse': { const { w } = collector(ctx); Object.defineProperty(w, 'writable', { value: false }); return { v: w, c: null }; }
    case 'nullProto': return { v: Object.assign(Object.create(null), { write() { return true; } }), c: null };
    case 'objectMode': { const { w, c } = collector(ctx, { objectMode: true }); return { v: w, c }; }
    default: return { v: value(s.value, ctx), c: null };
  }
}

// ---------------------------------------------------------------- judging

export function brief(v) {
  try {
    if (v instanceof Error) return `${v.constructor.name}(${JSON.stringify(v.code)}): ${String(v.message).slice(0, 160)}`;
    return `${typeof v} ${String(v).slice(0, 80)}`;
  } catch { return typeof v; }
}

/** Judge a thrown / rejected value. Returns null when it obeys the contract, else a failure. */
export function judgeError(err, ctx) {
  if (ctx.isUserThrown(err)) return null;
  if (!(err instanceof Error)) return { sig: `threw a non-Error (${typeof err})`, detail: brief(err) };
  const code = err.code;
  if (typeof code !== 'string') return { sig: `uncoded ${err.constructor.name}`, detail: brief(err) };
  if (!CODES.has(code)) return { sig: `undocumented code ${code} (${err.constructor.name})`, detail: brief(err) };
  const cls = CODES.get(code);
  if (Object.getPrototypeOf(err) !== cls.prototype) return { sig: `${code} is a ${err.constructor.name}, not a ${cls.name}`, detail: brief(err) };
  if (typeof err.message !== 'string' || err.message.length === 0) return { sig: `${code} with an empty message`, detail: brief(err) };
  if (code === 'ABORT_ERR') {
    if (err.name !== 'AbortError') return { sig: `ABORT_ERR named ${err.name}`, detail: brief(err) };
    if (ctx.signal && ctx.signal.aborted && err.cause !== ctx.signal.reason) return { sig: 'ABORT_ERR whose cause is not signal.reason', detail: `${brief(err)}; cause ${brief(err.cause)}` };
  }
  return null;
}

/** Every path under dir (recursive), for the "nothing left behind" check. */
export function listTree(dir) {
  const out = [];
  const walk = (d, rel) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      out.push(r);
      if (e.isDirectory()) walk(path.join(d, e.name), r);
    }
  };
  walk(dir, '');
  return out.sort();
}

const TIMEOUT_MS = 20_000;
export class Hang extends Error {}

export function withTimeout(p, ms) {
  let t;
  return Promise.race([p, new Promise((_, rej) => { t = setTimeout(() => rej(new Hang(`did not settle within ${ms} ms`)), ms); })]).finally(() => clearTimeout(t));
}

/** Run one case (`run` makes the call: the encoder's by default, the writer's from writer-cases.mjs);
 * returns { outcome } (a short label) or { failure: { sig, detail } }. */
export async function runCase(spec, ctx, run = runCall) {
  const { root } = ctx.dirs;
  const before = listTree(root);
  let dest = null; // the one new path a successful toFile may leave
  let result;
  try {
    result = await run(spec, ctx, (p) => { dest = p; });
  } finally {
    ctx.cleanup();
  }
  const allowed = result.outcome && result.outcome.endsWith(':ok') ? dest : null;
  const existing = path.join(ctx.dirs.out, 'existing.mp4');
  let replaced = false;
  try { replaced = fs.readFileSync(existing, 'utf8') !== 'pre-existing'; } catch { replaced = true; }
  if (replaced) restoreSandbox(ctx.dirs);
  if (!result.failure && replaced && allowed !== existing) {
    return { failure: { sig: `${spec.m}: a call that did not succeed changed a pre-existing dest`, detail: result.outcome } };
  }
  // nothing left behind but a successful toFile's dest
  const after = listTree(root);
  const extra = after.filter((p) => !before.includes(p) && (allowed === null || path.join(root, p) !== allowed));
  const missing = before.filter((p) => !after.includes(p));
  if (allowed && allowed !== existing && fs.existsSync(allowed) && fs.statSync(allowed).isFile()) fs.rmSync(allowed, { force: true });
  if (!result.failure && (extra.length || missing.length)) {
    const partial = extra.some((p) => /framecodec-partial|\.tmp$/.test(p));
    for (const p of extra) fs.rmSync(path.join(root, p), { recursive: true, force: true });
    restoreSandbox(ctx.dirs);
    return { failure: { sig: `${spec.m}: ${partial ? 'left a partial file' : extra.length ? 'left files behind' : 'removed files'}`, detail: `${result.outcome}; new: ${JSON.stringify(extra.map((p) => p.slice(0, 80)))} gone: ${JSON.stringify(missing)}` } };
  }
  return result;
}

/** The sandbox each child works in: out/ (toFile), out/dir, out/existing.mp4, cwd/. */
export function restoreSandbox(dirs) {
  fs.mkdirSync(path.join(dirs.out, 'dir'), { recursive: true });
  fs.mkdirSync(path.join(dirs.out, 'sub'), { recursive: true });
  fs.mkdirSync(dirs.cwd, { recursive: true });
  fs.writeFileSync(path.join(dirs.out, 'existing.mp4'), 'pre-existing');
}

async function runCall(spec, ctx, allowFile) {
  if (spec.m === 'ctor') {
    let args;
    try {
      args = buildCtorArgs(spec, ctx);
    } catch (e) {
      return { failure: { sig: 'fuzz harness: could not build the case', detail: brief(e) } };
    }
    let enc;
    try {
      enc = new VideoEncoder(args.frames, args.options);
    } catch (err) {
      const proxyRefusal = args.proxyShape && err?.code === 'ERR_INVALID_ARG_VALUE' && /proxy/i.test(err.message);
      if (args.valid && !ctx.isUserThrown(err) && !proxyRefusal) {
        const what = args.proxyShape ? 'valid frames with a Proxy shape (accept it, or say Proxy)' : 'valid frames';
        return { failure: { sig: `ctor refused ${what}: ${err?.code}`, detail: brief(err) } };
      }
      const f = judgeError(err, ctx);
      if (f) return { failure: f };
      return { outcome: `ctor:${ctx.isUserThrown(err) ? 'user' : err.code}` };
    }
    for (const k of ['frameCount', 'width', 'height']) {
      if (!isPosInt(enc[k])) return { failure: { sig: `ctor success with ${k} not a positive integer`, detail: String(enc[k]) } };
    }
    if (spec.encodeAfter) {
      try {
        const b = await withTimeout(enc.toBuffer('nut', { codec: 'rawvideo' }), TIMEOUT_MS);
        if (!Buffer.isBuffer(b) || b.length === 0) return { failure: { sig: 'ctor+toBuffer: empty output', detail: '' } };
      } catch (err) {
        if (err instanceof Hang) return { failure: { sig: 'ctor+toBuffer: hang', detail: err.message }, hang: true };
        const f = judgeError(err, ctx);
        if (f) return { failure: { ...f, sig: `ctor+toBuffer: ${f.sig}` } };
        if (args.valid && err.code !== 'ERR_INVALID_ARG_VALUE') return { failure: { sig: `ctor+toBuffer of valid frames failed: ${err.code}`, detail: brief(err) } };
      }
    }
    return { outcome: 'ctor:ok' };
  }

  const enc = buildEncoder(spec.enc);
  let call;
  let check = () => null;
  try {
    if (spec.m === 'args') {
      const a = spec.args.map((v) => value(v, ctx));
      call = () => enc[spec.method](...a);
      check = (r) => (r === undefined || r === null ? 'resolved with nothing' : null);
    } else if (spec.m === 'toFile') {
      const d = buildDest(spec.dest, ctx);
      const opts = buildEncodeOptions(spec.opts, ctx, { forStream: false });
      if (d.file) allowFile(d.file);
      call = () => enc.toFile(d.v, opts);
      check = (r) => {
        if (!r || !(r.bytes > 0)) return `result.bytes ${r?.bytes}`;
        if (!d.file) return `resolved for dest ${String(d.v).slice(0, 60)} (expected a refusal)`;
        if (!fs.existsSync(d.file)) return 'resolved but no file at dest';
        const size = fs.statSync(d.file).size;
        if (size !== r.bytes) return `file has ${size} bytes, result.bytes ${r.bytes}`;
        return null;
      };
    } else if (spec.m === 'toBuffer') {
      const fmt = value(spec.format, ctx);
      const opts = buildEncodeOptions(spec.opts, ctx, { forStream: false });
      call = () => enc.toBuffer(fmt, opts);
      check = (b) => (!Buffer.isBuffer(b) ? `resolved with ${typeof b}` : b.length === 0 ? 'empty Buffer' : null);
    } else {
      const st = buildStream(spec.stream, ctx);
      const fmt = value(spec.format, ctx);
      const opts = buildEncodeOptions(spec.opts, ctx, { forStream: true });
      call = () => enc.toStream(st.v, fmt, opts);
      check = (r) => {
        if (!r || !(r.bytes > 0)) return `result.bytes ${r?.bytes}`;
        const ended = !(opts && typeof opts === 'object' && 'end' in opts && opts.end !== undefined && opts.end !== true);
        if (st.c && ended && st.c.bytes !== r.bytes) return `stream received ${st.c.bytes} bytes, result.bytes ${r.bytes}`;
        return null;
      };
    }
  } catch (e) {
    return { failure: { sig: 'fuzz harness: could not build the case', detail: brief(e) } };
  }
  const label = spec.m === 'args' ? `args.${spec.method}` : spec.m;
  let p;
  try {
    p = call();
  } catch (err) {
    // A synchronous throw (argument validation) is judged like a rejection.
    const f = judgeError(err, ctx);
    if (f) return { failure: { ...f, sig: `${label} (sync throw): ${f.sig}` } };
    return { outcome: `${label}:sync-${ctx.isUserThrown(err) ? 'user' : err.code}` };
  }
  if (!p || typeof p.then !== 'function') return { failure: { sig: `${label} did not return a Promise`, detail: typeof p } };
  try {
    const r = await withTimeout(p, TIMEOUT_MS);
    const bad = check(r);
    if (bad) return { failure: { sig: `${label} success: ${bad.replace(/\d+/g, 'N')}`, detail: bad } };
    return { outcome: `${label}:ok` };
  } catch (err) {
    if (err instanceof Hang) return { failure: { sig: `${label}: hang`, detail: err.message }, hang: true };
    const f = judgeError(err, ctx);
    if (f) return { failure: { ...f, sig: `${label}: ${f.sig}` } };
    return { outcome: `${label}:${ctx.isUserThrown(err) ? 'user' : err.code}` };
  }
}
