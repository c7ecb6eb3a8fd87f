// VideoEncoder constructor: accepted frame forms, read-only properties and synchronous validation.
import test from 'ava';
import { createRequire } from 'node:module';
import { makeFramesNCHW, nchwToNhwc, nchwToRgba } from './helpers/frames.mjs';
import { throwsCode } from './helpers/assert.mjs';

const require = createRequire(import.meta.url);
const { VideoEncoder } = require('../index.js');

const N = 3;
const H = 16;
const W = 24;
const nchw = makeFramesNCHW(N, H, W, { seed: 11 });
const nhwc = nchwToNhwc(nchw, N, H, W);
const rgba = nchwToRgba(nchw, N, H, W);

function checkProps(t, enc, { n = N, h = H, w = W, rate = 30 } = {}) {
  t.is(enc.frameCount, n);
  t.is(enc.width, w);
  t.is(enc.height, h);
  t.is(enc.frameRate, rate);
  t.is(enc.device, 'cpu');
}

// ---------------------------------------------------------------- accepted forms

test('accepts {data, shape} NCHW (layout defaults to NCHW) and exposes its properties', (t) => {
  const enc = new VideoEncoder({ data: nchw, shape: [N, 3, H, W] }, { frameRate: 30 });
  checkProps(t, enc);
});

test('accepts {data, shape, layout: "NCHW"} explicitly', (t) => {
  const enc = new VideoEncoder({ data: nchw, shape: [N, 3, H, W], layout: 'NCHW' }, { frameRate: 24 });
  checkProps(t, enc, { rate: 24 });
});

test('accepts {data, shape, layout: "NHWC"} with 3 channels (RGB)', (t) => {
  const enc = new VideoEncoder({ data: nhwc, shape: [N, H, W, 3], layout: 'NHWC' }, { frameRate: 30 });
  checkProps(t, enc);
});

test('accepts {data, shape, layout: "NHWC"} with 4 channels (RGBA)', (t) => {
  const enc = new VideoEncoder({ data: rgba, shape: [N, H, W, 4], layout: 'NHWC' }, { frameRate: 30 });
  checkProps(t, enc);
});

test('accepts a bare Uint8Array with options.shape (NCHW)', (t) => {
  const enc = new VideoEncoder(nchw, { frameRate: 30, shape: [N, 3, H, W] });
  checkProps(t, enc);
});

test('accepts a bare Uint8ClampedArray with options.shape and options.layout NHWC', (t) => {
  const data = new Uint8ClampedArray(nhwc.buffer, nhwc.byteOffset, nhwc.length);
  const enc = new VideoEncoder(data, { frameRate: 30, shape: [N, H, W, 3], layout: 'NHWC' });
  checkProps(t, enc);
});

test('accepts a bare Buffer with options.shape and options.layout NHWC (RGBA)', (t) => {
  const enc = new VideoEncoder(Buffer.from(rgba), { frameRate: 30, shape: [N, H, W, 4], layout: 'NHWC' });
  checkProps(t, enc);
});

test('accepts a Uint8ClampedArray as {data}', (t) => {
  const data = new Uint8ClampedArray(nchw);
  const enc = new VideoEncoder({ data, shape: [N, 3, H, W] }, { frameRate: 30 });
  checkProps(t, enc);
});

test('accepts views with a non-zero byteOffset (subarray and Buffer slice)', (t) => {
  const big = new Uint8Array(nchw.length + 1000);
  big.set(nchw, 501);
  const view = big.subarray(501, 501 + nchw.length);
  t.not(view.byteOffset, 0);
  checkProps(t, new VideoEncoder({ data: view, shape: [N, 3, H, W] }, { frameRate: 30 }));
  const buf = Buffer.from(big.buffer, 501, nchw.length);
  checkProps(t, new VideoEncoder(buf, { frameRate: 30, shape: [N, 3, H, W] }));
});

test('frameRate keeps fractional values (29.97, 23.976)', (t) => {
  t.is(new VideoEncoder({ data: nchw, shape: [N, 3, H, W] }, { frameRate: 29.97 }).frameRate, 29.97);
  t.is(new VideoEncoder({ data: nchw, shape: [N, 3, H, W] }, { frameRate: 23.976 }).frameRate, 23.976);
});

test('a single 2x2 frame is a valid input', (t) => {
  const enc = new VideoEncoder({ data: new Uint8Array(12), shape: [1, 3, 2, 2] }, { frameRate: 1 });
  checkProps(t, enc, { n: 1, h: 2, w: 2, rate: 1 });
});

