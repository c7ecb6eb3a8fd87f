// VideoWriter: frames pushed as they are rendered. What it writes: the same bytes as VideoEncoder for the
// same frames (one encode path), whatever the batches, the outputs, the order of un-awaited calls; a
// buffer refilled after each awaited write(); progress; streams that start before the encode ends.
import test from 'ava';
import { createRequire } from 'node:module';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { makeFramesNCHW, nchwToNhwc, nchwToRgba } from './helpers/frames.mjs';
import { decodeRgb, probe, psnr, tmpDirFor } from './helpers/media.mjs';
import { collector } from './helpers/streams.mjs';

const require = createRequire(import.meta.url);
const { VideoEncoder, VideoWriter } = require('../index.js');

const N = 12;
const H = 48;
const W = 64;
const RATE = 24;
const FRAME = 3 * H * W;
const DATA = makeFramesNCHW(N, H, W, { seed: 101 });
const md5 = (bytes) => crypto.createHash('md5').update(bytes).digest('hex');
const frameOf = (data, i, size = FRAME) => data.subarray(i * size, (i + 1) * size);
/** Options whose output is byte-identical run after run (matroska writes random IDs without bitexact). */
const exact = (ext) => (ext === 'mkv' || ext === 'webm' ? { extraOptions: { fflags: '+bitexact' } } : {});

/** The one-shot encode of the same frames: what every writer test compares with. */
function oneShot(format, options = {}, { data = DATA, shape = [N, 3, H, W], layout } = {}) {
  return new VideoEncoder({ data, shape, layout }, { frameRate: RATE }).toBuffer(format, options);
}

const writerOptions = (extra = {}) => ({ width: W, height: H, frameRate: RATE, ...extra });

for (const ext of ['mp4', 'mkv', 'webm', 'ts', 'avi']) {
  test(`${ext}: frames written one by one from a refilled buffer give VideoEncoder's bytes, via toFile, toBuffer and toStream`, async (t) => {
    const options = exact(ext);
    const expected = md5(await oneShot(ext, options));
    const dir = tmpDirFor(t);
    const dest = path.join(dir, `out.${ext}`);
    const frame = new Uint8Array(FRAME);
    const writeAll = async (writer) => {
      for (let i = 0; i < N; i++) {
        frame.set(frameOf(DATA, i));
        await writer.write(frame); // resolved: framecodec no longer reads `frame`
        frame.fill(0x5a); // scribble over it: nothing of it may reach the video
      }
      return writer.close();
    };
    const file = await writeAll(await VideoWriter.toFile(dest, writerOptions(options)));
    const buffer = await writeAll(await VideoWriter.toBuffer(ext, writerOptions(options)));
    const sink = collector();
    const streamed = await writeAll(await VideoWriter.toStream(sink, ext, writerOptions(options)));
    const fromStream = await sink.done;
    t.is(md5(fs.readFileSync(dest)), expected, 'toFile');
    t.is(md5(buffer.buffer), expected, 'toBuffer');
    t.is(md5(fromStream), expected, 'toStream');
    t.is(file.frames, N);
    t.is(buffer.bytes, buffer.buffer.length);
    t.is(streamed.bytes, fromStream.length);
    t.is(file.format, { mp4: 'mp4', mkv: 'matroska', webm: 'webm', ts: 'mpegts', avi: 'avi' }[ext]);
    t.is(file.buffer, undefined, 'only toBuffer resolves with a buffer');
  });
}

test('toStream into a WHATWG WritableStream: the same bytes, its lock released at the end', async (t) => {
  const expected = md5(await oneShot('mkv', exact('mkv')));
  const chunks = [];
  const web = new WritableStream({ write: (chunk) => void chunks.push(Buffer.from(chunk)) }, { highWaterMark: 2 });
  const writer = await VideoWriter.toStream(web, 'mkv', writerOptions(exact('mkv')));
  t.true(web.locked, 'the writer holds the stream');
  for (let i = 0; i < N; i++) await writer.write(frameOf(DATA, i));
  const result = await writer.close();
  t.false(web.locked, 'released');
  t.is(md5(Buffer.concat(chunks)), expected);
  t.is(result.bytes, Buffer.concat(chunks).length);
});

