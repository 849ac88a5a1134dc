//! `numeric`: exact decimal numbers of any precision, with PostgreSQL's
//! display scale, NaN and ±Infinity. A value is a mantissa times 10^-scale;
//! the scale is the number of digits shown after the point (`1.50` keeps
//! scale 2). Mantissas that fit an i64 are kept inline, so sums and products
//! of ordinary money amounts never allocate; larger ones are big integers.
//! Results follow PostgreSQL's rules for the scale of each operation (see
//! `div` for the quotient's).

use num_bigint::{BigInt, Sign};
use num_integer::Integer;
use num_traits::{Signed, ToPrimitive, Zero};
use std::cmp::Ordering;
use std::fmt;

/// The largest display scale (NUMERIC_DSCALE_MAX).
pub const MAX_SCALE: i32 = 16383;
/// The largest scale a computed result gets (NUMERIC_MAX_DISPLAY_SCALE).
pub const MAX_RESULT_SCALE: i32 = 1000;
/// Digits before the point a value may have (PostgreSQL: 131072).
const MAX_INT_DIGITS: i64 = 131072;
/// A quotient has at least this many significant digits (NUMERIC_MIN_SIG_DIGITS).
const MIN_SIG_DIGITS: i32 = 16;

#[derive(Clone)]
pub struct Numeric(Repr);

#[derive(Clone)]
enum Repr {
    Small { m: i64, scale: u16 },
    Big(Box<(BigInt, u16)>),
    NaN,
    PosInf,
    NegInf,
}

/// Why an operation has no numeric result.
#[derive(Debug, Clone, PartialEq)]
pub enum NumericError {
    Overflow,
    DivisionByZero,
    /// An argument outside the operation's domain (message as PostgreSQL's).
    Domain(&'static str),
}

pub type Result<T> = std::result::Result<T, NumericError>;

fn pow10(n: u32) -> BigInt {
    if n < 19 {
        BigInt::from(10i64.pow(n))
    } else {
        num_traits::pow(BigInt::from(10), n as usize)
    }
}

/// Rounds `m / 10^k` half away from zero (k > 0).
fn div_round(m: &BigInt, k: u32) -> BigInt {
    let d = pow10(k);
    let (q, r) = m.div_rem(&d);
    if (r.abs() * 2u32) >= d {
        if m.is_negative() {
            q - 1
        } else {
            q + 1
        }
    } else {
        q
    }
}

/// Number of decimal digits of |m| (1 for zero).
fn digits_of(m: &BigInt) -> i64 {
    if m.is_zero() {
        return 1;
    }
    // bits * log10(2) estimates; fixed up against a power of ten.
    let bits = m.bits() as f64;
    let mut d = (bits * std::f64::consts::LOG10_2).floor() as i64;
    let a = m.abs();
    while d > 0 && pow10(d as u32) > a {
        d -= 1;
    }
    while pow10((d + 1) as u32) <= a {
        d += 1;
    }
    d + 1
}

impl Numeric {
    pub const ZERO: Numeric = Numeric(Repr::Small { m: 0, scale: 0 });
    pub const ONE: Numeric = Numeric(Repr::Small { m: 1, scale: 0 });
    pub const NAN: Numeric = Numeric(Repr::NaN);

    /// `m` × 10^-`scale`.
    pub fn new(m: i64, scale: u16) -> Numeric {
        Numeric(Repr::Small { m, scale })
    }

    fn from_big(m: BigInt, scale: u16) -> Numeric {
        match m.to_i64() {
            Some(m) => Numeric(Repr::Small { m, scale }),
            None => Numeric(Repr::Big(Box::new((m, scale)))),
        }
    }

    /// From a mantissa and a scale, checked against the format's limits.
    fn make(m: BigInt, scale: i64) -> Result<Numeric> {
        if scale > MAX_SCALE as i64 {
            return Err(NumericError::Overflow);
        }
        if scale < 0 {
            return Numeric::make(m * pow10((-scale) as u32), 0);
        }
        let n = Numeric::from_big(m, scale as u16);
        if n.int_digits() > MAX_INT_DIGITS {
            return Err(NumericError::Overflow);
        }
        Ok(n)
    }

    pub fn infinity(negative: bool) -> Numeric {
        Numeric(if negative { Repr::NegInf } else { Repr::PosInf })
    }

    pub fn is_nan(&self) -> bool {
        matches!(self.0, Repr::NaN)
    }
    pub fn is_finite(&self) -> bool {
        matches!(self.0, Repr::Small { .. } | Repr::Big(_))
    }
    pub fn is_infinite(&self) -> bool {
        matches!(self.0, Repr::PosInf | Repr::NegInf)
    }
    pub fn is_zero(&self) -> bool {
        matches!(self.0, Repr::Small { m: 0, .. })
    }
    pub fn is_negative(&self) -> bool {
        match &self.0 {
            Repr::Small { m, .. } => *m < 0,
            Repr::Big(b) => b.0.is_negative(),
            Repr::NegInf => true,
            _ => false,
        }
    }

    /// The display scale (0 for NaN and infinities).
    pub fn scale(&self) -> u16 {
        match &self.0 {
            Repr::Small { scale, .. } => *scale,
            Repr::Big(b) => b.1,
            _ => 0,
        }
    }

    /// Mantissa and scale of a finite value.
    pub fn parts(&self) -> Option<(BigInt, u16)> {
        match &self.0 {
            Repr::Small { m, scale } => Some((BigInt::from(*m), *scale)),
            Repr::Big(b) => Some((b.0.clone(), b.1)),
            _ => None,
        }
    }

    /// Digits before the point (0 for |x| < 1).
    pub fn int_digits(&self) -> i64 {
        match self.parts() {
            Some((m, s)) if !m.is_zero() => (digits_of(&m) - s as i64).max(0),
            _ => 0,
        }
    }

    /// The decimal exponent of the leading digit (|x| in [10^e, 10^(e+1))),
    /// for a finite non-zero value.
    fn exponent(&self) -> Option<i64> {
        let (m, s) = self.parts()?;
        if m.is_zero() {
            return None;
        }
        Some(digits_of(&m) - 1 - s as i64)
    }

    pub fn from_i64(v: i64) -> Numeric {
        Numeric::new(v, 0)
    }