test('properties are read-only', (t) => {
  const enc = new VideoEncoder({ data: nchw, shape: [N, 3, H, W] }, { frameRate: 30 });
  for (const [key, bogus] of [
    ['frameCount', 99],
    ['width', 99],
    ['height', 99],
    ['frameRate', 99],
    ['device', 'cuda:7'],
  ]) {
    try {
      enc[key] = bogus;
    } catch {
      // a throwing setter (strict mode) is fine: the value must not change
    }
  }
  checkProps(t, enc);
});

// ---------------------------------------------------------------- wrong types

const TYPE_CASES = [
  ['a string as frames', () => new VideoEncoder('frames', { frameRate: 30, shape: [N, 3, H, W] })],
  ['a number as frames', () => new VideoEncoder(42, { frameRate: 30, shape: [N, 3, H, W] })],
  ['null as frames', () => new VideoEncoder(null, { frameRate: 30, shape: [N, 3, H, W] })],
  ['undefined as frames', () => new VideoEncoder(undefined, { frameRate: 30, shape: [N, 3, H, W] })],
  ['a plain Array as data', () => new VideoEncoder({ data: Array.from(nchw), shape: [N, 3, H, W] }, { frameRate: 30 })],
];
for (const [label, fn] of TYPE_CASES) {
  test(`throws TypeError ERR_INVALID_ARG_TYPE for ${label}`, (t) => {
    throwsCode(t, fn, 'ERR_INVALID_ARG_TYPE', { instanceOf: TypeError });
  });
}

const NON_U8 = [
  ['Float32Array', () => new Float32Array(N * 3 * H * W)],
  ['Uint16Array', () => new Uint16Array(N * 3 * H * W)],
  ['Int8Array', () => new Int8Array(N * 3 * H * W)],
];
for (const [label, make] of NON_U8) {
  test(`throws TypeError ERR_INVALID_ARG_TYPE mentioning uint8 for a ${label} in {data}`, (t) => {
    throwsCode(t, () => new VideoEncoder({ data: make(), shape: [N, 3, H, W] }, { frameRate: 30 }), 'ERR_INVALID_ARG_TYPE', {
      instanceOf: TypeError,
      includes: [/uint8/i],
    });
  });
  test(`throws TypeError ERR_INVALID_ARG_TYPE mentioning uint8 for a bare ${label}`, (t) => {
    throwsCode(t, () => new VideoEncoder(make(), { frameRate: 30, shape: [N, 3, H, W] }), 'ERR_INVALID_ARG_TYPE', {
      instanceOf: TypeError,
      includes: [/uint8/i],
    });
  });
}

// ---------------------------------------------------------------- frameRate

const frames = () => ({ data: nchw, shape: [N, 3, H, W] });

test('throws TypeError ERR_INVALID_ARG_TYPE when options are missing (no frameRate)', (t) => {
  throwsCode(t, () => new VideoEncoder(frames()), 'ERR_INVALID_ARG_TYPE', { instanceOf: TypeError });
});

test('throws TypeError ERR_INVALID_ARG_TYPE when frameRate is missing', (t) => {
  throwsCode(t, () => new VideoEncoder(frames(), {}), 'ERR_INVALID_ARG_TYPE', { instanceOf: TypeError });
});

test('throws TypeError ERR_INVALID_ARG_TYPE when frameRate is a string', (t) => {
  throwsCode(t, () => new VideoEncoder(frames(), { frameRate: '30' }), 'ERR_INVALID_ARG_TYPE', {
    instanceOf: TypeError,
  });
});

for (const bad of [0, -1, NaN, Infinity, -Infinity]) {
  test(`throws RangeError ERR_OUT_OF_RANGE for frameRate ${bad}`, (t) => {
    throwsCode(t, () => new VideoEncoder(frames(), { frameRate: bad }), 'ERR_OUT_OF_RANGE', {
      instanceOf: RangeError,
    });
  });
}

// ---------------------------------------------------------------- shape / layout

