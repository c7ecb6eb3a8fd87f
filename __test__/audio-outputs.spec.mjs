// The audio track works everywhere: in every container that holds audio (each with its default codec),
// through both APIs (VideoEncoder with audio.samples, VideoWriter with writeAudio() in chunks) and all
// three outputs (toFile, toBuffer, toStream), the result names the audio encoder and ffprobe sees one
// video and one audio stream of the right codec, rate and channels, decoding to about the samples given,
// each channel at its own level. Chosen codecs go where FFmpeg's muxers take them and are refused
// (ERR_ENCODE, before anything is written) where they do not; mono and 5.1; live streams into a slow
// consumer carry both tracks while they are written; audio written before the first frame is kept;
// without audio the result has no audioCodec.
import test from 'ava';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { makeFramesNCHW } from './helpers/frames.mjs';
import { decodeAudio, interleave, maxAbsDiffF } from './helpers/audio.mjs';
import { checkTrack, levelledPlanes, refusedEverywhere } from './helpers/audio-checks.mjs';
import { probe, tmpDirFor } from './helpers/media.mjs';
import { collector } from './helpers/streams.mjs';

const require = createRequire(import.meta.url);
const { VideoEncoder, VideoWriter } = require('../index.js');

const [H, W, RATE] = [48, 64, 24];
const FRAME = 3 * H * W;
const SR = 48000;
const N = RATE; // one second
const DATA = makeFramesNCHW(N, H, W, { seed: 1201 });
const FRAMES = { data: DATA, shape: [N, 3, H, W] };
const STEREO = levelledPlanes(2, SR, SR);
const frameOf = (data, i) => data.subarray(i * FRAME, (i + 1) * FRAME);

/** Each container that holds audio: its muxer, its default audio encoder, and the codecs ffprobe names. */
const CONTAINERS = {
  mp4: { format: 'mp4', encoder: 'aac', audio: 'aac', video: 'h264' },
  mov: { format: 'mov', encoder: 'aac', audio: 'aac', video: 'h264' },
  mkv: { format: 'matroska', encoder: 'aac', audio: 'aac', video: 'h264' },
  webm: { format: 'webm', encoder: 'libopus', audio: 'opus', video: 'vp9' },
  avi: { format: 'avi', encoder: 'libmp3lame', audio: 'mp3', video: 'mpeg4' },
  ts: { format: 'mpegts', encoder: 'aac', audio: 'aac', video: 'mpeg2video' },
  flv: { format: 'flv', encoder: 'libmp3lame', audio: 'mp3', video: 'flv1' },
  nut: { format: 'nut', encoder: 'libmp3lame', audio: 'mp3', video: 'mpeg4' },
};

/**
 * Audio chunks of uneven sizes (none a frame's worth) written between the frames, planar views of
 * `planes`: call order frame 0, chunk 0, frame 1, chunk 1, …, then whatever audio is left.
 */
async function writeInterleaved(writer, { data = DATA, frames = N, planes = STEREO } = {}) {
  const sizes = [1000, 3001, 1999, 2500];
  const total = planes[0].length;
  let at = 0;
  for (let i = 0; i < frames || at < total; i++) {
    if (i < frames) await writer.write(frameOf(data, i));
    if (at < total) {
      const end = Math.min(total, at + sizes[i % sizes.length]);
      await writer.writeAudio(planes.map((p) => p.subarray(at, end)));
      at = end;
    }
  }
}

/** Video options whose output is byte-identical run after run (matroska writes random IDs without bitexact). */
const exact = (ext) => (ext === 'mkv' || ext === 'webm' ? { extraOptions: { fflags: '+bitexact' } } : {});

/**
 * The six outputs of a second of video and audio: VideoEncoder (interleaved samples) and VideoWriter
 * (planar chunks between the frames), each into toFile, toBuffer and toStream (a PassThrough):
 * [[what, bytes, result]] (result: the EncodeResult; undefined for VideoEncoder.toBuffer, which
 * resolves with the bytes only).
 */
