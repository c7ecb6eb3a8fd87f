// EncodeOptions: crf, preset, pixelFormat, codec, extraOptions (codec, private and muxer options),
// and the coded errors for each kind of bad value.
import test from 'ava';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { makeFramesNCHW, nchwToNhwc } from './helpers/frames.mjs';
import {
  decodeRgb, probe, probeFrames, psnr, fmtDb, frameCountOf, tmpDirFor, x264Options, hasBox, topLevelBoxes,
} from './helpers/media.mjs';
import { rejectsCode } from './helpers/assert.mjs';

const require = createRequire(import.meta.url);
const { VideoEncoder } = require('../index.js');

const N = 10;
const H = 48;
const W = 64;
const nchw = makeFramesNCHW(N, H, W, { seed: 41 });
const source = nchwToNhwc(nchw, N, H, W);
const enc = new VideoEncoder({ data: nchw, shape: [N, 3, H, W] }, { frameRate: 25 });

async function decodesFine(t, buf, ext, { minPsnr = 25 } = {}) {
  const info = probe(buf, { ext });
  t.is(Number(info.video.nb_read_frames), N);
  const dec = decodeRgb(buf, W, H, { matrix: 'auto', ext });
  t.is(frameCountOf(dec, W, H), N);
  const p = psnr(dec, source);
  t.true(p >= minPsnr, `PSNR ${p}`);
  return { info, psnr: p };
}

// ------------------------------------------------------------------ crf

test('crf as an integer is used by libx264 (crf 10 makes a bigger file than crf 40)', async (t) => {
  const hi = await enc.toBuffer('mp4', { crf: 10 });
  const lo = await enc.toBuffer('mp4', { crf: 40 });
  t.log(`crf 10: ${hi.length} bytes, crf 40: ${lo.length} bytes`);
  t.true(hi.length > lo.length * 1.3);
  t.is(x264Options(hi).crf, '10.0');
  t.is(x264Options(lo).crf, '40.0');
  await decodesFine(t, hi, 'mp4');
});

test('crf as a float (libx264 crf 18.5) is accepted and used', async (t) => {
  const buf = await enc.toBuffer('mp4', { crf: 18.5 });
  t.is(x264Options(buf).crf, '18.5');
  await decodesFine(t, buf, 'mp4');
});

test('crf 100 on libx264 (x264 allows 0..51) is ERR_OUT_OF_RANGE naming crf and the range', async (t) => {
  await rejectsCode(t, enc.toBuffer('mp4', { crf: 100 }), 'ERR_OUT_OF_RANGE', { includes: ['crf', '100', '51'] });
});

test('crf -10 on libx264 is ERR_OUT_OF_RANGE naming crf and the value', async (t) => {
  await rejectsCode(t, enc.toBuffer('mp4', { crf: -10 }), 'ERR_OUT_OF_RANGE', { includes: ['crf', '-10'] });
});

test('crf at the ends of libx264\'s range (0 and 51) is accepted', async (t) => {
  t.is(x264Options(await enc.toBuffer('mkv', { crf: 51 })).crf, '51.0');
  const lossless = await enc.toBuffer('mkv', { crf: 0 });
  t.is(x264Options(lossless).qp, '0', 'crf 0 is lossless (x264 switches to qp=0)');
});

test('crf 100 on libvpx-vp9 (range -1..63) is ERR_OUT_OF_RANGE naming crf and the range', async (t) => {
  await rejectsCode(t, enc.toBuffer('webm', { codec: 'libvpx-vp9', crf: 100 }), 'ERR_OUT_OF_RANGE', {
    includes: ['crf', '100', '63'],
  });
});

test('crf within libvpx-vp9\'s range (crf 40) is accepted', async (t) => {
  const buf = await enc.toBuffer('webm', { codec: 'libvpx-vp9', crf: 40 });
  await decodesFine(t, buf, 'webm', { minPsnr: 22 });
});

