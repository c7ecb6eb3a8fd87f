// toStream: encoding into a Node Writable. Same frames as toFile for every container, seek emulation
// (mp4/mov/mkv/webm held until complete) versus real streaming (mpegts, fragmented mp4, live webm),
// backpressure with a slow consumer, concurrency into fs streams, stream failures as ERR_IO with the
// stream's error as `cause`, argument validation, `end`, abort and progress.
import test from 'ava';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Writable } from 'node:stream';
import { makeFramesNCHW, nchwToNhwc } from './helpers/frames.mjs';
import { decodeRgb, probe, psnr, fmtDb, tmpDirFor, frameCountOf, hasBox, topLevelBoxes } from './helpers/media.mjs';
import { rejectsCode } from './helpers/assert.mjs';
import { collector } from './helpers/streams.mjs';

const require = createRequire(import.meta.url);
const { VideoEncoder } = require('../index.js');

// Small video for the per-container checks.
const N = 12;
const H = 48;
const W = 64;
const nchw = makeFramesNCHW(N, H, W, { seed: 31 });
const source = nchwToNhwc(nchw, N, H, W);
const enc = new VideoEncoder({ data: nchw, shape: [N, 3, H, W] }, { frameRate: 25 });

// A longer video (many chunks, an encode that lasts) for streaming, backpressure and failure tests.
const LN = 120;
const LH = 120;
const LW = 160;
const longEnc = new VideoEncoder({ data: makeFramesNCHW(LN, LH, LW, { seed: 32 }), shape: [LN, 3, LH, LW] }, { frameRate: 25 });

const CONTAINERS = ['mp4', 'mov', 'mkv', 'webm', 'avi', 'flv', 'gif', 'ts'];
/** Containers whose bytes differ run to run by design (matroska's random UIDs). */
const RANDOM_IDS = ['mkv', 'webm'];
/** Containers a stream gets without what the muxer writes by seeking back (flv: duration, size). */
const SEEKS_BACK = ['flv'];

// ------------------------------------------------------------------ helpers

/** A Writable that records every chunk (synchronously, callback at once unless `delay` given). */
function recorder({ highWaterMark = 16 * 1024, delay, onChunk } = {}) {
  const chunks = [];
  let i = 0;
  const s = new Writable({
    highWaterMark,
    write(chunk, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      i++;
      if (onChunk) onChunk(chunk, i);
      if (delay) setTimeout(cb, typeof delay === 'function' ? delay(i) : delay);
      else cb();
    },
  });
  s.chunks = chunks;
  s.bytes = () => chunks.reduce((a, c) => a + c.length, 0);
  s.buffer = () => Buffer.concat(chunks);
  return s;
}

