// Assertion helpers for framecodec's coded errors.

/** The class Node throws each code as (design §1); every other code is a plain Error. */
const NODE_CLASS = { ERR_INVALID_ARG_TYPE: TypeError, ERR_INVALID_ARG_VALUE: TypeError, ERR_OUT_OF_RANGE: RangeError };
export const classOf = (code) => NODE_CLASS[code] ?? Error;

function expectations(instanceOf, code, includes) {
  const e = { instanceOf: instanceOf ?? classOf(code), code };
  if (includes && includes.length > 0) {
    e.message = (m) => includes.every((s) => (s instanceof RegExp ? s.test(m) : m.includes(String(s))));
  }
  return e;
}

/** The error is exactly of that class (a TypeError where an Error is expected fails too). */
function exactClass(t, err, instanceOf, code) {
  const cls = instanceOf ?? classOf(code);
  t.is(err.constructor, cls, `${code} is a ${cls.name}, got ${err.constructor?.name}`);
}

/**
 * Assert that fn() throws synchronously an error of class `instanceOf` (default: Node's class for
 * `code`, see classOf) with the given `code` and a message containing every string / matching every
 * RegExp of `includes`.
 */
export function throwsCode(t, fn, code, { instanceOf, includes = [] } = {}) {
  const err = t.throws(fn, expectations(instanceOf, code, includes));
  if (err) {
    t.is(typeof err.code, 'string', 'error.code is a string');
    exactClass(t, err, instanceOf, code);
  }
  return err;
}

/** Like throwsCode for a Promise (or a function returning one): it must reject. */
export async function rejectsCode(t, promise, code, { instanceOf, includes = [], name } = {}) {
  const err = await t.throwsAsync(promise, expectations(instanceOf, code, includes));
  if (err) {
    t.is(typeof err.code, 'string', 'error.code is a string');
    exactClass(t, err, instanceOf, code);
    if (name) t.is(err.name, name);
  }
  return err;
}
