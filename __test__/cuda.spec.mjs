// CUDA frames and the `cuda` helpers. Without a CUDA driver and device (CI's plain run, most machines)
// the helpers report it and CUDA frames are refused with ERR_CUDA_UNAVAILABLE; the CUDA tests below
// are skipped (their titles say what they need). They run on a GPU machine, and in CI under
// the stand-in driver (scripts/cuda-emulation/run-with-fake-cuda.sh, which runs the kernels on the
// CPU and, like an H100/H200, has no NVENC).
import test from 'ava';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { makeFramesNCHW, nchwToNhwc, nchwToRgba } from './helpers/frames.mjs';
import { decodeRaw, decodeRgb, probe, psnr, tmpDirFor } from './helpers/media.mjs';
import { rejectsCode, throwsCode } from './helpers/assert.mjs';
import { collector } from './helpers/streams.mjs';
import { interleave, tone } from './helpers/audio.mjs';

const require = createRequire(import.meta.url);
const { VideoEncoder, VideoWriter, cuda } = require('../index.js');

const hasGpu = cuda.isAvailable();
const gpuTest = (title, fn) => (hasGpu ? test : test.skip)(`CUDA (needs a GPU or the stand-in driver): ${title}`, fn);
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

// ------------------------------------------------------------------ with CUDA

const [N, H, W] = [10, 36, 48]; // H/2 odd: the 4:2:0 chroma's last row is a full one
const nchw = makeFramesNCHW(N, H, W, { seed: 41 });
const LAYOUTS = [
  ['NCHW', nchw, [N, 3, H, W], 'NCHW'],
  ['NHWC', nchwToNhwc(nchw, N, H, W), [N, H, W, 3], 'NHWC'],
  ['RGBA', nchwToRgba(nchw, N, H, W), [N, H, W, 4], 'NHWC'],
];
const LOSSLESS = { codec: 'libx264', extraOptions: { qp: 0 } };
/** The NCHW test frames on the host. */
const HOST = { data: nchw, shape: [N, 3, H, W] };

/** The raw yuv420p planes of a lossless mkv (a Buffer or a path), to compare exactly. */
const yuv = (mkv) => Buffer.from(decodeRaw(mkv, 'yuv420p', { ext: 'mkv' }));
/** A lossless mkv of frames (host frames: the reference CUDA input must decode to). */
const lossless = (frames) => new VideoEncoder(frames, { frameRate: 30 }).toBuffer('mkv', LOSSLESS);

/** Runs fn(frames) with frames uploaded to the GPU, freeing them afterwards whatever happens. */
async function withUpload(host, fn, options) {
  const frames = cuda.upload(host, options);
  try {
    return await fn(frames);
  } finally {
    frames.free();
  }
}

gpuTest('every layout converts on the GPU exactly as on the CPU (lossless encodes decode to the same YUV)', async (t) => {
  for (const [name, data, shape, layout] of LAYOUTS) {
    await withUpload({ data, shape, layout }, async (frames) => {
      t.is(frames.byteLength, data.length, name);
      t.deepEqual(frames.shape, shape);
      t.is(frames.layout, layout);
      t.is(frames.device, 0);
      const enc = new VideoEncoder(frames, { frameRate: 30 });
      t.is(enc.device, 'cuda:0');
      t.deepEqual([enc.frameCount, enc.height, enc.width], [N, H, W]);
      const [a, b] = [yuv(await enc.toBuffer('mkv', LOSSLESS)), yuv(await lossless({ data, shape, layout }))];
      t.is(a.length, N * (H * W + 2 * (H / 2) * (W / 2)), `${name}: ${N} frames`);
      t.true(a.equals(b), `${name}: GPU and CPU conversions give the same YUV`);
    });
  }
});