test('crf on an encoder without a crf option (mpeg4) is ERR_INVALID_OPTION naming the encoder', async (t) => {
  await rejectsCode(t, enc.toBuffer('avi', { codec: 'mpeg4', crf: 20 }), 'ERR_INVALID_OPTION', { includes: ['mpeg4', 'crf'] });
});

test('crf of a wrong type (a string) is refused', async (t) => {
  const err = await t.throwsAsync(async () => enc.toBuffer('mp4', { crf: 'high' }));
  t.true(err instanceof Error);
  t.true(['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_OPTION'].includes(err.code), `code ${err.code}`);
});

// ------------------------------------------------------------------ preset

test('preset "ultrafast" is accepted and used (x264 reports cabac=0)', async (t) => {
  const buf = await enc.toBuffer('mp4', { preset: 'ultrafast' });
  t.is(x264Options(buf).cabac, '0');
  const def = await enc.toBuffer('mp4');
  t.is(x264Options(def).cabac, '1', 'the default preset (medium) uses CABAC');
  await decodesFine(t, buf, 'mp4');
});

test('preset "superduper" is ERR_INVALID_OPTION listing the valid presets', async (t) => {
  await rejectsCode(t, enc.toBuffer('mp4', { preset: 'superduper' }), 'ERR_INVALID_OPTION', {
    includes: ['superduper', 'ultrafast', 'veryslow'],
  });
});

test('preset on libvpx-vp9 (which has no preset) is ERR_INVALID_OPTION naming libvpx-vp9', async (t) => {
  await rejectsCode(t, enc.toBuffer('webm', { codec: 'libvpx-vp9', preset: 'fast' }), 'ERR_INVALID_OPTION', {
    includes: ['libvpx-vp9', 'preset'],
  });
});

test('preset on mpeg4 is ERR_INVALID_OPTION naming mpeg4', async (t) => {
  await rejectsCode(t, enc.toBuffer('avi', { preset: 'fast' }), 'ERR_INVALID_OPTION', { includes: ['mpeg4'] });
});

// ------------------------------------------------------------------ extraOptions

test('extraOptions { g: 2 } is used: a keyframe every 2 frames', async (t) => {
  const dir = tmpDirFor(t);
  const dest = path.join(dir, 'g2.mp4');
  await enc.toFile(dest, { extraOptions: { g: 2 } });
  const frames = probeFrames(dest);
  t.is(frames.length, N);
  t.log(`g=2 pict types: ${frames.map((f) => f.pict_type).join('')}`);
  frames.forEach((f, i) => {
    if (i % 2 === 0) t.is(f.key_frame, 1, `frame ${i} should be a keyframe`);
  });
  t.is(x264Options(dest).keyint, '2');
  // and without it, only the first frame is a keyframe
  const def = path.join(dir, 'default.mp4');
  await enc.toFile(def);
  const defKeys = probeFrames(def).filter((f) => f.key_frame === 1).length;
  t.true(defKeys < N / 2, `default encode has ${defKeys} keyframes`);
});

test('extraOptions { tune: "zerolatency" } is accepted and used (no B-frames)', async (t) => {
  const buf = await enc.toBuffer('mp4', { extraOptions: { tune: 'zerolatency' } });
  t.is(x264Options(buf).bframes, '0');
  t.is(x264Options(await enc.toBuffer('mp4')).bframes, '3');
  await decodesFine(t, buf, 'mp4');
});

test('extraOptions { tune: "nope" } is ERR_INVALID_OPTION', async (t) => {
  await rejectsCode(t, enc.toBuffer('mp4', { extraOptions: { tune: 'nope' } }), 'ERR_INVALID_OPTION', {
    includes: ['nope'],
  });
});

test('an extraOptions key no layer knows ({ notAnOption: 1 }) is ERR_INVALID_OPTION naming the key', async (t) => {
  await rejectsCode(t, enc.toBuffer('mp4', { extraOptions: { notAnOption: 1 } }), 'ERR_INVALID_OPTION', {
    includes: ['notAnOption'],
  });
});

