// The audio track fails properly: every bad audio option and every bad batch of samples has its code,
// Node's class for it, and a message naming the bad value and what is allowed. Argument errors throw
// from VideoEncoder's constructor (and only there) and reject VideoWriter's openers and writeAudio()
// (which never throw); codec, container and encoder-option errors reject every encode method and
// opener before anything is written. A rejected writeAudio() writes nothing of its call and leaves the
// writer usable; lifecycle errors are ERR_INVALID_STATE.
import test from 'ava';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { solidFramesNCHW } from './helpers/frames.mjs';
import { decodeAudio, interleave, maxAbsDiffF, tone } from './helpers/audio.mjs';
import { refusedEverywhere } from './helpers/audio-checks.mjs';
import { rejectsCode, throwsCode } from './helpers/assert.mjs';
import { tmpDirFor } from './helpers/media.mjs';
import { collector } from './helpers/streams.mjs';

const require = createRequire(import.meta.url);
const { VideoEncoder, VideoWriter } = require('../index.js');

const [N, H, W, RATE] = [4, 48, 64, 24];
const FRAME = 3 * H * W;
const FRAMES = { data: solidFramesNCHW(N, H, W, [40, 120, 200]), shape: [N, 3, H, W] };
const SR = 48000;
const TRACK = { sampleRate: SR, channels: 2 };
const GOOD = interleave([tone(440, 2000, SR), tone(660, 2000, SR)]);
const writerOptions = (audio) => ({ width: W, height: H, frameRate: RATE, ...(audio === undefined ? {} : { audio }) });
const without = (key) => Object.fromEntries(Object.entries(TRACK).filter(([k]) => k !== key));

/** The constructor with a track and samples; the writer opener with the same track. */
const construct = (audio) => new VideoEncoder(FRAMES, { frameRate: RATE, audio });

test('the base track of every case below is valid: the constructor and the openers take it', async (t) => {
  t.notThrows(() => construct({ ...TRACK, samples: GOOD }));
  t.notThrows(() => construct({ ...TRACK, samples: [GOOD.subarray(0, 2000), GOOD.subarray(2000)] }));
  const writer = await VideoWriter.toBuffer('mp4', writerOptions(TRACK));
  await writer.writeAudio(GOOD);
  await writer.write(FRAMES.data.subarray(0, FRAME));
  t.is((await writer.close()).audioCodec, 'aac');
});

// ------------------------------------------------------------------ track options (argument errors)

// [what, track, code, strings the message holds: the bad value and what is allowed]
const OPTION_ERRORS = [
  ['sampleRate missing', without('sampleRate'), 'ERR_INVALID_ARG_TYPE', ['audio.sampleRate', 'must be a number', 'undefined']],
  ['sampleRate a string', { ...TRACK, sampleRate: '48000' }, 'ERR_INVALID_ARG_TYPE', ['audio.sampleRate', 'must be a number', 'string']],
  ['sampleRate 0', { ...TRACK, sampleRate: 0 }, 'ERR_OUT_OF_RANGE', ['audio.sampleRate', 'integer from 1 to 768000', 'got 0']],
  ['sampleRate 1.5', { ...TRACK, sampleRate: 1.5 }, 'ERR_OUT_OF_RANGE', ['audio.sampleRate', 'integer from 1 to 768000', 'got 1.5']],
  ['sampleRate 768001', { ...TRACK, sampleRate: 768001 }, 'ERR_OUT_OF_RANGE', ['audio.sampleRate', 'integer from 1 to 768000', 'got 768001']],
  ['channels missing', without('channels'), 'ERR_INVALID_ARG_TYPE', ['audio.channels', 'must be a number', 'undefined']],
  ["channels '2'", { ...TRACK, channels: '2' }, 'ERR_INVALID_ARG_TYPE', ['audio.channels', 'must be a number', 'string']],
  ['channels 0', { ...TRACK, channels: 0 }, 'ERR_INVALID_ARG_VALUE', ['audio.channels', 'integer from 1 to 8', 'got 0']],
  ['channels 9', { ...TRACK, channels: 9 }, 'ERR_INVALID_ARG_VALUE', ['audio.channels', 'integer from 1 to 8', 'got 9']],
  ['channels 2.5', { ...TRACK, channels: 2.5 }, 'ERR_INVALID_ARG_VALUE', ['audio.channels', 'integer from 1 to 8', 'got 2.5']],
  ['codec a number', { ...TRACK, codec: 5 }, 'ERR_INVALID_ARG_TYPE', ['audio.codec', 'string', 'number']],
  ['bitRate 0', { ...TRACK, bitRate: 0 }, 'ERR_OUT_OF_RANGE', ['audio.bitRate', 'integer from 1 to 10000000', 'got 0']],
  ['bitRate -1', { ...TRACK, bitRate: -1 }, 'ERR_OUT_OF_RANGE', ['audio.bitRate', 'integer from 1 to 10000000', 'got -1']],
  ['bitRate 1.5', { ...TRACK, bitRate: 1.5 }, 'ERR_OUT_OF_RANGE', ['audio.bitRate', 'integer from 1 to 10000000', 'got 1.5']],
  ["bitRate 'x'", { ...TRACK, bitRate: 'x' }, 'ERR_INVALID_ARG_TYPE', ['audio.bitRate', 'must be a number', 'string']],
  ['extraOptions not an object', { ...TRACK, extraOptions: 'x' }, 'ERR_INVALID_ARG_TYPE', ['audio.extraOptions', 'object', 'string']],
  ['an extraOptions value of no option type', { ...TRACK, extraOptions: { b: [1] } }, 'ERR_INVALID_OPTION', ['audio.extraOptions.b', 'string, number or boolean', 'Array']],
  ['an unknown key in audio', { ...TRACK, bogus: 1 }, 'ERR_INVALID_OPTION', ["'bogus'", 'sampleRate, channels, codec, bitRate, extraOptions']],
  ['audio a string', 'x', 'ERR_INVALID_ARG_TYPE', ['options.audio', 'must be an object', 'string']],
  ['audio a number', 5, 'ERR_INVALID_ARG_TYPE', ['options.audio', 'must be an object', 'number']],
  ['audio an array', [], 'ERR_INVALID_ARG_TYPE', ['options.audio', 'must be an object', 'Array']],
];