async function encodeAllOutputs(t, ext, { track, planes, video = {} }) {
  const dir = tmpDirFor(t);
  const encoder = new VideoEncoder(FRAMES, { frameRate: RATE, audio: { ...track, samples: interleave(planes) } });
  const oneShotFile = await encoder.toFile(path.join(dir, `one-shot.${ext}`), video);
  const oneShotBuffer = await encoder.toBuffer(ext, video);
  const oneShotSink = collector();
  const oneShotStream = await encoder.toStream(oneShotSink, ext, video);

  const options = { width: W, height: H, frameRate: RATE, audio: track, ...video };
  const run = async (writer) => {
    await writeInterleaved(writer, { planes });
    return writer.close();
  };
  const writerFile = await run(await VideoWriter.toFile(path.join(dir, `writer.${ext}`), options));
  const writerBuffer = await run(await VideoWriter.toBuffer(ext, options));
  const writerSink = collector();
  const writerStream = await run(await VideoWriter.toStream(writerSink, ext, options));
  return [
    ['VideoEncoder.toFile', fs.readFileSync(path.join(dir, `one-shot.${ext}`)), oneShotFile],
    ['VideoEncoder.toBuffer', oneShotBuffer, undefined],
    ['VideoEncoder.toStream', await oneShotSink.done, oneShotStream],
    ['VideoWriter.toFile', fs.readFileSync(path.join(dir, `writer.${ext}`)), writerFile],
    ['VideoWriter.toBuffer', writerBuffer.buffer, writerBuffer],
    ['VideoWriter.toStream', await writerSink.done, writerStream],
  ];
}

// ------------------------------------------------------------------ every container, both APIs, all outputs

for (const [ext, c] of Object.entries(CONTAINERS)) {
  test(`${ext}: VideoEncoder and VideoWriter, into toFile, toBuffer and toStream, hold an ${c.audio} track beside the video, decoding to the samples given`, async (t) => {
    const outputs = await encodeAllOutputs(t, ext, { track: { sampleRate: SR, channels: 2 }, planes: STEREO, video: exact(ext) });
    for (const [what, bytes, result] of outputs) {
      if (!result) continue;
      t.is(result.audioCodec, c.encoder, `${what}: result.audioCodec`);
      t.is(result.format, c.format, `${what}: result.format`);
      t.is(result.frames, N, `${what}: result.frames`);
      t.is(result.bytes, bytes.length, `${what}: result.bytes`);
    }
    // Every output holds the same bytes (the muxer interleaves by time, whatever the call order and
    // layout of the samples), but for FLV into a stream: not seekable, its header keeps duration and
    // filesize 0. Each distinct file is probed and decoded.
    const kind = (what) => (ext === 'flv' && what.endsWith('toStream') ? 'stream' : 'file');
    const reference = {};
    for (const [what, bytes] of outputs) {
      const ref = (reference[kind(what)] ??= { what, bytes });
      if (ref.what === what) {
        checkTrack(t, bytes, { ext, video: c.video, frames: N, audio: c.audio, rate: SR, channels: 2, source: STEREO }, what);
      } else {
        t.true(bytes.equals(ref.bytes), `${what}: the bytes of ${ref.what}`);
      }
    }
  });
}

// ------------------------------------------------------------------ chosen codecs

// [container, audio.codec, result.audioCodec, ffprobe's codec, rate given, rate encoded, extra decoded samples allowed]
const ACCEPTED = [
  ['mkv', 'flac', 'flac', 'flac', SR, SR, 0],
  ['mp4', 'flac', 'flac', 'flac', SR, SR, 0],
  ['mkv', 'libopus', 'libopus', 'opus', SR, SR, 2048],
  ['mp4', 'libopus', 'libopus', 'opus', SR, SR, 2048],
  ['webm', 'opus', 'libopus', 'opus', 44100, 48000, 2048], // a codec name; opus has no 44.1 kHz: resampled
  ['mkv', 'mp3', 'libmp3lame', 'mp3', SR, SR, 2048],
  ['mov', 'pcm_s16le', 'pcm_s16le', 'pcm_s16le', SR, SR, 0],
  ['avi', 'pcm_s16le', 'pcm_s16le', 'pcm_s16le', SR, SR, 0],
  ['mkv', 'pcm_s16le', 'pcm_s16le', 'pcm_s16le', SR, SR, 0],
  ['mkv', 'pcm_f32le', 'pcm_f32le', 'pcm_f32le', SR, SR, 0],
  ['avi', 'aac', 'aac', 'aac', SR, SR, 2048],
  ['flv', 'aac', 'aac', 'aac', SR, SR, 2048],
  ['ts', 'libopus', 'libopus', 'opus', SR, SR, 2048],
  ['ts', 'libmp3lame', 'libmp3lame', 'mp3', SR, SR, 2048],
  ['nut', 'flac', 'flac', 'flac', SR, SR, 0],
];

