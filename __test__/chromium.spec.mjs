// Colours as a real player shows them: Debian's Chromium (headless, puppeteer-core) plays our H.264 mp4
// and VP8/VP9 webm in a <video>, the frame is drawn onto a canvas and its pixels compared with the
// source RGB. Chromium honours the matrix/range tags only when primaries and transfer are tagged too;
// with them "unknown" it decoded BT.709 H.264 and VP8 as BT.601: red (200,40,40) showed as (186,24,42).
//
// Tolerance, measured on Chromium 156: R and G within 3 levels; B within 3 + 0.06·|B − Y| levels,
// because Chromium's own BT.709 limited-range YUV→RGB scales B − Y by about 0.95 (blue (40,40,200)
// shows as (40,39,191) even from a lossless VP9, whose bitstream itself says BT.709, and from every
// correctly tagged file). A BT.601 misreading is 11–28 levels off on R or G for these colours.
import test from 'ava';
import { createRequire } from 'node:module';
import { solidFramesNCHW } from './helpers/frames.mjs';
import { chromiumSuite, chromiumTolerance as tolerance, INDEX_HTML, readVideoColors } from './helpers/chromium.mjs';

const require = createRequire(import.meta.url);
const { VideoEncoder } = require('../index.js');

const COLORS = [
  [200, 40, 40],
  [40, 200, 40],
  [40, 40, 200],
  [128, 128, 128],
  [220, 200, 60],
  [60, 190, 210],
  [190, 60, 180],
  [230, 230, 230],
  [30, 30, 30],
];
const PER = 4; // frames per colour: a seek one frame off still lands on the same colour
const W = 64;
const H = 64;
const FPS = 10;
// The middle of the third frame of each colour.
const TIMES = COLORS.map((_, k) => (k * PER + 2.5) / FPS);

function allColorFrames() {
  const parts = COLORS.map((c) => solidFramesNCHW(PER, H, W, c));
  const data = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((offset, p) => (data.set(p, offset), offset + p.length), 0);
  return { data, shape: [COLORS.length * PER, 3, H, W] };
}

const CASES = [
  ['mp4', 'H.264 yuv420p', { codec: 'libx264', pixelFormat: 'yuv420p', crf: 0 }],
  ['mp4', 'H.264 yuv444p', { codec: 'libx264', pixelFormat: 'yuv444p', crf: 0 }],
  ['mp4', 'H.264 default settings', {}],
  ['mp4', 'H.264 yuv420p, color_range pc', { codec: 'libx264', crf: 0, extraOptions: { color_range: 'pc' } }],
  ['mp4', 'H.264 yuv420p, colorspace smpte170m', { codec: 'libx264', crf: 0, extraOptions: { colorspace: 'smpte170m' } }],
  ['webm', 'VP8', { codec: 'libvpx', crf: 4, extraOptions: { b: 10_000_000 } }],
  ['webm', 'VP8, color_range pc', { codec: 'libvpx', crf: 4, extraOptions: { b: 10_000_000, color_range: 'pc' } }],
  ['webm', 'VP9 lossless', { codec: 'libvpx-vp9', extraOptions: { lossless: 1 } }],
];

const files = { '/index.html': INDEX_HTML };
const suite = chromiumSuite(test, files, 'colours in a real player are');
if (suite) {
  const encoder = new VideoEncoder(allColorFrames(), { frameRate: FPS });

  for (const [index, [ext, label, options]] of CASES.entries()) {
    test(`${ext} ${label}: Chromium shows the source colours`, async (t) => {
      const name = `/video${index}.${ext}`;
      files[name] = { body: await encoder.toBuffer(ext, options), type: `video/${ext}` };
      const { colors, width, height, presentedByCallback } = await readVideoColors(suite.browser, suite.server.origin, name, TIMES);
      t.is(width, W);
      t.is(height, H);
      t.log(`shown: ${colors.map((c) => `(${c})`).join(' ')}; ${presentedByCallback}/${TIMES.length} by requestVideoFrameCallback`);
      COLORS.forEach((src, k) => {
        const ok = colors[k].every((v, ch) => Math.abs(v - src[ch]) <= tolerance(src, ch));
        const allowed = src.map((_, ch) => tolerance(src, ch).toFixed(1)).join('/');
        t.true(ok, `source (${src}) shown as (${colors[k]}); allowed ±${allowed}`);
      });
    });
  }
}
