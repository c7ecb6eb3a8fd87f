// framecodec live stream: an HTTP server on 127.0.0.1 that renders video in real time for each
// request and sends it as fragmented MP4 while it is being encoded. The <video> on the page it serves
// starts playing once the first fragment is in (about 1.5 s after the request), long before the end.
//
//   node examples/live-stream.mjs                 serves until Ctrl-C; open the printed URL
//   node examples/live-stream.mjs --once          ends after one stream (for CI); also LIVE_ONCE=1
//   options: --port N (default 8080; 0 = any free port), --seconds S (default 10), --fps F (30),
//            --width W (320), --height H (240)
//
// The pattern: VideoWriter.toStream(res, 'mp4', { extraOptions: { movflags: fragmented } }) sends each
// fragment (one second of video) to the response as soon as it is complete; no Content-Length, so
// Node sends the body chunked. Frames are rendered one by one into ONE reused buffer, each at its time
// (frame i at start + i / fps, as a camera or a game produces them); `await writer.write(frame)`
// resolves once framecodec no longer reads that memory, so the next frame can be drawn into it. When
// the client goes away the writer is aborted: rendering stops and nothing is left running.
//
// What each frame shows, designed so that a program can check a player (see __test__/live.spec.mjs):
// - the background is one colour per second, taken in turn from PALETTE;
// - two rows of large blocks at the top encode the frame index in binary (white = 1, MSB first), the
//   second row the complement of the first, so that a misread is detected rather than believed;
// - a square that moves 6 pixels per frame, the frame number in large digits, and a strip of TV snow;
// - a patch (patchRect) where nothing but the background is ever drawn: it has the second's colour.
import { createRequire } from 'node:module'
import http from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const { VideoWriter } = require('../index.js')

/** Background colour of each second, in turn (RGB). */
export const PALETTE = [
  [200, 40, 40],
  [40, 200, 40],
  [40, 40, 200],
  [220, 200, 60],
  [60, 190, 210],
  [190, 60, 180],
]

/** Bits of the frame index code: 4096 frames, over two minutes at 30 fps (then it wraps). */
export const BITS = 12
/** Size of a code block in pixels: large and on even coordinates, so compression cannot blur its centre. */
export const BLOCK = 24
const MARGIN = 16
const SNOW_W = 160
const SNOW_H = 32
/** Smallest frame the layout fits in. */
export const MIN_WIDTH = 2 * MARGIN + BITS * BLOCK // 320
export const MIN_HEIGHT = 240

/** The rectangles { x, y, w, h } of the code blocks: `bits[b]` holds bit BITS-1-b, `complement[b]` its inverse. */
export function codeBlocks() {
  const row = (y) => Array.from({ length: BITS }, (_, b) => ({ x: MARGIN + b * BLOCK, y, w: BLOCK, h: BLOCK }))
  return { bits: row(MARGIN), complement: row(MARGIN + BLOCK) }
}

/** The rectangle where only the background colour is drawn: the bottom right corner. */
export function patchRect(width, height) {
  return { x: width - MARGIN - 96, y: height - MARGIN - 64, w: 96, h: 64 }
}

/** The background colour of frame `index`. */
export const colorOf = (index, fps) => PALETTE[Math.floor(index / fps) % PALETTE.length]

/**
 * The frame index read back from the mean brightness (0–255) of each code block, as a player shows
 * them: `{ index }`, or `{ index: null, why }` when a bit and its complement do not disagree clearly.
 */
export function decodeCode(bitLevels, complementLevels) {
  let index = 0
  for (let b = 0; b < BITS; b++) {
    const on = bitLevels[b]
    const off = complementLevels[b]
    if (Math.abs(on - off) < 128) return { index: null, why: `bit ${BITS - 1 - b}: levels ${on} and ${off} (complement) are too close` }
    index = index * 2 + (on > off ? 1 : 0)
  }
  return { index }
}

// Digits 0-9 in a 3x5 pixel font, one string of 15 '0'/'1' per digit, row by row.
const DIGITS = ['111101101101111', '010110010010111', '111001111100111', '111001111001111', '101101111001001',
  '111100111001111', '111100111101111', '111001001001001', '111101111101111', '111101111001111']