for (const [ext, codec, encoderName, name, rate, encodedRate, extra] of ACCEPTED) {
  test(`${codec} in ${ext}: ${encoderName} at ${encodedRate} Hz, decoding to the samples given`, async (t) => {
    const source = rate === SR ? STEREO : levelledPlanes(2, rate, rate);
    const dest = path.join(tmpDirFor(t), `out.${ext}`);
    const result = await new VideoEncoder(FRAMES, { frameRate: RATE, audio: { sampleRate: rate, channels: 2, codec, samples: source } }).toFile(dest);
    t.is(result.audioCodec, encoderName);
    checkTrack(t, dest, { ext, video: CONTAINERS[ext].video, frames: N, audio: name, rate: encodedRate, channels: 2, source, sourceRate: rate, extra });
  });
}

test('lossless codecs decode to the very samples given: pcm_f32le exactly, flac and pcm_s16le within 16-bit rounding', async (t) => {
  for (const [ext, codec, tolerance] of [['mkv', 'pcm_f32le', 0], ['mkv', 'flac', 1 / 32768], ['avi', 'pcm_s16le', 1 / 32768]]) {
    const buffer = await new VideoEncoder(FRAMES, { frameRate: RATE, audio: { sampleRate: SR, channels: 2, codec, samples: STEREO } }).toBuffer(ext);
    const planes = decodeAudio(buffer, { ext });
    for (let c = 0; c < 2; c++) {
      t.is(planes[c].length, SR, `${codec} in ${ext}: channel ${c} length`);
      t.true(maxAbsDiffF(planes[c], STEREO[c]) <= tolerance, `${codec} in ${ext}: channel ${c} within ${tolerance}`);
    }
  }
});

// What FFmpeg's muxers refuse (their codec query, or their header check for mov).
const REFUSED = [
  ['webm', 'aac'],
  ['webm', 'flac'],
  ['webm', 'pcm_s16le'],
  ['avi', 'libopus'],
  ['flv', 'libopus'],
  ['flv', 'flac'],
  ['mov', 'flac'],
  ['mov', 'libopus'],
  ['gif', 'aac'],
  ['gif', undefined],
  // mpegts's codec query answers "don't know" for every codec, and its muxer writes FLAC or PCM as a
  // private data stream (ffprobe: codec bin_data, no audio stream; nothing decodes it): the audio would
  // be silently lost. framecodec accepted them at b446bbd; they must be refused like any other.
  ['ts', 'flac'],
  ['ts', 'pcm_s16le'],
];

for (const [ext, codec] of REFUSED) {
  test(`${codec ?? 'the default audio codec'} in ${ext} is refused with ERR_ENCODE by every output before anything is written`, async (t) => {
    await refusedEverywhere(t, {
      ext,
      frames: FRAMES,
      audio: { sampleRate: SR, channels: 2, samples: STEREO, ...(codec ? { codec } : {}) },
      code: 'ERR_ENCODE',
      includes: [ext, codec ? codec.replace(/^lib/, '') : 'audio track'], // mov's own check says 'opus'
    });
  });
}

// ------------------------------------------------------------------ channel counts

// [container, codec, channels, ffprobe's channel_layout]
const LAYOUTS = [
  ['mp4', undefined, 1, 'mono'],
  ['avi', undefined, 1, 'mono'],
  ['webm', undefined, 1, 'mono'],
  ['mp4', 'aac', 6, '5.1'],
  ['mkv', 'aac', 6, '5.1'],
  ['ts', 'aac', 6, '5.1'],
  ['webm', 'libopus', 6, '5.1'],
  ['mkv', 'flac', 6, '5.1'],
  ['mov', 'pcm_s16le', 6, '5.1'],
  ['mp4', 'aac', 8, '7.1'],
];

