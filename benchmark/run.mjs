// framecodec benchmark (issue 5): framecodec vs the ffmpeg CLI on the same frames, side by side.
//
//   npm run bench                       full run (5 runs per row; ~15–20 min on a 2-core machine)
//   node benchmark/run.mjs --quick      2 runs per row, 100 frames of 720p / 40 of 1080p (~3–4 min)
//   options: --runs N  --sizes 720p,1080p  --presets ultrafast,medium  --no-stream  --keep-outputs
//
// Every measurement is a fresh child process; the rows of one (size, preset) group are alternated
// round-robin, run after run. See benchmark/README.md for what each row is and how to read the table.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SIZES, ensureFrames, FRAME_RATE } from './frames.mjs';
import { spawnMeasured, hasGnuTime, runNodeChild } from './measure.mjs';
import { runStreamMemory } from './stream-memory.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const RESULTS = path.join(HERE, 'results');
const MiB = 2 ** 20;

// ---------------------------------------------------------------- options
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1] : dflt;
};
if (flag('help') || flag('h')) {
  console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(0, 9).join('\n'));
  process.exit(0);
}
const quick = flag('quick');
const runs = Number(opt('runs', quick ? 2 : 5));
const sizeNames = opt('sizes', SIZES.map((s) => s.name).join(',')).split(',');
const presets = opt('presets', 'ultrafast,medium').split(',');
const quickFrames = { '720p': 100, '1080p': 40 };
const keepOutputs = flag('keep-outputs');
const log = (...m) => console.error(...m);

// ---------------------------------------------------------------- machine
function machine() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  const ffmpegVersion = execFileSync('ffmpeg', ['-hide_banner', '-version']).toString().split('\n')[0].trim();
  let x264 = '';
  try {
    const libs = execFileSync('sh', ['-c', 'ldd "$(command -v ffmpeg)" | grep -E "libx264|libavcodec" || true']).toString();
    x264 = libs.split('\n').map((l) => l.trim().split(' ')[0]).filter(Boolean).join(', ');
  } catch { /* informational only */ }
  let addonLibs = '';
  try {
    // The addon's own FFmpeg and x264 (the static build that ships, or the system's shared libraries).
    const { versions } = createRequire(import.meta.url)(path.join(ROOT, 'index.js'));
    addonLibs = `FFmpeg ${versions.ffmpeg} (${versions.ffmpegBuild})${versions.x264 ? `, x264 ${versions.x264}` : ''}`;
  } catch { /* informational only */ }
  return {
    host: os.hostname(),
    cpuModel: model,
    cores: os.cpus().length,
    ramGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    ffmpeg: ffmpegVersion,
    ffmpegLibs: x264,
    framecodecLinks: addonLibs,
    loadAvgAtStart: os.loadavg(),
  };
}

// ---------------------------------------------------------------- rows
const ROWS = [
  { id: 'fc-nchw', num: '1a', label: 'framecodec toFile, NCHW (planar RGB)', kind: 'framecodec', layout: 'nchw', target: 'file' },
  { id: 'fc-nhwc', num: '1b', label: 'framecodec toFile, NHWC RGB', kind: 'framecodec', layout: 'nhwc', target: 'file' },
  { id: 'fc-rgba', num: '1c', label: 'framecodec toFile, NHWC RGBA', kind: 'framecodec', layout: 'rgba', target: 'file' },
  { id: 'fc-buffer', num: '1d', label: 'framecodec toBuffer, NHWC RGB', kind: 'framecodec', layout: 'nhwc', target: 'buffer', only: { size: '720p', preset: 'ultrafast' } },
  // Whole processes, as the CLI rows: start-up, reading the raw rgb24 file, encoding, exit.
  { id: 'fc-writer', num: '1w', label: 'framecodec VideoWriter: rgb24 file read in chunks, written frame by frame (whole process)', kind: 'process', script: 'run-writer.mjs' },
  { id: 'fc-process', num: '1e', label: 'framecodec toFile NHWC, whole file read first (whole process)', kind: 'process', script: 'run-framecodec.mjs', layout: 'nhwc', target: 'file' },
  { id: 'cli-rgb', num: '2', label: 'ffmpeg CLI, raw rgb24 file', kind: 'cli', input: 'rgb' },
  { id: 'cli-yuv', num: '3', label: 'ffmpeg CLI, raw yuv420p file (floor)', kind: 'cli', input: 'yuv' },
  { id: 'pipe', num: '4', label: 'Node: spawn ffmpeg, frames → stdin', kind: 'pipe' },
];