gpuTest('toFile, toBuffer and toStream all take CUDA frames, with the default codec and color tags', async (t) => {
  const dir = tmpDirFor(t);
  await withUpload(HOST, async (frames) => {
    const enc = new VideoEncoder(frames, { frameRate: 25 });
    const file = path.join(dir, 'cuda.mp4');
    const result = await enc.toFile(file);
    t.is(result.frames, N);
    t.regex(result.codec, /^(libx264|h264_nvenc)$/, 'NVENC where the GPU has it, else the CPU encoder');
    const v = probe(file).video;
    t.is(Number(v.nb_read_frames), N);
    t.is(v.color_space, 'bt709');
    t.is(v.color_range, 'tv');
    // With libx264, the same frames give the same video as host input; NVENC's differs but is close.
    const host = new VideoEncoder(HOST, { frameRate: 25 });
    const hostFile = path.join(dir, 'host.mp4');
    await host.toFile(hostFile);
    const reference = decodeRgb(hostFile, W, H);
    const same = (decoded, what) => {
      if (result.codec === 'libx264') t.true(Buffer.from(decoded).equals(Buffer.from(reference)), what);
      else t.true(psnr(decoded, reference) > 25, what);
    };
    same(decodeRgb(file, W, H), 'toFile');

    const buffer = await enc.toBuffer('mp4');
    same(decodeRgb(buffer, W, H, { ext: 'mp4' }), 'toBuffer');
    const stream = collector();
    await enc.toStream(stream, 'mp4');
    same(decodeRgb(await stream.done, W, H, { ext: 'mp4' }), 'toStream');
  });
});

gpuTest('an explicit NVENC codec on a GPU without NVENC rejects with ERR_ENCODER_UNAVAILABLE naming the device', async (t) => {
  await withUpload(HOST, async (frames) => {
    const enc = new VideoEncoder(frames, { frameRate: 30 });
    const dir = tmpDirFor(t);
    const byDefault = await enc.toFile(path.join(dir, 'default.mp4'));
    if (byDefault.codec === 'h264_nvenc') {
      t.pass('this GPU has NVENC: the default codec for CUDA frames is h264_nvenc');
      return;
    }
    t.is(byDefault.codec, 'libx264');
    const file = path.join(dir, 'nvenc.mp4');
    await rejectsCode(t, enc.toFile(file, { codec: 'h264_nvenc' }), 'ERR_ENCODER_UNAVAILABLE', { includes: ['h264_nvenc', 'cuda:0'] });
    t.false(fs.existsSync(file), 'no partial file');
  });
});

gpuTest('extraOptions colorspace / color_range change the GPU conversion and the tags as on the CPU', async (t) => {
  const opts = { ...LOSSLESS, extraOptions: { ...LOSSLESS.extraOptions, colorspace: 'bt470bg', color_range: 'pc' } };
  await withUpload(HOST, async (frames) => {
    const gpu = await new VideoEncoder(frames, { frameRate: 30 }).toBuffer('mkv', opts);
    const cpu = await new VideoEncoder(HOST, { frameRate: 30 }).toBuffer('mkv', opts);
    const v = probe(gpu, { ext: 'mkv' }).video;
    t.is(v.color_space, 'bt470bg');
    t.is(v.color_range, 'pc');
    t.true(yuv(gpu).equals(yuv(cpu)));
    t.false(yuv(await lossless(frames)).equals(yuv(gpu)), 'the matrix matters');
  });
});

gpuTest('a pointer into an upload (a slice of its frames) encodes those frames', async (t) => {
  await withUpload(HOST, async (frames) => {
    const frameBytes = 3 * H * W;
    const slice = { cudaPtr: frames.cudaPtr + BigInt(4 * frameBytes), shape: [N - 4, 3, H, W] };
    const host = { data: nchw.subarray(4 * frameBytes), shape: [N - 4, 3, H, W] };
    t.true(yuv(await lossless(slice)).equals(yuv(await lossless(host))));
    throwsCode(t, () => new VideoEncoder({ cudaPtr: frames.cudaPtr + BigInt(4 * frameBytes), shape: [N - 3, 3, H, W] }, { frameRate: 30 }),
      'ERR_INVALID_ARG_VALUE', { includes: [String(frameBytes * (N - 4)), String(frameBytes * (N - 3))] });
  });
});

