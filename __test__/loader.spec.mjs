// When the native binary cannot load, require('framecodec') says why in one line — which platform
// packages exist, what this machine is, what is missing — instead of napi-rs's loader blaming an npm bug
// with the real cause several `cause`s deep. Each case runs a copy of the package's JavaScript in a child
// process, with the binary missing, corrupt, or the machine made to look like another.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpDirFor } from './helpers/media.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const [linux] = pkg.framecodec.platforms;

/** A copy of the package's JavaScript in a fresh directory, with `node` (a file's bytes) as its binary. */
function packageCopy(t, node) {
  const dir = tmpDirFor(t, 'framecodec-loader-');
  for (const file of ['index.js', 'binding.js', 'package.json']) fs.copyFileSync(path.join(root, file), path.join(dir, file));
  if (node !== undefined) fs.writeFileSync(path.join(dir, 'framecodec.linux-x64-gnu.node'), node);
  return dir;
}

/** require() of the copy in a child, after `prelude`; the error it threw, as JSON. */
function requireIn(dir, prelude = '') {
  const script = `${prelude}
    try { require(${JSON.stringify(path.join(dir, 'index.js'))}); console.log(JSON.stringify({ loaded: true })) }
    catch (e) { console.log(JSON.stringify({ message: e.message, code: e.code, cause: Boolean(e.cause), lines: e.message.split('\\n').length })) }`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, NAPI_RS_NATIVE_LIBRARY_PATH: '' } });
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

test('the package declares its platform packages (the loader error names them)', (t) => {
  t.deepEqual(pkg.napi.targets, ['x86_64-unknown-linux-gnu']);
  t.is(linux.package, 'framecodec-linux-x64-gnu');
  t.deepEqual([linux.os, linux.cpu, linux.libc], ['linux', 'x64', 'glibc']);
  t.regex(linux.glibc, /^2\.\d+$/);
});

test('a binary that cannot load: one line naming the package, this machine and the loader\'s words', (t) => {
  const err = requireIn(packageCopy(t, Buffer.from('not an ELF file')));
  t.is(err.code, 'ERR_FRAMECODEC_NATIVE_BINARY');
  t.is(err.lines, 1);
  t.true(err.cause);
  t.regex(err.message, /^framecodec: framecodec-linux-x64-gnu cannot load on this machine \(linux x64 glibc [\d.]+\): .*(ELF|invalid|file too short)/);
});

test('no binary installed: says which package to install', (t) => {
  const err = requireIn(packageCopy(t));
  t.is(err.code, 'ERR_FRAMECODEC_NATIVE_BINARY');
  t.is(err.lines, 1);
  t.true(err.message.includes(`framecodec-linux-x64-gnu, the native binary for this machine (linux x64`), err.message);
  t.true(err.message.includes(`npm install framecodec-linux-x64-gnu@${pkg.version}`), err.message);
});

test('another platform: lists the platform packages that exist', (t) => {
  const err = requireIn(packageCopy(t), "Object.defineProperty(process, 'platform', { value: 'darwin' }); Object.defineProperty(process, 'arch', { value: 'arm64' });");
  t.is(err.code, 'ERR_FRAMECODEC_NATIVE_BINARY');
  t.is(err.message, `framecodec: no native binary for this machine (darwin arm64): framecodec ships framecodec-linux-x64-gnu (linux x64, glibc >= ${linux.glibc})`);
});

test('an older glibc than the binary needs: says which it needs', (t) => {
  const prelude = `const real = process.report.getReport.bind(process.report);
    process.report.getReport = () => { const r = real(); r.header.glibcVersionRuntime = '2.17'; return r };`;
  const err = requireIn(packageCopy(t, Buffer.from('not an ELF file')), prelude);
  t.is(err.code, 'ERR_FRAMECODEC_NATIVE_BINARY');
  t.regex(err.message, new RegExp(`^framecodec: framecodec-linux-x64-gnu needs glibc >= ${linux.glibc.replace('.', '\\.')}, and this machine \\(linux x64 glibc 2\\.17\\) has an older one`));
});

test('the real package loads, and versions says what it carries', (t) => {
  const { versions } = JSON.parse(spawnSync(process.execPath, ['-e', `console.log(JSON.stringify({ versions: require(${JSON.stringify(path.join(root, 'index.js'))}).versions }))`], { encoding: 'utf8' }).stdout);
  t.is(versions.framecodec, pkg.version);
  for (const lib of ['ffmpeg', 'libavcodec', 'libavformat', 'libavutil', 'libswscale', 'libswresample']) t.regex(versions[lib], /\d/, lib);
  t.regex(versions.libavcodec, /^\d+\.\d+\.\d+$/);
  t.is(versions.license, 'GPL-2.0-or-later');
  t.true(['static', 'system'].includes(versions.ffmpegBuild));
  if (versions.ffmpegBuild === 'static') {
    for (const lib of ['x264', 'x265', 'libvpx']) t.regex(versions[lib] ?? '', /\d/, `${lib} is bundled: ${versions[lib]}`);
  }
});
