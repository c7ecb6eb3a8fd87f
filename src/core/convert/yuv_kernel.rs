//! RGB → 8-bit planar YUV (4:2:0 and 4:4:4) in portable Rust, several times faster than FFmpeg 5.1's
//! swscale for these inputs.
//!
//! Why our own: at fast presets the RGB→YUV conversion is a third of the CPU of an encode (swscale 5.1
//! has no SIMD path for rgb24 or gbrp → yuv420p). This is plain fixed-point arithmetic over whole rows,
//! written so the compiler vectorizes it, with the same matrix and range as `color.rs` describes (the
//! tests compare it to the exact formula). Chroma of 4:2:0 is the mean of each 2×2 block of RGB
//! (centre-sited), computed from the sum of the four pixels so no precision is lost before rounding.

use super::color::{ColorRange, ColorSpec};
use crate::core::picture::{InputPixels, RgbPicture};

/// Fixed-point scale of the coefficients: 15 bits keeps every coefficient and every (sum of 4) pixel
/// value within i16, so products map onto the CPU's 16-bit multiply-add instructions.
const SHIFT: u32 = 15;

/// Y, Cb, Cr rows of integer coefficients (scaled by 2^SHIFT) and offsets, for one matrix and range.
#[derive(Debug, Clone, Copy)]
pub struct YuvCoefficients {
    y: [i32; 3],
    u: [i32; 3],
    v: [i32; 3],
    y_offset: i32,
    c_offset: i32,
}

impl YuvCoefficients {
    /// Y (r, g, b), Cb (r, g, b), Cr (r, g, b), Y offset: the GPU kernels' arguments.
    pub fn as_array(&self) -> [i32; 10] {
        let ([yr, yg, yb], [ur, ug, ub], [vr, vg, vb]) = (self.y, self.u, self.v);
        [yr, yg, yb, ur, ug, ub, vr, vg, vb, self.y_offset]
    }

    pub fn new(spec: ColorSpec) -> YuvCoefficients {
        let (kr, kb) = spec.matrix.kr_kb();
        let kg = 1.0 - kr - kb;
        let (y_scale, c_scale, y_offset) = match spec.range {
            ColorRange::Limited => (219.0 / 255.0, 224.0 / 255.0, 16),
            ColorRange::Full => (1.0, 1.0, 0),
        };
        let q = |x: f64| (x * (1 << SHIFT) as f64).round() as i32;
        let cb = |k: f64| k * c_scale / (2.0 * (1.0 - kb));
        let cr = |k: f64| k * c_scale / (2.0 * (1.0 - kr));
        YuvCoefficients {
            y: [q(kr * y_scale), q(kg * y_scale), q(kb * y_scale)],
            // Cb = (B - Y) / (2 (1 - Kb)), Cr = (R - Y) / (2 (1 - Kr)), then scaled to the range.
            u: [q(cb(-kr)), q(cb(-kg)), q(cb(1.0 - kb))],
            v: [q(cr(1.0 - kr)), q(cr(-kg)), q(cr(-kb))],
            y_offset,
            c_offset: 128,
        }
    }
}

#[inline(always)]
fn clamp_u8(v: i32) -> u8 {
    v.clamp(0, 255) as u8
}

/// One row as three planar channel slices (borrowed from NCHW input, or de-interleaved from NHWC).
#[derive(Clone, Copy)]
struct RgbRow<'a> {
    r: &'a [u8],
    g: &'a [u8],
    b: &'a [u8],
}

/// De-interleaves a packed row (`C` bytes per pixel, R, G, B first) into planar scratch.
#[inline(always)]
fn deinterleave<const C: usize>(px: &[u8], r: &mut [u8], g: &mut [u8], b: &mut [u8]) {
    let n = r.len();
    let (px, g, b) = (&px[..n * C], &mut g[..n], &mut b[..n]);
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if C == 3 && std::arch::is_x86_feature_detected!("ssse3") {
        // SAFETY: the CPU supports SSSE3 (checked just above); slices are the lengths asserted there.
        done = unsafe { deinterleave_rgb24_ssse3(px, r, g, b) };
    }
    // Indexed with the bounds proven up front, so the compiler vectorizes what it can (the 4-byte case well).
    for x in done..n {
        r[x] = px[x * C];
        g[x] = px[x * C + 1];
        b[x] = px[x * C + 2];
    }
}