test('batches of any size, bare typed arrays and { data, shape }, give the same bytes as one batch of all', async (t) => {
  const expected = md5(await oneShot('mp4'));
  for (const sizes of [[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [5, 7], [12], [2, 3, 1, 6]]) {
    const writer = await VideoWriter.toBuffer('mp4', writerOptions());
    let at = 0;
    for (const [k, size] of sizes.entries()) {
      const data = DATA.slice(at * FRAME, (at + size) * FRAME);
      await writer.write(k % 2 ? { data, shape: [size, 3, H, W] } : data);
      at += size;
    }
    t.is(writer.framesWritten, N);
    t.is(md5((await writer.close()).buffer), expected, `batches ${sizes}`);
  }
});

test('un-awaited writes are written in call order, and resolve in call order', async (t) => {
  const expected = md5(await oneShot('mp4'));
  const writer = await VideoWriter.toBuffer('mp4', writerOptions());
  const resolved = [];
  const writes = Array.from({ length: N }, (_, i) => writer.write(DATA.slice(i * FRAME, (i + 1) * FRAME)).then(() => resolved.push(i)));
  t.is(writer.framesWritten, N, 'counted when accepted');
  const result = await writer.close();
  await Promise.all(writes);
  t.deepEqual(resolved, [...Array(N).keys()]);
  t.is(md5(result.buffer), expected);
});

test('NHWC RGB and RGBA writers give the bytes of VideoEncoder on the same pixels', async (t) => {
  for (const channels of [3, 4]) {
    const data = channels === 3 ? nchwToNhwc(DATA, N, H, W) : nchwToRgba(DATA, N, H, W);
    const expected = md5(await oneShot('mkv', exact('mkv'), { data, shape: [N, H, W, channels], layout: 'NHWC' }));
    const writer = await VideoWriter.toBuffer('mkv', writerOptions({ layout: 'NHWC', channels, ...exact('mkv') }));
    const size = H * W * channels;
    for (let i = 0; i < N; i += 3) await writer.write({ data: data.subarray(i * size, (i + 3) * size), shape: [3, H, W, channels], layout: 'NHWC' });
    t.is(md5((await writer.close()).buffer), expected, `${channels} channels`);
  }
});

test('the video decodes to the written frames (lossless yuv444p), with their count, size and rate', async (t) => {
  const writer = await VideoWriter.toBuffer('mkv', writerOptions({ pixelFormat: 'yuv444p', crf: 0, frameRate: 29.97 }));
  for (let i = 0; i < N; i++) await writer.write(frameOf(DATA, i));
  const { buffer, frames, pixelFormat } = await writer.close();
  t.is(frames, N);
  t.is(pixelFormat, 'yuv444p');
  const v = probe(buffer, { ext: 'mkv' }).video;
  t.is(Number(v.nb_read_frames), N);
  t.is(v.r_frame_rate, '30000/1001');
  const decoded = decodeRgb(buffer, W, H, { ext: 'mkv' });
  const db = psnr(decoded, nchwToNhwc(DATA, N, H, W));
  t.true(db > 45, `PSNR ${db.toFixed(1)} dB`);
});

test('nothing reaches the file or stream before the first write(); the header comes with it', async (t) => {
  const dir = tmpDirFor(t);
  const dest = path.join(dir, 'late.ts');
  const toFile = await VideoWriter.toFile(dest, writerOptions());
  const streams = [];
  for (const [format, extra] of [['ts', {}], ['mp4', {}], ['mkv', {}], ['webm', {}], ['avi', {}], ['flv', {}], ['gif', {}], ['nut', {}],
    ['mp4', { extraOptions: { movflags: '+frag_keyframe+empty_moov+default_base_moof' } }], ['webm', { extraOptions: { live: 1 } }]]) {
    const sink = collector();
    const s = { format, sink, received: 0 };
    sink.on('data', (c) => (s.received += c.length));
    s.writer = await VideoWriter.toStream(sink, format, writerOptions(extra));
    streams.push(s);
  }
  await new Promise((r) => setTimeout(r, 150));
  for (const s of streams) t.is(s.received, 0, `${s.format}: the stream received nothing before the first write()`);
  t.false(fs.existsSync(dest), 'dest does not exist before close()');
  for (let i = 0; i < N; i++) await Promise.all([toFile.write(frameOf(DATA, i)), ...streams.map((s) => s.writer.write(frameOf(DATA, i)))]);
  await Promise.all([toFile.close(), ...streams.map((s) => s.writer.close())]);
  for (const s of streams) t.true(s.received > 0, s.format);
  t.true(fs.existsSync(dest));
});

test('a live stream (mpegts, fragmented mp4) receives bytes while frames are still being written', async (t) => {
  // Five seconds of video at 24 fps; x264 holds ~40 frames in its lookahead, fragments are cut each
  // second: bytes must arrive long before close() is called.
  const frames = makeFramesNCHW(120, H, W, { seed: 102 });
  const cases = [
    ['ts', {}],
    ['mp4', { extraOptions: { movflags: '+frag_keyframe+empty_moov+default_base_moof' } }],
  ];
  for (const [ext, options] of cases) {
    const sink = collector();
    let received = 0;
    sink.on('data', (c) => (received += c.length));
    const writer = await VideoWriter.toStream(sink, ext, writerOptions(options));
    for (let i = 0; i < 120; i++) await writer.write(frameOf(frames, i));
    await new Promise((r) => setTimeout(r, 100));
    const beforeClose = received;
    const result = await writer.close();
    const bytes = await sink.done;
    t.log(`${ext}: ${beforeClose} of ${bytes.length} bytes had reached the stream before close()`);
    t.true(beforeClose > 0 && beforeClose < bytes.length, `${ext}: ${beforeClose} bytes before close`);
    t.is(result.bytes, bytes.length);
    t.is(Number(probe(bytes, { ext }).video.nb_read_frames), 120);
  }
});

test('fragmented mp4 from a writer starts at t = 0 and lasts exactly its frames', async (t) => {
  const frames = makeFramesNCHW(72, H, W, { seed: 103 });
  const writer = await VideoWriter.toBuffer('mp4', writerOptions({ extraOptions: { movflags: '+frag_keyframe+empty_moov+default_base_moof' } }));
  for (let i = 0; i < 72; i++) await writer.write(frameOf(frames, i));
  const { buffer } = await writer.close();
  const v = probe(buffer, { ext: 'mp4' }).video;
  t.is(Number(v.start_time), 0, 'frame 0 is presented at t = 0 (B-frame delay signalled by an edit list)');
  t.is(Number(v.duration), 3, '72 frames at 24 fps');
  const moofs = buffer.toString('latin1').split('moof').length - 1;
  t.true(moofs >= 3, `${moofs} fragments of about a second for 3 s of video (one GOP of 250 frames without the default)`);
});

test('onProgress: totalFrames null, non-decreasing, never above framesWritten, last = result.frames before close() resolves', async (t) => {
  const calls = [];
  const events = [];
  let writer;
  writer = await VideoWriter.toBuffer('mp4', writerOptions({
    onProgress: (p) => {
      calls.push({ ...p, written: writer?.framesWritten ?? 0 });
      events.push('progress');
    },
  }));
  for (let i = 0; i < N; i++) await writer.write(frameOf(DATA, i));
  const result = await writer.close();
  events.push('closed');
  await new Promise((r) => setTimeout(r, 50));
  t.true(calls.length >= 1);
  for (const [i, c] of calls.entries()) {
    t.is(c.totalFrames, null);
    t.true(c.framesEncoded <= c.written, `call ${i}: ${c.framesEncoded} encoded > ${c.written} written`);
    if (i) t.true(c.framesEncoded >= calls[i - 1].framesEncoded);
  }
  t.is(calls.at(-1).framesEncoded, result.frames);
  t.is(events.at(-1), 'closed', 'no progress call after close() resolved');
});

test('a throwing onProgress aborts the writer: close() (or the pending write) rejects with what it threw, no file', async (t) => {
  const dir = tmpDirFor(t);
  const boom = new Error('progress handler failed');
  const writer = await VideoWriter.toFile(path.join(dir, 'p.mp4'), writerOptions({
    onProgress: () => {
      throw boom;
    },
  }));
  const settled = [];
  for (let i = 0; i < N; i++) settled.push(writer.write(frameOf(DATA, i)).then(() => 'ok', (e) => e));
  const closed = await writer.close().then(() => 'resolved', (e) => e);
  t.is(closed, boom);
  t.deepEqual(fs.readdirSync(dir), []);
  for (const s of await Promise.all(settled)) t.true(s === 'ok' || s === boom);
});

test('stream.pipeline(Readable.from(frames), writer.writable()) writes every frame; close() then returns the result', async (t) => {
  const expected = md5(await oneShot('mp4'));
  const writer = await VideoWriter.toBuffer('mp4', writerOptions());
  async function* rendered() {
    for (let i = 0; i < N; i++) yield DATA.slice(i * FRAME, (i + 1) * FRAME);
  }
  await pipeline(Readable.from(rendered()), writer.writable());
  const result = await writer.close();
  t.is(md5(result.buffer), expected);
  t.is(result.frames, N);
});

test('writable(): a source that fails destroys the Writable, which aborts the writer (no file)', async (t) => {
  const dir = tmpDirFor(t);
  const dest = path.join(dir, 'broken.mp4');
  const writer = await VideoWriter.toFile(dest, writerOptions());
  const failure = new Error('renderer crashed');
  async function* rendered() {
    yield frameOf(DATA, 0).slice();
    yield frameOf(DATA, 1).slice();
    throw failure;
  }
  const sink = writer.writable();
  // pipeline() rejects as soon as the source fails, before the Writable's destroy() (which awaits
  // abort(), the removal of the temporary file) has finished: 'close' comes after it.
  const sinkClosed = new Promise((resolve) => sink.once('close', resolve));
  const err = await t.throwsAsync(pipeline(Readable.from(rendered()), sink));
  t.is(err, failure);
  await sinkClosed;
  const closed = await t.throwsAsync(writer.close());
  t.is(closed.code, 'ERR_INVALID_STATE');
  t.deepEqual(fs.readdirSync(dir), []);
});

test('writable(): a chunk of the wrong shape fails the pipeline with ERR_INVALID_ARG_VALUE', async (t) => {
  const writer = await VideoWriter.toBuffer('mp4', writerOptions());
  const err = await t.throwsAsync(pipeline(Readable.from([new Uint8Array(FRAME), new Uint8Array(7)]), writer.writable()));
  t.is(err.code, 'ERR_INVALID_ARG_VALUE');
  t.is((await t.throwsAsync(writer.close())).code, 'ERR_INVALID_STATE', 'the writer was aborted by the destroy');
});

test('4 writers into fs.createWriteStream at once (more than the libuv pool) all finish', async (t) => {
  const dir = tmpDirFor(t);
  const expected = md5(await oneShot('ts'));
  const one = async (k) => {
    const dest = path.join(dir, `w${k}.ts`);
    const out = fs.createWriteStream(dest);
    const writer = await VideoWriter.toStream(out, 'ts', writerOptions());
    for (let i = 0; i < N; i++) await writer.write(frameOf(DATA, i));
    await writer.close();
    return md5(fs.readFileSync(dest));
  };
  const results = await Promise.all([0, 1, 2, 3, 4, 5].map(one));
  t.deepEqual(results, Array(6).fill(expected));
});

test('a slow Writable holds write() back: at most a few frames are read ahead of what the stream took', async (t) => {
  // The consumer takes nothing until released: the encoder blocks on the stream, conversion on the
  // encoder, and write() Promises stop resolving. framecodec must not read the whole backlog.
  const big = makeFramesNCHW(40, 240, 320, { seed: 104, noise: 40 });
  const size = 3 * 240 * 320;
  let release;
  const released = new Promise((r) => (release = r));
  const chunks = [];
  const slow = new Writable({
    highWaterMark: 1,
    write(chunk, _e, callback) {
      chunks.push(chunk);
      released.then(() => callback());
    },
  });
  const writer = await VideoWriter.toStream(slow, 'ts', { width: 320, height: 240, frameRate: RATE, codec: 'libx264', crf: 0, extraOptions: { tune: 'zerolatency' } });
  let resolved = 0;
  const writes = Array.from({ length: 40 }, (_, i) => writer.write(big.subarray(i * size, (i + 1) * size)).then(() => resolved++));
  await new Promise((r) => setTimeout(r, 800));
  const whileStalled = resolved;
  t.log(`${whileStalled} of 40 writes resolved while the stream took nothing`);
  t.true(whileStalled <= 12, `${whileStalled} frames read ahead of a stalled stream`);
  release();
  await Promise.all(writes);
  const result = await writer.close();
  t.is(result.frames, 40);
});

test('an open writer does not keep the process alive, a pending write() does; an abandoned one leaves no file', async (t) => {
  const dir = tmpDirFor(t);
  const { execFileSync } = await import('node:child_process');
  const script = `
    const { VideoWriter } = require(${JSON.stringify(require.resolve('../index.js'))})
    ;(async () => {
      const w = await VideoWriter.toFile(${JSON.stringify(path.join(dir, 'open.mp4'))}, { width: 16, height: 16, frameRate: 10 })
      await w.write(new Uint8Array(3 * 16 * 16))
      console.log('written')
    })()`;
  const started = Date.now();
  const out = execFileSync(process.execPath, ['-e', script], { timeout: 20_000 }).toString();
  t.is(out.trim(), 'written');
  t.true(Date.now() - started < 15_000);
  t.deepEqual(fs.readdirSync(dir), [], 'the unclosed writer left no file (its temporary file is removed at exit)');
});
