//! A thin, checked view of raw JS values for the binding layer.
//!
//! Why raw Node-API here: argument validation must tell a Float32Array from a Uint8Array, a missing
//! property from `undefined`, and report each with our own error codes; errors must be built with
//! `code`, `name` and `cause` set exactly as Node's own. Every raw Node-API call of the binding layer
//! lives in this file, each with its SAFETY note: values, Promises, Buffers, references, functions,
//! threadsafe functions and cleanup hooks.

use std::ffi::{c_char, c_void};
use std::ptr;

use napi::bindgen_prelude::{Buffer, FromNapiValue, ToNapiValue, Uint8Array, Uint8ClampedArray, Unknown};
use napi::sys;

/// A JS exception (or a Node-API failure) that interrupted reading a value.
#[derive(Debug)]
pub enum JsFault {
    /// A JS exception is pending in the environment (e.g. a getter threw).
    Pending,
    /// A Node-API call failed with this status.
    Status(i32),
}

pub type JsResult<T> = Result<T, JsFault>;

fn check(env: sys::napi_env, status: sys::napi_status) -> JsResult<()> {
    if status == sys::Status::napi_ok {
        return Ok(());
    }
    let mut pending = false;
    // SAFETY: env is the live environment of the current call.
    unsafe { sys::napi_is_exception_pending(env, &mut pending) };
    Err(if pending { JsFault::Pending } else { JsFault::Status(status) })
}

/// A JS value in a live environment. Only valid on the JS thread, within the current scope.
#[derive(Clone, Copy)]
pub struct JsVal {
    pub env: sys::napi_env,
    pub raw: sys::napi_value,
}

/// What a typed array's memory is.
pub struct TypedArrayInfo {
    pub kind: sys::napi_typedarray_type,
    /// Its length in elements.
    pub length: usize,
}

impl JsVal {
    pub fn new(env: sys::napi_env, raw: sys::napi_value) -> JsVal {
        JsVal { env, raw }
    }

    pub fn type_of(&self) -> sys::napi_valuetype {
        let mut t = sys::ValueType::napi_undefined;
        // SAFETY: plain query on a live value.
        unsafe { sys::napi_typeof(self.env, self.raw, &mut t) };
        t
    }

    pub fn is_nullish(&self) -> bool {
        matches!(self.type_of(), sys::ValueType::napi_undefined | sys::ValueType::napi_null)
    }

    pub fn is_object(&self) -> bool {
        self.type_of() == sys::ValueType::napi_object
    }

    pub fn is_function(&self) -> bool {
        self.type_of() == sys::ValueType::napi_function
    }

    /// A property by name (`undefined` when absent). Getters may run and throw.
    pub fn get(&self, name: &str) -> JsResult<JsVal> {
        let key = self.string_value(name)?;
        let mut out = ptr::null_mut();
        // SAFETY: self and key are live values of this call's environment (see [`JsVal`]); out is a local.
        check(self.env, unsafe { sys::napi_get_property(self.env, self.raw, key.raw, &mut out) })?;
        Ok(JsVal::new(self.env, out))
    }

    pub fn set(&self, name: &str, value: JsVal) -> JsResult<()> {
        let key = self.string_value(name)?;
        // SAFETY: self, key and value are live values of this call's environment.
        check(self.env, unsafe { sys::napi_set_property(self.env, self.raw, key.raw, value.raw) })
    }

    pub fn number(&self) -> Option<f64> {
        let mut n = 0.0;
        (self.type_of() == sys::ValueType::napi_number
            // SAFETY: a number value of this environment; n is a local.
            && unsafe { sys::napi_get_value_double(self.env, self.raw, &mut n) } == sys::Status::napi_ok)
            .then_some(n)
    }

    pub fn boolean(&self) -> Option<bool> {
        let mut b = false;
        (self.type_of() == sys::ValueType::napi_boolean
            // SAFETY: a boolean value of this environment; b is a local.
            && unsafe { sys::napi_get_value_bool(self.env, self.raw, &mut b) } == sys::Status::napi_ok)
            .then_some(b)
    }