    pub fn from_i128(v: i128) -> Numeric {
        match i64::try_from(v) {
            Ok(v) => Numeric::new(v, 0),
            Err(_) => Numeric::from_big(BigInt::from(v), 0),
        }
    }

    /// A float by its shortest round-trip text, as PostgreSQL converts.
    pub fn from_f64(f: f64) -> Option<Numeric> {
        if f.is_nan() {
            return Some(Numeric::NAN);
        }
        if f.is_infinite() {
            return Some(Numeric::infinity(f < 0.0));
        }
        Numeric::parse(&format!("{f}"))
    }

    pub fn to_f64(&self) -> f64 {
        match &self.0 {
            Repr::Small { m, scale } if *scale == 0 => *m as f64,
            Repr::NaN => f64::NAN,
            Repr::PosInf => f64::INFINITY,
            Repr::NegInf => f64::NEG_INFINITY,
            _ => self.to_string().parse().unwrap_or(f64::NAN),
        }
    }

    /// Rounded (half away from zero) to an integer, if it fits an i64.
    pub fn to_i64_round(&self) -> Option<i64> {
        match &self.0 {
            Repr::Small { m, scale: 0 } => Some(*m),
            _ => self.round(0).ok()?.parts()?.0.to_i64(),
        }
    }

    /// Parses PostgreSQL's numeric input: [sign] digits [. digits]
    /// [e [sign] digits], NaN, [sign] Infinity / inf.
    pub fn parse(text: &str) -> Option<Numeric> {
        let t = text.trim();
        let lower = t.to_ascii_lowercase();
        match lower.as_str() {
            "nan" => return Some(Numeric::NAN),
            "infinity" | "+infinity" | "inf" | "+inf" => return Some(Numeric::infinity(false)),
            "-infinity" | "-inf" => return Some(Numeric::infinity(true)),
            _ => {}
        }
        let b = t.as_bytes();
        let mut i = 0;
        let mut neg = false;
        if let Some(&c) = b.first() {
            if c == b'+' || c == b'-' {
                neg = c == b'-';
                i = 1;
            }
        }
        let mut digits = String::with_capacity(b.len());
        let mut frac = 0i64;
        let mut seen_point = false;
        let mut any = false;
        while i < b.len() {
            match b[i] {
                c @ b'0'..=b'9' => {
                    digits.push(c as char);
                    any = true;
                    if seen_point {
                        frac += 1;
                    }
                }
                b'.' if !seen_point => seen_point = true,
                _ => break,
            }
            i += 1;
        }
        if !any {
            return None;
        }
        let mut exp = 0i64;
        if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
            let e = std::str::from_utf8(&b[i + 1..]).ok()?;
            if e.is_empty() || e.len() > 12 {
                return None;
            }
            exp = e.parse().ok()?;
            i = b.len();
        }
        if i != b.len() || exp.abs() > 1_000_000 {
            return None;
        }
        let scale = frac - exp;
        let m = if digits.len() <= 18 {
            BigInt::from(digits.parse::<i64>().ok()?)
        } else {
            digits.parse::<BigInt>().ok()?
        };
        let m = if neg { -m } else { m };
        Numeric::make(m, scale).ok()
    }

    pub fn neg(&self) -> Numeric {
        match &self.0 {
            Repr::Small { m, scale } => match m.checked_neg() {
                Some(n) => Numeric::new(n, *scale),
                None => Numeric::from_big(-BigInt::from(*m), *scale),
            },
            Repr::Big(b) => Numeric::from_big(-b.0.clone(), b.1),
            Repr::NaN => Numeric::NAN,
            Repr::PosInf => Numeric::infinity(true),
            Repr::NegInf => Numeric::infinity(false),
        }
    }

    pub fn abs(&self) -> Numeric {
        if self.is_negative() {
            self.neg()
        } else {
            self.clone()
        }
    }

    /// -1, 0 or 1 (scale 0); NaN for NaN.
    pub fn signum(&self) -> Numeric {
        if self.is_nan() {
            return Numeric::NAN;
        }
        if self.is_zero() {
            Numeric::ZERO
        } else if self.is_negative() {
            Numeric::new(-1, 0)
        } else {
            Numeric::ONE
        }
    }

    /// Both mantissas at the larger scale.
    fn aligned(a: &Numeric, b: &Numeric) -> Option<(BigInt, BigInt, u16)> {
        let (ma, sa) = a.parts()?;
        let (mb, sb) = b.parts()?;
        let s = sa.max(sb);
        Some((ma * pow10((s - sa) as u32), mb * pow10((s - sb) as u32), s))
    }

    /// Small operands at the larger scale, if that fits i64.
    fn aligned_small(a: &Numeric, b: &Numeric) -> Option<(i64, i64, u16)> {
        let (Repr::Small { m: ma, scale: sa }, Repr::Small { m: mb, scale: sb }) = (&a.0, &b.0)
        else {
            return None;
        };
        let s = (*sa).max(*sb);
        let up = |m: i64, from: u16| -> Option<i64> {
            if from == s {
                Some(m)
            } else {
                10i64
                    .checked_pow((s - from) as u32)
                    .and_then(|p| m.checked_mul(p))
            }
        };
        Some((up(*ma, *sa)?, up(*mb, *sb)?, s))
    }

    fn special_add(&self, o: &Numeric, negate_o: bool) -> Option<Numeric> {
        if self.is_finite() && o.is_finite() {
            return None;
        }
        if self.is_nan() || o.is_nan() {
            return Some(Numeric::NAN);
        }
        let sign = |x: &Numeric, flip: bool| -> i32 {
            match (&x.0, flip) {
                (Repr::PosInf, false) | (Repr::NegInf, true) => 1,
                (Repr::NegInf, false) | (Repr::PosInf, true) => -1,
                _ => 0,
            }
        };
        let (a, b) = (sign(self, false), sign(o, negate_o));
        Some(match (a, b) {
            (1, -1) | (-1, 1) => Numeric::NAN,
            (1, _) | (_, 1) => Numeric::infinity(false),
            _ => Numeric::infinity(true),
        })
    }

