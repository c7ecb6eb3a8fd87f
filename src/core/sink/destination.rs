//! Turning a `toFile` destination (a path or a `file:` URL) into a local path.
//!
//! Why: FFmpeg's own file opening goes through its protocol layer, where `http://…`, `pipe:1` or
//! `rtmp://…` would make a "file" encode talk to the network or to a file descriptor. We never hand
//! FFmpeg a name: we open the file ourselves, and refuse anything that looks like a URL other than `file:`.

use std::path::PathBuf;

use crate::core::error::{EncodeError, Result};

/// The local file a destination names. `file:` URLs are decoded; any other URL scheme is refused.
pub fn local_path(dest: &str) -> Result<PathBuf> {
    if dest.is_empty() || dest.contains('\0') {
        return Err(EncodeError::invalid_value("dest must be a non-empty file path without NUL bytes"));
    }
    match url_scheme(dest) {
        None => Ok(PathBuf::from(dest)),
        Some(scheme) if scheme.eq_ignore_ascii_case("file") => file_url_path(dest),
        Some(scheme) => Err(EncodeError::invalid_value(format!(
            "dest '{dest}' is a {scheme}: URL; toFile writes local files only (a path or a file: URL); use toStream or toBuffer for other destinations"
        ))),
    }
}

/// The scheme of `s` if it starts like a URL (`scheme:` with a scheme of two or more characters, so a
/// Windows drive letter `C:` is not a scheme).
fn url_scheme(s: &str) -> Option<&str> {
    let colon = s.find(':')?;
    let scheme = &s[..colon];
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (scheme.len() >= 2 && first.is_ascii_alphabetic() && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)))
        .then_some(scheme)
}

fn file_url_path(url: &str) -> Result<PathBuf> {
    let rest = &url[5..]; // after "file:"
    let path = if let Some(after) = rest.strip_prefix("//") {
        let slash = after.find('/').unwrap_or(after.len());
        let host = &after[..slash];
        if !host.is_empty() && !host.eq_ignore_ascii_case("localhost") {
            return Err(EncodeError::invalid_value(format!(
                "dest '{url}' names host '{host}'; file: URLs must be local (file:///path)"
            )));
        }
        &after[slash..]
    } else {
        rest
    };
    let path = path.split(['?', '#']).next().unwrap_or("");
    if !path.starts_with('/') {
        return Err(EncodeError::invalid_value(format!("dest '{url}' is not an absolute file: URL")));
    }
    Ok(PathBuf::from(percent_decode(path, url)?))
}

fn percent_decode(s: &str, url: &str) -> Result<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(b) if b != 0 && b != b'/' => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                _ => return Err(EncodeError::invalid_value(format!("dest '{url}' has an invalid percent-escape"))),
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out)
        .map_err(|_| EncodeError::invalid_value(format!("dest '{url}' is not valid UTF-8 once decoded")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ErrorCode;

    #[test]
    fn plain_paths_pass_through() {
        assert_eq!(local_path("out/video.mp4").unwrap(), PathBuf::from("out/video.mp4"));
        assert_eq!(local_path("/tmp/a:b.mp4").unwrap(), PathBuf::from("/tmp/a:b.mp4"));
        assert_eq!(local_path("C:\\videos\\a.mp4").unwrap(), PathBuf::from("C:\\videos\\a.mp4"));
    }

    #[test]
    fn file_urls_are_decoded() {
        assert_eq!(local_path("file:///tmp/my%20video.mp4").unwrap(), PathBuf::from("/tmp/my video.mp4"));
        assert_eq!(local_path("file://localhost/tmp/a.mp4").unwrap(), PathBuf::from("/tmp/a.mp4"));
        assert_eq!(local_path("FILE:/tmp/a.mp4").unwrap(), PathBuf::from("/tmp/a.mp4"));
    }

    #[test]
    fn other_schemes_and_remote_hosts_are_refused() {
        for bad in [
            "http://example.com/a.mp4",
            "pipe:1",
            "rtmp://x/y",
            "tcp://127.0.0.1:9/a.mp4",
            "file://server/a.mp4",
            "file:///a%2Fb.mp4",
            "",
        ] {
            let err = local_path(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidArgValue, "{bad}");
        }
        assert!(local_path("pipe:1").unwrap_err().message.contains("pipe"));
    }
}