    /// A BigInt's value as u64 (`None` for other types, negatives or values over 64 bits).
    pub fn bigint_u64(&self) -> Option<u64> {
        let (mut v, mut lossless) = (0u64, false);
        (self.type_of() == sys::ValueType::napi_bigint
            // SAFETY: a BigInt value of this environment; v and lossless are locals.
            && unsafe { sys::napi_get_value_bigint_uint64(self.env, self.raw, &mut v, &mut lossless) } == sys::Status::napi_ok
            && lossless)
            .then_some(v)
    }

    pub fn string(&self) -> Option<String> {
        if self.type_of() != sys::ValueType::napi_string {
            return None;
        }
        let mut len = 0usize;
        // SAFETY: first call asks for the length, second fills a buffer of len + 1 bytes.
        unsafe {
            if sys::napi_get_value_string_utf8(self.env, self.raw, ptr::null_mut(), 0, &mut len) != sys::Status::napi_ok
            {
                return None;
            }
            let mut buf = vec![0u8; len + 1];
            let mut written = 0usize;
            if sys::napi_get_value_string_utf8(
                self.env,
                self.raw,
                buf.as_mut_ptr() as *mut c_char,
                buf.len(),
                &mut written,
            ) != sys::Status::napi_ok
            {
                return None;
            }
            buf.truncate(written);
            String::from_utf8(buf).ok()
        }
    }

    pub fn is_array(&self) -> bool {
        let mut b = false;
        // SAFETY: plain query on a live value; b is a local.
        unsafe { sys::napi_is_array(self.env, self.raw, &mut b) };
        b
    }

    /// Element `i` of an array or any object (a Proxy's `get` trap runs; getters may throw).
    pub fn element(&self, i: u32) -> JsResult<JsVal> {
        let mut out = ptr::null_mut();
        // SAFETY: a live value of this environment; out is a local.
        check(self.env, unsafe { sys::napi_get_element(self.env, self.raw, i, &mut out) })?;
        Ok(JsVal::new(self.env, out))
    }

    /// The elements of an array.
    pub fn elements(&self) -> JsResult<Vec<JsVal>> {
        let mut len = 0u32;
        // SAFETY: a live value of this environment; len is a local.
        check(self.env, unsafe { sys::napi_get_array_length(self.env, self.raw, &mut len) })?;
        (0..len)
            .map(|i| {
                let mut out = ptr::null_mut();
                // SAFETY: the same live array; out is a local.
                check(self.env, unsafe { sys::napi_get_element(self.env, self.raw, i, &mut out) })?;
                Ok(JsVal::new(self.env, out))
            })
            .collect()
    }

    /// Own enumerable string keys.
    pub fn keys(&self) -> JsResult<Vec<String>> {
        let mut names = ptr::null_mut();
        // SAFETY: a live value of this environment; names is a local.
        check(self.env, unsafe { sys::napi_get_property_names(self.env, self.raw, &mut names) })?;
        Ok(JsVal::new(self.env, names).elements()?.iter().filter_map(|k| k.string()).collect())
    }

    pub fn typed_array(&self) -> Option<TypedArrayInfo> {
        self.typed_array_memory().map(|(kind, length, _)| TypedArrayInfo { kind, length })
    }

    /// A typed array's element type, length in elements and memory (null when empty or detached).
    fn typed_array_memory(&self) -> Option<(sys::napi_typedarray_type, usize, *mut c_void)> {
        let mut is = false;
        // SAFETY: plain query on a live value; is is a local.
        unsafe { sys::napi_is_typedarray(self.env, self.raw, &mut is) };
        if !is {
            return None;
        }
        let mut kind = 0;
        let (mut len, mut data, mut buffer, mut offset) = (0usize, ptr::null_mut(), ptr::null_mut(), 0usize);
        // SAFETY: a typed array (checked above); the out-pointers are locals.
        let status = unsafe {
            sys::napi_get_typedarray_info(self.env, self.raw, &mut kind, &mut len, &mut data, &mut buffer, &mut offset)
        };
        (status == sys::Status::napi_ok).then_some((kind, len, data))
    }