test('an unknown top-level option ({ presett: "fast" }) is ERR_INVALID_OPTION naming it and listing the options', async (t) => {
  await rejectsCode(t, enc.toBuffer('mp4', { presett: 'fast' }), 'ERR_INVALID_OPTION', {
    includes: ["'presett'", 'toBuffer', 'preset', 'extraOptions'],
  });
});

test('end is a toStream option: toFile and toBuffer reject it with ERR_INVALID_OPTION, writing nothing', async (t) => {
  const dest = path.join(tmpDirFor(t), 'end.mp4');
  await rejectsCode(t, enc.toFile(dest, { end: false }), 'ERR_INVALID_OPTION', { includes: ["'end'", 'toFile', 'only toStream'] });
  t.false(fs.existsSync(dest));
  await rejectsCode(t, enc.toBuffer('mp4', { end: true }), 'ERR_INVALID_OPTION', { includes: ["'end'", 'toBuffer', 'only toStream'] });
});

test('a typo among valid extraOptions is still rejected ({ g: 12, tunee: "film" })', async (t) => {
  await rejectsCode(t, enc.toBuffer('mkv', { extraOptions: { g: 12, tunee: 'film' } }), 'ERR_INVALID_OPTION', {
    includes: ['tunee'],
  });
});

test('a non-numeric value for a numeric option ({ g: "abc" }) is ERR_INVALID_OPTION', async (t) => {
  await rejectsCode(t, enc.toBuffer('mp4', { extraOptions: { g: 'abc' } }), 'ERR_INVALID_OPTION', {
    includes: ['abc'],
  });
});

test('a numeric extra option outside its range ({ lossless: 5 } on libvpx-vp9) is ERR_OUT_OF_RANGE', async (t) => {
  await rejectsCode(t, enc.toBuffer('webm', { extraOptions: { lossless: 5 } }), 'ERR_OUT_OF_RANGE', {
    includes: ['lossless', '5'],
  });
});

test('numeric extra options may be given as strings ({ g: "2" })', async (t) => {
  const buf = await enc.toBuffer('mp4', { extraOptions: { g: '2' } });
  t.is(x264Options(buf).keyint, '2');
});

test('a boolean extra option ({ "row-mt": true } on libvpx-vp9) is accepted', async (t) => {
  const buf = await enc.toBuffer('webm', { extraOptions: { 'row-mt': true } });
  await decodesFine(t, buf, 'webm', { minPsnr: 22 });
});

test('a muxer option ({ movflags: fragmented }) on mp4 gives a fragmented mp4 that decodes all frames', async (t) => {
  const dir = tmpDirFor(t);
  const frag = path.join(dir, 'frag.mp4');
  const plain = path.join(dir, 'plain.mp4');
  await enc.toFile(frag, { extraOptions: { movflags: '+frag_keyframe+empty_moov+default_base_moof' } });
  await enc.toFile(plain);
  t.true(hasBox(frag, 'moof'), 'fragmented file has a moof box');
  t.false(hasBox(plain, 'moof'), 'a plain mp4 has none');
  const boxes = topLevelBoxes(frag);
  t.log(`fragmented mp4 boxes: ${boxes.join(' ')}`);
  t.true(boxes.includes('moof'));
  t.true(boxes.indexOf('moov') < boxes.indexOf('moof'), 'empty_moov: moov comes first');
  await decodesFine(t, fs.readFileSync(frag), 'mp4');
});

test('the fragmented-mp4 muxer option works with toBuffer too', async (t) => {
  const buf = await enc.toBuffer('mp4', { extraOptions: { movflags: '+frag_keyframe+empty_moov+default_base_moof' } });
  t.true(topLevelBoxes(buf).includes('moof'));
  await decodesFine(t, buf, 'mp4');
});

test('a muxer option is rejected by a muxer that does not have it ({ movflags } on mkv)', async (t) => {
  await rejectsCode(t, enc.toBuffer('mkv', { extraOptions: { movflags: '+faststart' } }), 'ERR_INVALID_OPTION', {
    includes: ['movflags'],
  });
});

