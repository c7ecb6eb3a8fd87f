// CUDA frames and the `cuda` helpers. Without a CUDA driver and device (CI, most machines) the helpers
// report it and CUDA frames are refused with ERR_CUDA_UNAVAILABLE; the GPU tests below are skipped,
// with "needs a CUDA GPU" in their titles. On a GPU machine they run (see scripts/gpu-check.sh for the
// machines that have no Node).
import test from 'ava';
import { createRequire } from 'node:module';
import { makeFramesNCHW } from './helpers/frames.mjs';
import { decodeRgb, psnr } from './helpers/media.mjs';

const require = createRequire(import.meta.url);
const { VideoEncoder, cuda } = require('../index.js');

const hasGpu = cuda.isAvailable();
const gpuTest = hasGpu ? test : test.skip;
const noGpuTest = hasGpu ? test.skip : test;

test('the cuda helpers exist and never throw when asked about availability', (t) => {
  t.is(typeof cuda.isAvailable(), 'boolean');
  t.is(typeof cuda.deviceCount(), 'number');
  t.is(cuda.isAvailable(), cuda.deviceCount() > 0);
});

noGpuTest('without CUDA: isAvailable() is false and deviceCount() is 0', (t) => {
  t.false(cuda.isAvailable());
  t.is(cuda.deviceCount(), 0);
});

noGpuTest('without CUDA: CUDA frames are refused by the constructor with ERR_CUDA_UNAVAILABLE', (t) => {
  const err = t.throws(() => new VideoEncoder({ cudaPtr: 0x7f0000000000n, shape: [2, 3, 16, 16] }, { frameRate: 30 }));
  t.is(err.code, 'ERR_CUDA_UNAVAILABLE');
  t.regex(err.message, /CUDA/);
});

noGpuTest('without CUDA: cuda.upload throws ERR_CUDA_UNAVAILABLE', (t) => {
  const data = new Uint8Array(2 * 3 * 8 * 8);
  const err = t.throws(() => cuda.upload({ data, shape: [2, 3, 8, 8] }));
  t.is(err.code, 'ERR_CUDA_UNAVAILABLE');
});

test('CUDA frames are checked before CUDA is needed: cudaPtr must be a BigInt, the shape valid', (t) => {
  const notBig = t.throws(() => new VideoEncoder({ cudaPtr: 1234, shape: [1, 3, 2, 2] }, { frameRate: 30 }));
  t.is(notBig.code, 'ERR_INVALID_ARG_TYPE');
  t.regex(notBig.message, /BigInt/);
  const badShape = t.throws(() => new VideoEncoder({ cudaPtr: 1234n, shape: [1, 4, 2, 2] }, { frameRate: 30 }));
  t.is(badShape.code, 'ERR_INVALID_ARG_VALUE');
  const badDevice = t.throws(() => new VideoEncoder({ cudaPtr: 1234n, shape: [1, 3, 2, 2], device: -1 }, { frameRate: 30 }));
  t.is(badDevice.code, 'ERR_INVALID_ARG_VALUE');
});

gpuTest('GPU (needs a CUDA GPU): uploaded frames encode like host frames, device is cuda:0', async (t) => {
  const [n, h, w] = [12, 48, 64];
  const data = makeFramesNCHW(n, h, w, { seed: 9 });
  const frames = cuda.upload({ data, shape: [n, 3, h, w] });
  try {
    t.is(frames.byteLength, data.length);
    const enc = new VideoEncoder(frames, { frameRate: 30 });
    t.is(enc.device, 'cuda:0');
    const gpu = await enc.toBuffer('mkv', { codec: 'libx264', extraOptions: { qp: 0 } });
    const cpu = await new VideoEncoder({ data, shape: [n, 3, h, w] }, { frameRate: 30 }).toBuffer('mkv', { codec: 'libx264', extraOptions: { qp: 0 } });
    t.true(psnr(decodeRgb(gpu, w, h, { ext: 'mkv' }), decodeRgb(cpu, w, h, { ext: 'mkv' })) >= 50);
    await t.throwsAsync(enc.toBuffer('mp4', { pixelFormat: 'yuv444p' }), { code: 'ERR_INVALID_ARG_VALUE' });
  } finally {
    frames.free();
  }
  t.is(frames.cudaPtr, 0n);
});
