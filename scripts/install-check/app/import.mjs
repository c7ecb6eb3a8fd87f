// Named ES module imports, as an .mjs app writes them; the same exports as require() gives.
import { createRequire } from 'node:module'
import { VideoEncoder, VideoWriter, versions, cuda, DeviceFrames } from 'framecodec'

const cjs = createRequire(import.meta.url)('framecodec')
const same = VideoEncoder === cjs.VideoEncoder && VideoWriter === cjs.VideoWriter && versions === cjs.versions &&
  cuda === cjs.cuda && DeviceFrames === cjs.DeviceFrames
if (!same) throw new Error('import and require give different exports')
if (versions.ffmpegBuild !== 'static') throw new Error(`versions.ffmpegBuild is ${versions.ffmpegBuild}, not 'static'`)
const bytes = await new VideoEncoder(new Uint8Array(2 * 3 * 16 * 16), { frameRate: 30, shape: [2, 3, 16, 16] }).toBuffer('mkv')
console.log(`import: ffmpeg ${versions.ffmpeg} (${versions.ffmpegBuild}), an mkv of ${bytes.length} bytes`)