for (const [what, track, code, includes] of OPTION_ERRORS) {
  test(`audio option: ${what} → ${code}, thrown by the constructor, rejecting the openers (no file)`, async (t) => {
    const audio = track !== null && typeof track === 'object' && !Array.isArray(track) ? { ...track, samples: GOOD } : track;
    throwsCode(t, () => construct(audio), code, { includes });
    const dir = tmpDirFor(t);
    for (const open of [() => VideoWriter.toFile(path.join(dir, 'x.mp4'), writerOptions(track)), () => VideoWriter.toBuffer('mkv', writerOptions(track))]) {
      let opening;
      t.notThrows(() => (opening = open()), 'an opener never throws');
      await rejectsCode(t, opening, code, { includes });
    }
    t.deepEqual(fs.readdirSync(dir), []);
  });
}

test('audio.samples: required by the constructor, refused by the writer openers (samples go to writeAudio())', async (t) => {
  throwsCode(t, () => construct({ ...TRACK }), 'ERR_INVALID_ARG_TYPE', { includes: ['audio.samples', 'Float32Array', 'undefined'] });
  const dir = tmpDirFor(t);
  const sink = collector();
  let received = 0;
  sink.on('data', (c) => (received += c.length));
  const audio = { ...TRACK, samples: GOOD };
  const includes = ['audio.samples', 'writeAudio()'];
  await rejectsCode(t, VideoWriter.toFile(path.join(dir, 'x.mp4'), writerOptions(audio)), 'ERR_INVALID_OPTION', { includes });
  await rejectsCode(t, VideoWriter.toBuffer('mp4', writerOptions(audio)), 'ERR_INVALID_OPTION', { includes });
  await rejectsCode(t, VideoWriter.toStream(sink, 'ts', writerOptions(audio)), 'ERR_INVALID_OPTION', { includes });
  t.deepEqual(fs.readdirSync(dir), []);
  t.is(received, 0);
});

// ------------------------------------------------------------------ codec, container, encoder options

// Not argument errors: the constructor takes them; every encode method and opener rejects, writing nothing.
// [what, container, track (+ samples), code, strings of the message]
const ENCODE_ERRORS = [
  ["an unknown codec 'nope'", 'mp4', { codec: 'nope' }, 'ERR_UNKNOWN_CODEC', ["'nope'", 'aac, libopus, libmp3lame']],
  ["a video encoder 'libx264'", 'mp4', { codec: 'libx264' }, 'ERR_UNKNOWN_CODEC', ["'libx264'", 'not an audio encoder']],
  ["a video codec name 'h264'", 'mp4', { codec: 'h264' }, 'ERR_UNKNOWN_CODEC', ["'h264'", 'not an audio codec']],
  ['aac in webm', 'webm', { codec: 'aac' }, 'ERR_ENCODE', ['webm', 'aac']],
  ['the default audio codec in gif', 'gif', {}, 'ERR_ENCODE', ['gif', 'cannot hold an audio track']],
  ['libopus in gif', 'gif', { codec: 'libopus' }, 'ERR_ENCODE', ['gif']],
  ['3 channels with libmp3lame', 'mp4', { codec: 'libmp3lame', channels: 3 }, 'ERR_INVALID_ARG_VALUE', ['audio.channels is 3', 'libmp3lame', '1, 2']],
  ["3 channels with avi's default libmp3lame", 'avi', { channels: 3 }, 'ERR_INVALID_ARG_VALUE', ['audio.channels is 3', 'libmp3lame', '1, 2']],
  ['an unknown extraOptions key', 'mp4', { extraOptions: { nope: 1 } }, 'ERR_INVALID_OPTION', ["'nope'", 'audio encoder aac']],
  ['an extraOptions value of the wrong type', 'mp4', { extraOptions: { b: 'abc' } }, 'ERR_INVALID_OPTION', ["'b'", 'takes a number', "'abc'"]],
  ['an extraOptions value out of its choices', 'mp4', { extraOptions: { aac_coder: 'zzz' } }, 'ERR_INVALID_OPTION', ["'zzz'", 'aac_coder', 'anmr, twoloop, fast']],
];

