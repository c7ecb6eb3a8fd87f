// A live stream in a real player: headless Chromium plays the fragmented MP4 of examples/live-stream.mjs
// (VideoWriter.toStream into an HTTP response, frames rendered in real time) from its server on
// 127.0.0.1, while the server is still rendering and encoding it. Every frame carries its index in
// large black/white blocks and the colour of its second in a flat patch, so what the player presents
// can be read back from a canvas and checked frame by frame.
//
// How "every frame is presented" is made deterministic: requestVideoFrameCallback runs once per
// rendering step of the page, for the latest frame presented since the last one. At normal speed
// (33 ms a frame) a loaded 2-core machine sometimes delays a step past the next frame: its callback is
// skipped (metadata.presentedFrames then jumps by 2) and a frame is missed (seen here with two busy
// loops running). So the video plays at playbackRate 0.25: each frame stays on screen for 133 ms,
// several rendering steps, and the callback's own work (a 320x240 getImageData) is ~1 ms. Seeking frame
// by frame is not an option: a live stream (no Content-Length, no ranges) is not seekable in Chromium.
// The assertions are about order and media time, never about wall-clock speed: the page and the server
// run on one machine, so the page's performance.timeOrigin + now() and the server's Date.now() share a
// clock, and "before the encode ended" is a comparison of two readings of it.
import test from 'ava';
import { chromiumTolerance, findChromium, launchChromium } from './helpers/chromium.mjs';
import { codeBlocks, colorOf, decodeCode, patchRect, startLiveServer } from '../examples/live-stream.mjs';

const FPS = 30;
const SECONDS = 4;
const N = FPS * SECONDS;
const W = 320;
const H = 240;
const RATE = 0.25;

/**
 * In the page: play `src` at `rate` and, for each frame presented (requestVideoFrameCallback), draw it
 * onto a canvas and record its media time, presentedFrames, the grey level of each code block and the
 * mean RGB of the background patch (each over the central half of its rectangle, away from edges that
 * compression blurs). Times are on the wall clock shared with the server.
 */
async function pageWatchLive(src, { rate, rects, timeoutMs }) {
  const now = () => performance.timeOrigin + performance.now();
  const v = document.createElement('video');
  v.muted = true;
  v.playsInline = true;
  v.preload = 'auto';
  v.defaultPlaybackRate = rate; // loading a source resets playbackRate to this
  document.body.append(v);
  const canvas = document.createElement('canvas');
  let ctx = null;
  const at = {};
  for (const name of ['loadedmetadata', 'playing', 'ended']) v.addEventListener(name, () => (at[name] ??= now()));
  let waiting = 0;
  v.addEventListener('waiting', () => waiting++);
  const frames = [];
  const mean = (d, width, r, c) => {
    let sum = 0;
    let n = 0;
    for (let y = r.y + r.h / 4; y < r.y + (3 * r.h) / 4; y++) {
      for (let x = r.x + r.w / 4; x < r.x + (3 * r.w) / 4; x++, n++) sum += d[(y * width + x) * 4 + c];
    }
    return sum / n;
  };
  const onFrame = (_, m) => {
    if (!ctx) {
      canvas.width = m.width;
      canvas.height = m.height;
      ctx = canvas.getContext('2d', { willReadFrequently: true });
    }
    ctx.drawImage(v, 0, 0);
    const d = ctx.getImageData(0, 0, m.width, m.height).data;
    const grey = (r) => Math.round((mean(d, m.width, r, 0) + mean(d, m.width, r, 1) + mean(d, m.width, r, 2)) / 3);
    frames.push({
      at: now(),
      mediaTime: m.mediaTime,
      presentedFrames: m.presentedFrames,
      size: [m.width, m.height],
      bits: rects.bits.map(grey),
      complement: rects.complement.map(grey),
      patch: [0, 1, 2].map((c) => Math.round(mean(d, m.width, rects.patch, c))),
    });
    v.requestVideoFrameCallback(onFrame);
  };
  v.requestVideoFrameCallback(onFrame);
  const ended = new Promise((resolve, reject) => {
    v.addEventListener('ended', resolve, { once: true });
    v.addEventListener('error', () => reject(new Error(`video error ${v.error?.code}: ${v.error?.message}`)), { once: true });
    setTimeout(() => reject(new Error(`not ended after ${timeoutMs} ms: ${frames.length} frames shown, currentTime ${v.currentTime}, readyState ${v.readyState}`)), timeoutMs);
  });
  const requestedAt = now();
  v.src = src;
  v.playbackRate = rate;
  await v.play();
  await ended;
  const quality = v.getVideoPlaybackQuality();
  return { requestedAt, at, frames, waiting, duration: v.duration, dropped: quality.droppedVideoFrames, decoded: quality.totalVideoFrames };
}

