// Audio helpers for the framecodec tests: deterministic test signals (tones, chirps, clicks) as
// Float32Array planes, interleaving, decoding what was encoded with the ffmpeg CLI, and comparing
// a decode with its source (lag by cross-correlation, Pearson correlation after alignment).
import { run, withFile } from './media.mjs';

// ------------------------------------------------------------------ generators (one plane each)

/** n samples of a sine of `freq` Hz at `rate`, amplitude `amp`. */
export function tone(freq, n, rate, { amp = 0.5, phase = 0 } = {}) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = amp * Math.sin((2 * Math.PI * freq * i) / rate + phase);
  return out;
}

/** A sum of sines, [[freq, amp], ...] (keep the amplitudes' sum ≤ 1). */
export function toneMix(partials, n, rate) {
  const out = new Float32Array(n);
  for (const [k, [freq, amp]] of partials.entries()) {
    const p = tone(freq, n, rate, { amp, phase: k * 0.7 });
    for (let i = 0; i < n; i++) out[i] += p[i];
  }
  return out;
}

/** A linear sweep from f0 to f1 Hz over the n samples: never periodic, so it aligns unambiguously. */
export function chirp(f0, f1, n, rate, { amp = 0.5 } = {}) {
  const out = new Float32Array(n);
  const T = n / rate;
  const k = (f1 - f0) / T;
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    out[i] = amp * Math.sin(2 * Math.PI * (f0 * t + (k * t * t) / 2));
  }
  return out;
}

/**
 * Silence with a short click at each of `times` (seconds): a burst of `len` samples of a `freq` Hz
 * sine at `amp` (a tone burst survives lossy codecs better than a single-sample impulse).
 */
export function clicks(times, n, rate, { len = Math.round(rate / 500), freq = 3000, amp = 0.8 } = {}) {
  const out = new Float32Array(n);
  for (const time of times) {
    const at = Math.round(time * rate);
    for (let i = 0; i < len && at + i < n; i++) out[at + i] = amp * Math.sin((2 * Math.PI * freq * (i + 0.5)) / rate);
  }
  return out;
}

/** A standard stereo test signal of n samples: an up-chirp on L, a five-tone inharmonic mix on R. */
export function stereoTestPlanes(n, rate) {
  return [
    chirp(200, 6000, n, rate, { amp: 0.45 }),
    toneMix([[311, 0.15], [587, 0.12], [1049, 0.1], [2213, 0.08], [4129, 0.05]], n, rate),
  ];
}

// ------------------------------------------------------------------ layouts

/** Planes (one Float32Array per channel, equal lengths) → one interleaved Float32Array (L R L R …). */
export function interleave(planes) {
  const ch = planes.length;
  const n = planes[0].length;
  const out = new Float32Array(ch * n);
  for (let c = 0; c < ch; c++) {
    const p = planes[c];
    if (p.length !== n) throw new Error('interleave: planes of unequal lengths');
    for (let i = 0; i < n; i++) out[i * ch + c] = p[i];
  }
  return out;
}

/** Interleaved samples → one Float32Array per channel. */
export function deinterleave(samples, channels) {
  const n = samples.length / channels;
  if (!Number.isInteger(n)) throw new Error(`deinterleave: ${samples.length} values are not a multiple of ${channels}`);
  const planes = Array.from({ length: channels }, () => new Float32Array(n));
  for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) planes[c][i] = samples[i * channels + c];
  return planes;
}

/** Interleaved samples [from, to) in sample frames (a view, not a copy). */
export const frameSlice = (samples, channels, from, to) => samples.subarray(from * channels, to * channels);

// ------------------------------------------------------------------ decoding

const ffmpeg = (args) => run('ffmpeg', args);
const ffprobeJson = (args) => JSON.parse(run('ffprobe', ['-v', 'error', '-of', 'json', ...args]).toString());

/** The first audio stream's ffprobe fields (sample_rate, channels, start_time, duration, duration_ts, ...). */
export function probeAudio(pathOrBuffer, { ext } = {}) {
  return withFile(pathOrBuffer, ext, (file) => ffprobeJson(['-select_streams', 'a:0', '-show_streams', file]).streams[0]);
}

/**
 * Decode the first audio stream with the ffmpeg CLI to float32 (`-map 0:a -f f32le -ac N -ar R -`):
 * one Float32Array per channel. `rate` / `channels` default to the stream's own (no conversion).
 */
export function decodeAudio(pathOrBuffer, { ext, rate, channels } = {}) {
  return withFile(pathOrBuffer, ext, (file) => {
    if (rate === undefined || channels === undefined) {
      const s = probeAudio(file);
      rate ??= Number(s.sample_rate);
      channels ??= Number(s.channels);
    }
    const out = ffmpeg(['-nostdin', '-v', 'error', '-i', file, '-map', '0:a',
      '-f', 'f32le', '-ac', String(channels), '-ar', String(rate), '-']);
    const copy = new Uint8Array(out); // aligned for the Float32Array view
    return deinterleave(new Float32Array(copy.buffer, 0, copy.length / 4), channels);
  });
}

