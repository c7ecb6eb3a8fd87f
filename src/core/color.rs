//! The RGB→YUV conversion's matrix and range, which are also written into the stream's color tags.
//!
//! Why one type for both: a stream tagged BT.709 but converted with BT.601 (swscale's default) shows
//! shifted colors in every player that honours tags. So the matrix and range we convert with are the
//! ones we tag, always. Default: BT.709, limited ("tv") range, as HD video is expected to be.

use ffmpeg_next::ffi;

use super::error::{EncodeError, Result};

/// The YUV matrix (`extraOptions.colorspace`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorMatrix {
    Bt709,
    Bt470bg,
    Smpte170m,
    Fcc,
    Smpte240m,
    Bt2020nc,
}

/// The YUV range (`extraOptions.color_range`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorRange {
    /// 16–235 (luma), "tv" / "mpeg".
    Limited,
    /// 0–255, "pc" / "jpeg".
    Full,
}

pub const MATRIX_NAMES: &str = "bt709, bt470bg, smpte170m, fcc, smpte240m, bt2020nc";
pub const RANGE_NAMES: &str = "tv, pc";

impl ColorMatrix {
    pub fn parse(name: &str) -> Result<ColorMatrix> {
        Ok(match name {
            "bt709" => ColorMatrix::Bt709,
            "bt470bg" | "bt601" => ColorMatrix::Bt470bg,
            "smpte170m" => ColorMatrix::Smpte170m,
            "fcc" => ColorMatrix::Fcc,
            "smpte240m" => ColorMatrix::Smpte240m,
            "bt2020nc" | "bt2020_ncl" => ColorMatrix::Bt2020nc,
            other => {
                return Err(EncodeError::invalid_option(format!(
                    "extraOptions.colorspace '{other}' is not supported: allowed values are {MATRIX_NAMES}"
                )))
            }
        })
    }

    /// FFmpeg's `AVColorSpace`; its numeric value also indexes swscale's coefficient table.
    pub fn av_colorspace(self) -> ffi::AVColorSpace {
        match self {
            ColorMatrix::Bt709 => ffi::AVColorSpace::AVCOL_SPC_BT709,
            ColorMatrix::Bt470bg => ffi::AVColorSpace::AVCOL_SPC_BT470BG,
            ColorMatrix::Smpte170m => ffi::AVColorSpace::AVCOL_SPC_SMPTE170M,
            ColorMatrix::Fcc => ffi::AVColorSpace::AVCOL_SPC_FCC,
            ColorMatrix::Smpte240m => ffi::AVColorSpace::AVCOL_SPC_SMPTE240M,
            ColorMatrix::Bt2020nc => ffi::AVColorSpace::AVCOL_SPC_BT2020_NCL,
        }
    }

    /// Luma weights (Kr, Kb) of the matrix, for reference conversions in tests and GPU kernels.
    pub fn kr_kb(self) -> (f64, f64) {
        match self {
            ColorMatrix::Bt709 => (0.2126, 0.0722),
            ColorMatrix::Bt470bg | ColorMatrix::Smpte170m => (0.299, 0.114),
            ColorMatrix::Fcc => (0.30, 0.11),
            ColorMatrix::Smpte240m => (0.212, 0.087),
            ColorMatrix::Bt2020nc => (0.2627, 0.0593),
        }
    }
}

impl ColorRange {
    pub fn parse(name: &str) -> Result<ColorRange> {
        Ok(match name {
            "tv" | "mpeg" | "limited" => ColorRange::Limited,
            "pc" | "jpeg" | "full" => ColorRange::Full,
            other => {
                return Err(EncodeError::invalid_option(format!(
                    "extraOptions.color_range '{other}' is not supported: allowed values are {RANGE_NAMES}"
                )))
            }
        })
    }

    pub fn av_range(self) -> ffi::AVColorRange {
        match self {
            ColorRange::Limited => ffi::AVColorRange::AVCOL_RANGE_MPEG,
            ColorRange::Full => ffi::AVColorRange::AVCOL_RANGE_JPEG,
        }
    }
}

/// Matrix and range of one encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColorSpec {
    pub matrix: ColorMatrix,
    pub range: ColorRange,
}

impl Default for ColorSpec {
    fn default() -> Self {
        ColorSpec { matrix: ColorMatrix::Bt709, range: ColorRange::Limited }
    }
}

impl ColorSpec {
    /// The exact (unrounded) Y, Cb, Cr of an RGB pixel under this spec: the reference the converters
    /// (CPU and GPU) are tested against.
    pub fn reference_yuv(self, r: u8, g: u8, b: u8) -> (f64, f64, f64) {
        let (kr, kb) = self.matrix.kr_kb();
        let kg = 1.0 - kr - kb;
        let (r, g, b) = (r as f64 / 255.0, g as f64 / 255.0, b as f64 / 255.0);
        let y = kr * r + kg * g + kb * b;
        let cb = (b - y) / (2.0 * (1.0 - kb));
        let cr = (r - y) / (2.0 * (1.0 - kr));
        match self.range {
            ColorRange::Limited => (16.0 + 219.0 * y, 128.0 + 224.0 * cb, 128.0 + 224.0 * cr),
            ColorRange::Full => (255.0 * y, 128.0 + 255.0 * cb, 128.0 + 255.0 * cr),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_refuses_others() {
        assert_eq!(ColorMatrix::parse("bt709").unwrap(), ColorMatrix::Bt709);
        assert_eq!(ColorRange::parse("pc").unwrap(), ColorRange::Full);
        let err = ColorMatrix::parse("ycgco").unwrap_err();
        assert!(err.message.contains("bt709"), "{}", err.message);
    }

    #[test]
    fn reference_white_and_black() {
        let tv = ColorSpec::default();
        let (y, u, v) = tv.reference_yuv(255, 255, 255);
        assert!((y - 235.0).abs() < 1e-9 && (u - 128.0).abs() < 1e-9 && (v - 128.0).abs() < 1e-9);
        let (y, _, _) = tv.reference_yuv(0, 0, 0);
        assert!((y - 16.0).abs() < 1e-9);
    }
}
