// Encodes through every host conversion path, for scripts/valgrind/test.sh to run under memcheck
// (`valgrind node --jitless`): the native kernel (NCHW, NHWC RGB, RGBA into yuv420p / yuv444p) and
// swscale (nv12, 10-bit, gray, 4:2:2, gif's rgb8, libx264rgb), with toBuffer, toFile and toStream.
// The frames are exact-size heap blocks, so a read past their end is an error; a width of 30 is not a
// multiple of any SIMD vector, so every row ends in a partial vector.
// FRAMECODEC_ADDON: another build's index.js (to check that the suite catches a known bug).
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeFramesNCHW, nchwToNhwc, nchwToRgba, wildAlpha } from '../../__test__/helpers/frames.mjs';
import { collector } from '../../__test__/helpers/streams.mjs';

const require = createRequire(import.meta.url);
const { VideoEncoder } = require(process.env.FRAMECODEC_ADDON || '../../index.js');

const [n, h, w] = [3, 18, 30];
const nchw = makeFramesNCHW(n, h, w, { seed: 9 });
const copy = (a) => new Uint8Array(a); // its own exact-size backing store
const inputs = {
  NCHW: () => ({ data: copy(nchw), shape: [n, 3, h, w] }),
  NHWC: () => ({ data: copy(nchwToNhwc(nchw, n, h, w)), shape: [n, h, w, 3], layout: 'NHWC' }),
  RGBA: () => ({ data: copy(nchwToRgba(nchw, n, h, w, { alpha: wildAlpha })), shape: [n, h, w, 4], layout: 'NHWC' }),
};
const only = process.argv[2]; // 'native' or 'swscale' (default: both)
const CASES = [
  ['native', 'NCHW', 'toBuffer', 'mp4', {}],
  ['native', 'NHWC', 'toFile', 'mp4', { pixelFormat: 'yuv444p' }],
  ['native', 'RGBA', 'toStream', 'mp4', {}],
  ['swscale', 'NHWC', 'toBuffer', 'mp4', { pixelFormat: 'nv12' }],
  ['swscale', 'NCHW', 'toBuffer', 'mp4', { pixelFormat: 'yuv420p10le' }],
  ['swscale', 'RGBA', 'toFile', 'mkv', { pixelFormat: 'gray' }],
  ['swscale', 'RGBA', 'toStream', 'mkv', { pixelFormat: 'yuv422p' }],
  ['swscale', 'NCHW', 'toBuffer', 'gif', {}],
  ['swscale', 'NHWC', 'toBuffer', 'nut', { codec: 'libx264rgb' }],
];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'framecodec-valgrind-'));
try {
  for (const [conversion, input, method, format, options] of CASES) {
    if (only && only !== conversion) continue;
    const enc = new VideoEncoder(inputs[input](), { frameRate: 10 });
    let bytes;
    if (method === 'toBuffer') {
      bytes = (await enc.toBuffer(format, options)).length;
    } else if (method === 'toFile') {
      const dest = path.join(dir, `out.${format}`);
      if ((await enc.toFile(dest, options)).frames !== n) throw new Error('frames missing');
      bytes = fs.statSync(dest).size;
    } else {
      const stream = collector();
      await enc.toStream(stream, format, options);
      bytes = (await stream.done).length;
    }
    if (!(bytes > 0)) throw new Error(`${conversion} ${input} ${method} ${format}: no output`);
    console.log(`ok ${conversion} ${input} ${method} ${format} ${JSON.stringify(options)}: ${bytes} B`);
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
