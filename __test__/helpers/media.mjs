// ffmpeg / ffprobe CLI helpers for the framecodec tests (decode, probe, compare).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const MAX = 1024 * 1024 * 1024;

/** Run a command, its stdout as a Buffer; throws with its stderr when it exits non-zero. */
export function run(cmd, args, { input } = {}) {
  const r = spawnSync(cmd, args, { input, maxBuffer: MAX });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}: ${r.stderr.toString()}`);
  }
  return r.stdout;
}

/** A fresh temporary directory. */
export function tmpDir(prefix = 'framecodec-test-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Remove a directory tree (no error if missing). */
export function cleanup(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** A temp dir removed when the ava test `t` ends. */
export function tmpDirFor(t, prefix) {
  const dir = tmpDir(prefix);
  t.teardown(() => cleanup(dir));
  return dir;
}

/** Run `fn(file)` with a Buffer written to a temporary file (ext chosen for the demuxer hint). */
export function withFile(pathOrBuffer, ext, fn) {
  if (typeof pathOrBuffer === 'string') return fn(pathOrBuffer);
  const dir = tmpDir('framecodec-probe-');
  try {
    const file = path.join(dir, `input${ext ? `.${ext}` : ''}`);
    fs.writeFileSync(file, pathOrBuffer);
    return fn(file);
  } finally {
    cleanup(dir);
  }
}

/**
 * ffprobe -show_streams -show_format -count_frames as parsed JSON,
 * plus `video`: the first video stream.
 */
export function probe(pathOrBuffer, { ext } = {}) {
  return withFile(pathOrBuffer, ext, (file) => {
    const out = run('ffprobe', [
      '-v', 'error', '-show_streams', '-show_format', '-count_frames', '-of', 'json', file,
    ]);
    const json = JSON.parse(out.toString());
    json.video = (json.streams || []).find((s) => s.codec_type === 'video');
    return json;
  });
}

/** Per-frame info of the first video stream: [{pts_time, duration_time, key_frame, pict_type, ...}]. */
export function probeFrames(pathOrBuffer, { ext } = {}) {
  return withFile(pathOrBuffer, ext, (file) => {
    const out = run('ffprobe', [
      '-v', 'error', '-select_streams', 'v:0', '-show_frames', '-of', 'json', file,
    ]);
    return JSON.parse(out.toString()).frames.map((f) => ({
      ...f,
      pts_time: f.pts_time ?? f.best_effort_timestamp_time,
      duration_time: f.pkt_duration_time ?? f.duration_time,
      key_frame: Number(f.key_frame),
    }));
  });
}

const MATRIX = {
  bt709: 'bt709',
  bt470bg: 'bt601',
  smpte170m: 'bt601',
  bt601: 'bt601',
  fcc: 'fcc',
  smpte240m: 'smpte240m',
  bt2020nc: 'bt2020',
  bt2020: 'bt2020',
};

/**
 * Decode the video to rgb24 NHWC frames (a Uint8Array of N*h*w*3), converting YUV→RGB with the
 * given matrix and range ('tv' limited, 'pc' full). matrix: an ffprobe color_space name or a
 * swscale matrix name. With matrix 'auto', the stream's own tags are used (bt709/tv when untagged).
 */
export function decodeRgb(pathOrBuffer, w, h, { matrix = 'bt709', range = 'tv', ext } = {}) {
  return withFile(pathOrBuffer, ext, (file) => {
    if (matrix === 'auto') {
      const v = probe(file).video;
      matrix = v.color_space && v.color_space !== 'unknown' ? v.color_space : 'bt709';
      range = v.color_range === 'pc' ? 'pc' : 'tv';
    }
    const m = MATRIX[matrix] ?? matrix;
    const vf = `scale=in_color_matrix=${m}:in_range=${range}:flags=accurate_rnd+full_chroma_int+bitexact,format=rgb24`;
    const out = run('ffmpeg', [
      '-nostdin', '-v', 'error', '-i', file, '-vf', vf, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-',
    ]);
    if (out.length % (w * h * 3) !== 0) {
      throw new Error(`decoded ${out.length} bytes, not a multiple of a ${w}x${h} rgb24 frame`);
    }
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  });
}

/**
 * Decode to raw planar YUV of the stream's own pixel format, with no conversion at all (asking
 * ffmpeg for -pix_fmt would make it convert full-range video to limited range).
 */
export function decodeRaw(pathOrBuffer, pixFmt = 'yuv444p', { ext } = {}) {
  return withFile(pathOrBuffer, ext, (file) => {
    // full-range H.264 decodes as the (deprecated) yuvj* alias of the same layout
    const actual = probe(file).video.pix_fmt.replace(/^yuvj/, 'yuv');
    if (actual !== pixFmt) throw new Error(`decodeRaw: the stream is ${actual}, not ${pixFmt}`);
    const out = run('ffmpeg', ['-nostdin', '-v', 'error', '-i', file, '-f', 'rawvideo', '-c:v', 'rawvideo', '-']);
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  });
}

/** Number of frames in a decode (rgb24). */
export const frameCountOf = (rgb, w, h) => rgb.length / (w * h * 3);

/** PSNR in dB between two equal-length uint8 arrays (Infinity when identical). */
export function psnr(a, b) {
  if (a.length !== b.length) throw new Error(`psnr: lengths differ (${a.length} vs ${b.length})`);
  if (a.length === 0) throw new Error('psnr: empty input');
  let se = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    se += d * d;
  }
  if (se === 0) return Infinity;
  const mse = se / a.length;
  return 10 * Math.log10((255 * 255) / mse);
}

/** Largest absolute difference between two equal-length uint8 arrays. */
export function maxAbsDiff(a, b) {
  if (a.length !== b.length) throw new Error(`maxAbsDiff: lengths differ (${a.length} vs ${b.length})`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > m) m = d;
  }
  return m;
}

/** PSNR of each frame (frameBytes bytes each). */
export function perFramePsnr(a, b, frameBytes) {
  if (a.length !== b.length) throw new Error(`perFramePsnr: lengths differ (${a.length} vs ${b.length})`);
  const res = [];
  for (let o = 0; o < a.length; o += frameBytes) {
    res.push(psnr(a.subarray(o, o + frameBytes), b.subarray(o, o + frameBytes)));
  }
  return res;
}

export const fmtDb = (v) => (v === Infinity ? 'inf' : v.toFixed(2));

/** The ffmpeg CLI's spelling of a frame rate (NTSC rates as exact rationals). */
export function cliRate(rate) {
  const ntsc = { 29.97: '30000/1001', 23.976: '24000/1001', 59.94: '60000/1001', 119.88: '120000/1001' };
  return ntsc[rate] ?? String(rate);
}

/**
 * Encode rgb24 NHWC frames with the ffmpeg CLI (the reference).
 * Defaults mirror framecodec's: libx264, yuv420p, BT.709 limited range, tagged.
 */
export function cliEncode(rgbNhwc, w, h, rate, outFile, { codec = 'libx264', pixFmt = 'yuv420p', extra = [] } = {}) {
  const dir = path.dirname(outFile);
  const raw = path.join(dir, `cli-input-${process.pid}-${Date.now()}.raw`);
  fs.writeFileSync(raw, rgbNhwc);
  try {
    run('ffmpeg', [
      '-nostdin', '-v', 'error', '-y',
      '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${w}x${h}`, '-r', cliRate(rate), '-i', raw,
      '-c:v', codec, '-pix_fmt', pixFmt,
      '-vf', 'scale=out_color_matrix=bt709:out_range=tv',
      '-color_range', 'tv', '-colorspace', 'bt709',
      ...extra,
      outFile,
    ]);
  } finally {
    fs.rmSync(raw, { force: true });
  }
}

