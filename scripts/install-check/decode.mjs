// The outside half of the install check (run.sh, after inside.sh): decodes each video encoded inside the
// clean root filesystem with this machine's ffprobe and checks that it holds what was encoded — the
// container's default codec, the frame size, and every frame (ffprobe -count_frames decodes them all;
// any decoding error fails it); and its audio track: the default audio codec, stereo, 48 kHz, as long
// as the video within the encoder priming and a codec frame (60 ms).
//
//   node decode.mjs RESULTS_DIR    (RESULTS_DIR/encodes.json: the EncodeResults, by extension)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
// The codec ffprobe names for each container's default encoder (README, "Containers and default codecs").
const expected = { mp4: 'h264', mov: 'h264', mkv: 'h264', webm: 'vp9', avi: 'mpeg4', flv: 'flv1', gif: 'gif', ts: 'mpeg2video' };
// ffprobe's name of each container's default audio codec (README, "Audio track"); gif has none.
const expectedAudio = { mp4: 'aac', mov: 'aac', mkv: 'aac', webm: 'opus', avi: 'mp3', flv: 'mp3', ts: 'aac' };
const encodes = JSON.parse(fs.readFileSync(path.join(dir, 'encodes.json'), 'utf8'));

/** What is wrong with the audio track of `file` (null: nothing): codec, layout, and samples decoded. */
function audioProblem(file, codec, seconds) {
  const probe = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'a:0', '-show_entries', 'stream=codec_name,channels,sample_rate', '-of', 'json', file], { encoding: 'utf8' });
  const stream = probe.status === 0 ? JSON.parse(probe.stdout).streams?.[0] : undefined;
  if (!codec) return stream ? `an audio stream (${stream.codec_name}) where none was written` : null;
  if (!stream) return 'no audio stream';
  if (`${stream.codec_name} ${stream.channels} ${stream.sample_rate}` !== `${codec} 2 48000`) return `audio ${stream.codec_name} ${stream.channels} ch ${stream.sample_rate} Hz, expected ${codec} 2 ch 48000 Hz`;
  const pcm = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:a', '-f', 'f32le', '-ac', '2', '-'], { maxBuffer: 1 << 26 });
  const decoded = pcm.status === 0 ? pcm.stdout.length / 8 / 48000 : NaN;
  return Math.abs(decoded - seconds) <= 0.06 ? null : `audio decodes to ${decoded} s, expected ${seconds} s`;
}
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
  } else if (audioProblem(file, expectedAudio[ext], encoded.frames / 25)) {
    console.log(`install-check: FAIL decode ${ext}: ${audioProblem(file, expectedAudio[ext], encoded.frames / 25)}`);
  } else {
    const audio = expectedAudio[ext] ? ` + ${expectedAudio[ext]} stereo` : '';
    console.log(`install-check: PASS decode ${ext}: ${got}${audio}, ${fs.statSync(file).size} bytes`);
    continue;
  }
  failed++;
}
process.exitCode = failed ? 1 : 0;