/** Rejects with a failure if `p` does not settle within `ms` (so a hang fails the test instead of timing it out). */
function within(p, ms, what) {
  let timer;
  const guard = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms (hang?)`)), ms);
  });
  return Promise.race([p, guard]).finally(() => clearTimeout(timer));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** After a failed toStream: the process still encodes. */
async function stillEncodes(t) {
  const buf = await within(enc.toBuffer('mp4'), 30_000, 'toBuffer after a failed toStream');
  t.is(Number(probe(buf, { ext: 'mp4' }).video.nb_read_frames), N, 'a later encode in the same process works');
}

const framesOf = (pathOrBuffer, ext) => Number(probe(pathOrBuffer, { ext }).video.nb_read_frames);

// ------------------------------------------------------------------ 1. every container: same frames as toFile

for (const ext of CONTAINERS) {
  test(`${ext}: toStream into fs.createWriteStream and into a PassThrough decodes to the same frames as toFile`, async (t) => {
    const dir = tmpDirFor(t);
    const fileDest = path.join(dir, `file.${ext}`);
    const streamDest = path.join(dir, `stream.${ext}`);
    const ws = fs.createWriteStream(streamDest);
    const pt = collector();
    const [fileRes, wsRes, ptRes] = await within(
      Promise.all([enc.toFile(fileDest), enc.toStream(ws, ext), enc.toStream(pt, ext)]),
      60_000,
      `${ext} encodes`,
    );
    const ptBuf = await pt.done;

    // the result describes what was written
    t.is(wsRes.bytes, fs.statSync(streamDest).size, 'result.bytes is the size of the written file');
    t.is(ptRes.bytes, ptBuf.length, 'result.bytes is the number of bytes the PassThrough received');
    for (const r of [wsRes, ptRes]) {
      t.is(r.format, fileRes.format);
      t.is(r.codec, fileRes.codec);
      t.is(r.pixelFormat, fileRes.pixelFormat);
      t.is(r.frames, N);
    }
    t.true(ws.writableFinished, 'the file stream was ended and finished');

    const fromFile = decodeRgb(fileDest, W, H, { matrix: 'auto' });
    const fromWs = decodeRgb(streamDest, W, H, { matrix: 'auto' });
    const fromPt = decodeRgb(ptBuf, W, H, { matrix: 'auto', ext });
    t.is(frameCountOf(fromFile, W, H), N);
    t.is(frameCountOf(fromWs, W, H), N, 'fs stream output: frame count');
    t.is(frameCountOf(fromPt, W, H), N, 'PassThrough output: frame count');
    t.is(framesOf(streamDest), N);
    t.log(`${ext}: toFile ${fileRes.bytes} B, fs stream ${wsRes.bytes} B, PassThrough ${ptRes.bytes} B; toFile vs source ${fmtDb(psnr(fromFile, source))} dB`);
    // Encodes are deterministic (determinism.spec.mjs): the streams hold exactly toFile's frames...
    t.true(Buffer.from(fromWs).equals(fromFile), `fs stream decodes to toFile's frames exactly (PSNR ${fmtDb(psnr(fromWs, fromFile))} dB)`);
    t.true(Buffer.from(fromPt).equals(fromFile), `PassThrough decodes to toFile's frames exactly (PSNR ${fmtDb(psnr(fromPt, fromFile))} dB)`);
    // ...and toFile's bytes, except where the container differs by design: matroska writes random
    // segment and track UIDs, flv its duration and size by seeking back (which a stream cannot).
    const wsBuf = fs.readFileSync(streamDest);
    if (!RANDOM_IDS.includes(ext)) t.true(wsBuf.equals(ptBuf), 'fs stream and PassThrough bytes are identical');
    if (!RANDOM_IDS.includes(ext) && !SEEKS_BACK.includes(ext)) {
      t.true(wsBuf.equals(fs.readFileSync(fileDest)), 'fs stream bytes are toFile\'s');
      t.true(ptBuf.equals(fs.readFileSync(fileDest)), 'PassThrough bytes are toFile\'s');
    }
  });
}

test('toStream into an HTTP response: the client receives a complete mp4', async (t) => {
  let serverResult;
  const server = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'video/mp4');
    serverResult = enc.toStream(res, 'mp4', { extraOptions: { movflags: '+faststart' } });
    serverResult.catch(() => {});
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const { port } = server.address();
  const body = await within(
    fetch(`http://127.0.0.1:${port}/v.mp4`).then(async (r) => Buffer.from(await r.arrayBuffer())),
    30_000,
    'HTTP download',
  );
  const result = await serverResult;
  t.is(result.bytes, body.length);
  t.is(framesOf(body, 'mp4'), N);
});

// ------------------------------------------------------------------ 2. mp4 flavours and live webm

test('mp4 through toStream with movflags +faststart has moov before mdat', async (t) => {
  const s = collector();
  const r = await enc.toStream(s, 'mp4', { extraOptions: { movflags: '+faststart' } });
  const buf = await s.done;
  t.is(r.bytes, buf.length);
  const boxes = topLevelBoxes(buf);
  t.log(`boxes: ${boxes.join(' ')}`);
  t.true(boxes.includes('moov') && boxes.includes('mdat'));
  t.true(boxes.indexOf('moov') < boxes.indexOf('mdat'), `moov first: ${boxes.join(' ')}`);
  t.is(framesOf(buf, 'mp4'), N);
});

test('fragmented mp4 (+frag_keyframe+empty_moov+default_base_moof) through a stream decodes and has moof boxes', async (t) => {
  const s = collector();
  const r = await enc.toStream(s, 'mp4', { extraOptions: { movflags: '+frag_keyframe+empty_moov+default_base_moof', g: 4 } });
  const buf = await s.done;
  t.is(r.bytes, buf.length);
  t.true(hasBox(buf, 'moof'));
  const boxes = topLevelBoxes(buf);
  t.log(`boxes: ${boxes.join(' ')}`);
  t.true(boxes.filter((b) => b === 'moof').length >= 2, 'several fragments (g 4)');
  t.is(framesOf(buf, 'mp4'), N);
  const p = psnr(decodeRgb(buf, W, H, { matrix: 'auto', ext: 'mp4' }), source);
  t.true(p >= 26, `vs source PSNR ${p}`);
});

