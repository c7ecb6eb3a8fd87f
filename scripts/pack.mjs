// Makes the two npm packages of a release as local tarballs, the way napi-rs packages are published:
//
//   framecodec-linux-x64-gnu-<v>.tgz   the native binary alone (os/cpu/libc declared), GPL-2.0-or-later
//                                      (x264 and x265 are inside), with the GPL text and the notices of
//                                      every library bundled in it;
//   framecodec-<v>.tgz                 the JavaScript (index.js, the generated loader binding.js, types),
//                                      MIT, with the platform package as an optionalDependency: npm installs
//                                      it only where os/cpu/libc match, and the loader finds it.
//
//   node scripts/pack.mjs [--out dist] [--no-build] [--require-static]
//
// --require-static fails unless the binary carries FFmpeg statically (the release build): then its
// dynamic dependencies must be glibc's alone. The binary's newest GLIBC_ symbol version must not be
// above the minimum declared in package.json (`framecodec.platforms`), which the loader's error quotes.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name, dflt) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : dflt);
const out = path.resolve(opt('out', path.join(ROOT, 'dist')));
const log = (...m) => console.error('pack:', ...m);

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const [platform] = pkg.framecodec.platforms;
const nodeFile = 'framecodec.linux-x64-gnu.node';

if (!argv.includes('--no-build')) {
  log('building the release binary (npm run build)');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}
const binary = path.join(ROOT, nodeFile);
if (!fs.existsSync(binary)) throw new Error(`${binary} is missing: build first (npm run build)`);

// ---------------------------------------------------------------- what the binary is
const needed = execFileSync('sh', ['-c', `objdump -p "${binary}" | awk '/NEEDED/ { print $2 }'`]).toString().trim().split('\n').filter(Boolean);
// glibc's own libraries (libmvec: its vector maths, which x265 uses), and gcc's runtime.
const glibcOnly = needed.every((lib) => /^(libc|libm|libmvec|libdl|libpthread|librt|ld-linux-x86-64|libgcc_s)\.so/.test(lib));
const glibcFloor = execFileSync('sh', ['-c', `objdump -T "${binary}" | grep -o 'GLIBC_[0-9.]*' | sort -Vu | tail -1`]).toString().trim().replace('GLIBC_', '');
const versions = JSON.parse(execFileSync(process.execPath, ['-e', `console.log(JSON.stringify(require(${JSON.stringify(path.join(ROOT, 'index.js'))}).versions))`]).toString());
log(`${nodeFile}: ${(fs.statSync(binary).size / 2 ** 20).toFixed(1)} MiB, needs ${needed.join(' ')}, glibc >= ${glibcFloor}, FFmpeg ${versions.ffmpeg} (${versions.ffmpegBuild})`);
/** Whether version a (`2.34`) is below version b. */
function below(a, b) {
  const [x, y] = [a, b].map((v) => v.split('.').map(Number));
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) < (y[i] ?? 0);
  return false;
}
if (below(platform.glibc, glibcFloor)) {
  throw new Error(`the binary needs glibc ${glibcFloor}, but package.json declares ${platform.glibc}: update framecodec.platforms`);
}
if (argv.includes('--require-static') && (versions.ffmpegBuild !== 'static' || !glibcOnly)) {
  throw new Error(`not the release build: FFmpeg is ${versions.ffmpegBuild}, and the binary needs ${needed.join(', ')}`);
}

// ---------------------------------------------------------------- staging
const stage = path.join(out, 'stage');
fs.rmSync(stage, { recursive: true, force: true });
const write = (dir, name, text) => fs.writeFileSync(path.join(dir, name), text);
const copy = (from, dir, name = path.basename(from)) => fs.copyFileSync(path.join(ROOT, from), path.join(dir, name));

const bundled = Object.entries(versions).filter(([k]) => !['framecodec', 'license', 'ffmpegBuild'].includes(k));
const manifest = versions.ffmpegBuild === 'static' ? readManifest() : null;

