// framecodec's entry point: the native addon, through the loader napi-rs generates (binding.js), plus
// what JavaScript says better than Rust: `VideoWriter#writable()` (a Node stream.Writable),
// `VideoWriter#[Symbol.asyncDispose]` (for `await using`), the `versions` object, and a one-line error
// when the native binary cannot load here. Types: index.d.ts.
'use strict'

const { Writable } = require('node:stream')
const pkg = require('./package.json')

/** The C library of this machine: `glibc 2.36`, `musl`, or '' off Linux. */
function libcOfThisMachine() {
  if (process.platform !== 'linux') return { name: '', version: undefined }
  let glibc
  try {
    glibc = process.report?.getReport?.().header?.glibcVersionRuntime
  } catch {
    // no report: assume glibc of an unknown version
  }
  return glibc ? { name: 'glibc', version: glibc } : { name: 'musl', version: undefined }
}

const versionBelow = (a, b) => {
  const [x, y] = [a, b].map((v) => String(v).split('.').map(Number))
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) < (y[i] ?? 0)
  return false
}

/**
 * Why the native binary did not load, in one line: which platform packages exist, what this machine is,
 * what is missing. The loader's own error (whose causes list every path it tried) becomes the `cause`.
 */
function bindingError(err) {
  const platforms = pkg.framecodec?.platforms ?? []
  const libc = libcOfThisMachine()
  const machine = [process.platform, process.arch, libc.version ? `glibc ${libc.version}` : libc.name].filter(Boolean).join(' ')
  const describe = (p) => `${p.package} (${p.os} ${p.cpu}, ${p.libc}${p.glibc ? ` >= ${p.glibc}` : ''})`
  const messages = []
  for (let e = err, depth = 0; e && depth < 20; e = e.cause, depth++) messages.push(String(e?.message ?? e))
  // What the dynamic loader said of a binary that is there (a missing library or symbol version, a
  // corrupt file) beats "module not found" for those that are not.
  const loader = messages.reverse().find((m) => !/^(Cannot find module|Cannot find native binding|Failed to load native binding|Unsupported )/.test(m))
  const ours = platforms.find((p) => p.os === process.platform && p.cpu === process.arch && p.libc === libc.name)
  let what
  if (!ours) {
    what = `no native binary for this machine (${machine}): framecodec ships ${platforms.map(describe).join(', ') || 'no platform packages'}`
  } else if (ours.glibc && libc.version && versionBelow(libc.version, ours.glibc)) {
    what = `${ours.package} needs glibc >= ${ours.glibc}, and this machine (${machine}) has an older one${loader ? ` (${loader})` : ''}`
  } else if (loader) {
    what = `${ours.package} cannot load on this machine (${machine}): ${loader}`
  } else {
    what = `${ours.package}, the native binary for this machine (${machine}), is not installed (npm may have skipped an optional dependency): run npm install ${ours.package}@${pkg.version}, or reinstall framecodec`
  }
  const error = new Error(`framecodec: ${what}`)
  error.code = 'ERR_FRAMECODEC_NATIVE_BINARY'
  error.cause = err
  return error
}

let binding
try {
  binding = require('./binding.js')
} catch (err) {
  throw bindingError(err)
}

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

/** What this binary carries: framecodec, FFmpeg and its libraries, the codec libraries bundled with
 *  them, and the binary's licence — for bug reports (as `sharp.versions`). */
const versions = Object.freeze(Object.fromEntries(binding.libraryVersions()))

// Spelled out so that Node's ESM loader sees the named exports (`import { VideoWriter } from 'framecodec'`).
module.exports.VideoEncoder = binding.VideoEncoder
module.exports.VideoWriter = binding.VideoWriter
module.exports.DeviceFrames = binding.DeviceFrames
module.exports.cuda = binding.cuda
module.exports.versions = versions
