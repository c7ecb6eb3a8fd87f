//! errno → Node's name for it (`ENOENT`, `ENAMETOOLONG`, `ENOSPC`, …), for the `code` of system errors.
//!
//! The table holds every name libuv maps (the codes Node itself reports) plus the other POSIX ones;
//! on glibc any errno missing from it is named by `strerrorname_np`. An errno nobody can name gets
//! Node's own code for that case, `UNKNOWN` (its `errno` is still the OS's number).

use std::borrow::Cow;

const NAMES: &[(i32, &str)] = &[
    (libc::E2BIG, "E2BIG"),
    (libc::EACCES, "EACCES"),
    (libc::EADDRINUSE, "EADDRINUSE"),
    (libc::EADDRNOTAVAIL, "EADDRNOTAVAIL"),
    (libc::EAFNOSUPPORT, "EAFNOSUPPORT"),
    (libc::EAGAIN, "EAGAIN"),
    (libc::EALREADY, "EALREADY"),
    (libc::EBADF, "EBADF"),
    (libc::EBADMSG, "EBADMSG"),
    (libc::EBUSY, "EBUSY"),
    (libc::ECANCELED, "ECANCELED"),
    (libc::ECHILD, "ECHILD"),
    (libc::ECONNABORTED, "ECONNABORTED"),
    (libc::ECONNREFUSED, "ECONNREFUSED"),
    (libc::ECONNRESET, "ECONNRESET"),
    (libc::EDEADLK, "EDEADLK"),
    (libc::EDESTADDRREQ, "EDESTADDRREQ"),
    (libc::EDOM, "EDOM"),
    (libc::EDQUOT, "EDQUOT"),
    (libc::EEXIST, "EEXIST"),
    (libc::EFAULT, "EFAULT"),
    (libc::EFBIG, "EFBIG"),
    (libc::EHOSTDOWN, "EHOSTDOWN"),
    (libc::EHOSTUNREACH, "EHOSTUNREACH"),
    (libc::EIDRM, "EIDRM"),
    (libc::EILSEQ, "EILSEQ"),
    (libc::EINPROGRESS, "EINPROGRESS"),
    (libc::EINTR, "EINTR"),
    (libc::EINVAL, "EINVAL"),
    (libc::EIO, "EIO"),
    (libc::EISCONN, "EISCONN"),
    (libc::EISDIR, "EISDIR"),
    (libc::ELOOP, "ELOOP"),
    (libc::EMFILE, "EMFILE"),
    (libc::EMLINK, "EMLINK"),
    (libc::EMSGSIZE, "EMSGSIZE"),
    (libc::ENAMETOOLONG, "ENAMETOOLONG"),
    (libc::ENETDOWN, "ENETDOWN"),
    (libc::ENETRESET, "ENETRESET"),
    (libc::ENETUNREACH, "ENETUNREACH"),
    (libc::ENFILE, "ENFILE"),
    (libc::ENOBUFS, "ENOBUFS"),
    (libc::ENODATA, "ENODATA"),
    (libc::ENODEV, "ENODEV"),
    (libc::ENOENT, "ENOENT"),
    (libc::ENOEXEC, "ENOEXEC"),
    (libc::ENOLCK, "ENOLCK"),
    (libc::ENOMEM, "ENOMEM"),
    (libc::ENOMSG, "ENOMSG"),
    (libc::ENOPROTOOPT, "ENOPROTOOPT"),
    (libc::ENOSPC, "ENOSPC"),
    (libc::ENOSYS, "ENOSYS"),
    (libc::ENOTCONN, "ENOTCONN"),
    (libc::ENOTDIR, "ENOTDIR"),
    (libc::ENOTEMPTY, "ENOTEMPTY"),
    (libc::ENOTSOCK, "ENOTSOCK"),
    (libc::ENOTSUP, "ENOTSUP"),
    (libc::ENOTTY, "ENOTTY"),
    (libc::ENXIO, "ENXIO"),
    (libc::EOVERFLOW, "EOVERFLOW"),
    (libc::EPERM, "EPERM"),
    (libc::EPIPE, "EPIPE"),
    (libc::EPROTO, "EPROTO"),
    (libc::EPROTONOSUPPORT, "EPROTONOSUPPORT"),
    (libc::EPROTOTYPE, "EPROTOTYPE"),
    (libc::ERANGE, "ERANGE"),
    (libc::EROFS, "EROFS"),
    (libc::ESHUTDOWN, "ESHUTDOWN"),
    (libc::ESPIPE, "ESPIPE"),
    (libc::ESRCH, "ESRCH"),
    (libc::ESTALE, "ESTALE"),
    (libc::ETIMEDOUT, "ETIMEDOUT"),
    (libc::ETXTBSY, "ETXTBSY"),
    (libc::EXDEV, "EXDEV"),
];

/// Node's `code` for an errno: `ENOSPC` for 28 on Linux, and so on.
pub fn errno_name(errno: i32) -> Cow<'static, str> {
    if let Some((_, name)) = NAMES.iter().find(|(n, _)| *n == errno) {
        return Cow::Borrowed(name);
    }
    libc_name(errno).map(Cow::Owned).unwrap_or(Cow::Borrowed("UNKNOWN"))
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn libc_name(errno: i32) -> Option<String> {
    extern "C" {
        // glibc ≥ 2.32: the errno's macro name ("EREMOTEIO"), or null for an unknown number.
        fn strerrorname_np(errnum: libc::c_int) -> *const libc::c_char;
    }
    // SAFETY: strerrorname_np takes any int and returns null or a static NUL-terminated string.
    let name = unsafe { strerrorname_np(errno) };
    // SAFETY: non-null, so a static C string (see above).
    (!name.is_null()).then(|| unsafe { std::ffi::CStr::from_ptr(name) }.to_string_lossy().into_owned())
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn libc_name(_errno: i32) -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_every_errno_the_os_has() {
        assert_eq!(errno_name(libc::ENAMETOOLONG), "ENAMETOOLONG");
        assert_eq!(errno_name(libc::ENOSPC), "ENOSPC");
        assert_eq!(errno_name(libc::EDQUOT), "EDQUOT");
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        assert_eq!(errno_name(libc::EREMOTEIO), "EREMOTEIO");
        assert_eq!(errno_name(100_000), "UNKNOWN");
    }
}