for (const [what, ext, extra, code, includes] of ENCODE_ERRORS) {
  test(`${what} → ${code}: the constructor takes it, every encode method and opener rejects before writing anything`, async (t) => {
    const channels = extra.channels ?? 2;
    const samples = new Float32Array(channels * 2000).fill(0.25);
    await refusedEverywhere(t, { ext, frames: FRAMES, audio: { ...TRACK, ...extra, samples }, code, includes });
  });
}

// ------------------------------------------------------------------ samples

/** A Float32Array of n values, all 0.5 (audible if any of it leaked into a track). */
const halves = (n) => new Float32Array(n).fill(0.5);
function detached(n) {
  const buf = new Float32Array(n);
  structuredClone(buf, { transfer: [buf.buffer] });
  return buf;
}

// [what, samples, code, strings of the message as a function of the argument's name (p)]
const SAMPLE_ERRORS = [
  ['a Uint8Array', () => new Uint8Array(4), 'ERR_INVALID_ARG_TYPE', (p) => [p, 'Float32Array', 'got Uint8Array']],
  ['a Float64Array', () => new Float64Array(4), 'ERR_INVALID_ARG_TYPE', (p) => [p, 'Float32Array', 'got Float64Array']],
  ['a plain array of numbers, one per channel', () => [0.5, 0.5], 'ERR_INVALID_ARG_TYPE', (p) => [p, 'array of Float32Array', 'number']],
  // BUG (framecodec): an array of 4 numbers for 2 channels is reported as a wrong channel count
  // (ERR_INVALID_ARG_VALUE "has 4 channel arrays") instead of the wrong type it is: the count is
  // checked before the elements' type.
  ['a plain array of numbers, interleaved', () => [0.5, 0.5, 0.5, 0.5], 'ERR_INVALID_ARG_TYPE', (p) => [p, 'array of Float32Array', 'number']],
  ['an array holding a Uint8Array', () => [halves(4), new Uint8Array(4)], 'ERR_INVALID_ARG_TYPE', (p) => [p, 'Uint8Array at index 1']],
  ['nothing', () => undefined, 'ERR_INVALID_ARG_TYPE', (p) => [p, 'Float32Array', 'undefined']],
  ['a length not a multiple of the channels', () => halves(5), 'ERR_INVALID_ARG_VALUE', (p) => [p, '5 values', 'multiple of the 2 channels']],
  ['3 planes for 2 channels', () => [halves(4), halves(4), halves(4)], 'ERR_INVALID_ARG_VALUE', (p) => [p, '3 channel arrays', '2 channels']],
  ['1 plane for 2 channels', () => [halves(4)], 'ERR_INVALID_ARG_VALUE', (p) => [p, '1 channel array,', '2 channels']],
  ['planes of unequal lengths', () => [halves(4), halves(5)], 'ERR_INVALID_ARG_VALUE', (p) => [`${p}[1] has 5 samples`, `${p}[0] has 4`, 'same number']],
  ['NaN in planes: the first in time order is named', () => {
    const planes = [halves(1000), halves(1000)];
    planes[1][617] = NaN;
    planes[0][800] = NaN; // a lower channel, but later
    return planes;
  }, 'ERR_INVALID_ARG_VALUE', (p) => [`${p}[1][617] (channel 1, sample 617) is NaN`, 'finite']],
  ['NaN interleaved: the first in time order is named', () => {
    const samples = halves(2000);
    samples[1235] = NaN;
    samples[1400] = Infinity;
    return samples;
  }, 'ERR_INVALID_ARG_VALUE', (p) => [`${p}[1235] (channel 1, sample 617) is NaN`, 'finite']],
  // ±Infinity named as JavaScript writes it, as design §4 has it (b446bbd printed Rust's "inf" / "-inf").
  ['Infinity interleaved', () => {
    const samples = halves(2000);
    samples[1234] = Infinity;
    return samples;
  }, 'ERR_INVALID_ARG_VALUE', (p) => [`${p}[1234] (channel 0, sample 617) is Infinity`, 'finite']],
  ['-Infinity in planes', () => {
    const planes = [halves(10), halves(10)];
    planes[0][3] = -Infinity;
    return planes;
  }, 'ERR_INVALID_ARG_VALUE', (p) => [`${p}[0][3] (channel 0, sample 3) is -Infinity`, 'finite']],
  ['a detached Float32Array', () => detached(2000), 'ERR_INVALID_ARG_VALUE', (p) => [`${p}'s ArrayBuffer is detached`]],
  ['a detached plane', () => [halves(1000), detached(1000)], 'ERR_INVALID_ARG_VALUE', (p) => [`${p}[1]'s ArrayBuffer is detached`]],
];

