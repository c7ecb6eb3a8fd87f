// Conversion reads only the caller's frames: frames that end where the caller's memory ends, at a page
// boundary followed by an unmapped page (a resizable ArrayBuffer that was never resized is one), encode
// through every swscale path and every layout. Before the fix, swscale's SIMD readers fetched up to 16
// bytes past the last row and NHWC input crashed the process (SIGSEGV). Each encode runs in a child
// process, so a crash fails the test instead of the runner.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const addon = fileURLToPath(new URL('../index.js', import.meta.url));
const helpers = fileURLToPath(new URL('./helpers/frames.mjs', import.meta.url));

// Encodes frames held in a resizable ArrayBuffer (its memory ends at a page boundary) and the same
// frames in an ordinary Uint8Array; prints whether the two outputs are identical.
const CHILD = `
const { VideoEncoder } = require(${JSON.stringify(addon)});
(async () => {
  const { makeFramesNCHW, nchwToNhwc, nchwToRgba, wildAlpha } = await import(${JSON.stringify(helpers)});
  const [layout, pixelFormat] = process.argv.slice(1);
  // Sizes whose frames fill whole pages; widths whose rows end in a partial SIMD vector.
  const [n, h, w] = { NHWC: [4, 64, 64], RGBA: [4, 128, 62], NCHW: [8, 128, 60] }[layout];
  const nchw = makeFramesNCHW(n, h, w, { seed: 4 });
  const frames = layout === 'NCHW' ? nchw : layout === 'NHWC' ? nchwToNhwc(nchw, n, h, w) : nchwToRgba(nchw, n, h, w, { alpha: wildAlpha });
  const shape = layout === 'NCHW' ? [n, 3, h, w] : [n, h, w, layout === 'NHWC' ? 3 : 4];
  if (frames.length % 4096) throw new Error('frames must fill whole pages');
  const ab = new ArrayBuffer(frames.length, { maxByteLength: 4 * frames.length });
  new Uint8Array(ab).set(frames);
  const options = { pixelFormat, codec: 'rawvideo' };
  const opts = { frameRate: 10, shape, layout: layout === 'NCHW' ? 'NCHW' : 'NHWC' };
  const atPageEnd = await new VideoEncoder(new Uint8Array(ab), opts).toBuffer('nut', options);
  const ordinary = await new VideoEncoder(new Uint8Array(frames), opts).toBuffer('nut', options);
  console.log(JSON.stringify({ bytes: atPageEnd.length, same: atPageEnd.equals(ordinary) }));
})().catch((e) => { console.error(e); process.exit(2); });
`;

for (const layout of ['NHWC', 'RGBA', 'NCHW']) {
  for (const pixelFormat of ['nv12', 'gray', 'yuv422p', 'yuv420p10le']) {
    test(`${layout} frames that end at a page boundary convert to ${pixelFormat} without reading past them`, (t) => {
      const r = spawnSync(process.execPath, ['-e', CHILD, layout, pixelFormat], { encoding: 'utf8', timeout: 60_000 });
      t.is(r.signal, null, `the child was killed by ${r.signal}: ${r.stderr}`);
      t.is(r.status, 0, r.stderr);
      const { bytes, same } = JSON.parse(r.stdout);
      t.true(bytes > 0);
      t.true(same, 'the output is the same as from an ordinary Uint8Array');
    });
  }
}
