//! A thin, checked view of raw JS values for the binding layer.
//!
//! Why raw Node-API here: argument validation must tell a Float32Array from a Uint8Array, a missing
//! property from `undefined`, and report each with our own error codes; errors must be built with
//! `code`, `name` and `cause` set exactly as Node's own. The `unsafe` FFI calls live in this file only.

use std::ffi::{c_char, c_void};
use std::ptr;

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
        check(self.env, unsafe { sys::napi_get_property(self.env, self.raw, key.raw, &mut out) })?;
        Ok(JsVal::new(self.env, out))
    }

    pub fn set(&self, name: &str, value: JsVal) -> JsResult<()> {
        let key = self.string_value(name)?;
        check(self.env, unsafe { sys::napi_set_property(self.env, self.raw, key.raw, value.raw) })
    }

    pub fn number(&self) -> Option<f64> {
        let mut n = 0.0;
        (self.type_of() == sys::ValueType::napi_number
            && unsafe { sys::napi_get_value_double(self.env, self.raw, &mut n) } == sys::Status::napi_ok)
            .then_some(n)
    }

    pub fn boolean(&self) -> Option<bool> {
        let mut b = false;
        (self.type_of() == sys::ValueType::napi_boolean
            && unsafe { sys::napi_get_value_bool(self.env, self.raw, &mut b) } == sys::Status::napi_ok)
            .then_some(b)
    }

    /// A BigInt's value as u64 (`None` for other types, negatives or values over 64 bits).
    pub fn bigint_u64(&self) -> Option<u64> {
        let (mut v, mut lossless) = (0u64, false);
        (self.type_of() == sys::ValueType::napi_bigint
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
            if sys::napi_get_value_string_utf8(self.env, self.raw, ptr::null_mut(), 0, &mut len) != sys::Status::napi_ok {
                return None;
            }
            let mut buf = vec![0u8; len + 1];
            let mut written = 0usize;
            if sys::napi_get_value_string_utf8(self.env, self.raw, buf.as_mut_ptr() as *mut c_char, buf.len(), &mut written)
                != sys::Status::napi_ok
            {
                return None;
            }
            buf.truncate(written);
            String::from_utf8(buf).ok()
        }
    }

    pub fn is_array(&self) -> bool {
        let mut b = false;
        unsafe { sys::napi_is_array(self.env, self.raw, &mut b) };
        b
    }

    /// Element `i` of an array or any object (a Proxy's `get` trap runs; getters may throw).
    pub fn element(&self, i: u32) -> JsResult<JsVal> {
        let mut out = ptr::null_mut();
        check(self.env, unsafe { sys::napi_get_element(self.env, self.raw, i, &mut out) })?;
        Ok(JsVal::new(self.env, out))
    }

    /// The elements of an array.
    pub fn elements(&self) -> JsResult<Vec<JsVal>> {
        let mut len = 0u32;
        check(self.env, unsafe { sys::napi_get_array_length(self.env, self.raw, &mut len) })?;
        (0..len)
            .map(|i| {
                let mut out = ptr::null_mut();
                check(self.env, unsafe { sys::napi_get_element(self.env, self.raw, i, &mut out) })?;
                Ok(JsVal::new(self.env, out))
            })
            .collect()
    }

    /// Own enumerable string keys.
    pub fn keys(&self) -> JsResult<Vec<String>> {
        let mut names = ptr::null_mut();
        check(self.env, unsafe { sys::napi_get_property_names(self.env, self.raw, &mut names) })?;
        Ok(JsVal::new(self.env, names).elements()?.iter().filter_map(|k| k.string()).collect())
    }

    pub fn typed_array(&self) -> Option<TypedArrayInfo> {
        let mut is = false;
        unsafe { sys::napi_is_typedarray(self.env, self.raw, &mut is) };
        if !is {
            return None;
        }
        let mut kind = 0;
        let (mut len, mut data, mut buffer, mut offset) = (0usize, ptr::null_mut(), ptr::null_mut(), 0usize);
        let status = unsafe { sys::napi_get_typedarray_info(self.env, self.raw, &mut kind, &mut len, &mut data, &mut buffer, &mut offset) };
        (status == sys::Status::napi_ok).then_some(TypedArrayInfo { kind })
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
        let status = unsafe { sys::napi_call_function(self.env, this.raw, self.raw, raw_args.len(), raw_args.as_ptr(), &mut out) };
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
    unsafe { sys::napi_is_exception_pending(env, &mut pending) };
    if !pending {
        return None;
    }
    let mut exc = ptr::null_mut();
    (unsafe { sys::napi_get_and_clear_last_exception(env, &mut exc) } == sys::Status::napi_ok).then(|| JsVal::new(env, exc))
}

