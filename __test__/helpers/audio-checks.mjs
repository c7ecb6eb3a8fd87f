// Checks shared by the audio-outputs and audio-errors tests: a test track whose channels can be told
// apart after a lossy codec (each its own level), what ffprobe and a decode must show of an encoded
// track, and "refused everywhere, before anything is written" for codec / container errors.
// (Signals, decoding and comparison in general live in ./audio.mjs.)
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { decodeAudio } from './audio.mjs';
import { rejectsCode } from './assert.mjs';
import { probe, tmpDirFor } from './media.mjs';
import { collector } from './streams.mjs';

const require = createRequire(import.meta.url);
const { VideoEncoder, VideoWriter } = require('../../index.js');

/** Amplitude of channel c in levelledPlanes: 0.15, 0.25, … 0.85 — one level per channel. */
export const levelOf = (c) => 0.15 + 0.1 * c;

/**
 * `channels` planes of n samples at `rate`: channel c a sine of 100 + 40c Hz (low enough for an AAC
 * LFE channel) at levelOf(c), so that a decode shows which channel went where.
 */
export function levelledPlanes(channels, n, rate) {
  return Array.from({ length: channels }, (_, c) => {
    const p = new Float32Array(n);
    for (let i = 0; i < n; i++) p[i] = levelOf(c) * Math.sin((2 * Math.PI * (100 + 40 * c) * i) / rate + c);
    return p;
  });
}

/** Sum of squares. */
export const energy = (plane) => plane.reduce((s, v) => s + v * v, 0);

/**
 * What every encoded track must show: one video stream of `frames` frames (codec `video`), one audio
 * stream of codec `audio` at `rate` Hz with `channels` channels (`layout`, when given), decoding to
 * between `samples` and `samples + extra` samples per channel (codec priming and padding: AAC 1024,
 * MP3 ~1105, plus up to one codec frame), each channel with the energy of its source within ±20 %
 * (channels neither lost, swapped nor mixed). `source`: the planes encoded, at `sourceRate`.
 */
export function checkTrack(t, media, { ext, video, frames, audio, rate, channels, layout, source, sourceRate = rate, extra = 2048 }, what = '') {
  const label = `${what} ${ext}/${audio}`;
  const info = probe(media, { ext });
  const streams = info.streams.map((s) => s.codec_type);
  t.deepEqual(streams.sort(), ['audio', 'video'], `${label}: one video and one audio stream`);
  t.is(info.video?.codec_name, video, `${label}: video codec`);
  t.is(Number(info.video?.nb_read_frames), frames, `${label}: video frames`);
  const a = info.streams.find((s) => s.codec_type === 'audio');
  if (!a) return;
  t.is(a.codec_name, audio, `${label}: audio codec`);
  t.is(Number(a.sample_rate), rate, `${label}: sample rate`);
  t.is(Number(a.channels), channels, `${label}: channels`);
  if (layout) t.is(a.channel_layout, layout, `${label}: channel layout`);
  const planes = decodeAudio(media, { ext, rate: Number(a.sample_rate), channels: Number(a.channels) });
  t.is(planes.length, channels, `${label}: decoded channels`);
  const expected = Math.round((source[0].length * rate) / sourceRate);
  const got = planes[0].length;
  t.true(got >= expected && got <= expected + extra, `${label}: ${got} samples decoded, expected ${expected} to ${expected + extra}`);
  for (let c = 0; c < channels; c++) {
    const ratio = (energy(planes[c]) * sourceRate) / rate / energy(source[c]);
    t.true(ratio > 0.8 && ratio < 1.2, `${label}: channel ${c} has ${ratio.toFixed(3)} × the energy of its source`);
  }
}

/**
 * A codec / container error: the constructor takes the options (it checks arguments only), and
 * toFile, toStream and the writer openers (toFile, toStream, toBuffer) reject with `code`, the message
 * holding every string of `includes`, before anything is written: no file, no byte on the stream.
 */
export async function refusedEverywhere(t, { ext, audio, code, includes, frames }) {
  const dir = tmpDirFor(t);
  const dest = path.join(dir, `refused.${ext}`);
  const { samples, ...trackOptions } = audio;
  const label = `${ext} with ${JSON.stringify(trackOptions)}`;
  let encoder;
  t.notThrows(() => (encoder = new VideoEncoder(frames, { frameRate: 24, audio })), `${label}: the constructor does not check codecs`);
  if (!encoder) return;
  await rejectsCode(t, encoder.toFile(dest), code, { includes });
  const sink = collector();
  let received = 0;
  sink.on('data', (c) => (received += c.length));
  await rejectsCode(t, encoder.toStream(sink, ext), code, { includes });
  await rejectsCode(t, encoder.toBuffer(ext), code, { includes });
  const [, , height, width] = frames.shape;
  const writerOptions = { width, height, frameRate: 24, audio: trackOptions };
  await rejectsCode(t, VideoWriter.toFile(dest, writerOptions), code, { includes });
  await rejectsCode(t, VideoWriter.toStream(sink, ext, writerOptions), code, { includes });
  await rejectsCode(t, VideoWriter.toBuffer(ext, writerOptions), code, { includes });
  t.deepEqual(fs.readdirSync(dir), [], `${label}: no file, no temporary file`);
  t.is(received, 0, `${label}: nothing reached the stream`);
}
