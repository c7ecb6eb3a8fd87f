// The audio track is RIGHT (issue 12): what framecodec encodes decodes (ffmpeg CLI) to the samples
// given — each channel in its place, lossy codecs correlating ≥ 0.98 with the source, lossless ones
// bit-exact — with the right timing: the stream durations match the sample count (priming signalled
// where the container can, otherwise shifted by no more than the encoder delay), audio clicks land
// within one video frame of the matching flashes, resampled audio keeps its length, audio longer or
// shorter than the video is kept, and a VideoWriter fed the same frames and samples in any chunks
// and orders writes the bytes of the one-shot VideoEncoder.
import test from 'ava';
import { createRequire } from 'node:module';
import crypto from 'node:crypto';
import { makeFramesNCHW, prng } from './helpers/frames.mjs';
import { probe, probeFrames } from './helpers/media.mjs';
import {
  align,
  alignedCorrelation,
  clicks,
  decodeAudio,
  firstFrameTime,
  frameLumas,
  frameSlice,
  interleave,
  maxAbsDiffF,
  onsets,
  overlap,
  probeAudio,
  stereoTestPlanes,
} from './helpers/audio.mjs';

const require = createRequire(import.meta.url);
const { VideoEncoder, VideoWriter } = require('../index.js');

const H = 48;
const W = 64;
const FPS = 30;
const FRAME = 3 * H * W;
const RATE = 48000;
const MAX_LAG = 2500; // > the largest encoder delay (mp3: 1105) + one codec frame
const md5 = (bytes) => crypto.createHash('md5').update(bytes).digest('hex');
const fmt = (v, d = 4) => v.toFixed(d);

/** Per default container: its audio codec, that codec's frame size, and the leading samples a decoder
 * outputs before the source's first sample (0 where the container signals the priming: mp4's edit
 * list, webm's Opus CodecDelay; the encoder delay where the packets are only shifted to 0). */
const TRACK = {
  mp4: { codec: 'aac', frame: 1024, priming: 0 },
  webm: { codec: 'libopus', frame: 960, priming: 0 },
  mkv: { codec: 'aac', frame: 1024, priming: 1024 },
  ts: { codec: 'aac', frame: 1024, priming: 1024 },
  avi: { codec: 'libmp3lame', frame: 1152, priming: 1105 },
};

const VIDEO = makeFramesNCHW(3 * FPS, H, W, { seed: 1201 });
/** The first n frames of the shared test video, as VideoEncoder frames. */
const video = (n) => ({ data: VIDEO.subarray(0, n * FRAME), shape: [n, 3, H, W] });
const seconds = (s) => Math.round(s * RATE);

/** One-shot encode of `frames` with an audio track of `samples` into `format`. */
function encode(format, frames, samples, { sampleRate = RATE, channels = 2, videoOptions = {}, ...audio } = {}) {
  return new VideoEncoder(frames, { frameRate: FPS, audio: { sampleRate, channels, samples, ...audio } }).toBuffer(format, videoOptions);
}

// ------------------------------------------------------------------ quality per lossy codec

for (const ext of ['mp4', 'webm', 'avi']) {
  const { codec, priming } = TRACK[ext];
  test(`${codec} in ${ext} (default bit rate): each channel correlates ≥ 0.98 with its source, not swapped, delayed by the unsignalled priming only`, async (t) => {
    const planes = stereoTestPlanes(seconds(1.5), RATE); // a chirp on L, a tone mix on R
    const buffer = await encode(ext, video(45), interleave(planes));
    t.is(probeAudio(buffer, { ext }).channels, 2);
    const got = decodeAudio(buffer, { ext, rate: RATE, channels: 2 });
    const [l, r] = planes.map((ref, c) => alignedCorrelation(ref, got[c], MAX_LAG));
    t.log(`${codec}/${ext}: L corr ${fmt(l.corr)} lag ${l.lag}, R corr ${fmt(r.corr)} lag ${r.lag}`);
    t.true(l.corr >= 0.98, `L correlation ${l.corr}`);
    t.true(r.corr >= 0.98, `R correlation ${r.corr}`);
    t.true(Math.abs(l.lag - r.lag) <= 2, `both channels equally delayed (${l.lag} vs ${r.lag})`);
    // mp4 (edit list) and webm (CodecDelay) signal the priming: the decode starts with the source
    t.true(Math.abs(l.lag - priming) <= 64, `lag ${l.lag}, expected ${priming} ± 64`);
    // swapped channels: each decoded channel compared with the OTHER source channel
    const swapped = [alignedCorrelation(planes[0], got[1], MAX_LAG), alignedCorrelation(planes[1], got[0], MAX_LAG)];
    t.log(`${codec}/${ext}: cross-channel corr ${swapped.map((s) => fmt(s.corr)).join(', ')}`);
    for (const s of swapped) t.true(Math.abs(s.corr) < 0.2, `a channel matches the other channel's source (${s.corr})`);
  });
}

