// Determinism: the same frames and options give the same bytes, run after run, whatever the heap held
// before. Each conversion path (the native kernel for NCHW, NHWC RGB and RGBA; swscale for nv12, gray,
// 4:2:2, 10-bit; RGB codecs; gif's rgb8; VP9) is encoded 20 times with each method (toFile, toBuffer,
// toStream), in two child processes whose malloc fills fresh and freed memory with different bytes
// (GLIBC_TUNABLES=glibc.malloc.perturb=165 and =77): anything an encoder reads that nobody wrote shows
// up as a second md5. Before the fix, every 8-bit libx264 path gave one md5 per perturb value (libx264's
// AVX-512 code reads memory it never initialised; see src/core/x264.rs).
import test from 'ava';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const child = fileURLToPath(new URL('./helpers/encode-md5s.mjs', import.meta.url));
const REPS = 10; // per perturb value: 20 encodes per path and method in all

// mkv and webm carry random segment and track UIDs unless asked to be bit-exact (FFmpeg's muxer
// flag), so the VP9 case asks.
const CASES = [
  { name: 'native NCHW yuv420p', input: 'NCHW', format: 'mp4', options: {} },
  { name: 'native NCHW yuv444p', input: 'NCHW', format: 'mp4', options: { pixelFormat: 'yuv444p' } },
  { name: 'native NHWC yuv420p', input: 'NHWC', format: 'mp4', options: {} },
  { name: 'native RGBA yuv420p', input: 'RGBA', format: 'mp4', options: { preset: 'slow' } },
  { name: 'swscale NHWC nv12', input: 'NHWC', format: 'mp4', options: { pixelFormat: 'nv12' } },
  { name: 'swscale NCHW gray', input: 'NCHW', format: 'mp4', options: { pixelFormat: 'gray' } },
  { name: 'swscale RGBA yuv422p', input: 'RGBA', format: 'mkv', options: { pixelFormat: 'yuv422p', extraOptions: { fflags: '+bitexact' } } },
  { name: 'swscale NHWC yuv420p10le', input: 'NHWC', format: 'mp4', options: { pixelFormat: 'yuv420p10le' } },
  { name: 'swscale NCHW yuv420p10le', input: 'NCHW', format: 'mp4', options: { pixelFormat: 'yuv420p10le' } },
  { name: 'libx264rgb NHWC', input: 'NHWC', format: 'nut', options: { codec: 'libx264rgb' } },
  { name: 'ffv1 NCHW', input: 'NCHW', format: 'nut', options: { codec: 'ffv1' } },
  { name: 'gif RGBA rgb8', input: 'RGBA', format: 'gif', options: {} },
  { name: 'vp9 NHWC', input: 'NHWC', format: 'webm', options: { extraOptions: { fflags: '+bitexact' } } },
];

function md5sUnder(perturb) {
  const env = { ...process.env, GLIBC_TUNABLES: `glibc.malloc.perturb=${perturb}` };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [child, JSON.stringify(CASES), String(REPS)], { env, timeout: 120_000, maxBuffer: 1 << 24 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`child with perturb ${perturb} failed (${error.code ?? error.signal}): ${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

test('20 encodes per conversion path and method under two malloc perturb values give one md5', async (t) => {
  const [a, b] = await Promise.all([md5sUnder(165), md5sUnder(77)]);
  const methods = ['toFile', 'toBuffer', 'toStream'];
  for (const { name } of CASES) {
    const all = methods.flatMap((m) => [...(a[`${name} ${m}`] ?? []), ...(b[`${name} ${m}`] ?? [])]);
    t.is(all.length, 2 * REPS * methods.length, `${name}: every encode ran`);
    const distinct = new Set(all);
    // One md5 across both perturb values, every repetition and all three methods.
    t.is(distinct.size, 1, `${name}: ${distinct.size} distinct outputs (perturb 165: ${new Set(methods.flatMap((m) => a[`${name} ${m}`])).size}, perturb 77: ${new Set(methods.flatMap((m) => b[`${name} ${m}`])).size})`);
  }
});