test('extraOptions { threads: 1 } is accepted and used; by default libx264 uses several threads', async (t) => {
  const h = 240;
  const w = 320;
  const n = 6;
  const big = new VideoEncoder({ data: makeFramesNCHW(n, h, w, { seed: 4 }), shape: [n, 3, h, w] }, { frameRate: 25 });
  const one = await big.toBuffer('mp4', { preset: 'ultrafast', extraOptions: { threads: 1 } });
  t.is(x264Options(one).threads, '1');
  const auto = await big.toBuffer('mp4', { preset: 'ultrafast' });
  t.log(`default x264 threads=${x264Options(auto).threads} on ${os.cpus().length} CPUs`);
  if (os.cpus().length > 1) t.true(Number(x264Options(auto).threads) > 1, 'automatic thread count, not 1');
  t.is(Number(probe(one, { ext: 'mp4' }).video.nb_read_frames), n);
});

test('extraOptions { bf: 0 } is accepted and used (no B-frames)', async (t) => {
  const dir = tmpDirFor(t);
  const dest = path.join(dir, 'bf0.mp4');
  await enc.toFile(dest, { extraOptions: { bf: 0 } });
  t.is(x264Options(dest).bframes, '0');
  t.false(probeFrames(dest).some((f) => f.pict_type === 'B'));
  t.is(probe(dest).video.has_b_frames, 0);
});

test('several extraOptions at once (codec, private and muxer) all apply', async (t) => {
  const buf = await enc.toBuffer('mp4', {
    preset: 'veryfast',
    crf: 30,
    extraOptions: { g: 3, bf: 0, tune: 'film', movflags: '+faststart' },
  });
  const x = x264Options(buf);
  t.is(x.keyint, '3');
  t.is(x.bframes, '0');
  t.is(x.crf, '30.0');
  const boxes = topLevelBoxes(buf);
  t.true(boxes.indexOf('moov') < boxes.indexOf('mdat'), `faststart puts moov first: ${boxes.join(' ')}`);
});

// ------------------------------------------------------------------ codec / format / pixel format

test('an unknown codec is ERR_UNKNOWN_CODEC naming it', async (t) => {
  await rejectsCode(t, enc.toBuffer('mp4', { codec: 'nope' }), 'ERR_UNKNOWN_CODEC', { includes: ['nope'] });
});

test('a decoder-only or non-video codec name is refused with a coded error', async (t) => {
  const err = await t.throwsAsync(enc.toBuffer('mkv', { codec: 'aac' }));
  t.true(['ERR_UNKNOWN_CODEC', 'ERR_INVALID_ARG_VALUE', 'ERR_INVALID_OPTION'].includes(err.code), `code ${err.code}: ${err.message}`);
  t.true(err.message.includes('aac'));
});

test('toBuffer with an unknown format is ERR_UNKNOWN_FORMAT naming it', async (t) => {
  await rejectsCode(t, enc.toBuffer('nope'), 'ERR_UNKNOWN_FORMAT', { includes: ['nope'] });
});

test('toFile with an unknown extension is ERR_UNKNOWN_FORMAT naming it and creates nothing', async (t) => {
  const dir = tmpDirFor(t);
  await rejectsCode(t, enc.toFile(path.join(dir, 'out.unknownext')), 'ERR_UNKNOWN_FORMAT', { includes: ['unknownext'] });
  t.deepEqual(fs.readdirSync(dir), []);
});

test('toFile with no extension at all is ERR_UNKNOWN_FORMAT', async (t) => {
  const dir = tmpDirFor(t);
  await rejectsCode(t, enc.toFile(path.join(dir, 'noext')), 'ERR_UNKNOWN_FORMAT');
  t.deepEqual(fs.readdirSync(dir), []);
});

