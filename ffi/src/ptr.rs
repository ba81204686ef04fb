//! Pointer conversions at the boundary, in one place: borrowed inputs, checked outputs, owned
//! strings and buffers handed to C and taken back.

use std::collections::HashMap;
use std::ffi::{c_char, CStr, CString};

use crate::error::{FfiError, FfiResult};

/// A borrowed, non-NULL, UTF-8 C string argument.
pub(crate) fn str_arg<'a>(p: *const c_char, what: &str) -> FfiResult<&'a str> {
    if p.is_null() {
        return Err(FfiError::invalid(format!("{what} is NULL")));
    }
    // SAFETY: the caller passes a NUL-terminated string that stays valid during the call.
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map_err(|_| FfiError::invalid(format!("{what} is not valid UTF-8")))
}

/// Like [`str_arg`], with NULL meaning "absent".
pub(crate) fn opt_str_arg<'a>(p: *const c_char, what: &str) -> FfiResult<Option<&'a str>> {
    if p.is_null() {
        Ok(None)
    } else {
        str_arg(p, what).map(Some)
    }
}

/// A borrowed byte buffer argument: `(NULL, 0)` is the empty buffer, `(NULL, n > 0)` an error.
pub(crate) fn bytes_arg<'a>(p: *const u8, len: usize, what: &str) -> FfiResult<&'a [u8]> {
    if p.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(FfiError::invalid(format!(
                "{what} is NULL with a length of {len}"
            )))
        };
    }
    if len > isize::MAX as usize {
        return Err(FfiError::invalid(format!(
            "{what} length {len} is too large"
        )));
    }
    // SAFETY: the caller passes `len` readable bytes at `p` that stay valid during the call.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// A borrowed reference to a library object passed back in.
pub(crate) fn obj_arg<'a, T>(p: *const T, what: &str) -> FfiResult<&'a T> {
    // SAFETY: NULL or a pointer this library returned and the caller has not freed.
    unsafe { p.as_ref() }.ok_or_else(|| FfiError::invalid(format!("{what} is NULL")))
}

/// Mutable variant of [`obj_arg`].
pub(crate) fn obj_mut<'a, T>(p: *mut T, what: &str) -> FfiResult<&'a mut T> {
    // SAFETY: as for obj_arg; the caller does not use the object from two threads at once.
    unsafe { p.as_mut() }.ok_or_else(|| FfiError::invalid(format!("{what} is NULL")))
}

/// An out-parameter, checked before any work is done and written only on success.
pub(crate) struct Out<T>(*mut T);

impl<T> Out<T> {
    pub(crate) fn new(p: *mut T, what: &str) -> FfiResult<Self> {
        if p.is_null() {
            Err(FfiError::invalid(format!("{what} is NULL")))
        } else {
            Ok(Out(p))
        }
    }
    /// An optional out-parameter: NULL means the caller does not want the value.
    pub(crate) fn optional(p: *mut T) -> Self {
        Out(p)
    }
    pub(crate) fn write(self, value: T) {
        if !self.0.is_null() {
            // SAFETY: checked non-NULL; the caller passes a writable slot.
            unsafe { self.0.write(value) };
        }
    }
}

/// A Rust string handed to C; freed with wasmhost_string_free().
pub(crate) fn string_out(s: String) -> FfiResult<*mut c_char> {
    CString::new(s)
        .map(CString::into_raw)
        .map_err(|_| FfiError::internal("string with an interior NUL byte"))
}

/// A byte buffer handed to C; freed with wasmhost_bytes_free(). Empty buffers are `(NULL, 0)`.
pub(crate) fn bytes_out(v: Vec<u8>) -> (*mut u8, usize) {
    if v.is_empty() {
        return (std::ptr::null_mut(), 0);
    }
    let len = v.len();
    (Box::into_raw(v.into_boxed_slice()) as *mut u8, len)
}

/// A JSON object of string values (annotations, link values); NULL means empty.
pub(crate) fn string_map_arg(p: *const c_char, what: &str) -> FfiResult<HashMap<String, String>> {
    match opt_str_arg(p, what)? {
        None => Ok(HashMap::new()),
        Some(text) => serde_json::from_str(text).map_err(|e| {
            FfiError::invalid(format!(
                "{what} must be a JSON object of string values: {e}"
            ))
        }),
    }
}

/// An actor instance count (the host's counts are 16-bit).
pub(crate) fn count_arg(count: u32, what: &str) -> FfiResult<u16> {
    u16::try_from(count)
        .map_err(|_| FfiError::invalid(format!("{what} {count} is larger than {}", u16::MAX)))
}

/// Frees a string returned by this library. NULL is a no-op.
#[no_mangle]
pub extern "C" fn wasmhost_string_free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: a string this library returned through `char **`, freed once.
        drop(unsafe { CString::from_raw(s) });
    }
}

/// Frees a byte buffer returned by this library, with the length it was returned with.
/// NULL is a no-op (empty buffers are returned as NULL with length 0).
#[no_mangle]
pub extern "C" fn wasmhost_bytes_free(data: *mut u8, len: usize) {
    if !data.is_null() {
        // SAFETY: a buffer this library returned with this length, freed once.
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(data, len)) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_and_empty_is_null() {
        let (p, n) = bytes_out(b"abc".to_vec());
        assert_eq!(unsafe { std::slice::from_raw_parts(p, n) }, b"abc");
        wasmhost_bytes_free(p, n);
        assert_eq!(bytes_out(Vec::new()), (std::ptr::null_mut(), 0));
        assert!(bytes_arg(std::ptr::null(), 3, "payload").is_err());
        assert_eq!(bytes_arg(std::ptr::null(), 0, "payload").unwrap(), b"");
    }

    #[test]
    fn string_maps_must_be_objects_of_strings() {
        assert!(string_map_arg(c"{\"a\":\"b\"}".as_ptr(), "x")
            .unwrap()
            .contains_key("a"));
        assert!(string_map_arg(c"{\"a\":1}".as_ptr(), "x").is_err());
        assert!(string_map_arg(c"[".as_ptr(), "x").is_err());
        assert!(string_map_arg(std::ptr::null(), "x").unwrap().is_empty());
    }
}
