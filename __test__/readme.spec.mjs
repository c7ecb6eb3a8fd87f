// Every ```js snippet of README.md runs as written (CommonJS, or ESM when it has an `import`), with
// `framecodec` resolving to this package, each in a child process in an empty temp directory. The
// HTTP server snippet is started, asked for one video, and stopped.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { probe } from './helpers/media.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const snippets = [...readme.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1]);

/** An empty cwd in which `require('framecodec')` / `import 'framecodec'` load this package. */
function sandbox(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'framecodec-readme-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(root, path.join(dir, 'node_modules', 'framecodec'));
  return dir;
}

const isEsm = (code) => /^import .* from /m.test(code);
const isServer = (code) => code.includes('.listen(');

test('the README has its snippets (CommonJS, ESM, a server)', (t) => {
  t.true(snippets.length >= 4, `${snippets.length} snippets`);
  t.true(snippets.some(isEsm));
  t.true(snippets.some(isServer));
  t.false(snippets.some((code) => !isEsm(code) && /^(const .* = )?await /m.test(code)), 'no top-level await in CommonJS');
});

snippets.forEach((code, i) => {
  if (isServer(code)) return;
  const title = code.split('\n').find((l) => l.trim() && !l.startsWith('//'))?.trim();
  test(`README snippet ${i + 1} runs (${isEsm(code) ? 'ESM' : 'CommonJS'}: ${title})`, (t) => {
    const dir = sandbox(t);
    const file = path.join(dir, isEsm(code) ? 'snippet.mjs' : 'snippet.cjs');
    fs.writeFileSync(file, code);
    const r = spawnSync(process.execPath, [file], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    t.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
    for (const out of ['out.mp4', 'gpu.mp4']) {
      if (code.includes(`'${out}'`) && fs.existsSync(path.join(dir, out))) {
        t.true(Number(probe(path.join(dir, out)).video.nb_read_frames) > 0, out);
      }
    }
    if (code.includes("'out.mp4'")) t.true(fs.existsSync(path.join(dir, 'out.mp4')));
    if (code.includes("'slow.mkv'") && !fs.existsSync(path.join(dir, 'slow.mkv'))) t.log('slow.mkv was aborted (as the snippet intends)');
  });
});

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

test('the README\'s HTTP snippet serves an mp4', async (t) => {
  const servers = snippets.filter(isServer);
  t.is(servers.length, 1, 'one server snippet (this test asks it for one video)');
  const code = servers[0];
  const dir = sandbox(t);
  const file = path.join(dir, 'server.cjs');
  fs.writeFileSync(file, code);
  const port = await freePort();
  const child = spawn(process.execPath, [file], { cwd: dir, env: { ...process.env, PORT: String(port) }, stdio: 'ignore' });
  t.teardown(() => child.kill());
  let body;
  for (let tries = 0; tries < 100 && !body; tries += 1) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      t.is(res.headers.get('content-type'), 'video/mp4');
      body = Buffer.from(await res.arrayBuffer());
    } catch {
      await new Promise((r) => setTimeout(r, 100)); // not listening yet
    }
  }
  t.truthy(body, 'the server answered');
  t.is(Number(probe(body, { ext: 'mp4' }).video.nb_read_frames), 30);
});
