// A TypeScript user's file, type-checked in the clean root filesystem with `tsc --noEmit --strict`
// against the installed package (its package.json `types`), Node's own types and no DOM library, as a
// server app compiles. Each `@ts-expect-error` line must fail to compile (tsc reports an unused one).
import { createWriteStream } from 'node:fs'
import { VideoEncoder, VideoWriter, versions, type EncodeResult, type VideoWriterOptions } from 'framecodec'

export async function render(width: number, height: number, count: number): Promise<EncodeResult> {
  const options: VideoWriterOptions = { width, height, frameRate: 30, layout: 'NHWC', channels: 4, crf: 23, preset: 'fast' }
  const writer = await VideoWriter.toFile('out.mp4', options)
  const pixels = new Uint8ClampedArray(width * height * 4)
  for (let i = 0; i < count; i++) {
    pixels.fill(i % 256)
    await writer.write(pixels)
  }
  const frames: number = writer.framesWritten
  const result = await writer.close()
  void frames
  return result
}

export async function oneShot(frames: Uint8Array, count: number): Promise<Buffer> {
  const encoder = new VideoEncoder({ data: frames, shape: [count, 3, 48, 64] }, { frameRate: 25 })
  const stored: EncodeResult = await encoder.toStream(createWriteStream('out.ts'), 'ts')
  const { codec, frames: encoded, bytes } = stored
  console.log(`${codec}: ${encoded} frames, ${bytes} bytes; FFmpeg ${versions.ffmpeg} (${versions.ffmpegBuild})`)
  return encoder.toBuffer('webm', { codec: 'libvpx-vp9', extraOptions: { 'deadline': 'realtime', 'cpu-used': 8 } })
}

export async function misuse(): Promise<void> {
  // @ts-expect-error a writer needs its frame size
  await VideoWriter.toFile('out.mp4', { frameRate: 30 })
  // @ts-expect-error toBuffer resolves with a Buffer, not an EncodeResult
  const wrong: EncodeResult = await new VideoEncoder(new Uint8Array(3 * 4 * 4), { frameRate: 1, shape: [1, 3, 4, 4] }).toBuffer('mkv')
  void wrong
  // @ts-expect-error versions is read-only
  versions.ffmpeg = '1.0'
}