    pub fn add(&self, o: &Numeric) -> Result<Numeric> {
        if let Some(r) = self.special_add(o, false) {
            return Ok(r);
        }
        if let Some((a, b, s)) = Numeric::aligned_small(self, o) {
            if let Some(m) = a.checked_add(b) {
                return Ok(Numeric::new(m, s));
            }
        }
        let (a, b, s) = Numeric::aligned(self, o).expect("finite");
        Numeric::make(a + b, s as i64)
    }

    pub fn sub(&self, o: &Numeric) -> Result<Numeric> {
        if let Some(r) = self.special_add(o, true) {
            return Ok(r);
        }
        if let Some((a, b, s)) = Numeric::aligned_small(self, o) {
            if let Some(m) = a.checked_sub(b) {
                return Ok(Numeric::new(m, s));
            }
        }
        let (a, b, s) = Numeric::aligned(self, o).expect("finite");
        Numeric::make(a - b, s as i64)
    }

    pub fn mul(&self, o: &Numeric) -> Result<Numeric> {
        if !self.is_finite() || !o.is_finite() {
            if self.is_nan() || o.is_nan() || self.is_zero() || o.is_zero() {
                return Ok(Numeric::NAN);
            }
            return Ok(Numeric::infinity(self.is_negative() != o.is_negative()));
        }
        if let (Repr::Small { m: a, scale: sa }, Repr::Small { m: b, scale: sb }) = (&self.0, &o.0)
        {
            let s = *sa as u32 + *sb as u32;
            if let (Some(m), true) = (a.checked_mul(*b), s <= MAX_SCALE as u32) {
                return Ok(Numeric::new(m, s as u16));
            }
        }
        let (a, sa) = self.parts().expect("finite");
        let (b, sb) = o.parts().expect("finite");
        let s = sa as i64 + sb as i64;
        if s > MAX_SCALE as i64 {
            // PostgreSQL rounds a product's scale to what the format holds.
            return Numeric::make(
                div_round(&(a * b), (s - MAX_SCALE as i64) as u32),
                MAX_SCALE as i64,
            );
        }
        Numeric::make(a * b, s)
    }

    /// Weight and first digit in PostgreSQL's base-10000 representation.
    fn nbase_weight(&self) -> (i32, i64) {
        let Some(e) = self.exponent() else {
            return (0, 0);
        };
        let w = e.div_euclid(4);
        // The leading base-10000 digit: |x| / 10^(4w), truncated.
        let (m, s) = self.parts().expect("finite");
        let shift = s as i64 + 4 * w; // |m| / 10^shift
        let first = if shift >= 0 {
            (m.abs() / pow10(shift as u32)).to_i64().unwrap_or(0)
        } else {
            (m.abs() * pow10((-shift) as u32)).to_i64().unwrap_or(0)
        };
        (w as i32, first)
    }

    /// PostgreSQL's select_div_scale: at least 16 significant digits, and
    /// no fewer decimals than either input shows.
    fn div_scale(&self, o: &Numeric) -> i32 {
        let (w1, f1) = self.nbase_weight();
        let (w2, f2) = o.nbase_weight();
        let mut qweight = w1 - w2;
        if f1 <= f2 {
            qweight -= 1;
        }
        (MIN_SIG_DIGITS - qweight * 4)
            .max(self.scale() as i32)
            .max(o.scale() as i32)
            .clamp(0, MAX_RESULT_SCALE)
    }

    /// Division with PostgreSQL's result scale, rounded half away from zero.
    pub fn div(&self, o: &Numeric) -> Result<Numeric> {
        if !self.is_finite() || !o.is_finite() {
            if self.is_nan() || o.is_nan() {
                return Ok(Numeric::NAN);
            }
            if o.is_zero() {
                return Err(NumericError::DivisionByZero);
            }
            if self.is_infinite() {
                if o.is_infinite() {
                    return Ok(Numeric::NAN);
                }
                return Ok(Numeric::infinity(self.is_negative() != o.is_negative()));
            }
            return Ok(Numeric::ZERO);
        }
        if o.is_zero() {
            return Err(NumericError::DivisionByZero);
        }
        let r = self.div_scale(o);
        self.div_to_scale(o, r, true)
    }

    /// self / o at `scale` decimals, rounded (or truncated).
    fn div_to_scale(&self, o: &Numeric, scale: i32, round: bool) -> Result<Numeric> {
        let (a, sa) = self.parts().expect("finite");
        let (b, sb) = o.parts().expect("finite");
        // a·10^-sa / (b·10^-sb) = (a · 10^(scale + sb - sa) / b) · 10^-scale
        let k = scale as i64 + sb as i64 - sa as i64;
        let (num, den) = if k >= 0 {
            (a * pow10(k as u32), b)
        } else {
            (a, b * pow10((-k) as u32))
        };
        let (q, rem) = num.div_rem(&den);
        let q = if round && (rem.abs() * 2u32) >= den.abs() {
            if num.is_negative() != den.is_negative() {
                q - 1
            } else {
                q + 1
            }
        } else {
            q
        };
        Numeric::make(q, scale as i64)
    }

    /// Truncated quotient (div()).
    pub fn div_trunc(&self, o: &Numeric) -> Result<Numeric> {
        if !self.is_finite() || !o.is_finite() {
            if o.is_zero() {
                return Err(NumericError::DivisionByZero);
            }
            return self.div(o).map(|q| {
                if q.is_finite() {
                    q.trunc(0).unwrap_or(q)
                } else {
                    q
                }
            });
        }
        if o.is_zero() {
            return Err(NumericError::DivisionByZero);
        }
        self.div_to_scale(o, 0, false)
    }

    /// Remainder with the dividend's sign (%), at the larger scale.
    pub fn rem(&self, o: &Numeric) -> Result<Numeric> {
        if o.is_zero() {
            return Err(NumericError::DivisionByZero);
        }
        if !self.is_finite() || !o.is_finite() {
            if self.is_nan() || o.is_nan() || self.is_infinite() {
                return Ok(Numeric::NAN);
            }
            return Ok(self.clone());
        }
        if let Some((a, b, s)) = Numeric::aligned_small(self, o) {
            if let Some(m) = a.checked_rem(b) {
                return Ok(Numeric::new(m, s));
            }
        }
        let (a, b, s) = Numeric::aligned(self, o).expect("finite");
        Numeric::make(a % b, s as i64)
    }

