// framecodec + @napi-rs/canvas: an animation drawn frame by frame with the Canvas 2D API, and a
// soundtrack generated sample by sample beside it, written as they are made into an MP4 (H.264 + AAC)
// and a WebM (VP9 + Opus) at the same time, with two VideoWriters that have an audio track.
//
//   node examples/canvas-soundtrack.mjs [outDir]     (default: out/, relative to the working directory)
//
// What you see and what you hear match: a red ball bounces across the screen and each time it hits the
// floor a click sounds (panned where the ball is, louder for a higher bounce), while a melody plays
// and the key of the note being played lights up on a keyboard.
//
// The pattern, for any renderer and any sound source:
//   1. draw frame i, and take its pixels (ctx.getImageData(...).data: RGBA, row by row, what a writer
//      opened with { layout: 'NHWC', channels: 4 } takes);
//   2. make the audio of the same 1/30 s: at 48 kHz, 1600 samples per channel;
//   3. await writer.write(pixels), then await writer.writeAudio(samples). Samples are float32 in
//      [-1, 1], either interleaved in one Float32Array (L R L R …: the MP4 here) or one Float32Array
//      per channel (planar, as Web Audio's AudioBuffer.getChannelData(c) gives them: the WebM here).
//      writeAudio() copies them, so the same arrays are refilled for the next frame.
// Writing both tracks in step like this keeps the muxer's buffers small: it holds packets until both
// tracks have reached the same time. close() flushes both encoders and moves each file into place.
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
const sampleRate = 48000
const samplesPerFrame = sampleRate / frameRate // 1600

const outDir = resolve(process.argv[2] ?? 'out')
mkdirSync(outDir, { recursive: true })
const mp4Path = join(outDir, 'canvas-soundtrack.mp4')
const webmPath = join(outDir, 'canvas-soundtrack.webm')

// ---- The score: when the ball lands, and which notes play ---------------------------------------

/** The frames at which the ball touches the floor. Between two of them it flies a parabola whose
 *  height grows with the square of its duration (as under gravity); it starts at the top of a fall. */
const bounces = [12, 36, 56, 72, 84, 108]
const floorY = height - 50
const ballRadius = 22
const gravity = 170 / 12 ** 2 // pixels per frame²: an arc of 24 frames rises 170 px

/** The ball's height above the floor at frame i (0 on the bounce frames) and that arc's apex. */
function ballHeight(i) {
  const arcs = [-bounces[0], ...bounces, 2 * bounces.at(-1) - bounces.at(-2)] // a virtual launch before frame 0, one after the end
  let k = 0
  while (arcs[k + 1] <= i) k++
  const [from, to] = [arcs[k], arcs[k + 1]]
  const apex = gravity * ((to - from) / 2) ** 2
  const s = (i - from) / (to - from)
  return { y: apex * 4 * s * (1 - s), apex }
}

/** The ball's x: left to right across the screen over the whole video. */
const ballX = (i) => 60 + ((width - 120) * i) / (total - 1)

// A melody on a beat of 15 frames (0.5 s; 120 bpm): [key of the keyboard, first beat, beats].
const keys = ['C4', 'D4', 'E4', 'F4', 'G4', 'A4', 'B4', 'C5']
const keyHz = [261.63, 293.66, 329.63, 349.23, 392.0, 440.0, 493.88, 523.25]
const melody = [[0, 0, 1], [2, 1, 1], [4, 2, 1], [7, 3, 1], [5, 4, 1], [4, 5, 1], [3, 6, 0.5], [1, 6.5, 0.5], [0, 7, 1]]
const bass = [[130.81, 0, 2], [174.61, 2, 2], [196.0, 4, 2], [130.81, 6, 2]] // [Hz, first beat, beats]
const beatSeconds = 15 / frameRate

/** The melody note sounding at frame i, or -1. */
function noteAt(i) {
  const beat = i / 15
  const note = melody.find(([, start, beats]) => beat >= start && beat < start + beats)
  return note ? note[0] : -1
}

// ---- The sound: every sample a function of time, so any frame's 1600 samples can be made alone ---