    /// A copy of a `Float32Array`'s values (`None` for anything else). No JavaScript runs between
    /// asking for the memory and copying it, so nothing can detach or shrink it in between.
    pub fn float32_copy(&self) -> Option<Vec<f32>> {
        let (kind, len, data) = self.typed_array_memory()?;
        if kind != sys::TypedarrayType::float32_array {
            return None;
        }
        if len == 0 || data.is_null() {
            return Some(Vec::new());
        }
        // SAFETY: V8 reports `len` float32 elements at `data` (element-aligned for a Float32Array), live
        // for this call; they are copied at once. Shared memory may change under us: we read a snapshot.
        Some(unsafe { std::slice::from_raw_parts(data.cast::<f32>(), len) }.to_vec())
    }

    /// A short description of the value's type for error messages: `string`, `Float32Array`, `null`, …
    pub fn describe_type(&self) -> String {
        if let Some(info) = self.typed_array() {
            return typed_array_name(info.kind).to_string();
        }
        match self.type_of() {
            sys::ValueType::napi_undefined => "undefined".into(),
            sys::ValueType::napi_null => "null".into(),
            sys::ValueType::napi_boolean => "boolean".into(),
            sys::ValueType::napi_number => "number".into(),
            sys::ValueType::napi_string => "string".into(),
            sys::ValueType::napi_symbol => "symbol".into(),
            sys::ValueType::napi_function => "function".into(),
            sys::ValueType::napi_bigint => "bigint".into(),
            _ if self.is_array() => "Array".into(),
            _ => {
                let name = self
                    .get("constructor")
                    .ok()
                    .filter(|c| c.is_function())
                    .and_then(|c| c.get("name").ok())
                    .and_then(|n| n.string())
                    .filter(|n| !n.is_empty());
                // A throwing getter or Proxy trap must not leave its exception behind a description.
                take_exception(self.env);
                name.unwrap_or_else(|| "object".into())
            }
        }
    }

    pub fn string_value(&self, s: &str) -> JsResult<JsVal> {
        string(self.env, s)
    }

    /// Calls this function with `this = undefined`. A throw comes back as `Err(exception)`.
    pub fn call(&self, args: &[JsVal]) -> Result<JsVal, JsVal> {
        let raw_args: Vec<sys::napi_value> = args.iter().map(|a| a.raw).collect();
        let this = undefined(self.env);
        self.call_on(this, &raw_args)
    }

    /// Calls this function as a method of `this`.
    pub fn call_on(&self, this: JsVal, raw_args: &[sys::napi_value]) -> Result<JsVal, JsVal> {
        let mut out = ptr::null_mut();
        // SAFETY: self (a function), this and the arguments are live values of this environment; raw_args outlives the call.
        let status = unsafe {
            sys::napi_call_function(self.env, this.raw, self.raw, raw_args.len(), raw_args.as_ptr(), &mut out)
        };
        if status == sys::Status::napi_ok {
            return Ok(JsVal::new(self.env, out));
        }
        Err(take_exception(self.env).unwrap_or_else(|| undefined(self.env)))
    }

    /// Calls the method `name` of this object.
    pub fn call_method(&self, name: &str, args: &[JsVal]) -> Result<JsVal, JsVal> {
        let f = self.get(name).map_err(|_| take_exception(self.env).unwrap_or_else(|| undefined(self.env)))?;
        let raw_args: Vec<sys::napi_value> = args.iter().map(|a| a.raw).collect();
        f.call_on(*self, &raw_args)
    }
}