    /// Rounded half away from zero to `places` decimals (negative: to
    /// tens, hundreds, ...); the result shows max(places, 0) decimals.
    pub fn round(&self, places: i32) -> Result<Numeric> {
        self.rescale_with(places, true)
    }

    /// Truncated toward zero to `places` decimals.
    pub fn trunc(&self, places: i32) -> Result<Numeric> {
        self.rescale_with(places, false)
    }

    fn rescale_with(&self, places: i32, round: bool) -> Result<Numeric> {
        let Some((m, s)) = self.parts() else {
            return Ok(self.clone());
        };
        let places = places.clamp(-(MAX_INT_DIGITS as i32) - 1, MAX_SCALE);
        let s = s as i32;
        if places >= s {
            return Numeric::make(m * pow10((places - s) as u32), places as i64);
        }
        let k = (s - places) as u32;
        let q = if round {
            div_round(&m, k)
        } else {
            m / pow10(k)
        };
        if places >= 0 {
            Numeric::make(q, places as i64)
        } else {
            Numeric::make(q * pow10((-places) as u32), 0)
        }
    }

    pub fn floor(&self) -> Numeric {
        self.floor_ceil(false)
    }
    pub fn ceil(&self) -> Numeric {
        self.floor_ceil(true)
    }
    fn floor_ceil(&self, up: bool) -> Numeric {
        let Some((m, s)) = self.parts() else {
            return self.clone();
        };
        let (q, r) = m.div_mod_floor(&pow10(s as u32));
        let q = if up && !r.is_zero() { q + 1 } else { q };
        Numeric::from_big(q, 0)
    }

    /// Square root with PostgreSQL's result scale, rounded.
    pub fn sqrt(&self) -> Result<Numeric> {
        if self.is_negative() {
            return Err(NumericError::Domain(
                "cannot take square root of a negative number",
            ));
        }
        let Some((_, s)) = self.parts() else {
            return Ok(self.clone());
        };
        let (w, _) = self.nbase_weight();
        let sweight = (w + 1) * 4 / 2 - 1;
        let r = (MIN_SIG_DIGITS - sweight)
            .max(s as i32)
            .clamp(0, MAX_RESULT_SCALE);
        self.sqrt_to(r)
    }

    /// Square root at `r` decimals, rounded (stddev's scale is its
    /// variance's).
    pub fn sqrt_to(&self, r: i32) -> Result<Numeric> {
        if self.is_negative() {
            return Err(NumericError::Domain(
                "cannot take square root of a negative number",
            ));
        }
        let Some((m, s)) = self.parts() else {
            return Ok(self.clone());
        };
        let r = r.clamp(0, MAX_RESULT_SCALE);
        // sqrt(m·10^-s) at r+1 decimals = isqrt(m·10^(2(r+1) - s)).
        let k = 2 * (r + 1) - s as i32;
        let x = if k >= 0 {
            m * pow10(k as u32)
        } else {
            m / pow10((-k) as u32)
        };
        let root = x.sqrt();
        Numeric::make(div_round(&root, 1), r as i64)
    }

    /// x ^ n for an integer n, exactly (the scale: the base's times n for
    /// n ≥ 0; a negative n divides 1 by the power).
    pub fn powi(&self, n: i64) -> Result<Numeric> {
        if !self.is_finite() {
            return Ok(Numeric::from_f64(self.to_f64().powf(n as f64)).unwrap_or(Numeric::NAN));
        }
        if n == 0 {
            return Ok(Numeric::ONE);
        }
        if self.is_zero() && n < 0 {
            return Err(NumericError::Domain(
                "zero raised to a negative power is undefined",
            ));
        }
        let (m, s) = self.parts().expect("finite");
        let e = n.unsigned_abs();
        // Refuse results beyond the format before computing them.
        let digits = (digits_of(&m) - s as i64).max(1) as u128 * e as u128;
        if digits > MAX_INT_DIGITS as u128 * 2 || (s as u128 * e as u128) > 4 * MAX_SCALE as u128 {
            if self.abs().cmp_total(&Numeric::ONE) == Ordering::Less && n > 0 {
                return Ok(Numeric::ZERO);
            }
            return Err(NumericError::Overflow);
        }
        let p = num_traits::pow(m, e as usize);
        let scale = s as i64 * e as i64;
        if n > 0 {
            if scale > MAX_SCALE as i64 {
                return Numeric::make(
                    div_round(&p, (scale - MAX_SCALE as i64) as u32),
                    MAX_SCALE as i64,
                );
            }
            return Numeric::make(p, scale);
        }
        let pw = if scale > MAX_SCALE as i64 {
            Numeric::make(
                div_round(&p, (scale - MAX_SCALE as i64) as u32),
                MAX_SCALE as i64,
            )?
        } else {
            Numeric::make(p, scale)?
        };
        Numeric::ONE.div(&pw)
    }

    /// This value as a fixed-point integer at `w` decimals (rounded).
    fn fixed(&self, w: u32) -> BigInt {
        let (m, s) = self.parts().expect("finite");
        let s = s as u32;
        if w >= s {
            m * pow10(w - s)
        } else {
            div_round(&m, s - w)
        }
    }

    /// PostgreSQL's estimate_ln_dweight: the decimal weight of ln(x).
    fn ln_dweight(&self) -> i32 {
        let near_one = self.cmp_total(&Numeric::new(9, 1)) != Ordering::Less
            && self.cmp_total(&Numeric::new(11, 1)) != Ordering::Greater;
        if near_one {
            let d = self.sub(&Numeric::ONE).unwrap_or(Numeric::ZERO);
            let (w, _, _, g) = d.to_nbase();
            return match g.first() {
                Some(&first) if first > 0 => w as i32 * 4 + (first as f64).log10() as i32,
                _ => 0,
            };
        }
        let (w, _, _, g) = self.to_nbase();
        let Some(&first) = g.first() else { return 0 };
        let mut digits = first as f64;
        let mut dweight = w as i32 * 4;
        if let Some(&second) = g.get(1) {
            digits = digits * 10000.0 + second as f64;
            dweight -= 4;
        }
        let ln = digits.ln() + dweight as f64 * std::f64::consts::LN_10;
        ln.abs().log10() as i32
    }