/// rgb24 → planar, 16 pixels (48 bytes) a step, with byte shuffles; returns how many pixels it did.
///
/// Why by hand: the compiler does not vectorize 3-byte strides, and a scalar loop costs ~4 ms per 1080p
/// frame — most of the conversion. Each output vector gathers its bytes from the three 16-byte loads
/// (indices below; -1 = zero), then ORs the parts.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "ssse3")]
unsafe fn deinterleave_rgb24_ssse3(px: &[u8], r: &mut [u8], g: &mut [u8], b: &mut [u8]) -> usize {
    use std::arch::x86_64::*;
    const fn mask(idx: [i8; 16]) -> [i8; 16] {
        idx
    }
    const X: i8 = -1;
    const R: [[i8; 16]; 3] = [
        mask([0, 3, 6, 9, 12, 15, X, X, X, X, X, X, X, X, X, X]),
        mask([X, X, X, X, X, X, 2, 5, 8, 11, 14, X, X, X, X, X]),
        mask([X, X, X, X, X, X, X, X, X, X, X, 1, 4, 7, 10, 13]),
    ];
    const G: [[i8; 16]; 3] = [
        mask([1, 4, 7, 10, 13, X, X, X, X, X, X, X, X, X, X, X]),
        mask([X, X, X, X, X, 0, 3, 6, 9, 12, 15, X, X, X, X, X]),
        mask([X, X, X, X, X, X, X, X, X, X, X, 2, 5, 8, 11, 14]),
    ];
    const B: [[i8; 16]; 3] = [
        mask([2, 5, 8, 11, 14, X, X, X, X, X, X, X, X, X, X, X]),
        mask([X, X, X, X, X, 1, 4, 7, 10, 13, X, X, X, X, X, X]),
        mask([X, X, X, X, X, X, X, X, X, X, 0, 3, 6, 9, 12, 15]),
    ];
    let blocks = r.len().min(g.len()).min(b.len()).min(px.len() / 3) / 16;
    unsafe {
        let load = |m: &[i8; 16]| _mm_loadu_si128(m.as_ptr() as *const __m128i);
        let (rm, gm, bm) = (R.map(|m| load(&m)), G.map(|m| load(&m)), B.map(|m| load(&m)));
        let gather = |v: [__m128i; 3], m: &[__m128i; 3]| {
            _mm_or_si128(
                _mm_or_si128(_mm_shuffle_epi8(v[0], m[0]), _mm_shuffle_epi8(v[1], m[1])),
                _mm_shuffle_epi8(v[2], m[2]),
            )
        };
        for i in 0..blocks {
            // In bounds: 48 * blocks <= px.len() and 16 * blocks <= each output's length.
            let src = px.as_ptr().add(i * 48) as *const __m128i;
            let v = [_mm_loadu_si128(src), _mm_loadu_si128(src.add(1)), _mm_loadu_si128(src.add(2))];
            _mm_storeu_si128(r.as_mut_ptr().add(i * 16) as *mut __m128i, gather(v, &rm));
            _mm_storeu_si128(g.as_mut_ptr().add(i * 16) as *mut __m128i, gather(v, &gm));
            _mm_storeu_si128(b.as_mut_ptr().add(i * 16) as *mut __m128i, gather(v, &bm));
        }
    }
    blocks * 16
}

#[cfg(test)]
#[test]
fn rgb24_deinterleave_matches_scalar_for_every_length() {
    for n in [0, 1, 15, 16, 17, 47, 48, 100, 1920] {
        let px: Vec<u8> = (0..n * 3).map(|i| (i * 37 % 256) as u8).collect();
        let (mut r, mut g, mut b) = (vec![0; n], vec![0; n], vec![0; n]);
        deinterleave::<3>(&px, &mut r, &mut g, &mut b);
        for x in 0..n {
            assert_eq!((r[x], g[x], b[x]), (px[3 * x], px[3 * x + 1], px[3 * x + 2]), "n={n} x={x}");
        }
    }
}

#[inline(always)]
fn luma_row(k: &YuvCoefficients, row: RgbRow<'_>, out: &mut [u8]) {
    let round = (k.y_offset << SHIFT) + (1 << (SHIFT - 1));
    let [cr, cg, cb] = k.y;
    for (((o, &r), &g), &b) in out.iter_mut().zip(row.r).zip(row.g).zip(row.b) {
        *o = clamp_u8((cr * r as i16 as i32 + cg * g as i16 as i32 + cb * b as i16 as i32 + round) >> SHIFT);
    }
}

/// Chroma from channel values that are sums of `2^extra` pixels.
#[inline(always)]
fn chroma_from_sums(k: &YuvCoefficients, r: &[i32], g: &[i32], b: &[i32], extra: u32, u: &mut [u8], v: &mut [u8]) {
    let shift = SHIFT + extra;
    let round = (k.c_offset << shift) + (1 << (shift - 1));
    let ([ur, ug, ub], [vr, vg, vb]) = (k.u, k.v);
    for ((((u, v), &r), &g), &b) in u.iter_mut().zip(v.iter_mut()).zip(r).zip(g).zip(b) {
        *u = clamp_u8((ur * r + ug * g + ub * b + round) >> shift);
        *v = clamp_u8((vr * r + vg * g + vb * b + round) >> shift);
    }
}

