// framecodec's entry point: the native addon, through the loader napi-rs generates (binding.js), plus
// the two things JavaScript says better than Rust: `VideoWriter#writable()` (a Node stream.Writable)
// and `VideoWriter#[Symbol.asyncDispose]` (for `await using`). Types: index.d.ts.
'use strict'

const { Writable } = require('node:stream')
const binding = require('./binding.js')

const { VideoWriter } = binding

/**
 * An objectMode Writable (highWaterMark 1) whose chunks are what `write()` takes, for
 * `stream.pipeline(source, writer.writable())`: each chunk is written (the callback waits for the
 * write's Promise, so the source is paused while framecodec reads the frames), `final()` calls
 * `close()`, and `destroy(err)` calls `abort(err)` (a no-op once the writer is closed).
 */
function writable() {
  const writer = this
  return new Writable({
    objectMode: true,
    highWaterMark: 1,
    write(frames, _encoding, callback) {
      writer.write(frames).then(() => callback(), callback)
    },
    final(callback) {
      writer.close().then(() => callback(), callback)
    },
    destroy(error, callback) {
      writer.abort(error ?? undefined).then(() => callback(error), () => callback(error))
    },
  })
}

Object.defineProperty(VideoWriter.prototype, 'writable', { value: writable, writable: true, configurable: true })

// `await using writer = await VideoWriter.toFile(…)`: leaving the scope without close() discards the
// output, as leaving it with a Node stream not finished destroys the stream.
if (typeof Symbol.asyncDispose === 'symbol') {
  Object.defineProperty(VideoWriter.prototype, Symbol.asyncDispose, {
    value: function asyncDispose() {
      return this.abort()
    },
    writable: true,
    configurable: true,
  })
}

// Spelled out so that Node's ESM loader sees the named exports (`import { VideoWriter } from 'framecodec'`).
module.exports.VideoEncoder = binding.VideoEncoder
module.exports.VideoWriter = binding.VideoWriter
module.exports.DeviceFrames = binding.DeviceFrames
module.exports.cuda = binding.cuda
