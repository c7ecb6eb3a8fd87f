// Property-based fuzz of the whole JS surface (fast-check, seeded): the constructor with frames and
// options of every kind, toFile / toBuffer / toStream with random dests, formats, EncodeOptions and
// odd streams. Property: every call succeeds (with a non-empty output) or throws / rejects with an
// Error of a documented `code` and Node's class for it (user code's own exceptions pass through
// unchanged); never a crash, a hang, an uncoded error or a file left behind (see fuzz/cases.mjs).
//
// The writer's fuzz (fuzz/writer-cases.mjs) opens VideoWriters with random options and makes random
// sequences of calls on them — frames of every kind, re-entrant getters and callbacks that call the
// writer back, buffers detached or shrunk while written — with the same property, plus the writer's
// state machine (design §3).
//
// The audio fuzz (fuzz/audio-cases.mjs, design §4) opens writers with a random `audio` option (valid
// tracks and faulty values of every kind) and calls writeAudio() among write() / close() / abort() with
// samples of every kind — valid chunks of any size, NaN / ±Infinity, values outside [-1, 1], wrong
// types and lengths, detached arrays, element getters that call the writer back or detach a plane —
// and builds one-shot VideoEncoders with an audio track (getters that throw or detach the samples),
// then encodes them: each call obeys the contract (documented codes, the writer usable after an
// argument error, ERR_INVALID_STATE after close() / abort(), `audioCodec` and the track in the output).
//
// The cases run in child processes (fuzz/batch.mjs), two at a time, so a crash fails this test and
// names the case that was running. The seed is printed; FRAMECODEC_FUZZ_SEED=<n> replays a run, and
//   node __test__/fuzz/batch.mjs [--kind writer|audio] --seed <n> --batch <b> --count <N> --from <i> --to <i+1> --print
// replays one case (the failure report gives the kind, b, N and i).
import test from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const BATCH = path.join(here, 'fuzz', 'batch.mjs');
const SEED = process.env.FRAMECODEC_FUZZ_SEED !== undefined ? Number(process.env.FRAMECODEC_FUZZ_SEED) : 20261201;
const BATCHES = 8;
const PER_BATCH = 3000; // 24 000 cases in all
const WRITER_BATCHES = 8;
const WRITER_PER_BATCH = 1500; // 12 000 writers in all
const AUDIO_BATCHES = 4;
const AUDIO_PER_BATCH = 750; // 3 000 in all: about 1 800 writers with audio, 1 200 one-shot encoders
const PARALLEL = 2;
const CHILD_LIMIT_MS = 150_000; // one child's wall-clock bound (a case that hangs is also cut at 20 s)
const MAX_RESTARTS = 25; // per batch: after a crash or hang, the batch goes on from the next case

/** Run one child over cases [from, to) of a batch; resolves with its exit and its result lines. */
function runChild(batch, from, root, resultsFile, { count, env, kind }) {
  return new Promise((resolve) => {
    fs.writeFileSync(resultsFile, '');
    const child = spawn(process.execPath, ['--expose-gc', BATCH, '--kind', kind, '--seed', String(SEED), '--batch', String(batch), '--count', String(count), '--from', String(from), '--to', String(count), '--results', resultsFile, '--root', root], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_LIMIT_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const lines = fs.readFileSync(resultsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
      resolve({ code, signal, lines, stderr });
    });
  });
}

/** All cases of one batch, restarting after a crash or hang; returns its tallies and failures. */
async function runBatch(batch, workDir, { count = PER_BATCH, env = {}, kind = 'encoder' } = {}) {
  const root = fs.mkdtempSync(path.join(workDir, `${kind}-b${batch}-`));
  const resultsFile = path.join(workDir, `${kind}-b${batch}.jsonl`);
  const out = { ended: 0, outcomes: {}, failures: [] };
  let from = 0;
  for (let restarts = 0; from < count; restarts++) {
    const r = await runChild(batch, from, root, resultsFile, { count, env, kind });
    let last = -1;
    let done = false;
    const endedHere = new Set();
    for (const l of r.lines) {
      if (l.done) done = true;
      else if (l.start !== undefined) last = l.start;
      else {
        if (l.outcome) out.outcomes[l.outcome] = (out.outcomes[l.outcome] ?? 0) + 1;
        if (l.failure) out.failures.push({ batch, i: l.i, ...l.failure, spec: l.spec });
        if (!endedHere.has(l.i)) { endedHere.add(l.i); out.ended++; }
      }
    }
    if (done) break;
    const hung = r.code === 4;
    if (!hung) {
      // a crash: the case that was running is the culprit
      const spec = (r.lines.find((l) => l.start === last) ?? {}).spec;
      // (the last line of its stderr tells crashes apart: an assertion of a library, a glibc abort, …)
      const said = (r.stderr.split('\n').filter(Boolean).pop() ?? '').replace(/0x[0-9a-f]+|\d+/g, 'N').slice(0, 120);
      out.failures.push({ batch, i: last, sig: `child crashed (exit ${r.code}, signal ${r.signal})${said ? `: ${said}` : ''}`, detail: r.stderr.split('\n').filter(Boolean).slice(-6).join(' | ').slice(0, 600), spec: spec ?? `(see the case: --kind ${kind} --batch ${batch} --from ${last})` });
      if (!endedHere.has(last)) out.ended++;
    }
    if (restarts >= MAX_RESTARTS) {
      out.failures.push({ batch, i: last, sig: 'too many crashes or hangs: batch stopped', detail: '', spec: '' });
      break;
    }
    from = last + 1;
  }
  fs.rmSync(root, { recursive: true, force: true });
  return out;
}

