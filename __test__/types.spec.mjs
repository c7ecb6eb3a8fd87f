// The TypeScript declarations (index.d.ts, generated from the Rust docs and src/js/types.d.ts): a file
// written the way users write it must compile under --strict, and misuse must not.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
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

// TypeScript 6+ no longer loads every @types package by default (`types: []`): index.d.ts must pull in
// Node's types itself (`/// <reference types="node" />`), or Buffer / NodeJS.WritableStream are unresolved
// and, with skipLibCheck (as most apps set it), the frames silently become `any`.
for (const skipLibCheck of [false, true]) {
  test(`index.d.ts type-checks in an app whose tsconfig has types: [] (skipLibCheck ${skipLibCheck}), misuses still fail`, (t) => {
    const tsc = require.resolve('typescript/bin/tsc');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'framecodec-tsc-'));
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        noEmit: true, strict: true, target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext',
        lib: ['es2022', 'dom'], types: [], skipLibCheck,
      },
      files: [path.join(root, 'index.d.ts'), path.join(root, '__test__/types/usage.ts')],
    }));
    try {
      execFileSync(process.execPath, [tsc, '-p', path.join(dir, 'tsconfig.json')], { cwd: dir, stdio: 'pipe' });
      t.pass();
    } catch (e) {
      t.fail(`tsc found errors:\n${e.stdout}${e.stderr}`);
    }
  });
}

test('the package exports only its API (no loader metadata such as __napiBindingTarget)', async (t) => {
  const cjs = require('../index.js');
  t.deepEqual(Object.keys(cjs).sort(), ['DeviceFrames', 'VideoEncoder', 'VideoWriter', 'cuda', 'versions']);
  const esm = await import('../index.js');
  t.deepEqual(Object.keys(esm).filter((k) => k !== 'default').sort(), ['DeviceFrames', 'VideoEncoder', 'VideoWriter', 'cuda', 'versions']);
  const dts = fs.readFileSync(path.join(root, 'index.d.ts'), 'utf8');
  t.false(dts.includes('__napiBindingTarget'));
  t.true(dts.startsWith('/// <reference types="node" />'), 'the triple-slash reference comes first');
});

test('ESM named imports and CommonJS require give the same exports', async (t) => {
  const esm = await import('../index.js');
  const cjs = require('../index.js');
  t.is(esm.VideoEncoder, cjs.VideoEncoder);
  t.is(esm.VideoWriter, cjs.VideoWriter);
  t.is(typeof esm.VideoWriter.prototype.writable, 'function');
  t.is(typeof esm.VideoWriter.prototype[Symbol.asyncDispose], 'function');
  t.is(esm.cuda, cjs.cuda);
  t.is(esm.DeviceFrames, cjs.DeviceFrames);
  t.is(typeof esm.cuda.isAvailable, 'function');
});
