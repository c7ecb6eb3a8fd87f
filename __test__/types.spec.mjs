// The TypeScript declarations (index.d.ts, generated from the Rust docs and src/js/types.d.ts): a file
// written the way users write it must compile under --strict, and misuse must not.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

test('index.d.ts types the whole API: usage.ts compiles with tsc --strict, its misuses do not', (t) => {
  const tsc = require.resolve('typescript/bin/tsc');
  const args = [tsc, '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext',
    '--types', 'node', '--lib', 'es2022,dom', 'index.d.ts', '__test__/types/usage.ts'];
  try {
    execFileSync(process.execPath, args, { cwd: root, stdio: 'pipe' });
    t.pass();
  } catch (e) {
    t.fail(`tsc found errors:\n${e.stdout}${e.stderr}`);
  }
});

test('ESM named imports and CommonJS require give the same exports', async (t) => {
  const esm = await import('../index.js');
  const cjs = require('../index.js');
  t.is(esm.VideoEncoder, cjs.VideoEncoder);
  t.is(esm.cuda, cjs.cuda);
  t.is(esm.DeviceFrames, cjs.DeviceFrames);
  t.is(typeof esm.cuda.isAvailable, 'function');
});
