// Stream memory (issue 3): does toStream's memory stay flat as the video gets longer?
//
// A long video (640×360, a few distinct generated frames tiled into one big buffer, so the input is
// really N frames long) is encoded with libx264 ultrafast through `encoder.toStream(counting, fmt)`
// into a Writable that only counts bytes, in a fresh child process per measurement, at two lengths.
// Reported: peak RSS, RSS before the encode (Node + input), peak − input bytes, and the growth of
// (peak − input) from the short to the long video. For mpegts and fragmented mp4 the growth should
// be ~0 (bounded memory); plain mp4 through a stream uses seek emulation and holds the whole output,
// so it grows by about the output size (there for contrast). toFile to .ts is a reference for what
// the encoder itself costs.
//
//   node benchmark/stream-memory.mjs            300 and 1200 frames
//   node benchmark/stream-memory.mjs --quick    100 and 400 frames
//   node benchmark/stream-memory.mjs --frames 300,1200,2400
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { tiledFrames } from './frames.mjs';

import { runNodeChild } from './measure.mjs';

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), '..');
const WIDTH = 640;
const HEIGHT = 360;
const DISTINCT = 48;
const MiB = 2 ** 20;

export const CASES = [
  { id: 'ts', label: 'toStream mpegts (ts)', mode: 'stream', format: 'ts', extraOptions: undefined },
  {
    id: 'fmp4',
    label: 'toStream fragmented mp4',
    mode: 'stream',
    format: 'mp4',
    extraOptions: { movflags: '+frag_keyframe+empty_moov+default_base_moof' },
  },
  { id: 'mp4', label: 'toStream mp4 (seek emulation, holds output)', mode: 'stream', format: 'mp4', extraOptions: undefined },
  { id: 'file-ts', label: 'toFile .ts (reference)', mode: 'file', format: 'ts', extraOptions: undefined },
];

// ---------------------------------------------------------------- child: one measurement
async function child(caseId, frames) {
  const require = createRequire(import.meta.url);
  const { VideoEncoder } = require(path.join(ROOT, 'index.js'));
  const c = CASES.find((x) => x.id === caseId);
  const data = tiledFrames(WIDTH, HEIGHT, Math.min(DISTINCT, frames), frames);
  const encoder = new VideoEncoder({ data, shape: [frames, HEIGHT, WIDTH, 3], layout: 'NHWC' }, { frameRate: 30 });
  const opts = { codec: 'libx264', preset: 'ultrafast', crf: 23, pixelFormat: 'yuv420p' };
  if (c.extraOptions) opts.extraOptions = c.extraOptions;
  const rssBeforeBytes = process.memoryUsage().rss;
  const t0 = performance.now();
  let bytes = 0;
  let writes = 0;
  let maxChunk = 0;
  let result;
  let tmp;
  if (c.mode === 'stream') {
    const counting = new Writable({
      write(chunk, _enc, cb) {
        bytes += chunk.length;
        writes++;
        if (chunk.length > maxChunk) maxChunk = chunk.length;
        cb();
      },
    });
    result = await encoder.toStream(counting, c.format, opts);
  } else {
    tmp = path.join(os.tmpdir(), `framecodec-bench-stream-${process.pid}.${c.format}`);
    result = await encoder.toFile(tmp, opts);
    bytes = fs.statSync(tmp).size;
    fs.rmSync(tmp, { force: true });
  }
  const encodeS = (performance.now() - t0) / 1000;
  const out = {
    case: c.id,
    frames,
    width: WIDTH,
    height: HEIGHT,
    inputBytes: data.length,
    rssBeforeBytes,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    encodeS,
    bytes,
    writes,
    maxChunkBytes: maxChunk,
    result,
  };
  process.stdout.write(`RESULT ${JSON.stringify(out)}\n`);
}

// ---------------------------------------------------------------- parent
function runChild(caseId, frames) {
  return runNodeChild(SELF, ['--child', caseId, String(frames)], `stream-memory child ${caseId} ${frames}`);
}

async function runChildRetry(caseId, frames, log) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await runChild(caseId, frames);
    } catch (e) {
      // The native module may be being rebuilt by someone else: wait and retry a couple of times.
      if (attempt >= 2) throw e;
      log(`  (${e.message.split('\n')[0].slice(0, 200)}; retrying in 60 s)`);
      await new Promise((r) => setTimeout(r, 60_000));
    }
  }
}

const mib = (b) => (b / MiB).toFixed(1);

/** Runs every case at every length; returns { lengths, rows, markdown }. */
export async function runStreamMemory({ quick = false, lengths, log = console.error } = {}) {
  lengths ??= quick ? [100, 400] : [300, 1200];
  const rows = [];
  for (const c of CASES) {
    const perLen = [];
    for (const n of lengths) {
      log(`stream-memory: ${c.label}, ${n} frames`);
      perLen.push(await runChildRetry(c.id, n, log));
    }
    const over = perLen.map((r) => r.peakRssBytes - r.inputBytes);
    rows.push({ ...c, runs: perLen, overInputBytes: over, growthBytes: over[over.length - 1] - over[0] });
  }
  const head = `| case | ${lengths.map((n) => `peak RSS − input, ${n} fr (MiB)`).join(' | ')} | growth (MiB) | ${lengths.map((n) => `output ${n} fr (MiB)`).join(' | ')} | output growth (MiB) |`;
  const sep = `|---|${'---:|'.repeat(2 + 2 * lengths.length)}`;
  const lines = rows.map((r) =>
    `| ${r.label} | ${r.overInputBytes.map(mib).join(' | ')} | ${r.growthBytes >= 0 ? '+' : ''}${mib(r.growthBytes)} | ${r.runs.map((x) => mib(x.bytes)).join(' | ')} | +${mib(r.runs[r.runs.length - 1].bytes - r.runs[0].bytes)} |`);
  const inputs = lengths.map((n, i) => `${n} frames = ${mib(rows[0].runs[i].inputBytes)} MiB`).join(', ');
  const markdown = [
    `Stream memory: ${WIDTH}×${HEIGHT} rgb24 NHWC input (${inputs}; ${DISTINCT} distinct frames tiled), libx264 ultrafast crf 23, into a Writable that only counts bytes; one child process per cell. ` +
      'Growth = (peak RSS − input) at the longest length minus at the shortest: ≈ 0 (a few MiB of noise) means memory does not grow with the video; ' +
      'plain mp4 (seek emulation) is expected to grow by about the output growth.',
    '',
    head,
    sep,
    ...lines,
  ].join('\n');
  return { width: WIDTH, height: HEIGHT, lengths, rows, markdown };
}

if (process.argv[1] && path.resolve(process.argv[1]) === SELF) {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    await child(argv[1], Number(argv[2]));
  } else {
    const i = argv.indexOf('--frames');
    const lengths = i >= 0 ? argv[i + 1].split(',').map(Number) : undefined;
    const r = await runStreamMemory({ quick: argv.includes('--quick'), lengths });
    console.log(r.markdown);
    if (argv.includes('--json')) console.log(JSON.stringify(r, null, 2));
  }
}
