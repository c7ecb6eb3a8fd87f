// A jest user's test (CommonJS, jest's own module registry and test environment): encodes a few
// generated frames to memory and checks the EncodeResult.
const { VideoWriter, VideoEncoder, versions } = require('framecodec')

const [w, h, n] = [64, 48, 10]

test('VideoWriter.toBuffer encodes a small mp4', async () => {
  const writer = await VideoWriter.toBuffer('mp4', { width: w, height: h, frameRate: 25 })
  const frame = new Uint8Array(3 * h * w)
  for (let i = 0; i < n; i++) {
    frame.fill(i * 20)
    await writer.write(frame)
  }
  const { buffer, ...result } = await writer.close()
  expect(result).toEqual({ format: 'mp4', codec: 'libx264', pixelFormat: 'yuv420p', frames: n, bytes: buffer.length })
  expect(buffer.subarray(4, 8).toString('latin1')).toBe('ftyp')
})

test('VideoEncoder.toBuffer encodes a webm, FFmpeg is the static one', async () => {
  const frames = new Uint8Array(n * h * w * 4).map((_, i) => i % 251)
  const buffer = await new VideoEncoder(frames, { frameRate: 25, shape: [n, h, w, 4], layout: 'NHWC' }).toBuffer('webm')
  expect(buffer.readUInt32BE(0)).toBe(0x1a45dfa3) // EBML
  expect(versions.ffmpegBuild).toBe('static')
})