gpuTest('bad device pointers, short allocations, unknown devices and pixelFormat are refused with codes', async (t) => {
  throwsCode(t, () => new VideoEncoder({ cudaPtr: 0x1000n, shape: [1, 3, 16, 16] }, { frameRate: 30 }), 'ERR_INVALID_ARG_VALUE',
    { includes: ['0x1000', 'not device memory'] });
  const host = new Uint8Array(3 * 16 * 16);
  await withUpload({ data: host, shape: [1, 3, 16, 16] }, async (frames) => {
    throwsCode(t, () => new VideoEncoder({ cudaPtr: frames.cudaPtr, shape: [2, 3, 16, 16] }, { frameRate: 30 }), 'ERR_INVALID_ARG_VALUE',
      { includes: ['768', '1536'] });
    const count = cuda.deviceCount();
    throwsCode(t, () => new VideoEncoder({ cudaPtr: frames.cudaPtr, shape: [1, 3, 16, 16], device: count }, { frameRate: 30 }),
      'ERR_INVALID_ARG_VALUE', { includes: [`device ${count} is out of range`] });
    throwsCode(t, () => cuda.upload({ data: host, shape: [1, 3, 16, 16] }, { device: count }), 'ERR_INVALID_ARG_VALUE', { includes: ['out of range'] });
    throwsCode(t, () => cuda.upload({ data: host, shape: [2, 3, 16, 16] }), 'ERR_INVALID_ARG_VALUE');
    const enc = new VideoEncoder(frames, { frameRate: 30 });
    await rejectsCode(t, enc.toBuffer('mp4', { pixelFormat: 'yuv444p' }), 'ERR_INVALID_ARG_VALUE', { includes: ['pixelFormat'] });
  });
});

gpuTest('free() releases the memory, is idempotent, and waits for encodes still reading the frames', async (t) => {
  const frames = cuda.upload(HOST);
  const enc = new VideoEncoder(frames, { frameRate: 30 });
  const pending = enc.toBuffer('mkv', LOSSLESS);
  frames.free();
  frames.free();
  t.is(frames.cudaPtr, 0n);
  t.is(frames.byteLength, 0);
  const cpu = await lossless(HOST);
  t.true(yuv(await pending).equals(yuv(cpu)),
    'the encode started before free() still reads its frames');
  throwsCode(t, () => new VideoEncoder(frames, { frameRate: 30 }), 'ERR_INVALID_ARG_VALUE', { includes: ['not device memory'] });
});

gpuTest('progress, abort and concurrent encodes of the same device frames', async (t) => {
  await withUpload(HOST, async (frames) => {
    const enc = new VideoEncoder(frames, { frameRate: 30 });
    const seen = [];
    await enc.toBuffer('mp4', { onProgress: (p) => seen.push(p.framesEncoded) });
    t.is(seen.at(-1), N);
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    const dir = tmpDirFor(t);
    const file = path.join(dir, 'aborted.mp4');
    await rejectsCode(t, enc.toFile(file, { signal: ac.signal }), 'ABORT_ERR', { name: 'AbortError' });
    t.false(fs.existsSync(file));
    const outputs = await Promise.all([0, 1, 2, 3].map(() => enc.toBuffer('mkv', LOSSLESS)));
    const first = yuv(outputs[0]);
    for (const out of outputs.slice(1)) t.true(yuv(out).equals(first));
  });
});

gpuTest('a VideoWriter with device cuda:0 takes CUDA frames in batches, a frame at a time, and gives the one-shot output', async (t) => {
  const frameBytes = 3 * H * W;
  await withUpload(HOST, async (frames) => {
    const oneShot = await new VideoEncoder(frames, { frameRate: 30 }).toBuffer('mkv', { ...LOSSLESS, extraOptions: { ...LOSSLESS.extraOptions, fflags: '+bitexact' } });
    const writer = await VideoWriter.toBuffer('mkv', { width: W, height: H, frameRate: 30, device: 'cuda:0', ...LOSSLESS, extraOptions: { ...LOSSLESS.extraOptions, fflags: '+bitexact' } });
    // frames 0-2 as one batch (the upload's own pointer), then one by one by pointer
    await writer.write({ cudaPtr: frames.cudaPtr, shape: [3, 3, H, W] });
    for (let i = 3; i < N; i++) await writer.write({ cudaPtr: frames.cudaPtr + BigInt(i * frameBytes), shape: [1, 3, H, W], device: 0 });
    const result = await writer.close();
    t.is(result.frames, N);
    t.true(result.buffer.equals(oneShot), 'the same bytes as VideoEncoder on the same device frames');
    t.true(yuv(result.buffer).equals(yuv(await lossless(HOST))), 'and the CPU conversion of the host frames');
  });
});