const platformDir = path.join(stage, platform.package);
fs.mkdirSync(platformDir, { recursive: true });
copy(nodeFile, platformDir);
copy('licenses/GPL-2.0.txt', platformDir, 'LICENSE');
write(platformDir, 'THIRD-PARTY-NOTICES.md', notices());
write(platformDir, 'README.md', `# ${platform.package}\n\nThe native binary of [framecodec](https://www.npmjs.com/package/framecodec) ${pkg.version} for ${platform.os} ${platform.cpu} (${platform.libc} >= ${platform.glibc}). Install \`framecodec\`, not this package: npm picks the binary for your machine.\n\nIt carries FFmpeg ${versions.ffmpeg} and the codec libraries listed in THIRD-PARTY-NOTICES.md, linked in statically; with x264 and x265 inside, the binary as a whole is licensed ${versions.license} (LICENSE). framecodec's own source is MIT.\n`);
write(platformDir, 'package.json', `${JSON.stringify({
  name: platform.package,
  version: pkg.version,
  description: `framecodec's native binary for ${platform.os} ${platform.cpu} (${platform.libc} >= ${platform.glibc}), with FFmpeg ${versions.ffmpeg} inside`,
  main: nodeFile,
  files: [nodeFile, 'LICENSE', 'THIRD-PARTY-NOTICES.md', 'README.md'],
  os: [platform.os],
  cpu: [platform.cpu],
  libc: [platform.libc],
  engines: pkg.engines,
  license: versions.license,
  framecodec: { glibc: platform.glibc, ffmpegBuild: versions.ffmpegBuild, versions },
}, null, 2)}\n`);

const mainDir = path.join(stage, pkg.name);
fs.mkdirSync(mainDir, { recursive: true });
for (const file of ['index.js', 'binding.js', 'index.d.ts', 'README.md', 'LICENSE']) copy(file, mainDir);
const { scripts, devDependencies, ava, ...published } = pkg;
void scripts;
void devDependencies;
void ava;
write(mainDir, 'package.json', `${JSON.stringify({
  ...published,
  files: ['index.js', 'binding.js', 'index.d.ts', 'README.md', 'LICENSE'],
  optionalDependencies: { [platform.package]: pkg.version },
}, null, 2)}\n`);

// ---------------------------------------------------------------- tarballs
fs.mkdirSync(out, { recursive: true });
const tarballs = [platformDir, mainDir].map((dir) => {
  const name = execFileSync('npm', ['pack', '--silent', '--pack-destination', out], { cwd: dir }).toString().trim().split('\n').pop();
  return path.join(out, name);
});
fs.rmSync(stage, { recursive: true, force: true });
for (const t of tarballs) log(`${path.relative(process.cwd(), t)}: ${(fs.statSync(t).size / 2 ** 20).toFixed(2)} MiB`);
console.log(JSON.stringify({ tarballs, binaryBytes: fs.statSync(binary).size, needed, glibcFloor, versions }));

/** The manifest of the static FFmpeg build (scripts/ffmpeg/build.sh prints its prefix; cached, instant). */
function readManifest() {
  const prefix = process.env.FRAMECODEC_FFMPEG_PREFIX
    || execFileSync('bash', [path.join(ROOT, 'scripts/ffmpeg/build.sh')], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim().split('\n').pop();
  const file = path.join(prefix, 'share/framecodec/manifest.json');
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : null;
}

function notices() {
  const lines = [`# Third-party software in ${nodeFile}`, '',
    `framecodec ${pkg.version} (MIT) links these libraries into its native binary, which is therefore licensed ${versions.license} as a whole (see LICENSE).`, ''];
  if (manifest) {
    lines.push('| library | version | Debian source package | licence |', '|---|---|---|---|');
    lines.push(`| FFmpeg | ${manifest.ffmpeg?.version ?? versions.ffmpeg} | ${manifest.ffmpeg?.debian ?? ''} | ${manifest.ffmpeg?.license ?? ''} |`);
    for (const l of manifest.libraries ?? []) {
      const patches = l.debian_patches?.length ? ` (with Debian's patches: ${l.debian_patches.join(', ')})` : '';
      lines.push(`| ${l.name} | ${l.version} | ${l.debian ?? ''}${patches} | ${l.license} |`);
    }
    lines.push('', 'x265 brings in libstdc++ (GCC Runtime Library Exception), linked statically.');
    if (manifest.configure) lines.push('', `FFmpeg was configured with: \`${manifest.configure}\``);
  } else {
    lines.push(`FFmpeg ${versions.ffmpeg} is the system's (shared libraries, not bundled): ${bundled.map(([k, v]) => `${k} ${v}`).join(', ')}.`);
  }
  lines.push('', 'Sources: the Debian source packages named above (https://sources.debian.org), built by scripts/ffmpeg/build.sh of framecodec\'s repository.');
  return `${lines.join('\n')}\n`;
}