// ------------------------------------------------------------------ lossless codecs

test('flac and pcm_s16le in mkv decode to identical samples (the input rounded to 16 bits); pcm_f32le in mkv and avi to the input floats', async (t) => {
  const planes = stereoTestPlanes(seconds(1), RATE);
  planes[0][100] = 1; // full scale both ways: the 16-bit clipping is the same in both codecs
  planes[1][200] = -1;
  const samples = interleave(planes);
  const decoded = {};
  for (const [codec, ext] of [['flac', 'mkv'], ['pcm_s16le', 'mkv'], ['pcm_f32le', 'mkv'], ['pcm_f32le', 'avi']]) {
    const buffer = await encode(ext, video(30), samples, { codec });
    decoded[`${codec}/${ext}`] = interleave(decodeAudio(buffer, { ext, rate: RATE, channels: 2 }));
  }
  const flac = decoded['flac/mkv'];
  t.is(flac.length, samples.length, 'flac: every sample, no priming, no padding');
  t.is(md5(flac), md5(decoded['pcm_s16le/mkv']), 'flac = pcm_s16le');
  const err16 = maxAbsDiffF(flac, samples);
  t.log(`flac/pcm_s16le: max |decoded - input| = ${err16.toExponential(3)} (1/32768 = ${(1 / 32768).toExponential(3)})`);
  t.true(err16 <= 1 / 32768, 'within one 16-bit step of the input');
  t.true(err16 > 0, 'really quantized to 16 bits (the float path would be exact)');
  for (const key of ['pcm_f32le/mkv', 'pcm_f32le/avi']) {
    t.is(decoded[key].length, samples.length, `${key}: sample count`);
    t.is(md5(decoded[key]), md5(samples), `${key}: the input floats, bit for bit`);
  }
});

// ------------------------------------------------------------------ durations

test('the audio stream lasts samples / sampleRate within one codec frame (after the unsignalled priming) in mp4, webm, mkv, ts and avi', async (t) => {
  const n = 62345; // 1.2989 s: not a multiple of any codec frame
  const samples = interleave(stereoTestPlanes(n, RATE));
  for (const [ext, { codec, frame, priming }] of Object.entries(TRACK)) {
    const buffer = await encode(ext, video(39), samples);
    const stream = probeAudio(buffer, { ext });
    // mkv/webm carry no stream duration: count the decoded samples instead
    const measured = stream.duration !== undefined
      ? { how: 'stream duration', samples: Math.round(Number(stream.duration) * RATE) }
      : { how: 'decoded samples', samples: decodeAudio(buffer, { ext, rate: RATE, channels: 2 })[0].length };
    const extra = measured.samples - (n + priming);
    t.log(`${codec}/${ext}: ${measured.how} ${measured.samples} (${fmt(measured.samples / RATE)} s) for ${n} given `
      + `(${fmt(n / RATE)} s): priming ${priming}, then ${extra} more`);
    t.true(extra >= -1 && extra < frame, `${ext}: ${measured.samples} samples, expected ${n} + ${priming} + [0, ${frame})`);
  }
});