gpuTest('CUDA frames with a host audio track give the bytes of the same frames from host memory with the same audio (one-shot and writer)', async (t) => {
  // libx264 named (a GPU with NVENC would pick h264_nvenc), mp4 (deterministic): the GPU conversion is
  // the CPU's to the bit, so everything but where the frames come from is the same, the bytes too.
  const frameBytes = 3 * H * W;
  const planes = [tone(440, 16000, 48000, { amp: 0.4 }), tone(660, 16000, 48000, { amp: 0.3 })]; // N frames at 30 fps
  const track = { sampleRate: 48000, channels: 2 };
  const video = { codec: 'libx264' };
  const oneShot = (frames) => new VideoEncoder(frames, { frameRate: 30, audio: { ...track, samples: interleave(planes) } }).toBuffer('mp4', video);
  async function written(frameAt, device) {
    const writer = await VideoWriter.toBuffer('mp4', { width: W, height: H, frameRate: 30, device, audio: track, ...video });
    for (let i = 0; i < N; i++) {
      await writer.write(frameAt(i));
      if (i % 3 === 0) await writer.writeAudio(planes.map((p) => p.subarray(i * 1600, Math.min(16000, (i + 3) * 1600))));
    }
    return writer.close();
  }
  await withUpload(HOST, async (frames) => {
    const hostBytes = await oneShot(HOST);
    const info = probe(hostBytes, { ext: 'mp4' });
    t.deepEqual(info.streams.map((s) => `${s.codec_type}:${s.codec_name}`), ['video:h264', 'audio:aac']);
    t.true((await oneShot(frames)).equals(hostBytes), 'VideoEncoder: CUDA frames + audio = host frames + audio');
    const onGpu = await written((i) => ({ cudaPtr: frames.cudaPtr + BigInt(i * frameBytes), shape: [1, 3, H, W] }), 'cuda:0');
    const onHost = await written((i) => nchw.subarray(i * frameBytes, (i + 1) * frameBytes), 'cpu');
    t.is(onGpu.audioCodec, 'aac');
    t.is(onGpu.frames, N);
    t.true(onGpu.buffer.equals(onHost.buffer), 'VideoWriter: CUDA frames + audio = host frames + audio');
    t.true(onGpu.buffer.equals(hostBytes), 'and the writer gives the one-shot bytes');
  });
});

gpuTest('a CUDA writer refuses host frames, frames on another device and a short allocation; a host writer refuses CUDA frames', async (t) => {
  await withUpload(HOST, async (frames) => {
    const onGpu = await VideoWriter.toBuffer('mp4', { width: W, height: H, frameRate: 30, device: 'cuda:0' });
    await rejectsCode(t, onGpu.write(nchw.subarray(0, 3 * H * W)), 'ERR_INVALID_ARG_VALUE', { includes: ['cuda:0', "device: 'cpu'"] });
    await rejectsCode(t, onGpu.write({ cudaPtr: frames.cudaPtr, shape: [1, 3, H, W], device: 1 }), 'ERR_INVALID_ARG_VALUE', { includes: ['cuda:0'] });
    await rejectsCode(t, onGpu.write({ cudaPtr: frames.cudaPtr, shape: [N + 1, 3, H, W] }), 'ERR_INVALID_ARG_VALUE');
    await rejectsCode(t, onGpu.write({ cudaPtr: frames.cudaPtr, shape: [1, 3, H, W + 2] }), 'ERR_INVALID_ARG_VALUE', { includes: [`[k, 3, ${H}, ${W}]`] });
    await onGpu.write({ cudaPtr: frames.cudaPtr, shape: [1, 3, H, W] });
    t.is((await onGpu.close()).frames, 1, 'the refused calls left the writer usable');
    const onHost = await VideoWriter.toBuffer('mp4', { width: W, height: H, frameRate: 30 });
    await rejectsCode(t, onHost.write(frames), 'ERR_INVALID_ARG_VALUE', { includes: ["device: 'cuda:N'"] });
    await onHost.abort();
    await rejectsCode(t, VideoWriter.toBuffer('mp4', { width: W, height: H, frameRate: 30, device: 'cuda:0', pixelFormat: 'yuv444p' }), 'ERR_INVALID_ARG_VALUE', { includes: ['pixelFormat'] });
    await rejectsCode(t, VideoWriter.toBuffer('mp4', { width: W, height: H, frameRate: 30, device: `cuda:${cuda.deviceCount()}` }), 'ERR_INVALID_ARG_VALUE', { includes: ['out of range'] });
  });
});