for (const [what, make, code, includes] of SAMPLE_ERRORS) {
  test(`samples: ${what} → ${code}, thrown by the constructor, rejected by writeAudio() (never thrown)`, async (t) => {
    throwsCode(t, () => construct({ ...TRACK, samples: make() }), code, { includes: includes('audio.samples') });
    const writer = await VideoWriter.toBuffer('mp4', writerOptions(TRACK));
    t.teardown(() => writer.abort());
    let writing;
    t.notThrows(() => (writing = writer.writeAudio(make())));
    await rejectsCode(t, writing, code, { includes: includes('samples') });
  });
}

test('a rejected writeAudio() writes nothing of its call and leaves the writer usable: the track holds the good samples only', async (t) => {
  // flac in mkv: lossless (16-bit) and no priming, so the decode is the good samples, to the sample.
  const dir = tmpDirFor(t);
  const dest = path.join(dir, 'good.mkv');
  const writer = await VideoWriter.toFile(dest, writerOptions({ ...TRACK, codec: 'flac' }));
  const first = [tone(440, 3000, SR, { amp: 0.3 }), tone(550, 3000, SR, { amp: 0.2 })];
  const second = [tone(330, 2500, SR, { amp: 0.3 }), tone(770, 2500, SR, { amp: 0.2 })];
  await writer.writeAudio(first);
  await writer.write(FRAMES.data.subarray(0, 2 * FRAME));
  // (each case's code and message are checked above; here: that each is refused, and writes nothing)
  for (const [what, make] of SAMPLE_ERRORS) await t.throwsAsync(writer.writeAudio(make()), undefined, what);
  await writer.writeAudio(interleave(second));
  await writer.write(FRAMES.data.subarray(2 * FRAME));
  const result = await writer.close();
  t.is(result.frames, N);
  t.is(result.audioCodec, 'flac');
  const planes = decodeAudio(dest);
  for (let c = 0; c < 2; c++) {
    const expected = new Float32Array([...first[c], ...second[c]]);
    t.is(planes[c].length, expected.length, `channel ${c}: the good samples only, no more`);
    t.true(maxAbsDiffF(planes[c], expected) <= 1 / 32768, `channel ${c}: the good samples, in order`);
  }
});

// ------------------------------------------------------------------ the writer's lifecycle

test('writeAudio() on a writer opened without audio → ERR_INVALID_STATE naming the missing track; the writer goes on', async (t) => {
  const writer = await VideoWriter.toBuffer('mp4', writerOptions());
  await rejectsCode(t, writer.writeAudio(GOOD), 'ERR_INVALID_STATE', { includes: ['no audio track', 'audio option'] });
  await writer.write(FRAMES.data);
  const result = await writer.close();
  t.is(result.frames, N);
  t.false('audioCodec' in result);
});

test('writeAudio() after close() and after abort() → ERR_INVALID_STATE', async (t) => {
  const closed = await VideoWriter.toBuffer('mp4', writerOptions(TRACK));
  await closed.write(FRAMES.data);
  await closed.writeAudio(GOOD);
  await closed.close();
  await rejectsCode(t, closed.writeAudio(GOOD), 'ERR_INVALID_STATE', { includes: ['writeAudio() after close()'] });
  const aborted = await VideoWriter.toBuffer('mp4', writerOptions(TRACK));
  await aborted.writeAudio(GOOD);
  await aborted.abort();
  await rejectsCode(t, aborted.writeAudio(GOOD), 'ERR_INVALID_STATE', { includes: ['writeAudio() after abort()'] });
});

test('a writer given audio but no frame: close() → ERR_INVALID_STATE, and no file', async (t) => {
  const dir = tmpDirFor(t);
  const writer = await VideoWriter.toFile(path.join(dir, 'audio-only.mp4'), writerOptions(TRACK));
  await writer.writeAudio(GOOD);
  await rejectsCode(t, writer.close(), 'ERR_INVALID_STATE', { includes: ['no frames were written'] });
  t.deepEqual(fs.readdirSync(dir), []);
});
