// Writer memory (issue 10): does a VideoWriter's memory stay flat however many frames it writes?
//
// 720p frames read round and round from the benchmark's raw rgb24 file and written one by one
// (run-writer.mjs --loop: two one-frame buffers, refilled), libx264 ultrafast, into a file as mpegts
// and as fragmented mp4, and as mpegts with an aac track written after each frame (1/30 s of stereo
// 48 kHz samples per writeAudio()), at two lengths. Each measurement is a fresh process; lengths and formats are
// alternated run after run; medians are reported. Target: the peak RSS after 10 000 frames within
// 20 MiB of the peak after 1 000.
//
//   node benchmark/writer-memory.mjs                    1000 and 10000 frames, 5 runs
//   node benchmark/writer-memory.mjs --quick            300 and 1500 frames, 2 runs
//   node benchmark/writer-memory.mjs --frames 1000,10000 --runs 5 --json
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SIZES, ensureFrames } from './frames.mjs';
import { parseArgs, spawnMeasured } from './measure.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MiB = 2 ** 20;

const CASES = [
  { id: 'ts', label: 'toFile .ts (mpegts)', ext: 'ts' },
  { id: 'fmp4', label: 'toFile fragmented .mp4', ext: 'mp4', movflags: '+frag_keyframe+empty_moov+default_base_moof' },
  { id: 'ts-audio', label: 'toFile .ts + aac audio', ext: 'ts', audio: true },
];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** One writer run in a fresh process: its peak RSS, wall time and output size. */
async function measure(files, size, c, frames, tmp) {
  const out = path.join(tmp, `writer-${c.id}-${frames}.${c.ext}`);
  const args = [path.join(HERE, 'run-writer.mjs'), '--rgb', files.rgb, '--width', String(size.width), '--height', String(size.height),
    '--frames', String(frames), '--preset', 'ultrafast', '--out', out, '--loop', ...(c.movflags ? ['--movflags', c.movflags] : []), ...(c.audio ? ['--audio'] : [])];
  const { child, done } = spawnMeasured(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  const r = await done;
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (r.code !== 0 || !line) throw new Error(`run-writer.mjs exited ${r.code}: ${r.stderr.slice(-2000)}`);
  const inner = JSON.parse(line.slice(7));
  const bytes = fs.statSync(out).size;
  fs.rmSync(out, { force: true });
  if (inner.result.frames !== frames) throw new Error(`${c.id}: wrote ${inner.result.frames} frames, not ${frames}`);
  return { peakRssBytes: r.peakRssBytes, wallS: r.wallS, rssAtStartBytes: inner.rssAtStartBytes, bytes };
}

export async function runWriterMemory({ quick = false, runs = quick ? 2 : 5, lengths = quick ? [300, 1500] : [1000, 10000], log = console.error } = {}) {
  const size = SIZES.find((s) => s.name === '720p');
  const files = ensureFrames(size, { log });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'framecodec-writer-mem-'));
  const samples = {};
  try {
    const jobs = CASES.flatMap((c) => lengths.map((frames) => ({ c, frames })));
    for (let run = 0; run < runs; run++) {
      const order = jobs.map((_, i) => jobs[(i + run) % jobs.length]);
      for (const { c, frames } of order) {
        const m = await measure(files, size, c, frames, tmp);
        (samples[`${c.id}:${frames}`] ??= []).push(m);
        log(`  run ${run + 1}/${runs}  ${c.label.padEnd(24)} ${String(frames).padStart(6)} frames  peak ${(m.peakRssBytes / MiB).toFixed(1)} MiB  ${m.wallS.toFixed(1)} s`);
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const [short, long] = [lengths[0], lengths.at(-1)];
  const rows = CASES.map((c) => {
    const at = (frames) => {
      const xs = samples[`${c.id}:${frames}`];
      return { peakMiB: median(xs.map((x) => x.peakRssBytes)) / MiB, wallS: median(xs.map((x) => x.wallS)), outMiB: median(xs.map((x) => x.bytes)) / MiB, peaks: xs.map((x) => x.peakRssBytes / MiB) };
    };
    const a = at(short);
    const b = at(long);
    return { ...c, short: a, long: b, growthMiB: b.peakMiB - a.peakMiB };
  });
  const L = [];
  L.push(`720p (1280×720) frames read from the raw rgb24 file and written one by one (two one-frame buffers), libx264 ultrafast crf 23, into a file. Median peak RSS of ${runs} runs per cell (fresh process each, alternated). Target: growth ≤ 20 MiB.`);
  L.push('');
  L.push(`| output | peak RSS, ${short} frames | peak RSS, ${long} frames | growth | output size (${long}) | wall s (${long}) |`);
  L.push('|---|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    L.push(`| ${r.label} | ${r.short.peakMiB.toFixed(1)} MiB | ${r.long.peakMiB.toFixed(1)} MiB | ${r.growthMiB >= 0 ? '+' : ''}${r.growthMiB.toFixed(1)} MiB ${Math.abs(r.growthMiB) <= 20 ? '✓' : '✗'} | ${r.long.outMiB.toFixed(0)} MiB | ${r.long.wallS.toFixed(1)} |`);
  }
  return { rows, markdown: L.join('\n') };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const a = parseArgs(process.argv.slice(2));
  const lengths = a.frames ? String(a.frames).split(',').map(Number) : undefined;
  const result = await runWriterMemory({ quick: Boolean(a.quick), runs: a.runs ? Number(a.runs) : undefined, lengths });
  console.log(a.json ? JSON.stringify(result, null, 2) : result.markdown);
}