/** Draws frame `index` into `frame` (NHWC RGB, width × height × 3), overwriting every pixel. */
export function renderFrame(frame, width, height, index, fps) {
  const fill = (x0, y0, w, h, [r, g, b]) => {
    for (let y = y0; y < y0 + h; y++) {
      let i = (y * width + x0) * 3
      for (let x = 0; x < w; x++, i += 3) {
        frame[i] = r
        frame[i + 1] = g
        frame[i + 2] = b
      }
    }
  }
  const WHITE = [255, 255, 255]
  const BLACK = [0, 0, 0]
  fill(0, 0, width, height, colorOf(index, fps))
  const { bits, complement } = codeBlocks()
  for (let b = 0; b < BITS; b++) {
    const one = ((index >> (BITS - 1 - b)) & 1) === 1
    fill(bits[b].x, bits[b].y, BLOCK, BLOCK, one ? WHITE : BLACK)
    fill(complement[b].x, complement[b].y, BLOCK, BLOCK, one ? BLACK : WHITE)
  }
  // A square sweeping left to right, 6 pixels per frame (with a black edge, visible on every colour).
  const band = MARGIN + 2 * BLOCK + 16
  const travel = width - 2 * MARGIN - 48
  const sx = MARGIN + ((index * 6) % travel)
  fill(sx, band, 48, 48, BLACK)
  fill(sx + 4, band + 4, 40, 40, WHITE)
  // TV snow: random grey levels, new every frame (a fixed seed per frame: every stream is the same).
  // Real footage has detail; without it this picture compresses to ~3 KiB per second, and Chromium's
  // media loader hands data to its demuxer in 32 KiB blocks only: it would not start playing until
  // 10 s of video had arrived. The snow brings the stream to ~80 KiB/s, like real video of this size.
  let seed = (index * 2654435761) >>> 0
  for (let y = height - MARGIN - SNOW_H; y < height - MARGIN; y++) {
    let i = (y * width + MARGIN) * 3
    for (let x = 0; x < SNOW_W; x++, i += 3) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      frame[i] = frame[i + 1] = frame[i + 2] = seed >>> 24
    }
  }
  // The frame number, 8 pixels per font pixel, left of the patch.
  const digits = String(index)
  const dy = band + 48 + 16
  for (let d = 0; d < digits.length; d++) {
    const glyph = DIGITS[digits.charCodeAt(d) - 48]
    for (let p = 0; p < 15; p++) {
      if (glyph[p] === '1') fill(MARGIN + d * 32 + (p % 3) * 8, dy + Math.floor(p / 3) * 8, 8, 8, WHITE)
    }
  }
}

const INDEX_HTML = `<!doctype html>
<html>
<head><meta charset="utf-8"><title>framecodec live stream</title></head>
<body style="background:#222;color:#eee;font-family:sans-serif">
<h1>framecodec live stream</h1>
<p>Rendered and encoded as you watch (fragmented MP4, one fragment per second). Reload for a new stream.</p>
<video src="live.mp4" controls autoplay muted playsinline></video>
</body>
</html>
`

/**
 * Starts the server. Every request for /live.mp4 gets its own stream: `seconds` seconds of
 * `width`×`height` video at `fps`, frame 0 rendered at the request. / and /index.html serve a page
 * that plays it. `onStream(record)` is called when a stream starts; `record.done` resolves once it
 * has ended, whether complete or cut short by the client.
 *
 * Returns { url (of the page), videoUrl, streams (a record per stream, in request order), close() }.
 * A record: { id, startedAt, endedAt (Date.now(), once close() resolved or the stream was cut short),
 * framesWritten, result (close()'s, when complete), error (when cut short or failed), done }.
 */
export async function startLiveServer({ port = 0, host = '127.0.0.1', seconds = 10, fps = 30, width = 320, height = 240, onStream } = {}) {
  if (width < MIN_WIDTH || height < MIN_HEIGHT || width % 2 || height % 2) {
    throw new RangeError(`width and height must be even and at least ${MIN_WIDTH}x${MIN_HEIGHT}, got ${width}x${height}`)
  }
  const streams = []
  const server = http.createServer((req, res) => {
    const { pathname } = new URL(req.url, 'http://localhost')
    if (pathname === '/' || pathname === '/index.html') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(INDEX_HTML)
    } else if (pathname === '/live.mp4') {
      const record = { id: streams.length, startedAt: Date.now(), endedAt: null, framesWritten: 0, result: null, error: null }
      record.done = stream(req, res, record, { seconds, fps, width, height })
      streams.push(record)
      onStream?.(record)
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n')
    }
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, resolve)
  })
  const origin = `http://${host}:${server.address().port}`
  return {
    url: `${origin}/`,
    videoUrl: `${origin}/live.mp4`,
    streams,
    close: async () => {
      // Cut the streams still running (their writers are aborted), then wait until they are wound up.
      server.closeAllConnections()
      await new Promise((resolve) => server.close(() => resolve()))
      await Promise.all(streams.map((s) => s.done))
    },
  }
}

