// `napi build --pipe "node scripts/napi-postbuild.mjs"` runs this on every file the build writes (the
// generated loader binding.js, which index.js wraps, and index.d.ts).
// It removes the `__napiBindingTarget` export that @napi-rs/cli 3.10's generated loader adds to the
// package's exports and to index.d.ts (loader metadata, not framecodec's API; napi-rs has no option
// to leave it out). index.js and index.d.ts stay what `napi build` generated otherwise. Idempotent.
import fs from 'node:fs';
import path from 'node:path';

const file = process.argv[2];
const name = path.basename(file ?? '');
const MARK = '// (framecodec: __napiBindingTarget is not exported: scripts/napi-postbuild.mjs)';

function edit(transform) {
  const before = fs.readFileSync(file, 'utf8');
  const after = transform(before);
  if (after !== before) fs.writeFileSync(file, after);
}

if (name === 'binding.js') {
  edit((src) => {
    const stamp = /^module\.exports\.__napiBindingTarget = __napiStampBindingTarget\(nativeBinding, __napiLoadedBindingTarget\)$/m;
    if (stamp.test(src)) return src.replace(stamp, MARK);
    if (src.includes(MARK) || !src.includes('__napiBindingTarget')) return src;
    throw new Error(`${file}: the generated loader changed; update scripts/napi-postbuild.mjs to drop __napiBindingTarget`);
  });
} else if (name === 'index.d.ts') {
  edit((src) => {
    // the declaration and the doc comment right above it
    const decl = /(?:\/\*\*(?:(?!\*\/)[\s\S])*\*\/\n)?export declare const __napiBindingTarget: [^\n]*\n\n?/;
    const out = src.replace(decl, '');
    if (out.includes('__napiBindingTarget')) {
      throw new Error(`${file}: the generated declaration changed; update scripts/napi-postbuild.mjs to drop __napiBindingTarget`);
    }
    return out;
  });
}
