// An ava user's test (ES module, ava's own worker processes): encodes a few generated frames to a file
// and to memory and checks the EncodeResult.
import test from 'ava'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { VideoEncoder, VideoWriter } from 'framecodec'

const [w, h, n] = [64, 48, 12]

test('VideoEncoder.toFile writes an mkv', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'app-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const frames = new Uint8Array(n * 3 * h * w).map((_, i) => (i * 7) % 256)
  const dest = path.join(dir, 'out.mkv')
  const result = await new VideoEncoder({ data: frames, shape: [n, 3, h, w] }, { frameRate: 30 }).toFile(dest, { crf: 20 })
  t.deepEqual(result, { format: 'matroska', codec: 'libx264', pixelFormat: 'yuv420p', frames: n, bytes: fs.statSync(dest).size })
})

test('VideoWriter.toBuffer writes a gif', async (t) => {
  const writer = await VideoWriter.toBuffer('gif', { width: w, height: h, frameRate: 10, layout: 'NHWC' })
  const frame = Buffer.alloc(h * w * 3)
  for (let i = 0; i < n; i++) await writer.write(frame.fill(i * 20))
  const { buffer, ...result } = await writer.close()
  t.deepEqual(result, { format: 'gif', codec: 'gif', pixelFormat: 'rgb8', frames: n, bytes: buffer.length })
  t.is(buffer.subarray(0, 6).toString('latin1'), 'GIF89a')
})