test('webm with live: 1 through a stream decodes', async (t) => {
  const s = collector();
  const r = await enc.toStream(s, 'webm', { extraOptions: { live: 1 } });
  const buf = await s.done;
  t.is(r.bytes, buf.length);
  t.is(r.format, 'webm');
  const rgb = decodeRgb(buf, W, H, { matrix: 'auto', ext: 'webm' });
  t.is(frameCountOf(rgb, W, H), N);
  const p = psnr(rgb, source);
  t.true(p >= 25, `vs source PSNR ${p}`);
});

// ------------------------------------------------------------------ 3. direct muxers really stream
// Progress events and stream writes travel through one ordered channel from the encode thread, so
// "which progress value had been reported when the first chunk arrived" does not depend on timing.

async function streamOrder(format, options) {
  let lastProgress = 0;
  let firstAt = null; // framesEncoded reported when the first chunk arrived
  let bytesBeforeHalf = 0;
  let moofBeforeHalf = false;
  const s = recorder({
    onChunk: (chunk) => {
      if (firstAt === null) firstAt = lastProgress;
      if (lastProgress < LN / 2) {
        bytesBeforeHalf += chunk.length;
        if (Buffer.from(chunk).includes(Buffer.from('moof'))) moofBeforeHalf = true;
      }
    },
  });
  const start = performance.now();
  const result = await longEnc.toStream(s, format, {
    ...options,
    onProgress: ({ framesEncoded }) => {
      lastProgress = framesEncoded;
    },
  });
  return { result, firstAt, bytesBeforeHalf, moofBeforeHalf, ms: performance.now() - start, buf: s.buffer(), writes: s.chunks.length };
}

test.serial('ts streams as it encodes: bytes reach the Writable while the first half of the frames is encoded', async (t) => {
  const o = await streamOrder('ts', {});
  t.log(`ts (mpeg2video): ${o.writes} writes, ${o.result.bytes} B; first chunk when progress was ${o.firstAt}/${LN}; ${o.bytesBeforeHalf} B before ${LN / 2}; ${o.ms.toFixed(0)} ms`);
  t.not(o.firstAt, null);
  t.true(o.firstAt < LN / 2, `first chunk at progress ${o.firstAt}`);
  t.true(o.bytesBeforeHalf > 0);
  t.is(framesOf(o.buf, 'ts'), LN);
});

test.serial('ts with libx264 preset medium: the first chunk arrives before the last frames are reported', async (t) => {
  const o = await streamOrder('ts', { codec: 'libx264', preset: 'medium' });
  t.log(`ts (libx264 medium): ${o.writes} writes, ${o.result.bytes} B; first chunk when progress was ${o.firstAt}/${LN}; ${o.bytesBeforeHalf} B before ${LN / 2}; ${o.ms.toFixed(0)} ms`);
  t.not(o.firstAt, null);
  // x264's lookahead and frame threads delay its first packet by a few dozen frames
  t.true(o.firstAt < LN * 0.75, `first chunk at progress ${o.firstAt}`);
  t.true(o.writes > 10, `${o.writes} writes: the output went out in pieces, not at the end`);
  t.is(framesOf(o.buf, 'ts'), LN);
});

test.serial('fragmented mp4 streams as it encodes: a moof fragment reaches the Writable during the first half', async (t) => {
  const o = await streamOrder('mp4', {
    preset: 'veryfast',
    extraOptions: { movflags: '+frag_keyframe+empty_moov+default_base_moof', g: 10 },
  });
  t.log(`fragmented mp4: ${o.writes} writes, ${o.result.bytes} B; first chunk when progress was ${o.firstAt}/${LN}; ${o.bytesBeforeHalf} B before ${LN / 2}; ${o.ms.toFixed(0)} ms`);
  t.true(o.firstAt < LN / 2, `first chunk at progress ${o.firstAt}`);
  t.true(o.moofBeforeHalf, 'a media fragment (moof), not only the header, arrived before half of the frames');
  t.is(framesOf(o.buf, 'mp4'), LN);
});

test.serial('plain mp4 (seek emulation) may hold its bytes until the end (logged, not asserted)', async (t) => {
  const o = await streamOrder('mp4', { preset: 'veryfast' });
  t.log(`plain mp4: ${o.writes} writes, ${o.result.bytes} B; first chunk when progress was ${o.firstAt}/${LN}; ${o.bytesBeforeHalf} B before ${LN / 2}`);
  t.is(o.result.bytes, o.buf.length);
  t.is(framesOf(o.buf, 'mp4'), LN);
});

// ------------------------------------------------------------------ 4. slow consumer