const multiGpuTest = hasGpu && cuda.deviceCount() >= 2 ? test : test.skip;
multiGpuTest('CUDA (needs 2 devices): frames on cuda:1 encode there, and a wrong device is named', async (t) => {
  await withUpload(HOST, async (frames) => {
    t.is(frames.device, 1);
    const enc = new VideoEncoder(frames, { frameRate: 30 });
    t.is(enc.device, 'cuda:1');
    t.true(yuv(await enc.toBuffer('mkv', LOSSLESS)).equals(yuv(await lossless(HOST))));
    throwsCode(t, () => new VideoEncoder({ cudaPtr: frames.cudaPtr, shape: [N, 3, H, W], device: 0 }, { frameRate: 30 }),
      'ERR_INVALID_ARG_VALUE', { includes: ['memory of cuda:1', 'device: 1'] });
  }, { device: 1 });
});

// Only the stand-in driver can pretend to refuse the shipped PTX (FAKE_CUDA_REJECT_PTX_TARGET).
const fakeDriverTest = hasGpu && process.env.FRAMECODEC_FAKE_CUDA ? test : test.skip;
fakeDriverTest('CUDA (needs the stand-in driver): where the driver refuses the shipped PTX, NVRTC compiles the kernels, or the error names both failures', async (t) => {
  const dir = tmpDirFor(t);
  const out = path.join(dir, 'nvrtc.mkv');
  const child = `
    const { VideoEncoder, cuda } = require(${JSON.stringify(path.resolve('index.js'))});
    const data = new Uint8Array(Buffer.from(process.argv[1], 'base64'));
    (async () => {
      try {
        const frames = cuda.upload({ data, shape: [${N}, 3, ${H}, ${W}] });
        await new VideoEncoder(frames, { frameRate: 30 }).toFile(${JSON.stringify(out)}, { codec: 'libx264', extraOptions: { qp: 0 } });
        console.log(JSON.stringify({ ok: true }));
      } catch (e) {
        console.log(JSON.stringify({ ok: false, code: e.code, message: e.message }));
      }
    })();`;
  const { execFileSync } = await import('node:child_process');
  const env = { ...process.env, FAKE_CUDA_REJECT_PTX_TARGET: 'sm_52' };
  const result = JSON.parse(execFileSync(process.execPath, ['-e', child, Buffer.from(nchw).toString('base64')], { env }).toString());
  if (result.ok) {
    t.log('libnvrtc present: the kernels were compiled for this GPU at run time');
    t.true(yuv(out).equals(yuv(await lossless(HOST))));
  } else {
    t.log(`no libnvrtc: ${result.message}`);
    t.is(result.code, 'ERR_CUDA_UNAVAILABLE');
    t.regex(result.message, /refused the shipped PTX \(.*UNSUPPORTED_PTX_VERSION.*\)/);
    t.regex(result.message, /NVRTC/);
    t.false(fs.existsSync(out));
  }
});

gpuTest('cuda.upload() takes the bytes after reading shape and layout: a getter there that shrinks or detaches the data is refused, not read (it crashed)', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const child = `
    const { cuda } = require(${JSON.stringify(path.resolve('index.js'))});
    const len = 3 * 64 * 64 * 4;
    const out = [];
    for (const how of ['resize', 'detach']) {
      const ab = how === 'resize' ? new ArrayBuffer(len, { maxByteLength: 2 * len }) : new ArrayBuffer(len);
      const data = new Uint8Array(ab);
      try {
        cuda.upload({ data, get shape() { if (how === 'resize') ab.resize(0); else structuredClone(ab, { transfer: [ab] }); return [4, 3, 64, 64]; } }).free();
        out.push(how + ': uploaded');
      } catch (e) {
        out.push(how + ': ' + e.code);
      }
    }
    console.log(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['-e', child], { env: process.env, encoding: 'utf8' });
  t.is(r.signal, null, `the process crashed: ${r.signal} ${r.stderr.slice(-300)}`);
  t.deepEqual(JSON.parse(r.stdout.trim() || 'null'), ['resize: ERR_INVALID_ARG_VALUE', 'detach: ERR_INVALID_ARG_VALUE']);
});