/** One stream: renders and writes frames in real time until `seconds` are sent or the client leaves. */
async function stream(req, res, record, { seconds, fps, width, height }) {
  // A client that goes away (closed tab, reload, network error) aborts the writer through the signal:
  // the pending write() rejects at once with an AbortError, and the loop below stops rendering.
  const gone = new AbortController()
  res.once('close', () => {
    if (!res.writableFinished) gone.abort(new Error('the client closed the connection'))
  })
  // Plays in browsers as a progressive download that has no end yet; no Content-Length, so Node sends
  // it chunked. 'no-store': every request is a new stream from frame 0.
  res.writeHead(200, { 'Content-Type': 'video/mp4', 'Cache-Control': 'no-store' })
  const frame = new Uint8Array(width * height * 3) // NHWC RGB, refilled for every frame
  const total = Math.round(seconds * fps)
  let writer
  try {
    writer = await VideoWriter.toStream(res, 'mp4', {
      width,
      height,
      frameRate: fps,
      layout: 'NHWC',
      channels: 3,
      // veryfast keeps up with real time on one core at this size and still uses B-frames: frame 0
      // is presented at t = 0 thanks to the edit list framecodec writes for fragmented mp4.
      preset: 'veryfast',
      crf: 18,
      // Fragmented mp4: the header (moov) first, then one fragment (moof + mdat) per second.
      extraOptions: { movflags: '+frag_keyframe+empty_moov+default_base_moof' },
      signal: gone.signal,
    })
    const start = performance.now()
    for (let i = 0; i < total; i++) {
      // Frame i is due at start + i / fps; a late frame is written at once (a live stream must not skip).
      const wait = start + (i * 1000) / fps - performance.now()
      if (wait > 0) await sleep(wait, undefined, { signal: gone.signal })
      renderFrame(frame, width, height, i, fps)
      await writer.write(frame) // resolves once framecodec no longer reads `frame`: it may be redrawn
      record.framesWritten = i + 1
    }
    record.result = await writer.close() // flush, last fragment, end the response
  } catch (err) {
    // Aborted by the client's leaving, or a failure (then the response is cut short, so the client
    // sees an incomplete body rather than a seemingly complete video).
    record.error = err
    await writer?.abort(err)
    if (!gone.signal.aborted && !res.destroyed) console.error(`stream ${record.id} failed:`, err)
    res.destroy()
  } finally {
    record.endedAt = Date.now()
  }
  return record
}

function parseArgs(argv) {
  const options = { port: 8080, seconds: 10, once: process.env.LIVE_ONCE === '1' }
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, '')
    if (name === 'once') options.once = true
    else if (['port', 'seconds', 'fps', 'width', 'height'].includes(name) && i + 1 < argv.length) options[name] = Number(argv[++i])
    else throw new Error(`unknown argument ${argv[i]} (see the comment at the top of examples/live-stream.mjs)`)
  }
  return options
}

// Run as a program (not when imported by a test).
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { once, ...options } = parseArgs(process.argv.slice(2))
  const live = await startLiveServer({
    ...options,
    onStream: (record) => {
      console.log(`stream ${record.id}: started`)
      record.done.then(({ result, error, framesWritten, startedAt, endedAt }) => {
        const took = ((endedAt - startedAt) / 1000).toFixed(1)
        if (result) console.log(`stream ${record.id}: complete, ${result.frames} frames, ${result.bytes} bytes of ${result.format}/${result.codec}, in ${took} s`)
        else console.log(`stream ${record.id}: ended after ${framesWritten} frames (${error?.cause?.message ?? error?.message ?? error})`)
        if (once) live.close().then(() => console.log('one stream served (--once): bye'))
      })
    },
  })
  console.log(`Live stream page: ${live.url}`)
  console.log(`Video:            ${live.videoUrl}  (e.g. ffplay ${live.videoUrl})`)
  process.once('SIGINT', () => live.close().then(() => process.exit(0)))
}