    /// ln(x) as a fixed-point integer at `w` decimals (x > 0, finite).
    fn ln_fixed(&self, w: u32) -> BigInt {
        // Square roots bring x near 1 (ln x = 2^k ln x^(1/2^k)), then
        // ln z = 2 atanh((z-1)/(z+1)) = 2 (t + t^3/3 + t^5/5 + ...).
        let guard = 12 + (self.ln_dweight().max(0) as u32) + 4;
        let wk = w + guard + 8;
        let one = pow10(wk);
        let mut z = self.fixed(wk);
        let limit = &one / 100u32;
        let mut k = 0u32;
        while (&z - &one).abs() > limit {
            z = (z * &one).sqrt();
            k += 1;
        }
        let t = ((&z - &one) * &one) / (&z + &one);
        let t2 = (&t * &t) / &one;
        let mut sum = t.clone();
        let mut power = t;
        let mut n = 1u32;
        loop {
            power = (power * &t2) / &one;
            n += 2;
            let term = &power / n;
            if term.is_zero() {
                break;
            }
            sum += term;
        }
        let r = sum * (BigInt::from(1) << (k + 1));
        div_round(&r, wk - w)
    }

    /// exp(x) as a fixed-point integer at `w` decimals (finite x).
    fn exp_fixed(&self, w: u32) -> BigInt {
        // exp x = exp(x / 2^k)^(2^k) with |x / 2^k| < 0.01, by Taylor.
        let mag = self.abs().to_f64();
        let k = if mag > 0.01 {
            (mag / 0.01).log2().ceil() as u32
        } else {
            0
        };
        let weight = (self.to_f64() * std::f64::consts::LOG10_E).max(0.0) as u32;
        let wk = w + weight + k / 3 + 12;
        let one = pow10(wk);
        // An arithmetic shift floors; halve the magnitude instead.
        let fx = self.fixed(wk);
        let y = if fx.is_negative() {
            -((-fx) >> k)
        } else {
            fx >> k
        };
        let mut sum = one.clone();
        let mut term = one.clone();
        let mut i = 1u32;
        loop {
            term = (term * &y) / (&one * i);
            if term.is_zero() {
                break;
            }
            sum += &term;
            i += 1;
        }
        for _ in 0..k {
            sum = (&sum * &sum) / &one;
        }
        div_round(&sum, wk - w)
    }

    /// Natural logarithm with PostgreSQL's result scale.
    pub fn ln(&self) -> Result<Numeric> {
        if self.is_nan() || matches!(self.0, Repr::PosInf) {
            return Ok(self.clone());
        }
        if self.is_zero() {
            return Err(NumericError::Domain("cannot take logarithm of zero"));
        }
        if self.is_negative() {
            return Err(NumericError::Domain(
                "cannot take logarithm of a negative number",
            ));
        }
        let r = (MIN_SIG_DIGITS - self.ln_dweight())
            .max(self.scale() as i32)
            .clamp(0, MAX_RESULT_SCALE);
        Numeric::make(self.ln_fixed(r as u32), r as i64)
    }

    /// Logarithm of `self` to base `base` (log(b, x)); log10 is base 10.
    pub fn log(&self, base: &Numeric) -> Result<Numeric> {
        if self.is_nan() || base.is_nan() {
            return Ok(Numeric::NAN);
        }
        for v in [self, base] {
            if v.is_zero() {
                return Err(NumericError::Domain("cannot take logarithm of zero"));
            }
            if v.is_negative() {
                return Err(NumericError::Domain(
                    "cannot take logarithm of a negative number",
                ));
            }
            if v.is_infinite() {
                return Ok(Numeric::NAN);
            }
        }
        let r = (MIN_SIG_DIGITS - (self.ln_dweight() - base.ln_dweight()))
            .max(self.scale() as i32)
            .max(base.scale() as i32)
            .clamp(0, MAX_RESULT_SCALE);
        let w = r as u32 + 10 + self.ln_dweight().unsigned_abs() + base.ln_dweight().unsigned_abs();
        let num = self.ln_fixed(w);
        let den = base.ln_fixed(w);
        if den.is_zero() {
            return Err(NumericError::DivisionByZero);
        }
        let a = Numeric::make(num, w as i64)?;
        let b = Numeric::make(den, w as i64)?;
        a.div_to_scale(&b, r, true)
    }

    /// e to the power `self`, with PostgreSQL's result scale.
    pub fn exp(&self) -> Result<Numeric> {
        match self.0 {
            Repr::NaN | Repr::PosInf => return Ok(self.clone()),
            Repr::NegInf => return Ok(Numeric::ZERO),
            _ => {}
        }
        let val = (self.to_f64() * std::f64::consts::LOG10_E)
            .clamp(-(MAX_RESULT_SCALE as f64), MAX_RESULT_SCALE as f64);
        if self.to_f64() > 302_000.0 {
            return Err(NumericError::Overflow);
        }
        let r = (MIN_SIG_DIGITS - val as i32)
            .max(self.scale() as i32)
            .clamp(0, MAX_RESULT_SCALE);
        if val <= -(MAX_RESULT_SCALE as f64) {
            return Numeric::make(BigInt::zero(), r as i64);
        }
        Numeric::make(self.exp_fixed(r as u32), r as i64)
    }