const SHAPE_CASES = [
  ['shape missing in {data}', () => new VideoEncoder({ data: nchw }, { frameRate: 30 })],
  ['a bare Uint8Array without options.shape', () => new VideoEncoder(nchw, { frameRate: 30 })],
  ['a shape of 3 numbers', () => new VideoEncoder({ data: nchw, shape: [N * 3, H, W] }, { frameRate: 30 })],
  ['a shape of 5 numbers', () => new VideoEncoder({ data: nchw, shape: [N, 3, H, W, 1] }, { frameRate: 30 })],
  ['a shape that is a string', () => new VideoEncoder({ data: nchw, shape: 'NCHW' }, { frameRate: 30 })],
  ['a shape with a non-integer (2.5)', () => new VideoEncoder({ data: new Uint8Array(30), shape: [1, 3, 4, 2.5] }, { frameRate: 30 })],
  ['a shape with a negative entry', () => new VideoEncoder({ data: nchw, shape: [-N, 3, H, -W] }, { frameRate: 30 })],
  ['a shape with a string entry', () => new VideoEncoder({ data: nchw, shape: [N, 3, String(H), W] }, { frameRate: 30 })],
  ['N = 0', () => new VideoEncoder({ data: new Uint8Array(0), shape: [0, 3, H, W] }, { frameRate: 30 })],
  ['H = 0', () => new VideoEncoder({ data: new Uint8Array(0), shape: [N, 3, 0, W] }, { frameRate: 30 })],
  ['W = 0', () => new VideoEncoder({ data: new Uint8Array(0), shape: [N, 3, H, 0] }, { frameRate: 30 })],
  ['NHWC with W = 0', () => new VideoEncoder({ data: new Uint8Array(0), shape: [N, H, 0, 3], layout: 'NHWC' }, { frameRate: 30 })],
  ['an unknown layout "NCWH"', () => new VideoEncoder({ data: nchw, shape: [N, 3, H, W], layout: 'NCWH' }, { frameRate: 30 })],
  ['an unknown options.layout "NCWH" with a bare array', () => new VideoEncoder(nchw, { frameRate: 30, shape: [N, 3, H, W], layout: 'NCWH' })],
];
for (const [label, fn] of SHAPE_CASES) {
  test(`throws ERR_INVALID_ARG_VALUE for ${label}`, (t) => {
    throwsCode(t, fn, 'ERR_INVALID_ARG_VALUE');
  });
}

test('NCHW with 4 channels is refused with a message saying "3 channels"', (t) => {
  const data = new Uint8Array(N * 4 * H * W);
  throwsCode(t, () => new VideoEncoder({ data, shape: [N, 4, H, W] }, { frameRate: 30 }), 'ERR_INVALID_ARG_VALUE', {
    includes: ['3 channels'],
  });
});

test('RGBA or RGB pixels without layout: \'NHWC\' are refused with a hint to say NHWC', (t) => {
  const rgba = new Uint8ClampedArray(N * H * W * 4);
  const err = throwsCode(t, () => new VideoEncoder(rgba, { frameRate: 30, shape: [N, H, W, 4] }), 'ERR_INVALID_ARG_VALUE', {
    includes: ['3 channels', `with ${H} channels`, "did you mean layout: 'NHWC'?"],
  });
  t.log(err.message);
  throwsCode(t, () => new VideoEncoder({ data: new Uint8Array(N * H * W * 3), shape: [N, H, W, 3] }, { frameRate: 30 }), 'ERR_INVALID_ARG_VALUE', {
    includes: ["did you mean layout: 'NHWC'?"],
  });
  // no hint where the last dimension cannot be channels
  const other = throwsCode(t, () => new VideoEncoder({ data: new Uint8Array(N * 5 * H * W), shape: [N, 5, H, W] }, { frameRate: 30 }), 'ERR_INVALID_ARG_VALUE');
  t.false(other.message.includes('NHWC'), other.message);
});

test('NCHW with 1 channel is refused with a message saying "3 channels"', (t) => {
  const data = new Uint8Array(N * H * W);
  throwsCode(t, () => new VideoEncoder(data, { frameRate: 30, shape: [N, 1, H, W] }), 'ERR_INVALID_ARG_VALUE', {
    includes: ['3 channels'],
  });
});

for (const c of [1, 2, 5]) {
  test(`NHWC with ${c} channels is refused with a message saying "3 or 4 channels"`, (t) => {
    const data = new Uint8Array(N * H * W * c);
    throwsCode(
      t,
      () => new VideoEncoder({ data, shape: [N, H, W, c], layout: 'NHWC' }, { frameRate: 30 }),
      'ERR_INVALID_ARG_VALUE',
      { includes: ['3 or 4 channels'] },
    );
  });
}

