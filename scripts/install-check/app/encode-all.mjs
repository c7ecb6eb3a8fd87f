// One encode per default container into the results directory (node encode-all.mjs DIR): moving
// generated frames and a stereo tone through a VideoWriter, each container with its default codecs
// (gif: no audio). The outputs are
// decoded outside the root filesystem, with the host's ffprobe (run.sh); DIR/encodes.json holds the
// EncodeResults for that check.
import fs from 'node:fs'
import path from 'node:path'
import { VideoWriter } from 'framecodec'

const dir = process.argv[2]
const [width, height, count] = [96, 64, 15]
const containers = ['mp4', 'mov', 'mkv', 'webm', 'avi', 'flv', 'gif', 'ts']
const results = {}
const frame = new Uint8Array(3 * height * width)
const perFrame = 48000 / 25
const sound = new Float32Array(2 * perFrame)
for (const ext of containers) {
  const audio = ext === 'gif' ? undefined : { sampleRate: 48000, channels: 2 }
  const writer = await VideoWriter.toFile(path.join(dir, `out.${ext}`), { width, height, frameRate: 25, audio })
  for (let i = 0; i < count; i++) {
    // a gradient that moves, so that no two frames are alike (gif would otherwise store fewer)
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) frame[(c * height + y) * width + x] = (x * 2 + y * (c + 1) + i * 9) % 256
      }
    }
    await writer.write(frame)
    if (audio) {
      for (let n = 0; n < perFrame; n++) sound[2 * n] = sound[2 * n + 1] = 0.3 * Math.sin((2 * Math.PI * 440 * (i * perFrame + n)) / 48000)
      await writer.writeAudio(sound)
    }
  }
  results[ext] = { ...(await writer.close()), width, height }
  console.log(`${ext}: ${JSON.stringify(results[ext])}`)
}
fs.writeFileSync(path.join(dir, 'encodes.json'), `${JSON.stringify(results, null, 2)}\n`)