    /// self ^ e (power()): exact for integer exponents, else exp(e·ln x),
    /// with PostgreSQL's result scales.
    pub fn pow(&self, e: &Numeric) -> Result<Numeric> {
        if self.is_nan() || e.is_nan() {
            if (self.is_nan() && e.is_zero()) || (e.is_nan() && *self == Numeric::ONE) {
                return Ok(Numeric::ONE);
            }
            return Ok(Numeric::NAN);
        }
        if !self.is_finite() || !e.is_finite() {
            let f = self.to_f64().powf(e.to_f64());
            return Ok(Numeric::from_f64(f).unwrap_or(Numeric::NAN));
        }
        if self.is_zero() && e.is_negative() {
            return Err(NumericError::Domain(
                "zero raised to a negative power is undefined",
            ));
        }
        let int_exp = e
            .trunc(0)
            .ok()
            .filter(|t| t == e)
            .and_then(|t| t.to_i64_round());
        if let Some(n) = int_exp.filter(|n| i32::try_from(*n).is_ok()) {
            // PostgreSQL 15: at least 16 decimals, or the base's.
            let r = MIN_SIG_DIGITS
                .max(self.scale() as i32)
                .clamp(0, MAX_RESULT_SCALE);
            if n >= 0 {
                return self.powi(n)?.round(r);
            }
            let p = self.powi(-n)?;
            return Numeric::ONE.div_to_scale(&p, r, true);
        }
        if self.is_negative() {
            return Err(NumericError::Domain(
                "a negative number raised to a non-integer power yields a complex result",
            ));
        }
        if self.is_zero() {
            return Ok(Numeric::ZERO);
        }
        // Estimate exp·ln(x) to choose the scale, then compute it with
        // enough digits for the result's.
        let ln_dw = self.ln_dweight();
        let est = e.to_f64() * self.to_f64().ln();
        let val = (est * std::f64::consts::LOG10_E)
            .clamp(-(MAX_RESULT_SCALE as f64), MAX_RESULT_SCALE as f64);
        if est * std::f64::consts::LOG10_E > 4.0 * MAX_INT_DIGITS as f64 {
            return Err(NumericError::Overflow);
        }
        let r = (MIN_SIG_DIGITS - val as i32)
            .max(self.scale() as i32)
            .max(e.scale() as i32)
            .clamp(0, MAX_RESULT_SCALE);
        let sig = (r + val as i32).max(0);
        let e_digits = e.int_digits() as i32;
        let w = (sig - ln_dw + 8 + e_digits).max(8) as u32;
        let ln = Numeric::make(self.ln_fixed(w), w as i64)?;
        let arg = ln.mul(e)?;
        Numeric::make(arg.exp_fixed(r as u32), r as i64)
    }

    /// Total order: numbers by value (1.0 = 1.00), -Infinity first,
    /// Infinity then NaN last (NaN equals NaN), as PostgreSQL sorts.
    pub fn cmp_total(&self, o: &Numeric) -> Ordering {
        let rank = |x: &Numeric| match x.0 {
            Repr::NegInf => 0,
            Repr::PosInf => 2,
            Repr::NaN => 3,
            _ => 1,
        };
        let (ra, rb) = (rank(self), rank(o));
        if ra != 1 || rb != 1 {
            return ra.cmp(&rb);
        }
        if let Some((a, b, _)) = Numeric::aligned_small(self, o) {
            return a.cmp(&b);
        }
        let (a, b, _) = Numeric::aligned(self, o).expect("finite");
        a.cmp(&b)
    }

    /// The value without trailing fractional zeros (its scale lowered):
    /// equal values normalize to the same mantissa and scale.
    pub fn normalized(&self) -> Numeric {
        match &self.0 {
            Repr::Small { m, scale } => {
                let (mut m, mut s) = (*m, *scale);
                while s > 0 && m % 10 == 0 {
                    m /= 10;
                    s -= 1;
                }
                if m == 0 {
                    s = 0;
                }
                Numeric::new(m, s)
            }
            Repr::Big(b) => {
                let (mut m, mut s) = (b.0.clone(), b.1);
                let ten = BigInt::from(10);
                while s > 0 {
                    let (q, r) = m.div_rem(&ten);
                    if !r.is_zero() {
                        break;
                    }
                    m = q;
                    s -= 1;
                }
                Numeric::from_big(m, s)
            }
            _ => self.clone(),
        }
    }

    /// Hashes so that equal values (any scale) hash alike, and an integral
    /// value hashes as `hash_i64` of it.
    pub fn hash_into<H: std::hash::Hasher>(&self, state: &mut H) {
        use std::hash::Hash;
        match self.normalized().0 {
            Repr::Small { m, scale: 0 } => Numeric::hash_i64(m, state),
            Repr::Small { m, scale } => (1u8, m, scale).hash(state),
            Repr::Big(b) => (2u8, b.0.to_signed_bytes_le(), b.1).hash(state),
            Repr::NaN => 3u8.hash(state),
            Repr::PosInf => 4u8.hash(state),
            Repr::NegInf => 5u8.hash(state),
        }
    }

    /// The hash of an integer, shared by every numeric type.
    pub fn hash_i64<H: std::hash::Hasher>(v: i64, state: &mut H) {
        use std::hash::Hash;
        (0u8, v).hash(state)
    }

    /// The unsigned digits and the exponent of the first digit, without
    /// leading or trailing zeros (for index keys and the binary format).
    pub fn digits(&self) -> Option<(String, i64)> {
        let (m, s) = self.normalized().parts()?;
        if m.is_zero() {
            return Some((String::new(), 0));
        }
        let d = m.abs().to_string();
        let e = d.len() as i64 - 1 - s as i64;
        Some((d.trim_end_matches('0').to_string(), e))
    }

    /// Appends a key whose byte order is the numeric order, equal for
    /// equal values: a class byte, then for finite non-zero values the
    /// exponent and the digits (inverted when negative).
    pub fn encode_key(&self, out: &mut Vec<u8>) {
        match self.0 {
            Repr::NegInf => return out.push(0),
            Repr::PosInf => return out.push(4),
            Repr::NaN => return out.push(5),
            _ => {}
        }
        let (digits, exp) = self.digits().expect("finite");
        if digits.is_empty() {
            out.push(2);
            return;
        }
        let mut body = Vec::with_capacity(digits.len() + 5);
        body.extend_from_slice(&((exp as i32 as u32) ^ 0x8000_0000).to_be_bytes());
        body.extend(digits.bytes().map(|c| c - b'0' + 1));
        body.push(0);
        if self.is_negative() {
            out.push(1);
            out.extend(body.iter().map(|b| !b));
        } else {
            out.push(3);
            out.extend_from_slice(&body);
        }
    }

    /// Appends the heap encoding (self-delimiting).
    pub fn encode(&self, out: &mut Vec<u8>) {
        match &self.0 {
            Repr::Small { m, scale } => {
                out.push(0);
                out.extend_from_slice(&scale.to_le_bytes());
                out.extend_from_slice(&m.to_le_bytes());
            }
            Repr::Big(b) => {
                out.push(1);
                out.extend_from_slice(&b.1.to_le_bytes());
                let bytes = b.0.to_signed_bytes_le();
                out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
                out.extend_from_slice(&bytes);
            }
            Repr::NaN => out.push(2),
            Repr::PosInf => out.push(3),
            Repr::NegInf => out.push(4),
        }
    }

