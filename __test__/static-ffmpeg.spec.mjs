// The addon these tests run is the one that ships: FFmpeg and its codec libraries linked in statically
// (scripts/ffmpeg/build.sh), so it needs only glibc's libraries, and none of the system's FFmpeg or codec
// libraries is loaded, even after encoding with every library we build in.
import test from 'ava';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { makeFramesNCHW } from './helpers/frames.mjs';

const require = createRequire(import.meta.url);
const { VideoEncoder } = require('../index.js');

// What a glibc system provides (libmvec: glibc's vector math, for x265), and gcc's unwinder.
const GLIBC = /^(linux-vdso\.so\.1|libc\.so\.6|libm\.so\.6|libmvec\.so\.1|libdl\.so\.2|libpthread\.so\.0|librt\.so\.1|ld-linux-x86-64\.so\.2|libgcc_s\.so\.1)$/;
// (libstdc++.so is Node's own: our libstdc++ is linked into the .node, for x265.)
const CODEC_LIBS = /\/lib(avcodec|avformat|avutil|swscale|swresample|x264|x265|vpx|SvtAv1Enc|opus|mp3lame)[.-]/;

const mapped = () => fs.readFileSync('/proc/self/maps', 'utf8').split('\n').map((l) => l.split(/\s+/)[5]).filter(Boolean);

test('the loaded .node needs only glibc libraries (ldd)', (t) => {
  const node = [...new Set(mapped().filter((p) => /framecodec[^/]*\.node$/.test(p)))];
  t.is(node.length, 1, `one framecodec .node is mapped: ${node.join(', ')}`);
  const needed = execFileSync('ldd', [node[0]], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0])
    .filter(Boolean)
    .map((name) => name.replace(/^.*\//, ''));
  t.log(`${node[0]}: ${needed.join(' ')}`);
  t.true(needed.includes('libc.so.6'));
  t.deepEqual(needed.filter((name) => !GLIBC.test(name)), [], 'libraries other than glibc\'s');
});

test('encoding with every codec library loads no shared FFmpeg or codec library', async (t) => {
  const enc = new VideoEncoder({ data: makeFramesNCHW(2, 64, 64, { seed: 5 }), shape: [2, 3, 64, 64] }, { frameRate: 25 });
  for (const [format, codec] of [['mp4', 'libx264'], ['mkv', 'libx265'], ['webm', 'libvpx-vp9'], ['webm', 'libvpx'], ['mkv', 'libsvtav1']]) {
    const result = await enc.toBuffer(format, { codec });
    t.true(result.length > 0, codec);
  }
  t.deepEqual(mapped().filter((p) => CODEC_LIBS.test(p)), []);
});
