// Assertion helpers for framecodec's coded errors.
function expectations(instanceOf, code, includes) {
  const e = { instanceOf, code };
  if (includes && includes.length > 0) {
    e.message = (m) => includes.every((s) => (s instanceof RegExp ? s.test(m) : m.includes(String(s))));
  }
  return e;
}

/**
 * Assert that fn() throws synchronously an Error (of class `instanceOf`, default Error) with the
 * given `code` and a message containing every string / matching every RegExp of `includes`.
 */
export function throwsCode(t, fn, code, { instanceOf = Error, includes = [] } = {}) {
  const err = t.throws(fn, expectations(instanceOf, code, includes));
  if (err) t.is(typeof err.code, 'string', 'error.code is a string');
  return err;
}

/** Like throwsCode for a Promise (or a function returning one): it must reject. */
export async function rejectsCode(t, promise, code, { instanceOf = Error, includes = [], name } = {}) {
  const err = await t.throwsAsync(promise, expectations(instanceOf, code, includes));
  if (err) {
    t.is(typeof err.code, 'string', 'error.code is a string');
    if (name) t.is(err.name, name);
  }
  return err;
}
