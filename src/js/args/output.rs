//! Where an encode writes: `toFile`'s destination and the `format` of `toBuffer` / `toStream`.

use std::path::PathBuf;

use crate::core::{local_path, Container, EncodeError, ErrorCode};
use crate::js::errors::Failure;
use crate::js::node_api::JsVal;

/// The container named by the `format` argument of `toBuffer` / `toStream`.
pub fn container(format: JsVal) -> Result<Container, Failure> {
    let name = format.string().ok_or_else(|| {
        Failure::Encode(EncodeError::new(
            ErrorCode::InvalidArgType,
            format!("format must be a string, got {}", format.describe_type()),
        ))
    })?;
    Ok(Container::resolve(&name)?)
}

/// The local file `toFile` writes, from a path string or a WHATWG `URL` (its `href`); other URLs are
/// refused (see `local_path`).
pub fn dest_path(dest: JsVal) -> Result<PathBuf, Failure> {
    Ok(local_path(&dest_string(dest)?)?)
}

fn dest_string(dest: JsVal) -> Result<String, Failure> {
    if let Some(s) = dest.string() {
        return Ok(s);
    }
    if dest.is_object() && dest.describe_type() == "URL" {
        if let Some(href) = dest.get("href")?.string() {
            return Ok(href);
        }
    }
    Err(Failure::Encode(EncodeError::new(
        ErrorCode::InvalidArgType,
        format!("dest must be a path string or a file: URL, got {}", dest.describe_type()),
    )))
}