for (const [ext, codec, channels, layout] of LAYOUTS) {
  test(`${channels} channel${channels > 1 ? 's' : ''} (${layout}) in ${ext}${codec ? ` with ${codec}` : ''}: every channel in its place, in both APIs`, async (t) => {
    const c = CONTAINERS[ext];
    const source = levelledPlanes(channels, SR, SR);
    const track = { sampleRate: SR, channels, ...(codec ? { codec } : {}) };
    const expected = { ext, video: c.video, frames: N, audio: codec === 'flac' || codec === 'pcm_s16le' ? codec : c.audio, rate: SR, channels, layout, source };
    const oneShot = await new VideoEncoder(FRAMES, { frameRate: RATE, audio: { ...track, samples: interleave(source) } }).toBuffer(ext, exact(ext));
    checkTrack(t, oneShot, expected, 'VideoEncoder');
    const writer = await VideoWriter.toBuffer(ext, { width: W, height: H, frameRate: RATE, audio: track, ...exact(ext) });
    await writeInterleaved(writer, { planes: source });
    const { buffer, audioCodec } = await writer.close();
    t.is(audioCodec, codec ?? c.encoder);
    t.true(buffer.equals(oneShot), 'VideoWriter: the bytes of VideoEncoder');
  });
}

// ------------------------------------------------------------------ live outputs

/**
 * A consumer slower than the encoder: each write is acknowledged a few ms later (highWaterMark 256,
 * so write() returns false and the writer waits for 'drain'). `received` counts the bytes that
 * reached it, `bytes()` returns them; `whenReceived(pred)` resolves once pred(received, chunks) holds.
 */
function slowSink() {
  const chunks = [];
  const waiting = [];
  const sink = new Writable({
    highWaterMark: 256,
    write(chunk, _e, callback) {
      chunks.push(Buffer.from(chunk));
      sink.received += chunk.length;
      for (const w of waiting.splice(0)) {
        if (w.pred(sink.received, chunks)) w.resolve();
        else waiting.push(w);
      }
      setTimeout(callback, 3);
    },
  });
  sink.received = 0;
  sink.bytes = () => Buffer.concat(chunks);
  sink.finished = new Promise((resolve, reject) => sink.on('finish', resolve).on('error', reject));
  /** Resolves with true once pred holds, or false after `ms` (a bound, not an expectation of speed). */
  sink.whenReceived = (pred, ms = 20_000) => new Promise((resolve) => {
    if (pred(sink.received, chunks)) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    waiting.push({ pred, resolve: () => (clearTimeout(timer), resolve(true)) });
  });
  return sink;
}

const LIVE = [
  ['ts', {}, (received) => received > 0],
  // fragments of a second (framecodec's default GOP); a moof box means media, not just the header, arrived
  ['mp4', { extraOptions: { movflags: 'frag_keyframe+empty_moov' } }, (_, chunks) => Buffer.concat(chunks).includes('moof')],
];

for (const [ext, video, arrived] of LIVE) {
  test(`live ${ext === 'ts' ? 'mpegts' : 'fragmented mp4'} with audio into a slow Writable: bytes arrive before close(), the stream decodes with both tracks whole`, async (t) => {
    const seconds = 3;
    const frames = seconds * RATE;
    const data = makeFramesNCHW(frames, H, W, { seed: 1202 });
    const planes = levelledPlanes(2, seconds * SR, SR);
    const sink = slowSink();
    const writer = await VideoWriter.toStream(sink, ext, { width: W, height: H, frameRate: RATE, audio: { sampleRate: SR, channels: 2 }, ...video });
    await writeInterleaved(writer, { data, frames, planes });
    const inTime = await sink.whenReceived(arrived);
    const beforeClose = sink.received;
    const result = await writer.close();
    await sink.finished;
    const bytes = sink.bytes();
    t.log(`${ext}: ${beforeClose} of ${bytes.length} bytes had reached the stream before close()`);
    t.true(inTime, `${ext}: media bytes reached the stream before close() was called`);
    t.true(beforeClose > 0 && beforeClose < bytes.length, `${ext}: ${beforeClose} of ${bytes.length} bytes before close()`);
    t.is(result.bytes, bytes.length);
    t.is(result.audioCodec, 'aac');
    checkTrack(t, bytes, { ext, video: CONTAINERS[ext].video, frames, audio: 'aac', rate: SR, channels: 2, source: planes }, 'live');
    const format = probe(bytes, { ext }).format;
    t.true(Math.abs(Number(format.duration) - seconds) < 0.1, `${ext}: lasts ${format.duration} s`);
  });
}

