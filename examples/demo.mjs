// framecodec demo: renders 6 seconds of animation in memory (as an ML model or a canvas would),
// encodes it to H.264 MP4 off the JS thread with a progress bar, and says where the file is and
// what it contains.
//
//   npm run demo            (installs and builds what it needs first)
//   node examples/demo.mjs [out.mp4]
import { createRequire } from 'node:module'
import { execFileSync } from 'node:child_process'
import { mkdirSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'

const require = createRequire(import.meta.url)
const { VideoEncoder } = require('../index.js')

const width = 640
const height = 360
const frameRate = 30
const seconds = 6
const n = frameRate * seconds

// Render NHWC RGBA frames, as a canvas's getImageData() gives them: a drifting color field,
// a bouncing ball, and rotating bars.
console.log(`Rendering ${n} frames of ${width}x${height} RGBA (${((n * width * height * 4) / 2 ** 20).toFixed(0)} MiB) ...`)
const frames = new Uint8ClampedArray(n * height * width * 4)
for (let f = 0; f < n; f++) {
  const t = f / frameRate
  const bx = width / 2 + Math.sin(t * 1.7) * (width / 2 - 50)
  const by = height / 2 + Math.abs(Math.sin(t * 3.1)) * -(height / 2 - 50) + (height / 2 - 50) / 2
  const angle = t * 0.8
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = ((f * height + y) * width + x) * 4
      let r = 128 + 100 * Math.sin(x / 90 + t)
      let g = 128 + 100 * Math.sin(y / 70 - t * 0.7)
      let b = 128 + 100 * Math.sin((x + y) / 120 + t * 1.3)
      const dx = x - width / 2
      const dy = y - height / 2
      const along = dx * Math.cos(angle) + dy * Math.sin(angle)
      if (Math.abs(along) % 80 < 6) r = g = b = 240
      if ((x - bx) ** 2 + (y - by) ** 2 < 40 ** 2) { r = 230; g = 40; b = 50 }
      frames[i] = r
      frames[i + 1] = g
      frames[i + 2] = b
      frames[i + 3] = 255
    }
  }
}

const dest = resolve(process.argv[2] ?? 'out/demo.mp4')
mkdirSync(dirname(dest), { recursive: true })

const encoder = new VideoEncoder({ data: frames, shape: [n, height, width, 4], layout: 'NHWC' }, { frameRate })
const started = performance.now()
let lastDrawn = -1
const result = await encoder.toFile(dest, {
  codec: 'libx264',
  crf: 20,
  preset: 'medium',
  extraOptions: { movflags: '+faststart' },
  onProgress: ({ framesEncoded, totalFrames }) => {
    const pct = Math.floor((100 * framesEncoded) / totalFrames)
    if (pct === lastDrawn) return
    lastDrawn = pct
    const bar = '#'.repeat(Math.round(pct / 4)).padEnd(25, '.')
    process.stdout.write(`\rEncoding [${bar}] ${String(pct).padStart(3)}%  ${framesEncoded}/${totalFrames} frames`)
  },
})
const elapsed = (performance.now() - started) / 1000
process.stdout.write('\n')

console.log(`\nWrote ${dest}`)
console.log(`  ${result.frames} frames, ${width}x${height} @ ${frameRate} fps (${seconds} s)`)
console.log(`  ${result.format} / ${result.codec} / ${result.pixelFormat}, ${(result.bytes / 1024).toFixed(0)} KiB (${statSync(dest).size} bytes on disk)`)
console.log(`  encoded in ${elapsed.toFixed(2)} s (${(result.frames / elapsed).toFixed(0)} frames/s)`)
try {
  const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', dest]).toString())
  const v = probe.streams[0]
  console.log(`  ffprobe: ${v.codec_name} ${v.profile}, ${v.width}x${v.height}, ${v.r_frame_rate} fps, ${v.nb_frames} frames, ` +
    `${Number(probe.format.duration).toFixed(3)} s, color ${v.color_space}/${v.color_range}`)
} catch {
  // ffprobe is optional for the demo
}
console.log(`\nPlay it with: ffplay ${dest}   (or open it in any browser or video player)`)