#[allow(non_upper_case_globals)]
pub fn typed_array_name(kind: sys::napi_typedarray_type) -> &'static str {
    use sys::TypedarrayType::*;
    match kind {
        int8_array => "Int8Array",
        uint8_array => "Uint8Array",
        uint8_clamped_array => "Uint8ClampedArray",
        int16_array => "Int16Array",
        uint16_array => "Uint16Array",
        int32_array => "Int32Array",
        uint32_array => "Uint32Array",
        float32_array => "Float32Array",
        float64_array => "Float64Array",
        bigint64_array => "BigInt64Array",
        biguint64_array => "BigUint64Array",
        _ => "TypedArray",
    }
}

/// Clears and returns the pending exception, if any.
pub fn take_exception(env: sys::napi_env) -> Option<JsVal> {
    let mut pending = false;
    // SAFETY: env is the live environment of the current call; pending is a local.
    unsafe { sys::napi_is_exception_pending(env, &mut pending) };
    if !pending {
        return None;
    }
    let mut exc = ptr::null_mut();
    // SAFETY: an exception is pending in this live environment; exc is a local.
    (unsafe { sys::napi_get_and_clear_last_exception(env, &mut exc) } == sys::Status::napi_ok)
        .then(|| JsVal::new(env, exc))
}

pub fn undefined(env: sys::napi_env) -> JsVal {
    let mut out = ptr::null_mut();
    // SAFETY: env is the live environment of the current call; out is a local.
    unsafe { sys::napi_get_undefined(env, &mut out) };
    JsVal::new(env, out)
}

pub fn string(env: sys::napi_env, s: &str) -> JsResult<JsVal> {
    let mut out = ptr::null_mut();
    // SAFETY: s is valid UTF-8 of s.len() bytes for the duration of the call; out is a local.
    check(env, unsafe { sys::napi_create_string_utf8(env, s.as_ptr() as *const c_char, s.len() as isize, &mut out) })?;
    Ok(JsVal::new(env, out))
}

pub fn number(env: sys::napi_env, n: f64) -> JsResult<JsVal> {
    let mut out = ptr::null_mut();
    // SAFETY: env is the live environment of the current call; out is a local.
    check(env, unsafe { sys::napi_create_double(env, n, &mut out) })?;
    Ok(JsVal::new(env, out))
}

pub fn object(env: sys::napi_env) -> JsResult<JsVal> {
    let mut out = ptr::null_mut();
    // SAFETY: env is the live environment of the current call; out is a local.
    check(env, unsafe { sys::napi_create_object(env, &mut out) })?;
    Ok(JsVal::new(env, out))
}

/// Which constructor an error object is made with.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    Error,
    TypeError,
    RangeError,
}

/// `new Error(message)` (or TypeError / RangeError) with `code` set.
pub fn error(env: sys::napi_env, class: ErrorClass, code: &str, message: &str) -> JsResult<JsVal> {
    let code = string(env, code)?;
    let msg = string(env, message)?;
    let mut out = ptr::null_mut();
    // SAFETY: code and msg are live strings of this environment; out is a local.
    let status = unsafe {
        match class {
            ErrorClass::Error => sys::napi_create_error(env, code.raw, msg.raw, &mut out),
            ErrorClass::TypeError => sys::napi_create_type_error(env, code.raw, msg.raw, &mut out),
            ErrorClass::RangeError => sys::napi_create_range_error(env, code.raw, msg.raw, &mut out),
        }
    };
    check(env, status)?;
    Ok(JsVal::new(env, out))
}

pub fn throw(val: JsVal) {
    // SAFETY: val is a live value of its environment, thrown on the JS thread.
    unsafe { sys::napi_throw(val.env, val.raw) };
}

/// A strong reference that keeps a JS value alive beyond the current scope. Must be released with
/// [`StrongRef::release`] on the JS thread (dropping it unreleased leaks the reference, never crashes).
pub struct StrongRef {
    raw: sys::napi_ref,
    /// The value is element 0 of the referenced array (a primitive, see [`StrongRef::new`]).
    boxed: bool,
}

