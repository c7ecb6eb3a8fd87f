// Child process of determinism.spec.mjs: encodes the same frames through each conversion path with
// each method, `reps` times (toFile, toBuffer and toStream of one repetition run concurrently), and
// prints { "<path> <method>": [md5, ...] } as JSON. Run it with GLIBC_TUNABLES=glibc.malloc.perturb=N
// so that memory nobody initialised holds N-dependent bytes.
// Usage: node encode-md5s.mjs '<cases JSON>' <reps>   (FRAMECODEC_ADDON: another build's index.js)
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeFramesNCHW, nchwToNhwc, nchwToRgba, wildAlpha } from './frames.mjs';
import { collector } from './streams.mjs';

const require = createRequire(import.meta.url);
const { VideoEncoder } = require(process.env.FRAMECODEC_ADDON || '../../index.js');

const [casesJson, repsArg] = process.argv.slice(2);
const cases = JSON.parse(casesJson);
const reps = Number(repsArg);
const [n, h, w] = [6, 48, 64];
const nchw = makeFramesNCHW(n, h, w, { seed: 3 });
const inputs = {
  NCHW: { data: nchw, shape: [n, 3, h, w] },
  NHWC: { data: nchwToNhwc(nchw, n, h, w), shape: [n, h, w, 3], layout: 'NHWC' },
  RGBA: { data: nchwToRgba(nchw, n, h, w, { alpha: wildAlpha }), shape: [n, h, w, 4], layout: 'NHWC' },
};
const md5 = (buf) => createHash('md5').update(buf).digest('hex');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'framecodec-determinism-'));
const out = {};
const add = (key, buf) => (out[key] ||= []).push(md5(buf));
try {
  for (const { name, input, format, options } of cases) {
    const enc = new VideoEncoder(inputs[input], { frameRate: 10 });
    for (let r = 0; r < reps; r++) {
      const dest = path.join(dir, `${r}.${format}`);
      const stream = collector();
      const [, buffer] = await Promise.all([enc.toFile(dest, options), enc.toBuffer(format, options), enc.toStream(stream, format, options)]);
      add(`${name} toFile`, fs.readFileSync(dest));
      add(`${name} toBuffer`, buffer);
      add(`${name} toStream`, await stream.done);
    }
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(out));