/** Runs `batches` batches of `kind` two at a time; returns the tallies and the failures by signature. */
async function runFuzz(t, kind, batches, perBatch) {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `framecodec-fuzz-${kind}-`));
  t.teardown(() => fs.rmSync(workDir, { recursive: true, force: true }));
  const started = Date.now();
  const results = [];
  let next = 0;
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (next < batches) {
      const b = next++;
      results[b] = await runBatch(b, workDir, { kind, count: perBatch });
    }
  }));
  const ended = results.reduce((a, r) => a + r.ended, 0);
  const outcomes = {};
  for (const r of results) for (const [k, v] of Object.entries(r.outcomes)) outcomes[k] = (outcomes[k] ?? 0) + v;
  const successes = Object.entries(outcomes).filter(([k]) => k.endsWith(':ok')).reduce((a, [, v]) => a + v, 0);
  t.log(`${ended} cases in ${((Date.now() - started) / 1000).toFixed(1)} s: ${successes} succeeded; outcomes ${JSON.stringify(outcomes)}`);

  const failures = results.flatMap((r) => r.failures);
  const bySig = new Map();
  for (const f of failures) {
    if (!bySig.has(f.sig)) bySig.set(f.sig, { n: 0, first: f });
    bySig.get(f.sig).n++;
  }
  const report = [...bySig].map(([sig, { n, first }]) => `${n} × ${sig}\n    ${first.detail}\n    case: batch ${first.batch} index ${first.i} (seed ${SEED}): ${first.spec}`).join('\n');
  if (bySig.size) t.log(`${failures.length} failing cases, ${bySig.size} distinct:\n${report}\nreplay one: node __test__/fuzz/batch.mjs --kind ${kind} --seed ${SEED} --batch B --count ${perBatch} --from I --to I+1 --print`);
  return { ended, successes, bySig };
}

test.serial('fuzz: every call succeeds or fails with a documented code and class; no crash, hang or leftover file', async (t) => {
  t.timeout(8 * 60_000);
  t.log(`seed ${SEED} (set FRAMECODEC_FUZZ_SEED to change it), ${BATCHES} batches × ${PER_BATCH} cases, ${PARALLEL} children at a time`);
  const { ended, bySig } = await runFuzz(t, 'encoder', BATCHES, PER_BATCH);
  t.true(ended >= 10_000, `at least 10 000 cases ran (${ended})`);
  t.is(bySig.size, 0, 'no case broke the contract');
});

test.serial('writer fuzz: random openers and call sequences, re-entrant callbacks, buffers detached while written: every call settles as the contract says; no crash, hang, unhandled rejection or leftover file', async (t) => {
  t.timeout(8 * 60_000);
  t.log(`seed ${SEED} (set FRAMECODEC_FUZZ_SEED to change it), ${WRITER_BATCHES} batches × ${WRITER_PER_BATCH} writers, ${PARALLEL} children at a time`);
  const { ended, successes, bySig } = await runFuzz(t, 'writer', WRITER_BATCHES, WRITER_PER_BATCH);
  t.true(ended >= 0.9 * WRITER_BATCHES * WRITER_PER_BATCH, `most cases ran (${ended})`);
  t.true(successes >= 100, `at least 100 writers closed with a result (${successes})`);
  t.is(bySig.size, 0, 'no case broke the contract');
});

test.serial('audio fuzz: writers with a random audio option and writeAudio() of every kind among write() / close() / abort(), one-shot encoders with audio: every call settles as the contract says; no crash, hang or leftover file', async (t) => {
  t.timeout(8 * 60_000);
  t.log(`seed ${SEED} (set FRAMECODEC_FUZZ_SEED to change it), ${AUDIO_BATCHES} batches × ${AUDIO_PER_BATCH} cases, ${PARALLEL} children at a time`);
  const { ended, successes, bySig } = await runFuzz(t, 'audio', AUDIO_BATCHES, AUDIO_PER_BATCH);
  t.true(ended >= 0.9 * AUDIO_BATCHES * AUDIO_PER_BATCH, `most cases ran (${ended})`);
  t.true(successes >= 300, `at least 300 cases encoded audio (${successes})`);
  t.is(bySig.size, 0, 'no case broke the contract');
});

test('fuzz harness: a child that crashes fails the run, names the case it was running, and the batch goes on', async (t) => {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'framecodec-fuzz-selftest-'));
  t.teardown(() => fs.rmSync(workDir, { recursive: true, force: true }));
  const r = await runBatch(0, workDir, { count: 20, env: { FRAMECODEC_FUZZ_SELFTEST_CRASH: '7' } });
  t.is(r.ended, 20);
  const crash = r.failures.find((f) => f.sig.startsWith('child crashed'));
  t.truthy(crash, JSON.stringify(r.failures));
  t.is(crash.i, 7);
  t.regex(crash.sig, /SIGSEGV/);
  t.regex(crash.spec, /"m":/, 'the report holds the case description');
});