// SAFETY: a napi_ref is an opaque handle; we only *use* it on the JS thread (get / release take an
// env, which only the JS thread has), moving it between threads is harmless.
unsafe impl Send for StrongRef {}

impl StrongRef {
    /// A reference to any value. Node-API references hold objects, functions and symbols only, so a
    /// primitive (a string thrown, an abort reason of 42) is held as the own `value` of a new object.
    /// It is *defined* there, not assigned: an assignment would run a setter a program put on
    /// `Object.prototype` (references are made while the writer's state is borrowed).
    pub fn new(val: JsVal) -> JsResult<StrongRef> {
        let boxed = !matches!(
            val.type_of(),
            sys::ValueType::napi_object | sys::ValueType::napi_function | sys::ValueType::napi_symbol
        );
        let target = if boxed {
            let mut holder = ptr::null_mut();
            // SAFETY: val.env is the live environment of the current call; holder is a local.
            check(val.env, unsafe { sys::napi_create_object(val.env, &mut holder) })?;
            let property = sys::napi_property_descriptor {
                utf8name: c"value".as_ptr(),
                name: ptr::null_mut(),
                method: None,
                getter: None,
                setter: None,
                value: val.raw,
                attributes: sys::PropertyAttributes::default,
                data: ptr::null_mut(),
            };
            // SAFETY: holder was just created in this environment; the descriptor (a NUL-terminated
            // static name, a live value, no callbacks) outlives the call.
            check(val.env, unsafe { sys::napi_define_properties(val.env, holder, 1, &property) })?;
            holder
        } else {
            val.raw
        };
        let mut raw = ptr::null_mut();
        // SAFETY: target is a live object of its environment; raw is a local.
        check(val.env, unsafe { sys::napi_create_reference(val.env, target, 1, &mut raw) })?;
        Ok(StrongRef { raw, boxed })
    }

    pub fn get(&self, env: sys::napi_env) -> JsVal {
        let mut out = ptr::null_mut();
        // SAFETY: a reference created by `new` and not yet released (release takes self), on the JS thread.
        unsafe { sys::napi_get_reference_value(env, self.raw, &mut out) };
        let held = JsVal::new(env, out);
        if self.boxed {
            // The holder made by `new`, which nobody else can reach: its own data property.
            return held.get("value").unwrap_or_else(|_| undefined(env));
        }
        held
    }

    pub fn release(self, env: sys::napi_env) {
        // SAFETY: a reference created by `new`, released once (release takes self), on the JS thread.
        unsafe { sys::napi_delete_reference(env, self.raw) };
    }
}

/// Creates a JS function that calls `f` with its first argument (if any). `f` is dropped when the
/// function is garbage-collected. A panic in `f` is caught (it must never unwind into Node).
pub fn function<F: Fn(Option<JsVal>) + 'static>(env: sys::napi_env, name: &str, f: F) -> JsResult<JsVal> {
    unsafe extern "C" fn trampoline<F: Fn(Option<JsVal>)>(
        env: sys::napi_env,
        info: sys::napi_callback_info,
    ) -> sys::napi_value {
        let mut data: *mut c_void = ptr::null_mut();
        let mut argc = 1usize;
        let mut argv = [ptr::null_mut(); 1];
        // SAFETY: Node calls the trampoline on the JS thread with this function's callback info; `data` is
        // the boxed `F` given at creation, alive until the finalizer runs (after the last call).
        unsafe {
            sys::napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), ptr::null_mut(), &mut data);
            let arg = (argc > 0 && !argv[0].is_null()).then(|| JsVal::new(env, argv[0]));
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (*(data as *const F))(arg)));
        }
        ptr::null_mut()
    }
    unsafe extern "C" fn finalize<F>(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
        // SAFETY: `data` is the boxed `F` given at creation; Node runs the finalizer once, after the last call.
        drop(unsafe { Box::from_raw(data as *mut F) });
    }
    let data = Box::into_raw(Box::new(f)) as *mut c_void;
    let mut out = ptr::null_mut();
    // SAFETY: name is valid UTF-8 of name.len() bytes; data is the boxed F the trampoline and finalizer take.
    let status = unsafe {
        sys::napi_create_function(
            env,
            name.as_ptr() as *const c_char,
            name.len() as isize,
            Some(trampoline::<F>),
            data,
            &mut out,
        )
    };
    if let Err(e) = check(env, status) {
        // SAFETY: the function was not created, so nothing else holds `data`: it is still ours to free.
        drop(unsafe { Box::from_raw(data as *mut F) });
        return Err(e);
    }
    // SAFETY: out is the function just created; the finalizer frees `data` when it is collected.
    check(env, unsafe {
        sys::napi_add_finalizer(env, out, data, Some(finalize::<F>), ptr::null_mut(), ptr::null_mut())
    })?;
    Ok(JsVal::new(env, out))
}