const chromium = findChromium();
if (!chromium && !process.env.CI) {
  test.skip('SKIPPED: no chromium installed (scripts/setup.sh installs it), the live stream is not played in a real player', () => {});
} else {
  let browser;

  test.before(async () => {
    if (!chromium) throw new Error('CI: chromium is not installed (scripts/setup.sh installs it)');
    browser = await launchChromium(chromium);
  });

  test.after.always(async () => {
    await browser?.close().catch(() => {});
  });

  test.serial('Chromium plays the live stream while it is encoded: every frame, each at i/30 s, in its colours', async (t) => {
    const live = await startLiveServer({ seconds: SECONDS, fps: FPS, width: W, height: H });
    t.teardown(() => live.close());
    const page = await browser.newPage();
    t.teardown(() => page.close().catch(() => {}));
    page.setDefaultTimeout(120_000);
    // A page of the server's origin (its 404 page: the example's own page autoplays, and the callbacks
    // must be in place before playback starts), so that the canvas may read the video's pixels.
    await page.goto(new URL('/blank', live.url).href);
    const { bits, complement } = codeBlocks();
    const watched = await page.evaluate(pageWatchLive, live.videoUrl, {
      rate: RATE,
      rects: { bits, complement, patch: patchRect(W, H) },
      timeoutMs: 100_000,
    });
    const { frames, at } = watched;

    t.is(live.streams.length, 1, 'one request, one stream');
    const record = await live.streams[0].done;
    t.is(record.error, null);
    t.is(record.result.frames, N);
    const since = (ms) => `+${Math.round(ms - record.startedAt)} ms`;
    t.log(
      `request ${since(watched.requestedAt)}, stream started ${since(record.startedAt)}, loadedmetadata ${since(at.loadedmetadata)}, ` +
        `frame 0 shown ${since(frames[0]?.at)}, encode ended ${since(record.endedAt)}, playback ended ${since(at.ended)}; ` +
        `${frames.length} frames seen, 'waiting' ${watched.waiting}x, decoded ${watched.decoded}, dropped (as Chromium counts) ${watched.dropped}`,
    );

    // Played while it was being encoded: the player had the metadata, and showed frame 0, before the
    // server's close() resolved (the last fragment written and the response ended).
    t.true(at.loadedmetadata < record.endedAt, `loadedmetadata ${since(at.loadedmetadata)}, encode ended ${since(record.endedAt)}`);
    t.true(frames[0]?.at < record.endedAt, `first frame shown ${since(frames[0]?.at)}, encode ended ${since(record.endedAt)}`);

    // Every frame read back is whole (each bit and its complement disagree) and is the frame of its media time.
    const shown = frames.map((f) => ({ ...f, ...decodeCode(f.bits, f.complement) }));
    for (const f of shown) {
      t.deepEqual(f.size, [W, H]);
      if (f.index === null) {
        t.fail(`unreadable frame at mediaTime ${f.mediaTime}: ${f.why}`);
        continue;
      }
      // mediaTime is the frame's presentation timestamp (microsecond precision): frame i at exactly i/30.
      t.true(Math.abs(f.mediaTime - f.index / FPS) < 1e-3, `frame ${f.index} presented at mediaTime ${f.mediaTime}, expected ${f.index / FPS}`);
    }
    // Every frame presented, once, in order: indices 0..N-1, and presentedFrames counting up by one
    // (a jump would mean a frame was shown without its callback, a missing index one never shown).
    t.deepEqual(shown.map((f) => f.index), Array.from({ length: N }, (_, i) => i));
    const jumps = shown.filter((f, k) => k > 0 && f.presentedFrames !== shown[k - 1].presentedFrames + 1);
    t.deepEqual(jumps.map((f) => f.index), [], 'frames whose presentedFrames did not follow the previous one by 1');
    // Frame 0 at t = 0 (the edit list framecodec writes for B-frame delay), so frame 45 at 1.5 s.
    t.is(shown.find((f) => f.index === 45)?.mediaTime, 1.5);
    t.is(shown[0].mediaTime, 0);

    // The background patch of each frame: its second's colour, within Chromium's own rounding.
    let worst = [0, 0, 0];
    for (const f of shown) {
      if (f.index === null) continue;
      const src = colorOf(f.index, FPS);
      const diff = f.patch.map((v, c) => Math.abs(v - src[c]));
      worst = worst.map((w, c) => Math.max(w, diff[c]));
      const ok = diff.every((d, c) => d <= chromiumTolerance(src, c));
      if (!ok) t.fail(`frame ${f.index}: source (${src}) shown as (${f.patch}); allowed ±${src.map((_, c) => chromiumTolerance(src, c).toFixed(1)).join('/')}`);
    }
    t.log(`largest colour difference per channel: ${worst.join('/')}`);
  });

  test.serial("the example's page plays the stream; closing the page aborts that stream on the server, cleanly", async (t) => {
    const live = await startLiveServer({ seconds: 120, fps: FPS, width: W, height: H });
    t.teardown(() => live.close());
    const page = await browser.newPage();
    page.setDefaultTimeout(120_000);
    await page.goto(live.url);
    // The page's own <video> (autoplay, muted) is playing the stream.
    await page.waitForFunction(() => {
      const v = document.querySelector('video');
      return v && !v.paused && v.currentTime > 0.5;
    });
    t.is(live.streams.length, 1);
    t.is(live.streams[0].endedAt, null, 'the stream is still being written');
    await page.close();
    // The server notices the closed connection: the writer is aborted (no unhandled rejection: ava
    // would fail the run), rendering stops, and the stream's record says why.
    const record = await live.streams[0].done;
    t.is(record.result, null);
    t.is(record.error?.code, 'ABORT_ERR');
    t.is(record.error?.cause?.message, 'the client closed the connection');
    t.true(record.framesWritten > 0 && record.framesWritten < 120 * FPS, `${record.framesWritten} frames written`);
    // And the server goes on serving.
    const res = await fetch(live.url);
    t.is(res.status, 200);
    t.regex(await res.text(), /<video src="live.mp4"/);
  });
}
