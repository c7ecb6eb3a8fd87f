// Type-checked by __test__/types.spec.mjs (tsc --strict --noEmit): what users write must compile,
// and each `@ts-expect-error` line must fail to compile (tsc reports an unused one as an error).
import {
  VideoEncoder,
  VideoWriter,
  cuda,
  DeviceFrames,
  type EncodeResult,
  type EncodeOptions,
  type HostFrames,
  type CudaFrames,
  type VideoWriterOptions,
  type WriterProgress,
  type AudioTrackOptions,
  type AudioSamples,
  versions,
  type Versions,
} from '../../index.js'
import { PassThrough, Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

async function usage(): Promise<void> {
  const data = new Uint8Array(2 * 3 * 16 * 16)
  const host: HostFrames = { data, shape: [2, 3, 16, 16] }
  const encoder = new VideoEncoder(host, { frameRate: 29.97 })
  const bare = new VideoEncoder(Buffer.alloc(2 * 16 * 16 * 4), { frameRate: 30, shape: [2, 16, 16, 4], layout: 'NHWC' })
  const sizes: number[] = [encoder.frameCount, encoder.width, encoder.height, encoder.frameRate, bare.width]
  const device: string = encoder.device

  const options: EncodeOptions = {
    codec: 'libx264',
    pixelFormat: 'yuv444p',
    crf: 18.5,
    preset: 'fast',
    extraOptions: { g: 60, tune: 'film', movflags: '+faststart', lossless: true },
    signal: new AbortController().signal,
    onProgress: ({ framesEncoded, totalFrames }) => void (framesEncoded / totalFrames),
  }
  const result: EncodeResult = await encoder.toFile('out.mp4', options)
  const fields: [string, string, string, number, number] = [result.format, result.codec, result.pixelFormat, result.frames, result.bytes]
  await encoder.toFile(new URL('file:///tmp/out.mkv'))
  const buffer: Buffer = await encoder.toBuffer('webm', { codec: 'libvpx-vp9' })
  const streamed: EncodeResult = await encoder.toStream(new PassThrough(), 'ts', { end: false })
  await encoder.toStream(new WritableStream<Uint8Array>(), 'mp4')

  if (cuda.isAvailable() && cuda.deviceCount() > 0) {
    const frames: DeviceFrames = cuda.upload(host, { device: 0 })
    const pointer: bigint = frames.cudaPtr
    const onGpu = new VideoEncoder(frames, { frameRate: 30 })
    const byPointer: CudaFrames = { cudaPtr: pointer, shape: [2, 3, 16, 16], device: 0 }
    await new VideoEncoder(byPointer, { frameRate: 30 }).toBuffer('mp4')
    await onGpu.toFile('gpu.mp4')
    const bytes: number = frames.byteLength
    frames.free()
    void bytes
  }
  void [sizes, device, fields, buffer, streamed]

  const writerOptions: VideoWriterOptions = {
    width: 16,
    height: 16,
    frameRate: 30,
    layout: 'NHWC',
    channels: 4,
    device: 'cpu',
    crf: 20,
    signal: new AbortController().signal,
    onProgress: ({ framesEncoded, totalFrames }: WriterProgress) => void [framesEncoded, totalFrames === null],
  }
  const writer: VideoWriter = await VideoWriter.toFile('out.mp4', writerOptions)
  await writer.write(new Uint8ClampedArray(16 * 16 * 4))
  await writer.write({ data: new Uint8Array(2 * 16 * 16 * 4), shape: [2, 16, 16, 4], layout: 'NHWC' })
  const written: number = writer.framesWritten
  const closed: EncodeResult = await writer.close()
  const inMemory = await VideoWriter.toBuffer('webm', { width: 16, height: 16, frameRate: 30, device: 'cuda:0' })
  const bytesOut: Buffer | undefined = (await inMemory.close()).buffer
  const live = await VideoWriter.toStream(new PassThrough(), 'ts', { width: 16, height: 16, frameRate: 30, end: false })
  const sink: Writable = live.writable()
  await pipeline(Readable.from([new Uint8Array(3 * 16 * 16)]), sink)
  await live.abort(new Error('cancelled'))
  await live[Symbol.asyncDispose]()
  void [written, closed, bytesOut]

  // An audio track: planar (Web Audio's getChannelData) or interleaved Float32Array samples.
  const left = new Float32Array(48000)
  const right = new Float32Array(48000)
  const track: AudioTrackOptions = { sampleRate: 48000, channels: 2, codec: 'libopus', bitRate: 128_000, extraOptions: { application: 'voip', vbr: 'on', compression_level: 10 } }
  const planar: AudioSamples = [left, right]
  const interleaved = new Float32Array(2 * 48000)
  const withTrack = new VideoEncoder(host, { frameRate: 30, audio: { ...track, samples: planar } })
  const mixed: EncodeResult = await new VideoEncoder(host, { frameRate: 30, audio: { sampleRate: 44100, channels: 2, samples: interleaved } }).toFile('out.mp4')
  const audioCodec: string | undefined = mixed.audioCodec
  const soundtrack: VideoWriter = await VideoWriter.toFile('out.webm', { width: 16, height: 16, frameRate: 30, audio: track })
  await soundtrack.writeAudio(interleaved)
  await soundtrack.writeAudio([left.subarray(0, 1024), right.subarray(0, 1024)])
  const writtenCodec: string | undefined = (await soundtrack.close()).audioCodec
  const liveTrack = await VideoWriter.toStream(new PassThrough(), 'ts', { width: 16, height: 16, frameRate: 30, audio: { sampleRate: 48000, channels: 1 } })
  await liveTrack.writeAudio(planar.slice(0, 1))
  void [withTrack, audioCodec, writtenCodec]

  // @ts-expect-error samples are Float32Array or Float32Array[], not number[]
  new VideoEncoder(host, { frameRate: 30, audio: { sampleRate: 48000, channels: 2, samples: [0, 0] } })
  // @ts-expect-error a VideoEncoder's audio track needs its samples
  new VideoEncoder(host, { frameRate: 30, audio: { sampleRate: 48000, channels: 2 } })
  // @ts-expect-error a writer takes its samples through writeAudio(), not in the options
  await VideoWriter.toBuffer('mp4', { width: 16, height: 16, frameRate: 30, audio: { sampleRate: 48000, channels: 2, samples: interleaved } })
  // @ts-expect-error sampleRate is required
  await VideoWriter.toBuffer('mp4', { width: 16, height: 16, frameRate: 30, audio: { channels: 2 } })
  // @ts-expect-error writeAudio takes float32 samples
  await soundtrack.writeAudio(new Float64Array(2))
  // @ts-expect-error audioCodec is absent without an audio track: string | undefined
  const alwaysThere: string = mixed.audioCodec
  void alwaysThere

  const carried: Versions = versions
  const report: string = `${carried.framecodec} ffmpeg ${carried.ffmpeg} (${carried.ffmpegBuild}) x264 ${carried.x264 ?? '-'} ${carried.license}`
  void report
  // @ts-expect-error versions is read-only
  versions.ffmpeg = '8.0'

  // @ts-expect-error a writer needs its frame size
  await VideoWriter.toFile('out.mp4', { frameRate: 30 })
  // @ts-expect-error channels are 3 or 4
  await VideoWriter.toBuffer('mp4', { width: 16, height: 16, frameRate: 30, channels: 2 })
  // @ts-expect-error devices are 'cpu' or 'cuda:N'
  await VideoWriter.toBuffer('mp4', { width: 16, height: 16, frameRate: 30, device: 'gpu' })
  // @ts-expect-error a writer's progress has no total
  await VideoWriter.toBuffer('mp4', { width: 16, height: 16, frameRate: 30, onProgress: (p: { totalFrames: number }) => p })
  // @ts-expect-error framesWritten is read-only
  writer.framesWritten = 3

  // @ts-expect-error frameRate is required
  new VideoEncoder(host, {})
  // @ts-expect-error layouts are 'NCHW' or 'NHWC'
  new VideoEncoder({ data, shape: [2, 3, 16, 16], layout: 'NCWH' }, { frameRate: 30 })
  // @ts-expect-error shape has four dimensions
  new VideoEncoder({ data, shape: [2, 16, 16] }, { frameRate: 30 })
  // @ts-expect-error cudaPtr is a bigint
  new VideoEncoder({ cudaPtr: 1234, shape: [1, 3, 2, 2] }, { frameRate: 30 })
  // @ts-expect-error end belongs to toStream only
  await encoder.toFile('out.mp4', { end: false })
  // @ts-expect-error extraOptions values are strings, numbers or booleans
  await encoder.toBuffer('mp4', { extraOptions: { g: [60] } })
  // @ts-expect-error toBuffer resolves with a Buffer, not an EncodeResult
  const wrong: EncodeResult = await encoder.toBuffer('mp4')
  void wrong
  // @ts-expect-error encoder properties are read-only
  encoder.frameRate = 60
}
void usage