/** A Writable with a tiny highWaterMark and callbacks delayed 1–3 ms; records the largest writableLength. */
function slowConsumer() {
  const s = recorder({ highWaterMark: 1024, delay: (i) => 1 + (i % 3) });
  s.maxBuffered = 0;
  s.writeCalls = 0;
  s.falseReturns = 0;
  const write = s.write.bind(s);
  s.write = (...args) => {
    const ok = write(...args);
    s.writeCalls++;
    if (!ok) s.falseReturns++;
    s.maxBuffered = Math.max(s.maxBuffered, s.writableLength);
    return ok;
  };
  return s;
}

const KiB = 1024;
const MiB = 1024 * 1024;

// A bigger lossless video (~6–7 MB as mp4) for the held-until-the-end formats: a single write of the
// whole file would put all of it in the Writable's buffer.
const BN = 120;
const BH = 240;
const BW = 320;
let bigEnc;
const big = () => (bigEnc ??= new VideoEncoder({ data: makeFramesNCHW(BN, BH, BW, { seed: 33 }), shape: [BN, 3, BH, BW] }, { frameRate: 25 }));

const LOSSLESS1 = { codec: 'libx264', preset: 'ultrafast', crf: 0 };
// [format, options, encoder, bound on writableLength, why]
const SLOW_CASES = [
  // streaming muxers: buffered bytes stay tiny
  ['ts', { codec: 'libx264', preset: 'veryfast', extraOptions: { threads: 1 } }, () => longEnc, 256 * KiB],
  ['mp4', { ...LOSSLESS1, extraOptions: { threads: 1, movflags: '+frag_keyframe+empty_moov+default_base_moof', g: 10 } }, () => longEnc, 256 * KiB],
  // seek emulation: the file goes out at the end, but in pieces: the bound ("a few MiB")
  ['mp4', { ...LOSSLESS1, extraOptions: { threads: 1 } }, big, 256 * 1024],
  ['mkv', { ...LOSSLESS1, extraOptions: { threads: 1 } }, big, 256 * 1024],
];

for (const [format, options, encoder, bound] of SLOW_CASES) {
  const label = `${format} ${JSON.stringify(options)}`;
  test.serial(`slow consumer (highWaterMark 1024, 1–3 ms callbacks), ${label}: same output as a fast consumer, writableLength < ${bound / KiB} KiB`, async (t) => {
    const e = encoder();
    const [n, w, h] = [e.frameCount, e.width, e.height];
    const fast = recorder();
    const fastRes = await e.toStream(fast, format, options);
    const slow = slowConsumer();
    const start = performance.now();
    const slowRes = await within(e.toStream(slow, format, options), 120_000, 'slow-consumer encode');
    const ms = performance.now() - start;
    const out = slow.buffer();
    t.log(`${label}: ${slowRes.bytes} B in ${slow.writeCalls} writes (${slow.falseReturns} returned false, largest ${Math.max(...slow.chunks.map((c) => c.length))} B), max writableLength ${slow.maxBuffered} B, ${ms.toFixed(0)} ms (fast consumer: ${fastRes.bytes} B)`);
    t.is(slowRes.bytes, out.length);
    t.is(slowRes.bytes, fastRes.bytes);
    t.true(slow.writableFinished);
    t.true(slow.maxBuffered < bound, `max writableLength ${slow.maxBuffered} B`);
    t.true(slow.maxBuffered < out.length / 2, `max writableLength ${slow.maxBuffered} B of a ${out.length} B output: not written in one piece`);
    const rgb = decodeRgb(out, w, h, { matrix: 'auto', ext: format });
    t.is(frameCountOf(rgb, w, h), n);
    if (format === 'mkv') {
      // matroska writes random segment / track UIDs: compare what decodes
      t.true(psnr(rgb, decodeRgb(fast.buffer(), w, h, { matrix: 'auto', ext: format })) === Infinity, 'decodes identically to the fast consumer');
    } else {
      t.true(out.equals(fast.buffer()), 'byte-identical to the fast consumer (threads 1)');
    }
  });
}

// ------------------------------------------------------------------ 5. concurrency into fs streams