function cliArgs(size, n, preset, input, files, out) {
  const common = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y'];
  const enc = ['-c:v', 'libx264', '-preset', preset, '-crf', '23', '-pix_fmt', 'yuv420p', '-color_range', 'tv', '-colorspace', 'bt709'];
  const frames = ['-frames:v', String(n)];
  if (input === 'rgb') {
    return [...common, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${size.width}x${size.height}`, '-r', String(FRAME_RATE), '-i', files.rgb,
      '-vf', 'scale=out_color_matrix=bt709:out_range=tv', ...enc, ...frames, out];
  }
  return [...common, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${size.width}x${size.height}`, '-r', String(FRAME_RATE), '-i', files.yuv,
    ...enc, ...frames, out];
}

async function withRetry(what, fn) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      // The native module may be being rebuilt by someone else (load error): wait and retry.
      if (attempt >= 2) throw e;
      log(`  ${what} failed (${e.message.split('\n')[0].slice(0, 300)}); retrying in 60 s`);
      await new Promise((r) => setTimeout(r, 60_000));
    }
  }
}

async function measure(row, size, n, preset, files, out) {
  const common = ['--rgb', files.rgb, '--width', String(size.width), '--height', String(size.height), '--frames', String(n), '--preset', preset, '--out', out];
  if (row.kind === 'framecodec') {
    return withRetry(row.id, () => runNodeChild(path.join(HERE, 'run-framecodec.mjs'), [...common, '--layout', row.layout, '--target', row.target]));
  }
  if (row.kind === 'pipe') {
    return withRetry(row.id, () => runNodeChild(path.join(HERE, 'run-pipe.mjs'), common));
  }
  if (row.kind === 'process') {
    return withRetry(row.id, () => measureProcess(row, common));
  }
  const { done } = spawnMeasured('ffmpeg', cliArgs(size, n, preset, row.input, files, out), { stdio: ['ignore', 'ignore', 'pipe'] });
  const r = await done;
  if (r.code !== 0) throw new Error(`ffmpeg (${row.id}) exited ${r.code}: ${r.stderr}`);
  return {
    encodeS: r.wallS,
    cpuS: r.cpuS,
    peakRssBytes: r.peakRssBytes,
    method: r.method,
    timeWallS: r.timeWallS,
    result: { frames: n, bytes: fs.statSync(out).size },
  };
}