/// The global object.
pub fn global(env: sys::napi_env) -> JsResult<JsVal> {
    let mut out = ptr::null_mut();
    // SAFETY: plain query in a live environment.
    check(env, unsafe { sys::napi_get_global(env, &mut out) })?;
    Ok(JsVal::new(env, out))
}

/// A new, zeroed, fixed-length `ArrayBuffer` of `len` bytes.
pub fn array_buffer(env: sys::napi_env, len: usize) -> JsResult<JsVal> {
    let (mut data, mut out) = (ptr::null_mut(), ptr::null_mut());
    // SAFETY: Node allocates the buffer; we do not keep `data`.
    check(env, unsafe { sys::napi_create_arraybuffer(env, len, &mut data, &mut out) })?;
    Ok(JsVal::new(env, out))
}

impl JsVal {
    /// The `ArrayBuffer` (or `SharedArrayBuffer`) under a typed array, and whether it is an
    /// `ArrayBuffer` (`false` for a `SharedArrayBuffer`).
    pub fn typed_array_buffer(&self) -> JsResult<(JsVal, bool)> {
        let mut kind = 0;
        let (mut len, mut data, mut buffer, mut offset) = (0usize, ptr::null_mut(), ptr::null_mut(), 0usize);
        // SAFETY: the caller checked that this is a typed array; out-pointers are locals.
        check(self.env, unsafe {
            sys::napi_get_typedarray_info(self.env, self.raw, &mut kind, &mut len, &mut data, &mut buffer, &mut offset)
        })?;
        let mut is_array_buffer = false;
        // SAFETY: plain query on the live value just obtained.
        unsafe { sys::napi_is_arraybuffer(self.env, buffer, &mut is_array_buffer) };
        Ok((JsVal::new(self.env, buffer), is_array_buffer))
    }

    /// Whether this `ArrayBuffer` is detached (transferred away).
    pub fn is_detached_array_buffer(&self) -> bool {
        let mut detached = false;
        // SAFETY: plain query; false for values that are not ArrayBuffers.
        unsafe { sys::napi_is_detached_arraybuffer(self.env, self.raw, &mut detached) };
        detached
    }
}

/// A new `Buffer` that takes `bytes` over (no copy).
pub fn buffer(env: sys::napi_env, bytes: Vec<u8>) -> napi::Result<JsVal> {
    // SAFETY: env is the live environment of the current call, on the JS thread.
    let raw = unsafe { Buffer::to_napi_value(env, Buffer::from(bytes)) }?;
    Ok(JsVal::new(env, raw))
}

/// The memory of a `Uint8Array`, held for as long as the returned value lives.
pub fn uint8_array(val: JsVal) -> napi::Result<Uint8Array> {
    // SAFETY: val is a live value of its environment (napi-rs checks that it is a Uint8Array).
    unsafe { Uint8Array::from_napi_value(val.env, val.raw) }
}