for (const count of [4, 8]) {
  test(`${count} concurrent toStream calls into fs.createWriteStream all finish and decode`, async (t) => {
    const dir = tmpDirFor(t);
    const formats = ['ts', 'mp4', 'mkv', 'flv', 'mov', 'avi', 'webm', 'gif'].slice(0, count);
    const start = performance.now();
    const results = await within(
      Promise.all(formats.map((ext, i) => enc.toStream(fs.createWriteStream(path.join(dir, `c${i}.${ext}`)), ext))),
      60_000,
      `${count} concurrent toStream calls`,
    );
    t.log(`${count} concurrent toStream: ${(performance.now() - start).toFixed(0)} ms`);
    formats.forEach((ext, i) => {
      const file = path.join(dir, `c${i}.${ext}`);
      t.is(results[i].bytes, fs.statSync(file).size, `${ext}: bytes`);
      t.is(frameCountOf(decodeRgb(file, W, H, { matrix: 'auto' }), W, H), N, `${ext}: frames`);
    });
  });
}

// ------------------------------------------------------------------ 6. failures

test.serial('a Writable whose 3rd write calls back with an Error: ERR_IO, cause is that Error, promptly', async (t) => {
  const boom = new Error('disk on fire');
  let failedAt = 0;
  let writes = 0;
  const s = new Writable({
    highWaterMark: 1024,
    write(chunk, _enc, cb) {
      writes++;
      if (writes === 3) {
        failedAt = performance.now();
        setTimeout(() => cb(boom), 1);
      } else setTimeout(cb, 1);
    },
  });
  const err = await rejectsCode(t, within(longEnc.toStream(s, 'ts'), 30_000, 'toStream into a failing stream'), 'ERR_IO');
  const latency = performance.now() - failedAt;
  t.log(`rejected ${latency.toFixed(1)} ms after the failing write; ${writes} writes; message: ${err?.message}`);
  t.is(err?.cause, boom);
  t.is(writes, 3, 'no write after the failure');
  t.true(latency < 1000, `rejected ${latency.toFixed(0)} ms after the failure`);
  await stillEncodes(t);
});

test.serial('a Writable destroyed half-way from a timer: ERR_IO, cause ERR_STREAM_DESTROYED', async (t) => {
  const s = recorder({ highWaterMark: 1024, delay: 2 });
  let destroyedAt = 0;
  const timer = setTimeout(() => {
    destroyedAt = performance.now();
    s.destroy();
  }, 40);
  t.teardown(() => clearTimeout(timer));
  const err = await rejectsCode(t, within(longEnc.toStream(s, 'ts'), 30_000, 'toStream into a destroyed stream'), 'ERR_IO');
  const latency = performance.now() - destroyedAt;
  t.true(destroyedAt > 0, 'the encode was still running when the stream was destroyed');
  t.log(`rejected ${latency.toFixed(1)} ms after destroy(); ${s.chunks.length} writes; message: ${err?.message}`);
  t.true(err?.cause instanceof Error, 'cause is an Error');
  t.is(err?.cause?.code, 'ERR_STREAM_DESTROYED');
  t.true(latency < 1000, `rejected ${latency.toFixed(0)} ms after destroy()`);
  t.true(s.chunks.length < LN, 'the encode stopped');
  await stillEncodes(t);
});

test.serial('a Writable destroyed from within its own write(): ERR_IO', async (t) => {
  let writes = 0;
  const s = new Writable({
    write(chunk, _enc, cb) {
      writes++;
      if (writes === 3) this.destroy();
      else cb();
    },
  });
  const err = await rejectsCode(t, within(longEnc.toStream(s, 'ts'), 30_000, 'toStream into a self-destroying stream'), 'ERR_IO');
  t.log(`message: ${err?.message}; cause: ${err?.cause?.code} ${err?.cause?.message}`);
  t.is(err?.cause?.code, 'ERR_STREAM_DESTROYED');
  t.is(writes, 3);
  await stillEncodes(t);
});

test.serial('a Writable destroyed with an error (destroy(err)) half-way: ERR_IO, cause is err', async (t) => {
  const boom = new Error('peer reset');
  const s = recorder({ highWaterMark: 1024, delay: 2 });
  let destroyedAt = 0;
  const timer = setTimeout(() => {
    destroyedAt = performance.now();
    s.destroy(boom);
  }, 40);
  t.teardown(() => clearTimeout(timer));
  const err = await rejectsCode(t, within(longEnc.toStream(s, 'ts'), 30_000, 'toStream into a stream destroyed with an error'), 'ERR_IO');
  const latency = performance.now() - destroyedAt;
  t.log(`rejected ${latency.toFixed(1)} ms after destroy(err); ${s.chunks.length} writes; message: ${err?.message}`);
  t.true(destroyedAt > 0, 'the encode was still running when the stream was destroyed');
  t.is(err?.cause, boom);
  t.true(latency < 1000, `rejected ${latency.toFixed(0)} ms after destroy(err)`);
  t.true(s.chunks.length < LN, 'the encode stopped');
  await stillEncodes(t);
});

