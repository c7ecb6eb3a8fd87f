// toFile: local paths and file: URLs only; atomic writes (temp file + rename); failures leave
// nothing behind and keep a pre-existing dest untouched.
import test from 'ava';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { makeFramesNCHW } from './helpers/frames.mjs';
import { probe, tmpDirFor } from './helpers/media.mjs';
import { rejectsCode } from './helpers/assert.mjs';

const require = createRequire(import.meta.url);
const { VideoEncoder } = require('../index.js');

const N = 6;
const H = 48;
const W = 64;
const enc = new VideoEncoder({ data: makeFramesNCHW(N, H, W, { seed: 61 }), shape: [N, 3, H, W] }, { frameRate: 25 });

const listing = (dir) => fs.readdirSync(dir).sort();

test('toFile(path) writes the file and resolves with its size', async (t) => {
  const dir = tmpDirFor(t);
  const dest = path.join(dir, 'plain.mp4');
  const result = await enc.toFile(dest);
  t.is(result.bytes, fs.statSync(dest).size);
  t.is(Number(probe(dest).video.nb_read_frames), N);
  t.deepEqual(listing(dir), ['plain.mp4'], 'no temporary file is left beside dest');
});

test('toFile accepts a file: URL string', async (t) => {
  const dir = tmpDirFor(t);
  const dest = path.join(dir, 'url string.mkv');
  const href = pathToFileURL(dest).href;
  t.true(href.startsWith('file:///'));
  t.true(href.includes('%20'), 'the URL is percent-encoded and must be decoded');
  const result = await enc.toFile(href);
  t.is(result.format, 'matroska');
  t.true(fs.existsSync(dest), 'written at the decoded path');
  t.is(result.bytes, fs.statSync(dest).size);
  t.is(Number(probe(dest).video.nb_read_frames), N);
  t.deepEqual(listing(dir), ['url string.mkv']);
});

test('toFile accepts a URL object', async (t) => {
  const dir = tmpDirFor(t);
  const dest = path.join(dir, 'url-object.mp4');
  const result = await enc.toFile(pathToFileURL(dest));
  t.is(result.bytes, fs.statSync(dest).size);
  t.is(Number(probe(dest).video.nb_read_frames), N);
});

test('a path with characters FFmpeg would treat specially (":", "?", "#", "%", spaces) is written literally', async (t) => {
  const dir = tmpDirFor(t);
  const name = 'a:b ?c#d%20e.mp4';
  const dest = path.join(dir, name);
  await enc.toFile(dest);
  t.deepEqual(listing(dir), [name]);
  t.is(Number(probe(dest).video.nb_read_frames), N);
});

for (const url of ['http://example.com/a.mp4', 'https://example.com/a.mp4', 'pipe:1', 'rtmp://x/y', 'tcp://127.0.0.1:9/a.ts', 'udp://127.0.0.1:9']) {
  test(`toFile refuses the non-file URL ${url} with ERR_INVALID_ARG_VALUE and creates nothing`, async (t) => {
    const before = listing(process.cwd());
    await rejectsCode(t, enc.toFile(url), 'ERR_INVALID_ARG_VALUE', { includes: [url.split(':')[0]] });
    t.deepEqual(listing(process.cwd()), before);
  });
}

test('toFile refuses a URL object that is not file: (http) with ERR_INVALID_ARG_VALUE', async (t) => {
  await rejectsCode(t, enc.toFile(new URL('http://example.com/a.mp4')), 'ERR_INVALID_ARG_VALUE');
});

test('toFile with a dest in a missing directory is ERR_IO and creates no directory', async (t) => {
  const dir = tmpDirFor(t);
  const dest = path.join(dir, 'missing', 'sub', 'out.mp4');
  await rejectsCode(t, enc.toFile(dest), 'ERR_IO');
  t.deepEqual(listing(dir), []);
});

test('the system error of a missing directory is the cause: ENOENT with errno, syscall and path', async (t) => {
  const dir = tmpDirFor(t);
  const dest = path.join(dir, 'missing', 'x.mp4');
  const err = await rejectsCode(t, enc.toFile(dest), 'ERR_IO');
  t.like(err.cause, { code: 'ENOENT', errno: -2, syscall: 'open' });
  t.true(err.cause.path.startsWith(path.join(dir, 'missing', '.x.mp4.')), err.cause.path);
  t.true(err.cause.message.startsWith('ENOENT: no such file or directory, open '), err.cause.message);
});