test('an unknown pixelFormat is ERR_INVALID_PIXEL_FORMAT naming it', async (t) => {
  await rejectsCode(t, enc.toBuffer('mp4', { pixelFormat: 'nope' }), 'ERR_INVALID_PIXEL_FORMAT', { includes: ['nope'] });
});

test('a pixelFormat libx264 does not support (pal8) is ERR_INVALID_PIXEL_FORMAT listing the supported ones', async (t) => {
  await rejectsCode(t, enc.toBuffer('mp4', { pixelFormat: 'pal8' }), 'ERR_INVALID_PIXEL_FORMAT', {
    includes: ['pal8', 'yuv420p', 'yuv444p'],
  });
});

test('a pixelFormat mpeg4 does not support (yuv444p) is ERR_INVALID_PIXEL_FORMAT listing yuv420p', async (t) => {
  await rejectsCode(t, enc.toBuffer('avi', { pixelFormat: 'yuv444p' }), 'ERR_INVALID_PIXEL_FORMAT', {
    includes: ['yuv444p', 'yuv420p'],
  });
});

test('an explicit pixelFormat is used (yuv422p with libx264)', async (t) => {
  const buf = await enc.toBuffer('mkv', { pixelFormat: 'yuv422p' });
  t.is(probe(buf, { ext: 'mkv' }).video.pix_fmt, 'yuv422p');
});

test('odd width (65x48) with the default yuv420p is ERR_INVALID_ARG_VALUE suggesting yuv444p; yuv444p works', async (t) => {
  const w = 65;
  const frames = makeFramesNCHW(4, H, w, { seed: 3 });
  const odd = new VideoEncoder({ data: frames, shape: [4, 3, H, w] }, { frameRate: 25 });
  await rejectsCode(t, odd.toBuffer('mp4'), 'ERR_INVALID_ARG_VALUE', { includes: ['yuv444p', '65'] });
  const buf = await odd.toBuffer('mp4', { pixelFormat: 'yuv444p' });
  const info = probe(buf, { ext: 'mp4' });
  t.is(info.video.width, 65);
  t.is(info.video.height, H);
  t.is(Number(info.video.nb_read_frames), 4);
  const dec = decodeRgb(buf, w, H, { ext: 'mp4' });
  const p = psnr(dec, nchwToNhwc(frames, 4, H, w));
  t.log(`65x48 yuv444p: PSNR ${fmtDb(p)} dB`);
  t.true(p >= 28);
});

test('odd height (64x47): refused for yuv420p, accepted for yuv422p (which only subsamples width)', async (t) => {
  const h = 47;
  const frames = makeFramesNCHW(3, h, W, { seed: 3 });
  const odd = new VideoEncoder({ data: frames, shape: [3, 3, h, W] }, { frameRate: 25 });
  await rejectsCode(t, odd.toBuffer('mkv'), 'ERR_INVALID_ARG_VALUE', { includes: ['47'] });
  const buf = await odd.toBuffer('mkv', { pixelFormat: 'yuv422p' });
  const info = probe(buf, { ext: 'mkv' });
  t.is(info.video.height, 47);
  t.is(info.video.pix_fmt, 'yuv422p');
});

test('odd width with yuv422p is refused (it subsamples width)', async (t) => {
  const frames = makeFramesNCHW(2, 16, 17, { seed: 3 });
  const odd = new VideoEncoder({ data: frames, shape: [2, 3, 16, 17] }, { frameRate: 25 });
  await rejectsCode(t, odd.toBuffer('mkv', { pixelFormat: 'yuv422p' }), 'ERR_INVALID_ARG_VALUE');
});

test('profile baseline with yuv444p is ERR_ENCODE (an FFmpeg/x264 failure)', async (t) => {
  await rejectsCode(t, enc.toBuffer('mp4', { pixelFormat: 'yuv444p', extraOptions: { profile: 'baseline' } }), 'ERR_ENCODE');
});