test.serial('a Writable that emits error from within write(): ERR_IO, cause is the emitted error', async (t) => {
  const boom = new Error('emitted');
  let writes = 0;
  const s = new Writable({
    write(chunk, _enc, cb) {
      writes++;
      if (writes === 2) this.destroy(boom);
      else cb();
    },
  });
  const err = await rejectsCode(t, within(enc.toStream(s, 'ts'), 30_000, 'toStream'), 'ERR_IO');
  t.is(err?.cause, boom);
  await stillEncodes(t);
});

test.serial('a minimal object whose write() throws: ERR_IO, cause is the thrown error', async (t) => {
  const thrown = new TypeError('cannot write');
  let calls = 0;
  const minimal = {
    write() {
      calls++;
      throw thrown;
    },
    on() {
      return this;
    },
  };
  const err = await rejectsCode(t, within(enc.toStream(minimal, 'ts'), 30_000, 'toStream into a throwing object'), 'ERR_IO');
  t.is(err?.cause, thrown);
  t.is(calls, 1, 'no write after the throw');
  await stillEncodes(t);
});

test.serial('a real Writable whose write() throws on its 2nd call: ERR_IO, cause is the thrown error', async (t) => {
  const thrown = new Error('write exploded');
  const s = recorder({ highWaterMark: 1024 });
  const write = s.write.bind(s);
  let calls = 0;
  s.write = (...args) => {
    calls++;
    if (calls === 2) throw thrown;
    return write(...args);
  };
  const err = await rejectsCode(t, within(longEnc.toStream(s, 'ts'), 30_000, 'toStream'), 'ERR_IO');
  t.is(err?.cause, thrown);
  t.is(calls, 2, 'no write after the throw');
  await stillEncodes(t);
});

// ------------------------------------------------------------------ 7. argument and state validation

test('a stream already ended or destroyed is refused with ERR_IO, writing nothing', async (t) => {
  const ended = recorder();
  ended.end();
  await rejectsCode(t, enc.toStream(ended, 'ts'), 'ERR_IO');
  t.is(ended.chunks.length, 0);

  const destroyed = recorder();
  destroyed.destroy();
  await rejectsCode(t, enc.toStream(destroyed, 'ts'), 'ERR_IO');
  t.is(destroyed.chunks.length, 0);

  const destroyedWithError = recorder();
  destroyedWithError.on('error', () => {});
  destroyedWithError.destroy(new Error('gone'));
  await rejectsCode(t, enc.toStream(destroyedWithError, 'ts'), 'ERR_IO');
});

test('a stream that is not a Writable is a TypeError ERR_INVALID_ARG_TYPE', async (t) => {
  for (const bad of [{}, 'x', 42, null, undefined, { write: 1, on() {} }]) {
    const err = await t.throwsAsync(async () => enc.toStream(bad, 'ts'));
    t.true(err instanceof TypeError, `${String(bad)}: ${err?.name}`);
    t.is(err?.code, 'ERR_INVALID_ARG_TYPE', `${String(bad)}: ${err?.message}`);
  }
});

test('a fake WritableStream (getWriter borrowed from WritableStream, or giving no writer) is ERR_INVALID_ARG_TYPE naming what toStream takes', async (t) => {
  const fakes = [
    [{ getWriter: WritableStream.prototype.getWriter }, 'ERR_INVALID_THIS'],
    [Object.create(WritableStream.prototype), 'ERR_INVALID_THIS'],
    [{ getWriter() { throw new Error('no writer here'); } }, 'no writer here'],
    [{ getWriter: () => 42 }, 'no writer'],
    [{ getWriter: () => ({ write: 1 }) }, 'no writer'],
  ];
  for (const [fake, why] of fakes) {
    const err = await rejectsCode(t, async () => enc.toStream(fake, 'ts'), 'ERR_INVALID_ARG_TYPE', {
      includes: ['Node Writable', 'WritableStream'],
    });
    t.true(err.message.includes(why) || (why === 'ERR_INVALID_THIS' && /this/i.test(err.message)), err.message);
  }
});