/** Parse 'a/b' into a number. */
export function ratio(s) {
  const [a, b] = String(s).split('/').map(Number);
  return b ? a / b : a;
}

export { execFileSync };

/**
 * The settings libx264 writes into its SEI ("x264 - core ... options: cabac=1 ref=3 ...") as an
 * object of strings, or null when the bytes hold no x264 SEI. Proves which options the encoder used.
 */
export function x264Options(pathOrBuffer) {
  const bytes = typeof pathOrBuffer === 'string' ? fs.readFileSync(pathOrBuffer) : Buffer.from(pathOrBuffer);
  const text = bytes.toString('latin1');
  const at = text.indexOf('x264 - core');
  if (at < 0) return null;
  const start = text.indexOf('options: ', at);
  if (start < 0) return null;
  // the SEI text ends at the first non-printable byte
  const body = /^[\x20-\x7e]*/.exec(text.slice(start + 9))[0];
  const opts = {};
  for (const kv of body.split(' ')) {
    const eq = kv.indexOf('=');
    if (eq > 0) opts[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return opts;
}

/** Whether an ISO-BMFF file contains a box of the given 4-character type (e.g. 'moof'). */
export function hasBox(pathOrBuffer, type) {
  const bytes = typeof pathOrBuffer === 'string' ? fs.readFileSync(pathOrBuffer) : Buffer.from(pathOrBuffer);
  return bytes.includes(Buffer.from(type, 'latin1'));
}

/** List the top-level ISO-BMFF boxes (type names in order). */
export function topLevelBoxes(pathOrBuffer) {
  const bytes = typeof pathOrBuffer === 'string' ? fs.readFileSync(pathOrBuffer) : Buffer.from(pathOrBuffer);
  const boxes = [];
  let off = 0;
  while (off + 8 <= bytes.length) {
    let size = bytes.readUInt32BE(off);
    const type = bytes.toString('latin1', off + 4, off + 8);
    if (size === 1) size = Number(bytes.readBigUInt64BE(off + 8));
    else if (size === 0) size = bytes.length - off;
    if (size < 8) break;
    boxes.push(type);
    off += size;
  }
  return boxes;
}