test('a legal 255-byte file name works with toFile (the temporary name beside it is cut to fit)', async (t) => {
  const dir = tmpDirFor(t);
  const name = `${'é'.repeat(120)}${'n'.repeat(11)}.mp4`; // 240 + 11 + 4 = 255 bytes
  t.is(Buffer.byteLength(name), 255);
  const result = await enc.toFile(path.join(dir, name));
  t.is(result.frames, N);
  t.deepEqual(listing(dir), [name]);
  t.is(Number(probe(path.join(dir, name)).video.nb_read_frames), N);
});

test('a 256-byte file name is ERR_IO whose cause is ENAMETOOLONG (errno, syscall, path), before encoding', async (t) => {
  const dir = tmpDirFor(t);
  const dest = path.join(dir, `${'a'.repeat(252)}.mp4`);
  let progress = 0;
  const err = await rejectsCode(t, enc.toFile(dest, { onProgress: () => { progress += 1; } }), 'ERR_IO');
  t.like(err.cause, { code: 'ENAMETOOLONG', errno: -36, syscall: 'lstat', path: dest });
  t.true(err.cause instanceof Error);
  t.is(progress, 0, 'refused before any frame was encoded');
  t.deepEqual(listing(dir), []);
});

// A full disk: a 64 KiB tmpfs mounted in a private mount namespace of a child process (needs root or
// CAP_SYS_ADMIN; skipped, with a note, where mounting is not permitted).
const mountProbe = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d" && umount "$d" && rmdir "$d"']);
const canMount = mountProbe.status === 0;
(canMount ? test : test.skip)(`a full disk is ERR_IO whose cause is ENOSPC with errno, syscall and path, and leaves no file${canMount ? '' : ' (skipped: cannot mount a tmpfs here)'}`, (t) => {
  const dir = tmpDirFor(t);
  const script = path.join(dir, 'full.cjs');
  const mnt = path.join(dir, 'mnt');
  fs.mkdirSync(mnt);
  fs.writeFileSync(script, `
    const fs = require('node:fs');
    const { VideoEncoder } = require(${JSON.stringify(require.resolve('../index.js'))});
    let seed = 7;
    const noise = new Uint8Array(20 * 3 * 64 * 64).map(() => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
    const enc = new VideoEncoder(noise, { shape: [20, 3, 64, 64], frameRate: 25 });
    enc.toFile(process.argv[2] + '/full.mkv', { crf: 0 }).then(
      (r) => console.log(JSON.stringify({ ok: r.bytes })),
      (e) => console.log(JSON.stringify({ code: e.code, message: e.message, cause: { ...e.cause, message: e.cause?.message }, left: fs.readdirSync(process.argv[2]) })),
    );
  `);
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c',
    `mount -t tmpfs -o size=64k tmpfs "$1" && "$2" "$3" "$1"`, 'sh', mnt, process.execPath, script], { encoding: 'utf8', timeout: 60_000 });
  t.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  t.is(out.code, 'ERR_IO', JSON.stringify(out));
  t.like(out.cause, { code: 'ENOSPC', errno: -28, syscall: 'write' });
  t.true(out.cause.path.startsWith(`${mnt}/.full.mkv.`), out.cause.path);
  t.true(out.cause.message.startsWith('ENOSPC: no space left on device, write '), out.cause.message);
  t.deepEqual(out.left, [], 'no partial file on the full disk');
});

test('toFile onto an existing directory is ERR_IO and leaves the directory alone', async (t) => {
  const dir = tmpDirFor(t);
  const dest = path.join(dir, 'adir.mp4');
  fs.mkdirSync(dest);
  fs.writeFileSync(path.join(dest, 'keep.txt'), 'x');
  await rejectsCode(t, enc.toFile(dest), 'ERR_IO');
  t.true(fs.statSync(dest).isDirectory());
  t.deepEqual(fs.readdirSync(dest), ['keep.txt']);
  t.deepEqual(listing(dir), ['adir.mp4']);
});