/** Presentation time (s) of the first decoded frame of stream `select` ('a:0', 'v:0'), after any priming trim. */
export function firstFrameTime(pathOrBuffer, select, { ext } = {}) {
  return withFile(pathOrBuffer, ext, (file) => {
    const { frames } = ffprobeJson(['-select_streams', select, '-show_frames',
      '-show_entries', 'frame=pts_time,best_effort_timestamp_time', file]);
    return Number(frames[0].pts_time ?? frames[0].best_effort_timestamp_time);
  });
}

/** Mean of each rawvideo gray8 frame of a decode (w×h), in decode order, with every decoded frame kept. */
export function frameLumas(pathOrBuffer, w, h, { ext } = {}) {
  return withFile(pathOrBuffer, ext, (file) => {
    const out = ffmpeg(['-nostdin', '-v', 'error', '-i', file, '-map', '0:v',
      '-fps_mode', 'passthrough', '-vf', 'format=gray', '-f', 'rawvideo', '-']);
    const size = w * h;
    if (out.length % size !== 0) throw new Error(`frameLumas: ${out.length} bytes is not a multiple of ${w}x${h}`);
    const lumas = [];
    for (let o = 0; o < out.length; o += size) {
      let s = 0;
      for (let i = o; i < o + size; i++) s += out[i];
      lumas.push(s / size);
    }
    return lumas;
  });
}

// ------------------------------------------------------------------ comparison

/**
 * The lag (in samples) at which `got` best matches `ref` — got[i + lag] ≈ ref[i] — searched in
 * [-maxLag, maxLag] by normalized cross-correlation of a window of `ref` (up to `window` samples
 * starting at maxLag, so every lag has a full overlap). Returns { lag, score } (score: the
 * normalized correlation at that lag, 1 for a perfect match).
 */
export function align(ref, got, maxLag, { window = 16384 } = {}) {
  const start = Math.min(maxLag, ref.length);
  const len = Math.min(window, ref.length - start, got.length - start - maxLag);
  if (len < 256) throw new Error(`align: too little overlap (${len} samples) for maxLag ${maxLag}`);
  let refEnergy = 0;
  for (let i = start; i < start + len; i++) refEnergy += ref[i] * ref[i];
  let best = { lag: 0, score: -Infinity };
  for (let lag = -Math.min(maxLag, start); lag <= maxLag; lag++) {
    let dot = 0;
    let energy = 0;
    for (let i = start; i < start + len; i++) {
      const g = got[i + lag];
      dot += ref[i] * g;
      energy += g * g;
    }
    const score = energy > 0 && refEnergy > 0 ? dot / Math.sqrt(refEnergy * energy) : 0;
    if (score > best.score) best = { lag, score };
  }
  return best;
}

/** The overlapping parts of ref and got once got is shifted by `lag` (got[i + lag] ↔ ref[i]). */
export function overlap(ref, got, lag) {
  const from = Math.max(0, -lag);
  const to = Math.min(ref.length, got.length - lag);
  return [ref.subarray(from, to), got.subarray(from + lag, to + lag)];
}

/** Pearson correlation of two equal-length arrays. */
export function correlation(a, b) {
  if (a.length !== b.length) throw new Error(`correlation: lengths differ (${a.length} vs ${b.length})`);
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma;
    const db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}

/** Align got to ref (lag found within ±maxLag), then correlate the overlap: { lag, corr }. */
export function alignedCorrelation(ref, got, maxLag) {
  const { lag } = align(ref, got, maxLag);
  return { lag, corr: correlation(...overlap(ref, got, lag)) };
}

/**
 * Onsets of the sounds in a mostly silent signal: the first sample with |x| > threshold after at
 * least `gap` samples below it (the first sound counts from the start).
 */
export function onsets(samples, threshold, gap) {
  const found = [];
  let quiet = gap;
  for (let i = 0; i < samples.length; i++) {
    if (Math.abs(samples[i]) > threshold) {
      if (quiet >= gap) found.push(i);
      quiet = 0;
    } else {
      quiet++;
    }
  }
  return found;
}

/** Largest absolute difference between two equal-length float arrays. */
export function maxAbsDiffF(a, b) {
  if (a.length !== b.length) throw new Error(`maxAbsDiffF: lengths differ (${a.length} vs ${b.length})`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Root mean square of a float array (0 for an empty one). */
export function rms(samples) {
  let s = 0;
  for (let i = 0; i < samples.length; i++) s += samples[i] * samples[i];
  return samples.length > 0 ? Math.sqrt(s / samples.length) : 0;
}