/** An envelope: a quick attack, a decay to a sustain level, and a release at the note's end. */
function envelope(t, length) {
  if (t < 0 || t >= length + 0.08) return 0
  const attack = Math.min(1, t / 0.015)
  const decay = 0.6 + 0.4 * Math.exp(-t / 0.12)
  const release = t > length ? 1 - (t - length) / 0.08 : 1
  return attack * decay * release
}

/** A mellow tone: a fundamental and two quieter harmonics. */
const tone = (hz, t) => Math.sin(2 * Math.PI * hz * t) + 0.3 * Math.sin(4 * Math.PI * hz * t) + 0.1 * Math.sin(6 * Math.PI * hz * t)

/** The click of a landing at time 0: a bright tick (3 and 4.5 kHz, gone in ~30 ms) and a low thump. */
function click(t) {
  if (t < 0 || t > 0.25) return 0
  const tick = (Math.sin(2 * Math.PI * 3000 * t) + 0.6 * Math.sin(2 * Math.PI * 4500 * t)) * Math.exp(-t / 0.008)
  const thump = Math.sin(2 * Math.PI * 90 * t) * Math.exp(-t / 0.05)
  return 0.28 * tick + 0.3 * thump
}

/** Fills left[0..n) and right[0..n) with the soundtrack from sample `first` on. */
function renderAudio(first, left, right) {
  for (let n = 0; n < left.length; n++) {
    const t = (first + n) / sampleRate
    let center = 0
    for (const [key, start, beats] of melody) {
      const t0 = t - start * beatSeconds
      if (t0 >= 0 && t0 < beats * beatSeconds + 0.08) center += 0.16 * envelope(t0, beats * beatSeconds - 0.03) * tone(keyHz[key], t0)
    }
    for (const [hz, start, beats] of bass) {
      const t0 = t - start * beatSeconds
      if (t0 >= 0 && t0 < beats * beatSeconds + 0.08) center += 0.12 * envelope(t0, beats * beatSeconds - 0.03) * Math.sin(2 * Math.PI * hz * t0)
    }
    let l = center
    let r = center
    for (const b of bounces) {
      const t0 = t - b / frameRate
      if (t0 < 0 || t0 > 0.25) continue
      // Panned where the ball lands (equal power), louder for a higher bounce.
      const pan = ((ballX(b) / width) * Math.PI) / 2
      const loud = 0.7 + 0.3 * Math.min(1, ballHeight(b - 1).apex / 170)
      const c = loud * click(t0)
      l += c * Math.cos(pan)
      r += c * Math.sin(pan)
    }
    left[n] = Math.max(-1, Math.min(1, l))
    right[n] = Math.max(-1, Math.min(1, r))
  }
}

// ---- The picture ---------------------------------------------------------------------------------

const canvas = createCanvas(width, height)
const ctx = canvas.getContext('2d')

/** Draws frame i: the floor, the ball (squashed and ringed as it lands), the keyboard, the time. */
function draw(i) {
  const sky = ctx.createLinearGradient(0, 0, 0, height)
  sky.addColorStop(0, '#10203a')
  sky.addColorStop(1, '#1d3b5c')
  ctx.fillStyle = sky
  ctx.fillRect(0, 0, width, height)
  ctx.fillStyle = '#3a4a5a'
  ctx.fillRect(0, floorY, width, height - floorY)

  // The keyboard: the key of the note sounding now lights up.
  const note = noteAt(i)
  const keyW = 44
  const left = width - keys.length * keyW - 24
  keys.forEach((name, k) => {
    ctx.fillStyle = k === note ? '#ffd166' : '#e8eef4'
    ctx.fillRect(left + k * keyW, 24, keyW - 4, 60)
    ctx.fillStyle = '#203040'
    ctx.font = '16px sans-serif'
    ctx.fillText(name, left + k * keyW + 8, 76)
  })

  // The ball; on a bounce frame it is squashed on the floor and a ring shows the click.
  const x = ballX(i)
  const { y } = ballHeight(i)
  const since = bounces.map((b) => i - b).find((d) => d >= 0 && d < 6)
  if (since !== undefined) {
    ctx.strokeStyle = `rgba(255, 255, 255, ${1 - since / 6})`
    ctx.lineWidth = 3
    ctx.beginPath()
    ctx.ellipse(x, floorY, ballRadius + 10 + since * 10, 6 + since * 2, 0, 0, 2 * Math.PI)
    ctx.stroke()
  }
  const squash = y === 0 ? 1.25 : 1
  ctx.fillStyle = '#ff2020'
  ctx.beginPath()
  ctx.ellipse(x, floorY - y - ballRadius / squash, ballRadius * squash, ballRadius / squash, 0, 0, 2 * Math.PI)
  ctx.fill()

  ctx.fillStyle = '#ffffff'
  ctx.font = 'bold 36px sans-serif'
  ctx.fillText(`frame ${i}`, 24, 56)
  ctx.font = '20px sans-serif'
  ctx.fillText(`${(i / frameRate).toFixed(2)} s${note >= 0 ? `, note ${keys[note]}` : ''}`, 24, 88)
}

