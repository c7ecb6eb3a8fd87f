// Child process of fuzz.spec.mjs: runs cases [from, to) of batch `batch` of the fuzz seeded `seed`.
//   node __test__/fuzz/batch.mjs [--kind writer|audio] --seed S --batch B --count N --from I --to J --results FILE --root DIR
// Case i of the batch is the i-th value fast-check samples, with seed S+B (so any case replays from its
// kind, seed, batch and index), from `caseSpec` (VideoEncoder, cases.mjs), with --kind writer from
// `writerCaseSpec` (VideoWriter, writer-cases.mjs), with --kind audio from the audio track's cases (a
// VideoWriter with `audio`, writer-cases.mjs, or the one-shot constructor with `audio`, audio-cases.mjs).
// Results are JSON lines appended synchronously to FILE (they survive a crash): {start: i, spec} before
// each case, then {i, outcome} or {i, failure, spec}, and {done: true} at the end. With --print, each
// case's description and outcome go to stdout too.
import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { caseSpec, runCase, Ctx, restoreSandbox } from './cases.mjs';
import { writerCaseSpec, writerAudioCaseSpec, runWriterCall } from './writer-cases.mjs';
import { ctorAudioCaseSpec, runAudioCtorCall } from './audio-cases.mjs';

const { values: a } = parseArgs({
  options: {
    seed: { type: 'string' }, batch: { type: 'string', default: '0' }, count: { type: 'string' },
    from: { type: 'string', default: '0' }, to: { type: 'string' }, results: { type: 'string' },
    root: { type: 'string' }, print: { type: 'boolean', default: false }, kind: { type: 'string', default: 'encoder' },
  },
});
const seed = Number(a.seed);
const batch = Number(a.batch);
const count = Number(a.count ?? a.to);
const from = Number(a.from);
const to = Number(a.to ?? count);
const root = a.root ?? fs.mkdtempSync('/tmp/framecodec-fuzz-');
const dirs = { root, out: path.join(root, 'out'), cwd: path.join(root, 'cwd') };
restoreSandbox(dirs);
process.chdir(dirs.cwd);

const fd = a.results ? fs.openSync(a.results, 'a') : null;
const emit = (o) => {
  const line = `${JSON.stringify(o)}\n`;
  if (fd !== null) fs.writeSync(fd, line);
  if (a.print || fd === null) process.stdout.write(line);
};

let current = -1;
let currentSpec = '';
// Exceptions and rejections nobody handled: the contract violation is the case's (uncaught → exit).
process.on('uncaughtException', (e) => {
  emit({ i: current, failure: { sig: 'uncaught exception', detail: String(e?.stack ?? e).slice(0, 500) }, spec: currentSpec });
  process.exit(3);
});
process.on('unhandledRejection', (e) => {
  emit({ i: current, failure: { sig: 'unhandled rejection', detail: String(e?.stack ?? e).slice(0, 500) }, spec: currentSpec });
});

const KINDS = {
  encoder: { spec: caseSpec, run: undefined },
  writer: { spec: writerCaseSpec, run: runWriterCall },
  audio: {
    spec: fc.oneof({ arbitrary: writerAudioCaseSpec, weight: 3 }, { arbitrary: ctorAudioCaseSpec, weight: 2 }),
    run: (spec, ctx, allowFile) => (spec.m === 'ctorAudio' ? runAudioCtorCall : runWriterCall)(spec, ctx, allowFile),
  },
};
const kind = KINDS[a.kind];
if (!kind) throw new Error(`unknown --kind ${a.kind}`);
const specs = fc.sample(kind.spec, { seed: seed + batch, numRuns: count });
for (let i = from; i < to; i++) {
  current = i;
  currentSpec = fc.stringify(specs[i]).slice(0, 4000);
  emit({ start: i, spec: currentSpec }); // (a crash report needs it)
  if (process.env.FRAMECODEC_FUZZ_SELFTEST_CRASH === String(i)) process.kill(process.pid, 'SIGSEGV'); // the harness's self-test
  const ctx = new Ctx(dirs);
  let r;
  try {
    r = await runCase(specs[i], ctx, kind.run);
  } catch (e) {
    r = { failure: { sig: 'fuzz harness error', detail: String(e?.stack ?? e).slice(0, 500) } };
  }
  if (r.failure) emit({ i, failure: r.failure, spec: currentSpec });
  else emit({ i, outcome: r.outcome, ...(a.print ? { spec: currentSpec } : {}) });
  if (r.hang) process.exit(4); // an encode that never settles may hold the process: start afresh
}
emit({ done: true });
process.exit(0);