test('unknown format is ERR_UNKNOWN_FORMAT; a non-string format is ERR_INVALID_ARG_TYPE; nothing is written', async (t) => {
  const s = recorder();
  await rejectsCode(t, async () => enc.toStream(s, 'nope'), 'ERR_UNKNOWN_FORMAT', { includes: ['nope'] });
  t.is(s.chunks.length, 0);
  t.false(s.writableEnded, 'an argument error does not end the stream');
  for (const bad of [5, undefined, null, {}]) {
    const err = await t.throwsAsync(async () => enc.toStream(recorder(), bad));
    t.is(err?.code, 'ERR_INVALID_ARG_TYPE', `${String(bad)}: ${err?.message}`);
  }
});

// ------------------------------------------------------------------ 8. end

test('end: false leaves the stream open; it received exactly result.bytes; the stream stays usable', async (t) => {
  const s = recorder();
  const before = ['drain', 'error', 'close', 'finish'].map((e) => s.listenerCount(e));
  const r = await enc.toStream(s, 'ts', { end: false });
  t.false(s.writableEnded, 'not ended');
  t.false(s.destroyed);
  t.is(s.bytes(), r.bytes, 'received exactly result.bytes');
  t.deepEqual(['drain', 'error', 'close', 'finish'].map((e) => s.listenerCount(e)), before, 'listeners removed after the encode');
  // a second encode can follow into the same stream, then the caller ends it
  const r2 = await enc.toStream(s, 'ts', { end: false });
  t.is(s.bytes(), r.bytes + r2.bytes);
  await new Promise((resolve) => s.end(resolve));
  t.true(s.writableFinished);
  t.is(framesOf(s.buffer(), 'ts'), 2 * N, 'two concatenated transport streams');
});

test('end: false with a slow consumer: the stream still received every byte once the Promise resolves', async (t) => {
  const s = recorder({ highWaterMark: 1024, delay: 1 });
  const r = await longEnc.toStream(s, 'ts', { end: false });
  t.false(s.writableEnded);
  // every write was accepted: what the stream still buffers is at most its last chunk
  t.true(s.bytes() + s.writableLength >= r.bytes, `${s.bytes()} written + ${s.writableLength} buffered vs ${r.bytes}`);
  await new Promise((resolve) => s.end(resolve));
  t.is(s.bytes(), r.bytes);
  t.is(framesOf(s.buffer(), 'ts'), LN);
});

test('by default the stream is ended and has emitted finish before the Promise resolves', async (t) => {
  for (const ext of ['ts', 'mp4']) {
    const s = recorder({ highWaterMark: 1024, delay: 1 });
    let finished = false;
    s.on('finish', () => {
      finished = true;
    });
    const r = await enc.toStream(s, ext);
    t.true(finished, `${ext}: 'finish' fired before resolve`);
    t.true(s.writableEnded);
    t.true(s.writableFinished);
    t.is(s.bytes(), r.bytes);
  }
});

test('end: true (explicit) behaves like the default', async (t) => {
  const s = recorder();
  const r = await enc.toStream(s, 'mkv', { end: true });
  t.true(s.writableFinished);
  t.is(s.bytes(), r.bytes);
});

// ------------------------------------------------------------------ 9. abort

test.serial('abort while the stream never drains (stalled consumer) rejects with AbortError within ~1 s', async (t) => {
  let writes = 0;
  const stalled = new Writable({
    highWaterMark: 16,
    write() {
      writes++; // never calls back
    },
  });
  const ac = new AbortController();
  let abortedAt = 0;
  const timer = setTimeout(() => {
    abortedAt = performance.now();
    ac.abort();
  }, 100);
  t.teardown(() => clearTimeout(timer));
  const err = await t.throwsAsync(within(longEnc.toStream(stalled, 'ts', { signal: ac.signal }), 10_000, 'aborted toStream'));
  const latency = performance.now() - abortedAt;
  t.log(`rejected ${latency.toFixed(1)} ms after abort(); ${writes} write(s) reached the stalled stream`);
  t.true(abortedAt > 0);
  t.is(err?.name, 'AbortError');
  t.is(err?.code, 'ABORT_ERR');
  t.is(err?.cause, ac.signal.reason);
  t.true(latency < 1000, `${latency.toFixed(0)} ms`);
  t.is(writes, 1, 'the encoder waited for drain after the first write');
  await stillEncodes(t);
});

test('an already-aborted signal rejects without writing anything to the stream', async (t) => {
  const s = recorder();
  const reason = new Error('never mind');
  let progress = 0;
  const err = await t.throwsAsync(enc.toStream(s, 'ts', { signal: AbortSignal.abort(reason), onProgress: () => progress++ }));
  t.is(err?.name, 'AbortError');
  t.is(err?.code, 'ABORT_ERR');
  t.is(err?.cause, reason);
  t.is(s.chunks.length, 0, 'nothing written');
  t.is(progress, 0);
  t.log(`stream after an already-aborted toStream: writableEnded ${s.writableEnded}, destroyed ${s.destroyed}`);
});

