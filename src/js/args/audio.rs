//! `AudioTrackOptions` (the `audio` option of `VideoEncoder` and `VideoWriter`) and the samples of
//! `audio.samples` / `writeAudio()`: `Float32Array` interleaved or `Float32Array[]` planar, copied at
//! once (audio is small beside video, and a copy can never be detached under the encoder) and
//! interleaved, so both forms give the same bytes.

use crate::core::{
    first_non_finite, number_text, AudioSettings, EncodeError, ErrorCode, MAX_CHANNELS, MAX_SAMPLE_RATE,
};

use super::options::{extra_options, integer_option};
use crate::js::errors::Failure;
use crate::js::node_api::JsVal;

const KEYS: &[&str] = &["sampleRate", "channels", "codec", "bitRate", "extraOptions"];

fn failure(code: ErrorCode, message: String) -> Failure {
    Failure::Encode(EncodeError::new(code, message))
}

/// A parsed `audio` option: the track's settings, and `VideoEncoder`'s samples (interleaved).
pub type AudioOption = (AudioSettings, Option<Vec<f32>>);

/// The `audio` option: `None` when absent. `samples` is read for `VideoEncoder` (its key is allowed
/// only then) and returned interleaved.
pub fn parse(audio: JsVal, with_samples: bool) -> Result<Option<AudioOption>, Failure> {
    if audio.is_nullish() {
        return Ok(None);
    }
    if !audio.is_object() || audio.is_array() {
        return Err(failure(
            ErrorCode::InvalidArgType,
            format!("options.audio must be an object {{ sampleRate, channels, … }}, got {}", audio.describe_type()),
        ));
    }
    for key in audio.keys()? {
        if key == "samples" && !with_samples {
            return Err(failure(
                ErrorCode::InvalidOption,
                "audio.samples is for VideoEncoder: a VideoWriter takes its samples through writeAudio()".into(),
            ));
        }
        if !KEYS.contains(&key.as_str()) && key != "samples" {
            let mut names = KEYS.to_vec();
            if with_samples {
                names.insert(0, "samples");
            }
            return Err(failure(
                ErrorCode::InvalidOption,
                format!("unknown option '{key}' in audio; its options are: {}", names.join(", ")),
            ));
        }
    }
    let sample_rate =
        integer_option(audio.get("sampleRate")?, "audio.sampleRate", 1, MAX_SAMPLE_RATE as u64, "samples per second")?
            as u32;
    let channels = channel_count(audio.get("channels")?)?;
    let codec = match audio.get("codec")? {
        v if v.is_nullish() => None,
        v => Some(v.string().ok_or_else(|| {
            failure(ErrorCode::InvalidArgType, format!("audio.codec must be a string, got {}", v.describe_type()))
        })?),
    };
    let bit_rate = match audio.get("bitRate")? {
        v if v.is_nullish() => None,
        v => Some(integer_option(v, "audio.bitRate", 1, 10_000_000, "bits per second")?),
    };
    let extra = extra_options(audio.get("extraOptions")?, "audio.extraOptions")?;
    let settings = AudioSettings { sample_rate, channels, codec, bit_rate, extra };
    let samples = match with_samples {
        true => {
            let given = audio.get("samples")?;
            if given.is_nullish() {
                return Err(failure(
                    ErrorCode::InvalidArgType,
                    "audio.samples must be a Float32Array (interleaved) or an array of Float32Array (one per channel), got undefined".into(),
                ));
            }
            Some(samples(given, channels, "audio.samples")?)
        }
        false => None,
    };
    Ok(Some((settings, samples)))
}

