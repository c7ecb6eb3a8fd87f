// Row 4, "the usual Node way": a Node process that holds the frames in memory spawns the ffmpeg CLI
// and writes the frames to its stdin, respecting backpressure (write() returning false → wait for
// 'drain'). One measurement per process (run.mjs spawns this once per run).
//
//   node benchmark/run-pipe.mjs --rgb data/1280x720x300.rgb --width 1280 --height 720 --frames 300 \
//        --preset ultrafast --out /tmp/o.mp4
//
// ffmpeg's CPU and max RSS come from /usr/bin/time (or /proc polling, see measure.mjs). Prints
// `RESULT {json}`:
//   loadS        reading the frames into memory (not timed as part of the encode)
//   encodeS      wall seconds from spawning ffmpeg to its exit (all frames written, file closed)
//   cpuS         ffmpeg's user+sys + this Node process's user+sys over that interval
//   peakRssBytes ffmpeg's max RSS + this process's max RSS (both are alive at the same time; the
//                sum is what the machine has to hold, an upper bound of the true combined peak)
import fs from 'node:fs';
import { once } from 'node:events';
import { spawnMeasured, measurementArgs } from './measure.mjs';

const { a, width, height, n, preset } = measurementArgs(process.argv.slice(2),
  'run-pipe.mjs --rgb FILE --width W --height H --frames N --preset P --out FILE');
const frameBytes = width * height * 3;

const tLoad = performance.now();
const data = Buffer.allocUnsafeSlow(frameBytes * n);
{
  const fd = fs.openSync(a.rgb, 'r');
  for (let off = 0; off < data.length; ) {
    const got = fs.readSync(fd, data, off, Math.min(64 << 20, data.length - off), off);
    if (got <= 0) throw new Error(`${a.rgb}: short read`);
    off += got;
  }
  fs.closeSync(fd);
}
const loadS = (performance.now() - tLoad) / 1000;

const ffArgs = [
  '-hide_banner', '-loglevel', 'error', '-y',
  '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', '30', '-i', 'pipe:0',
  '-vf', 'scale=out_color_matrix=bt709:out_range=tv',
  '-c:v', 'libx264', '-preset', preset, '-crf', '23', '-pix_fmt', 'yuv420p',
  '-color_range', 'tv', '-colorspace', 'bt709', a.out,
];

const cpu0 = process.cpuUsage();
const t0 = performance.now();
const { child, done } = spawnMeasured('ffmpeg', ffArgs, { stdio: ['pipe', 'ignore', 'pipe'] });
const exited = once(child, 'exit');
let stdinError = null;
child.stdin.on('error', (e) => { stdinError = e; });

let drains = 0;
for (let f = 0; f < n && !stdinError; f++) {
  if (!child.stdin.write(data.subarray(f * frameBytes, (f + 1) * frameBytes))) {
    drains++;
    await Promise.race([once(child.stdin, 'drain'), exited]);
  }
}
child.stdin.end();
const ff = await done;
const encodeS = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
if (ff.code !== 0 || stdinError) {
  console.error(`ffmpeg exited with ${ff.code}${stdinError ? ` (stdin: ${stdinError.message})` : ''}: ${ff.stderr}`);
  process.exit(1);
}
const nodeCpuS = (cpu.user + cpu.system) / 1e6;
const nodePeak = process.resourceUsage().maxRSS * 1024;
const out = {
  preset,
  width,
  height,
  frames: n,
  loadS,
  encodeS,
  cpuS: ff.cpuS + nodeCpuS,
  ffmpeg: { wallS: ff.wallS, cpuS: ff.cpuS, peakRssBytes: ff.peakRssBytes, method: ff.method },
  node: { cpuS: nodeCpuS, peakRssBytes: nodePeak },
  inputBytes: data.length,
  peakRssBytes: ff.peakRssBytes + nodePeak,
  drains,
  result: { frames: n, bytes: fs.statSync(a.out).size },
};
process.stdout.write(`RESULT ${JSON.stringify(out)}\n`);
