// framecodec demo: renders 6 seconds of animation frame by frame (as a canvas, a game or an ML model
// would) with its soundtrack, hands each frame and its 1/30 s of sound to a VideoWriter as soon as they
// are made, and says where the video is and what it contains. Only one frame is ever held in memory:
// the buffer is refilled once write() resolves, while the encoder works on the frames before it on
// threads of its own. The sound follows the ball: its pitch rises with it, its pan follows it.
//
//   npm run demo            (installs and builds what it needs first)
//   node examples/demo.mjs [out.mp4]
import { createRequire } from 'node:module'
import { execFileSync } from 'node:child_process'
import { mkdirSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'

const require = createRequire(import.meta.url)
const { VideoWriter } = require('../index.js')

const width = 640
const height = 360
const frameRate = 30
const seconds = 6
const n = frameRate * seconds

/** Draws frame `f` into `rgba` (NHWC RGBA, as a canvas's getImageData() gives it): a drifting color
 *  field, a bouncing ball, and rotating bars. */
function render(rgba, f) {
  const t = f / frameRate
  const bx = width / 2 + Math.sin(t * 1.7) * (width / 2 - 50)
  const by = height / 2 + Math.abs(Math.sin(t * 3.1)) * -(height / 2 - 50) + (height / 2 - 50) / 2
  const angle = t * 0.8
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4
      let r = 128 + 100 * Math.sin(x / 90 + t)
      let g = 128 + 100 * Math.sin(y / 70 - t * 0.7)
      let b = 128 + 100 * Math.sin((x + y) / 120 + t * 1.3)
      const dx = x - width / 2
      const dy = y - height / 2
      const along = dx * Math.cos(angle) + dy * Math.sin(angle)
      if (Math.abs(along) % 80 < 6) r = g = b = 240
      if ((x - bx) ** 2 + (y - by) ** 2 < 40 ** 2) { r = 230; g = 40; b = 50 }
      rgba[i] = r
      rgba[i + 1] = g
      rgba[i + 2] = b
      rgba[i + 3] = 255
    }
  }
}

const sampleRate = 48000
const perFrame = sampleRate / frameRate // 1600 samples of sound per frame
let phase = 0

/** Fills `stereo` (interleaved L R) with frame `f`'s sound: a tone whose pitch and pan follow the ball. */
function sound(stereo, f) {
  for (let i = 0; i < perFrame; i++) {
    const t = (f * perFrame + i) / sampleRate
    const height = Math.abs(Math.sin(t * 3.1)) // the ball's height, 0 at a bounce
    const pan = (Math.sin(t * 1.7) + 1) / 2 // 0 left … 1 right, as the ball's x
    phase += (2 * Math.PI * (220 + 440 * height)) / sampleRate
    const v = 0.25 * Math.sin(phase)
    stereo[2 * i] = v * (1 - pan)
    stereo[2 * i + 1] = v * pan
  }
}

const dest = resolve(process.argv[2] ?? 'out/demo.mp4')
mkdirSync(dirname(dest), { recursive: true })

let encoded = 0
const draw = (written) => {
  const pct = Math.floor((100 * encoded) / n)
  const bar = '#'.repeat(Math.round(pct / 4)).padEnd(25, '.')
  process.stdout.write(`\rRendering and encoding [${bar}] ${String(pct).padStart(3)}%  ${written}/${n} frames written, ${encoded} encoded`)
}

const started = performance.now()
const writer = await VideoWriter.toFile(dest, {
  width,
  height,
  frameRate,
  layout: 'NHWC',
  channels: 4,
  codec: 'libx264',
  crf: 20,
  preset: 'medium',
  extraOptions: { movflags: '+faststart' },
  audio: { sampleRate, channels: 2 }, // aac, the mp4 default
  onProgress: ({ framesEncoded }) => { encoded = framesEncoded },
})
const frame = new Uint8ClampedArray(width * height * 4) // one frame, reused
const stereo = new Float32Array(2 * perFrame) // one frame's sound, reused (writeAudio copies it)
for (let f = 0; f < n; f++) {
  render(frame, f)
  await writer.write(frame) // resolves once framecodec no longer reads `frame`
  sound(stereo, f)
  await writer.writeAudio(stereo)
  if (f % 5 === 4) draw(f + 1)
}
const result = await writer.close()
draw(n)
const elapsed = (performance.now() - started) / 1000
process.stdout.write('\n')

console.log(`\nWrote ${dest}`)
console.log(`  ${result.frames} frames, ${width}x${height} @ ${frameRate} fps (${seconds} s)`)
console.log(`  ${result.format} / ${result.codec} / ${result.pixelFormat} + ${result.audioCodec} stereo ${sampleRate} Hz, ${(result.bytes / 1024).toFixed(0)} KiB (${statSync(dest).size} bytes on disk)`)
console.log(`  rendered and encoded in ${elapsed.toFixed(2)} s (${(result.frames / elapsed).toFixed(0)} frames/s)`)
try {
  const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', dest]).toString())
  const v = probe.streams.find((s) => s.codec_type === 'video')
  const a = probe.streams.find((s) => s.codec_type === 'audio')
  console.log(`  ffprobe: ${v.codec_name} ${v.profile}, ${v.width}x${v.height}, ${v.r_frame_rate} fps, ${v.nb_frames} frames, ` +
    `${Number(probe.format.duration).toFixed(3)} s, color ${v.color_space}/${v.color_range}; ` +
    `${a.codec_name} ${a.channels} ch ${a.sample_rate} Hz, ${Number(a.duration).toFixed(3)} s`)
} catch {
  // ffprobe is optional for the demo
}
console.log(`\nPlay it with: ffplay ${dest}   (or open it in any browser or video player)`)
