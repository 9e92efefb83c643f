//! Exact values of JSON numbers, read from their digits, so that the suite never compares numbers through an `f64`.
//!
//! serde_json's `arbitrary_precision` (on for the whole workspace) keeps every number's text.
//! FastAPI stores integers of any size exactly, so `99999999999999999999` and `1e20` are two
//! different values here, and so are `9007199254740993` and `9007199254740992`, which an `f64`
//! cannot tell apart. Numbers that differ only in how they are written (`5`, `5.0`, `5e0`,
//! `-0`, `0`) are the same value.

use serde_json::Number;

/// A number's exact value: `digits × 10^exponent`, negated when `negative`. Normalised, so two
/// equal values are equal structs: no leading or trailing zeros in `digits`, and zero is the
/// empty digit string with exponent 0 and no sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal {
    negative: bool,
    digits: String,
    exponent: i64,
}

impl Decimal {
    /// The value of a JSON number's text (`-?int(.frac)?([eE][+-]?exp)?`); `None` if `text` is
    /// not one. An exponent too large for an `i64` saturates; no real body holds one.
    pub fn parse(text: &str) -> Option<Decimal> {
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
            Some(at) => (&unsigned[..at], parse_exponent(&unsigned[at + 1..])?),
            None => (unsigned, 0),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
            return None;
        }
        let joined = format!("{whole}{fraction}");
        let significant = joined.trim_start_matches('0');
        let trimmed = significant.trim_end_matches('0');
        if trimmed.is_empty() {
            return Some(Decimal {
                negative: false,
                digits: String::new(),
                exponent: 0,
            });
        }
        let trailing = (significant.len() - trimmed.len()) as i64;
        Some(Decimal {
            negative,
            digits: trimmed.to_owned(),
            exponent: exponent
                .saturating_sub(fraction.len() as i64)
                .saturating_add(trailing),
        })
    }

    /// The value of a serde_json number, from the digits it was read or written with.
    pub fn of(number: &Number) -> Decimal {
        // serde_json only holds valid JSON number text.
        Decimal::parse(number.as_str()).unwrap_or(Decimal {
            negative: false,
            digits: String::new(),
            exponent: 0,
        })
    }

    /// Whether the value has no fractional part, however it is written (`5.0` and `1e20` do).
    pub fn is_integer(&self) -> bool {
        self.exponent >= 0
    }

    /// The value as an `i64`, when it is an integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_i128().and_then(|int| i64::try_from(int).ok())
    }

    /// The value as an `i128`, when it is an integer in range: wide enough to tell every `i64`
    /// and `u64` from what lies past them.
    fn as_i128(&self) -> Option<i128> {
        if !self.is_integer() {
            return None;
        }
        if self.digits.is_empty() {
            return Some(0);
        }
        // At most 39 digits fit; anything longer is out of range (there are no leading zeros).
        let zeros = usize::try_from(self.exponent).ok()?;
        if self.digits.len() + zeros > 39 {
            return None;
        }
        let sign = if self.negative { "-" } else { "" };
        format!("{sign}{}{}", self.digits, "0".repeat(zeros))
            .parse()
            .ok()
    }
}

fn parse_exponent(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude = digits.bytes().fold(0i64, |acc, b| {
        acc.saturating_mul(10).saturating_add(i64::from(b - b'0'))
    });
    Some(if negative { -magnitude } else { magnitude })
}

/// Whether two numbers have the same value, exactly.
pub fn same_value(a: &Number, b: &Number) -> bool {
    a.as_str() == b.as_str() || Decimal::of(a) == Decimal::of(b)
}

/// Whether a number is an integer outside the signed 64-bit range, which a Rust `i64` (the
/// generated client's integer type) cannot hold.
pub fn beyond_i64(number: &Number) -> bool {
    let value = Decimal::of(number);
    value.is_integer() && value.as_i64().is_none()
}

/// Whether a number is an integer above `u64::MAX`, which a Rust `u64` cannot hold.
pub fn beyond_u64(number: &Number) -> bool {
    let value = Decimal::of(number);
    value.is_integer()
        && !value.negative
        && value.as_i128().is_none_or(|int| int > i128::from(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> Number {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn equal_values_however_written() {
        for (a, b) in [
            ("5", "5.0"),
            ("5", "5e0"),
            ("100", "1e2"),
            ("100", "1E+2"),
            ("0.5", "5e-1"),
            ("-0", "0"),
            ("0.0", "-0e10"),
            ("1e20", "100000000000000000000"),
            ("120", "1.20e2"),
        ] {
            assert!(same_value(&number(a), &number(b)), "{a} == {b}");
        }
    }

    #[test]
    fn different_values_even_where_an_f64_rounds_them_together() {
        for (a, b) in [
            ("99999999999999999999", "1e20"),
            ("9007199254740993", "9007199254740992"),
            ("0.1", "0.1000000000000000055511151231257827"),
            ("5", "-5"),
            ("1e400", "1e401"),
        ] {
            assert!(!same_value(&number(a), &number(b)), "{a} != {b}");
        }
    }

    #[test]
    fn integers_and_the_i64_range() {
        assert!(Decimal::of(&number("1e20")).is_integer());
        assert!(Decimal::of(&number("5.000")).is_integer());
        assert!(!Decimal::of(&number("9007199254740993.5")).is_integer());
        assert_eq!(Decimal::of(&number("-1.5e1")).as_i64(), Some(-15));
        assert_eq!(Decimal::of(&number("-1.55e1")).as_i64(), None);
        assert_eq!(Decimal::of(&number("-0.0e+0")).as_i64(), Some(0));
        assert_eq!(
            Decimal::of(&number("-9223372036854775808")).as_i64(),
            Some(i64::MIN)
        );
        assert!(!beyond_i64(&number("9223372036854775807.0")));
        assert!(beyond_i64(&number("9223372036854775808")));
        assert!(beyond_i64(&number("-9.3e18")));
        assert!(beyond_i64(&number("1e20")));
        assert!(!beyond_i64(&number("0.5")));
        assert!(!beyond_u64(&number("18446744073709551615.0")));
        assert!(beyond_u64(&number("18446744073709551616")));
        assert!(beyond_u64(&number("1e40")));
        assert!(!beyond_u64(&number("-1e40")));
    }
}