test('an NVENC codec on a machine without an NVENC GPU is ERR_ENCODER_UNAVAILABLE', async (t) => {
  if (fs.existsSync('/dev/nvidia0')) {
    t.pass('an NVIDIA device is present: not applicable here');
    return;
  }
  await rejectsCode(t, enc.toBuffer('mp4', { codec: 'h264_nvenc' }), 'ERR_ENCODER_UNAVAILABLE', { includes: ['h264_nvenc'] });
  await rejectsCode(t, enc.toBuffer('mkv', { codec: 'hevc_nvenc' }), 'ERR_ENCODER_UNAVAILABLE');
});

test('a failed encode does not spoil the encoder: a valid encode afterwards works', async (t) => {
  await t.throwsAsync(enc.toBuffer('mp4', { codec: 'nope' }));
  await t.throwsAsync(enc.toBuffer('mp4', { extraOptions: { notAnOption: 1 } }));
  const buf = await enc.toBuffer('mp4');
  await decodesFine(t, buf, 'mp4');
});

test('a numeric preset works for an encoder that numbers its presets (libsvtav1 preset 12)', async (t) => {
  const frames = makeFramesNCHW(4, 64, 64, { seed: 9 });
  const av1 = new VideoEncoder({ data: frames, shape: [4, 3, 64, 64] }, { frameRate: 25 });
  const dir = tmpDirFor(t);
  const dest = path.join(dir, 'svt.mkv');
  const result = await av1.toFile(dest, { codec: 'libsvtav1', preset: 12 });
  t.is(result.codec, 'libsvtav1');
  const info = probe(dest);
  t.is(info.video.codec_name, 'av1');
  t.is(Number(info.video.nb_read_frames), 4);
});

test('a numeric preset outside the encoder\'s range (libsvtav1 preset 99) is refused naming preset', async (t) => {
  const frames = makeFramesNCHW(2, 64, 64, { seed: 9 });
  const av1 = new VideoEncoder({ data: frames, shape: [2, 3, 64, 64] }, { frameRate: 25 });
  const err = await t.throwsAsync(av1.toBuffer('mkv', { codec: 'libsvtav1', preset: 99 }));
  t.true(['ERR_OUT_OF_RANGE', 'ERR_INVALID_OPTION'].includes(err.code), `code ${err.code}: ${err.message}`);
  t.true(err.message.includes('preset') && err.message.includes('99'), err.message);
});

test('options may be omitted, undefined or empty', async (t) => {
  for (const options of [undefined, {}]) {
    const buf = await enc.toBuffer('mp4', options);
    t.is(Number(probe(buf, { ext: 'mp4' }).video.nb_read_frames), N);
  }
  const dir = tmpDirFor(t);
  const r = await enc.toFile(path.join(dir, 'o.mkv'), {});
  t.is(r.frames, N);
});

// ------------------------------------------------------------------ options that touch the file system

// Codec options that make the encoder library read or write files of its own (two-pass logs, stats,
// dumps, CSV logs, analysis files, quantiser matrices) are refused in every method. Each case runs
// in a child process whose working directory is an empty temp dir, and names only relative files,
// so anything the encoder wrote would be found there.
const FILE_CASES = [
  [{ flags: '+pass1' }, 'flags'],
  [{ flags: 'pass2' }, 'flags'],
  [{ flags: '+cgop+pass1' }, 'flags'],
  [{ passlogfile: 'fc-pass' }, 'passlogfile'],
  [{ stats: 'fc-stats.log' }, 'stats'],
  [{ 'x264-params': 'stats=fc-stats.log' }, 'x264-params'],
  [{ 'x264-params': 'keyint=10:dump-yuv=fc-dump.yuv' }, 'dump-yuv'],
  [{ 'x264-params': 'dump_yuv=fc-dump.yuv' }, 'dump_yuv'],
  [{ 'x264-params': 'cqmfile=cqm.txt' }, 'cqmfile'],
  [{ 'x264-params': 'pass=1' }, 'pass'],
  [{ 'x264-params': "'stats'=fc-stats.log" }, 'stats'],
  [{ x264opts: 'keyint=10:stats=fc-stats.log' }, 'x264opts'],
  [{ x264opts: 'dump-yuv=fc-dump.yuv' }, 'dump-yuv'],
  [{ 'x265-params': 'csv=fc.csv' }, 'csv', 'libx265'],
  [{ 'x265-params': 'log-level=error:analysis-save=fc.dat' }, 'analysis-save', 'libx265'],
  [{ 'x265-params': 'analysis-load=fc.dat' }, 'analysis-load', 'libx265'],
];