/** A framecodec script timed as a whole process (spawn → exit), as the CLI rows are. */
async function measureProcess(row, common) {
  const args = [path.join(HERE, row.script), ...common, ...(row.layout ? ['--layout', row.layout, '--target', row.target] : [])];
  const { child, done } = spawnMeasured(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const r = await done;
  const line = out.split('\n').find((l) => l.startsWith('RESULT '));
  if (r.code !== 0 || !line) throw new Error(`${row.script} exited ${r.code}: ${r.stderr.slice(-2000)}`);
  const inner = JSON.parse(line.slice(7));
  return { encodeS: r.wallS, cpuS: r.cpuS, peakRssBytes: r.peakRssBytes, method: r.method, timeWallS: r.timeWallS, result: inner.result };
}

// ---------------------------------------------------------------- quality
function countFrames(file) {
  const r = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', file]);
  return Number(r.stdout.toString().trim());
}

/** PSNR (dB) of the decoded output against the rgb24 source, decoding with the BT.709 tv matrix. */
function psnr(file, size, files) {
  const r = spawnSync('ffmpeg', [
    '-hide_banner', '-nostdin', '-nostats', '-i', file,
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${size.width}x${size.height}`, '-r', String(FRAME_RATE), '-i', files.rgb,
    '-lavfi', '[0:v]scale=in_color_matrix=bt709:in_range=tv,format=rgb24[d];[d][1:v]psnr=shortest=1',
    '-f', 'null', '-',
  ], { maxBuffer: 64 * MiB });
  const m = /PSNR r:(\S+) g:(\S+) b:(\S+) average:(\S+) min:(\S+) max:(\S+)/.exec(r.stderr.toString());
  if (!m) throw new Error(`psnr failed for ${file}: ${r.stderr.toString().slice(-1000)}`);
  const [, rr, g, b, avg, min, max] = m.map(Number);
  return { r: rr, g, b, average: avg, min, max };
}

// ---------------------------------------------------------------- stats
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const f2 = (x, d = 2) => (x === undefined || x === null || Number.isNaN(x) ? '—' : x.toFixed(d));
const mib = (b) => (b === undefined ? '—' : (b / MiB).toFixed(0));

function summarize(row, samples) {
  const pick = (fn) => samples.map(fn).filter((v) => v !== undefined && v !== null);
  const s = {
    wallS: median(pick((x) => x.encodeS)),
    wallMinS: Math.min(...pick((x) => x.encodeS)),
    wallMaxS: Math.max(...pick((x) => x.encodeS)),
    cpuS: median(pick((x) => x.cpuS)),
    peakRssBytes: median(pick((x) => x.peakRssBytes)),
    bytes: median(pick((x) => x.result.bytes)),
  };
  const loads = pick((x) => x.loadS);
  if (loads.length) s.loadS = median(loads);
  if (row.kind !== 'cli' && row.kind !== 'process') {
    s.inputBytes = samples[0].inputBytes;
    s.peakMinusInputBytes = median(samples.map((x) => x.peakRssBytes - x.inputBytes));
  }
  if (row.kind === 'framecodec') {
    s.rssAtStartBytes = median(samples.map((x) => x.rssAtStartBytes));
    s.rssBeforeBytes = median(samples.map((x) => x.rssBeforeBytes));
    s.peakMinusBeforeBytes = median(samples.map((x) => x.peakRssBytes - x.rssBeforeBytes));
    s.eventLoopMaxMs = Math.max(...samples.map((x) => x.eventLoop.maxMs));
    s.eventLoopP99Ms = median(samples.map((x) => x.eventLoop.p99Ms));
    s.timerMaxLateMs = Math.max(...samples.map((x) => x.eventLoop.intervalMaxGapMs));
  }
  return s;
}

// ---------------------------------------------------------------- main
async function main() {
  const info = machine();
  const gnuTime = hasGnuTime();
  log(`framecodec benchmark${quick ? ' (--quick)' : ''}: ${runs} runs per row`);
  log(`machine: ${info.cpuModel}, ${info.cores} cores, ${info.ramGiB} GiB, ${info.node}, ${info.ffmpeg}`);
  log(`CLI rows measured with ${gnuTime ? '/usr/bin/time (GNU time)' : '/proc polling (GNU time not installed: apt-get install time for exact figures)'}`);
  if (info.loadAvgAtStart[0] > 0.5) {
    log(`WARNING: load average ${info.loadAvgAtStart.map((x) => x.toFixed(2)).join(' ')}: something else is running; timings will be noisy`);
  }

  const sizes = SIZES.filter((s) => sizeNames.includes(s.name));
  const files = {};
  for (const s of sizes) files[s.name] = ensureFrames(s, { log });

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'framecodec-bench-'));
  const groups = [];
  const t0 = performance.now();
  try {
    for (const size of sizes) {
      const n = quick ? quickFrames[size.name] : size.frames;
      for (const preset of presets) {
        const rows = ROWS.filter((r) => !r.only || (r.only.size === size.name && r.only.preset === preset));
        const samples = Object.fromEntries(rows.map((r) => [r.id, []]));
        const quality = {};
        log(`\n== ${size.name} (${size.width}x${size.height}) × ${n} frames, preset ${preset} ==`);
        for (let run = 0; run < runs; run++) {
          // round-robin, rotated each run so no row always follows the same one
          const order = rows.map((_, i) => rows[(i + run) % rows.length]);
          for (const row of order) {
            const out = path.join(tmp, `${size.name}-${preset}-${row.id}-${run}.mp4`);
            const loadAvg = os.loadavg()[0];
            const r = await measure(row, size, n, preset, files[size.name], out);
            r.loadAvg1m = loadAvg;
            r.run = run;
            samples[row.id].push(r);
            log(`  run ${run + 1}/${runs}  ${row.num.padEnd(3)} ${row.label.padEnd(40)} ${r.encodeS.toFixed(2)} s  cpu ${r.cpuS.toFixed(2)} s  peak ${mib(r.peakRssBytes)} MiB`);
            if (!quality[row.id]) {
              quality[row.id] = { frames: countFrames(out), psnr: psnr(out, size, files[size.name]) };
            }
            if (!keepOutputs) fs.rmSync(out, { force: true });
          }
        }
        const summary = {};
        for (const row of rows) summary[row.id] = { ...summarize(row, samples[row.id]), ...quality[row.id] };
        const ref2 = summary['cli-rgb'].wallS;
        const ref3 = summary['cli-yuv'].wallS;
        for (const row of rows) {
          const s = summary[row.id];
          s.fps = n / s.wallS;
          s.vsCliRgb = s.wallS / ref2;
          s.vsFloor = s.wallS / ref3;
        }
        groups.push({ size: size.name, width: size.width, height: size.height, frames: n, preset, rows: rows.map((r) => ({ ...r, summary: summary[r.id], samples: samples[r.id] })) });
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  let stream;
  if (!flag('no-stream')) {
    log('\n== stream memory (toStream) ==');
    stream = await runStreamMemory({ quick, log });
  }
  const totalS = (performance.now() - t0) / 1000;
  info.loadAvgAtEnd = os.loadavg();

  const md = markdown(info, groups, stream, { quick, runs, gnuTime, totalS });
  console.log(`\n${md}`);

  fs.mkdirSync(RESULTS, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  const host = info.host.replace(/[^A-Za-z0-9._-]/g, '_');
  const jsonPath = path.join(RESULTS, `${date}-${host}${quick ? '-quick' : ''}.json`);
  const mdPath = path.join(RESULTS, quick ? 'latest-quick.md' : 'latest.md');
  fs.writeFileSync(jsonPath, JSON.stringify({ date: new Date().toISOString(), quick, runs, machine: info, measurement: gnuTime ? 'gnu-time' : 'proc-poll', totalS, groups, stream }, null, 2));
  fs.writeFileSync(mdPath, `${md}\n`);
  log(`\nwrote ${path.relative(ROOT, jsonPath)} and ${path.relative(ROOT, mdPath)} (${(totalS / 60).toFixed(1)} min)`);
}

function markdown(info, groups, stream, { quick, runs, gnuTime, totalS }) {
  const L = [];
  L.push(`### framecodec benchmark${quick ? ' (quick run: fewer frames and runs — not for the README)' : ''}`);
  L.push('');
  L.push(`Machine: ${info.cpuModel}, ${info.cores} cores, ${info.ramGiB} GiB RAM, ${info.os}; Node ${info.node}; ${info.ffmpeg} (CLI), framecodec linked against ${info.framecodecLinks || '?'}. ` +
    `Load average at start ${info.loadAvgAtStart.map((x) => x.toFixed(2)).join(' ')}, at end ${info.loadAvgAtEnd.map((x) => x.toFixed(2)).join(' ')}.`);
  if (info.loadAvgAtStart[0] > 0.5) {
    L.push('');
    L.push(`**Warning:** the machine was not idle when this run started (load average ${info.loadAvgAtStart[0].toFixed(2)}); wall times and ratios are noisy. CPU seconds, RSS, sizes and PSNR are still meaningful.`);
  }
  L.push('');
  L.push(`libx264, crf 23, yuv420p, mp4, default (automatic) threads everywhere. Median of ${runs} runs per row, rows alternated round-robin; each run a fresh process. ` +
    `Wall = the encode only (framecodec: the toFile/toBuffer call; CLI: the ffmpeg process, reading its raw file; row 4: spawn → exit while writing the frames). ` +
    `×2 / ×3 = wall time relative to row 2 (CLI from rgb24) / row 3 (CLI from yuv420p, the encoder floor); < 1 is faster. ` +
    `CPU = user+sys seconds; peak RSS of the measuring process (row 4: Node + ffmpeg). PSNR = average over R,G,B of the decoded output vs the rgb24 source (BT.709 tv decode). ` +
    `${gnuTime ? 'CLI figures from GNU time.' : 'CLI figures from /proc polling (GNU time missing).'} Total benchmark time ${(totalS / 60).toFixed(1)} min.`);
  for (const g of groups) {
    L.push('');
    L.push(`#### ${g.size} (${g.width}×${g.height}) × ${g.frames} frames, preset ${g.preset}`);
    L.push('');
    L.push('| # | row | wall s | fps | ×2 | ×3 | CPU s | peak RSS MiB | load s | output KiB | PSNR dB | frames |');
    L.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of g.rows) {
      const s = r.summary;
      L.push(`| ${r.num} | ${r.label} | ${f2(s.wallS)} | ${f2(s.fps, 0)} | ${f2(s.vsCliRgb)} | ${f2(s.vsFloor)} | ${f2(s.cpuS)} | ${mib(s.peakRssBytes)} | ${s.loadS === undefined ? '—' : f2(s.loadS, 1)} | ${(s.bytes / 1024).toFixed(0)} | ${f2(s.psnr?.average)} | ${s.frames} |`);
    }
  }

  // memory and event loop (framecodec rows), 720p ultrafast if present, else the first group
  const mg = groups.find((g) => g.size === '720p' && g.preset === 'ultrafast') ?? groups[0];
  if (mg) {
    L.push('');
    L.push(`#### Memory and event loop, ${mg.size} × ${mg.frames} frames, ${mg.preset}`);
    L.push('');
    L.push('Baseline: RSS of the process after loading the addon (Node + FFmpeg libraries), before any frames. ' +
      'Peak RSS − input: the whole process beyond the frames handed to the encoder, baseline included; target ≤ 80 MiB for toFile. ' +
      'Peak − before: growth of the peak during the encode over the RSS just before it (the encode\'s own memory). Event loop: `monitorEventLoopDelay` (5 ms resolution) during the encode, max over runs and median p99; ' +
      'timer late: the worst lateness of a 5 ms `setInterval`.');
    L.push('');
    L.push('| # | row | input MiB | baseline MiB | peak RSS MiB | peak − input MiB | peak − before MiB | ≤ input + 80 MiB | event loop max ms | p99 ms | timer late max ms |');
    L.push('|---|---|---:|---:|---:|---:|---:|:---:|---:|---:|---:|');
    for (const r of mg.rows) {
      const s = r.summary;
      if (r.kind === 'framecodec') {
        L.push(`| ${r.num} | ${r.label} | ${mib(s.inputBytes)} | ${mib(s.rssAtStartBytes)} | ${mib(s.peakRssBytes)} | ${mib(s.peakMinusInputBytes)} | ${mib(s.peakMinusBeforeBytes)} | ${s.peakMinusInputBytes <= 80 * MiB ? 'yes' : 'no'} | ${f2(s.eventLoopMaxMs, 1)} | ${f2(s.eventLoopP99Ms, 1)} | ${f2(s.timerMaxLateMs, 1)} |`);
      } else if (r.kind === 'pipe') {
        L.push(`| ${r.num} | ${r.label} | ${mib(s.inputBytes)} | — | ${mib(s.peakRssBytes)} | ${mib(s.peakMinusInputBytes)} | — | — | — | — | — |`);
      }
    }
    const allFc = groups.flatMap((g) => g.rows.filter((r) => r.kind === 'framecodec').map((r) => r.summary.eventLoopMaxMs));
    if (allFc.length) L.push('', `Event-loop max delay over every framecodec encode of this run: ${f2(Math.max(...allFc), 1)} ms.`);
  }

  // targets (issue 5)
  L.push('');
  L.push('#### Targets (issue 5)');
  L.push('');
  for (const g of groups) {
    const lim = g.preset === 'medium' ? 1.05 : g.preset === 'ultrafast' ? 1.15 : undefined;
    const fc = g.rows.filter((r) => r.kind === 'framecodec' && r.target === 'file');
    const parts = fc.map((r) => `${r.layout.toUpperCase()} ${f2(r.summary.vsFloor)}×${lim ? (r.summary.vsFloor <= lim ? ' ✓' : ' ✗') : ''}`);
    const rgb = g.rows.find((r) => r.id === 'fc-nhwc')?.summary.wallS;
    const rgba = g.rows.find((r) => r.id === 'fc-rgba')?.summary.wallS;
    const rgbaPart = rgb && rgba ? `; RGBA/RGB ${f2(rgba / rgb)} (target ≤ 1.05${rgba / rgb <= 1.05 ? ' ✓' : ' ✗'})` : '';
    L.push(`- ${g.size} ${g.preset}: time vs floor (target ≤ ${lim ?? '?'}×) ${parts.join(', ')}${rgbaPart}`);
    const writer = g.rows.find((r) => r.id === 'fc-writer')?.summary.vsFloor;
    if (writer !== undefined) L.push(`- ${g.size} ${g.preset}: VideoWriter from the rgb24 file, whole process vs the floor's whole process (issue 10 target ≤ 1.05×): ${f2(writer)}×${writer <= 1.05 ? ' ✓' : ' ✗'}`);
  }

  if (stream) {
    L.push('');
    L.push('#### Stream memory (issue 3)');
    L.push('');
    L.push(stream.markdown);
  }
  return L.join('\n');
}

await main();