/// Sums of each 2×2 block of one channel over two rows (the last column repeats on an odd width).
#[inline(always)]
fn block_sums(above: &[u8], below: &[u8], out: &mut [i32]) {
    let pairs = above.len() / 2;
    for ((o, a), b) in out.iter_mut().zip(above.chunks_exact(2)).zip(below.chunks_exact(2)) {
        *o = a[0] as i32 + a[1] as i32 + b[0] as i32 + b[1] as i32;
    }
    if above.len() % 2 == 1 {
        let last = above.len() - 1;
        out[pairs] = 2 * (above[last] as i32 + below[last] as i32);
    }
}

/// Output planes of one frame: Y, U, V with their strides.
pub struct YuvPlanes<'a> {
    pub y: (&'a mut [u8], usize),
    pub u: (&'a mut [u8], usize),
    pub v: (&'a mut [u8], usize),
}

/// Row buffers reused across frames (no allocation per frame).
#[derive(Default)]
pub struct Scratch {
    above: [Vec<u8>; 3],
    below: [Vec<u8>; 3],
    sums: [Vec<i32>; 3],
}

/// Row `y` as planar slices: borrowed from NCHW input, de-interleaved into `set` from NHWC input.
#[inline(always)]
fn load_row<'a>(pic: &'a RgbPicture<'_>, y: usize, width: usize, set: &'a mut [Vec<u8>; 3]) -> RgbRow<'a> {
    let s = pic.strides[0];
    let [r, g, b] = set;
    match pic.pixels {
        // gbrp plane order: G, B, R.
        InputPixels::PlanarRgb => RgbRow {
            r: &pic.planes[2][y * s..y * s + width],
            g: &pic.planes[0][y * s..y * s + width],
            b: &pic.planes[1][y * s..y * s + width],
        },
        InputPixels::PackedRgb => {
            deinterleave::<3>(&pic.planes[0][y * s..y * s + width * 3], r, g, b);
            RgbRow { r, g, b }
        }
        InputPixels::PackedRgba => {
            deinterleave::<4>(&pic.planes[0][y * s..y * s + width * 4], r, g, b);
            RgbRow { r, g, b }
        }
    }
}