test('toFile with a non-string, non-URL dest is refused with a coded argument error', async (t) => {
  for (const bad of [42, null, {}]) {
    const err = await t.throwsAsync(async () => enc.toFile(bad));
    t.true(['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE'].includes(err.code), `dest ${JSON.stringify(bad)}: ${err.code} ${err.message}`);
  }
});

test('a failed encode (profile baseline + yuv444p) leaves no file and no temporary files', async (t) => {
  const dir = tmpDirFor(t);
  const dest = path.join(dir, 'fail.mp4');
  await rejectsCode(t, enc.toFile(dest, { pixelFormat: 'yuv444p', extraOptions: { profile: 'baseline' } }), 'ERR_ENCODE');
  t.false(fs.existsSync(dest));
  t.deepEqual(listing(dir), []);
});

test('a failed encode leaves a pre-existing dest with its exact bytes', async (t) => {
  const dir = tmpDirFor(t);
  const dest = path.join(dir, 'existing.mp4');
  const original = Buffer.from('precious bytes that must survive\n'.repeat(100));
  fs.writeFileSync(dest, original);
  await rejectsCode(t, enc.toFile(dest, { pixelFormat: 'yuv444p', extraOptions: { profile: 'baseline' } }), 'ERR_ENCODE');
  t.deepEqual(fs.readFileSync(dest), original);
  t.deepEqual(listing(dir), ['existing.mp4']);
});

test('an option error leaves a pre-existing dest untouched and no temporary files', async (t) => {
  const dir = tmpDirFor(t);
  const dest = path.join(dir, 'existing.mkv');
  const original = Buffer.from([1, 2, 3, 4, 5]);
  fs.writeFileSync(dest, original);
  await rejectsCode(t, enc.toFile(dest, { extraOptions: { notAnOption: 1 } }), 'ERR_INVALID_OPTION');
  await rejectsCode(t, enc.toFile(dest, { codec: 'nope' }), 'ERR_UNKNOWN_CODEC');
  t.deepEqual(fs.readFileSync(dest), original);
  t.deepEqual(listing(dir), ['existing.mkv']);
});

// serial: the concurrent tests of this file block the event loop in ffprobe (spawnSync), which would
// hold back the progress callback that aborts until the (short) encode is over
test.serial('an aborted encode leaves a pre-existing dest with its exact bytes and no temporary files', async (t) => {
  const dir = tmpDirFor(t);
  const dest = path.join(dir, 'existing.mp4');
  const original = Buffer.from('old video');
  fs.writeFileSync(dest, original);
  const n = 200;
  const big = new VideoEncoder({ data: makeFramesNCHW(n, 120, 160, { seed: 2 }), shape: [n, 3, 120, 160] }, { frameRate: 25 });
  const ac = new AbortController();
  const p = big.toFile(dest, {
    preset: 'veryslow',
    signal: ac.signal,
    onProgress: ({ framesEncoded }) => {
      if (framesEncoded >= 5) ac.abort();
    },
  });
  const err = await t.throwsAsync(p);
  t.is(err.name, 'AbortError');
  t.is(err.code, 'ABORT_ERR');
  t.deepEqual(fs.readFileSync(dest), original);
  t.deepEqual(listing(dir), ['existing.mp4']);
});

test('a successful encode replaces a pre-existing dest', async (t) => {
  const dir = tmpDirFor(t);
  const dest = path.join(dir, 'replace.mp4');
  fs.writeFileSync(dest, 'old contents');
  const result = await enc.toFile(dest);
  t.is(fs.statSync(dest).size, result.bytes);
  t.is(Number(probe(dest).video.nb_read_frames), N);
  t.deepEqual(listing(dir), ['replace.mp4']);
});

// serial: it changes the process's cwd, so it runs before the concurrent tests of this file
test.serial('toFile with a relative path writes relative to the current directory', async (t) => {
  const dir = tmpDirFor(t);
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    await enc.toFile('relative.mp4');
  } finally {
    process.chdir(cwd);
  }
  t.deepEqual(listing(dir), ['relative.mp4']);
});
