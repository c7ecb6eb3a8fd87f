//! Frame rates as exact rationals.
//!
//! Why: timestamps are integers in a time base of 1/rate. A float rate such as 29.97 must become the
//! NTSC rational 30000/1001, as broadcast and the ffmpeg CLI (`-r 30000/1001`) use, or every timestamp
//! drifts from what players and editors expect. So: integers stay integers, k·1000/1001 rates (23.976,
//! 29.97, 59.94, 119.88, …) snap to their NTSC rational, anything else gets the closest small rational.

use ffmpeg_next::Rational;

use crate::core::error::{number_text, EncodeError, ErrorCode, Result};

/// A positive frame rate `num/den` in lowest terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRate {
    pub num: i32,
    pub den: i32,
}

impl FrameRate {
    pub fn from_f64(rate: f64) -> Result<FrameRate> {
        if !rate.is_finite() || rate <= 0.0 {
            return Err(EncodeError::new(
                ErrorCode::OutOfRange,
                format!("frameRate must be a finite number > 0, got {}", number_text(rate)),
            ));
        }
        if !(1e-4..=1_000_000.0).contains(&rate) {
            return Err(EncodeError::new(
                ErrorCode::OutOfRange,
                format!("frameRate must be between 0.0001 and 1000000, got {rate}"),
            ));
        }
        let rounded = rate.round();
        if (rate - rounded).abs() < 1e-9 {
            return Ok(FrameRate { num: rounded as i32, den: 1 });
        }
        // NTSC-style rates: k * 1000/1001 for integer k, given to about 3 decimals (29.97, 23.976).
        let k = (rate * 1.001).round();
        if k >= 1.0 && (rate - k * 1000.0 / 1001.0).abs() < 0.0015 && (k * 1000.0) < i32::MAX as f64 {
            return Ok(reduce(k as i64 * 1000, 1001));
        }
        let q = Rational::from(rate); // av_d2q with a bounded denominator
        Ok(reduce(q.numerator() as i64, q.denominator() as i64))
    }

    pub fn as_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    pub fn rational(self) -> Rational {
        Rational::new(self.num, self.den)
    }

    /// One frame per tick.
    pub fn time_base(self) -> Rational {
        Rational::new(self.den, self.num)
    }
}

fn reduce(num: i64, den: i64) -> FrameRate {
    fn gcd(a: i64, b: i64) -> i64 {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }
    let g = gcd(num, den).max(1);
    FrameRate { num: (num / g) as i32, den: (den / g) as i32 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(r: f64) -> (i32, i32) {
        let f = FrameRate::from_f64(r).unwrap();
        (f.num, f.den)
    }

    #[test]
    fn integers_stay_integers() {
        assert_eq!(rate(30.0), (30, 1));
        assert_eq!(rate(25.0), (25, 1));
        assert_eq!(rate(1.0), (1, 1));
    }

    #[test]
    fn ntsc_rates_are_exact() {
        assert_eq!(rate(29.97), (30000, 1001));
        assert_eq!(rate(23.976), (24000, 1001));
        assert_eq!(rate(59.94), (60000, 1001));
        assert_eq!(rate(30000.0 / 1001.0), (30000, 1001));
        assert_eq!(rate(119.88), (120000, 1001));
    }

    #[test]
    fn other_fractions_are_small_rationals() {
        assert_eq!(rate(12.5), (25, 2));
        assert_eq!(rate(0.5), (1, 2));
    }

    #[test]
    fn non_positive_and_non_finite_are_out_of_range() {
        for r in [0.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(FrameRate::from_f64(r).unwrap_err().code, ErrorCode::OutOfRange);
        }
        // Named as JavaScript writes them.
        for (r, text) in [(f64::NAN, "got NaN"), (f64::INFINITY, "got Infinity"), (f64::NEG_INFINITY, "got -Infinity")]
        {
            let message = FrameRate::from_f64(r).unwrap_err().message;
            assert!(message.ends_with(text), "{message}");
        }
    }
}
