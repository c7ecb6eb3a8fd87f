//! `EncodeOptions` from JS → core `EncodeSettings`, plus the JS-only parts (signal, onProgress).

use crate::core::{number_text, EncodeError, EncodeSettings, ErrorCode, OptionValue};

use crate::js::errors::Failure;
use crate::js::node_api::JsVal;

/// Parsed options of one encode call.
pub struct CallOptions {
    pub settings: EncodeSettings,
    /// An AbortSignal (checked to have `aborted` and `addEventListener`).
    pub signal: Option<JsVal>,
    pub on_progress: Option<JsVal>,
    /// `toStream`'s `end` (default true).
    pub end: bool,
}

fn type_error(message: String) -> Failure {
    Failure::Encode(EncodeError::new(ErrorCode::InvalidArgType, message))
}

fn option_error(message: String) -> Failure {
    Failure::Encode(EncodeError::invalid_option(message))
}

const KNOWN_KEYS: &[&str] = &["codec", "pixelFormat", "crf", "preset", "extraOptions", "signal", "onProgress"];
/// Only `toStream` takes `end`.
const STREAM_KEYS: &[&str] = &["end"];

/// The options of `method` (`toFile`, `toBuffer` or `toStream`).
pub fn parse(options: Option<JsVal>, method: &str) -> Result<CallOptions, Failure> {
    parse_with(options, method, &[])
}

/// The options of `method`, which also takes the keys `own` (read by its caller).
pub fn parse_with(options: Option<JsVal>, method: &str, own: &[&str]) -> Result<CallOptions, Failure> {
    let mut out = CallOptions { settings: EncodeSettings::default(), signal: None, on_progress: None, end: true };
    let Some(options) = options.filter(|o| !o.is_nullish()) else {
        return Ok(out);
    };
    if !options.is_object() {
        return Err(type_error(format!("options must be an object, got {}", options.describe_type())));
    }
    let streaming = method.ends_with("toStream");
    for key in options.keys()? {
        let known = own.contains(&key.as_str())
            || KNOWN_KEYS.contains(&key.as_str())
            || (streaming && STREAM_KEYS.contains(&key.as_str()));
        if !known {
            let mut names: Vec<&str> = own.to_vec();
            names.extend(KNOWN_KEYS);
            if streaming {
                names.extend(STREAM_KEYS);
            }
            let only_streams = if STREAM_KEYS.contains(&key.as_str()) { " (only toStream takes it)" } else { "" };
            return Err(option_error(format!(
                "unknown option '{key}' for {method}{only_streams}; its options are: {}",
                names.join(", ")
            )));
        }
    }
    out.settings.codec = optional_string(options, "codec")?;
    out.settings.pixel_format = optional_string(options, "pixelFormat")?;
    let crf = options.get("crf")?;
    if !crf.is_nullish() {
        match crf.number() {
            Some(n) if n.is_finite() => out.settings.crf = Some(n),
            _ => return Err(type_error(format!("crf must be a finite number, got {}", crf.describe_type()))),
        }
    }
    let preset = options.get("preset")?;
    if !preset.is_nullish() {
        out.settings.preset = Some(match (preset.string(), preset.number()) {
            (Some(s), _) => OptionValue::Str(s),
            (_, Some(n)) => OptionValue::Num(n),
            _ => {
                return Err(type_error(format!("preset must be a string or a number, got {}", preset.describe_type())))
            }
        });
    }
    out.settings.extra = extra_options(options.get("extraOptions")?, "extraOptions")?;
    let signal = options.get("signal")?;
    if !signal.is_nullish() {
        // A look-alike (`Object.create(AbortSignal.prototype)`) throws Node's ERR_INVALID_THIS from
        // the getter: that is the same wrong type as any other non-signal.
        let aborted = signal.is_object().then(|| signal.get("aborted")).and_then(|got| match got {
            Ok(v) => v.boolean(),
            Err(_) => {
                crate::js::node_api::take_exception(signal.env);
                None
            }
        });
        if aborted.is_none() || !signal.get("addEventListener")?.is_function() {
            let got = match signal.describe_type() {
                name if name == "AbortSignal" => "an object that only inherits from AbortSignal.prototype".to_string(),
                name => name,
            };
            return Err(type_error(format!("signal must be an AbortSignal, got {got}")));
        }
        out.signal = Some(signal);
    }
    let on_progress = options.get("onProgress")?;
    if !on_progress.is_nullish() {
        if !on_progress.is_function() {
            return Err(type_error(format!("onProgress must be a function, got {}", on_progress.describe_type())));
        }
        out.on_progress = Some(on_progress);
    }
    let end = options.get("end")?;
    if !end.is_nullish() {
        out.end =
            end.boolean().ok_or_else(|| type_error(format!("end must be a boolean, got {}", end.describe_type())))?;
    }
    Ok(out)
}

/// `extraOptions` (named `name` in messages): FFmpeg option names → string, number or boolean, in order.
pub fn extra_options(extra: JsVal, name: &str) -> Result<Vec<(String, OptionValue)>, Failure> {
    let mut out = Vec::new();
    if extra.is_nullish() {
        return Ok(out);
    }
    if !extra.is_object() || extra.is_array() {
        return Err(type_error(format!("{name} must be an object, got {}", extra.describe_type())));
    }
    for key in extra.keys()? {
        let v = extra.get(&key)?;
        let value = if let Some(s) = v.string() {
            OptionValue::Str(s)
        } else if let Some(n) = v.number() {
            if !n.is_finite() {
                return Err(option_error(format!("{name}.{key} must be a finite number, got {n}")));
            }
            OptionValue::Num(n)
        } else if let Some(b) = v.boolean() {
            OptionValue::Bool(b)
        } else {
            return Err(option_error(format!(
                "{name}.{key} must be a string, number or boolean, got {}",
                v.describe_type()
            )));
        };
        out.push((key, value));
    }
    Ok(out)
}

fn optional_string(options: JsVal, key: &str) -> Result<Option<String>, Failure> {
    let v = options.get(key)?;
    if v.is_nullish() {
        return Ok(None);
    }
    v.string().map(Some).ok_or_else(|| type_error(format!("{key} must be a string, got {}", v.describe_type())))
}

/// An integer option in `min..=max`: `ERR_INVALID_ARG_TYPE` if not a number, `ERR_OUT_OF_RANGE` else.
pub fn integer_option(value: JsVal, name: &str, min: u64, max: u64, unit: &str) -> Result<u64, Failure> {
    let Some(n) = value.number() else {
        return Err(type_error(format!("{name} must be a number ({unit}), got {}", value.describe_type())));
    };
    if n.fract() != 0.0 || !(min as f64..=max as f64).contains(&n) {
        return Err(Failure::Encode(EncodeError::new(
            ErrorCode::OutOfRange,
            format!("{name} must be an integer from {min} to {max} ({unit}), got {}", number_text(n)),
        )));
    }
    Ok(n as u64)
}