// ------------------------------------------------------------------ order, absence

test('audio written before the first frame is kept: the whole track decodes, at its length', async (t) => {
  for (const [ext, codec, extra] of [['mkv', 'flac', 0], ['mp4', 'aac', 2048]]) {
    const writer = await VideoWriter.toBuffer(ext, { width: W, height: H, frameRate: RATE, audio: { sampleRate: SR, channels: 2, codec } });
    await writer.writeAudio(interleave(STEREO)); // all of it, before any frame
    for (let i = 0; i < N; i++) await writer.write(frameOf(DATA, i));
    const { buffer } = await writer.close();
    checkTrack(t, buffer, { ext, video: 'h264', frames: N, audio: codec, rate: SR, channels: 2, source: STEREO, extra }, 'audio first');
  }
});

test('without an audio track the EncodeResult has no audioCodec key, from every API and output', async (t) => {
  const dir = tmpDirFor(t);
  const encoder = new VideoEncoder(FRAMES, { frameRate: RATE });
  const noTrack = new VideoEncoder(FRAMES, { frameRate: RATE, audio: undefined });
  const results = {
    'VideoEncoder.toFile': await encoder.toFile(path.join(dir, 'a.mp4')),
    'VideoEncoder.toStream': await encoder.toStream(collector(), 'mkv'),
    'VideoEncoder audio: undefined': await noTrack.toFile(path.join(dir, 'b.mp4')),
  };
  const writers = {
    'VideoWriter.toFile': await VideoWriter.toFile(path.join(dir, 'c.mp4'), { width: W, height: H, frameRate: RATE }),
    'VideoWriter.toBuffer': await VideoWriter.toBuffer('webm', { width: W, height: H, frameRate: RATE }),
    'VideoWriter.toStream': await VideoWriter.toStream(collector(), 'ts', { width: W, height: H, frameRate: RATE }),
  };
  for (const [what, writer] of Object.entries(writers)) {
    await writer.write(frameOf(DATA, 0));
    results[what] = await writer.close();
  }
  for (const [what, result] of Object.entries(results)) {
    t.false('audioCodec' in result, `${what}: ${JSON.stringify(result)}`);
    t.is(result.frames, what.startsWith('VideoWriter') ? 1 : N);
  }
  t.deepEqual(probe(path.join(dir, 'a.mp4')).streams.map((s) => s.codec_type), ['video'], 'and the file has no audio stream');
});

// Where the container cannot signal the encoder's priming (avi, flv, nut, ts), framecodec shifts the audio
// packets to start with the video: without that, FFmpeg shifts every stream past the priming and the video
// starts one encoder delay late (0.023 s with mp3; in ts the audio began 21 ms before the video). Both tracks
// start together, at the container's start (avi counts packets: ffprobe shows 0 either way).
for (const ext of ['avi', 'flv', 'nut', 'ts']) {
  test(`${ext}: the video starts where it would without audio, and the audio with it (the priming is shifted, not the video)`, async (t) => {
    const silent = await new VideoEncoder(FRAMES, { frameRate: RATE }).toBuffer(ext);
    const withAudio = await new VideoEncoder(FRAMES, { frameRate: RATE, audio: { sampleRate: SR, channels: 2, samples: STEREO } }).toBuffer(ext);
    const start = (buffer, type) => Number(probe(buffer, { ext }).streams.find((s) => s.codec_type === type).start_time);
    const [videoAlone, video, audio] = [start(silent, 'video'), start(withAudio, 'video'), start(withAudio, 'audio')];
    t.log(`${ext}: video starts at ${videoAlone} alone, ${video} with audio; audio at ${audio}`);
    t.is(video, videoAlone);
    t.true(Math.abs(audio - video) <= 0.001, `audio starts at ${audio}, video at ${video}`);
  });
}
