// The examples run as a user runs them (a child process each, from the repository root) and what they
// produce decodes: codec, frame count and size by ffprobe. The live stream is fetched by a plain Node
// HTTP client in the example's one-stream mode (--once), complete and cut short. The soundtrack's
// audio is decoded: not silent, as long as the video, and its clicks on the frames where the ball
// is seen to land.
import test from 'ava';
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeAudio, rms } from './helpers/audio.mjs';
import { decodeRgb, probe, tmpDirFor } from './helpers/media.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Runs `node examples/<script> ...args`. Returns { lines (async iterator of stdout lines), exited
 * (resolves with { code, signal, stdout, stderr }) }. The child is killed if the test ends first.
 */
function runExample(t, script, args) {
  const child = spawn(process.execPath, [path.join(ROOT, 'examples', script), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => child.exitCode === null && child.signalCode === null && child.kill());
  let stdout = '';
  let stderr = '';
  const waiters = [];
  child.stdout.setEncoding('utf8').on('data', (s) => {
    stdout += s;
    for (const w of waiters.splice(0)) w();
  });
  child.stderr.setEncoding('utf8').on('data', (s) => (stderr += s));
  const exited = new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  /** Resolves with the first match of `regex` in stdout (rejects if the child exits first). */
  const waitFor = async (regex) => {
    for (;;) {
      const m = regex.exec(stdout);
      if (m) return m;
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited before printing ${regex}: ${stdout}${stderr}`);
      await Promise.race([new Promise((r) => waiters.push(r)), exited]);
    }
  };
  return { waitFor, exited };
}

/** GET `url` with node:http: { status, headers, body }. `stopAfter(bytesSoFar)` true cuts the response short. */
function get(url, { stopAfter } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      const chunks = [];
      let size = 0;
      res.on('data', (c) => {
        chunks.push(c);
        size += c.length;
        if (stopAfter?.(size)) {
          req.destroy();
          resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), cut: true });
        }
      });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), cut: false }));
      res.on('error', reject);
    });
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
  });
}

test('demo (npm run demo): renders frame by frame with its sound into a VideoWriter and says where the mp4 is', async (t) => {
  const file = path.join(tmpDirFor(t, 'framecodec-example-'), 'demo.mp4');
  const { exited } = runExample(t, 'demo.mjs', [file]);
  const { code, stdout, stderr } = await exited;
  t.is(code, 0, stderr);
  t.true(stdout.includes(`Wrote ${file}`), stdout);
  const { video, format, streams } = probe(file);
  t.is(video.codec_name, 'h264');
  t.is(Number(video.nb_read_frames), 180);
  t.is(Number(format.duration), 6);
  t.is(video.color_space, 'bt709');
  const audio = streams.find((s) => s.codec_type === 'audio');
  t.is(audio?.codec_name, 'aac');
  t.is(Number(audio.channels), 2);
  t.is(Number(audio.duration), 6, 'the soundtrack lasts as long as the video (exactly: the edit list)');
  t.true(stdout.includes('+ aac stereo 48000 Hz'), stdout);
});

test('canvas-animation: draws with @napi-rs/canvas into an mp4 and a webm at once', async (t) => {
  const dir = tmpDirFor(t, 'framecodec-example-');
  const { exited } = runExample(t, 'canvas-animation.mjs', [dir]);
  const { code, stdout, stderr } = await exited;
  t.is(code, 0, stderr);
  const expected = { mp4: ['h264', 'libx264'], webm: ['vp9', 'libvpx-vp9'] };
  for (const [ext, [codecName, encoder]] of Object.entries(expected)) {
    const file = path.join(dir, `canvas-animation.${ext}`);
    t.true(stdout.includes(file), `the output names ${file}`);
    t.true(stdout.includes(encoder));
    const { video } = probe(file);
    t.is(video.codec_name, codecName);
    t.is(video.width, 640);
    t.is(video.height, 360);
    t.is(Number(video.nb_read_frames), 120);
  }
});

/** Where a stream ends (s): its start plus its duration (Matroska gives the duration as a tag, e.g. 00:00:04.008000000). */
function streamEnd(stream) {
  const tag = stream.tags?.DURATION;
  const duration = stream.duration !== undefined ? Number(stream.duration) : tag.split(':').reduce((s, part) => s * 60 + Number(part), 0);
  return Number(stream.start_time) + duration;
}

/**
 * The video frames (windows of `perFrame` samples) in which a click starts: a click is bright (kHz)
 * and the music is not, so a second difference (a high-pass) of the signal leaves the clicks; a
 * window whose energy rises above a tenth of the loudest window's is an onset.
 */
function clickFrames(samples, perFrame) {
  const windows = [];
  for (let from = 0; from < samples.length; from += perFrame) {
    let e = 0;
    for (let n = Math.max(from, 2); n < Math.min(from + perFrame, samples.length); n++) e += (samples[n] - 2 * samples[n - 1] + samples[n - 2]) ** 2;
    windows.push(e);
  }
  const threshold = Math.max(...windows) / 10;
  return windows.flatMap((e, k) => (e >= threshold && (k === 0 || windows[k - 1] < threshold) ? [k] : []));
}

/** The frames in which the red ball is at its lowest (within 2 rows): where it touches the floor. */
function landingFrames(rgb, width, height) {
  const bottoms = [];
  for (let o = 0; o < rgb.length; o += width * height * 3) {
    let bottom = -1;
    for (let y = height - 1; y >= 0 && bottom < 0; y--) {
      for (let i = o + y * width * 3; i < o + (y + 1) * width * 3; i += 3) {
        if (rgb[i] > 160 && rgb[i + 1] < 90 && rgb[i + 2] < 90) {
          bottom = y;
          break;
        }
      }
    }
    bottoms.push(bottom);
  }
  const lowest = Math.max(...bottoms);
  return bottoms.flatMap((b, i) => (b >= lowest - 2 ? [i] : []));
}

test('canvas-soundtrack: a canvas animation and its generated soundtrack, into mp4 (h264 + aac) and webm (vp9 + opus)', async (t) => {
  const dir = tmpDirFor(t, 'framecodec-example-');
  const { exited } = runExample(t, 'canvas-soundtrack.mjs', [dir]);
  const { code, stdout, stderr } = await exited;
  t.is(code, 0, stderr);
  const bounces = /lands \(a click in the soundtrack\) at frames ([\d, ]+)\./.exec(stdout)?.[1].split(', ').map(Number);
  t.true(bounces?.length >= 4, stdout);
  const [frames, rate, perFrame] = [120, 48000, 1600];
  const expected = {
    mp4: { video: 'h264', audio: 'aac', encoders: 'libx264 + aac', codecFrame: 1024 },
    webm: { video: 'vp9', audio: 'opus', encoders: 'libvpx-vp9 + libopus', codecFrame: 960 },
  };
  for (const [ext, { video, audio, encoders, codecFrame }] of Object.entries(expected)) {
    const file = path.join(dir, `canvas-soundtrack.${ext}`);
    t.true(stdout.includes(file), `the output names ${file}`);
    t.true(stdout.includes(encoders), `${ext}: ${encoders}`);
    const { streams } = probe(file);
    t.is(streams.length, 2);
    const [v, a] = ['video', 'audio'].map((type) => streams.find((s) => s.codec_type === type));
    t.is(v.codec_name, video);
    t.is(Number(v.nb_read_frames), frames);
    t.is(a.codec_name, audio);
    t.is(Number(a.sample_rate), rate);
    t.is(a.channels, 2);
    // Both tracks are 4 s: they end within one audio codec frame of each other.
    t.true(Math.abs(streamEnd(a) - streamEnd(v)) <= codecFrame / rate, `${ext}: video ends at ${streamEnd(v)} s, audio at ${streamEnd(a)} s`);
    const [mono] = decodeAudio(file, { channels: 1 });
    t.true(Math.abs(mono.length - frames * perFrame) <= codecFrame, `${ext}: ${mono.length} samples decoded`);
    t.true(rms(mono) > 0.03, `${ext}: not silent (rms ${rms(mono)})`);
    // Each click starts within one frame of the frame on which the ball lands.
    const heard = clickFrames(mono, perFrame);
    t.is(heard.length, bounces.length, `${ext}: clicks at frames ${heard}, landings at ${bounces}`);
    heard.forEach((f, k) => t.true(Math.abs(f - bounces[k]) <= 1, `${ext}: click ${k} at frame ${f}, landing at ${bounces[k]}`));
  }
  // And the picture shows the ball on the floor on exactly those frames.
  const rgb = decodeRgb(path.join(dir, 'canvas-soundtrack.mp4'), 640, 360);
  t.deepEqual(landingFrames(rgb, 640, 360), bounces);
});

test('live-stream --once: serves its page, then one live stream (fragmented mp4, chunked) and exits 0', async (t) => {
  const { waitFor, exited } = runExample(t, 'live-stream.mjs', ['--once', '--port', '0', '--seconds', '2']);
  const [, origin] = await waitFor(/Live stream page: (http:\/\/127\.0\.0\.1:\d+)\//);
  const pageRes = await get(`${origin}/`);
  t.is(pageRes.status, 200);
  t.regex(pageRes.body.toString(), /<video src="live.mp4"/);

  const video = await get(`${origin}/live.mp4`);
  t.is(video.status, 200);
  t.is(video.headers['content-type'], 'video/mp4');
  t.is(video.headers['transfer-encoding'], 'chunked');
  t.is(video.headers['content-length'], undefined);
  const { code, stdout, stderr } = await exited;
  t.is(code, 0, stderr);
  t.is(stderr, '');
  t.regex(stdout, /stream 0: complete, 60 frames/);

  const { video: v } = probe(video.body, { ext: 'mp4' });
  t.is(v.codec_name, 'h264');
  t.is(v.width, 320);
  t.is(v.height, 240);
  t.is(Number(v.nb_read_frames), 60);
  t.is(Number(v.start_time), 0);
  t.is(Number(v.duration), 2);
  t.true(video.body.toString('latin1').split('moof').length - 1 >= 2, 'one fragment per second');
});

test('live-stream --once: a client that goes away mid-stream ends it cleanly (writer aborted, exit 0)', async (t) => {
  const { waitFor, exited } = runExample(t, 'live-stream.mjs', ['--once', '--port', '0', '--seconds', '60']);
  const [, origin] = await waitFor(/Live stream page: (http:\/\/127\.0\.0\.1:\d+)\//);
  // Leave once the first fragment is in (about 1.5 s into a 60 s stream).
  const cut = await get(`${origin}/live.mp4`, { stopAfter: (size) => size > 16 * 1024 });
  t.true(cut.cut);
  const { code, stdout, stderr } = await exited;
  t.is(code, 0, stderr);
  t.is(stderr, '', 'no error, no unhandled rejection');
  t.regex(stdout, /stream 0: ended after \d+ frames \(the client closed the connection\)/);
  t.regex(stdout, /one stream served/);
});