/// The memory of a `Uint8ClampedArray`, held for as long as the returned value lives.
pub fn uint8_clamped_array(val: JsVal) -> napi::Result<Uint8ClampedArray> {
    // SAFETY: val is a live value of its environment (napi-rs checks that it is a Uint8ClampedArray).
    unsafe { Uint8ClampedArray::from_napi_value(val.env, val.raw) }
}

/// A new instance of a `#[napi]` class, made from its Rust value.
pub fn instance<T: ToNapiValue>(env: sys::napi_env, value: T) -> napi::Result<JsVal> {
    // SAFETY: env is the live environment of the current call, on the JS thread.
    let raw = unsafe { T::to_napi_value(env, value) }?;
    Ok(JsVal::new(env, raw))
}

/// `null`.
pub fn null(env: sys::napi_env) -> JsVal {
    let mut out = ptr::null_mut();
    // SAFETY: env is the live environment of the current call; out is a local.
    unsafe { sys::napi_get_null(env, &mut out) };
    JsVal::new(env, out)
}

/// A value as napi-rs's `Unknown`, to return from a `#[napi]` function.
pub fn unknown<'env>(val: JsVal) -> Unknown<'env> {
    // SAFETY: val is a live value of the environment of the current call, returned within it.
    unsafe { Unknown::from_raw_unchecked(val.env, val.raw) }
}

/// The settle side of a Promise; settling consumes it (Node frees a deferred once settled).
pub struct Deferred(sys::napi_deferred);

impl Deferred {
    pub fn resolve(self, env: sys::napi_env, value: JsVal) {
        // SAFETY: an unsettled deferred of this environment (settling takes self), on the JS thread.
        unsafe { sys::napi_resolve_deferred(env, self.0, value.raw) };
    }

    pub fn reject(self, env: sys::napi_env, reason: JsVal) {
        // SAFETY: an unsettled deferred of this environment (settling takes self), on the JS thread.
        unsafe { sys::napi_reject_deferred(env, self.0, reason.raw) };
    }
}

/// A new pending Promise and the deferred that settles it.
pub fn promise(env: sys::napi_env) -> JsResult<(Deferred, JsVal)> {
    let (mut deferred, mut promise) = (ptr::null_mut(), ptr::null_mut());
    // SAFETY: env is the live environment of the current call; the out-pointers are locals.
    check(env, unsafe { sys::napi_create_promise(env, &mut deferred, &mut promise) })?;
    Ok((Deferred(deferred), JsVal::new(env, promise)))
}

/// A Promise already rejected with `reason` (`undefined` if Node cannot make one).
pub fn rejected_promise(env: sys::napi_env, reason: JsVal) -> JsVal {
    match promise(env) {
        Ok((deferred, promise)) => {
            deferred.reject(env, reason);
            promise
        }
        Err(_) => undefined(env),
    }
}

/// A handle on a threadsafe function: one "thread" count of it, released on drop. Its calls run
/// `call_js` on the JS thread, in order.
pub struct ThreadsafeFunction(sys::napi_threadsafe_function);

// SAFETY: napi_call_threadsafe_function / napi_acquire_threadsafe_function /
// napi_release_threadsafe_function are made to be called from any thread.
unsafe impl Send for ThreadsafeFunction {}
// SAFETY: as above; the handle itself is never mutated.
unsafe impl Sync for ThreadsafeFunction {}

impl ThreadsafeFunction {
    /// Creates a threadsafe function with one thread count (this handle), no JS function and an
    /// unbounded queue. `finalize(env, context, context)` runs once the last handle is released and
    /// the queue drained.
    ///
    /// # Safety
    /// `call_js` and `finalize` must be sound for `context` and for the data given to
    /// [`ThreadsafeFunction::call`]; `context` must stay valid until `finalize` runs.
    pub unsafe fn new(
        env: sys::napi_env,
        name: JsVal,
        context: *mut c_void,
        finalize: sys::napi_finalize,
        call_js: sys::napi_threadsafe_function_call_js,
    ) -> JsResult<ThreadsafeFunction> {
        let mut tsfn = ptr::null_mut();
        // SAFETY: env and name are live; the caller vouches for context and the callbacks.
        let status = unsafe {
            sys::napi_create_threadsafe_function(
                env,
                ptr::null_mut(),
                ptr::null_mut(),
                name.raw,
                0,
                1,
                context,
                finalize,
                context,
                call_js,
                &mut tsfn,
            )
        };
        check(env, status)?;
        Ok(ThreadsafeFunction(tsfn))
    }