// ---- Rendering and writing -----------------------------------------------------------------------

const frames = { width, height, frameRate, layout: 'NHWC', channels: 4 }
const audio = { sampleRate, channels: 2 } // default codecs: aac in mp4, libopus in webm
const mp4 = await VideoWriter.toFile(mp4Path, { ...frames, audio, crf: 20, preset: 'medium', extraOptions: { movflags: '+faststart' } })
const webm = await VideoWriter.toFile(webmPath, { ...frames, audio, crf: 32, extraOptions: { deadline: 'good', 'cpu-used': 4, 'row-mt': 1 } })

// One frame of audio, refilled each frame: planar (one array per channel) and interleaved.
const leftChannel = new Float32Array(samplesPerFrame)
const rightChannel = new Float32Array(samplesPerFrame)
const interleaved = new Float32Array(2 * samplesPerFrame)

const started = performance.now()
try {
  for (let i = 0; i < total; i++) {
    draw(i)
    const pixels = ctx.getImageData(0, 0, width, height).data // Uint8ClampedArray, RGBA
    await Promise.all([mp4.write(pixels), webm.write(pixels)])

    renderAudio(i * samplesPerFrame, leftChannel, rightChannel)
    for (let n = 0; n < samplesPerFrame; n++) {
      interleaved[2 * n] = leftChannel[n]
      interleaved[2 * n + 1] = rightChannel[n]
    }
    await Promise.all([mp4.writeAudio(interleaved), webm.writeAudio([leftChannel, rightChannel])])
    if (i % frameRate === frameRate - 1) console.log(`Rendered and written ${i + 1}/${total} frames and their audio`)
  }
  const results = await Promise.all([mp4.close(), webm.close()])
  const elapsed = (performance.now() - started) / 1000
  console.log(`Done in ${elapsed.toFixed(1)} s (both videos at once).`)
  console.log(`The ball lands (a click in the soundtrack) at frames ${bounces.join(', ')}.`)
  for (const [path, result] of [[mp4Path, results[0]], [webmPath, results[1]]]) {
    console.log(`  ${path}`)
    console.log(`    ${result.frames} frames of ${width}x${height} at ${frameRate} fps (${seconds} s) + ${seconds} s of stereo at ${sampleRate} Hz, ` +
      `${result.format} / ${result.codec} + ${result.audioCodec}, ${(result.bytes / 1024).toFixed(0)} KiB`)
    try {
      const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name,sample_rate,channels:format=duration', '-of', 'json', path]).toString())
      const streams = probe.streams.map((s) => (s.codec_type === 'audio' ? `${s.codec_name} ${s.sample_rate} Hz ${s.channels} ch` : s.codec_name))
      console.log(`    ffprobe: ${streams.join(' + ')}, ${Number(probe.format.duration).toFixed(3)} s`)
    } catch {
      // ffprobe is optional here
    }
  }
  console.log('Play them with sound in any browser or player, e.g. ffplay ' + mp4Path)
} catch (err) {
  // Discard both outputs (no partial file is left), then report.
  await Promise.all([mp4.abort(err), webm.abort(err)])
  throw err
}
