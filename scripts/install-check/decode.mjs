// The outside half of the install check (run.sh, after inside.sh): decodes each video encoded inside the
// clean root filesystem with this machine's ffprobe and checks that it holds what was encoded — the
// container's default codec, the frame size, and every frame (ffprobe -count_frames decodes them all;
// any decoding error fails it).
//
//   node decode.mjs RESULTS_DIR    (RESULTS_DIR/encodes.json: the EncodeResults, by extension)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
// The codec ffprobe names for each container's default encoder (README, "Containers and default codecs").
const expected = { mp4: 'h264', mov: 'h264', mkv: 'h264', webm: 'vp9', avi: 'mpeg4', flv: 'flv1', gif: 'gif', ts: 'mpeg2video' };
const encodes = JSON.parse(fs.readFileSync(path.join(dir, 'encodes.json'), 'utf8'));
let failed = 0;
for (const [ext, codec] of Object.entries(expected)) {
  const file = path.join(dir, `out.${ext}`);
  const encoded = encodes[ext];
  const r = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0',
    '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', file], { encoding: 'utf8' });
  const stream = r.status === 0 ? JSON.parse(r.stdout).streams?.[0] : undefined;
  const got = stream && `${stream.codec_name} ${stream.width}x${stream.height}, ${stream.nb_read_frames} frames`;
  const want = encoded && `${codec} ${encoded.width}x${encoded.height}, ${encoded.frames} frames`;
  if (!encoded) {
    console.log(`install-check: FAIL decode ${ext}: not encoded (no entry in encodes.json)`);
  } else if (r.status !== 0 || r.stderr.trim()) {
    console.log(`install-check: FAIL decode ${ext}: ffprobe: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`);
  } else if (got !== want) {
    console.log(`install-check: FAIL decode ${ext}: ffprobe finds ${got}, expected ${want}`);
  } else {
    console.log(`install-check: PASS decode ${ext}: ${got}, ${fs.statSync(file).size} bytes`);
    continue;
  }
  failed++;
}
process.exitCode = failed ? 1 : 0;
