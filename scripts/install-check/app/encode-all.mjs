// One encode per default container into the results directory (node encode-all.mjs DIR): moving
// generated frames through a VideoWriter, each container with its default codec. The outputs are
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
for (const ext of containers) {
  const writer = await VideoWriter.toFile(path.join(dir, `out.${ext}`), { width, height, frameRate: 25 })
  for (let i = 0; i < count; i++) {
    // a gradient that moves, so that no two frames are alike (gif would otherwise store fewer)
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) frame[(c * height + y) * width + x] = (x * 2 + y * (c + 1) + i * 9) % 256
      }
    }
    await writer.write(frame)
  }
  results[ext] = { ...(await writer.close()), width, height }
  console.log(`${ext}: ${JSON.stringify(results[ext])}`)
}
fs.writeFileSync(path.join(dir, 'encodes.json'), `${JSON.stringify(results, null, 2)}\n`)
