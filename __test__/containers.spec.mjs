// Every container: toBuffer(format) decodes to the same frames as toFile(dest.format), and the
// EncodeResult reports the muxer, the encoder, the pixel format, the frame count and the size.
import test from 'ava';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { makeFramesNCHW, nchwToNhwc } from './helpers/frames.mjs';
import { decodeRgb, probe, psnr, fmtDb, tmpDirFor, frameCountOf } from './helpers/media.mjs';

const require = createRequire(import.meta.url);
const { VideoEncoder } = require('../index.js');

const N = 8;
const H = 48;
const W = 64;
const nchw = makeFramesNCHW(N, H, W, { seed: 21 });
const source = nchwToNhwc(nchw, N, H, W);
const enc = new VideoEncoder({ data: nchw, shape: [N, 3, H, W] }, { frameRate: 25 });

// ext, muxer name, default encoder, default pixel format, ffprobe format_name, ffprobe codec_name,
// minimum PSNR against the source (gif is 8-bit rgb8 palette), whether color tags can be stored
const CONTAINERS = [
  ['mp4', 'mp4', 'libx264', 'yuv420p', 'mov,mp4,m4a,3gp,3g2,mj2', 'h264', 26, true],
  ['mov', 'mov', 'libx264', 'yuv420p', 'mov,mp4,m4a,3gp,3g2,mj2', 'h264', 26, true],
  ['mkv', 'matroska', 'libx264', 'yuv420p', 'matroska,webm', 'h264', 26, true],
  ['webm', 'webm', 'libvpx-vp9', 'yuv420p', 'matroska,webm', 'vp9', 25, true],
  ['avi', 'avi', 'mpeg4', 'yuv420p', 'avi', 'mpeg4', 25, false],
  ['flv', 'flv', 'flv', 'yuv420p', 'flv', 'flv1', 25, false],
  ['gif', 'gif', 'gif', 'rgb8', 'gif', 'gif', 17, false],
  ['ts', 'mpegts', 'mpeg2video', 'yuv420p', 'mpegts', 'mpeg2video', 25, true],
];

for (const [ext, muxer, encoder, pixFmt, formatName, codecName, minPsnr, tagged] of CONTAINERS) {
  test(`${ext}: toFile result names muxer "${muxer}", encoder "${encoder}", ${pixFmt}, ${N} frames, the file size`, async (t) => {
    const dir = tmpDirFor(t);
    const dest = path.join(dir, `video.${ext}`);
    const result = await enc.toFile(dest);
    t.deepEqual(Object.keys(result).sort(), ['bytes', 'codec', 'format', 'frames', 'pixelFormat']);
    t.is(result.format, muxer);
    t.is(result.codec, encoder);
    t.is(result.pixelFormat, pixFmt);
    t.is(result.frames, N);
    t.is(result.bytes, fs.statSync(dest).size);
    const info = probe(dest);
    t.is(info.format.format_name, formatName);
    t.is(info.video.codec_name, codecName);
    t.is(Number(info.video.nb_read_frames), N);
    t.is(info.video.width, W);
    t.is(info.video.height, H);
    if (tagged) {
      t.is(info.video.color_space, 'bt709');
      t.is(info.video.color_range, 'tv');
    }
  });

  test(`${ext}: toBuffer("${ext}") decodes to the same frames as toFile("*.${ext}")`, async (t) => {
    const dir = tmpDirFor(t);
    const dest = path.join(dir, `video.${ext}`);
    const [result, buf] = await Promise.all([enc.toFile(dest), enc.toBuffer(ext)]);
    t.true(Buffer.isBuffer(buf), 'toBuffer resolves to a Buffer');
    t.true(buf.length > 0);
    t.is(result.bytes, fs.statSync(dest).size);

    const fileInfo = probe(dest);
    const bufInfo = probe(buf, { ext });
    t.is(bufInfo.format.format_name, fileInfo.format.format_name);
    t.is(bufInfo.video.codec_name, fileInfo.video.codec_name);
    t.is(bufInfo.video.pix_fmt, fileInfo.video.pix_fmt);
    t.is(Number(bufInfo.video.nb_read_frames), N);
    // the two outputs are the same size give or take container bookkeeping
    t.true(Math.abs(buf.length - result.bytes) <= Math.max(1024, result.bytes * 0.05),
      `buffer ${buf.length} bytes vs file ${result.bytes} bytes`);

    const fromFile = decodeRgb(dest, W, H, { matrix: 'auto' });
    const fromBuf = decodeRgb(buf, W, H, { matrix: 'auto', ext });
    t.is(frameCountOf(fromFile, W, H), N);
    t.is(frameCountOf(fromBuf, W, H), N);
    const same = psnr(fromBuf, fromFile);
    const vsSource = psnr(fromFile, source);
    t.log(`${ext}: file ${result.bytes} B, buffer ${buf.length} B, buffer vs file PSNR ${fmtDb(same)} dB, file vs source ${fmtDb(vsSource)} dB`);
    t.true(same >= 50, `buffer vs file PSNR ${same}`);
    t.true(vsSource >= minPsnr, `file vs source PSNR ${vsSource}`);
  });
}

test('toBuffer accepts an FFmpeg muxer name as well as an extension (matroska, mpegts)', async (t) => {
  const mkv = await enc.toBuffer('matroska');
  t.is(probe(mkv, { ext: 'mkv' }).format.format_name, 'matroska,webm');
  const ts = await enc.toBuffer('mpegts');
  t.is(probe(ts, { ext: 'ts' }).format.format_name, 'mpegts');
  t.is(Number(probe(ts, { ext: 'ts' }).video.nb_read_frames), N);
});

test('the dest extension picks the container even when the path has dots elsewhere', async (t) => {
  const dir = tmpDirFor(t);
  const dest = path.join(dir, 'my.video.v2.mkv');
  const result = await enc.toFile(dest);
  t.is(result.format, 'matroska');
  t.is(probe(dest).format.format_name, 'matroska,webm');
});
