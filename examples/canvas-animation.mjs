// framecodec + @napi-rs/canvas: an animation drawn frame by frame with the Canvas 2D API and written
// as it is drawn into an MP4 (H.264) and a WebM (VP9) at the same time, with two VideoWriters.
//
//   node examples/canvas-animation.mjs [outDir]      (default: out/, relative to the working directory)
//
// The pattern, for any renderer:
//   1. draw frame i into the canvas (the same canvas for every frame);
//   2. take its pixels: ctx.getImageData(...).data is RGBA, row by row: exactly what a writer opened
//      with { layout: 'NHWC', channels: 4 } takes, so no conversion happens in JavaScript (alpha is
//      ignored);
//   3. await writer.write(pixels): it resolves once framecodec no longer reads that memory. The
//      encoders run on threads of their own, so both writers take the frame in parallel, and at most
//      a few frames are in flight: memory stays bounded however long the video;
//   4. go back to 1. A buffer you fill yourself (e.g. one Uint8Array refilled from a WebGL readPixels)
//      may be refilled as soon as write() has resolved. getImageData() returns a new copy each time.
// Only the whole videos are written out: close() flushes the encoders and moves each file into place
// (an aborted or failed writer leaves no file behind).
import { createRequire } from 'node:module'
import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { createCanvas } from '@napi-rs/canvas'

const require = createRequire(import.meta.url)
const { VideoWriter } = require('../index.js')

const width = 640
const height = 360
const frameRate = 30
const seconds = 4
const total = frameRate * seconds

const outDir = resolve(process.argv[2] ?? 'out')
mkdirSync(outDir, { recursive: true })
const mp4Path = join(outDir, 'canvas-animation.mp4')
const webmPath = join(outDir, 'canvas-animation.webm')

const canvas = createCanvas(width, height)
const ctx = canvas.getContext('2d')

/** Draws frame i: a background whose hue turns, bouncing balls, a spinning square, the frame number. */
function draw(i) {
  const t = i / frameRate
  const hue = (i * 3) % 360
  const sky = ctx.createLinearGradient(0, 0, width, height)
  sky.addColorStop(0, `hsl(${hue}, 60%, 35%)`)
  sky.addColorStop(1, `hsl(${(hue + 120) % 360}, 60%, 15%)`)
  ctx.fillStyle = sky
  ctx.fillRect(0, 0, width, height)

  const colors = ['#ff5a5f', '#ffd166', '#06d6a0', '#118ab2', '#f78c6b']
  colors.forEach((color, k) => {
    // Each ball bounces on the floor with its own period, drifting left to right and wrapping.
    const r = 18 + 6 * k
    const x = (((k * 131 + i * (2 + k)) % (width + 2 * r)) + width + 2 * r) % (width + 2 * r) - r
    const y = height - 60 - r - Math.abs(Math.sin(t * (1.3 + 0.4 * k) + k)) * (height - 160)
    ctx.beginPath()
    ctx.arc(x, y, r, 0, 2 * Math.PI)
    ctx.fillStyle = color
    ctx.fill()
  })

  ctx.save()
  ctx.translate(width - 110, 110)
  ctx.rotate(t * 1.5)
  ctx.fillStyle = 'rgba(255, 255, 255, 0.85)'
  ctx.fillRect(-40, -40, 80, 80)
  ctx.restore()

  ctx.fillStyle = '#ffffff'
  ctx.font = 'bold 40px sans-serif'
  ctx.fillText(`frame ${i}`, 24, 60)
  ctx.font = '22px sans-serif'
  ctx.fillText(`${t.toFixed(2)} s of ${seconds} s, ${frameRate} fps`, 24, 94)
  // A progress bar along the bottom edge.
  ctx.fillStyle = 'rgba(0, 0, 0, 0.4)'
  ctx.fillRect(0, height - 12, width, 12)
  ctx.fillStyle = '#ffffff'
  ctx.fillRect(0, height - 12, (width * (i + 1)) / total, 12)
}

// One frame is width × height RGBA pixels, row by row: NHWC with 4 channels.
const frames = { width, height, frameRate, layout: 'NHWC', channels: 4 }
const mp4 = await VideoWriter.toFile(mp4Path, { ...frames, crf: 20, preset: 'medium', extraOptions: { movflags: '+faststart' } })
// VP9 at libvpx's default speed takes ~3x as long as x264 here; cpu-used 4 with row-mt is ~1x.
const webm = await VideoWriter.toFile(webmPath, { ...frames, crf: 32, extraOptions: { deadline: 'good', 'cpu-used': 4, 'row-mt': 1 } })

const started = performance.now()
try {
  for (let i = 0; i < total; i++) {
    draw(i)
    const pixels = ctx.getImageData(0, 0, width, height).data // Uint8ClampedArray, RGBA
    await Promise.all([mp4.write(pixels), webm.write(pixels)])
    if (i % frameRate === frameRate - 1) console.log(`Rendered and written ${i + 1}/${total} frames`)
  }
  const results = await Promise.all([mp4.close(), webm.close()])
  const elapsed = (performance.now() - started) / 1000
  console.log(`Done in ${elapsed.toFixed(1)} s (${(total / elapsed).toFixed(0)} frames/s, both videos at once):`)
  for (const [path, result] of [[mp4Path, results[0]], [webmPath, results[1]]]) {
    console.log(`  ${path}`)
    console.log(`    ${result.frames} frames of ${width}x${height} at ${frameRate} fps (${seconds} s), ` +
      `${result.format} / ${result.codec} / ${result.pixelFormat}, ${(result.bytes / 1024).toFixed(0)} KiB`)
    try {
      const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width,height:format=duration', '-of', 'json', path]).toString())
      const v = probe.streams[0]
      console.log(`    ffprobe: ${v.codec_name}, ${v.width}x${v.height}, ${Number(probe.format.duration).toFixed(3)} s`)
    } catch {
      // ffprobe is optional here
    }
  }
  console.log('Play them in any browser or player, e.g. ffplay ' + mp4Path)
} catch (err) {
  // Discard both outputs (no partial file is left), then report.
  await Promise.all([mp4.abort(err), webm.abort(err)])
  throw err
}