/// Converts one picture into 8-bit planar YUV, 4:2:0 when `subsampled`, else 4:4:4.
///
/// Uses AVX2 when the CPU has it (the same code compiled for it), else the baseline instruction set.
pub fn convert(
    k: &YuvCoefficients,
    pic: &RgbPicture<'_>,
    width: usize,
    height: usize,
    subsampled: bool,
    scratch: &mut Scratch,
    out: YuvPlanes<'_>,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above).
        return unsafe { convert_avx2(k, pic, width, height, subsampled, scratch, out) };
    }
    convert_generic(k, pic, width, height, subsampled, scratch, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn convert_avx2(
    k: &YuvCoefficients,
    pic: &RgbPicture<'_>,
    width: usize,
    height: usize,
    subsampled: bool,
    scratch: &mut Scratch,
    out: YuvPlanes<'_>,
) {
    convert_generic(k, pic, width, height, subsampled, scratch, out)
}

#[inline(always)]
fn convert_generic(
    k: &YuvCoefficients,
    pic: &RgbPicture<'_>,
    width: usize,
    height: usize,
    subsampled: bool,
    scratch: &mut Scratch,
    out: YuvPlanes<'_>,
) {
    let cw = if subsampled { width.div_ceil(2) } else { width };
    for row in scratch.above.iter_mut().chain(scratch.below.iter_mut()) {
        row.resize(width, 0);
    }
    for sum in scratch.sums.iter_mut() {
        sum.resize(width, 0);
    }
    let Scratch { above, below, sums } = scratch;
    let [sr, sg, sb] = sums;
    let YuvPlanes { y: (y_plane, ys), u: (u_plane, us), v: (v_plane, vs) } = out;
    let step = if subsampled { 2 } else { 1 };
    for top in (0..height).step_by(step) {
        let a = load_row(pic, top, width, above);
        luma_row(k, a, &mut y_plane[top * ys..top * ys + width]);
        let cy = top / step;
        let (u_row, v_row) = (&mut u_plane[cy * us..cy * us + cw], &mut v_plane[cy * vs..cy * vs + cw]);
        if !subsampled {
            for (src, dst) in [(a.r, &mut *sr), (a.g, &mut *sg), (a.b, &mut *sb)] {
                dst.iter_mut().zip(src).for_each(|(d, &x)| *d = x as i32);
            }
            chroma_from_sums(k, sr, sg, sb, 0, u_row, v_row);
            continue;
        }
        let bottom = (top + 1).min(height - 1);
        let b = load_row(pic, bottom, width, below);
        if bottom != top {
            luma_row(k, b, &mut y_plane[bottom * ys..bottom * ys + width]);
        }
        block_sums(a.r, b.r, &mut sr[..cw]);
        block_sums(a.g, b.g, &mut sg[..cw]);
        block_sums(a.b, b.b, &mut sb[..cw]);
        chroma_from_sums(k, &sr[..cw], &sg[..cw], &sb[..cw], 2, u_row, v_row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::convert::color::ColorMatrix;

    fn pic_rgb(px: &[u8], width: usize) -> RgbPicture<'_> {
        RgbPicture { pixels: InputPixels::PackedRgb, planes: [px, &[], &[]], strides: [width * 3, 0, 0] }
    }

    #[test]
    fn matches_the_exact_formula_within_rounding() {
        for spec in [
            ColorSpec::default(),
            ColorSpec { matrix: ColorMatrix::Bt470bg, range: ColorRange::Full },
            ColorSpec { matrix: ColorMatrix::Bt2020nc, range: ColorRange::Limited },
        ] {
            let k = YuvCoefficients::new(spec);
            // Every corner of the RGB cube and a spread of values in between.
            let mut px = Vec::new();
            for r in (0..=255).step_by(17) {
                for g in (0..=255).step_by(51) {
                    for b in (0..=255).step_by(85) {
                        px.extend_from_slice(&[r as u8, g as u8, b as u8]);
                    }
                }
            }
            let n = px.len() / 3;
            let (mut y, mut u, mut v) = (vec![0; n], vec![0; n], vec![0; n]);
            convert(
                &k,
                &pic_rgb(&px, n),
                n,
                1,
                false,
                &mut Scratch::default(),
                YuvPlanes { y: (&mut y, n), u: (&mut u, n), v: (&mut v, n) },
            );
            for i in 0..n {
                let (ry, ru, rv) = spec.reference_yuv(px[3 * i], px[3 * i + 1], px[3 * i + 2]);
                for (got, want) in [(y[i], ry), (u[i], ru.min(255.0)), (v[i], rv.min(255.0))] {
                    // Rounded from 15-bit fixed point: at most a hair over half a level from the exact value.
                    assert!((got as f64 - want).abs() <= 0.51, "{spec:?} pixel {i}: {got} vs {want}");
                }
            }
        }
    }

    #[test]
    fn chroma_420_is_the_mean_of_each_block_including_odd_edges() {
        let spec = ColorSpec::default();
        let k = YuvCoefficients::new(spec);
        let (w, h) = (3, 3);
        let px: Vec<u8> = (0..w * h).flat_map(|i| [(i * 25) as u8, (250 - i * 20) as u8, (i * 9) as u8]).collect();
        let (mut y, mut u, mut v) = (vec![0; w * h], vec![0; 4], vec![0; 4]);
        convert(
            &k,
            &pic_rgb(&px, w),
            w,
            h,
            true,
            &mut Scratch::default(),
            YuvPlanes { y: (&mut y, w), u: (&mut u, 2), v: (&mut v, 2) },
        );
        let at = |x: usize, y: usize| {
            let i = 3 * (y.min(h - 1) * w + x.min(w - 1));
            (px[i] as f64, px[i + 1] as f64, px[i + 2] as f64)
        };
        for cy in 0..2 {
            for cx in 0..2 {
                let block =
                    [at(2 * cx, 2 * cy), at(2 * cx + 1, 2 * cy), at(2 * cx, 2 * cy + 1), at(2 * cx + 1, 2 * cy + 1)];
                let mean = |f: fn(&(f64, f64, f64)) -> f64| block.iter().map(f).sum::<f64>() / 4.0;
                let (r, g, b) = (mean(|p| p.0), mean(|p| p.1), mean(|p| p.2));
                // reference_yuv is linear: evaluate it on the mean colour via its components.
                let (kr, kb) = spec.matrix.kr_kb();
                let yl = (kr * r + (1.0 - kr - kb) * g + kb * b) / 255.0;
                let want_u = 128.0 + 224.0 * ((b / 255.0 - yl) / (2.0 * (1.0 - kb)));
                let want_v = 128.0 + 224.0 * ((r / 255.0 - yl) / (2.0 * (1.0 - kr)));
                assert!((u[cy * 2 + cx] as f64 - want_u).abs() <= 0.51, "u {cx},{cy}");
                assert!((v[cy * 2 + cx] as f64 - want_v).abs() <= 0.51, "v {cx},{cy}");
            }
        }
    }
}
