// require('framecodec') as a CommonJS app does. Prints `versions` (one JSON line) and fails unless the
// binary carries FFmpeg itself (ffmpegBuild 'static'): in this root filesystem there is no other FFmpeg.
// When the binary cannot load, prints the loader's one-line error and its code.
'use strict'

let framecodec
try {
  framecodec = require('framecodec')
} catch (err) {
  console.log(`require('framecodec') threw ${err.code ?? err.name}: ${err.message}`)
  process.exit(1)
}
const { versions, VideoEncoder, VideoWriter } = framecodec
console.log(`versions ${JSON.stringify(versions)}`)
if (typeof VideoEncoder !== 'function' || typeof VideoWriter !== 'function') {
  console.log('require(\'framecodec\') lacks VideoEncoder / VideoWriter')
  process.exit(1)
}
if (versions.ffmpegBuild !== 'static') {
  console.log(`versions.ffmpegBuild is ${JSON.stringify(versions.ffmpegBuild)}, not 'static'`)
  process.exit(1)
}
