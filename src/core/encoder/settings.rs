//! Encode settings as the caller gives them (`EncodeOptions` in the JS API). How they reach FFmpeg,
//! checked against its option tables: `av_options.rs`.

use crate::core::convert::color::{ColorMatrix, ColorRange, ColorSpec};
use crate::core::error::{EncodeError, Result};

/// One option value as given by the caller.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionValue {
    Str(String),
    Num(f64),
    Bool(bool),
}

impl OptionValue {
    /// The string FFmpeg's option parser takes.
    pub fn to_ffmpeg_string(&self) -> String {
        match self {
            OptionValue::Str(s) => s.clone(),
            OptionValue::Bool(b) => (if *b { "1" } else { "0" }).to_string(),
            OptionValue::Num(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => format!("{}", *n as i64),
            OptionValue::Num(n) => format!("{n}"),
        }
    }

    pub(super) fn as_number(&self) -> Option<f64> {
        match self {
            OptionValue::Num(n) => Some(*n),
            OptionValue::Bool(b) => Some(*b as u8 as f64),
            OptionValue::Str(s) => s.trim().parse::<f64>().ok().filter(|n| n.is_finite()),
        }
    }

    pub(super) fn describe(&self) -> String {
        match self {
            OptionValue::Str(s) => format!("'{s}'"),
            other => other.to_ffmpeg_string(),
        }
    }
}

/// A preset: a name (`'medium'`) or a number for encoders that number their presets (SVT-AV1).
pub type Preset = OptionValue;

/// What to encode with; every field optional (`EncodeOptions` in the JS API).
#[derive(Debug, Clone, Default)]
pub struct EncodeSettings {
    pub codec: Option<String>,
    pub pixel_format: Option<String>,
    pub crf: Option<f64>,
    pub preset: Option<Preset>,
    /// Codec, private and muxer options by FFmpeg name, in the order given.
    pub extra: Vec<(String, OptionValue)>,
}

/// An audio track beside the video (`AudioTrackOptions` in the JS API, without the samples).
#[derive(Debug, Clone, PartialEq)]
pub struct AudioSettings {
    /// Of the samples given (1..=768000).
    pub sample_rate: u32,
    /// Interleaved channels of the samples given.
    pub channels: u32,
    /// The audio encoder or codec name; the container's default when `None`.
    pub codec: Option<String>,
    /// Bits per second; the encoder's default when `None`.
    pub bit_rate: Option<u64>,
    /// Options of the audio encoder by FFmpeg name, in the order given.
    pub extra: Vec<(String, OptionValue)>,
}

/// Keys of `extraOptions` that framecodec handles itself (they change the conversion, not only a field).
pub(super) const COLOR_KEYS: [&str; 2] = ["colorspace", "color_range"];

impl EncodeSettings {
    /// The conversion matrix and range: BT.709 limited unless `extraOptions` says otherwise.
    pub fn color_spec(&self) -> Result<ColorSpec> {
        let mut spec = ColorSpec::default();
        for (key, value) in self.extra.iter().filter(|(k, _)| COLOR_KEYS.contains(&k.as_str())) {
            let name = match value {
                OptionValue::Str(s) => s.as_str(),
                other => {
                    return Err(EncodeError::invalid_option(format!(
                        "extraOptions.{key} must be a name, got {}",
                        other.describe()
                    )))
                }
            };
            match key.as_str() {
                "colorspace" => spec.matrix = ColorMatrix::parse(name)?,
                "color_range" => spec.range = ColorRange::parse(name)?,
                _ => {}
            }
        }
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::error::ErrorCode;

    #[test]
    fn values_format_for_ffmpeg() {
        assert_eq!(OptionValue::Num(23.0).to_ffmpeg_string(), "23");
        assert_eq!(OptionValue::Num(18.5).to_ffmpeg_string(), "18.5");
        assert_eq!(OptionValue::Bool(true).to_ffmpeg_string(), "1");
        assert_eq!(OptionValue::Str("film".into()).to_ffmpeg_string(), "film");
    }

    #[test]
    fn color_spec_from_extra_options() {
        let mut s = EncodeSettings::default();
        assert_eq!(s.color_spec().unwrap(), ColorSpec::default());
        s.extra = vec![
            ("colorspace".into(), OptionValue::Str("bt470bg".into())),
            ("color_range".into(), OptionValue::Str("pc".into())),
        ];
        let spec = s.color_spec().unwrap();
        assert_eq!((spec.matrix, spec.range), (ColorMatrix::Bt470bg, ColorRange::Full));
        s.extra = vec![("colorspace".into(), OptionValue::Num(1.0))];
        assert_eq!(s.color_spec().unwrap_err().code, ErrorCode::InvalidOption);
    }
}