pub fn undefined(env: sys::napi_env) -> JsVal {
    let mut out = ptr::null_mut();
    unsafe { sys::napi_get_undefined(env, &mut out) };
    JsVal::new(env, out)
}

pub fn string(env: sys::napi_env, s: &str) -> JsResult<JsVal> {
    let mut out = ptr::null_mut();
    check(env, unsafe { sys::napi_create_string_utf8(env, s.as_ptr() as *const c_char, s.len() as isize, &mut out) })?;
    Ok(JsVal::new(env, out))
}

pub fn number(env: sys::napi_env, n: f64) -> JsResult<JsVal> {
    let mut out = ptr::null_mut();
    check(env, unsafe { sys::napi_create_double(env, n, &mut out) })?;
    Ok(JsVal::new(env, out))
}

pub fn object(env: sys::napi_env) -> JsResult<JsVal> {
    let mut out = ptr::null_mut();
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
    unsafe { sys::napi_throw(val.env, val.raw) };
}

/// A strong reference that keeps a JS value alive beyond the current scope. Must be released with
/// [`StrongRef::release`] on the JS thread (dropping it unreleased leaks the reference, never crashes).
pub struct StrongRef {
    raw: sys::napi_ref,
}

// SAFETY: a napi_ref is an opaque handle; we only *use* it on the JS thread (get / release take an
// env, which only the JS thread has), moving it between threads is harmless.
unsafe impl Send for StrongRef {}

impl StrongRef {
    pub fn new(val: JsVal) -> JsResult<StrongRef> {
        let mut raw = ptr::null_mut();
        check(val.env, unsafe { sys::napi_create_reference(val.env, val.raw, 1, &mut raw) })?;
        Ok(StrongRef { raw })
    }

    pub fn get(&self, env: sys::napi_env) -> JsVal {
        let mut out = ptr::null_mut();
        unsafe { sys::napi_get_reference_value(env, self.raw, &mut out) };
        JsVal::new(env, out)
    }

    pub fn release(self, env: sys::napi_env) {
        unsafe { sys::napi_delete_reference(env, self.raw) };
    }
}

/// Creates a JS function that calls `f` with its first argument (if any). `f` is dropped when the
/// function is garbage-collected. A panic in `f` is caught (it must never unwind into Node).
pub fn function<F: Fn(Option<JsVal>) + 'static>(env: sys::napi_env, name: &str, f: F) -> JsResult<JsVal> {
    unsafe extern "C" fn trampoline<F: Fn(Option<JsVal>)>(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
        let mut data: *mut c_void = ptr::null_mut();
        let mut argc = 1usize;
        let mut argv = [ptr::null_mut(); 1];
        unsafe {
            sys::napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), ptr::null_mut(), &mut data);
            let arg = (argc > 0 && !argv[0].is_null()).then(|| JsVal::new(env, argv[0]));
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (*(data as *const F))(arg)));
        }
        ptr::null_mut()
    }
    unsafe extern "C" fn finalize<F>(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
        drop(unsafe { Box::from_raw(data as *mut F) });
    }
    let data = Box::into_raw(Box::new(f)) as *mut c_void;
    let mut out = ptr::null_mut();
    let status = unsafe { sys::napi_create_function(env, name.as_ptr() as *const c_char, name.len() as isize, Some(trampoline::<F>), data, &mut out) };
    if let Err(e) = check(env, status) {
        drop(unsafe { Box::from_raw(data as *mut F) });
        return Err(e);
    }
    check(env, unsafe { sys::napi_add_finalizer(env, out, data, Some(finalize::<F>), ptr::null_mut(), ptr::null_mut()) })?;
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