test('aac in mp4: start_time 0, duration exactly samples / rate (edit list in a movie timescale of the audio rate; a caller\'s movie_timescale kept), and the decode starts with the source (lag ≤ 64)', async (t) => {
  const n = 62345;
  const planes = stereoTestPlanes(n, RATE);
  for (const movieTimescale of [undefined, 1000]) {
    const videoOptions = movieTimescale ? { extraOptions: { movie_timescale: movieTimescale } } : {};
    const buffer = await encode('mp4', video(39), interleave(planes), { videoOptions });
    const stream = probeAudio(buffer, { ext: 'mp4' });
    const got = decodeAudio(buffer, { ext: 'mp4', rate: RATE, channels: 2 });
    const { lag } = align(planes[0], got[0], MAX_LAG);
    t.log(`aac/mp4 movie_timescale ${movieTimescale ?? `${RATE} (framecodec's default with audio)`}: start_time ${stream.start_time}, `
      + `duration_ts ${stream.duration_ts} for ${n}, decoded ${got[0].length} samples, lag ${lag}`);
    t.is(stream.codec_name, 'aac');
    t.is(Number(stream.start_time), 0);
    t.is(stream.time_base, `1/${RATE}`);
    // the edit list's duration is in the movie timescale: framecodec makes it the audio rate (exact); a caller's
    // 1000 (FFmpeg's default, what the ffmpeg CLI writes) rounds it to 1 ms
    const tick = movieTimescale ? RATE / 1000 / 2 : 0;
    t.true(Math.abs(Number(stream.duration_ts) - n) <= tick, `duration_ts ${stream.duration_ts} for ${n} samples (± ${tick})`);
    t.true(Math.abs(lag) <= 64, `lag ${lag}`);
    t.true(got[0].length >= n && got[0].length < n + 1024, `decoded ${got[0].length}: the samples given plus < 1 frame of end padding`);
  }
});

// ------------------------------------------------------------------ A/V sync

/** 3 s of black video with white flashes at frames 0, 30, 60 and mono clicks at 0, 1, 2 s. */
function flashesAndClicks() {
  const n = 3 * FPS;
  const data = new Uint8Array(n * FRAME);
  for (const i of [0, FPS, 2 * FPS]) data.fill(255, i * FRAME, (i + 1) * FRAME);
  return { frames: { data, shape: [n, 3, H, W] }, samples: clicks([0, 1, 2], seconds(3), RATE) };
}

for (const ext of ['mp4', 'webm', 'ts']) {
  test(`${ext} (${TRACK[ext].codec}): each click starts within one video frame of its flash`, async (t) => {
    const { frames, samples } = flashesAndClicks();
    const buffer = await encode(ext, frames, samples, { channels: 1 });
    const lumas = frameLumas(buffer, W, H, { ext });
    const pts = probeFrames(buffer, { ext }).map((f) => Number(f.pts_time));
    t.is(lumas.length, 3 * FPS);
    t.is(pts.length, lumas.length);
    const flashes = lumas.flatMap((y, i) => (y > 128 ? [i] : []));
    t.deepEqual(flashes, [0, FPS, 2 * FPS], 'the flash frames');
    const [audio] = decodeAudio(buffer, { ext, rate: RATE, channels: 1 });
    const start = firstFrameTime(buffer, 'a:0', { ext });
    const clickTimes = onsets(audio, 0.1, seconds(0.3)).map((k) => start + k / RATE);
    t.is(clickTimes.length, 3, `click onsets at ${clickTimes}`);
    const offsets = clickTimes.map((c, k) => c - pts[flashes[k]]);
    const ms = (o) => `${(o * 1000).toFixed(1)} ms`;
    t.log(`${ext}: audio starts at ${fmt(start)} s, video at ${fmt(pts[0])} s; click − flash = ${offsets.map(ms).join(', ')}`);
    for (const o of offsets) t.true(Math.abs(o) <= 1 / FPS, `click ${ms(o)} from its flash`);
  });
}

// ------------------------------------------------------------------ layouts, rates

test('planar samples give the bytes of the same samples interleaved (mp4, bit-exact webm)', async (t) => {
  const planes = stereoTestPlanes(seconds(1), RATE);
  for (const [ext, videoOptions] of [['mp4', {}], ['webm', { extraOptions: { fflags: '+bitexact' } }]]) {
    const interleaved = await encode(ext, video(30), interleave(planes), { videoOptions });
    const planar = await encode(ext, video(30), planes, { videoOptions });
    t.is(md5(planar), md5(interleaved), ext);
  }
});

test('44.1 kHz into libopus (webm): a 48 kHz stream that decodes (at 44.1 kHz) to the source, same length within one frame', async (t) => {
  const rate = 44100;
  const n = Math.round(1.5 * rate);
  const planes = stereoTestPlanes(n, rate);
  const buffer = await encode('webm', video(45), interleave(planes), { sampleRate: rate });
  const stream = probeAudio(buffer, { ext: 'webm' });
  t.is(stream.codec_name, 'opus');
  t.is(Number(stream.sample_rate), 48000);
  const got = decodeAudio(buffer, { ext: 'webm', rate, channels: 2 });
  const [l, r] = planes.map((ref, c) => alignedCorrelation(ref, got[c], MAX_LAG));
  t.log(`opus 44.1k→48k: L corr ${fmt(l.corr)} lag ${l.lag}, R corr ${fmt(r.corr)} lag ${r.lag}; `
    + `decoded ${got[0].length} samples for ${n}`);
  t.true(l.corr >= 0.98, `L ${l.corr}`);
  t.true(r.corr >= 0.98, `R ${r.corr}`);
  t.true(Math.abs(l.lag) <= 64, `lag ${l.lag}`);
  const frame = Math.ceil((960 * rate) / 48000);
  t.true(Math.abs(got[0].length - n) <= frame, `decoded ${got[0].length} samples for ${n} (± ${frame})`);
});

// ------------------------------------------------------------------ VideoWriter = one-shot

const WRITER_FRAMES = FPS;
const WRITER_SAMPLES = interleave(stereoTestPlanes(seconds(1) + 1234, RATE)); // a little longer than the video

/**
 * Feed a writer the frames one per write() and the audio in the chunks `nextChunk()` sizes,
 * interleaved in time order: before frame i, the audio up to its time. Everything awaited.
 */
async function feedWriter(writer, nextChunk, { audioFirst = false } = {}) {
  const total = WRITER_SAMPLES.length / 2;
  let at = 0;
  const writeAudioUntil = async (end) => {
    while (at < end) {
      const k = Math.min(nextChunk(), end - at);
      await writer.writeAudio(frameSlice(WRITER_SAMPLES, 2, at, at + k));
      at += k;
    }
  };
  if (audioFirst) await writeAudioUntil(total);
  for (let i = 0; i < WRITER_FRAMES; i++) {
    await writeAudioUntil(Math.min(total, Math.floor((i * RATE) / FPS)));
    await writer.write(VIDEO.subarray(i * FRAME, (i + 1) * FRAME));
  }
  await writeAudioUntil(total);
  return writer.close();
}

for (const [ext, videoOptions] of [['mp4', {}], ['webm', { extraOptions: { fflags: '+bitexact' } }]]) {
  test(`${ext}: a VideoWriter given the frames and samples in random chunks, in 1-sample chunks, or all audio first, writes the one-shot bytes`, async (t) => {
    const expected = md5(await encode(ext, video(WRITER_FRAMES), WRITER_SAMPLES, { videoOptions }));
    const options = { width: W, height: H, frameRate: FPS, audio: { sampleRate: RATE, channels: 2 }, ...videoOptions };
    const rnd = prng(12);
    const cases = [
      ['random chunks of 1..5000 samples, in time order', () => 1 + Math.floor(rnd() * 5000), {}],
      ['chunks of one sample, in time order', () => 1, {}],
      ['all audio (random chunks) before the first frame', () => 1 + Math.floor(rnd() * 5000), { audioFirst: true }],
    ];
    for (const [name, nextChunk, how] of cases) {
      const result = await feedWriter(await VideoWriter.toBuffer(ext, options), nextChunk, how);
      t.is(result.audioCodec, TRACK[ext].codec, name);
      t.is(result.frames, WRITER_FRAMES, name);
      t.is(md5(result.buffer), expected, name);
    }
  });
}

// ------------------------------------------------------------------ audio longer / shorter than the video

test('audio longer (2 s) or shorter (0.5 s) than the video (1 s, 2 s) is kept whole, and the video too (mp4, mkv)', async (t) => {
  const cases = [
    { videoSeconds: 1, audioSeconds: 2 },
    { videoSeconds: 2, audioSeconds: 0.5 },
  ];
  for (const { videoSeconds, audioSeconds } of cases) {
    const n = seconds(audioSeconds);
    const planes = stereoTestPlanes(n, RATE);
    for (const ext of ['mp4', 'mkv']) {
      const { priming, frame } = TRACK[ext];
      const buffer = await encode(ext, video(videoSeconds * FPS), interleave(planes));
      const info = probe(buffer, { ext });
      t.is(Number(info.video.nb_read_frames), videoSeconds * FPS, `${ext}: every video frame`);
      const got = decodeAudio(buffer, { ext, rate: RATE, channels: 2 });
      const extra = got[0].length - (n + priming);
      const { lag, corr } = alignedCorrelation(planes[0], got[0], MAX_LAG);
      const [, tail] = overlap(planes[0], got[0], lag);
      t.log(`${ext}: video ${videoSeconds} s (format duration ${info.format.duration}), audio ${audioSeconds} s → `
        + `decoded ${got[0].length} samples, corr ${fmt(corr)}`);
      t.true(extra >= 0 && extra < frame, `${ext}: decoded ${got[0].length} samples for ${n} + priming ${priming}`);
      t.is(tail.length, n, `${ext}: the whole source is in the decode`);
      t.true(corr >= 0.95, `${ext}: the source's content, correlation ${corr}`); // (quality: the tests above)
      if (ext === 'mp4') t.is(Number(probeAudio(buffer, { ext }).duration), audioSeconds, 'mp4: audio stream duration');
    }
  }
});