    /// Another handle on the same function (its own thread count), unless it is closing.
    pub fn try_clone(&self) -> Option<ThreadsafeFunction> {
        // SAFETY: self holds a thread count, so the function is alive.
        (unsafe { sys::napi_acquire_threadsafe_function(self.0) } == sys::Status::napi_ok)
            .then(|| ThreadsafeFunction(self.0))
    }

    /// Queues `value` for `call_js` (which takes the box over), or hands it back when the environment
    /// is closing and nobody will receive it.
    pub fn call<T: Send>(&self, value: Box<T>) -> Result<(), Box<T>> {
        let data = Box::into_raw(value) as *mut c_void;
        // SAFETY: self holds a thread count, so the function is alive; nonblocking on an unbounded queue.
        let status =
            unsafe { sys::napi_call_threadsafe_function(self.0, data, sys::ThreadsafeFunctionCallMode::nonblocking) };
        if status == sys::Status::napi_ok {
            return Ok(());
        }
        // SAFETY: Node did not take `data`: it is still the box made above, owned by nobody else.
        Err(unsafe { Box::from_raw(data as *mut T) })
    }
}

/// A threadsafe function as the JS thread sees it: to make it keep the event loop alive or not. Valid
/// until the function is finalized (its owner forgets it then).
#[derive(Clone, Copy)]
pub struct LoopHold(sys::napi_threadsafe_function);

impl ThreadsafeFunction {
    /// The JS thread's handle for [`LoopHold::set`].
    pub fn loop_hold(&self) -> LoopHold {
        LoopHold(self.0)
    }
}

impl LoopHold {
    /// Whether the function keeps the event loop alive (it does when created).
    pub fn set(self, env: sys::napi_env, hold: bool) {
        // SAFETY: on the JS thread, for a function not yet finalized (the caller's contract, see the type).
        unsafe {
            if hold {
                sys::napi_ref_threadsafe_function(env, self.0);
            } else {
                sys::napi_unref_threadsafe_function(env, self.0);
            }
        }
    }
}

impl Drop for ThreadsafeFunction {
    fn drop(&mut self) {
        // SAFETY: releases the one thread count this handle holds, once.
        unsafe { sys::napi_release_threadsafe_function(self.0, sys::ThreadsafeFunctionReleaseMode::release) };
    }
}

/// A function Node runs with its argument when the environment is torn down.
pub type CleanupHook = unsafe extern "C" fn(arg: *mut c_void);

/// Registers `hook(arg)` to run at the environment's teardown; false if Node refused.
///
/// # Safety
/// `hook` must be sound for `arg` whenever it runs, until [`remove_env_cleanup_hook`] unregisters it.
pub unsafe fn add_env_cleanup_hook(env: sys::napi_env, hook: CleanupHook, arg: *mut c_void) -> bool {
    // SAFETY: env is the live environment, on the JS thread; the caller vouches for hook and arg.
    unsafe { sys::napi_add_env_cleanup_hook(env, Some(hook), arg) == sys::Status::napi_ok }
}

/// Unregisters a hook registered with exactly this `hook` and `arg` (that has not run).
pub fn remove_env_cleanup_hook(env: sys::napi_env, hook: CleanupHook, arg: *mut c_void) {
    // SAFETY: env is the live environment, on the JS thread; Node only compares hook and arg.
    unsafe { sys::napi_remove_env_cleanup_hook(env, Some(hook), arg) };
}
