// Stream helpers for the tests.
import { PassThrough } from 'node:stream';

/** A PassThrough whose output is collected; `done` resolves with the Buffer once it ends. */
export function collector(options) {
  const s = new PassThrough(options);
  const chunks = [];
  s.on('data', (c) => chunks.push(c));
  s.done = new Promise((resolve, reject) => {
    s.on('end', () => resolve(Buffer.concat(chunks)));
    s.on('error', reject);
  });
  return s;
}