for (const delta of [-1, 7]) {
  test(`data length ${delta > 0 ? 'longer' : 'shorter'} than the shape's product is refused with both numbers in the message`, (t) => {
    const expected = N * 3 * H * W;
    const actual = expected + delta;
    const data = new Uint8Array(actual);
    throwsCode(t, () => new VideoEncoder({ data, shape: [N, 3, H, W] }, { frameRate: 30 }), 'ERR_INVALID_ARG_VALUE', {
      includes: [new RegExp(`\\b${expected}\\b`), new RegExp(`\\b${actual}\\b`)],
    });
  });
}

test('a bare Buffer whose length does not match options.shape is refused with both numbers', (t) => {
  const expected = N * H * W * 4;
  const data = Buffer.alloc(N * H * W * 3);
  throwsCode(
    t,
    () => new VideoEncoder(data, { frameRate: 30, shape: [N, H, W, 4], layout: 'NHWC' }),
    'ERR_INVALID_ARG_VALUE',
    { includes: [new RegExp(`\\b${expected}\\b`), new RegExp(`\\b${data.length}\\b`)] },
  );
});

test('a view whose own length (not its underlying buffer) mismatches the shape is refused', (t) => {
  // The ArrayBuffer is big enough, the view is one byte short: only the view counts.
  const big = new Uint8Array(nchw.length + 64);
  const view = big.subarray(32, 32 + nchw.length - 1);
  throwsCode(t, () => new VideoEncoder({ data: view, shape: [N, 3, H, W] }, { frameRate: 30 }), 'ERR_INVALID_ARG_VALUE', {
    includes: [String(nchw.length), String(nchw.length - 1)],
  });
});

test('shape as a Proxy around an array, or any array-like, is read like the array', (t) => {
  const data = new Uint8Array(N * 3 * H * W);
  for (const shape of [new Proxy([N, 3, H, W], {}), { length: 4, 0: N, 1: 3, 2: H, 3: W }, Int32Array.of(N, 3, H, W)]) {
    const enc = new VideoEncoder({ data, shape }, { frameRate: 30 });
    t.deepEqual([enc.frameCount, enc.height, enc.width], [N, H, W]);
    const opt = new VideoEncoder(data, { frameRate: 30, shape });
    t.is(opt.frameCount, N);
  }
  // a Proxy around a bad shape is judged by its contents, not called "Array"
  throwsCode(t, () => new VideoEncoder({ data, shape: new Proxy([N, 3, H], {}) }, { frameRate: 30 }), 'ERR_INVALID_ARG_VALUE', {
    includes: ['4 positive integers', 'length 3'],
  });
  throwsCode(t, () => new VideoEncoder({ data, shape: new Proxy([N, 3, H, -1], {}) }, { frameRate: 30 }), 'ERR_INVALID_ARG_VALUE', {
    includes: ['4 positive integers', '-1'],
  });
});


test('objects without a prototype, or whose getters throw, are described, not thrown through', async (t) => {
  const nullProto = Object.create(null);
  const err = t.throws(() => new VideoEncoder(nullProto, { frameRate: 30 }));
  t.true(err instanceof TypeError);
  t.is(err.code, 'ERR_INVALID_ARG_TYPE');
  const enc = new VideoEncoder(new Uint8Array(2 * 3 * 16 * 16), { frameRate: 30, shape: [2, 3, 16, 16] });
  for (const call of [
    () => enc.toBuffer(Object.create(null)),
    () => enc.toFile(Object.create(null)),
    () => enc.toStream(Object.create(null), 'mp4'),
    () => enc.toBuffer('mp4', { codec: Object.create(null) }),
    () => enc.toBuffer('mp4', { extraOptions: { g: Object.create(null) } }),
  ]) {
    const e = await t.throwsAsync(call());
    t.true(typeof e.code === 'string' && e.code.startsWith('ERR_'), `${call}: ${e.code} ${e.message}`);
  }
  for (const opt of [{ frameRate: Object.create(null) }, { frameRate: 30, shape: Object.create(null) }, { frameRate: 30, shape: [2, 3, 16, 16], layout: Object.create(null) }]) {
    const e = t.throws(() => new VideoEncoder(new Uint8Array(2 * 3 * 16 * 16), opt));
    t.true(typeof e.code === 'string' && e.code.startsWith('ERR_'), `${e.code} ${e.message}`);
  }
});