    /// Decodes the heap encoding at `*p`, moving `p` past it.
    pub fn decode(b: &[u8], p: &mut usize) -> Option<Numeric> {
        let mut take = |k: usize| -> Option<&[u8]> {
            let s = b.get(*p..*p + k)?;
            *p += k;
            Some(s)
        };
        Some(match take(1)?[0] {
            0 => {
                let scale = u16::from_le_bytes(take(2)?.try_into().ok()?);
                let m = i64::from_le_bytes(take(8)?.try_into().ok()?);
                Numeric::new(m, scale)
            }
            1 => {
                let scale = u16::from_le_bytes(take(2)?.try_into().ok()?);
                let n = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
                Numeric::from_big(BigInt::from_signed_bytes_le(take(n)?), scale)
            }
            2 => Numeric::NAN,
            3 => Numeric::infinity(false),
            4 => Numeric::infinity(true),
            _ => return None,
        })
    }

    /// PostgreSQL's binary format: (ndigits, weight, sign, dscale, digits
    /// in base 10000).
    pub fn to_nbase(&self) -> (i16, u16, u16, Vec<i16>) {
        match self.0 {
            Repr::NaN => return (0, 0xC000, 0, vec![]),
            Repr::PosInf => return (0, 0xD000, 0, vec![]),
            Repr::NegInf => return (0, 0xF000, 0, vec![]),
            _ => {}
        }
        let sign = if self.is_negative() { 0x4000 } else { 0 };
        let dscale = self.scale();
        let Some((digits, exp)) = self.digits() else {
            return (0, 0, dscale, vec![]);
        };
        if digits.is_empty() {
            return (0, 0, dscale, vec![]);
        }
        // Pad so the first digit sits at a base-10000 group boundary.
        let weight = exp.div_euclid(4);
        let lead = (exp - 4 * weight) as usize; // digits before the group's end - 1
        let mut s = "0".repeat(3 - lead);
        s.push_str(&digits);
        while s.len() % 4 != 0 {
            s.push('0');
        }
        let groups: Vec<i16> = s
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap_or("0").parse().unwrap_or(0))
            .collect();
        (weight as i16, sign, dscale, groups)
    }

    /// From PostgreSQL's binary format.
    pub fn from_nbase(weight: i16, sign: u16, dscale: u16, groups: &[i16]) -> Option<Numeric> {
        match sign {
            0xC000 => return Some(Numeric::NAN),
            0xD000 => return Some(Numeric::infinity(false)),
            0xF000 => return Some(Numeric::infinity(true)),
            0 | 0x4000 => {}
            _ => return None,
        }
        let mut m = BigInt::zero();
        let base = BigInt::from(10000);
        for g in groups {
            if !(0..10000).contains(g) {
                return None;
            }
            m = m * &base + BigInt::from(*g);
        }
        // value = m · 10000^(weight - n + 1)
        let e = 4 * (weight as i64 - groups.len() as i64 + 1);
        let (m, scale) = if e >= 0 {
            (m * pow10(e as u32), 0i64)
        } else {
            (m, -e)
        };
        let m = if sign == 0x4000 { -m } else { m };
        let n = Numeric::make(m, scale).ok()?;
        n.rescale_with(dscale as i32, true).ok()
    }
}

impl fmt::Display for Numeric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (neg, digits, scale) = match &self.0 {
            Repr::NaN => return f.write_str("NaN"),
            Repr::PosInf => return f.write_str("Infinity"),
            Repr::NegInf => return f.write_str("-Infinity"),
            Repr::Small { m, scale } => {
                if *scale == 0 {
                    return write!(f, "{m}");
                }
                (*m < 0, m.unsigned_abs().to_string(), *scale as usize)
            }
            Repr::Big(b) => (
                b.0.sign() == Sign::Minus,
                b.0.abs().to_string(),
                b.1 as usize,
            ),
        };
        let mut s = String::with_capacity(digits.len() + scale + 3);
        if neg {
            s.push('-');
        }
        if scale == 0 {
            s.push_str(&digits);
        } else if digits.len() > scale {
            let (i, fr) = digits.split_at(digits.len() - scale);
            s.push_str(i);
            s.push('.');
            s.push_str(fr);
        } else {
            s.push_str("0.");
            for _ in 0..scale - digits.len() {
                s.push('0');
            }
            s.push_str(&digits);
        }
        f.write_str(&s)
    }
}

impl fmt::Debug for Numeric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl PartialEq for Numeric {
    fn eq(&self, o: &Numeric) -> bool {
        self.cmp_total(o) == Ordering::Equal
    }
}