// ------------------------------------------------------------------ 10. progress

test('onProgress with toStream: non-decreasing, the last call is totalFrames and comes before the Promise resolves', async (t) => {
  for (const ext of ['ts', 'mp4']) {
    const events = [];
    const calls = [];
    const s = recorder({ highWaterMark: 1024, delay: 1 });
    const r = await longEnc.toStream(s, ext, {
      onProgress: (p) => {
        calls.push({ ...p });
        events.push('progress');
      },
    });
    events.push('resolved');
    await sleep(50);
    t.is(r.frames, LN);
    t.true(calls.length >= 10, `${ext}: ${calls.length} progress calls`);
    for (const c of calls) t.is(c.totalFrames, LN);
    for (let i = 1; i < calls.length; i++) {
      t.true(calls[i].framesEncoded >= calls[i - 1].framesEncoded, `${ext}: call ${i}: ${calls[i - 1].framesEncoded} → ${calls[i].framesEncoded}`);
    }
    t.is(calls.at(-1).framesEncoded, LN);
    t.is(events.indexOf('resolved'), events.length - 1, `${ext}: no progress call after resolve`);
  }
});

// ---------------------------------------------------------------- WHATWG WritableStream
const webEnc = () => {
  const [n, h, w] = [24, 48, 64];
  const data = makeFramesNCHW(n, h, w, { seed: 77 });
  return { n, h, w, enc: new VideoEncoder({ data, shape: [n, 3, h, w] }, { frameRate: 30 }) };
};

// serial: it counts writes through the writer prototype, which other streams would also go through
test.serial('a WHATWG WritableStream with a slow sink gets the whole file, in order, respecting its queue', async (t) => {
  const { n, h, w, enc } = webEnc();
  const chunks = [];
  let maxQueued = 0;
  let queued = 0;
  const ws = new WritableStream(
    {
      async write(chunk) {
        chunks.push(Buffer.from(chunk));
        await new Promise((r) => setTimeout(r, 1));
        queued -= 1;
      },
    },
    new CountQueuingStrategy({ highWaterMark: 2 }),
  );
  const origWrite = WritableStreamDefaultWriter.prototype.write;
  WritableStreamDefaultWriter.prototype.write = function (c) {
    queued += 1;
    maxQueued = Math.max(maxQueued, queued);
    return origWrite.call(this, c);
  };
  let result;
  try {
    result = await enc.toStream(ws, 'ts');
  } finally {
    WritableStreamDefaultWriter.prototype.write = origWrite;
  }
  const bytes = Buffer.concat(chunks);
  t.is(result.bytes, bytes.length);
  t.false(ws.locked, 'the writer lock is released');
  t.true(maxQueued <= 3, `chunks queued at once: ${maxQueued} (highWaterMark 2)`);
  t.is(frameCountOf(decodeRgb(bytes, w, h, { ext: 'ts' }), w, h), n);
});

test('mp4 into a WHATWG WritableStream decodes to the same frames as toFile', async (t) => {
  const { n, h, w, enc } = webEnc();
  const chunks = [];
  const ws = new WritableStream({ write(c) { chunks.push(Buffer.from(c)); } });
  const result = await enc.toStream(ws, 'mp4');
  const dir = tmpDirFor(t);
  const file = path.join(dir, 'ref.mp4');
  await enc.toFile(file);
  const bytes = Buffer.concat(chunks);
  t.is(result.bytes, bytes.length);
  const a = decodeRgb(bytes, w, h, { ext: 'mp4' });
  t.is(frameCountOf(a, w, h), n);
  t.true(bytes.equals(fs.readFileSync(file)), 'byte-identical to toFile (encodes are deterministic)');
});

test('a WHATWG WritableStream that errors rejects with ERR_IO and its error as cause; a locked one is refused', async (t) => {
  const { enc } = webEnc();
  const boom = new Error('web boom');
  let writes = 0;
  const bad = new WritableStream({ write() { if (++writes === 2) throw boom; } });
  const err = await t.throwsAsync(enc.toStream(bad, 'ts'));
  t.is(err.code, 'ERR_IO');
  t.is(err.cause, boom);
  const locked = new WritableStream();
  locked.getWriter();
  await rejectsCode(t, enc.toStream(locked, 'ts'), 'ERR_IO');
  t.true((await enc.toBuffer('mp4')).length > 0, 'a later encode still works');
});
