//! The RGB→YUV conversion's matrix and range, which are also written into the stream's color tags.
//!
//! Why one type for both: a stream tagged BT.709 but converted with BT.601 (swscale's default) shows
//! shifted colors in every player that honours tags. So the matrix and range we convert with are the
//! ones we tag, always. Default: BT.709, limited ("tv") range, as HD video is expected to be.
//!
//! The primaries and transfer are tagged too, those of the standard the matrix belongs to: Chromium
//! ignores a matrix tag whose primaries or transfer are "unspecified" and decodes H.264 and VP8 as
//! BT.601 (red (200,40,40) showed as (186,24,42)); `__test__/chromium.spec.mjs` checks it.

use ffmpeg_next::ffi;

use crate::core::error::{EncodeError, Result};

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

    /// The primaries of the standard this matrix comes from (FFmpeg's `vf_colorspace` presets):
    /// BT.601-625 (bt470bg) → EBU / BT.470 B,G; BT.601-525 (smpte170m) → SMPTE-C; fcc → BT.470 M.
    pub fn av_primaries(self) -> ffi::AVColorPrimaries {
        use ffi::AVColorPrimaries::*;
        match self {
            ColorMatrix::Bt709 => AVCOL_PRI_BT709,
            ColorMatrix::Bt470bg => AVCOL_PRI_BT470BG,
            ColorMatrix::Smpte170m => AVCOL_PRI_SMPTE170M,
            ColorMatrix::Fcc => AVCOL_PRI_BT470M,
            ColorMatrix::Smpte240m => AVCOL_PRI_SMPTE240M,
            ColorMatrix::Bt2020nc => AVCOL_PRI_BT2020,
        }
    }

    /// The transfer of that standard. BT.601 (525 and 625 lines) specifies the SMPTE 170M curve
    /// (H.273 transfer 6), not BT.470 B,G's analogue gamma 2.8; BT.2020 names its (BT.709) curve
    /// by bit depth.
    pub fn av_transfer(self, bit_depth: u32) -> ffi::AVColorTransferCharacteristic {
        use ffi::AVColorTransferCharacteristic::*;
        match self {
            ColorMatrix::Bt709 => AVCOL_TRC_BT709,
            ColorMatrix::Bt470bg | ColorMatrix::Smpte170m => AVCOL_TRC_SMPTE170M,
            ColorMatrix::Fcc => AVCOL_TRC_GAMMA22,
            ColorMatrix::Smpte240m => AVCOL_TRC_SMPTE240M,
            ColorMatrix::Bt2020nc if bit_depth > 10 => AVCOL_TRC_BT2020_12,
            ColorMatrix::Bt2020nc if bit_depth > 8 => AVCOL_TRC_BT2020_10,
            ColorMatrix::Bt2020nc => AVCOL_TRC_BT709,
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
    /// Writes matrix, range, primaries and transfer into an unopened encoder's context (which the
    /// stream's parameters are copied from). `extraOptions.color_primaries` / `color_trc`, set
    /// afterwards, override the last two.
    ///
    /// # Safety
    /// `ctx` is a live codec context.
    pub unsafe fn tag(self, ctx: *mut ffi::AVCodecContext, pixel_format: ffi::AVPixelFormat) {
        // SAFETY: a descriptor is a pointer into libavutil's static table, or null.
        let desc = unsafe { ffi::av_pix_fmt_desc_get(pixel_format) };
        let bit_depth = if desc.is_null() { 8 } else { unsafe { (*desc).comp[0].depth as u32 } };
        // SAFETY: the caller guarantees a live context; these are plain fields.
        unsafe {
            (*ctx).colorspace = self.matrix.av_colorspace();
            (*ctx).color_range = self.range.av_range();
            (*ctx).color_primaries = self.matrix.av_primaries();
            (*ctx).color_trc = self.matrix.av_transfer(bit_depth);
        }
    }

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
    fn tags_primaries_and_transfer_of_the_matrix_standard() {
        use ffi::AVColorPrimaries as P;
        use ffi::AVColorTransferCharacteristic as T;
        // SAFETY: a context allocated without a codec is a plain struct; freed below.
        let mut ctx = unsafe { ffi::avcodec_alloc_context3(std::ptr::null()) };
        assert!(!ctx.is_null());
        let cases = [
            (ColorMatrix::Bt709, ffi::AVPixelFormat::AV_PIX_FMT_YUV420P, P::AVCOL_PRI_BT709, T::AVCOL_TRC_BT709),
            (
                ColorMatrix::Bt470bg,
                ffi::AVPixelFormat::AV_PIX_FMT_YUV420P,
                P::AVCOL_PRI_BT470BG,
                T::AVCOL_TRC_SMPTE170M,
            ),
            (
                ColorMatrix::Smpte170m,
                ffi::AVPixelFormat::AV_PIX_FMT_NV12,
                P::AVCOL_PRI_SMPTE170M,
                T::AVCOL_TRC_SMPTE170M,
            ),
            (ColorMatrix::Fcc, ffi::AVPixelFormat::AV_PIX_FMT_YUV420P, P::AVCOL_PRI_BT470M, T::AVCOL_TRC_GAMMA22),
            (
                ColorMatrix::Smpte240m,
                ffi::AVPixelFormat::AV_PIX_FMT_YUV444P,
                P::AVCOL_PRI_SMPTE240M,
                T::AVCOL_TRC_SMPTE240M,
            ),
            (ColorMatrix::Bt2020nc, ffi::AVPixelFormat::AV_PIX_FMT_YUV420P, P::AVCOL_PRI_BT2020, T::AVCOL_TRC_BT709),
            (
                ColorMatrix::Bt2020nc,
                ffi::AVPixelFormat::AV_PIX_FMT_YUV420P10LE,
                P::AVCOL_PRI_BT2020,
                T::AVCOL_TRC_BT2020_10,
            ),
            (
                ColorMatrix::Bt2020nc,
                ffi::AVPixelFormat::AV_PIX_FMT_YUV420P12LE,
                P::AVCOL_PRI_BT2020,
                T::AVCOL_TRC_BT2020_12,
            ),
        ];
        for (matrix, format, primaries, transfer) in cases {
            let spec = ColorSpec { matrix, range: ColorRange::Full };
            // SAFETY: ctx is live until freed below.
            let got = unsafe {
                spec.tag(ctx, format);
                ((*ctx).colorspace, (*ctx).color_range, (*ctx).color_primaries, (*ctx).color_trc)
            };
            assert_eq!(
                got,
                (matrix.av_colorspace(), ffi::AVColorRange::AVCOL_RANGE_JPEG, primaries, transfer),
                "{matrix:?}"
            );
        }
        // SAFETY: allocated above, not used after.
        unsafe { ffi::avcodec_free_context(&mut ctx) };
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