function runFileCases(cases) {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'framecodec-cwd-'));
  const file = `${cwd}.cjs`;
  fs.writeFileSync(file, `
    const fs = require('node:fs');
    const { PassThrough } = require('node:stream');
    const { VideoEncoder } = require(${JSON.stringify(require.resolve('../index.js'))});
    const cases = ${JSON.stringify(cases)};
    const enc = new VideoEncoder(new Uint8Array(4 * 3 * 32 * 32).fill(90), { shape: [4, 3, 32, 32], frameRate: 25 });
    (async () => {
      const out = [];
      for (const [extraOptions, , codec = 'libx264'] of cases) {
        const options = { codec, extraOptions };
        const methods = {
          toBuffer: () => enc.toBuffer('mkv', options),
          toFile: () => enc.toFile('out.mkv', options),
          toStream: () => { const s = new PassThrough(); s.resume(); return enc.toStream(s, 'mkv', options); },
        };
        for (const [method, run] of Object.entries(methods)) {
          let r;
          try {
            await run();
            r = { method, ok: true };
          } catch (e) {
            r = { method, code: e.code, cls: e.constructor.name, message: e.message };
          }
          r.files = fs.readdirSync('.'); // what this call left in the working directory
          for (const f of r.files) fs.rmSync(f, { recursive: true, force: true });
          out.push(r);
        }
      }
      console.log(JSON.stringify(out));
    })();
  `);
  try {
    const r = spawnSync(process.execPath, [file], { cwd, encoding: 'utf8', timeout: 120_000 });
    return { status: r.status, stderr: r.stderr, results: r.status === 0 ? JSON.parse(r.stdout) : null };
  } finally {
    fs.rmSync(file, { force: true });
    fs.rmSync(cwd, { recursive: true, force: true });
  }
}

test('codec options that would read or write files are ERR_INVALID_OPTION in every method, and nothing is written', (t) => {
  const { status, results, stderr } = runFileCases(FILE_CASES);
  t.is(status, 0, stderr);
  t.is(results.length, FILE_CASES.length * 3);
  results.forEach((r, i) => {
    const [extraOptions, named] = FILE_CASES[Math.floor(i / 3)];
    const what = `${r.method}(${JSON.stringify(extraOptions)})`;
    t.is(r.code, 'ERR_INVALID_OPTION', `${what}: ${JSON.stringify(r)}`);
    t.is(r.cls, 'Error', what);
    t.true(r.message?.includes(named) && r.message.includes('file system'), `${what}: ${r.message}`);
    t.deepEqual(r.files, [], `${what} left no file in the working directory`);
  });
});

test('a harmless x264-params / x264opts list still works (and is applied)', async (t) => {
  const { status, results, stderr } = runFileCases([
    [{ 'x264-params': 'keyint=7:min-keyint=3:psy-rd=1.0\\:0.2' }, ''],
    [{ x264opts: 'keyint=7:no-scenecut' }, ''],
  ]);
  t.is(status, 0, stderr);
  t.true(results.every((r) => r.ok), JSON.stringify(results));
  // only toFile's own output, nothing beside it
  t.deepEqual(results.map((r) => r.files), [[], ['out.mkv'], [], [], ['out.mkv'], []]);
  const buf = await enc.toBuffer('mp4', { extraOptions: { 'x264-params': 'keyint=7:min-keyint=3' } });
  t.is(x264Options(buf).keyint, '7');
});
