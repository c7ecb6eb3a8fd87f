// The audio track as a real player takes it: Debian's Chromium (headless, puppeteer-core) loads our mp4 (H.264 +
// aac) and webm (VP9 + Opus) from a server on 127.0.0.1. A <video> plays them (its duration, audio decoded while
// playing), and Web Audio's decodeAudioData — Chromium's own demuxers and decoders, honouring the mp4 edit list
// and Opus's pre-skip — gives the samples a page would hear, compared with the source: the length within one codec
// frame, each channel where it belongs (a chirp on the left, a mix of tones on the right), correlated ≥ 0.98, starting
// within 64 samples of the source (the encoder's priming is not heard as leading silence or a delay).
import test from 'ava';
import { createRequire } from 'node:module';
import { solidFramesNCHW } from './helpers/frames.mjs';
import { chromiumSuite, INDEX_HTML } from './helpers/chromium.mjs';
import { alignedCorrelation, stereoTestPlanes } from './helpers/audio.mjs';

const require = createRequire(import.meta.url);
const { VideoEncoder } = require('../index.js');

const RATE = 48000;
const SECONDS = 2;
const FPS = 30;
const SOURCE = { count: RATE * SECONDS, planes: stereoTestPlanes(RATE * SECONDS, RATE) };
const CASES = [
  ['mp4', 'aac', 1024],
  ['webm', 'libopus', 960],
];

/** In the page: the <video>'s duration and audio decoded while playing; decodeAudioData's channels (base64 float32). */
async function pageDecode(url, rate) {
  const video = document.createElement('video');
  video.src = url;
  document.body.append(video);
  await new Promise((resolve, reject) => {
    video.onloadedmetadata = resolve;
    video.onerror = () => reject(new Error(`video error ${video.error?.code}: ${video.error?.message}`));
  });
  await video.play();
  while (video.webkitAudioDecodedByteCount === 0 && !video.ended) await new Promise((r) => setTimeout(r, 50));
  video.pause();
  const bytes = await (await fetch(url)).arrayBuffer();
  const context = new OfflineAudioContext(2, 1, rate);
  const decoded = await context.decodeAudioData(bytes);
  const base64 = (array) => {
    const u8 = new Uint8Array(array.buffer);
    let s = '';
    for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode(...u8.subarray(i, i + 0x8000));
    return btoa(s);
  };
  return {
    duration: video.duration,
    audioBytesDecoded: video.webkitAudioDecodedByteCount,
    sampleRate: decoded.sampleRate,
    channels: Array.from({ length: decoded.numberOfChannels }, (_, c) => base64(decoded.getChannelData(c))),
  };
}

const fromBase64 = (s) => {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
};

const files = { '/index.html': INDEX_HTML };
const suite = chromiumSuite(test, files, 'audio in a real player is');
if (suite) {
  const frames = { data: solidFramesNCHW(SECONDS * FPS, 48, 64, [90, 140, 200]), shape: [SECONDS * FPS, 3, 48, 64] };
  const encoder = new VideoEncoder(frames, { frameRate: FPS, audio: { sampleRate: RATE, channels: 2, samples: SOURCE.planes } });

  for (const [ext, codec, frameSize] of CASES) {
    test.serial(`${ext} (${codec}): Chromium plays the audio track, whole, in place and on the right channels`, async (t) => {
      const name = `/audio.${ext}`;
      files[name] = { body: await encoder.toBuffer(ext), type: `video/${ext}` };
      const page = await suite.browser.newPage();
      let result;
      try {
        page.setDefaultTimeout(60_000);
        await page.goto(`${suite.server.origin}/index.html`, { waitUntil: 'load' });
        result = await page.evaluate(pageDecode, name, RATE);
      } finally {
        await page.close().catch(() => {});
      }
      t.true(Math.abs(result.duration - SECONDS) <= frameSize / RATE, `duration ${result.duration}`);
      t.true(result.audioBytesDecoded > 0, 'the <video> decoded audio while playing');
      t.is(result.sampleRate, RATE);
      t.is(result.channels.length, 2);
      const [left, right] = result.channels.map(fromBase64);
      t.log(`${ext}: ${left.length} samples decoded for ${SOURCE.count} given`);
      t.true(Math.abs(left.length - SOURCE.count) <= frameSize, `${left.length} samples decoded for ${SOURCE.count}`);
      for (const [c, got, other] of [
        [0, left, right],
        [1, right, left],
      ]) {
        const { lag, corr: correlation } = alignedCorrelation(SOURCE.planes[c], got, 2048);
        const swapped = alignedCorrelation(SOURCE.planes[c], other, 2048).corr;
        t.log(`${ext} channel ${c}: correlation ${correlation.toFixed(4)} at lag ${lag} (other channel: ${swapped.toFixed(3)})`);
        t.true(correlation >= 0.98, `channel ${c}: correlation ${correlation}`);
        t.true(Math.abs(lag) <= 64, `channel ${c}: lag ${lag} samples`);
        t.true(swapped < 0.5, `channel ${c} is not the other channel (${swapped})`);
      }
    });
  }
}