impl From<i64> for Numeric {
    fn from(v: i64) -> Numeric {
        Numeric::new(v, 0)
    }
}
impl From<i32> for Numeric {
    fn from(v: i32) -> Numeric {
        Numeric::new(v as i64, 0)
    }
}
impl From<u32> for Numeric {
    fn from(v: u32) -> Numeric {
        Numeric::new(v as i64, 0)
    }
}
impl From<u64> for Numeric {
    fn from(v: u64) -> Numeric {
        Numeric::from_i128(v as i128)
    }
}
impl Default for Numeric {
    fn default() -> Numeric {
        Numeric::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Numeric {
        Numeric::parse(s).unwrap_or_else(|| panic!("parse {s}"))
    }

    #[test]
    fn parse_and_show() {
        for (i, o) in [
            ("1.50", "1.50"),
            ("-0.001", "-0.001"),
            ("  42 ", "42"),
            ("1e3", "1000"),
            ("1.5e-3", "0.0015"),
            ("-1.25E+2", "-125"),
            (".5", "0.5"),
            ("5.", "5"),
            ("nan", "NaN"),
            ("-inf", "-Infinity"),
            (
                "123456789012345678901234567890.123456789",
                "123456789012345678901234567890.123456789",
            ),
        ] {
            assert_eq!(n(i).to_string(), o, "{i}");
        }
        for bad in ["", "abc", "1.2.3", "--1", "1e", "e5", "."] {
            assert!(Numeric::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn arithmetic_scales_like_postgresql() {
        assert_eq!(n("1.10").add(&n("2.205")).unwrap().to_string(), "3.305");
        assert_eq!(
            n("9223372036854775807").add(&n("1")).unwrap().to_string(),
            "9223372036854775808"
        );
        assert_eq!(n("1.5").mul(&n("2.25")).unwrap().to_string(), "3.375");
        assert_eq!(
            n("1").div(&n("3")).unwrap().to_string(),
            "0.33333333333333333333"
        );
        assert_eq!(
            n("10").div(&n("4")).unwrap().to_string(),
            "2.5000000000000000"
        );
        assert_eq!(
            n("2").div(&n("3")).unwrap().to_string(),
            "0.66666666666666666667"
        );
        assert_eq!(
            n("100000").div(&n("3")).unwrap().to_string(),
            "33333.333333333333"
        );
        assert_eq!(n("-7.5").rem(&n("2")).unwrap().to_string(), "-1.5");
        assert_eq!(n("7").div_trunc(&n("-2")).unwrap().to_string(), "-3");
        assert_eq!(n("1").div(&n("0")), Err(NumericError::DivisionByZero));
        let big = n("99999999999999999999999999999999999999");
        assert_eq!(
            big.mul(&big).unwrap().to_string(),
            "9999999999999999999999999999999999999800000000000000000000000000000000000001"
        );
        assert_eq!(
            n("2").powi(100).unwrap().to_string(),
            "1267650600228229401496703205376"
        );
        assert_eq!(n("2").sqrt().unwrap().to_string(), "1.414213562373095");
        assert_eq!(
            n("1e300").sqrt().unwrap().to_string(),
            format!("1{}", "0".repeat(150))
        );
        // Values as PostgreSQL 15 gives them.
        assert_eq!(n("1.0").exp().unwrap().to_string(), "2.7182818284590452");
        assert_eq!(n("2.0").ln().unwrap().to_string(), "0.6931471805599453");
        assert_eq!(
            n("100").log(&n("10")).unwrap().to_string(),
            "2.0000000000000000"
        );
        assert_eq!(
            n("2.0").pow(&n("0.5")).unwrap().to_string(),
            "1.4142135623730950"
        );
        assert_eq!(
            n("2").pow(&n("100")).unwrap().to_string(),
            "1267650600228229401496703205376.0000000000000000"
        );
        assert_eq!(
            n("2.0").pow(&n("10")).unwrap().to_string(),
            "1024.0000000000000000"
        );
        assert_eq!(
            n("2").pow(&n("-2")).unwrap().to_string(),
            "0.2500000000000000"
        );
        assert_eq!(n("-1").exp().unwrap().to_string(), "0.3678794411714423");
        assert_eq!(n("10.5").exp().unwrap().to_string(), "36315.502674246638");
        assert_eq!(n("1e300").ln().unwrap().to_string(), "690.77552789821371");
        assert_eq!(
            n("1000").log(&n("2.0")).unwrap().to_string(),
            "9.9657842846620870"
        );
        assert_eq!(
            n("1.05").pow(&n("10")).unwrap().to_string(),
            "1.6288946267774414"
        );
        assert_eq!(
            n("1.5").pow(&n("2.5")).unwrap().to_string(),
            "2.7556759606310754"
        );
        assert_eq!(
            n("10").pow(&n("0.5")).unwrap().to_string(),
            "3.1622776601683793"
        );
        assert_eq!(
            n("1e-10").sqrt().unwrap().to_string(),
            "0.000010000000000000000"
        );
        assert_eq!(
            n("0").pow(&n("0")).unwrap().to_string(),
            "1.0000000000000000"
        );
        assert_eq!(n("1").ln().unwrap().to_string(), "0.0000000000000000");
    }

    #[test]
    fn rounding_and_order() {
        assert_eq!(n("2.5").round(0).unwrap().to_string(), "3");
        assert_eq!(n("-2.5").round(0).unwrap().to_string(), "-3");
        assert_eq!(n("1234.5678").round(-2).unwrap().to_string(), "1200");
        assert_eq!(n("1.005").round(2).unwrap().to_string(), "1.01");
        assert_eq!(n("1.9").trunc(0).unwrap().to_string(), "1");
        assert_eq!(n("-1.1").floor().to_string(), "-2");
        assert_eq!(n("-1.1").ceil().to_string(), "-1");
        assert_eq!(n("1.0"), n("1.000"));
        let mut v: Vec<Numeric> = ["NaN", "1", "-inf", "inf", "-2.5", "0", "1e40", "-1e40"]
            .iter()
            .map(|s| n(s))
            .collect();
        v.sort_by(|a, b| a.cmp_total(b));
        let shown: Vec<String> = v.iter().map(|x| x.to_string()).collect();
        assert_eq!(shown[0], "-Infinity");
        assert_eq!(shown[7], "NaN");
        assert_eq!(shown[1], format!("-1{}", "0".repeat(40)));
        // Keys order as values, and equal values have equal keys.
        let key = |x: &Numeric| {
            let mut k = vec![];
            x.encode_key(&mut k);
            k
        };
        for w in v.windows(2) {
            assert!(key(&w[0]) < key(&w[1]), "{:?} < {:?}", w[0], w[1]);
        }
        assert_eq!(key(&n("1.50")), key(&n("1.5")));
    }

    #[test]
    fn values_stay_small() {
        assert_eq!(std::mem::size_of::<Numeric>(), 16);
        assert!(std::mem::size_of::<crate::Value>() <= 32);
    }

    #[test]
    fn encodings_round_trip() {
        for s in [
            "0",
            "-0.00",
            "1.50",
            "-123456789012345678901234567890.5",
            "NaN",
            "Infinity",
            "0.0001",
            "10000",
            "-1e-20",
        ] {
            let x = n(s);
            let mut b = vec![];
            x.encode(&mut b);
            let mut p = 0;
            let y = Numeric::decode(&b, &mut p).unwrap();
            assert_eq!((y.to_string(), p), (x.to_string(), b.len()));
            let (w, sign, dscale, g) = x.to_nbase();
            let z = Numeric::from_nbase(w, sign, dscale, &g).unwrap();
            assert_eq!(z.to_string(), x.to_string(), "nbase {s}");
        }
        let (w, _, _, g) = n("12345.678").to_nbase();
        assert_eq!((w, g), (1, vec![1, 2345, 6780]));
    }
}