/// Samples for a track of `channels`: a `Float32Array` of `channels` × n interleaved values, or an
/// array of `channels` `Float32Array`s of n values each. Returned interleaved; every value finite.
/// `name` is how messages call the argument (`samples`, `audio.samples`).
pub fn samples(given: JsVal, channels: u32, name: &str) -> Result<Vec<f32>, Failure> {
    let ch = channels as usize;
    let wrong_type = |got: String| {
        failure(
            ErrorCode::InvalidArgType,
            format!(
                "{name} must be a Float32Array (interleaved) or an array of Float32Array (one per channel), got {got}"
            ),
        )
    };
    let interleaved = if let Some(arrays) = planes_of(given, name)? {
        let mut planes = Vec::with_capacity(arrays.len());
        for (c, array) in arrays.iter().enumerate() {
            planes.push(float32(*array, &format!("{name}[{c}]")).map_err(|e| match e {
                Some(f) => f,
                None => wrong_type(format!("an array holding {} at index {c}", array.describe_type())),
            })?);
        }
        if planes.len() != ch {
            let arrays = if planes.len() == 1 { "array" } else { "arrays" };
            return Err(failure(
                ErrorCode::InvalidArgValue,
                format!("{name} has {} channel {arrays}, but the audio track has {channels} channels", planes.len()),
            ));
        }
        let n = planes[0].len();
        if let Some((c, p)) = planes.iter().enumerate().find(|(_, p)| p.len() != n) {
            return Err(failure(
                ErrorCode::InvalidArgValue,
                format!(
                    "{name}[{c}] has {} samples but {name}[0] has {n}: every channel needs the same number of samples",
                    p.len()
                ),
            ));
        }
        let mut out = Vec::with_capacity(n * ch);
        for i in 0..n {
            out.extend(planes.iter().map(|p| p[i]));
        }
        if let Some(k) = first_non_finite(&out) {
            let (c, i) = (k % ch, k / ch);
            return Err(not_finite(format!("{name}[{c}][{i}] (channel {c}, sample {i})"), out[k]));
        }
        out
    } else {
        let values = float32(given, name).map_err(|e| e.unwrap_or_else(|| wrong_type(given.describe_type())))?;
        if values.len() % ch != 0 {
            return Err(failure(
                ErrorCode::InvalidArgValue,
                format!(
                    "{name} has {} values, not a multiple of the {channels} channels: interleaved samples hold channels × n values",
                    values.len()
                ),
            ));
        }
        if let Some(k) = first_non_finite(&values) {
            return Err(not_finite(format!("{name}[{k}] (channel {}, sample {})", k % ch, k / ch), values[k]));
        }
        values
    };
    Ok(interleaved)
}

fn not_finite(at: String, value: f32) -> Failure {
    let value = number_text(value as f64);
    failure(
        ErrorCode::InvalidArgValue,
        format!("{at} is {value}: samples must be finite numbers, in [-1, 1]; nothing of this call was written"),
    )
}

/// The channel arrays of planar samples (an Array), or `None` for what may be interleaved samples.
/// What only looks like one of the two (a Proxy of an Array or of a Float32Array, which Node-API does
/// not see as either, or an array-like `{ length, 0: … }`) is refused here, saying so: its own
/// description would name what it imitates.
fn planes_of(given: JsVal, name: &str) -> Result<Option<Vec<JsVal>>, Failure> {
    if given.is_array() {
        return Ok(Some(given.elements()?));
    }
    if !given.is_object() || given.typed_array().is_some() {
        return Ok(None);
    }
    let described = given.describe_type();
    let looks_like = if described.ends_with("Array") {
        format!(
            "an object that only looks like a{} {described} (a Proxy of one, or an object inheriting its prototype)",
            if described == "Array" { "n" } else { "" }
        )
    } else if given.get("length")?.number().is_some() {
        format!("an array-like {described} (an object with a length, or a Proxy), not an Array")
    } else {
        return Ok(None);
    };
    Err(failure(
        ErrorCode::InvalidArgType,
        format!(
            "{name} must be a Float32Array (interleaved) or an Array of Float32Array (one per channel), got {looks_like}: pass the array itself"
        ),
    ))
}

/// A Float32Array's values; `Err(None)` when `value` is not one, `Err(Some)` when it is detached.
fn float32(value: JsVal, name: &str) -> Result<Vec<f32>, Option<Failure>> {
    let values = value.float32_copy().ok_or(None)?;
    if values.is_empty() {
        let detached = value.typed_array_buffer().map(|(buffer, _)| buffer.is_detached_array_buffer()).unwrap_or(false);
        if detached {
            return Err(Some(failure(
                ErrorCode::InvalidArgValue,
                format!("{name}'s ArrayBuffer is detached (it was transferred, e.g. by postMessage or structuredClone): pass samples whose memory is still attached"),
            )));
        }
    }
    Ok(values)
}

/// `audio.channels`: an integer in 1..=MAX_CHANNELS (the encoder may allow fewer: checked when it opens).
fn channel_count(value: JsVal) -> Result<u32, Failure> {
    let Some(n) = value.number() else {
        return Err(failure(
            ErrorCode::InvalidArgType,
            format!("audio.channels must be a number (1 = mono, 2 = stereo, …), got {}", value.describe_type()),
        ));
    };
    if n.fract() != 0.0 || !(1.0..=MAX_CHANNELS as f64).contains(&n) {
        return Err(failure(
            ErrorCode::InvalidArgValue,
            format!("audio.channels must be an integer from 1 to {MAX_CHANNELS}, got {}", number_text(n)),
        ));
    }
    Ok(n as u32)
}
